//! The "IO work" section: per step, the IO the pool sent its data and metadata devices
//! (the block layer's counters, `io.data.*` / `io.metadata.*`), and per user IO and
//! byte where the step had a workload (amplification).

use super::builder::Builder;
use crate::model::{MetricRow, ReportModel};
use crate::render::document::{Block, Cell};
use thinbench_schema::format;
use thinbench_schema::units::Bytes;

/// Whether a metric is one of the IO-work counters this section shows (and the
/// "Metrics" table leaves to it).
pub(super) fn is_io_work(name: &str) -> bool {
    name.starts_with("io.data.") || name.starts_with("io.metadata.")
}

/// The counters' columns: (metric name after `io.<device>.`, header, is bytes).
const COUNTERS: [(&str, &str, bool); 7] = [
    ("reads", "reads", false),
    ("read_bytes", "read", true),
    ("writes", "writes", false),
    ("write_bytes", "written", true),
    ("discards", "discards", false),
    ("discard_bytes", "discarded", true),
    ("flushes", "flushes", false),
];

/// The amplification columns: (device, metric, header).
const RATIOS: [(&str, &str, &str); 6] = [
    ("data", "writes_per_io", "data writes / IO"),
    ("data", "write_bytes_per_byte", "data bytes written / byte"),
    ("data", "read_bytes_per_byte", "data bytes read / byte"),
    ("metadata", "writes_per_io", "metadata writes / IO"),
    (
        "metadata",
        "write_bytes_per_byte",
        "metadata bytes written / byte",
    ),
    ("metadata", "reads_per_io", "metadata reads / IO"),
];

pub(super) fn io_work_section(b: &mut Builder, m: &ReportModel) {
    let rows: Vec<&MetricRow> = m
        .metrics
        .iter()
        .filter(|r| is_io_work(&r.metric.name))
        .collect();
    if rows.is_empty() {
        return;
    }
    // One line per (pool, step), in the order the steps ran.
    let mut steps: Vec<(usize, usize, &str)> = Vec::new();
    for r in &rows {
        let k = (r.pool, r.step_index, r.step.as_str());
        if !steps.contains(&k) {
            steps.push(k);
        }
    }
    let value = |k: &(usize, usize, &str), name: &str| -> Option<f64> {
        rows.iter()
            .find(|r| (r.pool, r.step_index, r.step.as_str()) == *k && r.metric.name == name)
            .map(|r| r.metric.value)
    };
    b.h(2, "IO work");
    b.text(
        "What the pool sent its data and metadata devices during each step, from the block \
         layer's counters of the devices its table names (`/sys/dev/block/M:m/stat`), read \
         just before and just after the step's action: exact counts, no statistics. Writes \
         include empty flushes (0 bytes). Flushes are counted only by request-based devices \
         (loop-lvm's loop devices, where a metadata commit shows as 2); on direct-lvm's dm \
         devices they are n/a. n/a also where the kernel has no such counter or the device \
         was replaced during the step.",
    );
    for (dev, title) in [("data", "data device"), ("metadata", "metadata device")] {
        let mut header: Vec<(&str, bool)> = vec![("step", false), ("pool", false)];
        header.extend(COUNTERS.iter().map(|c| (c.1, true)));
        let mut t = b.table(
            &format!("io-{dev}"),
            &format!("IO sent to the pool's {title}, per step"),
            &header,
        );
        for k in &steps {
            if value(k, &format!("io.{dev}.writes")).is_none() {
                continue;
            }
            let mut row = vec![Cell::text(k.2), Cell::text(&m.pools[k.0].label)];
            for (name, _, bytes) in COUNTERS {
                let v = value(k, &format!("io.{dev}.{name}"));
                row.push(if bytes {
                    Cell::opt(v, |x| format::bytes(Bytes(x as u64)))
                } else {
                    Cell::opt(v, format::number)
                });
            }
            t.rows.push(row);
        }
        if !t.rows.is_empty() {
            b.blocks.push(Block::Table(t));
        }
    }
    let with_ratios: Vec<_> = steps
        .iter()
        .filter(|k| value(k, "io.data.writes_per_io").is_some())
        .collect();
    if with_ratios.is_empty() {
        return;
    }
    let mut header: Vec<(&str, bool)> = vec![("step", false), ("pool", false)];
    header.extend(RATIOS.iter().map(|r| (r.2, true)));
    let mut t = b.table(
        "io-amplification",
        "IO amplification: device IO per user IO and per user byte (workload steps)",
        &header,
    );
    for k in with_ratios {
        let mut row = vec![Cell::text(k.2), Cell::text(&m.pools[k.0].label)];
        for (dev, name, _) in RATIOS {
            row.push(Cell::opt(
                value(k, &format!("io.{dev}.{name}")),
                format::sig3,
            ));
        }
        t.rows.push(row);
    }
    b.blocks.push(Block::Table(t));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_work_is_the_device_counters_only() {
        assert!(is_io_work("io.data.writes"));
        assert!(is_io_work("io.metadata.flushes"));
        assert!(!is_io_work("io.max_in_flight"));
        assert!(!is_io_work("oracle.thin_ls_metadata_writes"));
    }
}
