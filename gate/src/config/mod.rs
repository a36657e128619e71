//! The gate config (`ci/gate.toml`, format in docs/gate.md): defaults for every figure,
//! then `[[rule]]`s matching figures by glob that override direction, kind, noise
//! threshold, floor and sample count.

mod error;
mod model;
mod parse;

pub use error::{ConfigError, ConfigErrors};
pub use model::{
    ExactPolicy, Floor, GateConfig, Glob, Globs, KindOverride, Matcher, MissingPolicy, Overrides,
    Ratio, Resolved, Rule, Settings,
};
pub use parse::{load_config, parse_config, CONFIG_FORMAT};

#[cfg(test)]
mod tests;
