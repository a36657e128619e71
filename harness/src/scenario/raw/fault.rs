//! `[[fault]]` tables: the keys every fault takes and those of each dm target.

use crate::scenario::error::Diagnostic;
use serde_spanned::Spanned;
use thinbench_schema::keys::{Key, KeySet, Ty};
use thinbench_schema::toml_tree::{
    present, read_array, string_node, Field, IntOrText, Node, Span, TableReader,
};

/// A delay of one kind of IO (`delay` only).
const fn delay(name: &'static str, doc: &'static str) -> Key {
    Key::new(name, Ty::Duration, doc)
}

/// `[[fault]]` keys; variants are dm targets.
pub(crate) const FAULT_KEYS: KeySet = KeySet {
    table: "[[fault]]",
    doc: "A fault layer (a dm target) under one of a pool's devices: a loop-lvm pool's loop devices, or the PV of a direct-lvm pool, confined to its _tdata or _tmeta LV (flakey, delay, error there; docs/faults.md).",
    tag: Some("target"),
    common: &[
        Key::new("pool", Ty::Str, "The pool whose device the layer sits under (loop-lvm, or direct-lvm for flakey, delay and error).").required(),
        Key::new("device", Ty::Enum(&["data", "metadata", "pool"]), "Which device: \"data\" or \"metadata\" (direct-lvm: the pool's _tdata or _tmeta LV on the PV; \"pool\" for log-writes only, loop-lvm).").required(),
        Key::new("target", Ty::Enum(&["delay", "flakey", "error", "log-writes", "dust"]), "The dm target of the layer.").required(),
        Key::new("at", Ty::Text { pattern: "^(start|step:.+|time:.+|written:.+|usage:.+)$", example: "start" }, "When it goes into force: \"start\", \"step:NAME\", \"time:5s\", \"written:64MiB\" or \"usage:50%\" (default \"start\")."),
        Key::new("until", Ty::Text { pattern: "^(end|step:.+|after:.+)$", example: "end" }, "When it goes out of force: \"end\", \"step:NAME\" or \"after:2s\" (default \"end\")."),
    ],
    variants: &[
        (
            "delay",
            &[
                delay("read", "Delay of reads, whole milliseconds up to 1m (default 0ms)."),
                delay("write", "Delay of writes, whole milliseconds up to 1m (default 0ms)."),
                delay("flush", "Delay of flushes (dm-delay 1.2 or later; default the write delay)."),
            ],
        ),
        (
            "flakey",
            &[
                Key::new("up", Ty::Duration, "Interval the device works, whole seconds (default 0s)."),
                Key::new("down", Ty::Duration, "Interval the device fails, whole seconds (default 24h)."),
                Key::new("mode", Ty::Enum(&["fail", "drop_writes", "error_writes", "error_reads", "corrupt_bio_byte"]), "What happens while down (default \"fail\": every IO errors)."),
                Key::new("corrupt_byte", Ty::Int { min: None, max: None }, "corrupt_bio_byte: the 1-based byte of the bio to corrupt (default 1)."),
                Key::new("corrupt_value", Ty::Int { min: None, max: None }, "corrupt_bio_byte: the value written there, 0 to 255 (default 0)."),
                Key::new("corrupt_reads", Ty::Bool, "corrupt_bio_byte: corrupt reads instead of writes (default false)."),
                Key::new("corrupt_flags", Ty::Int { min: None, max: None }, "corrupt_bio_byte: bio flags to match (default 0: all)."),
            ],
        ),
        (
            "error",
            &[Key::new("bad", Ty::Array(&Ty::Str), "Ranges that fail, \"OFFSET+LENGTH\" in whole sectors (\"8MiB+64KiB\") from the device's (direct-lvm: the LV's) start, or [\"all\"]; at most 1024.")],
        ),
        (
            "log-writes",
            &[Key::new("log_size", Ty::Size, "Size of the log device, a sparse file (default 256MiB).")],
        ),
        (
            "dust",
            &[
                Key::new("block_size", Ty::Size, "dm-dust's block size (default 4096)."),
                Key::new("bad_blocks", Ty::Array(&Ty::Int { min: None, max: None }), "Block numbers that fail reads (default [])."),
            ],
        ),
    ],
};

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
        present([
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
        ])
    }

    pub(super) fn read(
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
