//! The keys of `dm-table`: a table written by hand, for the kernel's checks of tables.

use crate::scenario::error::Diagnostic;
use serde_spanned::Spanned;
use thinbench_schema::keys::{Key, Ty};
use thinbench_schema::toml_tree::{present, read_array, string_node, Field, Span, TableReader};

/// `dm-table` keys.
pub(super) const DM_TABLE_KEYS: &[Key] = &[
    Key::new(
        "device",
        Ty::Str,
        "Where the table goes (required): \"pool\" (only with `expect.error`), a device of the case (a `create-device` step's), or with `create = true` a new name for a device made from the table and removed when the step ends.",
    ),
    Key::new(
        "thin",
        Ty::Str,
        "Instead of `device` and `lines`: a thin whose own live table is loaded again, into its inactive slot (`resume = false`: left there for a later `resume` of the thin to swap in) or resumed.",
    ),
    Key::new(
        "lines",
        Ty::Array(&Ty::Str),
        "The table, a line each: \"<start> <length> <target> <args>\" with targets linear, striped, thin-pool, thin, zero and error; devices only as {device:NAME}, {pool}, {pool-metadata} or {pool-data}, lengths also as {sectors:…} of one (required).",
    ),
    Key::new(
        "create",
        Ty::Bool,
        "Make a new device from the table instead of loading it into one (default false).",
    ),
    Key::new(
        "resume",
        Ty::Bool,
        "Resume after the load, making the table live (default true; false: a refusal at load time is what is tested).",
    ),
    Key::new(
        "data_blocks",
        Ty::Int {
            min: Some(0),
            max: None,
        },
        "The thin-pool the table makes must report this many data blocks (its table's length over its block size, whatever its data device holds).",
    ),
    Key::new(
        "wipe",
        Ty::Array(&Ty::Str),
        "Devices of the case whose first 4KiB are zeroed before the table is loaded (as the peer suites wipe a metadata device a pool is to format).",
    ),
];

/// What `dm-table` takes beyond `device`.
#[derive(Debug)]
pub(crate) struct RawDmTable {
    pub lines: Field<Vec<Spanned<String>>>,
    pub wipe: Field<Vec<Spanned<String>>>,
    pub create: Field<bool>,
    pub resume: Field<bool>,
    pub data_blocks: Field<i64>,
}

impl RawDmTable {
    pub(super) fn read(r: &mut TableReader<'_>, d: &mut Vec<Diagnostic>) -> RawDmTable {
        RawDmTable {
            lines: read_array(
                r,
                "lines",
                "an array of table lines, like [\"0 {sectors:l2} linear {device:l2} 0\"]",
                "a table line string",
                string_node,
                d,
            ),
            wipe: read_array(
                r,
                "wipe",
                "an array of device names, like [\"md\"]",
                "a device name string",
                string_node,
                d,
            ),
            create: r.boolean("create", d),
            resume: r.boolean("resume", d),
            data_blocks: r.integer("data_blocks", "an integer number of data blocks", d),
        }
    }

    /// The keys present, with where.
    pub fn keys(&self) -> Vec<(&'static str, Span)> {
        present([
            ("lines", self.lines.key()),
            ("wipe", self.wipe.key()),
            ("create", self.create.key()),
            ("resume", self.resume.key()),
            ("data_blocks", self.data_blocks.key()),
        ])
    }
}
