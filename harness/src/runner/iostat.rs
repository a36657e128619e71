//! A step's IO work: what the pool sent its data and metadata devices during the step,
//! from the block layer's counters of the two devices its table names, read just before
//! the action and just after it — so the `thin_ls` cross-check (its metadata snapshot
//! and reads), which runs after the second reading, is not counted as the step's.
//! Recorded as `io.data.*` and `io.metadata.*` metrics (docs/results.md).

use thinbench_schema::record::{Better, Metric, MetricKind, WorkloadStats};

use crate::backend::iostat::{DeviceIo, DiskStats, PoolIo};
use crate::backend::PoolBackend;

/// A sector of the block layer's counters.
const SECTOR: f64 = 512.0;

/// The counters now, or why there are none (`not measured: …`).
pub(super) fn read(backend: &dyn PoolBackend) -> Result<PoolIo, String> {
    match backend.io_counters() {
        Ok(Some(io)) => Ok(io),
        Ok(None) => Err("not measured: this pool has no block devices (the fake pool)".into()),
        Err(e) => Err(format!("not measured: {e}")),
    }
}

/// The step's `io.*` metrics from the readings around it, and a note for a device whose
/// figures are left out (absent, never zeros).
pub(super) fn metrics(
    before: &PoolIo,
    after: &PoolIo,
    workload: Option<&WorkloadStats>,
) -> (Vec<Metric>, Option<String>) {
    let mut out = Vec::new();
    let mut notes = Vec::new();
    for (name, b, a) in [
        ("data", &before.data, &after.data),
        ("metadata", &before.metadata, &after.metadata),
    ] {
        match delta(b, a) {
            Ok(d) => device_metrics(&mut out, name, &d, a.request_based, workload),
            Err(why) => notes.push(format!("{name} device not measured: {why}")),
        }
    }
    let note = (!notes.is_empty()).then(|| notes.join("; "));
    (out, note)
}

/// The metadata-device IO of the `thin_ls` cross-check (reserve a metadata snapshot,
/// read it, release it): harness cost, `oracle.thin_ls_metadata_*`, with no better or
/// worse. Empty when the device changed under it.
pub(super) fn crosscheck_metrics(before: &PoolIo, after: &PoolIo) -> Vec<Metric> {
    let Ok(d) = delta(&before.metadata, &after.metadata) else {
        return Vec::new();
    };
    let m = |n: &str, v: u64| Metric {
        name: format!("oracle.thin_ls_metadata_{n}"),
        value: v as f64,
        unit: "count".into(),
        kind: MetricKind::Exact,
        better: Better::Neither,
    };
    vec![m("reads", d.reads), m("writes", d.writes)]
}

/// One device's change over the step.
fn delta(b: &DeviceIo, a: &DeviceIo) -> Result<DiskStats, String> {
    if b.dev != a.dev {
        return Err(format!(
            "the pool's table named {} before the step and {} after it",
            b.dev, a.dev
        ));
    }
    a.stats.since(&b.stats).ok_or_else(|| {
        format!(
            "{}'s counters went down: another device took its number",
            a.dev
        )
    })
}

fn device_metrics(
    out: &mut Vec<Metric>,
    dev: &str,
    d: &DiskStats,
    request_based: bool,
    workload: Option<&WorkloadStats>,
) {
    let mut push = |n: &str, v: f64, unit: &str| {
        out.push(Metric {
            name: format!("io.{dev}.{n}"),
            value: v,
            unit: unit.into(),
            kind: MetricKind::Exact,
            // Less IO for the same user work is better, except discards: fewer passed
            // down is space not given back (passdown lost), so neither way is better.
            better: if n.starts_with("discard") {
                Better::Neither
            } else {
                Better::Lower
            },
        })
    };
    push("reads", d.reads as f64, "count");
    push("read_bytes", d.read_sectors as f64 * SECTOR, "bytes");
    push("writes", d.writes as f64, "count");
    push("write_bytes", d.write_sectors as f64 * SECTOR, "bytes");
    if let (Some(n), Some(s)) = (d.discards, d.discard_sectors) {
        push("discards", n as f64, "count");
        push("discard_bytes", s as f64 * SECTOR, "bytes");
    }
    // Only a request-based device counts flushes; a bio-based one (dm) counts an empty
    // flush as a write of 0 bytes and leaves the flush field 0, a zero that means nothing.
    if let Some(n) = d.flushes.filter(|_| request_based) {
        push("flushes", n as f64, "count");
    }
    // Amplification: only where the step had user IO to divide by.
    if let Some(w) = workload.filter(|w| w.ops > 0 && w.bytes.0 > 0) {
        let (ops, bytes) = (w.ops as f64, w.bytes.0 as f64);
        push("reads_per_io", d.reads as f64 / ops, "ratio");
        push("writes_per_io", d.writes as f64 / ops, "ratio");
        push(
            "read_bytes_per_byte",
            d.read_sectors as f64 * SECTOR / bytes,
            "ratio",
        );
        push(
            "write_bytes_per_byte",
            d.write_sectors as f64 * SECTOR / bytes,
            "ratio",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::iostat::DevNum;
    use thinbench_schema::units::Bytes;

    fn dev(minor: u32, writes: u64, flushes: Option<u64>) -> DeviceIo {
        DeviceIo {
            dev: DevNum { major: 7, minor },
            request_based: true,
            stats: DiskStats {
                writes,
                write_sectors: writes * 8,
                discards: flushes.map(|_| 0),
                discards_merged: flushes.map(|_| 0),
                discard_sectors: flushes.map(|_| 0),
                flushes,
                ..DiskStats::default()
            },
        }
    }

    fn get<'a>(m: &'a [Metric], n: &str) -> Option<&'a Metric> {
        m.iter().find(|x| x.name == n)
    }

    #[test]
    fn differences_per_device_and_per_user_io() {
        let b = PoolIo {
            data: dev(0, 100, Some(1)),
            metadata: dev(1, 10, Some(2)),
        };
        let a = PoolIo {
            data: dev(0, 164, Some(1)),
            metadata: dev(1, 14, Some(4)),
        };
        let w = WorkloadStats {
            ops: 64,
            bytes: Bytes(64 * 4096),
            ..WorkloadStats::default()
        };
        let (m, note) = metrics(&b, &a, Some(&w));
        assert_eq!(note, None);
        assert_eq!(get(&m, "io.data.writes").unwrap().value, 64.0);
        assert_eq!(get(&m, "io.data.write_bytes").unwrap().value, 64.0 * 4096.0);
        assert_eq!(get(&m, "io.metadata.flushes").unwrap().value, 2.0);
        assert_eq!(get(&m, "io.data.writes_per_io").unwrap().value, 1.0);
        assert_eq!(
            get(&m, "io.metadata.writes_per_io").unwrap().value,
            4.0 / 64.0
        );
        assert_eq!(get(&m, "io.data.write_bytes_per_byte").unwrap().value, 1.0);
        assert!(m.iter().all(|x| x.kind == MetricKind::Exact));
        assert!(m
            .iter()
            .all(|x| (x.better == Better::Neither) == x.name.contains(".discard")));
        // No workload: counters, no ratios.
        let (m, _) = metrics(&b, &a, None);
        assert!(get(&m, "io.data.writes").is_some());
        assert!(get(&m, "io.data.writes_per_io").is_none());
    }

    #[test]
    fn a_kernel_without_discard_or_flush_counters_records_none_of_them() {
        let b = PoolIo {
            data: dev(0, 1, None),
            metadata: dev(1, 1, None),
        };
        let (m, _) = metrics(&b, &b, None);
        assert!(get(&m, "io.data.writes").is_some_and(|x| x.value == 0.0));
        for n in ["io.data.discards", "io.data.flushes", "io.metadata.flushes"] {
            assert!(get(&m, n).is_none(), "{n}");
        }
    }

    #[test]
    fn a_bio_based_device_has_no_flush_figure() {
        let mut b = PoolIo {
            data: dev(0, 1, Some(0)),
            metadata: dev(1, 1, Some(0)),
        };
        b.metadata.request_based = false;
        let (m, _) = metrics(&b, &b, None);
        assert!(get(&m, "io.data.flushes").is_some());
        assert!(get(&m, "io.metadata.flushes").is_none());
        assert!(get(&m, "io.metadata.discards").is_some());
    }

    #[test]
    fn the_crosscheck_counts_apart_on_the_metadata_device() {
        let b = PoolIo {
            data: dev(0, 1, Some(0)),
            metadata: dev(1, 10, Some(0)),
        };
        let a = PoolIo {
            metadata: dev(1, 16, Some(0)),
            ..b
        };
        let m = crosscheck_metrics(&b, &a);
        assert_eq!(
            get(&m, "oracle.thin_ls_metadata_writes").unwrap().value,
            6.0
        );
        assert_eq!(get(&m, "oracle.thin_ls_metadata_reads").unwrap().value, 0.0);
        assert!(m.iter().all(|x| x.better == Better::Neither));
    }

    #[test]
    fn a_replaced_device_is_left_out_and_said_so() {
        let b = PoolIo {
            data: dev(0, 100, Some(1)),
            metadata: dev(1, 10, Some(2)),
        };
        let a = PoolIo {
            data: dev(0, 120, Some(1)),
            metadata: dev(5, 3, Some(0)),
        };
        let (m, note) = metrics(&b, &a, None);
        assert!(get(&m, "io.data.writes").is_some());
        assert!(m.iter().all(|x| !x.name.starts_with("io.metadata.")));
        let note = note.unwrap();
        assert!(
            note.contains("metadata device not measured") && note.contains("7:5"),
            "{note}"
        );
        // Same number, counters down: a new device.
        let a = PoolIo {
            data: dev(0, 50, Some(1)),
            ..b
        };
        let (m, note) = metrics(&b, &a, None);
        assert!(m.iter().all(|x| !x.name.starts_with("io.data.")));
        assert!(note.unwrap().contains("went down"));
    }
}
