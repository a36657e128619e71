//! A case whose pool's construction must fail (`expect_error`): the kernel's refusal of
//! the table is the test. It passes when the construction fails with the kind expected,
//! and fails naming what happened otherwise (a pool built is torn down at once).

use thinbench_schema::record::{CaseResult, Status, TimelineEntry};

use crate::backend::{BackendError, PoolBackend};
use crate::spec::PoolRefusal;

/// Judges the construction's outcome into `result`.
pub(super) fn judge(
    built: Result<Box<dyn PoolBackend>, BackendError>,
    refusal: PoolRefusal,
    t_ms: u64,
    result: &mut CaseResult,
) {
    let want = refusal.kind;
    // The chunk the table asked for, not the stand-in the spec keeps for it.
    if let Some(sectors) = refusal.chunk_sectors {
        result.pool.chunk_bytes = thinbench_schema::units::Bytes(sectors * 512);
    }
    match built {
        Err(e) if e.kind() == want => {
            result.status = Status::Passed;
            result.timeline.push(TimelineEntry {
                t_ms,
                kind: "refusal".into(),
                text: format!("the pool's construction failed as expected ({want}): {e}"),
            });
        }
        Err(e) => {
            result.status = Status::Failed;
            result.error = Some(format!(
                "the pool's construction was to fail with {want}, and failed with {}: {e}",
                e.kind()
            ));
        }
        Ok(mut backend) => {
            result.pool.construction = backend.construction();
            result.teardown_errors.extend(backend.teardown());
            result.status = Status::Failed;
            result.error = Some(format!(
                "the pool's construction was to fail with {want}, and the pool was built"
            ));
        }
    }
}
