//! `[[step]]` tables: the keys every step takes and those of each action.

use super::{
    present, read_array, string_node, table_entries, Field, IntOrText, KeySet, Node, Span,
};
use super::{RawExpect, TableReader};
use crate::scenario::error::Diagnostic;
use serde_spanned::Spanned;

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
                "thin", "io_size", "pattern", "seed", "stride", "bytes", "count", "offset", "span",
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
        present(fields)
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
