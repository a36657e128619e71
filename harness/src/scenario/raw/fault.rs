//! `[[fault]]` tables: the keys every fault takes and those of each dm target.

use crate::scenario::error::Diagnostic;
use serde_spanned::Spanned;
use thinbench_schema::toml_tree::{
    present, read_array, string_node, Field, IntOrText, KeySet, Node, Span, TableReader,
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
