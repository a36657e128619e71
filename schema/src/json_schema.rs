//! JSON Schemas (draft 7) of thinbench's input files, generated from the key
//! descriptions the readers check against ([`crate::keys`]). Editors built on taplo
//! complete keys, show each key's doc and flag unknown keys, wrong types and misspelt
//! choices from them (docs/editors.md).
//!
//! What is emitted, so a small validator can check it: `type`, `properties`,
//! `additionalProperties` (`false`, or the schema of every value of a table of names
//! the file chooses), `required`, `enum`, `const`, `pattern`, `minLength`,
//! `minimum`/`maximum`, `items`, `minItems`, `anyOf`, and per variant an `allOf` of
//! `if` (`properties: {tag: {const}}`, `required: [tag]`) / `then` (`properties:
//! {key: false}` for every key of the other variants). Patterns are shapes, looser than
//! the readers, never stricter: an editor must not flag what thinbench accepts.

use serde_json::{json, Map, Value};

use crate::keys::{tables, Key, KeySet, Ty, DURATION_PATTERN, PERCENT_PATTERN, SIZE_PATTERN};

/// The schema of a file whose top-level table is `root`, as pretty JSON with a final
/// newline (the bytes committed under `docs/schemas/`).
pub fn generate(title: &str, root: &'static KeySet) -> String {
    let mut defs = Map::new();
    for t in tables(root).into_iter().skip(1) {
        defs.insert(def_name(t), table(t));
    }
    let mut top = match table(root) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    top.insert(
        "$schema".into(),
        json!("http://json-schema.org/draft-07/schema#"),
    );
    top.insert("title".into(), json!(title));
    if !defs.is_empty() {
        top.insert("definitions".into(), Value::Object(defs));
    }
    let mut s = serde_json::to_string_pretty(&Value::Object(top)).unwrap_or_default();
    s.push('\n');
    s
}

/// The name of a table's definition: its header without brackets (`[[pool]]` → `pool`,
/// `[step.expect]` → `step.expect`).
fn def_name(t: &KeySet) -> String {
    t.table.trim_matches(|c| c == '[' || c == ']').to_owned()
}

fn table(t: &'static KeySet) -> Value {
    let mut props = Map::new();
    for k in t.keys() {
        props.insert(k.name.to_owned(), key(t, k));
    }
    let mut m = Map::new();
    m.insert("type".into(), json!("object"));
    m.insert("description".into(), json!(t.doc));
    m.insert("properties".into(), Value::Object(props));
    m.insert("additionalProperties".into(), json!(false));
    let required: Vec<&str> = t
        .common
        .iter()
        .filter(|k| k.required)
        .map(|k| k.name)
        .collect();
    if !required.is_empty() {
        m.insert("required".into(), json!(required));
    }
    if let Some(tag) = t.tag {
        // Per variant, the keys it does not take as `false` schemas: an editor then
        // flags the key itself ("False schema does not allow …", at the key), where a
        // `propertyNames` list would flag every key of the table.
        let all: Vec<Value> = t
            .variants
            .iter()
            .map(|(v, _)| {
                let taken = t.names_of(v);
                let others: Map<String, Value> = t
                    .all()
                    .into_iter()
                    .filter(|k| !taken.contains(k))
                    .map(|k| (k.to_owned(), Value::Bool(false)))
                    .collect();
                json!({
                    "if": { "properties": { tag: { "const": v } }, "required": [tag] },
                    "then": { "properties": others }
                })
            })
            .collect();
        if !all.is_empty() {
            m.insert("allOf".into(), Value::Array(all));
        }
    }
    Value::Object(m)
}

/// A key's schema: its type's, with its doc (and the variants it belongs to). A key
/// whose variants give it different types takes any of them (`anyOf`): an editor must
/// not flag what one variant's reader accepts.
fn key(t: &KeySet, k: &Key) -> Value {
    let mut types: Vec<Value> = Vec::new();
    for d in t.descriptions(k.name) {
        let s = ty(&d.ty);
        if !types.contains(&s) {
            types.push(s);
        }
    }
    let one = if types.len() > 1 {
        json!({ "anyOf": types })
    } else {
        ty(&k.ty)
    };
    let mut v = match one {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let owners = t.variants_taking(k.name);
    let doc = if owners.is_empty() {
        k.doc.to_owned()
    } else {
        format!("{} ({} only)", k.doc, owners.join(", "))
    };
    v.insert("description".into(), json!(doc));
    Value::Object(v)
}

fn ty(t: &Ty) -> Value {
    match t {
        Ty::Str => json!({ "type": "string" }),
        Ty::Enum(values) => json!({ "type": "string", "enum": values }),
        Ty::Int { min, max } => {
            let mut m = Map::new();
            m.insert("type".into(), json!("integer"));
            if let Some(x) = min {
                m.insert("minimum".into(), json!(x));
            }
            if let Some(x) = max {
                m.insert("maximum".into(), json!(x));
            }
            Value::Object(m)
        }
        Ty::Number { min, max } => json!({ "type": "number", "minimum": min, "maximum": max }),
        Ty::Bool => json!({ "type": "boolean" }),
        Ty::Size => json!({ "type": ["integer", "string"], "minimum": 0, "pattern": SIZE_PATTERN }),
        Ty::SizeText => json!({ "type": "string", "pattern": SIZE_PATTERN }),
        Ty::Duration => json!({ "type": "string", "pattern": DURATION_PATTERN }),
        Ty::Percent => json!({ "type": "string", "pattern": PERCENT_PATTERN }),
        Ty::Text { pattern, .. } => json!({ "type": "string", "pattern": pattern }),
        Ty::IntOrWord(words) => json!({
            "anyOf": [ { "type": "integer", "minimum": 0 }, { "type": "string", "enum": words } ]
        }),
        Ty::IntOrPercent => json!({
            "type": ["integer", "string"], "minimum": 0, "pattern": PERCENT_PATTERN
        }),
        Ty::NumberOrDuration => json!({
            "type": ["number", "string"], "minimum": 0, "pattern": DURATION_PATTERN
        }),
        Ty::OneOrMany => json!({
            "anyOf": [
                { "type": "string", "minLength": 1 },
                { "type": "array", "minItems": 1, "items": { "type": "string", "minLength": 1 } }
            ]
        }),
        Ty::Array(inner) => json!({ "type": "array", "items": ty(inner) }),
        Ty::Table(t) => json!({ "$ref": format!("#/definitions/{}", def_name(t)) }),
        Ty::Map(inner) => json!({ "type": "object", "additionalProperties": ty(inner) }),
        Ty::Tables(t) => json!({
            "type": "array",
            "items": { "$ref": format!("#/definitions/{}", def_name(t)) }
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Key;

    const RULE: KeySet = KeySet {
        table: "[[rule]]",
        doc: "a rule",
        tag: None,
        common: &[Key::new("figure", Ty::OneOrMany, "globs").required()],
        variants: &[],
    };
    const TOP: KeySet = KeySet {
        table: "the top level",
        doc: "a file",
        tag: Some("kind"),
        common: &[
            Key::new("kind", Ty::Enum(&["a", "b"]), "which").required(),
            Key::new("rule", Ty::Tables(&RULE), "rules"),
        ],
        variants: &[("a", &[Key::new("size", Ty::Size, "a size")]), ("b", &[])],
    };

    #[test]
    fn tables_become_definitions_and_variants_restrict_keys() {
        let s: Value = serde_json::from_str(&generate("X", &TOP)).expect("json");
        assert_eq!(s["required"], json!(["kind"]));
        assert_eq!(s["additionalProperties"], json!(false));
        assert_eq!(
            s["properties"]["rule"]["items"]["$ref"],
            json!("#/definitions/rule")
        );
        assert_eq!(s["definitions"]["rule"]["required"], json!(["figure"]));
        assert_eq!(
            s["properties"]["size"]["description"],
            json!("a size (a only)")
        );
        assert_eq!(
            s["allOf"][1]["then"]["properties"],
            json!({ "size": false })
        );
        assert_eq!(s["allOf"][0]["then"]["properties"], json!({}));
        assert_eq!(
            s["allOf"][0]["if"]["properties"]["kind"]["const"],
            json!("a")
        );
    }

    const TWO: KeySet = KeySet {
        table: "[[step]]",
        doc: "a step",
        tag: Some("kind"),
        common: &[
            Key::new("kind", Ty::Enum(&["a", "b"]), "which").required(),
            Key::new("names", Ty::Map(&Ty::Bool), "by name"),
        ],
        variants: &[
            (
                "a",
                &[Key::new(
                    "stride",
                    Ty::Int {
                        min: Some(1),
                        max: None,
                    },
                    "a count",
                )],
            ),
            ("b", &[Key::new("stride", Ty::Size, "a size")]),
        ],
    };

    #[test]
    fn a_key_with_a_type_per_variant_takes_any_and_a_map_takes_any_name() {
        let s: Value = serde_json::from_str(&generate("X", &TWO)).expect("json");
        let any = s["properties"]["stride"]["anyOf"]
            .as_array()
            .expect("anyOf");
        assert_eq!(any.len(), 2);
        assert_eq!(any[0]["type"], json!("integer"));
        assert_eq!(any[1]["type"], json!(["integer", "string"]));
        assert_eq!(TWO.descriptions("stride").count(), 2);
        assert_eq!(
            s["properties"]["names"]["additionalProperties"],
            json!({ "type": "boolean" })
        );
        assert_eq!(Ty::Map(&Ty::Bool).sample(), "{ x = true }");
    }
}
