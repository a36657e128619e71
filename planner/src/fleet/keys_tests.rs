//! The plan's key descriptions ([`super::keys`]) against its reader (which checks its
//! tables' keys against them, and in debug builds asserts each is read as its described
//! TOML type): each key is read as the described type; required keys are required; every
//! listed choice is taken and an unlisted one refused.

use std::path::Path;

use thinbench_schema::keys::{tables, KeySet, Ty};

use super::keys::TOP_KEYS;
use super::load_fleet_str;

/// A valid plan with a section of every table.
const MINIMAL: &[(&str, &[&str])] = &[
    ("", &["format = 1"]),
    ("[pool]", &["data_size = \"1GiB\""]),
    ("[base]", &[]),
    ("[[base.write]]", &["bytes = \"1MiB\""]),
    ("[[image]]", &["name = \"a\"", "containers = 1"]),
    ("[[image.layer]]", &["bytes = \"1MiB\""]),
    ("[[image.container_write]]", &["bytes = \"1MiB\""]),
    ("[image.churn]", &["every = \"1d\"", "replace = 1"]),
    ("[timeline]", &["duration = \"2d\"", "step = \"1d\""]),
];

/// The section a table's keys are written in.
fn section(t: &KeySet) -> &'static str {
    match t.table {
        "the top level" => "",
        "[[write]]" => "[[base.write]]",
        other => MINIMAL
            .iter()
            .map(|(s, _)| *s)
            .find(|s| *s == other)
            .unwrap_or("?"),
    }
}

/// The minimal plan with `key = value` in `t`'s section (replacing the key when the
/// minimal plan has it; left out when `value` is `None`); the 1-based line of the key.
fn plan_with(t: &KeySet, key: &str, value: Option<&str>) -> (String, usize) {
    let want = section(t);
    let mut lines: Vec<String> = Vec::new();
    let mut at = 0;
    for (s, keys) in MINIMAL {
        if !s.is_empty() {
            lines.push((*s).to_owned());
        }
        if *s == want {
            if let Some(v) = value {
                lines.push(format!("{key} = {v}"));
                at = lines.len();
            }
        }
        for k in *keys {
            if k.split(" = ").next() != Some(key) || *s != want {
                lines.push((*k).to_owned());
            }
        }
    }
    (lines.join("\n") + "\n", at)
}

fn errors(text: &str) -> Vec<(usize, String)> {
    match load_fleet_str(Path::new("p.toml"), text) {
        Ok(_) => Vec::new(),
        Err(e) => e.errors.into_iter().map(|e| (e.line, e.message)).collect(),
    }
}

#[test]
fn the_minimal_plan_is_valid() {
    let (text, _) = plan_with(&TOP_KEYS, "", None);
    assert_eq!(errors(&text), [], "{text}");
}

#[test]
fn every_key_is_read_as_its_described_type() {
    for t in tables(&TOP_KEYS) {
        for k in t.keys() {
            if matches!(k.ty, Ty::Table(_) | Ty::Tables(_)) {
                continue;
            }
            // At its sample: no complaint about its type or name.
            let (text, line) = plan_with(t, k.name, Some(&k.sample()));
            for (l, m) in errors(&text) {
                assert!(
                    l != line || !(m.contains("invalid type") || m.contains("unknown")),
                    "{} {}: {m}\n{text}",
                    t.table,
                    k.name
                );
            }
            // At a value of a type it never takes: refused, there.
            let (text, line) = plan_with(t, k.name, Some(k.ty.wrong_sample()));
            assert!(
                errors(&text).iter().any(|(l, _)| *l == line),
                "{} {} = {}\n{text}",
                t.table,
                k.name,
                k.ty.wrong_sample()
            );
        }
    }
}

#[test]
fn required_keys_are_required_and_choices_agree() {
    let mut required = 0;
    for t in tables(&TOP_KEYS) {
        for k in t.keys().into_iter().filter(|k| k.required) {
            let (text, _) = plan_with(t, k.name, None);
            let text = if k.name == "pool" {
                text.replace("[pool]\ndata_size = \"1GiB\"\n", "")
            } else {
                text
            };
            assert!(
                !errors(&text).is_empty(),
                "{} {} is not required\n{text}",
                t.table,
                k.name
            );
            required += 1;
        }
        for k in t.keys() {
            let Ty::Enum(values) = k.ty else { continue };
            for v in values {
                let (text, line) = plan_with(t, k.name, Some(&format!("\"{v}\"")));
                let on_line: Vec<_> = errors(&text)
                    .into_iter()
                    .filter(|(l, _)| *l == line)
                    .collect();
                assert_eq!(on_line, [], "{} {k:?} = {v}\n{text}", t.table);
            }
            let (text, line) = plan_with(t, k.name, Some("\"zz-not-a-choice\""));
            assert!(
                errors(&text).iter().any(|(l, _)| *l == line),
                "{} {}",
                t.table,
                k.name
            );
        }
    }
    assert!(required >= 6, "{required}");
}

#[test]
fn an_unknown_key_s_error_names_the_described_keys() {
    for t in tables(&TOP_KEYS) {
        let (text, line) = plan_with(t, "zz_unknown", Some("1"));
        let e = match load_fleet_str(Path::new("p.toml"), &text) {
            Ok(_) => panic!("{}: an unknown key passes\n{text}", t.table),
            Err(e) => e,
        };
        let err = e
            .errors
            .iter()
            .find(|e| e.line == line)
            .expect("at the key");
        let said = format!("{} {}", err.message, err.hint.as_deref().unwrap_or(""));
        assert!(said.contains("zz_unknown"), "{said}");
        for k in t.all() {
            assert!(
                said.contains(&format!("`{k}`")) || said.contains(&format!(" {k}")),
                "{}: {k} not in {said}",
                t.table
            );
        }
    }
}
