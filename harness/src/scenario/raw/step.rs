//! `[[step]]` tables: the keys every step takes and those of each action.

use super::expect::EXPECT_KEYS;
use super::RawExpect;
use crate::scenario::error::Diagnostic;
use serde_spanned::Spanned;
use thinbench_schema::keys::{Key, KeySet, TomlKind, Ty};
use thinbench_schema::toml_tree::{
    present, read_array, string_node, table_entries, Field, IntOrText, Node, Span, TableReader,
};

const THIN: Key = Key::new(
    "thin",
    Ty::Str,
    "The thin device the step works on (an identifier; required).",
);
const ORIGIN: Key = Key::new(
    "origin",
    Ty::Str,
    "An existing thin to snapshot or overwrite (required).",
);
const ID: Key = Key::new(
    "id",
    Ty::Int {
        min: Some(0),
        max: Some(16_777_215),
    },
    "dm-thin's 24-bit device id, loop-lvm only (default: the lowest free id).",
);
const IO_SIZE: Key = Key::new("io_size", Ty::Size, "Bytes per IO, a multiple of 512.");
const SEED: Key = Key::new(
    "seed",
    Ty::Int {
        min: None,
        max: None,
    },
    "Seed of the random offsets (default 1).",
);
const BYTES: Key = Key::new("bytes", Ty::Size, "How much to write.");
const COUNT: Key = Key::new(
    "count",
    Ty::Int {
        min: None,
        max: None,
    },
    "How many IOs.",
);
const OFFSET: Key = Key::new(
    "offset",
    Ty::Size,
    "Start of the region written (default 0).",
);
const SPAN: Key = Key::new(
    "span",
    Ty::Size,
    "Length of the region (default: to the end of the thin).",
);
const GROW_BY: Key = Key::new(
    "grow_by",
    Ty::Size,
    "How much to grow the pool's device by.",
);
const HOLD: Key = Key::new(
    "hold",
    Ty::Duration,
    "How long the state is held (default \"2s\").",
);
const HOLDER: Key = Key::new(
    "holder",
    Ty::Enum(&["fd", "mount", "mount-namespace"]),
    "What keeps the thin busy (default \"fd\").",
);
const DEVICE: Key = Key::new(
    "device",
    Ty::Str,
    "A device of the case made by a create-device step (an identifier).",
);
const BACKGROUND: Key = Key::new(
    "background",
    Ty::Bool,
    "Run while the following steps run, until a `wait` step names this one (default false).",
);
const RUNTIME: Key = Key::new(
    "runtime",
    Ty::Duration,
    "How long each job runs, 100ms to 1h.",
);

/// `[[step]]` keys; variants are actions.
pub(crate) const STEP_KEYS: KeySet = KeySet {
    table: "[[step]]",
    doc: "One step of the scenario, run on each pool in turn (docs/scenario-format.md, \"Steps\").",
    tag: Some("action"),
    common: &[
        Key::new(
            "name",
            Ty::Str,
            "The step's name, an identifier (default step<index>-<action>).",
        ),
        Key::new(
            "action",
            Ty::Enum(&[
                "create-thin",
                "snapshot",
                "delete-thin",
                "small-write",
                "cow-overwrite",
                "fill",
                "deferred-removal",
                "deferred-deletion",
                "delete",
                "metadata-fill",
                "repair-metadata",
                "reboot",
                "replay",
                "io",
                "engine-vs-fio",
                "create-device",
                "verify",
                "wait",
                "message",
                "suspend",
                "resume",
                "activate",
                "deactivate",
                "reload",
                "resize",
                "discard",
                "mkfs",
                "mount",
                "umount",
                "file",
                "verify-files",
                "fsck",
                "metadata-tool",
                "dm-table",
                "idle",
            ]),
            "What the step does.",
        )
        .required(),
        Key::new(
            "pools",
            Ty::Array(&Ty::Str),
            "The pools it runs on (default: every pool).",
        ),
        Key::new(
            "expect",
            Ty::Table(&EXPECT_KEYS),
            "What the step expects to find after it ran.",
        ),
        Key::new(
            "await_mode",
            Ty::Enum(&["rw", "ro", "out_of_data_space", "Fail", "Error"]),
            "Start the step once the pool reports this mode (polled, at most 5 minutes): a background step's IO gets it there.",
        ),
    ],
    variants: &[
        (
            "create-thin",
            &[
                THIN,
                Key::new(
                    "size",
                    Ty::Size,
                    "Virtual size, 1MiB to 16TiB (default 10GiB, Docker's base device).",
                ),
                ID,
                Key::new(
                    "external_origin",
                    Ty::Str,
                    "A device of the case (create-device) the thin reads where it has no block of its own; loop-lvm only.",
                ),
            ],
        ),
        ("snapshot", &[THIN, ORIGIN, ID]),
        ("delete-thin", &[THIN]),
        (
            "small-write",
            &[
                THIN,
                IO_SIZE,
                Key::new(
                    "pattern",
                    Ty::Enum(&["random", "sequential"]),
                    "Order of the IOs (default \"random\").",
                ),
                SEED,
                Key::new(
                    "stride",
                    Ty::Int {
                        min: Some(1),
                        max: Some(1_048_576),
                    },
                    "IO slots from one IO's start to the next's (default 1; sequential only): 16 with 4KiB IOs writes one IO per 64KiB chunk.",
                ),
                BYTES,
                COUNT,
                OFFSET,
                SPAN,
                BACKGROUND,
                Key::new(
                    "busy_wait_per_io",
                    Ty::Duration,
                    "Spin this long inside each write's timed window (1us to 1s): a slowdown of known cost for validating a performance gate (`thinbench gate-trial`); never in a benchmark you mean to measure.",
                ),
            ],
        ),
        (
            "cow-overwrite",
            &[
                ORIGIN,
                Key::new(
                    "depth",
                    Ty::Int {
                        min: Some(1),
                        max: Some(16),
                    },
                    "Snapshots in the chain, 1 to 16 (default 1).",
                ),
                OFFSET,
                Key::new(
                    "region",
                    Ty::Size,
                    "The region written and overwritten (default 16MiB).",
                ),
                IO_SIZE,
            ],
        ),
        (
            "fill",
            &[
                THIN,
                IO_SIZE,
                BYTES,
                Key::new(
                    "recover",
                    Ty::Enum(&["none", "grow", "delete-thin"]),
                    "What ends the pool being full (default \"none\").",
                ),
                GROW_BY,
                Key::new(
                    "delete",
                    Ty::Str,
                    "The thin deleted by recover = \"delete-thin\".",
                ),
                HOLD,
                Key::new(
                    "error_within",
                    Ty::Duration,
                    "The first error must come within this long of the pool filling.",
                ),
                Key::new(
                    "autoextend",
                    Ty::Bool,
                    "direct-lvm: apply lvm's autoextend policy (default false).",
                ),
            ],
        ),
        ("deferred-removal", &[THIN, HOLDER, HOLD]),
        (
            "deferred-deletion",
            &[
                THIN,
                HOLDER,
                HOLD,
                Key::new(
                    "retry_interval",
                    Ty::Duration,
                    "How often a deferred delete is retried (default \"1s\").",
                ),
            ],
        ),
        (
            "delete",
            &[
                THIN,
                Key::new(
                    "fs",
                    Ty::Enum(&["xfs", "ext4"]),
                    "The filesystem made on the thin (default \"xfs\").",
                ),
                Key::new(
                    "files",
                    Ty::Size,
                    "Bytes of 1MiB files written, 1MiB to 16GiB (default 32MiB).",
                ),
                Key::new(
                    "snapshot",
                    Ty::Bool,
                    "Snapshot the thin before the files are deleted (default false).",
                ),
                Key::new(
                    "method",
                    Ty::Enum(&["none", "fstrim", "discard-mount", "blkdiscard"]),
                    "How the space is given back (default \"fstrim\").",
                ),
            ],
        ),
        (
            "metadata-fill",
            &[
                THIN,
                IO_SIZE,
                SPAN,
                Key::new(
                    "stride",
                    Ty::Int {
                        min: Some(1),
                        max: Some(1_048_576),
                    },
                    "Chunks between two writes in a snapshot (default 64).",
                ),
                Key::new(
                    "snapshots",
                    Ty::Int {
                        min: Some(1),
                        max: Some(1000),
                    },
                    "The most snapshots to take (default 32).",
                ),
            ],
        ),
        ("repair-metadata", &[GROW_BY]),
        (
            "reboot",
            &[Key::new(
                "repair",
                Ty::Bool,
                "Repair the metadata after the reboot.",
            )],
        ),
        (
            "replay",
            &[Key::new(
                "points",
                Ty::IntOrWord(&["all"]),
                "Replay points to check: \"all\" or a count.",
            )],
        ),
        (
            "io",
            &[
                THIN,
                Key::new(
                    "device",
                    Ty::Str,
                    "A device of the case (create-device) the IO goes to instead of a thin: a baseline (its writes replace the device's stamps).",
                ),
                Key::new(
                    "engine",
                    Ty::Enum(&["thinbench", "fio"]),
                    "Who issues the IO (default \"thinbench\").",
                ),
                Key::new(
                    "path",
                    Ty::Str,
                    "engine = \"fio\": a file of the thin's (or device's) mounted filesystem the IO goes to, relative to its root; fio lays it out (`span` bytes) and it is removed after.",
                ),
                Key::new(
                    "rw",
                    Ty::Enum(&["randwrite", "write", "randread", "read"]),
                    "The IO pattern (required without a job).",
                ),
                IO_SIZE,
                Key::new(
                    "queue_depth",
                    Ty::Int {
                        min: Some(1),
                        max: Some(thinbench_workloads::io::MAX_QUEUE_DEPTH as i64),
                    },
                    "IOs in flight per job, 1 to 1024 (default 1).",
                ),
                Key::new(
                    "jobs",
                    Ty::Int {
                        min: Some(1),
                        max: Some(thinbench_workloads::io::MAX_JOBS as i64),
                    },
                    "Jobs, each a thread with its own ring, 1 to 64 (default 1).",
                ),
                OFFSET,
                SPAN,
                RUNTIME,
                COUNT,
                SEED,
                Key::new("job", Ty::Str, "engine = \"fio\": a fio job file's text."),
                Key::new(
                    "job_file",
                    Ty::Str,
                    "engine = \"fio\": a fio job file, relative to the scenario's directory.",
                ),
            ],
        ),
        (
            "engine-vs-fio",
            &[
                THIN,
                SPAN,
                RUNTIME,
                Key::new(
                    "rounds",
                    Ty::Int {
                        min: None,
                        max: None,
                    },
                    "A B pairs per case.",
                ),
                Key::new(
                    "sampling_cost",
                    Ty::Bool,
                    "Also measure the sampler's cost.",
                ),
            ],
        ),
        (
            "create-device",
            &[
                DEVICE,
                Key::new(
                    "kind",
                    Ty::Enum(&["linear", "striped"]),
                    "The device's dm target: \"linear\" (the default: a loop device of a scratch file under it) or \"striped\" (over `stripes` of them).",
                ),
                Key::new(
                    "stripes",
                    Ty::Int {
                        min: Some(2),
                        max: Some(8),
                    },
                    "kind = \"striped\": devices striped over, 2 to 8 (default 2).",
                ),
                Key::new(
                    "stripe_size",
                    Ty::Size,
                    "kind = \"striped\": bytes on one device before the next, a power of two, 4KiB to 64MiB (default 256KiB).",
                ),
                Key::new("size", Ty::Size, "The device's size, 1MiB to 16GiB (required)."),
                Key::new(
                    "over",
                    Ty::Array(&Ty::Str),
                    "Thins of the case the device is made over instead of scratch files: one for \"linear\", one a stripe for \"striped\" (not stamped when made).",
                ),
                Key::new(
                    "over_device",
                    Ty::Str,
                    "A device of the case a linear device is made over instead of a scratch file (not stamped when made).",
                ),
                Key::new(
                    "over_pool",
                    Ty::Bool,
                    "A linear device over the pool's own device instead of a scratch file: read only (the pool passes its IO to its data device).",
                ),
            ],
        ),
        ("verify", &[THIN, DEVICE]),
        (
            "wait",
            &[Key::new(
                "step",
                Ty::Str,
                "The background step waited for (required).",
            )],
        ),
        ("message", &super::control::MESSAGE_KEYS),
        ("suspend", &super::control::SUSPEND_KEYS),
        ("resume", &super::control::RESUME_KEYS),
        ("activate", &super::control::ACTIVATE_KEYS),
        ("deactivate", &[THIN]),
        (
            "reload",
            &[
                Key::new("no_space", Ty::Enum(&["queue", "error"]), "The pool's new no-space policy."),
                Key::new("block_zeroing", Ty::Bool, "Block zeroing on or off."),
                Key::new("discard_passdown", Ty::Bool, "Discard passdown on or off."),
                Key::new("ignore_discard", Ty::Bool, "The ignore_discard feature on or off (dm-thin refuses the change: EINVAL)."),
                Key::new("read_only", Ty::Bool, "The read_only feature on or off."),
                Key::new("low_water_mark", Ty::IntOrPercent, "A new low water mark: blocks, or \"N%\" of the pool."),
                Key::new("chunk_size", Ty::Size, "A new data block size (a live pool keeps its own: the step is refused)."),
            ],
        ),
        (
            "resize",
            &[
                Key::new("device", Ty::Enum(&["data", "metadata"]), "The device resized (required)."),
                Key::new("by", Ty::Size, "Grow by this much."),
                Key::new("to", Ty::Size, "Resize to this size (smaller than now: a shrink, which is refused)."),
                Key::new("online", Ty::Bool, "Resize with the pool up (default true; false: pool and thins down around it)."),
            ],
        ),
        ("discard", super::discard_keys::DISCARD_KEYS),
        ("mkfs", super::fs_keys::MKFS_KEYS),
        ("mount", super::fs_keys::MOUNT_KEYS),
        ("umount", super::fs_keys::THIN_ONLY),
        ("file", super::fs_keys::FILE_KEYS),
        ("verify-files", super::fs_keys::VERIFY_FILES_KEYS),
        ("fsck", super::fs_keys::THIN_ONLY),
        ("metadata-tool", super::tool_keys::METADATA_TOOL_KEYS),
        ("dm-table", super::dm_table_keys::DM_TABLE_KEYS),
        ("idle", &[Key::new("hold", Ty::Duration, "How long nothing is done, 100ms to 10m (default \"2s\").")]),
    ],
};

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
    pub busy_wait_per_io: Field<String>,
    pub tool: Field<String>,
    pub metadata: Field<String>,
    pub same_as: Field<String>,
    pub from: Field<String>,
    pub damage_at: Field<IntOrText>,
    pub damage_bytes: Field<IntOrText>,
    /// metadata-tool: generated metadata's layout.
    pub generate: Field<String>,
    /// metadata-tool: generated metadata's thin names.
    pub thins: Field<Vec<Spanned<String>>>,
    pub background: Field<bool>,
    pub await_mode: Field<String>,
    pub step: Field<String>,
    pub device: Field<String>,
    pub kind: Field<String>,
    pub external_origin: Field<String>,
    pub text: Field<String>,
    pub flush: Field<bool>,
    /// suspend/resume of a thin: the pool resumed from another thread after this long.
    pub pool_resumes_after: Field<String>,
    pub read_only: Field<bool>,
    pub no_space: Field<String>,
    pub block_zeroing: Field<bool>,
    pub discard_passdown: Field<bool>,
    pub ignore_discard: Field<bool>,
    pub low_water_mark: Field<IntOrText>,
    pub chunk_size: Field<IntOrText>,
    pub by: Field<IntOrText>,
    pub to: Field<IntOrText>,
    pub online: Field<bool>,
    /// discard: bytes per discard.
    pub length: Field<IntOrText>,
    /// discard's `stride`, a size (other actions' `stride` is a count: `stride`).
    pub stride_size: Field<IntOrText>,
    pub stripes: Field<i64>,
    pub stripe_size: Field<IntOrText>,
    /// mkfs: whose options.
    pub profile: Field<String>,
    /// mount: `-o discard`.
    pub discard: Field<bool>,
    /// mount: `-o nouuid`.
    pub nouuid: Field<bool>,
    /// file: the path inside the filesystem.
    pub path: Field<String>,
    /// file: the operation.
    pub op: Field<String>,
    /// file: rename's new path.
    pub new_path: Field<String>,
    /// file: fsync afterwards.
    pub fsync: Field<bool>,
    /// verify-files: claimed contents.
    pub contents: Field<super::fs_keys::RawContents>,
    /// verify-files: claimed absent paths.
    pub absent: Field<Vec<Spanned<String>>>,
    /// dm-table: the table and how it is loaded.
    pub dm_table: super::RawDmTable,
    /// create-device: the thins it is made over.
    pub over: Field<Vec<Spanned<String>>>,
    /// create-device: the device of the case it is made over.
    pub over_device: Field<String>,
    /// create-device: made over the pool's device.
    pub over_pool: Field<bool>,
    pub expect: Field<RawExpect>,
}

impl RawStep {
    /// Action-specific keys that are present: `(key, where)`.
    pub fn action_keys(&self) -> Vec<(&'static str, Span)> {
        let fields: [(&'static str, Option<Span>); 82] = [
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
            ("busy_wait_per_io", self.busy_wait_per_io.key()),
            ("tool", self.tool.key()),
            ("metadata", self.metadata.key()),
            ("same_as", self.same_as.key()),
            ("from", self.from.key()),
            ("damage_at", self.damage_at.key()),
            ("damage_bytes", self.damage_bytes.key()),
            ("generate", self.generate.key()),
            ("thins", self.thins.key()),
            ("background", self.background.key()),
            ("await_mode", self.await_mode.key()),
            ("step", self.step.key()),
            ("device", self.device.key()),
            ("kind", self.kind.key()),
            ("external_origin", self.external_origin.key()),
            ("text", self.text.key()),
            ("flush", self.flush.key()),
            ("pool_resumes_after", self.pool_resumes_after.key()),
            ("read_only", self.read_only.key()),
            ("no_space", self.no_space.key()),
            ("block_zeroing", self.block_zeroing.key()),
            ("discard_passdown", self.discard_passdown.key()),
            ("ignore_discard", self.ignore_discard.key()),
            ("low_water_mark", self.low_water_mark.key()),
            ("chunk_size", self.chunk_size.key()),
            ("by", self.by.key()),
            ("to", self.to.key()),
            ("online", self.online.key()),
            ("length", self.length.key()),
            ("stride", self.stride_size.key()),
            ("stripes", self.stripes.key()),
            ("stripe_size", self.stripe_size.key()),
            ("profile", self.profile.key()),
            ("discard", self.discard.key()),
            ("nouuid", self.nouuid.key()),
            ("path", self.path.key()),
            ("op", self.op.key()),
            ("new_path", self.new_path.key()),
            ("fsync", self.fsync.key()),
            ("contents", self.contents.key()),
            ("absent", self.absent.key()),
            ("over", self.over.key()),
            ("over_device", self.over_device.key()),
            ("over_pool", self.over_pool.key()),
        ];
        let mut v = present(fields);
        v.extend(self.dm_table.keys());
        v
    }

    pub(super) fn read(
        table: &Spanned<Node>,
        entries: &[(Spanned<String>, Spanned<Node>)],
        d: &mut Vec<Diagnostic>,
    ) -> RawStep {
        let mut r = TableReader::new(&STEP_KEYS, entries);
        let name = r.string("name", "a string", d);
        let action = r.string("action", "a string", d);
        let pools = read_pools(&mut r, d);
        // discard's `stride` is a size; the other actions' a count.
        let sized_stride = action.value().is_some_and(|a| a.get_ref() == "discard");
        let expect = match r.take("expect", &[TomlKind::Table]) {
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
            fs: r.string("fs", "a string: \"ext4\" or \"xfs\"", d),
            files: r.size("files", d),
            snapshot: r.boolean("snapshot", d),
            method: r.string(
                "method",
                "a string: \"none\", \"fstrim\", \"discard-mount\" or \"blkdiscard\"",
                d,
            ),
            stride: if sized_stride {
                Field::Absent
            } else {
                r.integer("stride", "an integer number of chunks", d)
            },
            stride_size: if sized_stride {
                r.size("stride", d)
            } else {
                Field::Absent
            },
            stripes: r.integer("stripes", "an integer (devices striped over)", d),
            stripe_size: r.size("stripe_size", d),
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
            busy_wait_per_io: r.string("busy_wait_per_io", "a duration string like \"20us\"", d),
            tool: r.string("tool", "a string: \"thin_dump\", \"thin_delta\", …", d),
            metadata: r.string("metadata", "a string: \"snapshot\" or \"live\"", d),
            same_as: r.string(
                "same_as",
                "a string (the name of an earlier thin_dump step)",
                d,
            ),
            from: r.string(
                "from",
                "a string (the name of an earlier thin_dump step)",
                d,
            ),
            damage_at: r.size("damage_at", d),
            damage_bytes: r.size("damage_bytes", d),
            generate: r.string("generate", "a string: \"linear\" or \"random\"", d),
            thins: read_array(
                &mut r,
                "thins",
                "an array of thin names, like [\"g0\", \"g1\"]",
                "a thin name string",
                string_node,
                d,
            ),
            background: r.boolean("background", d),
            await_mode: r.string("await_mode", "a string (a pool mode)", d),
            step: r.string("step", "a string (the name of a background step)", d),
            device: r.string(
                "device",
                "a string: \"pool\", \"data\", \"metadata\", a thin's or a case device's name",
                d,
            ),
            kind: r.string("kind", "a string: \"linear\"", d),
            external_origin: r.string("external_origin", "a string (a device name)", d),
            text: r.string("text", "a string: a dm-thin pool message", d),
            flush: r.boolean("flush", d),
            pool_resumes_after: r.string("pool_resumes_after", "a duration string, like \"2s\"", d),
            read_only: r.boolean("read_only", d),
            no_space: r.string("no_space", "a string: \"queue\" or \"error\"", d),
            block_zeroing: r.boolean("block_zeroing", d),
            discard_passdown: r.boolean("discard_passdown", d),
            ignore_discard: r.boolean("ignore_discard", d),
            low_water_mark: r.int_or_text(
                "low_water_mark",
                "a number of data blocks or a percentage string like \"10%\"",
                d,
            ),
            chunk_size: r.size("chunk_size", d),
            by: r.size("by", d),
            to: r.size("to", d),
            online: r.boolean("online", d),
            length: r.size("length", d),
            profile: r.string("profile", "a string: \"docker\" or \"defaults\"", d),
            discard: r.boolean("discard", d),
            nouuid: r.boolean("nouuid", d),
            path: r.string(
                "path",
                "a string: a path relative to the filesystem's root",
                d,
            ),
            op: r.string(
                "op",
                "a string: \"write\", \"append\", \"modify\", \"rename\" or \"delete\"",
                d,
            ),
            new_path: r.string(
                "new_path",
                "a string: a path relative to the filesystem's root",
                d,
            ),
            fsync: r.boolean("fsync", d),
            contents: super::fs_keys::read_contents(&mut r, d),
            absent: read_array(
                &mut r,
                "absent",
                "an array of paths, like [\"snap1.txt\"]",
                "a path string",
                string_node,
                d,
            ),
            dm_table: super::RawDmTable::read(&mut r, d),
            over: read_array(
                &mut r,
                "over",
                "an array of thin names, like [\"s0\", \"s1\"]",
                "a thin name string",
                string_node,
                d,
            ),
            over_device: r.string("over_device", "a string (a device name)", d),
            over_pool: r.boolean("over_pool", d),
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
