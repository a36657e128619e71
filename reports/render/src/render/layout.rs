//! Lays a [`ReportModel`] or [`Comparison`] out as a [`Document`]: which sections,
//! tables and figures, in which order, with which words. Pure: no I/O, no drawing.

use super::document::{Block, Cell, Document, Figure, Table, Tone};
use super::format;
use super::plots::{
    pool_colour, tint, BarPanel, BarsPlot, CurvePlot, HLine, Line, PlotSpec, PointMark, Series,
    TimelinePlot, VMark, ALERT, LWM, MIN_FREE,
};
use crate::analysis::compare::{Comparison, Verdict, NOISE_PCT};
use crate::analysis::stats::Percentile;
use crate::model::{is_phase_metric, pct, MarkKind, MetricRow, PoolModel, ReportModel, RunInfo};
use std::collections::HashSet;
use thinbench_schema::record::{Better, MetricKind, PoolKind, Status};
use thinbench_schema::units::{Bytes, META_BLOCK_SIZE};

/// The note shown whenever a run ran under qemu TCG.
pub(crate) const TCG_NOTE: &str =
    "Timings under TCG are emulated: compare them only within the same environment.";

/// Hands out unique ids (file stems, anchors).
#[derive(Default)]
struct Ids(HashSet<String>);

impl Ids {
    fn get(&mut self, base: &str) -> String {
        let slug = slug(base);
        let mut id = slug.clone();
        let mut n = 2;
        while !self.0.insert(id.clone()) {
            id = format!("{slug}-{n}");
            n += 1;
        }
        id
    }
}

pub(crate) fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let t = out.trim_matches('-');
    if t.is_empty() {
        "x".into()
    } else {
        t.to_owned()
    }
}

fn status_cell(s: Status) -> Cell {
    let tone = match s {
        Status::Passed => Tone::Good,
        Status::Skipped => Tone::Warn,
        Status::Failed | Status::Incomplete => Tone::Bad,
    };
    Cell::text(status_str(s)).tone(tone)
}

pub(crate) fn status_str(s: Status) -> &'static str {
    match s {
        Status::Passed => "passed",
        Status::Failed => "failed",
        Status::Skipped => "skipped",
        Status::Incomplete => "incomplete",
    }
}

fn better_str(b: Better) -> &'static str {
    match b {
        Better::Lower => "lower",
        Better::Higher => "higher",
        Better::Neither => "neither",
    }
}

fn kind_str(k: MetricKind) -> &'static str {
    match k {
        MetricKind::Exact => "exact",
        MetricKind::Timing => "timing",
    }
}

struct Builder {
    blocks: Vec<Block>,
    csv_only: Vec<Table>,
    ids: Ids,
}

impl Builder {
    fn new() -> Builder {
        Builder {
            blocks: Vec::new(),
            csv_only: Vec::new(),
            ids: Ids::default(),
        }
    }
    fn h(&mut self, level: u8, text: &str) {
        let anchor = self.ids.get(&format!("sec-{text}"));
        self.blocks.push(Block::Heading {
            level,
            text: text.to_owned(),
            anchor,
        });
    }
    fn text(&mut self, t: impl Into<String>) {
        self.blocks.push(Block::Text(t.into()));
    }
    fn callout(&mut self, tone: Tone, t: impl Into<String>) {
        self.blocks.push(Block::Callout {
            tone,
            text: t.into(),
        });
    }
    fn table(&mut self, id: &str, caption: &str, header: &[(&str, bool)]) -> Table {
        Table::new(&self.ids.get(id), caption, header)
    }
    /// A figure; it shares its table's id (the PNG and the CSV differ in extension).
    fn figure(&mut self, caption: &str, plot: PlotSpec, table: Table) {
        self.blocks.push(Block::Figure(Box::new(Figure {
            id: table.id.clone(),
            caption: caption.to_owned(),
            plot,
            table,
        })));
    }
    fn doc(self, stem: &'static str, title: String) -> Document {
        Document {
            stem,
            title,
            blocks: self.blocks,
            csv_only: self.csv_only,
        }
    }
}

fn report_title(m: &ReportModel) -> String {
    let mut names: Vec<&str> = m.runs.iter().map(|r| r.scenario.as_str()).collect();
    names.dedup();
    if names.is_empty() {
        "thinbench report".into()
    } else {
        format!("thinbench report: {}", names.join(", "))
    }
}

/// Lay out a report.
pub(crate) fn report(m: &ReportModel) -> Document {
    let mut b = Builder::new();
    let overall = m
        .runs
        .iter()
        .map(|r| r.status)
        .fold(Status::Passed, Status::worst);
    if m.runs.is_empty() {
        b.callout(Tone::Warn, "No runs given: nothing to report.");
    }
    if m.runs.iter().any(RunInfo::is_tcg) {
        b.callout(Tone::Warn, TCG_NOTE);
    }
    if !m.runs.is_empty() {
        let tone = if overall == Status::Passed {
            Tone::Good
        } else {
            Tone::Bad
        };
        b.callout(
            tone,
            format!(
                "Status: {}. Expectations: {} checked, {} passed, {} failed, {} skipped.",
                status_str(overall),
                m.expectations.total,
                m.expectations.passed,
                m.expectations.failed,
                m.expectations.skipped
            ),
        );
    }
    for w in &m.warnings {
        b.callout(Tone::Warn, w.clone());
    }

    runs_section(&mut b, m);
    verdict_section(&mut b, m);
    pools_section(&mut b, m);
    usage_section(&mut b, m);
    workload_sections(&mut b, m);
    kind_section(&mut b, m);
    cow_section(&mut b, m);
    space_section(&mut b, m);
    model_section(&mut b, m);
    metrics_section(&mut b, m);
    b.doc("report", report_title(m))
}

fn env_rows(r: &RunInfo) -> Vec<(String, String)> {
    let e = &r.environment;
    let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "n/a".into());
    let mut rows = vec![
        ("Run ID".into(), r.run_id.clone()),
        ("Scenario".into(), r.scenario.clone()),
    ];
    if let Some(d) = &r.description {
        rows.push(("Description".into(), d.clone()));
    }
    rows.extend([
        ("Status".into(), status_str(r.status).to_owned()),
        ("Started".into(), r.started_at.clone()),
        (
            "Finished".into(),
            r.finished_at
                .clone()
                .unwrap_or_else(|| "did not finish".into()),
        ),
        ("Environment".into(), e.kind.clone()),
        ("Kernel".into(), e.kernel.clone()),
        ("Device-mapper driver".into(), opt(&e.dm_version)),
        ("thin-pool target".into(), opt(&e.thin_pool_target_version)),
        ("thin target".into(), opt(&e.thin_target_version)),
        ("Accel".into(), opt(&e.accel)),
        ("QEMU".into(), opt(&e.qemu_version)),
        ("CPU (pools' kernel)".into(), e.cpu_model.clone()),
        ("Host CPU".into(), e.host_cpu_model.clone()),
        ("CPUs".into(), e.cpus.to_string()),
        (
            "thinbench".into(),
            match &e.thinbench_commit {
                Some(c) => format!("{} ({c})", e.thinbench_version),
                None => e.thinbench_version.clone(),
            },
        ),
    ]);
    for (tool, v) in &e.tools {
        rows.push((format!("Tool: {tool}"), v.clone()));
    }
    if let Some(err) = &r.error {
        rows.push(("Run error".into(), err.clone()));
    }
    rows.push(("Results".into(), r.dir.display().to_string()));
    rows
}

fn runs_section(b: &mut Builder, m: &ReportModel) {
    b.h(2, "Runs");
    for r in &m.runs {
        let id = b.ids.get(&format!("run-{}", r.run_id));
        b.blocks.push(Block::KeyValues {
            id,
            title: format!("Run {}", r.run_id),
            rows: env_rows(r),
            colour: None,
        });
    }
}

fn verdict_section(b: &mut Builder, m: &ReportModel) {
    b.h(2, "Verdicts");
    let mut t = b.table(
        "cases",
        "Cases: one per pool",
        &[
            ("pool", false),
            ("kind", false),
            ("case", false),
            ("status", false),
            ("steps run", true),
        ],
    );
    for p in &m.pools {
        t.rows.push(vec![
            Cell::text(&p.label),
            Cell::text(p.kind.as_str()),
            Cell::text(&p.case_id),
            status_cell(p.status),
            Cell::num(
                p.timeline.steps.len() as f64,
                p.timeline.steps.len().to_string(),
            ),
        ]);
    }
    b.blocks.push(Block::Table(t));
    if m.problems.is_empty() {
        b.text("Nothing failed, was skipped or left unfinished.");
        return;
    }
    let mut t = b.table(
        "problems",
        "What did not pass",
        &[
            ("status", false),
            ("run", false),
            ("pool", false),
            ("step", false),
            ("what", false),
            ("detail", false),
        ],
    );
    for p in &m.problems {
        t.rows.push(vec![
            status_cell(p.status),
            Cell::text(&p.run_id),
            Cell::text(p.pool.clone().unwrap_or_default()),
            Cell::text(p.step.clone().unwrap_or_default()),
            Cell::text(&p.what),
            Cell::text(&p.detail),
        ]);
    }
    b.blocks.push(Block::Table(t));
}

fn na() -> String {
    "n/a".into()
}

fn yes_no(v: Option<bool>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(na)
}

/// `docker info`'s devicemapper block for a pool.
pub(crate) fn docker_info(p: &PoolModel) -> Vec<(String, String)> {
    let mut rows = vec![
        (
            "Pool Name".to_owned(),
            p.dm_name.clone().unwrap_or_else(|| p.name.clone()),
        ),
        ("Pool Kind".to_owned(), p.kind.as_str().to_owned()),
        ("Pool Blocksize".to_owned(), format::bytes(p.chunk)),
    ];
    match &p.usage {
        Some((u, _)) => {
            let data = |n| format::bytes(p.data_bytes(n));
            let meta = |n: u64| format::bytes(Bytes(n.saturating_mul(META_BLOCK_SIZE)));
            rows.extend([
                ("Data Space Used".to_owned(), data(u.data_used)),
                ("Data Space Total".to_owned(), data(u.data_total)),
                (
                    "Data Space Available".to_owned(),
                    data(u.data_total.saturating_sub(u.data_used)),
                ),
                ("Metadata Space Used".to_owned(), meta(u.meta_used.0)),
                ("Metadata Space Total".to_owned(), meta(u.meta_total.0)),
                (
                    "Metadata Space Available".to_owned(),
                    meta(u.meta_total.0.saturating_sub(u.meta_used.0)),
                ),
            ]);
        }
        None => {
            for k in [
                "Data Space Used",
                "Data Space Total",
                "Data Space Available",
                "Metadata Space Used",
                "Metadata Space Total",
                "Metadata Space Available",
            ] {
                rows.push((k.to_owned(), na()));
            }
        }
    }
    let min_free = match (p.min_free_space_pct, &p.usage) {
        (Some(pctv), Some((u, _))) => {
            let bytes = p.data_bytes(u.data_total).0 as f64 * pctv / 100.0;
            format!(
                "{} ({}%)",
                format::bytes(Bytes(bytes as u64)),
                format::num(pctv)
            )
        }
        (Some(pctv), None) => format!("{}%", format::num(pctv)),
        (None, _) => na(),
    };
    rows.extend([
        ("Thin Pool Minimum Free Space".to_owned(), min_free),
        (
            "Low Water Mark".to_owned(),
            p.low_water_mark
                .map(|l| format!("{} data blocks ({})", l.0, format::bytes(p.data_bytes(l))))
                .unwrap_or_else(na),
        ),
        (
            "Deferred Removal Enabled".to_owned(),
            yes_no(p.deferred.removal_enabled),
        ),
        (
            "Deferred Deletion Enabled".to_owned(),
            yes_no(p.deferred.deletion_enabled),
        ),
        (
            "Deferred Deleted Device Count".to_owned(),
            p.deferred
                .deleted_device_count
                .map(format::num)
                .unwrap_or_else(na),
        ),
    ]);
    if let Some((u, src)) = &p.usage {
        rows.extend([
            ("Mode".to_owned(), u.mode.as_str().to_owned()),
            ("Needs Check".to_owned(), u.needs_check.to_string()),
            ("Usage Read".to_owned(), src.describe().to_owned()),
        ]);
    }
    if let Some(d) = &p.device {
        rows.push(("Device".to_owned(), d.clone()));
    }
    rows
}

fn pools_section(b: &mut Builder, m: &ReportModel) {
    if m.pools.is_empty() {
        return;
    }
    b.h(2, "Pools");
    b.text(
        "As `docker info` shows a devicemapper pool. Data space is data blocks × the pool's \
         block size; metadata space is metadata blocks × 4 KiB. Minimum free space and \
         the deferred fields come from the run's `pool.*` and `deferred.*` metrics (n/a: \
         the run measured none). Every plot draws loop-lvm pools in blue and direct-lvm \
         pools in orange.",
    );
    for p in &m.pools {
        let id = b.ids.get(&format!("pool-{}", p.label));
        b.blocks.push(Block::KeyValues {
            id,
            title: p.label.clone(),
            rows: docker_info(p),
            colour: Some(pool_colour(p.kind, p.shade)),
        });
    }
}

fn secs(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

fn usage_section(b: &mut Builder, m: &ReportModel) {
    let with_data: Vec<&PoolModel> = m
        .pools
        .iter()
        .filter(|p| !p.timeline.points.is_empty() || !p.timeline.steps.is_empty())
        .collect();
    if with_data.is_empty() {
        return;
    }
    b.h(2, "Pool usage over time");
    b.text(
        "Data and metadata used, in percent of the pool's total, from samples.csv. Grey \
         vertical lines are step starts; red lines mark mode changes and exhaustion; \
         triangles mark the kernel's low-water-mark events; dashed horizontal lines are \
         the low water mark and Docker's min_free_space when known; amber bands are \
         fault layers in force, listed with the pool's mode changes and kernel lines in \
         its fault timeline.",
    );
    for p in with_data {
        let tl = &p.timeline;
        let colour = pool_colour(p.kind, p.shade);
        // The steps' span, not the case's: pool set-up before the first step can take
        // longer than the steps and has no samples.
        let lo = tl
            .steps
            .iter()
            .map(|s| s.start_ms)
            .chain(tl.points.first().map(|x| x.t_ms))
            .min()
            .or(tl.window_ms.map(|w| w.0))
            .unwrap_or(0);
        let hi = tl
            .steps
            .iter()
            .map(|s| s.end_ms)
            .chain(tl.points.last().map(|x| x.t_ms))
            .chain(tl.marks.iter().map(|mk| mk.t_ms))
            .max()
            .unwrap_or(lo + 1)
            .max(lo + 1);
        let pad = (hi - lo) / 40;
        let (lo, hi) = (lo.saturating_sub(pad), hi + pad);
        let total = p
            .usage
            .as_ref()
            .map(|(u, _)| u.data_total.0)
            .or_else(|| tl.points.last().map(|x| x.data_total.0))
            .unwrap_or(0);
        let data_at = |t: u64| {
            tl.points
                .iter()
                .take_while(|x| x.t_ms <= t)
                .last()
                .or(tl.points.first())
                .map(|x| x.data_pct())
                .unwrap_or(0.0)
        };
        let meta_at = |t: u64| {
            tl.points
                .iter()
                .take_while(|x| x.t_ms <= t)
                .last()
                .or(tl.points.first())
                .map(|x| x.meta_pct())
                .unwrap_or(0.0)
        };
        let mut hlines = Vec::new();
        if let Some(l) = p.low_water_mark {
            if total > 0 {
                let free_pct = pct(l.0.min(total), total);
                hlines.push(HLine {
                    y: 100.0 - free_pct,
                    label: format!("low water mark ({} blocks free)", l.0),
                    colour: LWM,
                });
            }
        }
        if let Some(mf) = p.min_free_space_pct {
            hlines.push(HLine {
                y: 100.0 - mf,
                label: format!("min_free_space {}%", format::num(mf)),
                colour: MIN_FREE,
            });
        }
        let plot = TimelinePlot {
            title: format!("Pool usage over time: {}", p.label),
            x_label: "time since run start (s)".into(),
            y_label: "used (% of total)".into(),
            x_range: (secs(lo), secs(hi)),
            lines: vec![
                Line {
                    label: format!("data used, {}", p.label),
                    colour,
                    dashed: false,
                    points: tl
                        .points
                        .iter()
                        .map(|x| (secs(x.t_ms), x.data_pct()))
                        .collect(),
                },
                Line {
                    label: format!("metadata used, {}", p.label),
                    colour,
                    dashed: true,
                    points: tl
                        .points
                        .iter()
                        .map(|x| (secs(x.t_ms), x.meta_pct()))
                        .collect(),
                },
            ],
            steps: tl
                .steps
                .iter()
                .map(|s| (secs(s.start_ms), format!("#{} {}", s.index, s.name)))
                .collect(),
            vmarks: tl
                .marks
                .iter()
                .filter(|mk| {
                    !matches!(
                        mk.kind,
                        MarkKind::LowWaterMark | MarkKind::MetadataLowWaterMark
                    )
                })
                .map(|mk| VMark {
                    x: secs(mk.t_ms),
                    label: mk.label.clone(),
                    colour: ALERT,
                })
                .collect(),
            hlines,
            bands: fault_bands(&tl.faults, hi),
            points: tl
                .marks
                .iter()
                .filter_map(|mk| match mk.kind {
                    MarkKind::LowWaterMark => Some(PointMark {
                        x: secs(mk.t_ms),
                        y: data_at(mk.t_ms),
                        label: "kernel: data low water mark".into(),
                        colour: LWM,
                    }),
                    // On the metadata curve, where the kernel saw it.
                    MarkKind::MetadataLowWaterMark => Some(PointMark {
                        x: secs(mk.t_ms),
                        y: meta_at(mk.t_ms),
                        label: "kernel: metadata low water mark".into(),
                        colour: LWM,
                    }),
                    _ => None,
                })
                .collect(),
        };
        let mut t = b.table(
            &format!("usage-{}", p.label),
            &format!("Usage by step: {}", p.label),
            &[
                ("#", true),
                ("step", false),
                ("action", false),
                ("status", false),
                ("start (s)", true),
                ("end (s)", true),
                ("data used after", true),
                ("data % after", true),
                ("metadata % after", true),
                ("mode after", false),
                ("blocks allocated", true),
            ],
        );
        for s in &tl.steps {
            let after = s.after.as_ref();
            t.rows.push(vec![
                Cell::num(s.index as f64, s.index.to_string()),
                Cell::text(&s.name),
                Cell::text(&s.action),
                status_cell(s.status),
                Cell::num(secs(s.start_ms), format!("{:.2}", secs(s.start_ms))),
                Cell::num(secs(s.end_ms), format!("{:.2}", secs(s.end_ms))),
                Cell::opt(after.map(|u| u.data_used.0 as f64), |v| {
                    format!(
                        "{} blocks ({})",
                        format::num(v),
                        format::bytes(p.data_bytes(thinbench_schema::units::DataBlocks(v as u64)))
                    )
                }),
                Cell::opt(
                    after.map(|u| pct(u.data_used.0, u.data_total.0)),
                    format::pct,
                ),
                Cell::opt(
                    after.map(|u| pct(u.meta_used.0, u.meta_total.0)),
                    format::pct,
                ),
                Cell::text(after.map(|u| u.mode.as_str()).unwrap_or("n/a")),
                Cell::opt(s.allocated.map(|v| v as f64), format::num),
            ]);
        }
        let caption = if tl.marks.is_empty() {
            format!("Data and metadata usage of {} over time.", p.label)
        } else {
            format!(
                "Data and metadata usage of {} over time. Marked: {}.",
                p.label,
                tl.marks
                    .iter()
                    .map(|mk| format!("{} at {:.2} s", mk.label, secs(mk.t_ms)))
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        };
        b.figure(&caption, PlotSpec::Timeline(plot), t);
        if !tl.events.is_empty() {
            let mut ev = b.table(
                &format!("timeline-{}", p.label),
                &format!("Fault timeline: {}", p.label),
                &[("t (s)", true), ("kind", false), ("what", false)],
            );
            for e in &tl.events {
                ev.rows.push(vec![
                    Cell::num(secs(e.t_ms), format!("{:.2}", secs(e.t_ms))),
                    Cell::text(&e.kind),
                    Cell::text(&e.text),
                ]);
            }
            b.blocks.push(Block::Table(ev));
        }
        // Every sample, for whoever wants to plot it differently.
        let mut raw = b.table(
            &format!("samples-{}", p.label),
            &format!("Samples: {}", p.label),
            &[
                ("t_ms", true),
                ("step", true),
                ("data_used", true),
                ("data_total", true),
                ("data_pct", true),
                ("meta_used", true),
                ("meta_total", true),
                ("meta_pct", true),
                ("mode", false),
            ],
        );
        for x in &tl.points {
            raw.rows.push(vec![
                Cell::num(x.t_ms as f64, x.t_ms.to_string()),
                Cell::text(x.step.map(|s| s.to_string()).unwrap_or_default()),
                Cell::num(x.data_used.0 as f64, x.data_used.0.to_string()),
                Cell::num(x.data_total.0 as f64, x.data_total.0.to_string()),
                Cell::num(x.data_pct(), format::pct(x.data_pct())),
                Cell::num(x.meta_used.0 as f64, x.meta_used.0.to_string()),
                Cell::num(x.meta_total.0 as f64, x.meta_total.0.to_string()),
                Cell::num(x.meta_pct(), format::pct(x.meta_pct())),
                Cell::text(&x.mode),
            ]);
        }
        b.csv_only.push(raw);
    }
}

/// Fault windows as plot bands; layers swapped at one instant (a power cut takes data and
/// metadata together) share one band and one label.
fn fault_bands(windows: &[crate::model::FaultWindow], hi: u64) -> Vec<(f64, f64, String)> {
    let mut bands: Vec<(u64, u64, String)> = Vec::new();
    for w in windows {
        let end = w.end_ms.unwrap_or(hi);
        let near = |a: u64, b: u64| a.abs_diff(b) <= 100;
        match bands
            .iter_mut()
            .find(|(a, b, _)| near(*a, w.start_ms) && near(*b, end))
        {
            Some(band) => {
                band.2.push_str(" + ");
                band.2.push_str(&w.label);
            }
            None => bands.push((w.start_ms, end, w.label.clone())),
        }
    }
    bands
        .into_iter()
        .map(|(a, b, l)| (secs(a), secs(b), l))
        .collect()
}

fn workload_sections(b: &mut Builder, m: &ReportModel) {
    if m.workloads.is_empty() {
        return;
    }
    b.h(2, "Workloads");
    let mut t = b.table(
        "workloads",
        "Every workload step on every pool (latencies in µs)",
        &[
            ("step", false),
            ("pool", false),
            ("workload", false),
            ("ops", true),
            ("bytes", true),
            ("errors", true),
            ("IOPS", true),
            ("MB/s", true),
            ("mean", true),
            ("p50", true),
            ("p99", true),
            ("max", true),
            ("chunks touched", true),
            ("blocks allocated", true),
        ],
    );
    for g in &m.workloads {
        for e in &g.entries {
            let w = &e.stats;
            let l = &w.latency;
            let us = |ns: u64| Cell::num(ns as f64 / 1000.0, format::micros(ns as f64));
            t.rows.push(vec![
                Cell::text(&g.step),
                Cell::text(&m.pools[e.pool].label),
                Cell::text(&w.workload),
                Cell::num(w.ops as f64, w.ops.to_string()),
                Cell::num(w.bytes.0 as f64, format::bytes(w.bytes)),
                Cell::num(w.errors as f64, w.errors.to_string()).tone(if w.errors > 0 {
                    Tone::Bad
                } else {
                    Tone::Plain
                }),
                Cell::num(w.iops, format::sig3(w.iops)),
                Cell::num(w.mb_per_s, format::sig3(w.mb_per_s)),
                Cell::num(l.mean_ns / 1000.0, format::micros(l.mean_ns)),
                us(l.p50_ns),
                us(l.p99_ns),
                us(l.max_ns),
                Cell::num(
                    w.distinct_chunks_touched as f64,
                    w.distinct_chunks_touched.to_string(),
                ),
                Cell::opt(e.blocks_allocated.map(|v| v as f64), format::num),
            ]);
        }
    }
    b.blocks.push(Block::Table(t));
    let errors: Vec<String> = m
        .workloads
        .iter()
        .flat_map(|g| g.entries.iter().map(move |e| (g, e)))
        .filter(|(_, e)| e.stats.errors > 0)
        .map(|(g, e)| {
            format!(
                "{} on {}: {} (first: {})",
                g.step,
                m.pools[e.pool].label,
                e.stats.errors,
                e.stats.first_error.as_deref().unwrap_or("not recorded")
            )
        })
        .collect();
    if !errors.is_empty() {
        b.text(format!("IO errors: {}.", errors.join("; ")));
    }

    b.h(3, "Latency percentiles");
    b.text("Per workload step, one line per pool: p50 to max on a log scale.");
    for g in &m.workloads {
        let entries: Vec<_> = g.entries.iter().filter(|e| !e.curve.is_empty()).collect();
        if entries.is_empty() {
            continue;
        }
        let max_ns = entries
            .iter()
            .flat_map(|e| e.curve.iter().map(|(_, n)| n.0))
            .max()
            .unwrap_or(0);
        let (unit, per_ns) = latency_unit(max_ns);
        let plot = CurvePlot {
            title: format!("Latency percentiles: {} ({})", g.step, g.workload),
            x_label: "percentile".into(),
            y_label: format!("latency ({unit}, log scale)"),
            categories: Percentile::ALL
                .iter()
                .map(|p| p.label().to_owned())
                .collect(),
            series: entries
                .iter()
                .map(|e| {
                    let p = &m.pools[e.pool];
                    Series {
                        label: p.label.clone(),
                        colour: pool_colour(p.kind, p.shade),
                        values: e
                            .curve
                            .iter()
                            .map(|(_, n)| Some(n.0 as f64 / per_ns))
                            .collect(),
                    }
                })
                .collect(),
        };
        let mut header: Vec<(&str, bool)> = vec![("pool", false), ("IOs", true)];
        header.extend(Percentile::ALL.iter().map(|p| (p.label(), true)));
        let mut t = b.table(
            &format!("latency-{}", g.step),
            &format!("Latency ({unit}): {}", g.step),
            &header,
        );
        for e in &entries {
            let mut row = vec![
                Cell::text(&m.pools[e.pool].label),
                Cell::num(
                    e.stats.latency.count as f64,
                    e.stats.latency.count.to_string(),
                ),
            ];
            row.extend(e.curve.iter().map(|(_, n)| {
                let v = n.0 as f64 / per_ns;
                Cell::num(v, format::sig3(v))
            }));
            t.rows.push(row);
        }
        b.figure(
            &format!(
                "Latency percentile curve of step {}, per pool ({unit}, log scale).",
                g.step
            ),
            PlotSpec::Curve(plot),
            t,
        );
    }

    b.h(3, "Throughput");
    let cats: Vec<String> = m.workloads.iter().map(|g| g.step.clone()).collect();
    let series = |f: fn(&thinbench_schema::record::WorkloadStats) -> f64| -> Vec<Series> {
        pools_in(
            m.workloads
                .iter()
                .flat_map(|g| g.entries.iter().map(|e| e.pool)),
        )
        .into_iter()
        .map(|pi| {
            let p = &m.pools[pi];
            Series {
                label: p.label.clone(),
                colour: pool_colour(p.kind, p.shade),
                values: m
                    .workloads
                    .iter()
                    .map(|g| g.entries.iter().find(|e| e.pool == pi).map(|e| f(&e.stats)))
                    .collect(),
            }
        })
        .collect()
    };
    let plot = BarsPlot {
        title: "Throughput per workload step".into(),
        panels: vec![
            BarPanel {
                title: "IOPS".into(),
                y_label: "IOs per second".into(),
                categories: cats.clone(),
                series: series(|w| w.iops),
                flags: Vec::new(),
            },
            BarPanel {
                title: "Bandwidth".into(),
                y_label: "MB/s (10⁶ bytes/s)".into(),
                categories: cats,
                series: series(|w| w.mb_per_s),
                flags: Vec::new(),
            },
        ],
    };
    let mut t = b.table(
        "throughput",
        "Throughput per workload step",
        &[
            ("step", false),
            ("pool", false),
            ("IOPS", true),
            ("MB/s", true),
        ],
    );
    for g in &m.workloads {
        for e in &g.entries {
            t.rows.push(vec![
                Cell::text(&g.step),
                Cell::text(&m.pools[e.pool].label),
                Cell::num(e.stats.iops, format::sig3(e.stats.iops)),
                Cell::num(e.stats.mb_per_s, format::sig3(e.stats.mb_per_s)),
            ]);
        }
    }
    b.figure(
        "IOPS and MB/s per workload step, pools side by side.",
        PlotSpec::Bars(plot),
        t,
    );
}

/// The unit latencies read best in: ms once the largest is 10 ms or more.
fn latency_unit(max_ns: u64) -> (&'static str, f64) {
    if max_ns >= 10_000_000 {
        ("ms", 1e6)
    } else {
        ("µs", 1e3)
    }
}

/// Distinct pool ids in first-seen order.
fn pools_in(ids: impl Iterator<Item = usize>) -> Vec<usize> {
    let mut v = Vec::new();
    for i in ids {
        if !v.contains(&i) {
            v.push(i);
        }
    }
    v
}

fn fig_value(v: f64, unit: &str) -> String {
    match unit {
        "IOPS" | "iops" | "MB/s" => format::sig3(v),
        u => format::metric_value(v, u),
    }
}

fn kind_section(b: &mut Builder, m: &ReportModel) {
    if m.kind_comparison.is_empty() {
        return;
    }
    b.h(2, "loop-lvm vs direct-lvm");
    let chunks = |k: PoolKind| {
        let mut v: Vec<String> = m
            .pools
            .iter()
            .filter(|p| p.kind == k)
            .map(|p| format::bytes(p.chunk))
            .collect();
        v.dedup();
        v.join("/")
    };
    b.text(format!(
        "The same figure on both kinds of pool (median when a kind has several pools or \
         runs). Block sizes: loop-lvm {}, direct-lvm {}; block counts are in each pool's \
         own blocks.",
        chunks(PoolKind::LoopLvm),
        chunks(PoolKind::DirectLvm)
    ));
    let mut t = b.table(
        "loop-vs-direct",
        "loop-lvm vs direct-lvm",
        &[
            ("what", false),
            ("figure", false),
            ("loop-lvm", true),
            ("direct-lvm", true),
            ("direct / loop", true),
            ("better", false),
        ],
    );
    for r in &m.kind_comparison {
        let v = |kv: crate::analysis::pairing::KindValue| {
            let mut c = Cell::opt(kv.value, |x| fig_value(x, &r.unit));
            if kv.n > 1 {
                c.text = format!("{} (n={})", c.text, kv.n);
            }
            c
        };
        t.rows.push(vec![
            Cell::text(&r.subject),
            Cell::text(&r.figure),
            v(r.loop_lvm),
            v(r.direct_lvm),
            Cell::opt(r.ratio, |x| format::ratio(Some(x))),
            Cell::text(better_str(r.better)),
        ]);
    }
    b.blocks.push(Block::Table(t));
}

fn cow_section(b: &mut Builder, m: &ReportModel) {
    if m.phases.is_empty() {
        return;
    }
    b.h(2, "Copy-on-write cost");
    b.text(
        "Phases of multi-phase workloads: the first write to a shared chunk copies it \
         (sub-chunk writes copy the whole chunk; whole-chunk writes need no copy), a \
         rewrite of an already-copied chunk does not.",
    );
    let cats: Vec<String> = m.phases.iter().map(|g| g.name.clone()).collect();
    let pool_ids = pools_in(
        m.phases
            .iter()
            .flat_map(|g| g.entries.iter().map(|e| e.pool)),
    );
    let series = |f: fn(&thinbench_schema::record::WorkloadStats) -> f64| -> Vec<Series> {
        pool_ids
            .iter()
            .map(|&pi| {
                let p = &m.pools[pi];
                Series {
                    label: p.label.clone(),
                    colour: pool_colour(p.kind, p.shade),
                    values: m
                        .phases
                        .iter()
                        .map(|g| {
                            g.entries
                                .iter()
                                .find(|e| e.pool == pi && e.stats.ops > 0)
                                .map(|e| f(&e.stats))
                        })
                        .collect(),
                }
            })
            .collect()
    };
    let plot = BarsPlot {
        title: "Copy-on-write cost per phase".into(),
        panels: vec![
            BarPanel {
                title: "p50 latency".into(),
                y_label: "p50 latency (µs)".into(),
                categories: cats.clone(),
                series: series(|w| w.latency.p50_ns as f64 / 1000.0),
                flags: Vec::new(),
            },
            BarPanel {
                title: "IOPS".into(),
                y_label: "IOs per second".into(),
                categories: cats,
                series: series(|w| w.iops),
                flags: Vec::new(),
            },
        ],
    };
    let mut t = b.table(
        "cow-phases",
        "Copy-on-write phases (latencies in µs)",
        &[
            ("phase", false),
            ("pool", false),
            ("step", false),
            ("ops", true),
            ("IOPS", true),
            ("MB/s", true),
            ("p50", true),
            ("p99", true),
            ("max", true),
        ],
    );
    for g in &m.phases {
        for e in &g.entries {
            let w = &e.stats;
            let us = |ns: u64| Cell::num(ns as f64 / 1000.0, format::micros(ns as f64));
            t.rows.push(vec![
                Cell::text(&g.name),
                Cell::text(&m.pools[e.pool].label),
                Cell::text(&e.step),
                Cell::num(w.ops as f64, w.ops.to_string()),
                Cell::num(w.iops, format::sig3(w.iops)),
                Cell::num(w.mb_per_s, format::sig3(w.mb_per_s)),
                us(w.latency.p50_ns),
                us(w.latency.p99_ns),
                us(w.latency.max_ns),
            ]);
        }
    }
    b.figure(
        "p50 latency and IOPS of each copy-on-write phase, pools side by side.",
        PlotSpec::Bars(plot),
        t,
    );
    let cow: Vec<&MetricRow> = m
        .metrics
        .iter()
        .filter(|r| r.metric.name.starts_with("cow.") && !is_phase_metric(&r.metric.name))
        .collect();
    if !cow.is_empty() {
        let mut t = b.table(
            "cow-metrics",
            "Copy-on-write metrics",
            &[
                ("pool", false),
                ("step", false),
                ("metric", false),
                ("value", true),
                ("better", false),
            ],
        );
        for r in cow {
            t.rows.push(metric_cells(m, r, false));
        }
        b.blocks.push(Block::Table(t));
    }
}

fn metric_cells(m: &ReportModel, r: &MetricRow, full: bool) -> Vec<Cell> {
    let mt = &r.metric;
    let mut row = vec![
        Cell::text(&m.pools[r.pool].label),
        Cell::text(&r.step),
        Cell::text(&mt.name),
        Cell::num(mt.value, format::metric_value(mt.value, &mt.unit)),
    ];
    if full {
        row.push(Cell::text(&mt.unit));
        row.push(Cell::text(kind_str(mt.kind)));
    }
    row.push(Cell::text(better_str(mt.better)));
    row
}

fn space_section(b: &mut Builder, m: &ReportModel) {
    let rows: Vec<&MetricRow> = m
        .metrics
        .iter()
        .filter(|r| r.metric.name.starts_with("space."))
        .collect();
    if rows.is_empty() {
        return;
    }
    b.h(2, "Space returned after delete");
    b.text(
        "Pool blocks and host bytes given back when thins are deleted, per step (a step per \
         discard setting shows the difference discards make).",
    );
    // Plotted: what came back, in MiB so pools of different chunk sizes compare (the
    // table below has every space figure).
    const PLOTTED: [(&str, &str, &str); 2] = [
        (
            "space.pool_blocks_returned",
            "Returned to the pool",
            "MiB of pool data space",
        ),
        (
            "space.host_bytes_returned",
            "Returned to the host (loop-lvm's sparse data file)",
            "MiB of host filesystem space",
        ),
    ];
    let mib = |r: &MetricRow| -> f64 {
        let bytes = match r.metric.unit.as_str() {
            "blocks" => r.metric.value * m.pools[r.pool].chunk.0 as f64,
            _ => r.metric.value,
        };
        bytes / (1u64 << 20) as f64
    };
    let pool_ids = pools_in(rows.iter().map(|r| r.pool));
    let mut panels = Vec::new();
    for (name, title, y_label) in PLOTTED {
        let of: Vec<&&MetricRow> = rows.iter().filter(|r| r.metric.name == name).collect();
        if of.is_empty() {
            continue;
        }
        let mut cats: Vec<String> = Vec::new();
        for r in &of {
            if !cats.contains(&r.step) {
                cats.push(r.step.clone());
            }
        }
        let series = pool_ids
            .iter()
            .filter(|&&pi| of.iter().any(|r| r.pool == pi))
            .map(|&pi| {
                let p = &m.pools[pi];
                Series {
                    label: p.label.clone(),
                    colour: pool_colour(p.kind, p.shade),
                    values: cats
                        .iter()
                        .map(|s| {
                            of.iter()
                                .find(|r| r.pool == pi && &r.step == s)
                                .map(|r| mib(r))
                        })
                        .collect(),
                }
            })
            .collect();
        panels.push(BarPanel {
            title: title.to_owned(),
            y_label: y_label.to_owned(),
            categories: cats,
            series,
            flags: Vec::new(),
        });
    }
    let mut t = b.table(
        "space-returned",
        "Space returned after delete",
        &[
            ("pool", false),
            ("step", false),
            ("metric", false),
            ("value", true),
            ("as bytes", true),
            ("better", false),
        ],
    );
    for r in &rows {
        let p = &m.pools[r.pool];
        let as_bytes = match r.metric.unit.as_str() {
            "blocks" => Some(r.metric.value * p.chunk.0 as f64),
            "bytes" => Some(r.metric.value),
            _ => None,
        };
        t.rows.push(vec![
            Cell::text(&p.label),
            Cell::text(&r.step),
            Cell::text(&r.metric.name),
            Cell::num(
                r.metric.value,
                format::metric_value(r.metric.value, &r.metric.unit),
            ),
            Cell::opt(as_bytes, |v| format::bytes(Bytes(v.max(0.0) as u64))),
            Cell::text(better_str(r.metric.better)),
        ]);
    }
    if panels.is_empty() {
        b.blocks.push(Block::Table(t));
        return;
    }
    b.figure(
        "Space returned after delete, per step and pool: to the pool (blocks × chunk size) \
         and, for loop-lvm, to the filesystem holding its sparse data file.",
        PlotSpec::Bars(BarsPlot {
            title: "Space returned after delete".into(),
            panels,
        }),
        t,
    );
}

fn model_section(b: &mut Builder, m: &ReportModel) {
    if m.model_checks.is_empty() {
        return;
    }
    b.h(2, "Reference model vs kernel");
    let mismatches = m
        .model_checks
        .iter()
        .filter(|c| c.status != Status::Passed)
        .count();
    b.text(format!(
        "Data blocks each step allocated, as the reference model of dm-thin predicted and \
         as the kernel reported: {} checks, {} {}.",
        m.model_checks.len(),
        mismatches,
        if mismatches == 1 {
            "mismatch"
        } else {
            "mismatches"
        }
    ));
    let pool_ids = pools_in(m.model_checks.iter().map(|c| c.pool));
    let mut panels = Vec::new();
    for &pi in &pool_ids {
        let p = &m.pools[pi];
        let checks: Vec<_> = m.model_checks.iter().filter(|c| c.pool == pi).collect();
        let colour = pool_colour(p.kind, p.shade);
        panels.push(BarPanel {
            title: p.label.clone(),
            y_label: "data blocks allocated".into(),
            categories: checks
                .iter()
                .map(|c| format!("#{} {}", c.step_index, c.step))
                .collect(),
            series: vec![
                Series {
                    label: format!("model, {}", p.label),
                    colour: tint(colour, 0.55),
                    values: checks
                        .iter()
                        .map(|c| c.expected_blocks.map(|v| v as f64))
                        .collect(),
                },
                Series {
                    label: format!("kernel, {}", p.label),
                    colour,
                    values: checks
                        .iter()
                        .map(|c| c.observed_blocks.map(|v| v as f64))
                        .collect(),
                },
            ],
            flags: checks
                .iter()
                .enumerate()
                .filter(|(_, c)| c.status == Status::Failed)
                .map(|(i, _)| (i, "≠ mismatch".to_owned()))
                .collect(),
        });
    }
    let mut t = b.table(
        "model-vs-kernel",
        "Reference model vs kernel: data blocks allocated",
        &[
            ("pool", false),
            ("#", true),
            ("step", false),
            ("model", true),
            ("kernel", true),
            ("verdict", false),
        ],
    );
    for c in &m.model_checks {
        t.rows.push(vec![
            Cell::text(&m.pools[c.pool].label),
            Cell::num(c.step_index as f64, c.step_index.to_string()),
            Cell::text(&c.step),
            Cell::text(&c.expected),
            Cell::text(&c.observed),
            status_cell(c.status),
        ]);
    }
    b.figure(
        "Model vs kernel data blocks per step, one panel per pool; a mismatch is flagged.",
        PlotSpec::Bars(BarsPlot {
            title: "Reference model vs kernel: data blocks allocated per step".into(),
            panels,
        }),
        t,
    );
}

fn metrics_section(b: &mut Builder, m: &ReportModel) {
    if m.metrics.is_empty() {
        return;
    }
    b.h(2, "Metrics");
    b.text(
        "Every named figure of every step. Exact metrics are identical run to run on one \
         kernel; timing metrics are noisy.",
    );
    let mut t = b.table(
        "metrics",
        "All metrics",
        &[
            ("pool", false),
            ("step", false),
            ("metric", false),
            ("value", true),
            ("unit", false),
            ("kind", false),
            ("better", false),
        ],
    );
    for r in &m.metrics {
        t.rows.push(metric_cells(m, r, true));
    }
    b.blocks.push(Block::Table(t));
}

/// Lay out a run-vs-run comparison.
pub(crate) fn comparison(c: &Comparison) -> Document {
    let mut b = Builder::new();
    if c.scenario_differs {
        b.callout(
            Tone::Bad,
            format!(
                "Different scenarios: A ran `{}`, B ran `{}`. Figures with the same name may \
                 not measure the same thing.",
                c.a.scenario, c.b.scenario
            ),
        );
    }
    if !c.environment_differences.is_empty() {
        b.callout(
            Tone::Bad,
            format!(
                "Different environments: {}. Timings are not comparable across environments; \
                 exact figures still are.",
                c.environment_differences
                    .iter()
                    .map(|d| format!("{} `{}` vs `{}`", d.field, d.a, d.b))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        );
    }
    if c.a.is_tcg() || c.b.is_tcg() {
        b.callout(Tone::Warn, TCG_NOTE);
    }
    let counts = Verdict::ALL
        .iter()
        .map(|v| format!("{} {}", c.count(*v), v.label()))
        .collect::<Vec<_>>()
        .join(", ");
    let bad = c.count(Verdict::Regressed) + c.count(Verdict::Changed) > 0;
    b.callout(
        if bad { Tone::Bad } else { Tone::Good },
        format!("{} figures: {counts}.", c.rows.len()),
    );

    b.h(2, "Runs");
    let mut t = b.table(
        "compare-runs",
        "The two runs",
        &[("field", false), ("A (baseline)", false), ("B", false)],
    );
    let ra = env_rows(&c.a);
    let rb = env_rows(&c.b);
    for (k, va) in &ra {
        let vb = rb
            .iter()
            .find(|(kb, _)| kb == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(na);
        let differs = *va != vb
            && c.environment_differences.iter().any(|d| {
                matches!(
                    (d.field, k.as_str()),
                    ("kernel", "Kernel")
                        | ("accel", "Accel")
                        | ("cpu", "CPU (pools' kernel)")
                        | ("host cpu", "Host CPU")
                        | ("cpus", "CPUs")
                        | ("environment", "Environment")
                        | ("thin-pool target", "thin-pool target")
                )
            });
        let scen = k == "Scenario" && c.scenario_differs;
        let tone = if differs || scen {
            Tone::Bad
        } else {
            Tone::Plain
        };
        t.rows.push(vec![
            Cell::text(k),
            Cell::text(va).tone(tone),
            Cell::text(vb).tone(tone),
        ]);
    }
    b.blocks.push(Block::Table(t));

    b.h(2, "Figures");
    b.text(format!(
        "Change is (B − A) / A. Timings within ±{NOISE_PCT}% are called noise (one run each: \
         no confidence interval); exact figures must match exactly."
    ));
    let mut t = b.table(
        "compare",
        "Every figure, A vs B",
        &[
            ("pool", false),
            ("step", false),
            ("figure", false),
            ("kind", false),
            ("A", true),
            ("B", true),
            ("change", true),
            ("verdict", false),
        ],
    );
    for r in &c.rows {
        let tone = match r.verdict {
            Verdict::Regressed => Tone::Bad,
            Verdict::Changed | Verdict::OnlyInA | Verdict::OnlyInB => Tone::Warn,
            Verdict::Improved => Tone::Good,
            Verdict::Same | Verdict::WithinNoise => Tone::Plain,
        };
        let fmt = |v: f64| fig_value(v, &r.unit);
        t.rows.push(vec![
            Cell::text(&r.pool),
            Cell::text(&r.step),
            Cell::text(&r.figure),
            Cell::text(kind_str(r.metric_kind)),
            Cell::opt(r.a, fmt),
            Cell::opt(r.b, fmt),
            Cell::opt(r.change_pct, |x| format::change(Some(x))),
            Cell::text(r.verdict.label()).tone(tone),
        ]);
    }
    b.blocks.push(Block::Table(t));
    b.doc(
        "compare",
        format!(
            "thinbench comparison: {} {} → {}",
            c.a.scenario, c.a.run_id, c.b.run_id
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_unique_ids() {
        assert_eq!(slug("usage-loop (loop-lvm)"), "usage-loop-loop-lvm");
        assert_eq!(slug("//"), "x");
        let mut ids = Ids::default();
        assert_eq!(ids.get("a b"), "a-b");
        assert_eq!(ids.get("a-b"), "a-b-2");
    }
}
