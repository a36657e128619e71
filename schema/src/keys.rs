//! The keys of every input file's tables, described once: name, value type (with its
//! unit grammar or its choices), a one-line doc, whether it is required. The readers of
//! scenario, plan and gate-config files check unknown keys (and their did-you-mean
//! lists) against these descriptions, and [`crate::json_schema`] turns the same
//! descriptions into the JSON Schemas editors use (`thinbench schema scenario|plan|gate`),
//! so the two cannot drift apart.

/// What a key's value is.
#[derive(Debug, Clone, Copy)]
pub enum Ty {
    /// Any string.
    Str,
    /// One of these strings.
    Enum(&'static [&'static str]),
    /// A TOML integer within the bounds (inclusive) when given.
    Int {
        /// Smallest value taken.
        min: Option<i64>,
        /// Largest value taken.
        max: Option<i64>,
    },
    /// A TOML float or integer within the bounds (inclusive).
    Number {
        /// Smallest value taken.
        min: f64,
        /// Largest value taken.
        max: f64,
    },
    /// `true` or `false`.
    Bool,
    /// A size: a string with a unit (`"64KiB"`) or an integer number of bytes.
    Size,
    /// A size written as a string only (`"10GiB"`).
    SizeText,
    /// A duration string (`"20m"`, `"1h30m"`, `"1d"`).
    Duration,
    /// A percentage string (`"10%"`).
    Percent,
    /// A string of a documented shape; `example` is one that is valid.
    Text {
        /// A JSON Schema (ECMA 262) regular expression the string matches.
        pattern: &'static str,
        /// A valid value, for samples.
        example: &'static str,
    },
    /// An integer (at least 0), or one of these words.
    IntOrWord(&'static [&'static str]),
    /// An integer number of blocks (at least 0) or a percentage string.
    IntOrPercent,
    /// A number (at least 0, in a figure's unit) or a duration string.
    NumberOrDuration,
    /// A non-empty string, or a non-empty array of them.
    OneOrMany,
    /// An array of values of one type.
    Array(&'static Ty),
    /// A table (`[step.expect]`, `[defaults]`).
    Table(&'static KeySet),
    /// A table of names the file chooses (thin names), each value of this type
    /// (`mapped = { origin = 16 }`).
    Map(&'static Ty),
    /// An array of tables (`[[pool]]`, `[[rule]]`).
    Tables(&'static KeySet),
}

/// The TOML types of values, for checking a reader against its description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TomlKind {
    /// A string.
    String,
    /// An integer.
    Integer,
    /// A float.
    Float,
    /// A boolean.
    Boolean,
    /// An array.
    Array,
    /// A table.
    Table,
}

/// The shape of a size string: digits, then a unit word. The reader has the last word
/// (which units, which bounds); the shape catches what no unit grammar accepts.
pub const SIZE_PATTERN: &str = "^\\s*[0-9][0-9_]*\\s*[A-Za-z]*\\s*$";
/// The shape of a duration string: one or more (number, unit) pairs.
pub const DURATION_PATTERN: &str = "^\\s*([0-9][0-9._]*\\s*[A-Za-zµ]+\\s*)+$";
/// The shape of a percentage string.
pub const PERCENT_PATTERN: &str = "^\\s*[0-9]+(\\.[0-9]+)?\\s*%\\s*$";

impl Ty {
    /// The TOML types a value of this type may have.
    pub fn toml_kinds(&self) -> &'static [TomlKind] {
        use TomlKind as K;
        match self {
            Ty::Str | Ty::Enum(_) | Ty::SizeText | Ty::Duration | Ty::Percent | Ty::Text { .. } => {
                &[K::String]
            }
            Ty::Int { .. } => &[K::Integer],
            Ty::Number { .. } => &[K::Float, K::Integer],
            Ty::Bool => &[K::Boolean],
            Ty::Size | Ty::IntOrWord(_) | Ty::IntOrPercent => &[K::Integer, K::String],
            Ty::NumberOrDuration => &[K::Float, K::Integer, K::String],
            Ty::OneOrMany => &[K::String, K::Array],
            Ty::Array(_) | Ty::Tables(_) => &[K::Array],
            Ty::Table(_) | Ty::Map(_) => &[K::Table],
        }
    }

    /// Whether a TOML value of `kind` can be of this type.
    pub fn takes(&self, kind: TomlKind) -> bool {
        self.toml_kinds().contains(&kind)
    }

    /// A valid value of this type, as TOML text (inline tables for tables).
    pub fn sample(&self) -> String {
        match self {
            Ty::Str => "\"x\"".to_owned(),
            Ty::Enum(v) => format!("\"{}\"", v[0]),
            Ty::Int { min, max } => min
                .or(*max)
                .unwrap_or(1)
                .max(1)
                .min(max.unwrap_or(i64::MAX))
                .to_string(),
            Ty::Number { min, max } => format!("{:?}", (min + max) / 2.0),
            Ty::Bool => "true".to_owned(),
            Ty::Size | Ty::SizeText => "\"64KiB\"".to_owned(),
            Ty::Duration => "\"1s\"".to_owned(),
            Ty::Percent | Ty::IntOrPercent => "\"10%\"".to_owned(),
            Ty::Text { example, .. } => format!("\"{example}\""),
            Ty::IntOrWord(w) => format!("\"{}\"", w[0]),
            Ty::NumberOrDuration => "\"50us\"".to_owned(),
            Ty::OneOrMany => "\"x*\"".to_owned(),
            Ty::Array(t) => format!("[{}]", t.sample()),
            Ty::Table(ks) => ks.sample_inline(None),
            Ty::Map(t) => format!("{{ x = {} }}", t.sample()),
            Ty::Tables(ks) => format!("[{}]", ks.sample_inline(None)),
        }
    }

    /// A value of a TOML type this type never takes, as TOML text.
    pub fn wrong_sample(&self) -> &'static str {
        if self.takes(TomlKind::Table) {
            "1"
        } else {
            "{}"
        }
    }
}

/// One key of a table.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    /// The key as written.
    pub name: &'static str,
    /// Its value's type.
    pub ty: Ty,
    /// One line for a user: what it means, its unit, its default.
    pub doc: &'static str,
    /// Whether every table of its kind must have it.
    pub required: bool,
    /// A valid value as TOML text, when the type's sample is not one here (a bound
    /// another key sets).
    pub example: Option<&'static str>,
}

impl Key {
    /// An optional key.
    pub const fn new(name: &'static str, ty: Ty, doc: &'static str) -> Key {
        Key {
            name,
            ty,
            doc,
            required: false,
            example: None,
        }
    }
    /// The same key, required.
    pub const fn required(self) -> Key {
        Key {
            required: true,
            ..self
        }
    }
    /// The same key with `value` (TOML text) as its sample.
    pub const fn example(self, value: &'static str) -> Key {
        Key {
            example: Some(value),
            ..self
        }
    }
    /// A valid value, as TOML text.
    pub fn sample(&self) -> String {
        self.example
            .map(str::to_owned)
            .unwrap_or_else(|| self.ty.sample())
    }
}

/// The keys a kind of table takes: some always, some only for one variant (pool kind,
/// fault target, step action, named by the `tag` key). Readers reject keys in none of
/// them; validation rejects keys of another variant.
#[derive(Debug)]
pub struct KeySet {
    /// How the table is written, for messages (`[[pool]]`).
    pub table: &'static str,
    /// What the table is, one line.
    pub doc: &'static str,
    /// The key whose value names the variant (`kind`, `target`, `action`), if any.
    pub tag: Option<&'static str>,
    /// Keys every table of this kind takes.
    pub common: &'static [Key],
    /// `(variant, keys)`: keys that only that variant takes.
    pub variants: &'static [(&'static str, &'static [Key])],
}

impl KeySet {
    /// Every key name, common first, each once.
    pub fn all(&self) -> Vec<&'static str> {
        self.keys().into_iter().map(|k| k.name).collect()
    }
    /// Every key, common first, each once (the first description of a name that several
    /// variants share).
    pub fn keys(&self) -> Vec<&'static Key> {
        let mut keys: Vec<&'static Key> = self.common.iter().collect();
        for (_, vk) in self.variants {
            for k in *vk {
                if !keys.iter().any(|o| o.name == k.name) {
                    keys.push(k);
                }
            }
        }
        keys
    }
    /// The description of `name`, if the table takes it at all.
    pub fn key(&self, name: &str) -> Option<&'static Key> {
        let common: &'static [Key] = self.common;
        let variants: &'static [(&'static str, &'static [Key])] = self.variants;
        common
            .iter()
            .chain(variants.iter().flat_map(|(_, keys)| keys.iter()))
            .find(|k| k.name == name)
    }
    /// Every description of `name`: one, or one per variant where variants give the
    /// same key different types (discard's `stride` is a size, small-write's a count).
    pub fn descriptions<'n>(&self, name: &'n str) -> impl Iterator<Item = &'static Key> + 'n {
        let common: &'static [Key] = self.common;
        let variants: &'static [(&'static str, &'static [Key])] = self.variants;
        common
            .iter()
            .chain(variants.iter().flat_map(|(_, keys)| keys.iter()))
            .filter(move |k| k.name == name)
    }
    /// The variant names.
    pub fn variant_names(&self) -> Vec<&'static str> {
        self.variants.iter().map(|(v, _)| *v).collect()
    }
    /// Variants that take `key` (empty for common keys and unknown ones).
    pub fn variants_taking(&self, key: &str) -> Vec<&'static str> {
        self.variants
            .iter()
            .filter(|(_, keys)| keys.iter().any(|k| k.name == key))
            .map(|(v, _)| *v)
            .collect()
    }
    /// Whether `variant` takes `key` (common keys count).
    pub fn takes(&self, variant: &str, key: &str) -> bool {
        self.common.iter().any(|k| k.name == key)
            || self
                .variants
                .iter()
                .any(|(v, keys)| *v == variant && keys.iter().any(|k| k.name == key))
    }
    /// The key names `variant` takes (common ones first).
    pub fn names_of(&self, variant: &str) -> Vec<&'static str> {
        let mut keys: Vec<&'static str> = self.common.iter().map(|k| k.name).collect();
        for (v, vk) in self.variants {
            if *v == variant {
                keys.extend(vk.iter().map(|k| k.name));
            }
        }
        keys
    }
    /// The keys `variant` takes, for hints.
    pub fn keys_of(&self, variant: &str) -> String {
        self.names_of(variant).join(", ")
    }
    /// "valid keys in [[pool]]: ...; loop-lvm only: ...", for hints.
    pub fn describe(&self) -> String {
        let names = |keys: &[Key]| keys.iter().map(|k| k.name).collect::<Vec<_>>().join(", ");
        let mut s = format!("valid keys in {}: {}", self.table, names(self.common));
        for (variant, keys) in self.variants {
            s.push_str(&format!("; {variant} only: {}", names(keys)));
        }
        s
    }

    /// A table of this kind with every key of `variant` (every key of every variant when
    /// `None`) at a valid sample value, as an inline TOML table.
    pub fn sample_inline(&self, variant: Option<&str>) -> String {
        let parts: Vec<String> = self
            .sample_keys(variant)
            .into_iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect();
        format!("{{ {} }}", parts.join(", "))
    }

    /// A valid TOML document: every key of every table at a sample value (of a tagged
    /// table, the first variant's keys), tables written as sections (`[defaults]`,
    /// `[[rule]]`, `[step.expect]`) as a user would.
    pub fn sample_document(&self) -> String {
        let mut out = String::new();
        self.sample_section(None, &mut out);
        out
    }

    fn sample_section(&self, path: Option<&str>, out: &mut String) {
        let variant = self.tag.and(self.variants.first().map(|(v, _)| *v));
        let mut nested = Vec::new();
        for (name, value) in self.sample_keys(variant) {
            match self.key(name).map(|k| k.ty) {
                Some(Ty::Table(t)) => nested.push((name, t, false)),
                Some(Ty::Tables(t)) => nested.push((name, t, true)),
                _ => out.push_str(&format!("{name} = {value}\n")),
            }
        }
        for (name, t, array) in nested {
            let p = match path {
                Some(p) => format!("{p}.{name}"),
                None => name.to_owned(),
            };
            if array {
                out.push_str(&format!("[[{p}]]\n"));
            } else {
                out.push_str(&format!("[{p}]\n"));
            }
            t.sample_section(Some(&p), out);
        }
    }

    /// `(key, sample value)` for every key of `variant` (all keys when `None`); the tag,
    /// when there is one, names the variant.
    pub fn sample_keys(&self, variant: Option<&str>) -> Vec<(&'static str, String)> {
        let keys: Vec<&'static Key> = match variant {
            None => self.keys(),
            Some(v) => self
                .keys()
                .into_iter()
                .filter(|k| self.takes(v, k.name))
                .collect(),
        };
        keys.into_iter()
            .map(|k| {
                let value = match (self.tag, variant) {
                    (Some(tag), Some(v)) if tag == k.name => format!("\"{v}\""),
                    _ => k.sample(),
                };
                (k.name, value)
            })
            .collect()
    }
}

/// Every table reachable from `root` (itself first), each once, in key order.
pub fn tables(root: &'static KeySet) -> Vec<&'static KeySet> {
    fn walk(ks: &'static KeySet, out: &mut Vec<&'static KeySet>) {
        if out.iter().any(|o| std::ptr::eq(*o, ks)) {
            return;
        }
        out.push(ks);
        for k in ks.keys() {
            let mut ty = &k.ty;
            while let Ty::Array(inner) = ty {
                ty = inner;
            }
            if let Ty::Table(t) | Ty::Tables(t) = ty {
                walk(t, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(root, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const INNER: KeySet = KeySet {
        table: "[inner]",
        doc: "an inner table",
        tag: None,
        common: &[Key::new(
            "n",
            Ty::Int {
                min: Some(2),
                max: Some(9),
            },
            "a number",
        )],
        variants: &[],
    };
    const OUTER: KeySet = KeySet {
        table: "the top level",
        doc: "a file",
        tag: Some("kind"),
        common: &[
            Key::new("kind", Ty::Enum(&["a", "b"]), "which").required(),
            Key::new("inner", Ty::Table(&INNER), "inner"),
        ],
        variants: &[
            ("a", &[Key::new("size", Ty::Size, "a size")]),
            (
                "b",
                &[
                    Key::new("size", Ty::Size, "a size"),
                    Key::new("on", Ty::Bool, "on"),
                ],
            ),
        ],
    };

    #[test]
    fn keys_are_listed_once_and_variants_answer() {
        assert_eq!(OUTER.all(), ["kind", "inner", "size", "on"]);
        assert_eq!(OUTER.variants_taking("size"), ["a", "b"]);
        assert!(OUTER.takes("b", "on") && !OUTER.takes("a", "on"));
        assert!(OUTER.takes("a", "kind"));
        assert_eq!(OUTER.keys_of("a"), "kind, inner, size");
        assert_eq!(
            OUTER.describe(),
            "valid keys in the top level: kind, inner; a only: size; b only: size, on"
        );
        let t = tables(&OUTER);
        assert_eq!(t.len(), 2);
        assert_eq!(t[1].table, "[inner]");
    }

    #[test]
    fn sample_documents_write_tables_as_sections() {
        assert_eq!(
            OUTER.sample_document(),
            "kind = \"a\"\nsize = \"64KiB\"\n[inner]\nn = 2\n"
        );
    }

    #[test]
    fn samples_name_the_variant_and_stay_in_bounds() {
        assert_eq!(
            OUTER.sample_inline(Some("b")),
            "{ kind = \"b\", inner = { n = 2 }, size = \"64KiB\", on = true }"
        );
        assert_eq!(
            Ty::Int {
                min: None,
                max: Some(0)
            }
            .sample(),
            "0"
        );
        assert_eq!(Ty::Number { min: 0.5, max: 1.0 }.sample(), "0.75");
        assert_eq!(Ty::Table(&INNER).wrong_sample(), "1");
        assert_eq!(Ty::Size.wrong_sample(), "{}");
    }
}
