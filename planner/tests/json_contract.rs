//! The report's JSON and CSV files are a documented contract: every `plan --json` output
//! validates against `docs/plan-report.schema.json` (checked here by a small validator
//! of the JSON Schema subset the file uses), no language's enum shapes (`Ok`/`Err`, an
//! enum variant as a key) appear, every field of the schema is described in
//! `docs/plan-report.md`, and every CSV has its documented header, even with no rows.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use thinbench_planner::render::{
    COMPONENTS_COLUMNS, EVENTS_COLUMNS, THRESHOLDS_COLUMNS, TIMELINE_COLUMNS, TRADEOFF_COLUMNS,
};
use thinbench_planner::{load_fleet_str, plan, PlanReport};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn schema() -> Value {
    let t = std::fs::read_to_string(root().join("docs/plan-report.schema.json")).unwrap();
    serde_json::from_str(&t).unwrap()
}

/// Errors of `v` against schema node `s` (`defs`: the root's `$defs`), with JSON paths.
fn check(v: &Value, s: &Value, defs: &Map<String, Value>, path: &str, errs: &mut Vec<String>) {
    let s = s.as_object().expect("schema nodes are objects");
    for k in s.keys() {
        let known = [
            "$schema",
            "title",
            "description",
            "$ref",
            "$defs",
            "type",
            "const",
            "enum",
            "minimum",
            "properties",
            "required",
            "additionalProperties",
            "items",
            "oneOf",
        ];
        assert!(
            known.contains(&k.as_str()),
            "{path}: the validator does not know `{k}`"
        );
    }
    if let Some(r) = s.get("$ref") {
        let name = r
            .as_str()
            .unwrap()
            .strip_prefix("#/$defs/")
            .expect("local refs");
        let d = defs
            .get(name)
            .unwrap_or_else(|| panic!("{path}: no $defs/{name}"));
        check(v, d, defs, path, errs);
    }
    if let Some(t) = s.get("type") {
        let types: Vec<&str> = match t {
            Value::String(x) => vec![x.as_str()],
            Value::Array(xs) => xs.iter().map(|x| x.as_str().unwrap()).collect(),
            _ => panic!("{path}: bad type"),
        };
        let ok = types.iter().any(|t| match *t {
            "null" => v.is_null(),
            "boolean" => v.is_boolean(),
            "integer" => v.is_u64() || v.is_i64(),
            "number" => v.is_number(),
            "string" => v.is_string(),
            "array" => v.is_array(),
            "object" => v.is_object(),
            _ => panic!("{path}: unknown type {t}"),
        });
        if !ok {
            errs.push(format!("{path}: {v} is not {types:?}"));
            return;
        }
    }
    if let Some(c) = s.get("const") {
        if v != c {
            errs.push(format!("{path}: {v} is not {c}"));
        }
    }
    if let Some(e) = s.get("enum") {
        if !e.as_array().unwrap().contains(v) {
            errs.push(format!("{path}: {v} is not one of {e}"));
        }
    }
    if let (Some(m), Some(x)) = (s.get("minimum"), v.as_f64()) {
        if x < m.as_f64().unwrap() {
            errs.push(format!("{path}: {x} < {m}"));
        }
    }
    if let Some(alts) = s.get("oneOf") {
        let n = alts
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| {
                let mut e = Vec::new();
                check(v, a, defs, path, &mut e);
                e.is_empty()
            })
            .count();
        if n != 1 {
            errs.push(format!("{path}: {n} of oneOf match {v}"));
        }
    }
    if let Value::Object(o) = v {
        let props = s.get("properties").and_then(|p| p.as_object());
        if let Some(req) = s.get("required") {
            for k in req.as_array().unwrap() {
                if !o.contains_key(k.as_str().unwrap()) {
                    errs.push(format!("{path}: missing `{}`", k.as_str().unwrap()));
                }
            }
        }
        for (k, x) in o {
            match props.and_then(|p| p.get(k)) {
                Some(ps) => check(x, ps, defs, &format!("{path}.{k}"), errs),
                None if s.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    errs.push(format!("{path}: `{k}` is not in the schema"))
                }
                None => {}
            }
        }
    }
    if let (Value::Array(xs), Some(items)) = (v, s.get("items")) {
        for (i, x) in xs.iter().enumerate() {
            check(x, items, defs, &format!("{path}[{i}]"), errs);
        }
    }
}

fn validate(v: &Value) -> Vec<String> {
    let s = schema();
    let defs = s["$defs"].as_object().unwrap().clone();
    let mut errs = Vec::new();
    check(v, &s, &defs, "$", &mut errs);
    errs
}

/// Keys anywhere in `v` that are a Rust enum's encoding.
fn enum_keys(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                if ["Ok", "Err", "Some", "None"].contains(&k.as_str())
                    || k.chars().next().is_some_and(|c| c.is_uppercase())
                {
                    out.push(k.clone());
                }
                enum_keys(x, out);
            }
        }
        Value::Array(xs) => xs.iter().for_each(|x| enum_keys(x, out)),
        _ => {}
    }
}

/// A small fleet whose 2GiB pool fills within its 30 days: events, refusals and a
/// trade-off table, in a fraction of a second.
const SMALL: &str = r#"
format = 1
name = "small"
[pool]
data_size = "2GiB"
low_water_mark = "5%"
autoextend_threshold = 90
[[base.write]]
pattern = "random"
seed = 3
io_size = "4KiB"
count = 64
offset = "0"
span = "1GiB"
[[image]]
name = "app"
containers = 4
[[image.layer]]
bytes = "256MiB"
[[image.container_write]]
bytes = "64MiB"
[[image.container_write]]
target = "image"
pattern = "random"
seed = 5
count = 100
[image.churn]
every = "10d"
replace = 1
[timeline]
duration = "30d"
write_rate = "40MiB/d"
"#;

fn reports() -> Vec<(&'static str, PlanReport)> {
    let small = load_fleet_str(Path::new("small.toml"), SMALL).unwrap();
    let dd = std::fs::read_to_string(root().join("plans/docker-default.toml")).unwrap();
    let dd = load_fleet_str(Path::new("docker-default.toml"), &dd).unwrap();
    vec![
        ("small, peer", plan(&small, true, true).unwrap()),
        ("small, no peer", plan(&small, true, false).unwrap()),
        ("docker-default", plan(&dd, false, true).unwrap()),
    ]
}

#[test]
fn the_validator_rejects_what_the_schema_forbids() {
    let r = plan(
        &load_fleet_str(Path::new("small.toml"), SMALL).unwrap(),
        false,
        false,
    )
    .unwrap();
    let good: Value = serde_json::from_str(&r.to_json()).unwrap();
    assert_eq!(validate(&good), Vec::<String>::new());
    let bad = |f: &dyn Fn(&mut Value)| {
        let mut v = good.clone();
        f(&mut v);
        validate(&v)
    };
    // The old Rust `Result` shape of the peer.
    let e = bad(&|v| {
        v["metadata"]["thin_metadata_size"]["peer"] =
            serde_json::json!({"command": "x", "bytes": {"Ok": 1}})
    });
    assert!(!e.is_empty());
    // Both or neither of bytes and skipped.
    assert!(!bad(&|v| v["metadata"]["thin_metadata_size"]["peer"]["bytes"] = 5.into()).is_empty());
    assert!(!bad(&|v| {
        v["metadata"]["thin_metadata_size"]["peer"]
            .as_object_mut()
            .unwrap()
            .remove("skipped");
    })
    .is_empty());
    assert!(!bad(&|v| v["schema_version"] = 1.into()).is_empty());
    assert!(!bad(&|v| v["extra"] = 1.into()).is_empty());
    assert!(!bad(&|v| {
        v.as_object_mut().unwrap().remove("thresholds");
    })
    .is_empty());
    assert!(!bad(&|v| v["thresholds"][0]["status"] = "Fired".into()).is_empty());
    assert!(!bad(&|v| v["timeline"][0]["data_used"] = (-1).into()).is_empty());
    assert!(!bad(&|v| v["plan"]["images"][0]["churn"] = "yes".into()).is_empty());
}

#[test]
fn every_report_validates_against_the_documented_schema() {
    for (what, r) in reports() {
        let v: Value = serde_json::from_str(&r.to_json()).unwrap();
        let errs = validate(&v);
        assert!(errs.is_empty(), "{what}: {errs:#?}");
        let mut keys = Vec::new();
        enum_keys(&v, &mut keys);
        assert!(keys.is_empty(), "{what}: enum-shaped keys {keys:?}");
        if what == "small, peer" {
            // Something to validate in every array.
            assert!(!r.events.is_empty() && !r.tradeoff.is_empty());
            assert!(r.plan.base_writes[0].seed.is_some());
        }
    }
}

/// Every property name of a schema node and its children.
fn property_names(s: &Value, out: &mut Vec<String>) {
    match s {
        Value::Object(o) => {
            if let Some(Value::Object(p)) = o.get("properties") {
                out.extend(p.keys().cloned());
            }
            o.values().for_each(|x| property_names(x, out));
        }
        Value::Array(xs) => xs.iter().for_each(|x| property_names(x, out)),
        _ => {}
    }
}

#[test]
fn every_schema_field_and_csv_column_is_documented() {
    let doc = std::fs::read_to_string(root().join("docs/plan-report.md")).unwrap();
    let mut names = Vec::new();
    property_names(&schema(), &mut names);
    let cols = [
        &TIMELINE_COLUMNS[..],
        &TRADEOFF_COLUMNS,
        &COMPONENTS_COLUMNS,
        &EVENTS_COLUMNS,
        &THRESHOLDS_COLUMNS,
    ];
    names.extend(cols.iter().flat_map(|c| c.iter().map(|s| s.to_string())));
    let missing: Vec<_> = names
        .iter()
        .filter(|n| !doc.contains(&format!("`{n}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "not in docs/plan-report.md: {missing:?}"
    );
}

#[test]
fn every_csv_has_its_header_even_when_empty() {
    let f = load_fleet_str(Path::new("small.toml"), SMALL).unwrap();
    let mut quiet = f.clone();
    quiet.pool.data_size = thinbench_schema::units::Bytes(64 << 30);
    let r = plan(&quiet, false, false).unwrap();
    assert!(
        r.events.is_empty() && r.tradeoff.is_empty(),
        "{:?}",
        r.events
    );
    let dir = tempfile_dir();
    r.write_csv(&dir).unwrap();
    let files: [(&str, &[&str]); 5] = [
        ("timeline.csv", &TIMELINE_COLUMNS),
        ("tradeoff.csv", &TRADEOFF_COLUMNS),
        ("components.csv", &COMPONENTS_COLUMNS),
        ("events.csv", &EVENTS_COLUMNS),
        ("thresholds.csv", &THRESHOLDS_COLUMNS),
    ];
    for (name, cols) in files {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        assert_eq!(text.lines().next(), Some(cols.join(",").as_str()), "{name}");
    }
    assert_eq!(
        std::fs::read_to_string(dir.join("events.csv")).unwrap(),
        "t_s,day,what,detail\n"
    );
    // The columns are the JSON's fields (serde_json sorts keys: compare as sets).
    let v: Value = serde_json::from_str(&r.to_json()).unwrap();
    let keys = |x: &Value| -> Vec<String> { x.as_object().unwrap().keys().cloned().collect() };
    let sorted = |c: &[&str]| -> Vec<String> {
        let mut c: Vec<String> = c.iter().map(|s| s.to_string()).collect();
        c.sort();
        c
    };
    assert_eq!(keys(&v["timeline"][0]), sorted(&TIMELINE_COLUMNS));
    assert_eq!(keys(&v["thresholds"][0]), sorted(&THRESHOLDS_COLUMNS));
    assert_eq!(keys(&v["components"][0]), sorted(&COMPONENTS_COLUMNS));
    // Rows have as many fields as the header.
    let t = std::fs::read_to_string(dir.join("timeline.csv")).unwrap();
    for l in t.lines() {
        assert_eq!(l.split(',').count(), TIMELINE_COLUMNS.len(), "{l}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

fn tempfile_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("thinbench-plan-csv-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}
