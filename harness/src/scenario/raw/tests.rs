//! Reading scenario text into raw tables: every key read, every mistake reported.

use super::expect::EXPECT_KEYS;
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
