//! The gate config's key descriptions against its reader: every described key at a
//! valid value reads cleanly, at a value of the wrong type is refused where it is, every
//! listed choice is taken and an unlisted one refused; unknown keys list the described
//! ones.

use std::path::Path;

use thinbench_schema::keys::{tables, KeySet, Ty};

use super::keys::TOP_KEYS;
use super::parse_config;

/// The lines of a config with `key = value` in a table of kind `table` (every other
/// key of that table at its sample); the 1-based line of `key`.
fn config_with(table: &KeySet, key: &str, value: &str) -> (String, usize) {
    let mut lines = Vec::new();
    if table.table != "the top level" {
        lines.push("format = 1".to_owned());
        lines.push(table.table.to_owned());
    }
    let mut at = 0;
    for (k, v) in table.sample_keys(None) {
        if k == key {
            lines.push(format!("{k} = {value}"));
            at = lines.len();
        } else if !matches!(
            table.key(k).map(|k| k.ty),
            Some(Ty::Table(_) | Ty::Tables(_))
        ) {
            lines.push(format!("{k} = {v}"));
        }
    }
    if at == 0 {
        lines.push(format!("{key} = {value}"));
        at = lines.len();
    }
    (lines.join("\n") + "\n", at)
}

fn errors_on(text: &str, line: usize) -> Vec<String> {
    match parse_config(Path::new("gate.toml"), text) {
        Ok(_) => Vec::new(),
        Err(e) => e
            .errors
            .into_iter()
            .filter(|e| e.line == line)
            .map(|e| e.message)
            .collect(),
    }
}

#[test]
fn every_table_at_its_samples_reads_cleanly() {
    // The whole file, its tables as sections.
    let text = TOP_KEYS.sample_document();
    assert!(
        text.contains("[defaults]\n") && text.contains("[[rule]]\n"),
        "{text}"
    );
    if let Err(e) = parse_config(Path::new("gate.toml"), &text) {
        panic!("{text}\n{e}");
    }
}

#[test]
fn every_key_at_a_wrong_type_is_refused_where_it_is() {
    for table in tables(&TOP_KEYS) {
        for key in table.keys() {
            let (text, line) = config_with(table, key.name, key.ty.wrong_sample());
            assert!(
                !errors_on(&text, line).is_empty(),
                "{} {} = {}\n{text}",
                table.table,
                key.name,
                key.ty.wrong_sample()
            );
        }
    }
}

#[test]
fn every_listed_choice_is_taken_and_an_unlisted_one_refused() {
    let mut checked = 0;
    for table in tables(&TOP_KEYS) {
        for key in table.keys() {
            let Ty::Enum(values) = key.ty else { continue };
            for v in values {
                let (text, line) = config_with(table, key.name, &format!("\"{v}\""));
                assert_eq!(errors_on(&text, line), Vec::<String>::new(), "{text}");
                checked += 1;
            }
            let (text, line) = config_with(table, key.name, "\"zz-not-a-choice\"");
            let errors = errors_on(&text, line);
            assert_eq!(errors.len(), 1, "{text}");
            // The reader's message names every choice the description lists.
            for v in values {
                assert!(errors[0].contains(&format!("\"{v}\"")), "{v}: {errors:?}");
            }
        }
    }
    assert!(checked >= 14, "{checked}");
}

#[test]
fn unknown_keys_are_refused_with_the_described_ones() {
    for table in tables(&TOP_KEYS) {
        let (text, line) = config_with(table, "zz_unknown", "1");
        let e = parse_config(Path::new("gate.toml"), &text).expect_err("unknown key");
        let err = e
            .errors
            .iter()
            .find(|e| e.line == line)
            .expect("at the key");
        assert!(
            err.message.starts_with("unknown key `zz_unknown`"),
            "{err:?}"
        );
        let hint = err.hint.as_deref().unwrap_or("");
        for k in table.all() {
            assert!(hint.contains(k), "{}: {k} not in {hint}", table.table);
        }
    }
}
