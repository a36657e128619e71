//! Scenario files as written: one struct per TOML table, one field per key, every value
//! with its position. Nothing is interpreted here beyond TOML types (no units, no
//! defaults, no cross references); that is `scenario::validate`'s job.
//!
//! The text is parsed once, with serde, into a tree of spanned values ([`Node`]); the
//! structs are then read from the tree by hand rather than by `#[derive(Deserialize)]`,
//! because serde stops at the first unknown key or wrong type and a user should see every
//! mistake in the file at once. Each table read checks its keys against a [`KeySet`] and
//! reports the ones left over.
//!
//! This file holds the tree ([`Node`]), the fields read from it ([`Field`]) and the table
//! reader; each kind of table (and its [`KeySet`]) has a file of its own.

mod expect;
mod fault;
mod pool;
mod scenario;
mod step;

#[cfg(test)]
mod tests;

pub(crate) use expect::RawExpect;
pub(crate) use fault::{RawFault, FAULT_KEYS};
pub(crate) use pool::{RawPool, POOL_KEYS};
pub(crate) use scenario::{RawScenario, TOP_KEYS};
pub(crate) use step::{RawStep, STEP_KEYS};

use crate::scenario::error::{suggest, Diagnostic};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_spanned::Spanned;
use std::fmt;
use std::ops::Range;
use thinbench_schema::keys::{KeySet, TomlKind};

/// Byte range in the scenario text.
pub(crate) type Span = Range<usize>;

/// The keys of `fields` that the table has, with where each is written.
pub(super) fn present<const N: usize>(
    fields: [(&'static str, Option<Span>); N],
) -> Vec<(&'static str, Span)> {
    fields
        .into_iter()
        .filter_map(|(k, s)| s.map(|s| (k, s)))
        .collect()
}

/// Any TOML value, with positions all the way down.
#[derive(Debug)]
pub(crate) enum Node {
    String(String),
    Integer(i64),
    /// No key takes a float, so only the type is kept.
    Float,
    Boolean(bool),
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
                // failure into "date-times are not used in scenario files".
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
pub(crate) enum Field<T> {
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
pub(crate) enum IntOrText {
    Int(i64),
    Text(String),
}

const SIZE: &str = "a size: a string like \"64KiB\" or an integer number of bytes";

/// Reads one table's keys, remembering which were used so the rest can be reported.
struct TableReader<'t> {
    keys: &'static KeySet,
    entries: &'t [(Spanned<String>, Spanned<Node>)],
    used: Vec<bool>,
}

impl<'t> TableReader<'t> {
    fn new(
        keys: &'static KeySet,
        entries: &'t [(Spanned<String>, Spanned<Node>)],
    ) -> TableReader<'t> {
        TableReader {
            keys,
            entries,
            used: vec![false; entries.len()],
        }
    }

    /// The entry of `key`, read as a value of the TOML types `kinds`: the key and its
    /// type must be the table's description's (a reader cannot take a key the schema
    /// lacks, or read it as another type than the schema says).
    fn take(
        &mut self,
        key: &str,
        kinds: &[TomlKind],
    ) -> Option<&'t (Spanned<String>, Spanned<Node>)> {
        debug_assert!(
            self.keys
                .key(key)
                .is_some_and(|k| kinds.iter().all(|t| k.ty.takes(*t))
                    && k.ty.toml_kinds().iter().all(|t| kinds.contains(t))),
            "{key} is not read as {kinds:?} in {:?}",
            self.keys
        );
        let i = self.entries.iter().position(|(k, _)| k.get_ref() == key)?;
        self.used[i] = true;
        Some(&self.entries[i])
    }

    /// Reads `key` with `conv`; a value of the wrong type is reported as not `expected`.
    fn field<T>(
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

    fn string(&mut self, key: &str, expected: &str, d: &mut Vec<Diagnostic>) -> Field<String> {
        self.field(key, &[TomlKind::String], expected, d, |v| {
            match v.get_ref() {
                Node::String(s) => Some(s.clone()),
                _ => None,
            }
        })
    }

    fn integer(&mut self, key: &str, expected: &str, d: &mut Vec<Diagnostic>) -> Field<i64> {
        self.field(key, &[TomlKind::Integer], expected, d, |v| {
            match v.get_ref() {
                Node::Integer(i) => Some(*i),
                _ => None,
            }
        })
    }

    fn boolean(&mut self, key: &str, d: &mut Vec<Diagnostic>) -> Field<bool> {
        self.field(key, &[TomlKind::Boolean], "true or false", d, |v| {
            match v.get_ref() {
                Node::Boolean(b) => Some(*b),
                _ => None,
            }
        })
    }

    fn int_or_text(
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

    fn size(&mut self, key: &str, d: &mut Vec<Diagnostic>) -> Field<IntOrText> {
        self.int_or_text(key, SIZE, d)
    }

    /// Reports every key not taken.
    fn finish(self, d: &mut Vec<Diagnostic>) {
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

fn wrong_type(key: &str, expected: &str, v: &Spanned<Node>) -> Diagnostic {
    Diagnostic::new(
        v.span(),
        format!(
            "`{key}` must be {expected}, not {}",
            v.get_ref().type_name()
        ),
    )
}

/// The entries of `v` if it is a table, else reports it as not one.
fn table_entries<'t>(
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
fn array_of_tables<T>(
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

fn string_node(n: &Node) -> Option<String> {
    match n {
        Node::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// An array whose every element `conv` accepts; any other element makes the field
/// `Invalid` (each reported where it is).
fn read_array<T>(
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
