//! A `file` write as records at offsets: one record of the whole size, or a layout's
//! `size / io_size` records written in order or in a seeded permutation of their slots
//! (dt's sequential and random IO at file level). Each record is one `pwrite` at its own
//! offset, so the finished file is the same records in file order whatever the order
//! they were written in; that is what the file model learns.

use std::fs::OpenOptions;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use thinbench_workloads::latency::LatencyRecorder;

use super::fs_state::Record;
use crate::spec::{FileLayout, FileOrder};

/// The records of one file write, in file order, and the order they are written in.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The path, relative to the filesystem's root (each header names it).
    pub path: String,
    /// The records, in file order, all of one length (record `i` at `i` lengths).
    pub records: Vec<Record>,
    /// Indexes into `records`, in write order.
    pub order: Vec<usize>,
}

impl Plan {
    /// The plan of a `write` of `size` bytes by step `step` on `thin`; `seq` gives each
    /// record its case-unique number.
    pub fn new(
        step: &str,
        thin: &str,
        path: &str,
        size: u64,
        layout: Option<FileLayout>,
        seq: &mut dyn FnMut() -> u64,
    ) -> Plan {
        let (len, n) = match layout {
            Some(l) if l.record.0 > 0 => (l.record.0, (size / l.record.0).max(1)),
            _ => (size, 1),
        };
        let records = (0..n)
            .map(|_| Record {
                step: step.to_owned(),
                thin: thin.to_owned(),
                seq: seq(),
                len,
            })
            .collect();
        let mut order: Vec<usize> = (0..n as usize).collect();
        if let Some(FileLayout {
            order: FileOrder::Random { seed },
            ..
        }) = layout
        {
            shuffle(&mut order, seed);
        }
        Plan {
            path: path.to_owned(),
            records,
            order,
        }
    }

    /// Every record of a plan has one length.
    fn offset(&self, i: usize) -> u64 {
        i as u64 * self.records.first().map_or(0, |r| r.len)
    }
}

/// Fisher–Yates with splitmix64: the same permutation for the same seed, everywhere.
fn shuffle(v: &mut [usize], seed: u64) {
    let mut x = seed;
    let mut next = || {
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    for i in (1..v.len()).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}

/// What a plan's writes did.
#[derive(Debug)]
pub struct Written {
    /// Records written.
    pub records: u64,
    /// Bytes written.
    pub bytes: u64,
    /// From the open to the end of the fsync.
    pub elapsed: Duration,
    /// Per record write.
    pub latency: LatencyRecorder,
    /// `stop` was set before every record was written.
    pub interrupted: bool,
}

/// Writes `plan` to `file` (already resolved inside its filesystem: created or
/// truncated, opened without following a symlink); with `fsync`, the file and its
/// directory are synced after. Checks `stop` before each record.
pub fn write(file: &Path, plan: &Plan, fsync: bool, stop: &AtomicBool) -> Result<Written, String> {
    let started = Instant::now();
    let f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(file)
        .map_err(|e| format!("{}: {e}", file.display()))?;
    let mut out = Written {
        records: 0,
        bytes: 0,
        elapsed: Duration::ZERO,
        latency: LatencyRecorder::new(),
        interrupted: false,
    };
    for &i in &plan.order {
        // SIGINT/SIGTERM end the run as the case's stop does: at the next record.
        if stop.load(Ordering::SeqCst) || crate::sys::signals::stop_requested() {
            out.interrupted = true;
            break;
        }
        let bytes = plan.records[i].bytes(&plan.path)?;
        let t = Instant::now();
        f.write_all_at(&bytes, plan.offset(i))
            .map_err(|e| format!("{} record {i}: {e}", plan.path))?;
        out.latency.record(t.elapsed());
        out.records += 1;
        out.bytes += bytes.len() as u64;
    }
    if fsync && !out.interrupted {
        f.sync_all()
            .map_err(|e| format!("fsync {}: {e}", plan.path))?;
        let dir = file.parent().unwrap_or(file);
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| format!("fsync {}: {e}", dir.display()))?;
    }
    out.elapsed = started.elapsed();
    Ok(out)
}

/// A foreground write of `plan` into the filesystem mounted at `root`: the file resolved
/// inside it, every record written before it returns.
pub fn write_now(root: &Path, plan: &Plan, fsync: bool) -> Result<(), String> {
    let file = super::fs_state::inside(root, &plan.path, true)?;
    write(&file, plan, fsync, &AtomicBool::new(false)).and_then(|w| {
        if w.interrupted {
            Err("interrupted".into())
        } else {
            Ok(())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::fs_state::decode;
    use thinbench_schema::units::Bytes;

    fn plan(order: FileOrder) -> Plan {
        let mut n = 10;
        let layout = FileLayout {
            record: Bytes(4096),
            order,
        };
        Plan::new("w", "t", "d/f", 8 * 4096, Some(layout), &mut || {
            n += 1;
            n
        })
    }

    #[test]
    fn a_random_layout_writes_every_slot_once_in_a_seeded_order() {
        let p = plan(FileOrder::Random { seed: 7 });
        let mut sorted = p.order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..8).collect::<Vec<_>>());
        assert_ne!(p.order, sorted, "seed 7 leaves 8 slots in order");
        assert_eq!(p.order, plan(FileOrder::Random { seed: 7 }).order);
        assert_ne!(p.order, plan(FileOrder::Random { seed: 8 }).order);
        assert_eq!(plan(FileOrder::Sequential).order, sorted);
        // Distinct numbers, in file order.
        let seqs: Vec<u64> = p.records.iter().map(|r| r.seq).collect();
        assert_eq!(seqs, (11..19).collect::<Vec<_>>());
    }

    #[test]
    fn a_file_written_out_of_order_reads_back_as_its_records_in_file_order() {
        let dir = tempfile::tempdir().unwrap();
        let p = plan(FileOrder::Random { seed: 3 });
        let file = dir.path().join("f");
        let w = write(&file, &p, true, &AtomicBool::new(false)).unwrap();
        assert_eq!((w.records, w.bytes, w.interrupted), (8, 8 * 4096, false));
        let read = decode(&std::fs::read(&file).unwrap()).unwrap();
        assert_eq!(read.len(), 8);
        assert!(read.iter().all(|(s, l)| s == "w@t" && *l == 4096));
        // A stop before the first record writes nothing and says so.
        let w = write(&file, &p, true, &AtomicBool::new(true)).unwrap();
        assert_eq!((w.records, w.interrupted), (0, true));
        assert_eq!(std::fs::metadata(&file).unwrap().len(), 0);
    }

    #[test]
    fn one_record_without_a_layout() {
        let p = Plan::new("w", "t", "f", 5000, None, &mut || 1);
        assert_eq!(
            (p.records.len(), p.records[0].len, p.order.clone()),
            (1, 5000, vec![0])
        );
    }
}
