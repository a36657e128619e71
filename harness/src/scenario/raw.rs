//! Scenario files as written: one struct per TOML table, one field per key, every value
//! with its position. Nothing is interpreted here beyond TOML types (no units, no
//! defaults, no cross references); that is `plan::validate`'s job.
//!
//! The text is parsed once, with serde, into a tree of spanned values ([`Node`]); the
//! structs are then read from the tree by hand rather than by `#[derive(Deserialize)]`,
//! because serde stops at the first unknown key or wrong type and a user should see every
//! mistake in the file at once. Each table read checks its keys against a [`KeySet`] and
//! reports the ones left over.

use crate::scenario::error::{suggest, Diagnostic};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_spanned::Spanned;
use std::fmt;
use std::ops::Range;

/// Byte range in the scenario text.
pub(crate) type Span = Range<usize>;

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

/// The keys a kind of table takes: some always, some only for one variant (pool kind or
/// step action). The loader rejects keys in none of them; `validate` rejects keys of
/// another variant.
#[derive(Debug)]
pub(crate) struct KeySet {
    /// How the table is written, for messages (`[[pool]]`).
    pub table: &'static str,
    /// Keys every table of this kind takes.
    pub common: &'static [&'static str],
    /// `(variant, keys)`: keys that only that variant takes.
    pub variants: &'static [(&'static str, &'static [&'static str])],
}

impl KeySet {
    fn all(&self) -> Vec<&'static str> {
        let mut keys: Vec<&'static str> = self.common.to_vec();
        for (_, vk) in self.variants {
            for k in *vk {
                if !keys.contains(k) {
                    keys.push(k);
                }
            }
        }
        keys
    }
    /// Variants that take `key` (empty for common keys and unknown ones).
    pub fn variants_taking(&self, key: &str) -> Vec<&'static str> {
        self.variants
            .iter()
            .filter(|(_, keys)| keys.contains(&key))
            .map(|(v, _)| *v)
            .collect()
    }
    /// Whether `variant` takes `key` (common keys count).
    pub fn takes(&self, variant: &str, key: &str) -> bool {
        self.common.contains(&key)
            || self
                .variants
                .iter()
                .any(|(v, keys)| *v == variant && keys.contains(&key))
    }
    /// The keys `variant` takes, for hints.
    pub fn keys_of(&self, variant: &str) -> String {
        let mut keys: Vec<&str> = self.common.to_vec();
        for (v, vk) in self.variants {
            if *v == variant {
                keys.extend_from_slice(vk);
            }
        }
        keys.join(", ")
    }
    /// "valid keys in [[pool]]: ...; loop-lvm only: ...", for hints.
    pub fn describe(&self) -> String {
        let mut s = format!("valid keys in {}: {}", self.table, self.common.join(", "));
        for (variant, keys) in self.variants {
            s.push_str(&format!("; {variant} only: {}", keys.join(", ")));
        }
        s
    }
}

/// Top-level keys.
pub(crate) const TOP_KEYS: KeySet = KeySet {
    table: "the top level",
    common: &[
        "format",
        "name",
        "description",
        "timeout",
        "pool",
        "fault",
        "step",
    ],
    variants: &[],
};

/// `[[pool]]` keys; variants are pool kinds.
pub(crate) const POOL_KEYS: KeySet = KeySet {
    table: "[[pool]]",
    common: &[
        "name",
        "kind",
        "chunk_size",
        "low_water_mark",
        "block_zeroing",
        "discard_passdown",
        "no_space",
        "no_space_timeout",
        "min_free_space",
    ],
    variants: &[
        (
            "loop-lvm",
            &["data_size", "metadata_size", "dir", "allow_outside_workdir"],
        ),
        (
            "direct-lvm",
            &[
                "device",
                "device_size",
                "thinpool_percent",
                "metadata_percent",
                "metadata_size",
                "extent_size",
                "autoextend_threshold",
                "autoextend_percent",
            ],
        ),
    ],
};

/// `[[fault]]` keys; variants are dm targets.
pub(crate) const FAULT_KEYS: KeySet = KeySet {
    table: "[[fault]]",
    common: &["pool", "device", "target", "at", "until"],
    variants: &[
        ("delay", &["read", "write", "flush"]),
        (
            "flakey",
            &[
                "up",
                "down",
                "mode",
                "corrupt_byte",
                "corrupt_value",
                "corrupt_reads",
                "corrupt_flags",
            ],
        ),
        ("error", &["bad"]),
        ("log-writes", &["log_size"]),
        ("dust", &["block_size", "bad_blocks"]),
    ],
};

/// `[[step]]` keys; variants are actions.
pub(crate) const STEP_KEYS: KeySet = KeySet {
    table: "[[step]]",
    common: &["name", "action", "pools", "expect"],
    variants: &[
        ("create-thin", &["thin", "size", "id"]),
        ("snapshot", &["thin", "origin", "id"]),
        ("delete-thin", &["thin"]),
        (
            "small-write",
            &[
                "thin", "io_size", "pattern", "seed", "bytes", "count", "offset", "span",
            ],
        ),
        (
            "cow-overwrite",
            &["origin", "depth", "offset", "region", "io_size"],
        ),
        (
            "fill",
            &[
                "thin",
                "io_size",
                "bytes",
                "recover",
                "grow_by",
                "delete",
                "hold",
                "error_within",
                "autoextend",
            ],
        ),
        ("deferred-removal", &["thin", "holder", "hold"]),
        (
            "deferred-deletion",
            &["thin", "holder", "hold", "retry_interval"],
        ),
        ("delete", &["thin", "fs", "files", "snapshot", "method"]),
        (
            "metadata-fill",
            &["thin", "io_size", "span", "stride", "snapshots"],
        ),
        ("repair-metadata", &["grow_by"]),
        ("reboot", &["repair"]),
        ("replay", &["points"]),
        (
            "io",
            &[
                "thin",
                "engine",
                "rw",
                "io_size",
                "queue_depth",
                "jobs",
                "offset",
                "span",
                "runtime",
                "count",
                "seed",
                "job",
                "job_file",
            ],
        ),
        (
            "engine-vs-fio",
            &["thin", "span", "runtime", "rounds", "sampling_cost"],
        ),
    ],
};

/// `[step.expect]` keys.
pub(crate) const EXPECT_KEYS: KeySet = KeySet {
    table: "[step.expect]",
    common: &[
        "data_blocks_allocated",
        "mode",
        "errors",
        "first_error",
        "error_contains",
        "needs_check",
        "p50_at_least",
        "kernel_log",
    ],
    variants: &[],
};

const SIZE: &str = "a size: a string like \"64KiB\" or an integer number of bytes";

/// The whole file.
#[derive(Debug)]
pub(crate) struct RawScenario {
    /// Span of the document (for file-level errors: its start).
    pub span: Span,
    pub format: Field<i64>,
    pub name: Field<String>,
    pub description: Field<String>,
    pub timeout: Field<String>,
    /// `[[pool]]` tables (only the ones that are tables).
    pub pools: Field<Vec<RawPool>>,
    /// `[[fault]]` tables (only the ones that are tables).
    pub faults: Field<Vec<RawFault>>,
    /// `[[step]]` tables (only the ones that are tables).
    pub steps: Field<Vec<RawStep>>,
}

/// One `[[fault]]`.
#[derive(Debug)]
pub(crate) struct RawFault {
    /// Span of the table (its `[[fault]]` header).
    pub table: Span,
    pub pool: Field<String>,
    pub device: Field<String>,
    pub target: Field<String>,
    pub at: Field<String>,
    pub until: Field<String>,
    pub read: Field<String>,
    pub write: Field<String>,
    pub flush: Field<String>,
    pub up: Field<String>,
    pub down: Field<String>,
    pub mode: Field<String>,
    pub corrupt_byte: Field<i64>,
    pub corrupt_value: Field<i64>,
    pub corrupt_reads: Field<bool>,
    pub corrupt_flags: Field<i64>,
    /// Bad ranges (`"8MiB+64KiB"`, or `"all"`); `Invalid` when any is not a string.
    pub bad: Field<Vec<Spanned<String>>>,
    pub log_size: Field<IntOrText>,
    pub block_size: Field<IntOrText>,
    pub bad_blocks: Field<Vec<Spanned<i64>>>,
}

impl RawFault {
    /// Target-specific keys that are present: `(key, where)`.
    pub fn target_keys(&self) -> Vec<(&'static str, Span)> {
        [
            ("read", self.read.key()),
            ("write", self.write.key()),
            ("flush", self.flush.key()),
            ("up", self.up.key()),
            ("down", self.down.key()),
            ("mode", self.mode.key()),
            ("corrupt_byte", self.corrupt_byte.key()),
            ("corrupt_value", self.corrupt_value.key()),
            ("corrupt_reads", self.corrupt_reads.key()),
            ("corrupt_flags", self.corrupt_flags.key()),
            ("bad", self.bad.key()),
            ("log_size", self.log_size.key()),
            ("block_size", self.block_size.key()),
            ("bad_blocks", self.bad_blocks.key()),
        ]
        .into_iter()
        .filter_map(|(k, s)| s.map(|s| (k, s)))
        .collect()
    }
}

/// One `[[pool]]`.
#[derive(Debug)]
pub(crate) struct RawPool {
    /// Span of the table (its `[[pool]]` header).
    pub table: Span,
    pub name: Field<String>,
    pub kind: Field<String>,
    pub chunk_size: Field<IntOrText>,
    pub low_water_mark: Field<IntOrText>,
    pub block_zeroing: Field<bool>,
    pub discard_passdown: Field<bool>,
    pub no_space: Field<String>,
    pub no_space_timeout: Field<String>,
    pub min_free_space: Field<IntOrText>,
    pub data_size: Field<IntOrText>,
    pub metadata_size: Field<IntOrText>,
    pub dir: Field<String>,
    pub allow_outside_workdir: Field<bool>,
    pub device: Field<String>,
    pub device_size: Field<IntOrText>,
    pub thinpool_percent: Field<i64>,
    pub metadata_percent: Field<i64>,
    pub extent_size: Field<IntOrText>,
    pub autoextend_threshold: Field<i64>,
    pub autoextend_percent: Field<i64>,
}

impl RawPool {
    /// Kind-specific keys that are present: `(key, where)`.
    pub fn kind_keys(&self) -> Vec<(&'static str, Span)> {
        let fields: [(&'static str, Option<Span>); 11] = [
            ("data_size", self.data_size.key()),
            ("metadata_size", self.metadata_size.key()),
            ("dir", self.dir.key()),
            ("allow_outside_workdir", self.allow_outside_workdir.key()),
            ("device", self.device.key()),
            ("device_size", self.device_size.key()),
            ("thinpool_percent", self.thinpool_percent.key()),
            ("metadata_percent", self.metadata_percent.key()),
            ("extent_size", self.extent_size.key()),
            ("autoextend_threshold", self.autoextend_threshold.key()),
            ("autoextend_percent", self.autoextend_percent.key()),
        ];
        fields
            .into_iter()
            .filter_map(|(k, s)| s.map(|s| (k, s)))
            .collect()
    }
}

/// One `[[step]]`.
#[derive(Debug)]
pub(crate) struct RawStep {
    /// Span of the table (its `[[step]]` header).
    pub table: Span,
    pub name: Field<String>,
    pub action: Field<String>,
    /// Pool names; `Invalid` when any element is not a string.
    pub pools: Field<Vec<Spanned<String>>>,
    pub thin: Field<String>,
    pub origin: Field<String>,
    pub id: Field<i64>,
    pub size: Field<IntOrText>,
    pub io_size: Field<IntOrText>,
    pub pattern: Field<String>,
    pub seed: Field<i64>,
    pub bytes: Field<IntOrText>,
    pub count: Field<i64>,
    pub offset: Field<IntOrText>,
    pub span: Field<IntOrText>,
    pub depth: Field<i64>,
    pub region: Field<IntOrText>,
    pub recover: Field<String>,
    pub grow_by: Field<IntOrText>,
    pub delete: Field<String>,
    pub hold: Field<String>,
    pub error_within: Field<String>,
    pub autoextend: Field<bool>,
    pub holder: Field<String>,
    pub retry_interval: Field<String>,
    pub fs: Field<String>,
    pub files: Field<IntOrText>,
    pub snapshot: Field<bool>,
    pub method: Field<String>,
    pub stride: Field<i64>,
    pub snapshots: Field<i64>,
    pub repair: Field<bool>,
    pub points: Field<IntOrText>,
    pub engine: Field<String>,
    pub rw: Field<String>,
    pub queue_depth: Field<i64>,
    pub jobs: Field<i64>,
    pub runtime: Field<String>,
    pub job: Field<String>,
    pub job_file: Field<String>,
    pub rounds: Field<i64>,
    pub sampling_cost: Field<bool>,
    pub expect: Field<RawExpect>,
}

impl RawStep {
    /// Action-specific keys that are present: `(key, where)`.
    pub fn action_keys(&self) -> Vec<(&'static str, Span)> {
        let fields: [(&'static str, Option<Span>); 38] = [
            ("thin", self.thin.key()),
            ("origin", self.origin.key()),
            ("id", self.id.key()),
            ("size", self.size.key()),
            ("io_size", self.io_size.key()),
            ("pattern", self.pattern.key()),
            ("seed", self.seed.key()),
            ("bytes", self.bytes.key()),
            ("count", self.count.key()),
            ("offset", self.offset.key()),
            ("span", self.span.key()),
            ("depth", self.depth.key()),
            ("region", self.region.key()),
            ("recover", self.recover.key()),
            ("grow_by", self.grow_by.key()),
            ("delete", self.delete.key()),
            ("hold", self.hold.key()),
            ("error_within", self.error_within.key()),
            ("autoextend", self.autoextend.key()),
            ("holder", self.holder.key()),
            ("retry_interval", self.retry_interval.key()),
            ("fs", self.fs.key()),
            ("files", self.files.key()),
            ("snapshot", self.snapshot.key()),
            ("method", self.method.key()),
            ("stride", self.stride.key()),
            ("snapshots", self.snapshots.key()),
            ("repair", self.repair.key()),
            ("points", self.points.key()),
            ("engine", self.engine.key()),
            ("rw", self.rw.key()),
            ("queue_depth", self.queue_depth.key()),
            ("jobs", self.jobs.key()),
            ("runtime", self.runtime.key()),
            ("job", self.job.key()),
            ("job_file", self.job_file.key()),
            ("rounds", self.rounds.key()),
            ("sampling_cost", self.sampling_cost.key()),
        ];
        fields
            .into_iter()
            .filter_map(|(k, s)| s.map(|s| (k, s)))
            .collect()
    }
}

/// A step's `[step.expect]`.
#[derive(Debug)]
pub(crate) struct RawExpect {
    pub data_blocks_allocated: Field<IntOrText>,
    pub mode: Field<String>,
    pub errors: Field<i64>,
    pub first_error: Field<String>,
    pub error_contains: Field<String>,
    pub needs_check: Field<bool>,
    pub p50_at_least: Field<String>,
    pub kernel_log: Field<String>,
}

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

    fn take(&mut self, key: &str) -> Option<&'t (Spanned<String>, Spanned<Node>)> {
        debug_assert!(
            self.keys.all().contains(&key),
            "{key} not in {:?}",
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
        expected: &str,
        d: &mut Vec<Diagnostic>,
        conv: impl FnOnce(&'t Spanned<Node>) -> Option<T>,
    ) -> Field<T> {
        let Some((k, v)) = self.take(key) else {
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
        self.field(key, expected, d, |v| match v.get_ref() {
            Node::String(s) => Some(s.clone()),
            _ => None,
        })
    }

    fn integer(&mut self, key: &str, expected: &str, d: &mut Vec<Diagnostic>) -> Field<i64> {
        self.field(key, expected, d, |v| match v.get_ref() {
            Node::Integer(i) => Some(*i),
            _ => None,
        })
    }

    fn boolean(&mut self, key: &str, d: &mut Vec<Diagnostic>) -> Field<bool> {
        self.field(key, "true or false", d, |v| match v.get_ref() {
            Node::Boolean(b) => Some(*b),
            _ => None,
        })
    }

    fn int_or_text(
        &mut self,
        key: &str,
        expected: &str,
        d: &mut Vec<Diagnostic>,
    ) -> Field<IntOrText> {
        self.field(key, expected, d, |v| match v.get_ref() {
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
    let Some((k, v)) = r.take(key) else {
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

impl RawScenario {
    /// Reads the document tree; type errors and unknown keys go to `d`.
    pub fn from_tree(root: &Spanned<Node>, d: &mut Vec<Diagnostic>) -> RawScenario {
        let entries: &[(Spanned<String>, Spanned<Node>)] = match root.get_ref() {
            Node::Table(e) => e,
            // A TOML document is always a table.
            _ => &[],
        };
        let mut r = TableReader::new(&TOP_KEYS, entries);
        let raw = RawScenario {
            span: root.span(),
            format: r.integer("format", "an integer (the format version, 1)", d),
            name: r.string("name", "a string", d),
            description: r.string("description", "a string", d),
            timeout: r.string("timeout", "a duration string like \"20m\"", d),
            pools: array_of_tables(&mut r, "pool", d, RawPool::read),
            faults: array_of_tables(&mut r, "fault", d, RawFault::read),
            steps: array_of_tables(&mut r, "step", d, RawStep::read),
        };
        r.finish(d);
        raw
    }
}

impl RawPool {
    fn read(
        table: &Spanned<Node>,
        entries: &[(Spanned<String>, Spanned<Node>)],
        d: &mut Vec<Diagnostic>,
    ) -> RawPool {
        let mut r = TableReader::new(&POOL_KEYS, entries);
        let percent = "an integer percentage";
        let pool = RawPool {
            table: table.span(),
            name: r.string("name", "a string", d),
            kind: r.string("kind", "a string: \"loop-lvm\" or \"direct-lvm\"", d),
            chunk_size: r.size("chunk_size", d),
            low_water_mark: r.int_or_text(
                "low_water_mark",
                "an integer number of data blocks or a percentage string like \"10%\"",
                d,
            ),
            block_zeroing: r.boolean("block_zeroing", d),
            discard_passdown: r.boolean("discard_passdown", d),
            no_space: r.string("no_space", "a string: \"queue\" or \"error\"", d),
            no_space_timeout: r.string("no_space_timeout", "a duration string like \"60s\"", d),
            min_free_space: r.int_or_text("min_free_space", "a percentage like \"10%\"", d),
            data_size: r.size("data_size", d),
            metadata_size: r.size("metadata_size", d),
            dir: r.string("dir", "a path string", d),
            allow_outside_workdir: r.boolean("allow_outside_workdir", d),
            device: r.string(
                "device",
                "a string: \"auto\", \"loop\" or a path under /dev",
                d,
            ),
            device_size: r.size("device_size", d),
            thinpool_percent: r.integer("thinpool_percent", percent, d),
            metadata_percent: r.integer("metadata_percent", percent, d),
            extent_size: r.size("extent_size", d),
            autoextend_threshold: r.integer("autoextend_threshold", percent, d),
            autoextend_percent: r.integer("autoextend_percent", percent, d),
        };
        r.finish(d);
        pool
    }
}

impl RawFault {
    fn read(
        table: &Spanned<Node>,
        entries: &[(Spanned<String>, Spanned<Node>)],
        d: &mut Vec<Diagnostic>,
    ) -> RawFault {
        let mut r = TableReader::new(&FAULT_KEYS, entries);
        let delay = "a duration string like \"5ms\"";
        let fault = RawFault {
            table: table.span(),
            pool: r.string("pool", "a string (a pool name)", d),
            device: r.string("device", "a string: \"data\" or \"metadata\"", d),
            target: r.string(
                "target",
                "a string: \"delay\", \"flakey\", \"error\", \"log-writes\" or \"dust\"",
                d,
            ),
            at: r.string(
                "at",
                "a string: \"start\", \"step:NAME\", \"time:5s\", \"written:64MiB\" or \"usage:50%\"",
                d,
            ),
            until: r.string(
                "until",
                "a string: \"end\", \"step:NAME\" or \"after:5s\"",
                d,
            ),
            read: r.string("read", delay, d),
            write: r.string("write", delay, d),
            flush: r.string("flush", delay, d),
            up: r.string("up", "a duration string in whole seconds, like \"2s\"", d),
            down: r.string("down", "a duration string in whole seconds, like \"2s\"", d),
            mode: r.string(
                "mode",
                "a string: \"fail\", \"drop_writes\", \"error_writes\", \"error_reads\" or \"corrupt_bio_byte\"",
                d,
            ),
            corrupt_byte: r.integer("corrupt_byte", "an integer (1-based byte of the bio)", d),
            corrupt_value: r.integer("corrupt_value", "an integer from 0 to 255", d),
            corrupt_reads: r.boolean("corrupt_reads", d),
            corrupt_flags: r.integer("corrupt_flags", "an integer (bio flags to match; 0: all)", d),
            bad: read_array(
                &mut r,
                "bad",
                "an array of ranges like [\"8MiB+64KiB\"], or [\"all\"]",
                "a range string",
                string_node,
                d,
            ),
            log_size: r.size("log_size", d),
            block_size: r.size("block_size", d),
            bad_blocks: read_array(
                &mut r,
                "bad_blocks",
                "an array of block numbers, like [16, 17]",
                "an integer block number",
                |n| match n {
                    Node::Integer(i) => Some(*i),
                    _ => None,
                },
                d,
            ),
        };
        r.finish(d);
        fault
    }
}

impl RawStep {
    fn read(
        table: &Spanned<Node>,
        entries: &[(Spanned<String>, Spanned<Node>)],
        d: &mut Vec<Diagnostic>,
    ) -> RawStep {
        let mut r = TableReader::new(&STEP_KEYS, entries);
        let name = r.string("name", "a string", d);
        let action = r.string("action", "a string", d);
        let pools = read_pools(&mut r, d);
        let expect = match r.take("expect") {
            None => Field::Absent,
            Some((k, v)) => match table_entries(v, "`expect`", d) {
                Some(entries) => Field::Given {
                    key: k.span(),
                    value: Spanned::new(v.span(), RawExpect::read(entries, d)),
                },
                None => Field::Invalid { key: k.span() },
            },
        };
        let step = RawStep {
            table: table.span(),
            name,
            action,
            pools,
            thin: r.string("thin", "a string (a thin device name)", d),
            origin: r.string("origin", "a string (a thin device name)", d),
            id: r.integer("id", "an integer (a 24-bit thin device id)", d),
            size: r.size("size", d),
            io_size: r.size("io_size", d),
            pattern: r.string("pattern", "a string: \"random\" or \"sequential\"", d),
            seed: r.integer("seed", "an integer", d),
            bytes: r.size("bytes", d),
            count: r.integer("count", "an integer number of IOs", d),
            offset: r.size("offset", d),
            span: r.size("span", d),
            depth: r.integer("depth", "an integer (snapshot chain depth)", d),
            region: r.size("region", d),
            recover: r.string(
                "recover",
                "a string: \"none\", \"grow\" or \"delete-thin\"",
                d,
            ),
            grow_by: r.size("grow_by", d),
            delete: r.string("delete", "a string (a thin device name)", d),
            hold: r.string("hold", "a duration string like \"2s\"", d),
            error_within: r.string("error_within", "a duration string like \"5s\"", d),
            autoextend: r.boolean("autoextend", d),
            holder: r.string(
                "holder",
                "a string: \"fd\", \"mount\" or \"mount-namespace\"",
                d,
            ),
            retry_interval: r.string("retry_interval", "a duration string like \"1s\"", d),
            fs: r.string("fs", "a string: \"xfs\" or \"ext4\"", d),
            files: r.size("files", d),
            snapshot: r.boolean("snapshot", d),
            method: r.string(
                "method",
                "a string: \"none\", \"fstrim\", \"discard-mount\" or \"blkdiscard\"",
                d,
            ),
            stride: r.integer("stride", "an integer number of chunks", d),
            snapshots: r.integer("snapshots", "an integer (the most snapshots to take)", d),
            repair: r.boolean("repair", d),
            points: r.int_or_text("points", "\"all\" or an integer number of replay points", d),
            engine: r.string("engine", "a string: \"thinbench\" or \"fio\"", d),
            rw: r.string(
                "rw",
                "a string: \"randwrite\", \"write\", \"randread\" or \"read\"",
                d,
            ),
            queue_depth: r.integer("queue_depth", "an integer (IOs in flight per job)", d),
            jobs: r.integer("jobs", "an integer (jobs, each a thread)", d),
            runtime: r.string("runtime", "a duration string like \"2s\"", d),
            job: r.string("job", "a string: a fio job file's text", d),
            job_file: r.string("job_file", "a string: a path to a fio job file", d),
            rounds: r.integer("rounds", "an integer (A B pairs per case)", d),
            sampling_cost: r.boolean("sampling_cost", d),
            expect,
        };
        r.finish(d);
        step
    }
}

/// `pools = ["a", "b"]`: an array of strings; any non-string makes the field `Invalid`.
fn read_pools(r: &mut TableReader<'_>, d: &mut Vec<Diagnostic>) -> Field<Vec<Spanned<String>>> {
    read_array(
        r,
        "pools",
        "an array of pool names, like [\"loop\"]",
        "a pool name string",
        string_node,
        d,
    )
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
    let Some((k, v)) = r.take(key) else {
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

impl RawExpect {
    fn read(entries: &[(Spanned<String>, Spanned<Node>)], d: &mut Vec<Diagnostic>) -> RawExpect {
        let mut r = TableReader::new(&EXPECT_KEYS, entries);
        let expect = RawExpect {
            data_blocks_allocated: r.int_or_text(
                "data_blocks_allocated",
                "an integer or \"chunks-touched\"",
                d,
            ),
            mode: r.string(
                "mode",
                "a string: \"rw\", \"ro\", \"out_of_data_space\", \"Fail\" or \"Error\"",
                d,
            ),
            errors: r.integer("errors", "an integer", d),
            first_error: r.string("first_error", "an errno name like \"ENOSPC\"", d),
            error_contains: r.string(
                "error_contains",
                "a string the step's error must contain",
                d,
            ),
            needs_check: r.boolean("needs_check", d),
            p50_at_least: r.string("p50_at_least", "a duration string like \"10ms\"", d),
            kernel_log: r.string(
                "kernel_log",
                "a string a kernel log line of the step must contain",
                d,
            ),
        };
        r.finish(d);
        expect
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
