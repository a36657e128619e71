//! What the validation tests share: a scenario text loaded as `t.toml`.

use crate::scenario::load_scenario_str;
use crate::spec::ScenarioSpec;
use std::path::Path;

/// `text` as a valid scenario.
pub(super) fn ok(text: &str) -> ScenarioSpec {
    load_scenario_str(Path::new("t.toml"), text).unwrap_or_else(|e| panic!("should load: {e}"))
}

/// The single error of `text`, positioned: `t.toml:L:C: error: …` and its hint's line.
pub(super) fn one(text: &str) -> String {
    let e = load_scenario_str(Path::new("t.toml"), text)
        .expect_err("should fail")
        .errors;
    assert_eq!(e.len(), 1, "{e:#?}");
    e[0].to_string()
}
