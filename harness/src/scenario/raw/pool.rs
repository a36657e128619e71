//! `[[pool]]` tables: the keys every pool takes and those of each pool kind.

use crate::scenario::error::Diagnostic;
use serde_spanned::Spanned;
use thinbench_schema::toml_tree::{present, Field, IntOrText, KeySet, Node, Span, TableReader};

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
        "backing",
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
    pub backing: Field<String>,
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
        present(fields)
    }

    pub(super) fn read(
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
            backing: r.string("backing", "a string: \"disk\" or \"ram\"", d),
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
