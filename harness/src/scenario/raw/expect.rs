//! `[step.expect]` tables: what a step expects to find after it ran.

use crate::scenario::error::Diagnostic;
use serde_spanned::Spanned;
use thinbench_schema::keys::{Key, KeySet, TomlKind, Ty};
use thinbench_schema::toml_tree::{table_entries, Field, IntOrText, Node, TableReader};

/// `[step.expect]` keys.
pub(crate) const EXPECT_KEYS: KeySet = KeySet {
    table: "[step.expect]",
    doc: "What a step expects to find after it ran; a mismatch fails the step.",
    tag: None,
    common: &[
        Key::new("data_blocks_allocated", Ty::IntOrWord(&["chunks-touched"]), "Data blocks the pool allocated during the step: a count (negative: freed), or \"chunks-touched\" (the built-in oracle)."),
        Key::new("mode", Ty::Enum(&["rw", "ro", "out_of_data_space", "Fail", "Error"]), "The pool's mode after the step, in the kernel's spelling."),
        Key::new("errors", Ty::Int { min: Some(0), max: None }, "Workload IO errors during the step."),
        Key::new("first_error", Ty::Str, "The workload's first error as an errno name, like \"ENOSPC\"."),
        Key::new("error_contains", Ty::Str, "The step must fail with an error containing this text."),
        Key::new("error", Ty::Str, "The step must fail with an error of this kind: an errno name like \"EBUSY\", \"refused\", \"unsupported\" or \"other\"."),
        Key::new("needs_check", Ty::Bool, "The pool's needs_check flag after the step."),
        Key::new("p50_at_least", Ty::Duration, "The workload's median latency is at least this (0s to 1m)."),
        Key::new("kernel_log", Ty::Str, "A kernel log line during the step contains this text."),
        Key::new("lower_data_blocks_allocated", Ty::Int { min: None, max: None }, "stacked_levels: data blocks the pool right below allocated during the step (negative: freed)."),
        Key::new("transaction_id", Ty::Int { min: Some(0), max: None }, "The pool's transaction id after the step (its status)."),
        Key::new("mapped", Ty::Map(&Ty::Int { min: Some(0), max: None }), "Data blocks each named thin maps after the step, as the kernel reports them: `{ thin = N }`."),
        Key::new("metadata_written", Ty::Bool, "Whether the metadata device took any write during the step (dm-thin writes metadata when it commits, and commits only a change): true, a commit happened; false, none."),
        Key::new("data_discard_bytes", Ty::Size, "Bytes the pool discarded on its data device during the step (\"0B\": none), from the block layer's counters."),
    ],
    variants: &[],
};

/// A step's `[step.expect]`.
#[derive(Debug)]
pub(crate) struct RawExpect {
    pub data_blocks_allocated: Field<IntOrText>,
    pub mode: Field<String>,
    pub errors: Field<i64>,
    pub first_error: Field<String>,
    pub error_contains: Field<String>,
    pub error: Field<String>,
    pub needs_check: Field<bool>,
    pub p50_at_least: Field<String>,
    pub kernel_log: Field<String>,
    pub lower_data_blocks_allocated: Field<i64>,
    pub transaction_id: Field<i64>,
    /// `mapped`: `(thin name, blocks)` as written; `Invalid` when any value is not an
    /// integer.
    pub mapped: Field<Vec<(Spanned<String>, Spanned<i64>)>>,
    pub data_discard_bytes: Field<IntOrText>,
    pub metadata_written: Field<bool>,
}

impl RawExpect {
    pub(super) fn read(
        entries: &[(Spanned<String>, Spanned<Node>)],
        d: &mut Vec<Diagnostic>,
    ) -> RawExpect {
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
            error: r.string(
                "error",
                "an error kind: an errno name like \"EBUSY\", \"refused\" or \"unsupported\"",
                d,
            ),
            needs_check: r.boolean("needs_check", d),
            p50_at_least: r.string("p50_at_least", "a duration string like \"10ms\"", d),
            kernel_log: r.string(
                "kernel_log",
                "a string a kernel log line of the step must contain",
                d,
            ),
            lower_data_blocks_allocated: r.integer(
                "lower_data_blocks_allocated",
                "an integer (data blocks; negative: freed)",
                d,
            ),
            transaction_id: r.integer(
                "transaction_id",
                "an integer (the pool's transaction id)",
                d,
            ),
            mapped: read_mapped(&mut r, d),
            data_discard_bytes: r.size("data_discard_bytes", d),
            metadata_written: r.boolean("metadata_written", d),
        };
        r.finish(d);
        expect
    }
}

/// `mapped = { thin = N, ... }`: a table of integers by thin name.
fn read_mapped(
    r: &mut TableReader<'_>,
    d: &mut Vec<Diagnostic>,
) -> Field<Vec<(Spanned<String>, Spanned<i64>)>> {
    let Some((k, v)) = r.take("mapped", &[TomlKind::Table]) else {
        return Field::Absent;
    };
    let Some(entries) = table_entries(v, "`mapped`", d) else {
        return Field::Invalid { key: k.span() };
    };
    let mut out = Vec::with_capacity(entries.len());
    let mut ok = true;
    for (name, n) in entries {
        match n.get_ref() {
            Node::Integer(i) => out.push((name.clone(), Spanned::new(n.span(), *i))),
            other => {
                d.push(Diagnostic::new(
                    n.span(),
                    format!(
                        "`mapped.{}` must be an integer number of data blocks, not {}",
                        name.get_ref(),
                        other.type_name()
                    ),
                ));
                ok = false;
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
