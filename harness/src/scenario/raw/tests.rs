//! Reading scenario text into raw tables: every key read, every mistake reported.

use super::expect::EXPECT_KEYS;
use super::scenario::TOP_KEYS;
use super::*;
use crate::scenario::error::Diagnostic;
use serde_spanned::Spanned;
use thinbench_schema::toml_tree::Node;

fn read(text: &str) -> (RawScenario, Vec<Diagnostic>) {
    let root: Spanned<Node> = toml::from_str(text).expect("test text is TOML");
    let mut d = Vec::new();
    let raw = RawScenario::from_tree(&root, &mut d);
    (raw, d)
}

#[test]
fn every_listed_key_is_read() {
    // Each key of every set, in a table of its own, must not come back as unknown.
    let mut text =
        String::from("format = 1\nname = \"x\"\ndescription = \"d\"\ntimeout = \"1m\"\n");
    text.push_str("[[pool]]\n");
    for k in POOL_KEYS.all() {
        text.push_str(&format!("{k} = 1\n"));
    }
    text.push_str("[[fault]]\n");
    for k in FAULT_KEYS.all() {
        text.push_str(&format!("{k} = 1\n"));
    }
    text.push_str("[[step]]\n");
    for k in STEP_KEYS.all().into_iter().filter(|k| *k != "expect") {
        text.push_str(&format!("{k} = 1\n"));
    }
    text.push_str("[step.expect]\n");
    for k in EXPECT_KEYS.all() {
        text.push_str(&format!("{k} = 1\n"));
    }
    let (_, d) = read(&text);
    assert!(
        d.iter().all(|d| !d.message.starts_with("unknown key")),
        "{d:#?}"
    );
}

#[test]
fn wrong_types_and_unknown_keys_are_all_reported() {
    let text = "format = \"1\"\n[[pool]]\nname = 3\nchunk_sise = \"64KiB\"\nblock_zeroing = 1\n[[step]]\npools = [\"a\", 2]\n[step.expect]\nmood = \"rw\"\n";
    let (raw, d) = read(text);
    let msgs: Vec<&str> = d.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        msgs,
        [
            "`format` must be an integer (the format version, 1), not a string",
            "`name` must be a string, not an integer",
            "`block_zeroing` must be true or false, not an integer",
            "unknown key `chunk_sise` in [[pool]]",
            "each of `pools` must be a pool name string, not an integer",
            "unknown key `mood` in [step.expect]",
        ]
    );
    assert!(d[3]
        .hint
        .as_deref()
        .unwrap_or("")
        .starts_with("did you mean `chunk_size`?"));
    assert!(matches!(raw.format, Field::Invalid { .. }));
    let pools = raw.pools.value().expect("pools");
    assert!(matches!(pools.get_ref()[0].name, Field::Invalid { .. }));
    let steps = raw.steps.value().expect("steps");
    assert!(matches!(steps.get_ref()[0].pools, Field::Invalid { .. }));
}

#[test]
fn single_table_instead_of_array() {
    let (raw, d) = read("[pool]\nname = \"a\"\n");
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].hint.as_deref(), Some("write `[[pool]]`, not `[pool]`"));
    assert!(matches!(raw.pools, Field::Invalid { .. }));
}

/// Every key of every table, at the sample value of its described type, in one file.
fn sample_file() -> String {
    let mut text = String::new();
    for (k, v) in TOP_KEYS.sample_keys(None) {
        text.push_str(&format!("{k} = {v}\n"));
    }
    text
}

#[test]
fn the_description_and_the_reader_agree_on_every_key_and_type() {
    // Each key at a value of its described type reads without a word: no key the
    // description has is unknown to the reader, none is read as another type (the
    // reader's own check, `TableReader::take`, asserts the reverse as it reads).
    let (raw, d) = read(&sample_file());
    assert!(d.is_empty(), "{d:#?}");
    assert!(raw.pools.value().is_some_and(|p| p.get_ref().len() == 1));
    let steps = raw.steps.value().expect("steps");
    assert!(steps.get_ref()[0].expect.value().is_some());
    // Each key at a value of a type it never takes is reported, at that key's value.
    for table in thinbench_schema::keys::tables(&TOP_KEYS) {
        for key in table.keys() {
            let text = wrong_type_file(table.table, key.name, key.ty.wrong_sample());
            let (_, d) = read(&text);
            let msg = format!("`{}` must be", key.name);
            assert!(
                d.iter().any(|d| d.message.starts_with(&msg)),
                "{} {}: {d:#?}\n{text}",
                table.table,
                key.name
            );
        }
    }
}

/// A file with `key = value` in a table of kind `table` and nothing else wrong.
fn wrong_type_file(table: &str, key: &str, value: &str) -> String {
    match table {
        "the top level" => format!("{key} = {value}\n"),
        "[step.expect]" => format!("[[step]]\n[step.expect]\n{key} = {value}\n"),
        t => format!("{t}\n{key} = {value}\n"),
    }
}

#[test]
fn unknown_keys_are_reported_with_the_description_s_keys() {
    let (_, d) = read("[[pool]]\nchunk_sise = 1\n");
    assert_eq!(d.len(), 1);
    let hint = d[0].hint.as_deref().unwrap_or("");
    for k in POOL_KEYS.all() {
        assert!(hint.contains(k), "{k}: {hint}");
    }
}
