//! The `discard` action: BLKDISCARD of byte ranges of a thin. The model unmaps the
//! whole chunks of each range the kernel took (its prediction: minus the blocks freed,
//! which no other thin shares), and the case forgets what it wrote there: those chunks
//! read as zeroes now, and the next write to one provisions it again. What the case
//! still knows of the thin is read back (the integrity oracle).

use thinbench_schema::ids::Ident;
use thinbench_schema::record::{Better, MetricKind};
use thinbench_schema::units::Bytes;

use super::ctx::{metric, ActionOutput, StepCtx};
use super::write::verify_thin;
use crate::runner::case::{CaseState, LoggedWrite};
use crate::runner::error::StepError;
use crate::spec::DiscardSpec;

/// Run a `discard` step. A discard the kernel refuses (EINVAL past the end, EOPNOTSUPP
/// on an `ignore_discard` pool) ends the step with its errno; the ones before it stay
/// done, in the model too.
pub fn run(ctx: &mut StepCtx<'_>, d: &DiscardSpec) -> Result<ActionOutput, StepError> {
    let t = ctx
        .backend
        .thin(&d.thin)
        .ok_or_else(|| format!("no thin {}", d.thin))?
        .clone();
    let chunk = ctx.pool.chunk.bytes();
    let ranges = d.ranges(t.size);
    let (mut done, mut bytes, mut unmapped, mut freed) = (0u64, 0u64, 0u64, 0u64);
    for &(offset, len) in &ranges {
        ctx.backend.discard(&d.thin, offset, len)?;
        let model = ctx
            .state
            .model
            .as_mut()
            .ok_or_else(|| StepError::from("no model"))?;
        // The pool's feature, as its table has it (the kernel refuses to change it).
        model.set_ignore_discard(ctx.pool.ignore_discard);
        let e = model.discard(t.id, offset, len)?;
        forget(ctx.state, &d.thin, offset, len, chunk);
        done += 1;
        bytes += len.0;
        unmapped += e.unmapped.0;
        freed += e.freed.0;
    }
    if d.flush {
        let node = t.file.clone().unwrap_or_else(|| t.dm.devnode());
        let io = |e| StepError::io(format!("flushing {}", node.display()), e);
        std::fs::OpenOptions::new()
            .write(true)
            .open(&node)
            .and_then(|f| f.sync_all())
            .map_err(io)?;
    }
    // The rest of the thin is untouched: every write the case still knows reads back
    // (in partial chunks too, which dm-thin leaves mapped).
    let kept = verify_thin(ctx, &d.thin, &format!("{} after the discards", d.thin))?;
    let m = |name: &str, v: u64, unit: &str| {
        metric(name, v as f64, unit, MetricKind::Exact, Better::Neither)
    };
    Ok(ActionOutput {
        predicted: Some(-(freed as i64)),
        checks: vec![kept],
        metrics: vec![
            m("discard.requests", done, "count"),
            m("discard.bytes", bytes, "bytes"),
            m("discard.model_chunks_unmapped", unmapped, "count"),
            m("discard.model_blocks_freed", freed, "count"),
        ],
        ..Default::default()
    })
}

/// The whole chunks of `[offset, offset + len)`, as `[start, end)` bytes (empty when
/// the range covers none).
fn whole_chunks(offset: Bytes, len: Bytes, chunk: Bytes) -> (u64, u64) {
    let start = offset.0.div_ceil(chunk.0) * chunk.0;
    let end = offset.0.saturating_add(len.0) / chunk.0 * chunk.0;
    (start, end.max(start))
}

/// What the case knows of `thin`'s data, minus the discarded whole chunks: their
/// writes leave the integrity logs (cut where a write straddles the edge) and their
/// chunks the written set.
fn forget(state: &mut CaseState, thin: &Ident, offset: Bytes, len: Bytes, chunk: Bytes) {
    let (start, end) = whole_chunks(offset, len, chunk);
    if start >= end {
        return;
    }
    for logs in [&mut state.log, &mut state.acked] {
        if let Some(log) = logs.get_mut(thin) {
            *log = cut(log, start, end);
        }
    }
    if let Some(w) = state.written.get_mut(thin) {
        w.retain(|c| *c < start / chunk.0 || *c >= end / chunk.0);
    }
}

/// `log` without the bytes `[start, end)`: writes inside it go, writes across an edge
/// keep the part outside (order kept: newer writes still come later).
fn cut(log: &[LoggedWrite], start: u64, end: u64) -> Vec<LoggedWrite> {
    let mut out = Vec::with_capacity(log.len());
    for &(off, len, generation) in log {
        let (a, b) = (off.0, off.0 + len.0);
        if b <= start || a >= end {
            out.push((off, len, generation));
            continue;
        }
        if a < start {
            out.push((off, Bytes(start - a), generation));
        }
        if b > end {
            out.push((Bytes(end), Bytes(b - end), generation));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: u64 = 65536;

    #[test]
    fn whole_chunks_round_the_start_up_and_the_end_down() {
        assert_eq!(whole_chunks(Bytes(0), Bytes(C), Bytes(C)), (0, C));
        assert_eq!(whole_chunks(Bytes(512), Bytes(2 * C), Bytes(C)), (C, 2 * C));
        // Inside one chunk: none.
        let (s, e) = whole_chunks(Bytes(4096), Bytes(8192), Bytes(C));
        assert!(s >= e);
    }

    #[test]
    fn cut_keeps_what_lies_outside_the_discarded_bytes() {
        let log = vec![
            (Bytes(0), Bytes(C), 1),           // inside: gone
            (Bytes(C - 4096), Bytes(8192), 2), // across the end: its tail stays
            (Bytes(2 * C), Bytes(4096), 3),    // outside: kept
        ];
        let out = cut(&log, 0, C);
        assert_eq!(
            out,
            vec![(Bytes(C), Bytes(4096), 2), (Bytes(2 * C), Bytes(4096), 3)]
        );
        // Across both edges: both ends stay.
        let out = cut(&[(Bytes(0), Bytes(3 * C), 7)], C, 2 * C);
        assert_eq!(
            out,
            vec![(Bytes(0), Bytes(C), 7), (Bytes(2 * C), Bytes(C), 7)]
        );
    }
}
