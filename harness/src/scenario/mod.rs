//! Scenario files: TOML as written (`raw`), loaded with positions for error messages.
