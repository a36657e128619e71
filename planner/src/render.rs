//! Renderers of a [`PlanReport`]: a terse text table for a terminal and the CSV files.
//! They only format; every figure is computed in `report`. Each CSV starts with its
//! header, even with no rows; the columns are in `docs/plan-report.md`.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;
use thinbench_schema::units::Bytes;

use crate::rates::Status;
use crate::report::PlanReport;

/// `timeline.csv`'s columns: the fields of `simulate::Row`, in order.
pub const TIMELINE_COLUMNS: [&str; 15] = [
    "t_s",
    "day",
    "thins",
    "containers",
    "data_used",
    "data_allocated",
    "data_total",
    "data_free",
    "data_used_pct",
    "mapped_chunks",
    "meta_blocks",
    "meta_status_used",
    "meta_total",
    "meta_used_pct",
    "overprovisioning",
];
/// `tradeoff.csv`'s columns.
pub const TRADEOFF_COLUMNS: [&str; 8] = [
    "chunk_bytes",
    "peak_data_bytes",
    "peak_meta_bytes",
    "peak_total_bytes",
    "cow_bytes",
    "peak_mapped_chunks",
    "days_to_full",
    "extrapolated",
];
/// `components.csv`'s columns.
pub const COMPONENTS_COLUMNS: [&str; 2] = ["name", "data_blocks"];
/// `events.csv`'s columns: the fields of `simulate::Event`.
pub const EVENTS_COLUMNS: [&str; 4] = ["t_s", "day", "what", "detail"];
/// `thresholds.csv`'s columns: the fields of `rates::Threshold`.
pub const THRESHOLDS_COLUMNS: [&str; 5] = ["name", "level", "status", "day", "detail"];

/// Writes `header`, then `rows` serialised without their own header.
fn write_table<T: Serialize>(path: &Path, header: &[&str], rows: &[T]) -> Result<(), csv::Error> {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_path(path)?;
    w.write_record(header)?;
    for r in rows {
        w.serialize(r)?;
    }
    w.flush()?;
    Ok(())
}

fn opt_day(d: Option<f64>, extrapolated: bool) -> String {
    match d {
        Some(d) if extrapolated => format!("day ~{d:.1} (extrapolated at the net rate)"),
        Some(d) => format!("day {d:.1}"),
        None => "never at the net rate".into(),
    }
}

impl PlanReport {
    /// Writes `timeline.csv`, `tradeoff.csv`, `components.csv`, `events.csv` and
    /// `thresholds.csv` in `dir`, each with its header.
    pub fn write_csv(&self, dir: &Path) -> Result<(), csv::Error> {
        std::fs::create_dir_all(dir)?;
        write_table(&dir.join("timeline.csv"), &TIMELINE_COLUMNS, &self.timeline)?;
        let trade: Vec<_> = self
            .tradeoff
            .iter()
            .map(|r| {
                (
                    r.chunk.0,
                    r.peak_data_bytes.0,
                    r.peak_meta_bytes.0,
                    r.peak_total_bytes.0,
                    r.cow_bytes.0,
                    r.peak_mapped_chunks,
                    r.days_to_full
                        .map(|d| format!("{d:.2}"))
                        .unwrap_or_default(),
                    r.extrapolated,
                )
            })
            .collect();
        write_table(&dir.join("tradeoff.csv"), &TRADEOFF_COLUMNS, &trade)?;
        write_table(
            &dir.join("components.csv"),
            &COMPONENTS_COLUMNS,
            &self.components,
        )?;
        write_table(&dir.join("events.csv"), &EVENTS_COLUMNS, &self.events)?;
        write_table(
            &dir.join("thresholds.csv"),
            &THRESHOLDS_COLUMNS,
            &self.thresholds,
        )?;
        Ok(())
    }

    /// A terse table for a terminal.
    pub fn text(&self) -> String {
        let f = &self.fleet;
        let cb = f.pool.chunk.bytes().0;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "plan {}: pool {} data / {} metadata, {} chunks ({} blocks); {} images, {} containers, thins of {}",
            f.name,
            f.pool.data_size.human(),
            f.pool.metadata_size.human(),
            f.pool.chunk.bytes().human(),
            self.data_blocks_total,
            f.images.len(),
            self.timeline.first().map(|r| r.containers).unwrap_or(0),
            f.thin_size.human()
        );
        let _ = writeln!(
            s,
            "horizon {:.0} days (simulated {:.0} days); the typed pool decides only what is reported about it, not the recommendation",
            self.horizon_days, self.span_days
        );
        let _ = writeln!(s, "\nat time 0 (typed pool):");
        for c in &self.components {
            let bytes = if c.name.starts_with("metadata") {
                c.data_blocks * 4096
            } else {
                c.data_blocks * cb
            };
            let _ = writeln!(
                s,
                "  {:<44} {:>12} blocks {:>12}",
                c.name,
                c.data_blocks,
                Bytes(bytes).approx()
            );
        }
        let m = &self.initial_metadata;
        let _ = writeln!(
            s,
            "  {:<44} {:>12} blocks {:>12}  ({:.1}% of the pool)",
            "data total",
            self.initial_data_blocks,
            self.initial_data_bytes.approx(),
            self.initial_data_blocks as f64 * 100.0 / self.data_blocks_total.max(1) as f64
        );
        let _ = writeln!(
            s,
            "  {:<44} {:>12} blocks {:>12}  (status shows {} with the kernel's reserve)",
            "metadata total (model)",
            m.total,
            Bytes(m.total * 4096).approx(),
            m.status_used
        );
        let _ = writeln!(
            s,
            "  overprovisioning {:.1}x; copy-on-write breaks {} blocks",
            self.overprovisioning, self.cow_blocks
        );
        let r = &self.rates;
        let gb = |b: f64| Bytes(b.max(0.0) as u64).approx();
        let _ = writeln!(
            s,
            "\nrates (the fleet's demand, days {:.1}-{:.1}, the second half of the simulation):",
            r.window_from_day, r.window_to_day
        );
        let _ = writeln!(
            s,
            "  gross {}/day allocated (new data and copy-on-write, before deletes free any)",
            gb(r.gross_bytes_per_day)
        );
        let _ = writeln!(
            s,
            "  net   {}{}/day in use (gross minus what deletes and churn free); metadata net {:+.1} blocks/day",
            if r.net_bytes_per_day < 0.0 { "-" } else { "" },
            gb(r.net_bytes_per_day.abs()),
            r.metadata_net_blocks_per_day
        );
        let _ = writeln!(
            s,
            "  at time 0 the running containers write {}/day (write rate × containers)",
            gb(r.time0_write_bytes_per_day)
        );
        let _ = writeln!(
            s,
            "typed pool: data full {}; the demand exceeds its data size {}{}",
            opt_day(self.days_to_full, self.days_to_full_extrapolated),
            opt_day(
                self.demand_exceeds_pool_day,
                self.demand_exceeds_pool_extrapolated
            ),
            if self.refused_starts > 0 {
                format!(
                    "; {} container starts refused by min_free_space",
                    self.refused_starts
                )
            } else {
                String::new()
            }
        );
        let n = self.timeline.len();
        let every = (n / 8).max(1);
        let _ = writeln!(
            s,
            "  {:>7} {:>8} {:>12} {:>7} {:>10} {:>7} {:>6}",
            "day", "thins", "data used", "used%", "meta used", "meta%", "overp"
        );
        for (i, r) in self.timeline.iter().enumerate() {
            if i % every != 0 && i + 1 != n {
                continue;
            }
            let _ = writeln!(
                s,
                "  {:>7.1} {:>8} {:>12} {:>6.1}% {:>10} {:>6.1}% {:>5.1}x",
                r.day,
                r.thins,
                Bytes(r.data_used * cb).approx(),
                r.data_used_pct,
                Bytes(r.meta_status_used * 4096).approx(),
                r.meta_used_pct,
                r.overprovisioning
            );
        }
        let _ = writeln!(s, "\nevents (typed pool), every threshold:");
        for t in &self.thresholds {
            let when = match (t.status, t.day) {
                (Status::Fired, Some(d)) => format!("day {d:.1}"),
                (Status::Off, _) => "off".into(),
                _ => String::new(),
            };
            let detail = if t.status == Status::Fired || t.status == Status::Off {
                String::new()
            } else {
                t.detail.clone()
            };
            let _ = writeln!(s, "  {:<30} {:<30} {:<9} {}", t.name, t.level, when, detail);
        }
        let others: Vec<_> = self
            .events
            .iter()
            .filter(|e| !self.thresholds.iter().any(|t| t.name == e.what))
            .collect();
        for e in others {
            let _ = writeln!(s, "  {:<30} day {:.1}: {}", e.what, e.day, e.detail);
        }
        let mc = &self.metadata;
        let p = &mc.thin_metadata_size;
        let _ = writeln!(
            s,
            "\nmetadata: model peak on the typed pool {} blocks ({})",
            mc.model_peak_blocks,
            mc.model_peak_bytes.approx()
        );
        let _ = writeln!(
            s,
            "  like for like ({} vs {}, the {} pool: {} data, {} chunks, {} thins): model {} ({} blocks)",
            p.quantity,
            p.quantity,
            p.pool,
            p.data_size_bytes.human(),
            p.chunk_bytes.human(),
            p.thins,
            Bytes(p.model_blocks * 4096).approx(),
            p.model_blocks
        );
        match (&p.peer.bytes, &p.peer.skipped) {
            (Some(b), _) => {
                let _ = writeln!(
                    s,
                    "  thin_metadata_size: {} ({:+.0}% vs the model; it assumes half-full leaves)",
                    Bytes(*b).approx(),
                    p.peer_vs_model_pct.unwrap_or(0.0)
                );
                let _ = writeln!(s, "    ran: {}", p.peer.command);
            }
            (None, why) => {
                let _ = writeln!(
                    s,
                    "  thin_metadata_size: skipped: {}; its formula gives {} blocks",
                    why.as_deref().unwrap_or("no estimate"),
                    p.formula_blocks
                );
            }
        }
        let _ = writeln!(s, "  model error: {}", mc.model_error);
        if !self.tradeoff.is_empty() {
            let _ = writeln!(
                s,
                "\nchunk size trade-off (the demand's peaks over the horizon; days until it exceeds the typed pool):"
            );
            let _ = writeln!(
                s,
                "  {:>7} {:>12} {:>12} {:>12} {:>12} {:>14} {:>10}",
                "chunk", "data", "metadata", "total", "CoW moved", "mapped chunks", "days full"
            );
            for r in &self.tradeoff {
                let _ = writeln!(
                    s,
                    "  {:>7} {:>12} {:>12} {:>12} {:>12} {:>14} {:>10}",
                    r.chunk.human(),
                    r.peak_data_bytes.approx(),
                    r.peak_meta_bytes.approx(),
                    r.peak_total_bytes.approx(),
                    r.cow_bytes.approx(),
                    r.peak_mapped_chunks,
                    r.days_to_full
                        .map(|d| format!("{}{d:.1}", if r.extrapolated { "~" } else { "" }))
                        .unwrap_or_else(|| "-".into())
                );
            }
        }
        let r = &self.recommendation;
        let _ = writeln!(
            s,
            "\nrecommended: data {}, metadata {}, chunk {} (from the demand; holds through the {:.0}-day horizon with {:.1}% data free at the peak; lasts to {})",
            r.data_size.human(),
            r.metadata_size.human(),
            r.chunk.human(),
            r.horizon_days,
            r.data_headroom_pct,
            match r.lasts_days {
                Some(d) => format!("day {d:.1} at the net rate"),
                None => "no end at the net rate".into(),
            }
        );
        for w in &r.why {
            let _ = writeln!(s, "  {w}");
        }
        let _ = writeln!(
            s,
            "model: {:.0} ms, {} thins, {} extents, {} ref-count ranges",
            self.model.ms, self.model.thins, self.model.extents, self.model.ref_ranges
        );
        s
    }
}
