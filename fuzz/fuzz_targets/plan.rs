//! Planner plan text → `load_fleet_str` (TOML, raw tables, validation). Never panics;
//! errors are positioned inside the text and one line each; a fleet loads the same twice.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use thinbench_planner::load_fleet_str;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("fuzz.toml");
    match load_fleet_str(path, text) {
        Err(e) => {
            assert!(!e.errors.is_empty(), "an error list must not be empty");
            let lines = text.split('\n').count();
            for err in &e.errors {
                assert!(
                    (1..=lines).contains(&err.line) && err.col >= 1,
                    "error outside the text ({lines} lines): {err:?}"
                );
                // One error, one line (its hint one more), whatever the text quotes.
                let shown = err.to_string();
                assert_eq!(
                    shown.lines().count(),
                    1 + usize::from(err.hint.is_some()),
                    "multi-line error: {err:?}"
                );
            }
        }
        Ok(fleet) => {
            let again = load_fleet_str(path, text).expect("a fleet loads twice");
            assert_eq!(fleet, again);
        }
    }
});
