//! The expectations that watch discards: `mapped` (each named thin's mapped blocks after
//! the step, as the kernel's metadata has them: `thin_ls`) and `data_discard_bytes`
//! (what the pool discarded on its data device during the step: the block layer's
//! counters, read just before and just after the action).

use thinbench_schema::ids::Ident;
use thinbench_schema::record::ExpectationResult;
use thinbench_schema::units::Bytes;

use super::case::{check, verdict};
use crate::backend::iostat::PoolIo;
use crate::backend::PoolBackend;
use crate::spec::StepSpec;

/// `expect.mapped`: every named thin maps that many blocks, by `thin_ls`.
pub(super) fn mapped(
    want: &[(Ident, u64)],
    backend: &dyn PoolBackend,
    step: &StepSpec,
) -> ExpectationResult {
    let shown = |v: &[(String, String)]| {
        v.iter()
            .map(|(n, b)| format!("{n}={b}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let expected: Vec<(String, String)> = want
        .iter()
        .map(|(n, b)| (n.to_string(), b.to_string()))
        .collect();
    let rows = backend.thin_ls();
    let observed: Vec<(String, String)> = want
        .iter()
        .map(|(name, _)| {
            let got = match (backend.thin(name), &rows) {
                (None, _) => "no such thin".to_owned(),
                (Some(_), Err(e)) => format!("unknown (thin_ls: {e})"),
                (Some(t), Ok(rows)) => rows
                    .iter()
                    .find(|r| r.dev == u64::from(t.id.get()))
                    .map_or_else(|| "not in thin_ls".to_owned(), |r| r.mapped.to_string()),
            };
            (name.to_string(), got)
        })
        .collect();
    check(
        "mapped data blocks per thin (thin_ls)",
        shown(&expected),
        shown(&observed),
        step,
    )
}

/// Bytes discarded on the data device between the two readings, or why not known.
pub(super) fn discarded(
    before: &Result<PoolIo, String>,
    after: &Result<PoolIo, String>,
) -> Result<u64, String> {
    let (b, a) = match (before, after) {
        (Ok(b), Ok(a)) => (b, a),
        (Err(e), _) | (_, Err(e)) => return Err(e.clone()),
    };
    if b.data.dev != a.data.dev {
        return Err(format!(
            "not measured: the pool's table named {} before the step and {} after it",
            b.data.dev, a.data.dev
        ));
    }
    let d = a
        .data
        .stats
        .since(&b.data.stats)
        .ok_or_else(|| format!("not measured: {}'s counters went down", a.data.dev))?;
    d.discard_sectors
        .map(|s| s * 512)
        .ok_or_else(|| "not measured: this kernel has no discard counters (before 4.18)".into())
}

/// `expect.data_discard_bytes`: exactly that many bytes reached the data device.
pub(super) fn data_discard_bytes(
    want: Bytes,
    before: &Result<PoolIo, String>,
    after: &Result<PoolIo, String>,
    step: &StepSpec,
) -> ExpectationResult {
    let got = discarded(before, after);
    verdict(
        "bytes discarded on the data device",
        want.0.to_string(),
        match &got {
            Ok(n) => n.to_string(),
            Err(e) => e.clone(),
        },
        got.as_ref().is_ok_and(|n| *n == want.0),
        step,
    )
}

/// `expect.metadata_written`: whether the metadata device took any write during the step
/// (dm-thin writes its metadata when it commits, and commits only what changed).
pub(super) fn metadata_written(
    want: bool,
    before: &Result<PoolIo, String>,
    after: &Result<PoolIo, String>,
    step: &StepSpec,
) -> ExpectationResult {
    let got = match (before, after) {
        (Ok(b), Ok(a)) if b.metadata.dev == a.metadata.dev => a
            .metadata
            .stats
            .since(&b.metadata.stats)
            .map(|d| d.writes)
            .ok_or_else(|| format!("not measured: {}'s counters went down", a.metadata.dev)),
        (Ok(b), Ok(a)) => Err(format!(
            "not measured: the pool's table named {} before the step and {} after it",
            b.metadata.dev, a.metadata.dev
        )),
        (Err(e), _) | (_, Err(e)) => Err(e.clone()),
    };
    let said = |w: bool| {
        if w {
            "written (a commit)"
        } else {
            "not written"
        }
    };
    verdict(
        "the metadata device during the step",
        said(want).to_owned(),
        match &got {
            Ok(n) => format!("{} ({n} writes)", said(*n > 0)),
            Err(e) => e.clone(),
        },
        got.as_ref().is_ok_and(|n| (*n > 0) == want),
        step,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::iostat::{DevNum, DeviceIo, DiskStats};
    use thinbench_schema::record::Status;

    fn io(dev: u32, discard_sectors: Option<u64>) -> Result<PoolIo, String> {
        let d = DeviceIo {
            dev: DevNum {
                major: 7,
                minor: dev,
            },
            request_based: true,
            stats: DiskStats {
                discards: discard_sectors.map(|_| 1),
                discards_merged: discard_sectors.map(|_| 0),
                discard_sectors,
                ..Default::default()
            },
        };
        Ok(PoolIo {
            data: d,
            metadata: d,
        })
    }

    #[test]
    fn the_discarded_bytes_are_the_sector_delta_of_the_data_device() {
        assert_eq!(
            discarded(&io(1, Some(256)), &io(1, Some(2304))),
            Ok(2048 * 512)
        );
        assert_eq!(discarded(&io(1, Some(5)), &io(1, Some(5))), Ok(0));
    }

    #[test]
    fn unknown_discards_say_why_and_are_never_zero() {
        let e = discarded(&io(1, Some(0)), &io(2, Some(8))).unwrap_err();
        assert!(e.contains("before the step"), "{e}");
        let e = discarded(&io(1, None), &io(1, None)).unwrap_err();
        assert!(e.contains("no discard counters"), "{e}");
        let e = discarded(&Err("not measured: fake".into()), &io(1, Some(0))).unwrap_err();
        assert!(e.contains("fake"), "{e}");
        let e = discarded(&io(1, Some(9)), &io(1, Some(8))).unwrap_err();
        assert!(e.contains("went down"), "{e}");
    }

    fn with_writes(writes: u64) -> Result<PoolIo, String> {
        let mut p = io(1, Some(0))?;
        p.metadata.stats.writes = writes;
        Ok(p)
    }

    #[test]
    fn a_commit_is_any_metadata_write_and_none_is_measured_as_none() {
        let step = StepSpec {
            index: 0,
            name: Ident::new("s").unwrap(),
            pools: None,
            action: crate::spec::Action::Idle {
                hold: std::time::Duration::ZERO,
            },
            expect: Vec::new(),
            await_mode: None,
        };
        let r = metadata_written(true, &with_writes(10), &with_writes(15), &step);
        assert_eq!(
            (r.status, r.observed.as_str()),
            (Status::Passed, "written (a commit) (5 writes)")
        );
        let r = metadata_written(false, &with_writes(10), &with_writes(15), &step);
        assert_eq!(r.status, Status::Failed);
        let r = metadata_written(false, &with_writes(7), &with_writes(7), &step);
        assert_eq!(
            (r.status, r.observed.as_str()),
            (Status::Passed, "not written (0 writes)")
        );
        // Not measured is never "not written".
        let r = metadata_written(
            false,
            &Err("not measured: fake".into()),
            &with_writes(7),
            &step,
        );
        assert_eq!(r.status, Status::Failed);
    }
}
