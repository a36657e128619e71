//! The gate config (`ci/gate.toml`, format in docs/gate.md): defaults for every figure,
//! then `[[rule]]`s matching figures by glob that override direction, kind, noise
//! threshold, floor and sample count.

mod error;
mod keys;
mod model;
mod parse;

pub use error::{ConfigError, ConfigErrors};
pub use keys::{keys, CONFIG_FORMAT};
pub use model::{
    ExactPolicy, Floor, GateConfig, Glob, Globs, KindOverride, Matcher, MissingPolicy, Overrides,
    Ratio, Resolved, Rule, Settings,
};
pub use parse::{load_config, parse_config};

#[cfg(test)]
mod keys_tests;
#[cfg(test)]
mod tests;
