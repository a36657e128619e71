//! TOML as thinbench's input files are read (scenarios, plans): one tree of spanned
//! values ([`Node`]), parsed once with serde, then read table by table by hand
//! ([`TableReader`]) rather than by `#[derive(Deserialize)]`, because serde stops at the
//! first unknown key or wrong type and a user should see every mistake in a file at once.
//! Each table read checks its keys against a [`KeySet`] and reports the ones left over,
//! with a did-you-mean and the valid keys.
//!
//! Nothing is interpreted here beyond TOML types (no units, no defaults, no cross
//! references): that is each format's validator's job. [`parse`] turns TOML syntax errors
//! into [`Diagnostic`]s; [`read_input`] reads a file as UTF-8 text, positioning a byte that
//! is not.

use crate::positioned::{fold_lines, suggest, Diagnostic, LineIndex, Positioned};
use crate::untrusted;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_spanned::Spanned;
use std::fmt;
use std::ops::Range;
use std::path::Path;

/// Byte range in the text.
pub type Span = Range<usize>;

/// The keys of `fields` that the table has, with where each is written.
pub fn present<const N: usize>(
    fields: [(&'static str, Option<Span>); N],
) -> Vec<(&'static str, Span)> {
    fields
        .into_iter()
        .filter_map(|(k, s)| s.map(|s| (k, s)))
        .collect()
}

/// Any TOML value, with positions all the way down.
#[derive(Debug)]
pub enum Node {
    /// A string.
    String(String),
    /// An integer.
    Integer(i64),
    /// No key takes a float, so only the type is kept.
    Float,
    /// A boolean.
    Boolean(bool),
    /// An array.
    Array(Vec<Spanned<Node>>),
    /// Keys in file order (TOML has already rejected duplicates).
    Table(Vec<(Spanned<String>, Spanned<Node>)>),
}

impl Node {
    /// The value's TOML type, for "must be X, not Y" messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Node::String(_) => "a string",
            Node::Integer(_) => "an integer",
            Node::Float => "a float",
            Node::Boolean(_) => "a boolean",
            Node::Array(_) => "an array",
            Node::Table(_) => "a table",
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Node, D::Error> {
        struct NodeVisitor;
        impl<'de> Visitor<'de> for NodeVisitor {
            type Value = Node;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a TOML value")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
                Ok(Node::Boolean(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
                Ok(Node::Integer(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
                i64::try_from(v)
                    .map(Node::Integer)
                    .map_err(|_| E::custom("integer does not fit in 64 bits"))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Node, E> {
                Ok(Node::Float)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
                Ok(Node::String(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
                Ok(Node::String(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Node::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
                let mut entries = Vec::new();
                // A TOML date-time also arrives here, as a one-key map whose key carries
                // no span; `Spanned<String>` then fails, and the loader turns that
                // failure into "date-times are not used in input files".
                while let Some(Key(key)) = map.next_key::<Key>()? {
                    let SpannedNode(value) = map.next_value()?;
                    // Dotted keys (`expect.mode = "rw"`) come without a span: point at the
                    // value instead, which is on the same line.
                    let key = if key.span().is_empty() {
                        Spanned::new(value.span(), key.into_inner())
                    } else {
                        key
                    };
                    entries.push((key, value));
                }
                Ok(Node::Table(entries))
            }
        }
        deserializer.deserialize_any(NodeVisitor)
    }
}

/// A table key with its span when the TOML deserializer has one (plain keys), or an
/// empty span (the parts of dotted keys arrive as bare strings).
struct Key(Spanned<String>);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Key, D::Error> {
        use serde_spanned::__unstable as sp;
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(Key(Spanned::new(0..0, v.to_owned())))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Key, A::Error> {
                let (mut start, mut end, mut value) = (None, None, None);
                while let Some(k) = map.next_key::<String>()? {
                    match k.as_str() {
                        k if k == sp::START_FIELD => start = Some(map.next_value::<usize>()?),
                        k if k == sp::END_FIELD => end = Some(map.next_value::<usize>()?),
                        k if k == sp::VALUE_FIELD => value = Some(map.next_value::<String>()?),
                        _ => return Err(de::Error::custom("unexpected field in a spanned key")),
                    }
                }
                match (start, end, value) {
                    (Some(s), Some(e), Some(v)) => Ok(Key(Spanned::new(s..e, v))),
                    _ => Err(de::Error::custom("incomplete spanned key")),
                }
            }
        }
        deserializer.deserialize_struct(
            sp::NAME,
            &[sp::START_FIELD, sp::END_FIELD, sp::VALUE_FIELD],
            KeyVisitor,
        )
    }
}

/// A value with its span; the implicit tables of dotted keys (`expect.mode = "rw"`)
/// arrive without one and get the empty span, which the caller replaces.
struct SpannedNode(Spanned<Node>);

impl<'de> Deserialize<'de> for SpannedNode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<SpannedNode, D::Error> {
        use serde_spanned::__unstable as sp;
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SpannedNode;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a TOML value")
            }
            // Every value the loader takes arrives spanned (a map); a bare string here is
            // a date-time, which the loader reports in its own words.
            fn visit_str<E: de::Error>(self, v: &str) -> Result<SpannedNode, E> {
                Err(E::custom(format!("$__toml_private_datetime {v}")))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SpannedNode, A::Error> {
                let Some(first) = map.next_key::<String>()? else {
                    return Ok(SpannedNode(Spanned::new(0..0, Node::Table(Vec::new()))));
                };
                if first == sp::START_FIELD {
                    let start: usize = map.next_value()?;
                    let (mut end, mut value) = (None, None);
                    while let Some(k) = map.next_key::<String>()? {
                        if k == sp::END_FIELD {
                            end = Some(map.next_value::<usize>()?);
                        } else if k == sp::VALUE_FIELD {
                            value = Some(map.next_value::<Node>()?);
                        } else {
                            return Err(de::Error::custom("unexpected field in a spanned value"));
                        }
                    }
                    let (Some(end), Some(value)) = (end, value) else {
                        return Err(de::Error::custom("incomplete spanned value"));
                    };
                    return Ok(SpannedNode(Spanned::new(start..end, value)));
                }
                if first.starts_with("$__toml_private") {
                    // A date-time: the loader turns this message into its own error.
                    return Err(de::Error::custom(format!("unsupported value {first}")));
                }
                // A plain table: the implicit table of a dotted key.
                let mut entries = Vec::new();
                let mut key = Some(first);
                while let Some(k) = key.take() {
                    let SpannedNode(v) = map.next_value()?;
                    entries.push((Spanned::new(v.span(), k), v));
                    key = map.next_key::<String>()?;
                }
                let span = entries.first().map(|(_, v)| v.span()).unwrap_or(0..0);
                Ok(SpannedNode(Spanned::new(span, Node::Table(entries))))
            }
        }
        deserializer.deserialize_struct(
            sp::NAME,
            &[sp::START_FIELD, sp::END_FIELD, sp::VALUE_FIELD],
            V,
        )
    }
}

/// One key of a table as written.
#[derive(Debug, Clone)]
pub enum Field<T> {
    /// Not in the file.
    Absent,
    /// In the file with the wrong TOML type; already reported.
    Invalid {
        /// Where the key is.
        key: Span,
    },
    /// In the file with the right type.
    Given {
        /// Where the key is.
        key: Span,
        /// The value and where it is.
        value: Spanned<T>,
    },
}

impl<T> Field<T> {
    /// The value, when given with the right type.
    pub fn value(&self) -> Option<&Spanned<T>> {
        match self {
            Field::Given { value, .. } => Some(value),
            _ => None,
        }
    }
    /// Where the key is, when present at all.
    pub fn key(&self) -> Option<Span> {
        match self {
            Field::Absent => None,
            Field::Invalid { key } | Field::Given { key, .. } => Some(key.clone()),
        }
    }
    /// Whether the key is in the file (with any type).
    pub fn is_present(&self) -> bool {
        !matches!(self, Field::Absent)
    }
}

/// A value that may be written as an integer or a string (sizes: `65536` or `"64KiB"`;
/// low water mark: `32768` or `"10%"`; block counts: `0` or `"chunks-touched"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntOrText {
    /// An integer.
    Int(i64),
    /// A string.
    Text(String),
}

pub use crate::keys::KeySet;
use crate::keys::TomlKind;

/// What a size key takes, for "must be X" messages.
pub const SIZE: &str = "a size: a string like \"64KiB\" or an integer number of bytes";

/// Reads one table's keys, remembering which were used so the rest can be reported.
#[derive(Debug)]
pub struct TableReader<'t> {
    keys: &'static KeySet,
    entries: &'t [(Spanned<String>, Spanned<Node>)],
    used: Vec<bool>,
}

impl<'t> TableReader<'t> {
    /// A reader of `entries`, a table whose keys are `keys`.
    pub fn new(
        keys: &'static KeySet,
        entries: &'t [(Spanned<String>, Spanned<Node>)],
    ) -> TableReader<'t> {
        TableReader {
            keys,
            entries,
            used: vec![false; entries.len()],
        }
    }

    /// The entry of `key`, marked used, read as a value of the TOML types `kinds`: the
    /// key and its type must be the table's description's (a reader cannot take a key
    /// the schema lacks, or read it as another type than the schema says).
    pub fn take(
        &mut self,
        key: &str,
        kinds: &[TomlKind],
    ) -> Option<&'t (Spanned<String>, Spanned<Node>)> {
        debug_assert!(
            self.keys
                .descriptions(key)
                .any(|k| kinds.iter().all(|t| k.ty.takes(*t))
                    && k.ty.toml_kinds().iter().all(|t| kinds.contains(t))),
            "{key} is not read as {kinds:?} in {:?}",
            self.keys
        );
        let i = self.entries.iter().position(|(k, _)| k.get_ref() == key)?;
        self.used[i] = true;
        Some(&self.entries[i])
    }

    /// Reads `key` with `conv`; a value of the wrong type is reported as not `expected`.
    pub fn field<T>(
        &mut self,
        key: &str,
        kinds: &[TomlKind],
        expected: &str,
        d: &mut Vec<Diagnostic>,
        conv: impl FnOnce(&'t Spanned<Node>) -> Option<T>,
    ) -> Field<T> {
        let Some((k, v)) = self.take(key, kinds) else {
            return Field::Absent;
        };
        match conv(v) {
            Some(value) => Field::Given {
                key: k.span(),
                value: Spanned::new(v.span(), value),
            },
            None => {
                d.push(wrong_type(key, expected, v));
                Field::Invalid { key: k.span() }
            }
        }
    }

    /// A string key.
    pub fn string(&mut self, key: &str, expected: &str, d: &mut Vec<Diagnostic>) -> Field<String> {
        self.field(key, &[TomlKind::String], expected, d, |v| {
            match v.get_ref() {
                Node::String(s) => Some(s.clone()),
                _ => None,
            }
        })
    }

    /// An integer key.
    pub fn integer(&mut self, key: &str, expected: &str, d: &mut Vec<Diagnostic>) -> Field<i64> {
        self.field(key, &[TomlKind::Integer], expected, d, |v| {
            match v.get_ref() {
                Node::Integer(i) => Some(*i),
                _ => None,
            }
        })
    }

    /// A boolean key.
    pub fn boolean(&mut self, key: &str, d: &mut Vec<Diagnostic>) -> Field<bool> {
        self.field(key, &[TomlKind::Boolean], "true or false", d, |v| {
            match v.get_ref() {
                Node::Boolean(b) => Some(*b),
                _ => None,
            }
        })
    }

    /// A key that takes an integer or a string.
    pub fn int_or_text(
        &mut self,
        key: &str,
        expected: &str,
        d: &mut Vec<Diagnostic>,
    ) -> Field<IntOrText> {
        let kinds = [TomlKind::Integer, TomlKind::String];
        self.field(key, &kinds, expected, d, |v| match v.get_ref() {
            Node::Integer(i) => Some(IntOrText::Int(*i)),
            Node::String(s) => Some(IntOrText::Text(s.clone())),
            _ => None,
        })
    }

    /// A size key: an integer of bytes or a string like "64KiB".
    pub fn size(&mut self, key: &str, d: &mut Vec<Diagnostic>) -> Field<IntOrText> {
        self.int_or_text(key, SIZE, d)
    }

    /// Reports every key not taken.
    pub fn finish(self, d: &mut Vec<Diagnostic>) {
        let all = self.keys.all();
        for ((k, _), used) in self.entries.iter().zip(self.used) {
            if used {
                continue;
            }
            let mut hint = String::new();
            if let Some(s) = suggest(k.get_ref(), &all) {
                hint.push_str(&format!("did you mean `{s}`? "));
            }
            hint.push_str(&self.keys.describe());
            d.push(
                Diagnostic::new(
                    k.span(),
                    format!("unknown key `{}` in {}", k.get_ref(), self.keys.table),
                )
                .with_hint(hint),
            );
        }
    }
}

/// "`key` must be EXPECTED, not TYPE" at the value.
pub fn wrong_type(key: &str, expected: &str, v: &Spanned<Node>) -> Diagnostic {
    Diagnostic::new(
        v.span(),
        format!(
            "`{key}` must be {expected}, not {}",
            v.get_ref().type_name()
        ),
    )
}

/// The entries of `v` if it is a table, else reports it as not one.
pub fn table_entries<'t>(
    v: &'t Spanned<Node>,
    what: &str,
    d: &mut Vec<Diagnostic>,
) -> Option<&'t [(Spanned<String>, Spanned<Node>)]> {
    match v.get_ref() {
        Node::Table(entries) => Some(entries),
        other => {
            d.push(Diagnostic::new(
                v.span(),
                format!("{what} must be a table, not {}", other.type_name()),
            ));
            None
        }
    }
}

/// Reads an array of tables (`[[pool]]`, `[[step]]`) with `read` for each table.
pub fn array_of_tables<T>(
    r: &mut TableReader<'_>,
    key: &str,
    d: &mut Vec<Diagnostic>,
    read: impl Fn(&Spanned<Node>, &[(Spanned<String>, Spanned<Node>)], &mut Vec<Diagnostic>) -> T,
) -> Field<Vec<T>> {
    let Some((k, v)) = r.take(key, &[TomlKind::Array]) else {
        return Field::Absent;
    };
    match v.get_ref() {
        Node::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                if let Some(entries) = table_entries(item, &format!("each `{key}`"), d) {
                    out.push(read(item, entries, d));
                }
            }
            Field::Given {
                key: k.span(),
                value: Spanned::new(v.span(), out),
            }
        }
        other => {
            let mut diag = Diagnostic::new(
                v.span(),
                format!(
                    "`{key}` must be an array of tables, not {}",
                    other.type_name()
                ),
            );
            if matches!(other, Node::Table(_)) {
                diag = diag.with_hint(format!("write `[[{key}]]`, not `[{key}]`"));
            }
            d.push(diag);
            Field::Invalid { key: k.span() }
        }
    }
}

/// The string of a string node (for [`read_array`]).
pub fn string_node(n: &Node) -> Option<String> {
    match n {
        Node::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// An array whose every element `conv` accepts; any other element makes the field
/// `Invalid` (each reported where it is).
pub fn read_array<T>(
    r: &mut TableReader<'_>,
    key: &str,
    expected: &str,
    element: &str,
    conv: impl Fn(&Node) -> Option<T>,
    d: &mut Vec<Diagnostic>,
) -> Field<Vec<Spanned<T>>> {
    let Some((k, v)) = r.take(key, &[TomlKind::Array]) else {
        return Field::Absent;
    };
    let Node::Array(items) = v.get_ref() else {
        d.push(wrong_type(key, expected, v));
        return Field::Invalid { key: k.span() };
    };
    let mut out = Vec::with_capacity(items.len());
    let mut ok = true;
    for item in items {
        match conv(item.get_ref()) {
            Some(x) => out.push(Spanned::new(item.span(), x)),
            None => {
                ok = false;
                d.push(Diagnostic::new(
                    item.span(),
                    format!(
                        "each of `{key}` must be {element}, not {}",
                        item.get_ref().type_name()
                    ),
                ));
            }
        }
    }
    if ok {
        Field::Given {
            key: k.span(),
            value: Spanned::new(v.span(), out),
        }
    } else {
        Field::Invalid { key: k.span() }
    }
}

/// Parses `text` into the tree; a TOML syntax error (or a date-time, which no input
/// file uses) as one diagnostic. `what` names the format in messages ("scenario files").
pub fn parse(text: &str, what: &str) -> Result<Spanned<Node>, Diagnostic> {
    toml::from_str(text).map_err(|e| toml_error(&e, what))
}

/// A TOML syntax error (or a value serde could not take) as a diagnostic. toml's
/// messages can run over several lines; ours are one line.
fn toml_error(e: &toml::de::Error, what: &str) -> Diagnostic {
    let span = e.span().unwrap_or(0..0);
    let message = e.message();
    // A date-time reaches `Node` as a map whose key has no span (see `Node`).
    if message.contains("$__toml_private_datetime") {
        return Diagnostic::new(span, format!("date-times are not used in {what}"))
            .with_hint("write durations and sizes as strings, like \"20m\" or \"64KiB\"");
    }
    Diagnostic::new(span, format!("invalid TOML: {}", fold_lines(message)))
}

/// Reads the input file at `path` (bounded: [`untrusted::limit::INPUT_TOML`]) as UTF-8
/// text. A file that cannot be read is one whole-file error; a byte that is not UTF-8 is
/// one error at its position (`hint` says what the file should be: "scenario files are
/// UTF-8 TOML").
pub fn read_input(path: &Path, hint: &str) -> Result<String, Positioned> {
    let bytes = untrusted::read(path, untrusted::limit::INPUT_TOML)
        .map_err(|e| Positioned::whole_file(path, format!("cannot read: {}", e.reason())))?;
    String::from_utf8(bytes).map_err(|e| {
        let err = e.utf8_error();
        let valid = &e.as_bytes()[..err.valid_up_to()];
        // The prefix is valid by definition; positions count its characters.
        let prefix = std::str::from_utf8(valid).unwrap_or_default();
        let bad = e.as_bytes().get(err.valid_up_to()).copied().unwrap_or(0);
        LineIndex::new(prefix).error(
            path,
            Diagnostic::new(
                prefix.len()..prefix.len(),
                format!("not UTF-8 text: byte 0x{bad:02x} is not valid here"),
            )
            .with_hint(hint),
        )
    })
}
