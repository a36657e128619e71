//! A JSON Schema validator for exactly the subset `thinbench schema` emits
//! (`thinbench_schema::json_schema`): `$ref` into `definitions`, `type`, `enum`,
//! `const`, `pattern`, `minLength`, `minimum`, `maximum`, `items`, `minItems`,
//! `properties`, `additionalProperties: false`, `required`, `anyOf`, `allOf`,
//! `if`/`then`, and the schema `false`. Any other keyword fails the test, so nothing the
//! generator writes goes unchecked. (Hand-written rather than the `jsonschema` crate: the
//! subset is small, and that crate pulls an HTTP client and dozens of crates in.)

use regex::Regex;
use serde_json::Value;

const ANNOTATIONS: &[&str] = &["$schema", "title", "description", "definitions"];

/// Every way `v` breaks `schema` (whose root is `root`), each with its JSON path.
pub fn validate(root: &Value, schema: &Value, v: &Value, path: &str) -> Vec<String> {
    let mut errs = Vec::new();
    check(root, schema, v, path, &mut errs);
    errs
}

fn check(root: &Value, s: &Value, v: &Value, path: &str, errs: &mut Vec<String>) {
    if s == &Value::Bool(false) {
        errs.push(format!("{path}: not taken here"));
        return;
    }
    let Some(s) = s.as_object() else {
        errs.push(format!("{path}: schema is neither false nor an object"));
        return;
    };
    for (k, kw) in s {
        match k.as_str() {
            k if ANNOTATIONS.contains(&k) => {}
            "$ref" => {
                let name = kw
                    .as_str()
                    .and_then(|r| r.strip_prefix("#/definitions/"))
                    .expect("refs are to definitions");
                let target = &root["definitions"][name];
                assert!(target.is_object(), "no definition {name}");
                check(root, target, v, path, errs);
            }
            "type" => {
                let types: Vec<&str> = match kw {
                    Value::String(t) => vec![t.as_str()],
                    Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                    _ => panic!("bad type {kw}"),
                };
                if !types.iter().any(|t| is_type(v, t)) {
                    errs.push(format!("{path}: {v} is not {}", types.join(" or ")));
                }
            }
            "enum" => {
                if !kw.as_array().expect("enum array").contains(v) {
                    errs.push(format!("{path}: {v} is not one of {kw}"));
                }
            }
            "const" => {
                if kw != v {
                    errs.push(format!("{path}: {v} is not {kw}"));
                }
            }
            "pattern" => {
                let re = Regex::new(kw.as_str().expect("pattern string")).expect("valid regex");
                if let Some(t) = v.as_str() {
                    if !re.is_match(t) {
                        errs.push(format!("{path}: {t:?} does not match {re}"));
                    }
                }
            }
            "minLength" => {
                if let Some(t) = v.as_str() {
                    if (t.chars().count() as u64) < kw.as_u64().expect("minLength") {
                        errs.push(format!("{path}: {t:?} is too short"));
                    }
                }
            }
            "minimum" | "maximum" => {
                if let (Some(x), Some(b)) = (v.as_f64(), kw.as_f64()) {
                    if (k == "minimum" && x < b) || (k == "maximum" && x > b) {
                        errs.push(format!("{path}: {x} is out of bounds ({k} {b})"));
                    }
                }
            }
            "items" => {
                if let Some(a) = v.as_array() {
                    for (i, item) in a.iter().enumerate() {
                        check(root, kw, item, &format!("{path}[{i}]"), errs);
                    }
                }
            }
            "minItems" => {
                if let Some(a) = v.as_array() {
                    if (a.len() as u64) < kw.as_u64().expect("minItems") {
                        errs.push(format!("{path}: too few items"));
                    }
                }
            }
            "properties" => {
                if let Some(o) = v.as_object() {
                    for (name, ps) in kw.as_object().expect("properties object") {
                        if let Some(x) = o.get(name) {
                            check(root, ps, x, &format!("{path}.{name}"), errs);
                        }
                    }
                }
            }
            "additionalProperties" => {
                // false: no other keys; a schema: every other key's value (a table of
                // names the file chooses, `mapped = { thin = 1 }`).
                assert!(
                    kw == &Value::Bool(false) || kw.is_object(),
                    "additionalProperties: false or a schema"
                );
                let props = s.get("properties").and_then(Value::as_object);
                if let Some(o) = v.as_object() {
                    for (name, x) in o {
                        if props.is_some_and(|p| p.contains_key(name)) {
                            continue;
                        }
                        if kw.is_object() {
                            check(root, kw, x, &format!("{path}.{name}"), errs);
                        } else {
                            errs.push(format!("{path}: unknown key {name}"));
                        }
                    }
                }
            }
            "required" => {
                if let Some(o) = v.as_object() {
                    for name in kw.as_array().expect("required array") {
                        let name = name.as_str().expect("required names");
                        if !o.contains_key(name) {
                            errs.push(format!("{path}: missing {name}"));
                        }
                    }
                }
            }
            "anyOf" => {
                let ok = kw
                    .as_array()
                    .expect("anyOf array")
                    .iter()
                    .any(|alt| validate(root, alt, v, path).is_empty());
                if !ok {
                    errs.push(format!("{path}: {v} matches no alternative"));
                }
            }
            "allOf" => {
                for sub in kw.as_array().expect("allOf array") {
                    check(root, sub, v, path, errs);
                }
            }
            "if" => {
                if validate(root, kw, v, path).is_empty() {
                    if let Some(then) = s.get("then") {
                        check(root, then, v, path, errs);
                    }
                }
            }
            "then" => assert!(s.contains_key("if"), "then without if"),
            other => panic!("the validator does not know `{other}`: teach it before emitting it"),
        }
    }
}

fn is_type(v: &Value, t: &str) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        other => panic!("unknown type {other}"),
    }
}
