//! `metadata-tool` `thin_restore` with `generate`: a case started from metadata
//! thinbench writes (`runner::generated_metadata`) instead of from IO. The pool must have
//! no thins; the restored thins get devices, and the model, the integrity log and the
//! chunks-touched sets start from what the kernel reads back of the restored metadata.

use thinbench_model::chunk::PoolModel;

use super::ctx::{ActionOutput, StepCtx};
use super::resync::model;
use crate::runner::case::check;
use crate::runner::error::StepError;
use crate::runner::generated_metadata;
use crate::spec::{GeneratedLayout, GeneratedMetadata};
use crate::sys::command;

/// Restore `g` onto the inactive metadata and bring the pool and the new thins up.
pub fn restore(
    ctx: &mut StepCtx<'_>,
    g: &GeneratedMetadata,
    damage: Option<crate::spec::Damage>,
) -> Result<ActionOutput, StepError> {
    let m = model(ctx)?.clone();
    if m.thins().next().is_some() {
        return Err(StepError::Refused(
            "generated metadata replaces every thin: the pool must have none (delete them first)"
                .into(),
        ));
    }
    let chunk = ctx.pool.chunk;
    if g.size.0 == 0 || !g.size.0.is_multiple_of(chunk.bytes().0) {
        return Err(StepError::Failed(format!(
            "each generated thin's size {} is not a whole number of the pool's {} blocks",
            g.size.human(),
            chunk.bytes().human()
        )));
    }
    let per_thin = g.size.0 / chunk.bytes().0;
    let total = m.total();
    let thins = generated_metadata::mappings(g, per_thin, total.0).ok_or_else(|| {
        StepError::Refused(format!(
            "{} thins of {per_thin} blocks do not fit in the pool's {} data blocks",
            g.thins.len(),
            total.0
        ))
    })?;
    let xml = generated_metadata::xml(&thins, chunk.sectors().0, total.0);
    let file = super::tool::output_path(ctx, "generated.xml")?;
    std::fs::write(&file, &xml).map_err(|e| StepError::io(file.display().to_string(), e))?;
    let file_s = file.to_string_lossy().into_owned();
    let commands = ctx.backend.with_pool_down(&mut |meta, _| {
        // Damage first, if asked: thin_restore writes the whole device over it.
        super::tool::damage(meta, damage)?;
        let meta_s = meta.to_string_lossy();
        command::run("thin_restore", &["-i", &file_s, "-o", &meta_s])?;
        command::run("thin_check", &[&meta_s])?;
        Ok(())
    })?;
    for (name, t) in g.thins.iter().zip(&thins) {
        ctx.backend.activate_thin(name, t.id, g.size, false)?;
    }
    // What the kernel reads back of it, against what was written.
    let dump = ctx.backend.thin_dump(total)?;
    let mut mismatched = Vec::new();
    for t in &thins {
        let mut back = dump
            .thin(t.id)
            .map(|d| d.mappings.clone())
            .unwrap_or_default();
        back.sort_unstable();
        if back != t.mappings {
            mismatched.push(format!(
                "thin {}: {} of {} mappings",
                t.id,
                back.len(),
                t.mappings.len()
            ));
        }
    }
    let restored =
        PoolModel::from_metadata(chunk, total, dump.time, &dump.thins).map_err(StepError::Model)?;
    // The prediction is the generator's, the pool's status the observation.
    let mapped = (g.thins.len() as u64 * per_thin) as i64;
    ctx.state.model = Some(restored);
    for (i, name) in g.thins.iter().enumerate() {
        // Mapped, so touched: a write there is an overwrite, and allocates nothing.
        let chunks: std::collections::BTreeSet<u64> =
            thins[i].mappings.iter().map(|x| x.0).collect();
        ctx.state.written.insert(name.clone(), chunks);
        // What the blocks hold is not known: nothing is claimed until written.
        ctx.state.log.insert(name.clone(), Vec::new());
    }
    let mut out = ActionOutput {
        predicted: Some(mapped),
        ..Default::default()
    };
    let layout = match g.layout {
        GeneratedLayout::Linear => "linear",
        GeneratedLayout::Random => "random",
    };
    out.checks.push(check(
        &format!(
            "generated metadata ({layout}, {} thins of {per_thin} blocks) restored, thin_check clean, read back by thin_dump ({} commands)",
            g.thins.len(),
            commands.len()
        ),
        "every mapping as generated".into(),
        if mismatched.is_empty() {
            "every mapping as generated".into()
        } else {
            mismatched.join("; ")
        },
        ctx.step,
    ));
    Ok(out)
}
