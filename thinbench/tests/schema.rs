//! `thinbench schema scenario|plan|gate`: the committed schemas are the generated ones;
//! every shipped file points at its schema and validates against it; the schema takes
//! what the key descriptions describe and refuses unknown keys, keys of another variant,
//! wrong types and unlisted choices (the readers' side of the same descriptions is
//! tested beside each reader); its patterns never refuse what the readers accept.

#[path = "schema/validator.rs"]
mod validator;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use thinbench_schema::keys::{tables, KeySet, Ty, DURATION_PATTERN, SIZE_PATTERN};
use validator::validate;

const FORMATS: [&str; 3] = ["scenario", "plan", "gate"];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn generated(format: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_thinbench"))
        .args(["schema", format])
        .output()
        .expect("run thinbench");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn schema(format: &str) -> Value {
    serde_json::from_str(&generated(format)).expect("the schema is JSON")
}

fn keys(format: &str) -> &'static KeySet {
    match format {
        "scenario" => thinbench_harness::scenario::keys(),
        "plan" => thinbench_planner::fleet::keys(),
        _ => thinbench_gate::config::keys(),
    }
}

/// A TOML text as the JSON value editors check against the schema.
fn json_of(text: &str) -> Value {
    let v: toml::Value = toml::from_str(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    serde_json::to_value(v).expect("TOML as JSON")
}

fn errors(format: &str, text: &str) -> Vec<String> {
    let s = schema(format);
    validate(&s, &s, &json_of(text), "$")
}

#[test]
fn the_committed_schemas_are_the_generated_ones() {
    for f in FORMATS {
        let path = repo().join(format!("docs/schemas/{f}.schema.json"));
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated(f),
            "{} is stale: regenerate it with `thinbench schema {f} -o docs/schemas/{f}.schema.json`",
            path.display()
        );
    }
}

/// The shipped files of each format.
fn shipped() -> Vec<(&'static str, PathBuf)> {
    let mut files = Vec::new();
    for (format, dir) in [("scenario", "scenarios"), ("plan", "plans")] {
        let mut in_dir: Vec<PathBuf> = std::fs::read_dir(repo().join(dir))
            .expect("dir")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        in_dir.sort();
        assert!(!in_dir.is_empty(), "{dir}");
        files.extend(in_dir.into_iter().map(|p| (format, p)));
    }
    files.push(("gate", repo().join("ci/gate.toml")));
    files
}

#[test]
fn every_shipped_file_points_at_its_schema_and_validates_against_it() {
    let files = shipped();
    assert!(files.len() > 10, "{files:?}");
    for (format, path) in files {
        let text = std::fs::read_to_string(&path).expect("read");
        let first = text.lines().next().unwrap_or("");
        let want = format!("#:schema ../docs/schemas/{format}.schema.json");
        assert_eq!(first, want, "{}: its first line", path.display());
        let target = path
            .parent()
            .expect("dir")
            .join(first.trim_start_matches("#:schema ").trim());
        assert!(
            target.is_file(),
            "{}: {} is not there",
            path.display(),
            target.display()
        );
        let errs = errors(format, &text);
        assert!(errs.is_empty(), "{}: {errs:#?}", path.display());
    }
}

/// Documents of `format` that the descriptions say are right: every key of every table
/// (of tagged tables, the first variant's), and each variant of every tagged table with
/// every key it takes.
fn good_documents(format: &str) -> Vec<Value> {
    let root = keys(format);
    let good = json_of(&root.sample_document());
    let mut docs = vec![good.clone()];
    for t in tables(root) {
        for v in t.variant_names() {
            let mut doc = good.clone();
            let table = json_of(&format!("x = {}", t.sample_inline(Some(v))))["x"].clone();
            let Value::Object(table) = table else {
                panic!("a table")
            };
            *find_table(&mut doc, root, t).expect("the table is in the document") = table;
            docs.push(doc);
        }
    }
    docs
}

#[test]
fn the_schemas_take_what_the_descriptions_describe() {
    for f in FORMATS {
        let s = schema(f);
        let docs = good_documents(f);
        assert!(docs.len() > if f == "scenario" { 20 } else { 0 }, "{f}");
        for doc in docs {
            let errs = validate(&s, &s, &doc, "$");
            assert!(errs.is_empty(), "{f}:\n{doc:#}\n{errs:#?}");
        }
    }
}

#[test]
fn the_schemas_refuse_unknown_keys_wrong_types_and_unlisted_choices() {
    let mut refused = 0;
    for f in FORMATS {
        let root = keys(f);
        let s = schema(f);
        let good = json_of(&root.sample_document());
        assert_eq!(validate(&s, &s, &good, "$"), Vec::<String>::new(), "{f}");
        for t in tables(root) {
            // The good document with table `t` (its first one) as `variant` has it.
            let with = |variant: Option<&str>| {
                let mut doc = good.clone();
                if std::ptr::eq(t, root) {
                    return doc;
                }
                let table = json_of(&format!("x = {}", t.sample_inline(variant)))["x"].clone();
                let Value::Object(table) = table else {
                    panic!("a table")
                };
                *find_table(&mut doc, root, t).expect("the table is in the document") = table;
                assert_eq!(
                    validate(&s, &s, &doc, "$"),
                    Vec::<String>::new(),
                    "{f} {}",
                    t.table
                );
                doc
            };
            let first = t.tag.and(t.variant_names().first().copied());
            let mut doc = with(first);
            find_table(&mut doc, root, t)
                .expect("table")
                .insert("zz_unknown".into(), 1.into());
            assert!(
                !validate(&s, &s, &doc, "$").is_empty(),
                "{f} {}: unknown key passes",
                t.table
            );
            for k in t.keys() {
                let owners = t.variants_taking(k.name);
                let variant = owners.first().copied().or(first);
                // A value of a type the key never takes.
                let mut doc = with(variant);
                let wrong = json_of(&format!("x = {}", k.ty.wrong_sample()))["x"].clone();
                find_table(&mut doc, root, t)
                    .expect("table")
                    .insert(k.name.into(), wrong);
                assert!(
                    !validate(&s, &s, &doc, "$").is_empty(),
                    "{f} {} {}: wrong type passes",
                    t.table,
                    k.name
                );
                refused += 1;
                if let Ty::Enum(_) = k.ty {
                    let mut doc = with(variant);
                    let bogus = Value::from("zz-not-a-choice");
                    find_table(&mut doc, root, t)
                        .expect("table")
                        .insert(k.name.into(), bogus);
                    assert!(
                        !validate(&s, &s, &doc, "$").is_empty(),
                        "{f} {} {}: unlisted choice passes",
                        t.table,
                        k.name
                    );
                }
                // Required keys are required.
                if k.required {
                    let mut doc = with(variant);
                    find_table(&mut doc, root, t).expect("table").remove(k.name);
                    assert!(
                        !validate(&s, &s, &doc, "$").is_empty(),
                        "{f} {} {}: not required",
                        t.table,
                        k.name
                    );
                }
            }
        }
    }
    assert!(refused > 150, "{refused}");
}

/// The object of table `t` in `doc` (the first, for arrays of tables).
fn find_table<'v>(
    doc: &'v mut Value,
    root: &'static KeySet,
    t: &'static KeySet,
) -> Option<&'v mut serde_json::Map<String, Value>> {
    let mut at = doc;
    for (key, array) in path_to(root, t)? {
        at = at.get_mut(key)?;
        if array {
            at = at.get_mut(0)?;
        }
    }
    at.as_object_mut()
}

/// The keys from `root` down to `t`: `(key, whether it is an array of tables)`.
fn path_to(root: &'static KeySet, t: &'static KeySet) -> Option<Vec<(&'static str, bool)>> {
    if std::ptr::eq(root, t) {
        return Some(Vec::new());
    }
    root.keys().into_iter().find_map(|k| {
        let (inner, array) = match k.ty {
            Ty::Table(i) => (i, false),
            Ty::Tables(i) => (i, true),
            _ => return None,
        };
        let mut rest = path_to(inner, t)?;
        rest.insert(0, (k.name, array));
        Some(rest)
    })
}

#[test]
fn a_key_of_another_variant_is_refused() {
    // A loop-lvm pool with a direct-lvm key; a create-thin step with a fill key.
    let base = "format = 1\n[[step]]\naction = \"create-thin\"\nthin = \"t\"\n";
    let ok = format!("{base}[[pool]]\nname = \"a\"\nkind = \"loop-lvm\"\ndata_size = \"1GiB\"\n");
    assert_eq!(errors("scenario", &ok), Vec::<String>::new());
    let bad_pool = format!("{ok}device = \"auto\"\n");
    assert_eq!(
        errors("scenario", &bad_pool),
        ["$.pool[0].device: not taken here"]
    );
    let bad_step = ok.replace("thin = \"t\"\n", "thin = \"t\"\nrecover = \"grow\"\n");
    assert_eq!(
        errors("scenario", &bad_step),
        ["$.step[0].recover: not taken here"]
    );
}

#[test]
fn the_patterns_never_refuse_what_the_readers_accept() {
    let size = regex::Regex::new(SIZE_PATTERN).expect("size pattern");
    let duration = regex::Regex::new(DURATION_PATTERN).expect("duration pattern");
    let corpus = [
        "0",
        "512",
        "64KiB",
        "64 KiB",
        " 1GiB ",
        "1_024",
        "2048s",
        "1K",
        "1k",
        "4M",
        "1G",
        "1T",
        "1P",
        "1E",
        "1PiB",
        "1EiB",
        "1kB",
        "1KB",
        "1MB",
        "1GB",
        "1TB",
        "1PB",
        "1EB",
        "1B",
        "1.5GiB",
        "1gib",
        "GiB",
        "",
        "-1",
        "1 2",
        "1h",
        "90s",
        "1h30m",
        "1h 30m 10s",
        "20 m",
        "250ms",
        "1d",
        "2w",
        "0h",
        "1.5s",
        "50us",
        "50µs",
        "100ns",
        "1m30s",
        "30d",
        "1x",
        "h1",
    ];
    let mut accepted = 0;
    for s in corpus {
        if thinbench_schema::grammar::parse_size(s).is_ok() {
            assert!(size.is_match(s), "sizes take {s:?}, the schema refuses it");
            accepted += 1;
        }
        if thinbench_schema::grammar::parse_duration(s).is_ok() {
            assert!(
                duration.is_match(s),
                "durations take {s:?}, the schema refuses it"
            );
            accepted += 1;
        }
    }
    assert!(accepted > 25, "{accepted}");
    // And the shapes refuse what no grammar takes.
    for s in ["", "GiB", "-1", "1 2", "1.5GiB"] {
        assert!(!size.is_match(s), "{s:?}");
    }
    for s in ["", "h1", "1", "1 h x"] {
        assert!(!duration.is_match(s), "{s:?}");
    }
}
