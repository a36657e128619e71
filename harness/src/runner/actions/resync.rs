//! The model rebuilt from the kernel's metadata (`thin_dump`) after IO the model cannot
//! predict (a filesystem's, fio's), once every thin that IO did not touch is checked to
//! map exactly what the model has for it.

use std::collections::BTreeSet;

use thinbench_model::chunk::PoolModel;
use thinbench_schema::ids::{Ident, ThinId};
use thinbench_schema::record::ExpectationResult;

use super::ctx::StepCtx;
use crate::runner::error::{Context, StepError};

fn expectation(
    ctx: &StepCtx<'_>,
    what: &str,
    expected: String,
    observed: String,
) -> ExpectationResult {
    crate::runner::case::check(what, expected, observed, ctx.step)
}

pub(super) fn model<'c>(ctx: &'c mut StepCtx<'_>) -> Result<&'c mut PoolModel, StepError> {
    ctx.state
        .model
        .as_mut()
        .ok_or_else(|| StepError::from("no model"))
}

/// Rebuild the model from `thin_dump`, after checking that every thin not in `fs_thins`
/// maps in the kernel exactly the chunks the model has for it. Returns that check and
/// how many chunks the first of `fs_thins` maps.
pub(super) fn resync(
    ctx: &mut StepCtx<'_>,
    fs_thins: &[ThinId],
    when: &str,
) -> Result<(ExpectationResult, u64), StepError> {
    let total = model(ctx)?.total();
    let dump = ctx.backend.thin_dump(total)?;
    let m = model(ctx)?;
    let chunk = m.chunk();
    let mut problems = Vec::new();
    let (mut thins, mut chunks) = (0u64, 0u64);
    let model_ids: BTreeSet<ThinId> = m.thins().collect();
    let dump_ids: BTreeSet<ThinId> = dump.thins.iter().map(|t| t.id).collect();
    if model_ids != dump_ids {
        problems.push(format!(
            "thin ids: model {model_ids:?}, kernel {dump_ids:?}"
        ));
    }
    for t in dump.thins.iter().filter(|t| !fs_thins.contains(&t.id)) {
        let Ok(mine) = m.mapped_chunks(t.id) else {
            continue;
        };
        let mut theirs: Vec<u64> = t.mappings.iter().map(|x| x.0).collect();
        theirs.sort_unstable();
        thins += 1;
        chunks += theirs.len() as u64;
        if mine != theirs {
            problems.push(format!(
                "thin {}: model maps {} chunks, kernel {}",
                t.id,
                mine.len(),
                theirs.len()
            ));
        }
    }
    let expected = format!("{thins} thins, {chunks} chunks mapped as the model has them");
    let observed = if problems.is_empty() {
        expected.clone()
    } else {
        problems.join("; ")
    };
    let check = expectation(
        ctx,
        &format!("thins the filesystem did not write: kernel metadata == model ({when})"),
        expected,
        observed,
    );
    let fs_mapped = fs_thins
        .first()
        .and_then(|id| dump.thin(*id))
        .map_or(0, |t| t.mappings.len() as u64);
    let rebuilt = PoolModel::from_metadata(chunk, total, dump.time, &dump.thins)
        .context("model from thin_dump")?;
    ctx.state.model = Some(rebuilt);
    // The filesystem's chunks count as written in their thin from now on; what was
    // written there before is overwritten, so the integrity log of the thin is void.
    for (name, id) in thin_names(ctx) {
        if let Some(t) = dump.thin(id).filter(|_| fs_thins.contains(&id)) {
            ctx.state
                .written
                .entry(name.clone())
                .or_default()
                .extend(t.mappings.iter().map(|x| x.0));
            ctx.state.log.insert(name, Vec::new());
        }
    }
    Ok((check, fs_mapped))
}

fn thin_names(ctx: &StepCtx<'_>) -> Vec<(Ident, ThinId)> {
    ctx.state
        .log
        .keys()
        .filter_map(|n| ctx.backend.thin(n).map(|t| (n.clone(), t.id)))
        .collect()
}
