//! `[[pool]]` tables: the keys every pool takes and those of each pool kind.

use crate::scenario::error::Diagnostic;
use serde_spanned::Spanned;
use thinbench_schema::keys::{Key, KeySet, Ty};
use thinbench_schema::toml_tree::{present, Field, IntOrText, Node, Span, TableReader};

/// `[[pool]]` keys; variants are pool kinds.
pub(crate) const POOL_KEYS: KeySet = KeySet {
    table: "[[pool]]",
    doc: "A thin pool, built as Docker's devicemapper driver built it (docs/scenario-format.md).",
    tag: Some("kind"),
    common: &[
        Key::new("name", Ty::Str, "The pool's name (an identifier), unique among pools.").required(),
        Key::new("kind", Ty::Enum(&["loop-lvm", "direct-lvm"]), "How the pool is built: \"loop-lvm\" (sparse files on loop devices) or \"direct-lvm\" (an lvm thin pool).").required(),
        Key::new("chunk_size", Ty::Size, "Data block size: a multiple of 64KiB, 64KiB to 1GiB (default 64KiB loop-lvm, 512KiB direct-lvm)."),
        Key::new("low_water_mark", Ty::IntOrPercent, "Free data blocks below which dm-thin raises an event: blocks, or \"N%\" of the pool (default 32768)."),
        Key::new("block_zeroing", Ty::Bool, "Zero the rest of a new chunk on a partial write (default false: skip_block_zeroing)."),
        Key::new("discard_passdown", Ty::Bool, "Pass discards down to the data device (default true)."),
        Key::new("ignore_discard", Ty::Bool, "The pool takes no discards: its thins refuse them (default false; direct-lvm: `--discards ignore`)."),
        Key::new("no_space", Ty::Enum(&["queue", "error"]), "When data space runs out: \"queue\" IO (default) or \"error\" it."),
        Key::new("no_space_timeout", Ty::Duration, "dm_thin_pool's no_space_timeout for the run, 0s (forever) to 1h."),
        Key::new("min_free_space", Ty::IntOrPercent, "Docker's dm.min_free_space: snapshots refused below this free share, 0% to 99% (default \"10%\")."),
        Key::new("backing", Ty::Enum(&["disk", "ram"]), "Where data and metadata live: \"disk\" (default) or \"ram\"."),
    ],
    variants: &[
        (
            "loop-lvm",
            &[
                Key::new("data_size", Ty::Size, "Size of the sparse data file, 1MiB to 16TiB (default 100GiB)."),
                Key::new("metadata_size", Ty::Size, "Size of the metadata file (loop-lvm, 1MiB to 16GiB, default 2GiB) or LV (direct-lvm, instead of metadata_percent)."),
                Key::new("dir", Ty::Str, "Where the two files go, relative to the run's work dir."),
                Key::new("allow_outside_workdir", Ty::Bool, "Let `dir` leave the work dir (with --allow-host-paths)."),
                Key::new("stacked_levels", Ty::Int { min: Some(1), max: Some(3) }, "The pool's data device is a thin of a loop-lvm pool built below it, 1 to 3 levels deep (default: none)."),
                Key::new("lower_discard_passdown", Ty::Bool, "stacked_levels: the lower pools pass discards down (default true)."),
                Key::new("lower_ignore_discard", Ty::Bool, "stacked_levels: the lower pools ignore discards (default false)."),
                Key::new("data_stripes", Ty::Int { min: Some(2), max: Some(8) }, "The data device is a dm `striped` target over this many sparse files on loop devices, 2 to 8 (default: one file, no stripes)."),
                Key::new("data_stripe_size", Ty::Size, "data_stripes: bytes of one file before the next, a power of two, 4KiB to 64MiB (default 256KiB)."),
                Key::new("expect_error", Ty::Str, "The pool's construction must fail with an error of this kind (an errno name like \"EINVAL\"): `chunk_size` and `metadata_size` then go to the kernel as written, and no step runs on it."),
            ],
        ),
        (
            "direct-lvm",
            &[
                Key::new("device", Ty::Str, "The PV: \"auto\" (a scratch disk in the VM), \"loop\", or a path under /dev (default \"auto\")."),
                Key::new("device_size", Ty::Size, "Size of an \"auto\" or \"loop\" device, 64MiB to 16TiB (default 20GiB)."),
                Key::new("thinpool_percent", Ty::Int { min: Some(1), max: Some(100) }, "Share of the VG for the data LV (default 95)."),
                Key::new("metadata_percent", Ty::Int { min: Some(1), max: Some(100) }, "Share of the VG for the metadata LV (default 1)."),
                Key::new("metadata_size", Ty::Size, "Size of the metadata file (loop-lvm, 1MiB to 16GiB, default 2GiB) or LV (direct-lvm, instead of metadata_percent)."),
                Key::new("extent_size", Ty::Size, "vgcreate -s: a power of two, 1MiB to 1GiB (default 4MiB)."),
                Key::new("autoextend_threshold", Ty::Int { min: Some(50), max: Some(100) }, "lvm's thin_pool_autoextend_threshold, 50 to 100 (100: off; default 80)."),
                Key::new("autoextend_percent", Ty::Int { min: Some(0), max: Some(100) }, "lvm's thin_pool_autoextend_percent, 0 to 100 (default 20)."),
                Key::new("vgextend_size", Ty::Size, "A second PV of this size (loop-backed) added to the VG once the pool is made: Docker's vgextend, room to autoextend into, 64MiB to 16TiB."),
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
    pub ignore_discard: Field<bool>,
    pub no_space: Field<String>,
    pub no_space_timeout: Field<String>,
    pub min_free_space: Field<IntOrText>,
    pub backing: Field<String>,
    pub data_size: Field<IntOrText>,
    pub metadata_size: Field<IntOrText>,
    pub dir: Field<String>,
    pub allow_outside_workdir: Field<bool>,
    pub stacked_levels: Field<i64>,
    pub lower_discard_passdown: Field<bool>,
    pub lower_ignore_discard: Field<bool>,
    pub data_stripes: Field<i64>,
    pub data_stripe_size: Field<IntOrText>,
    pub device: Field<String>,
    pub device_size: Field<IntOrText>,
    pub thinpool_percent: Field<i64>,
    pub metadata_percent: Field<i64>,
    pub extent_size: Field<IntOrText>,
    pub autoextend_threshold: Field<i64>,
    pub autoextend_percent: Field<i64>,
    pub vgextend_size: Field<IntOrText>,
    pub expect_error: Field<String>,
}

impl RawPool {
    /// Kind-specific keys that are present: `(key, where)`.
    pub fn kind_keys(&self) -> Vec<(&'static str, Span)> {
        let fields: [(&'static str, Option<Span>); 18] = [
            ("expect_error", self.expect_error.key()),
            ("data_size", self.data_size.key()),
            ("metadata_size", self.metadata_size.key()),
            ("dir", self.dir.key()),
            ("allow_outside_workdir", self.allow_outside_workdir.key()),
            ("stacked_levels", self.stacked_levels.key()),
            ("lower_discard_passdown", self.lower_discard_passdown.key()),
            ("lower_ignore_discard", self.lower_ignore_discard.key()),
            ("data_stripes", self.data_stripes.key()),
            ("data_stripe_size", self.data_stripe_size.key()),
            ("device", self.device.key()),
            ("device_size", self.device_size.key()),
            ("thinpool_percent", self.thinpool_percent.key()),
            ("metadata_percent", self.metadata_percent.key()),
            ("extent_size", self.extent_size.key()),
            ("autoextend_threshold", self.autoextend_threshold.key()),
            ("autoextend_percent", self.autoextend_percent.key()),
            ("vgextend_size", self.vgextend_size.key()),
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
            ignore_discard: r.boolean("ignore_discard", d),
            no_space: r.string("no_space", "a string: \"queue\" or \"error\"", d),
            no_space_timeout: r.string("no_space_timeout", "a duration string like \"60s\"", d),
            min_free_space: r.int_or_text("min_free_space", "a percentage like \"10%\"", d),
            backing: r.string("backing", "a string: \"disk\" or \"ram\"", d),
            data_size: r.size("data_size", d),
            metadata_size: r.size("metadata_size", d),
            dir: r.string("dir", "a path string", d),
            allow_outside_workdir: r.boolean("allow_outside_workdir", d),
            stacked_levels: r.integer("stacked_levels", "an integer, 1 to 3", d),
            lower_discard_passdown: r.boolean("lower_discard_passdown", d),
            lower_ignore_discard: r.boolean("lower_ignore_discard", d),
            data_stripes: r.integer("data_stripes", "an integer, 2 to 8", d),
            data_stripe_size: r.size("data_stripe_size", d),
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
            vgextend_size: r.size("vgextend_size", d),
            expect_error: r.string(
                "expect_error",
                "an error kind: an errno name like \"EINVAL\"",
                d,
            ),
        };
        r.finish(d);
        pool
    }
}
