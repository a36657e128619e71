//! The top level of a scenario file: its own keys and the arrays of tables under it.

use super::{RawFault, RawPool, RawStep};
use crate::scenario::error::Diagnostic;
use serde_spanned::Spanned;
use thinbench_schema::toml_tree::{array_of_tables, Field, KeySet, Node, Span, TableReader};

/// Top-level keys.
pub(crate) const TOP_KEYS: KeySet = KeySet {
    table: "the top level",
    common: &[
        "format",
        "name",
        "description",
        "timeout",
        "sample_interval",
        "clock",
        "kernels",
        "pool",
        "fault",
        "step",
    ],
    variants: &[],
};

/// The whole file.
#[derive(Debug)]
pub(crate) struct RawScenario {
    /// Span of the document (for file-level errors: its start).
    pub span: Span,
    pub format: Field<i64>,
    pub name: Field<String>,
    pub description: Field<String>,
    pub timeout: Field<String>,
    pub sample_interval: Field<String>,
    pub clock: Field<String>,
    pub kernels: Field<Vec<Spanned<String>>>,
    /// `[[pool]]` tables (only the ones that are tables).
    pub pools: Field<Vec<RawPool>>,
    /// `[[fault]]` tables (only the ones that are tables).
    pub faults: Field<Vec<RawFault>>,
    /// `[[step]]` tables (only the ones that are tables).
    pub steps: Field<Vec<RawStep>>,
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
            sample_interval: r.string("sample_interval", "a duration string like \"250ms\"", d),
            clock: r.string("clock", "a string: \"wall\" or \"instructions\"", d),
            kernels: thinbench_schema::toml_tree::read_array(
                &mut r,
                "kernels",
                "an array of kernel names, like [\"debian:6.1\", \"debian:6.12\"]",
                "a kernel name string",
                thinbench_schema::toml_tree::string_node,
                d,
            ),
            pools: array_of_tables(&mut r, "pool", d, RawPool::read),
            faults: array_of_tables(&mut r, "fault", d, RawFault::read),
            steps: array_of_tables(&mut r, "step", d, RawStep::read),
        };
        r.finish(d);
        raw
    }
}
