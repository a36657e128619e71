//! The top level of a scenario file: its own keys and the arrays of tables under it.

use super::fault::FAULT_KEYS;
use super::pool::POOL_KEYS;
use super::step::STEP_KEYS;
use super::{RawFault, RawPool, RawStep};
use crate::scenario::error::Diagnostic;
use serde_spanned::Spanned;
use thinbench_schema::keys::{Key, KeySet, Ty};
use thinbench_schema::toml_tree::{array_of_tables, Field, Node, Span, TableReader};

/// Top-level keys.
pub(crate) const TOP_KEYS: KeySet = KeySet {
    table: "the top level",
    doc: "A thinbench scenario: pools, fault layers and the steps run on each pool (docs/scenario-format.md).",
    tag: None,
    common: &[
        Key::new("format", Ty::Int { min: Some(1), max: Some(1) }, "The scenario format version: 1.").required(),
        Key::new("name", Ty::Str, "The scenario's name, an identifier (default: the file name without .toml)."),
        Key::new("description", Ty::Str, "Free text for reports."),
        Key::new("timeout", Ty::Duration, "The whole run's limit, 1s to 24h (default \"30m\")."),
        Key::new("sample_interval", Ty::Duration, "How often the sampler reads each pool's status, 10ms to 10s (default \"250ms\")."),
        Key::new("clock", Ty::Enum(&["wall", "instructions"]), "The VM guest's clock: \"wall\" (default) or \"instructions\"."),
        Key::new("kernels", Ty::Array(&Ty::Str), "Debian kernels to run on, one boot each, like [\"debian:6.1\", \"debian:6.12\"]; at most 8."),
        Key::new("pool", Ty::Tables(&POOL_KEYS), "The pools, 1 to 8: write each as a [[pool]] table.").required(),
        Key::new("fault", Ty::Tables(&FAULT_KEYS), "Fault layers under pools' devices: [[fault]] tables."),
        Key::new("step", Ty::Tables(&STEP_KEYS), "The steps, 1 to 10000, run in file order: [[step]] tables.").required(),
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
