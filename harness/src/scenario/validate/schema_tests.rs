//! The scenario schema's choices against the validator: every value a key's description
//! lists is accepted where the key is, a value it does not list is refused there, and
//! the step actions are the validator's.

use super::actions::ACTIONS;
use crate::scenario::load_scenario_str;
use crate::scenario::raw::{FAULT_KEYS, POOL_KEYS, STEP_KEYS, TOP_KEYS};
use std::path::Path;
use thinbench_schema::keys::{tables, KeySet, Ty};

#[test]
fn step_actions_are_the_validator_s() {
    let actions: Vec<&str> = ACTIONS.iter().map(|(n, _)| *n).collect();
    assert_eq!(STEP_KEYS.variant_names(), actions);
    let tag = STEP_KEYS.key("action").expect("action");
    assert!(matches!(tag.ty, Ty::Enum(v) if v == actions.as_slice()));
    for ks in [&POOL_KEYS, &FAULT_KEYS] {
        let tag = ks.key(ks.tag.expect("tagged")).expect("tag key");
        assert!(matches!(tag.ty, Ty::Enum(v) if v == ks.variant_names().as_slice()));
    }
}

/// A scenario with `key = value` on a line of its own in a table of kind `table` (of
/// `variant`, when the table has variants); the 1-based line of that key.
fn scenario_with(table: &KeySet, variant: Option<&str>, key: &str, value: &str) -> (String, usize) {
    let mut lines: Vec<String> = vec!["format = 1".into()];
    let put = |lines: &mut Vec<String>, base: &[(&str, String)]| -> usize {
        for (k, v) in base {
            if *k != key {
                lines.push(format!("{k} = {v}"));
            }
        }
        lines.push(format!("{key} = {value}"));
        lines.len()
    };
    let q = |s: &str| format!("\"{s}\"");
    let pool = |lines: &mut Vec<String>| {
        lines.push("[[pool]]".into());
        lines.push("name = \"a\"".into());
        lines.push("kind = \"loop-lvm\"".into());
    };
    let step = |lines: &mut Vec<String>| {
        lines.push("[[step]]".into());
        lines.push("action = \"create-thin\"".into());
        lines.push("thin = \"t\"".into());
    };
    let line = match table.table {
        "the top level" => {
            let at = put(&mut lines, &[]);
            pool(&mut lines);
            step(&mut lines);
            at
        }
        "[[pool]]" => {
            lines.push("[[pool]]".into());
            // Small enough for `backing = "ram"`.
            let kind = variant.unwrap_or("loop-lvm");
            let size = if kind == "loop-lvm" {
                ("data_size", q("64MiB"))
            } else {
                ("device_size", q("256MiB"))
            };
            let at = put(&mut lines, &[("name", q("a")), ("kind", q(kind)), size]);
            step(&mut lines);
            at
        }
        "[[fault]]" => {
            pool(&mut lines);
            step(&mut lines);
            lines.push("[[fault]]".into());
            let base = [
                ("pool", q("a")),
                (
                    "device",
                    q(if variant == Some("log-writes") {
                        "pool"
                    } else {
                        "data"
                    }),
                ),
                ("target", q(variant.unwrap_or("delay"))),
            ];
            put(&mut lines, &base)
        }
        "[[step]]" => {
            pool(&mut lines);
            step(&mut lines);
            lines.push("[[step]]".into());
            put(
                &mut lines,
                &[
                    ("action", q(variant.unwrap_or("small-write"))),
                    ("thin", q("t")),
                ],
            )
        }
        "[step.expect]" => {
            pool(&mut lines);
            step(&mut lines);
            lines.push("[[step]]".into());
            lines.push("action = \"small-write\"".into());
            lines.push("thin = \"t\"".into());
            lines.push("count = 1".into());
            lines.push("[step.expect]".into());
            put(&mut lines, &[])
        }
        other => panic!("no scenario for {other}"),
    };
    (lines.join("\n") + "\n", line)
}

/// What the validator reports on `line` of `text`.
fn errors_on(text: &str, line: usize) -> Vec<String> {
    match load_scenario_str(Path::new("t.toml"), text) {
        Ok(_) => Vec::new(),
        Err(e) => e
            .errors
            .into_iter()
            .filter(|e| e.line == line)
            .map(|e| e.message)
            .collect(),
    }
}

/// Whether `errors` refuse the value `v` as a choice (other errors on the line, such as
/// "recover = \"grow\" needs grow_by", are about the value's context).
fn refuses_choice(errors: &[String], v: &str) -> bool {
    errors.iter().any(|m| {
        m.contains(&format!("not \"{v}\""))
            || m.contains(&format!("`{v}`"))
            || m.starts_with("unknown")
    })
}

#[test]
fn every_listed_choice_is_accepted_and_an_unlisted_one_refused() {
    let (mut checked, mut lists) = (0, 0);
    for table in tables(&TOP_KEYS) {
        for key in table.keys() {
            let Ty::Enum(values) = key.ty else { continue };
            // The variants that take the key (every variant for common keys).
            let variants: Vec<Option<&str>> = match table.tag {
                None => vec![None],
                Some(tag) if tag == key.name => vec![None],
                Some(_) => {
                    let owners = table.variants_taking(key.name);
                    let owners = if owners.is_empty() {
                        table.variant_names()
                    } else {
                        owners
                    };
                    owners.into_iter().map(Some).collect()
                }
            };
            for v in values {
                let accepted = variants.iter().any(|variant| {
                    let (text, line) =
                        scenario_with(table, *variant, key.name, &format!("\"{v}\""));
                    !refuses_choice(&errors_on(&text, line), v)
                });
                assert!(accepted, "{} {} = {v:?} is refused", table.table, key.name);
                checked += 1;
            }
            for variant in &variants {
                let (text, line) = scenario_with(table, *variant, key.name, "\"zz-not-a-choice\"");
                let errors = errors_on(&text, line);
                assert!(
                    refuses_choice(&errors, "zz-not-a-choice"),
                    "{} {}: an unlisted value passes\n{text}\n{errors:?}",
                    table.table,
                    key.name
                );
                // Where the validator lists its choices, they are the description's.
                for m in &errors {
                    if let Some(listed) = m.split("must be one of ").nth(1) {
                        let listed = listed.split(", not ").next().unwrap_or("");
                        let want: Vec<String> = values.iter().map(|v| format!("\"{v}\"")).collect();
                        assert_eq!(listed, want.join(", "), "{} {}", table.table, key.name);
                        lists += 1;
                    }
                }
            }
        }
    }
    assert!(checked > 40 && lists > 10, "{checked} {lists}");
}
