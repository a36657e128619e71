//! `io` with `path`: fio on a file of a mounted filesystem (the peer's `fio_thin_*`,
//! `fio_thick`), on a thin or a device of the case.

use std::path::Path;

use thinbench_schema::record::{ExpectationResult, Status};
use thinbench_schema::units::Bytes;
use thinbench_workloads::fio;

use super::ctx::{ActionOutput, StepCtx};
use super::io::{run_fio, to_shape};
use crate::runner::error::StepError;
use crate::spec::IoEngineSpec;

/// `io` on a file of a mounted filesystem (fio only: validation): fio lays the file out
/// and runs; the file is removed after (it is not a file of the file model), the
/// filesystem synced and the thins it may have written resynced from the metadata.
pub(super) fn io_file(
    ctx: &mut StepCtx<'_>,
    on: &crate::spec::FsTarget,
    path: &str,
    engine: &IoEngineSpec,
) -> Result<ActionOutput, StepError> {
    let dir = ctx
        .state
        .fs
        .mount_at(on)
        .map(Path::to_owned)
        .ok_or_else(|| StepError::Refused(format!("{on} is not mounted")))?;
    if ctx
        .state
        .fs
        .files_of(on)
        .is_some_and(|f| f.files.contains_key(path))
    {
        return Err(StepError::Refused(format!(
            "{path} on {on} is a file the case wrote: fio would overwrite it"
        )));
    }
    let file = crate::runner::fs_state::inside(&dir, path, true).map_err(StepError::Failed)?;
    if std::fs::symlink_metadata(&file).is_ok() {
        return Err(StepError::Refused(format!(
            "{path} already exists on {on}: fio's file is its own"
        )));
    }
    let used0 = ctx
        .state
        .model
        .as_ref()
        .ok_or("no model")?
        .data_blocks_used()
        .0;
    let job = match engine {
        IoEngineSpec::FioShape(s) => fio::job_text(&to_shape(s, s.span.unwrap_or(Bytes(0)))),
        IoEngineSpec::FioJob { text, .. } => text.clone(),
        IoEngineSpec::Thinbench(_) => {
            return Err("io on a file is fio's (validation says so)".into());
        }
    };
    let ran = run_fio(ctx, &file, &job, "job", true);
    let removed = std::fs::remove_file(&file);
    let rep = ran?;
    if let Err(e) = removed {
        if e.kind() != std::io::ErrorKind::NotFound {
            return Err(StepError::io(format!("removing {}", file.display()), e));
        }
    }
    let mut out = ActionOutput::default();
    out.checks.push(ExpectationResult {
        what: "fio's JSON parsed".into(),
        expected: "a report".into(),
        observed: format!("{} ({} job entries)", rep.version, rep.job_entries),
        status: Status::Passed,
        message: None,
    });
    out.workload = Some(rep.stats);
    out.phases = rep.phases;
    let ids = super::fs_target::target(ctx, on)?.ids;
    super::fs::resync(ctx, used0, &ids, &format!("after fio on {path}"), &mut out)?;
    Ok(out)
}
