//! `metadata-tool`: one of thin-provisioning-tools on the pool's metadata. On a metadata
//! snapshot (the scenario's held one, or one reserved for the step) `thin_dump`,
//! `thin_delta`, `thin_ls` and `thin_check` run as users run them, and their output is
//! checked against the model as the snapshot has the pool. On the live metadata device
//! the tools must refuse (the kernel holds it open exclusively): a refusal is the step's
//! error, for `expect.error` to expect.

use std::path::{Path, PathBuf};

use thinbench_model::chunk::PoolModel;
use thinbench_schema::ids::{Ident, ThinId};

use super::ctx::{ActionOutput, StepCtx};
use super::resync::model;
use crate::backend::thin_delta::parse_thin_delta;
use crate::backend::thin_tools::{self, parse_thin_dump, parse_thin_ls, THIN_LS_FIELDS};
use crate::backend::BackendError;
use crate::runner::case::{check, verdict};
use crate::runner::error::StepError;
use crate::runner::tool_checks::{delta_text, dump_agrees, model_delta};
use crate::spec::{Damage, MetadataSource, MetadataTool, MetadataToolSpec};
use crate::sys::command;

/// Run the step's tool.
pub fn run(ctx: &mut StepCtx<'_>, m: &MetadataToolSpec) -> Result<ActionOutput, StepError> {
    let meta = ctx.backend.known_metadata_device()?;
    match (m.metadata, m.tool) {
        (MetadataSource::Live, _) => live(ctx, m, &meta),
        (MetadataSource::Inactive, MetadataTool::Restore) => restore(ctx, m),
        (MetadataSource::Inactive, MetadataTool::Trim) => trim(ctx, m),
        (MetadataSource::Inactive, MetadataTool::Repair) => repair(ctx, m),
        (MetadataSource::Inactive, MetadataTool::Dump) if m.repair => repair(ctx, m),
        (source, _) => read(ctx, m, &meta, source),
    }
}

/// A thin's id, with or without a device.
fn thin_id(ctx: &StepCtx<'_>, name: &Ident) -> Result<ThinId, StepError> {
    ctx.backend
        .thin(name)
        .map(|t| t.id)
        .or_else(|| ctx.state.control.no_device.get(name).map(|(id, _)| *id))
        .ok_or_else(|| StepError::Failed(format!("no thin {name}")))
}

/// `--thin1 ORIGIN --thin2 THIN` of a `thin_delta` step.
fn delta_ids(ctx: &StepCtx<'_>, m: &MetadataToolSpec) -> Result<(ThinId, ThinId), StepError> {
    let (Some(o), Some(t)) = (&m.origin, &m.thin) else {
        return Err(StepError::Failed(
            "thin_delta needs `origin` and `thin`".into(),
        ));
    };
    Ok((thin_id(ctx, o)?, thin_id(ctx, t)?))
}

/// Where the step's outputs go: `<run dir>/metadata/<pool>-<step>.<ext>`.
pub(super) fn output_path(ctx: &StepCtx<'_>, ext: &str) -> Result<PathBuf, StepError> {
    let dir = ctx.rec.dir().join("metadata");
    std::fs::create_dir_all(&dir).map_err(|e| StepError::io(dir.display().to_string(), e))?;
    Ok(dir.join(format!("{}-{}.{ext}", ctx.pool.name, ctx.step.name)))
}

/// The tool on the live metadata device, as `tools_tests`' "you cannot …" tests run it.
fn live(
    ctx: &mut StepCtx<'_>,
    m: &MetadataToolSpec,
    meta: &Path,
) -> Result<ActionOutput, StepError> {
    let meta_s = meta.to_string_lossy().into_owned();
    let scratch = ctx.state.scratch.join(format!("tool-{}", ctx.step.name));
    let scratch_s = scratch.to_string_lossy().into_owned();
    let (prog, args): (&str, Vec<String>) = match m.tool {
        MetadataTool::Dump => ("thin_dump", vec![meta_s]),
        MetadataTool::Ls => ("thin_ls", vec![meta_s]),
        MetadataTool::Check => ("thin_check", vec![meta_s]),
        MetadataTool::Delta => {
            let (l, r) = delta_ids(ctx, m)?;
            (
                "thin_delta",
                vec![
                    "--thin1".into(),
                    l.to_string(),
                    "--thin2".into(),
                    r.to_string(),
                    meta_s,
                ],
            )
        }
        MetadataTool::Restore => {
            // Valid metadata to restore: the pool's own, from a snapshot, so that only
            // the refusal can make the step fail.
            let dump = || Ok(command::run("thin_dump", &["--metadata-snap", &meta_s])?);
            let xml = match ctx.state.control.metadata_snap_held {
                true => dump()?,
                false => thin_tools::with_metadata_snap(ctx.backend.pool_dm_name(), dump)?,
            };
            std::fs::write(&scratch, xml).map_err(|e| StepError::io(scratch_s.clone(), e))?;
            (
                "thin_restore",
                vec!["-i".into(), scratch_s, "-o".into(), meta_s],
            )
        }
        MetadataTool::Repair => (
            "thin_repair",
            vec!["-i".into(), meta_s, "-o".into(), scratch_s],
        ),
        MetadataTool::Trim => {
            let data = ctx.backend.data_device().ok_or_else(|| {
                crate::backend::BackendError::Unsupported(
                    "thin_trim: this pool's data device is not known".into(),
                )
            })?;
            (
                "thin_trim",
                vec![
                    "--metadata-dev".into(),
                    meta_s,
                    "--data-dev".into(),
                    data.to_string_lossy().into_owned(),
                ],
            )
        }
    };
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = command::run(prog, &argv);
    let _ = std::fs::remove_file(&scratch);
    r?;
    // It ran on metadata the kernel has open: what that did is the scenario's question
    // (an `expect.error` fails here, naming this).
    let mut out = ActionOutput {
        predicted: Some(0),
        ..Default::default()
    };
    out.checks.push(check(
        &format!("{prog} on the live metadata device"),
        "ran".into(),
        "ran (not refused)".into(),
        ctx.step,
    ));
    Ok(out)
}

/// A tool that reads, on a metadata snapshot or on the inactive metadata (the pool taken
/// down around it), its output checked against the model as that metadata has the pool.
fn read(
    ctx: &mut StepCtx<'_>,
    m: &MetadataToolSpec,
    meta: &Path,
    source: MetadataSource,
) -> Result<ActionOutput, StepError> {
    let inactive = source == MetadataSource::Inactive;
    let held = ctx.state.control.metadata_snap_held && !inactive;
    // On the inactive metadata the device is the one the pool is brought down from.
    let meta_s = match inactive {
        true => META.to_owned(),
        false => meta.to_string_lossy().into_owned(),
    };
    let delta = match m.tool {
        MetadataTool::Delta => Some(delta_ids(ctx, m)?),
        _ => None,
    };
    let args: Vec<String> = match (m.tool, delta) {
        (MetadataTool::Dump, _) => vec!["--metadata-snap".into(), meta_s],
        (MetadataTool::Ls, _) => vec![
            "--metadata-snap".into(),
            "--no-headers".into(),
            "-o".into(),
            THIN_LS_FIELDS.into(),
            meta_s,
        ],
        (MetadataTool::Check, _) => vec!["--metadata-snap".into(), meta_s],
        (MetadataTool::Delta, Some((l, r))) => vec![
            "--metadata-snap".into(),
            "--thin1".into(),
            l.to_string(),
            "--thin2".into(),
            r.to_string(),
            meta_s,
        ],
        (t, _) => {
            return Err(StepError::Refused(format!(
                "{} does not read a metadata snapshot",
                t.program()
            )))
        }
    };
    let prog = m.tool.program();
    let args: Vec<String> = match inactive {
        true => args
            .into_iter()
            .filter(|a| a != "--metadata-snap")
            .collect(),
        false => args,
    };
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let text = match (inactive, held) {
        (true, _) => {
            let mut text = String::new();
            ctx.backend.with_pool_down(&mut |meta, _| {
                damage(meta, m.damage)?;
                let argv: Vec<String> = argv
                    .iter()
                    .map(|a| match *a {
                        META => meta.to_string_lossy().into_owned(),
                        a => a.to_owned(),
                    })
                    .collect();
                let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
                text = command::run(prog, &argv)?;
                Ok(())
            })?;
            text
        }
        (false, true) => command::run(prog, &argv)?,
        (false, false) => thin_tools::with_metadata_snap(ctx.backend.pool_dm_name(), || {
            Ok(command::run(prog, &argv)?)
        })?,
    };
    let model: PoolModel = match held {
        true => ctx
            .state
            .control
            .held_model
            .clone()
            .ok_or_else(|| StepError::Failed("no model".into()))?,
        false => model(ctx)?.clone(),
    };
    let whose = match (inactive, held) {
        (true, _) => "the inactive",
        (false, true) => "the held metadata snapshot's",
        (false, false) => "a metadata snapshot's",
    };
    let mut out = ActionOutput {
        predicted: Some(0),
        ..Default::default()
    };
    let step = ctx.step;
    match (m.tool, delta) {
        (MetadataTool::Dump, _) => {
            let path = output_path(ctx, "xml")?;
            std::fs::write(&path, &text)
                .map_err(|e| StepError::io(path.display().to_string(), e))?;
            let dump = parse_thin_dump(&text, model.total()).map_err(StepError::Failed)?;
            let names: Vec<(ThinId, String)> = ctx
                .state
                .log
                .keys()
                .filter_map(|n| ctx.backend.thin(n).map(|t| (t.id, n.to_string())))
                .collect();
            out.metrics = crate::runner::fragmentation::metrics(&dump.thins, &|t| {
                names
                    .iter()
                    .find(|(id, _)| *id == t.id)
                    .map_or_else(|| format!("id{}", t.id), |(_, n)| n.clone())
            });
            let mut mappings = 0;
            for id in model.thins() {
                mappings += model.mappings(id)?.len();
            }
            let shown = |thins: usize, n: usize| {
                format!("{thins} thins, {n} mappings, shared as the model shares them")
            };
            out.checks.push(check(
                &format!("thin_dump of {whose} metadata maps what the model maps (per thin: chunks, and the same blocks shared)"),
                shown(model.thins().count(), mappings),
                match dump_agrees(&dump, &model) {
                    Ok(n) => shown(dump.thins.len(), n as usize),
                    Err(e) => e,
                },
                step,
            ));
            if let Some(earlier) = &m.same_as {
                let observed = match ctx.state.control.dumps.get(earlier) {
                    None => format!("step {earlier} made no thin_dump in this case"),
                    Some(t) if *t == text => format!("identical to step {earlier}'s"),
                    Some(t) => first_difference(t, &text),
                };
                out.checks.push(check(
                    &format!("thin_dump XML == step {earlier}'s"),
                    format!("identical to step {earlier}'s"),
                    observed,
                    step,
                ));
            }
            ctx.state.control.dumps.insert(step.name.clone(), text);
        }
        (MetadataTool::Delta, Some((l, r))) => {
            let path = output_path(ctx, "xml")?;
            std::fs::write(&path, &text)
                .map_err(|e| StepError::io(path.display().to_string(), e))?;
            let got = parse_thin_delta(&text, u64::from(l.get()), u64::from(r.get()))
                .map_err(StepError::Failed)?;
            let want = model_delta(&model, l, r).map_err(StepError::Failed)?;
            out.checks.push(check(
                &format!(
                    "thin_delta of thins {l} and {r} on {whose} metadata == the model's changed blocks"
                ),
                delta_text(&want),
                delta_text(&got),
                step,
            ));
        }
        (MetadataTool::Ls, _) => {
            let rows = parse_thin_ls(&text).map_err(StepError::Failed)?;
            let shown = |v: Vec<(u64, u64, u64, u64)>| {
                v.iter()
                    .map(|(d, m, e, s)| format!("{d}:{m}/{e}/{s}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            let mut got: Vec<_> = rows
                .iter()
                .map(|r| (r.dev, r.mapped, r.exclusive, r.shared))
                .collect();
            got.sort_unstable();
            let mut want = Vec::new();
            for id in model.thins() {
                let u = model.usage(id)?;
                want.push((u64::from(id.get()), u.mapped.0, u.exclusive.0, u.shared.0));
            }
            out.checks.push(check(
                &format!("thin_ls of {whose} metadata == the model (per thin id: mapped/exclusive/shared blocks)"),
                shown(want),
                shown(got),
                step,
            ));
        }
        (MetadataTool::Check, _) => out.checks.push(check(
            &format!("thin_check of {whose} metadata"),
            "clean".into(),
            "clean".into(),
            step,
        )),
        _ => {}
    }
    Ok(out)
}

/// Overwrite `d.len` bytes of `meta` at `d.at` with seeded pseudo-random bytes (xorshift64*:
/// the same bytes for the same seed on every run), synced.
pub(super) fn damage(meta: &Path, d: Option<Damage>) -> Result<(), BackendError> {
    use std::os::unix::fs::FileExt;
    let Some(d) = d else { return Ok(()) };
    let mut x = d.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let bytes: Vec<u8> = (0..d.len.0)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect();
    let io = |e| BackendError::Io {
        what: "damaging".into(),
        path: meta.to_owned(),
        source: e,
    };
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(meta)
        .map_err(io)?;
    f.write_all_at(&bytes, d.at.0).map_err(io)?;
    f.sync_all().map_err(io)
}

/// `thin_repair` of the inactive metadata, damaged first where the step says, as
/// device-mapper-test-suite repairs: a copy of the device repaired back onto it. Then
/// thin_check must find it clean, and the pool comes up on it. What the repair lost is
/// measured against the model (mappings it had that the repaired metadata lacks) and
/// reported; the model, and the integrity log, follow the repaired metadata from here.
fn repair(ctx: &mut StepCtx<'_>, m: &MetadataToolSpec) -> Result<ActionOutput, StepError> {
    let copy = ctx.state.scratch.join(format!("repair-{}", ctx.step.name));
    let checked = std::cell::Cell::new(false);
    ctx.backend.with_pool_down(&mut |meta, _| {
        damage(meta, m.damage)?;
        let io = |e| BackendError::Io {
            what: "copying the metadata for thin_repair".into(),
            path: copy.clone(),
            source: e,
        };
        let (meta_s, copy_s) = (meta.to_string_lossy(), copy.to_string_lossy());
        let r = (|| -> Result<(), BackendError> {
            if m.tool == MetadataTool::Dump {
                // Repair through a dump: `thin_dump --repair`'s XML restored onto it.
                let xml = command::run("thin_dump", &["--repair", &meta_s])?;
                std::fs::write(&copy, xml).map_err(io)?;
                command::run("thin_restore", &["-i", &copy_s, "-o", &meta_s])?;
            } else {
                std::fs::write(&copy, std::fs::read(meta).map_err(io)?).map_err(io)?;
                command::run("thin_repair", &["-i", &copy_s, "-o", &meta_s])?;
            }
            Ok(())
        })();
        let _ = std::fs::remove_file(&copy);
        r?;
        command::run("thin_check", &[&meta_s])?;
        checked.set(true);
        Ok(())
    })?;
    let model = model(ctx)?.clone();
    let dump = ctx.backend.thin_dump(model.total())?;
    let mut lost = 0u64;
    let mut lost_by_thin = Vec::new();
    for id in model.thins() {
        let have: std::collections::BTreeSet<u64> = dump
            .thin(id)
            .map(|t| t.mappings.iter().map(|x| x.0).collect())
            .unwrap_or_default();
        let gone: Vec<u64> = model
            .mapped_chunks(id)?
            .into_iter()
            .filter(|c| !have.contains(c))
            .collect();
        if !gone.is_empty() {
            lost += gone.len() as u64;
            lost_by_thin.push((id, gone));
        }
    }
    // The model and the integrity log follow the repaired metadata: writes to chunks the
    // repair lost are gone, and reported as such.
    let chunk = ctx.pool.chunk.bytes().0;
    let names: Vec<(Ident, ThinId)> = ctx
        .state
        .log
        .keys()
        .filter_map(|n| ctx.backend.thin(n).map(|t| (n.clone(), t.id)))
        .collect();
    for (name, id) in names {
        if let Some((_, gone)) = lost_by_thin.iter().find(|(t, _)| *t == id) {
            let keep = |w: &(
                thinbench_schema::units::Bytes,
                thinbench_schema::units::Bytes,
                u64,
            )| {
                let (first, last) = (w.0 .0 / chunk, (w.0 .0 + w.1 .0 - 1) / chunk);
                !(first..=last).any(|c| gone.contains(&c))
            };
            for log in [ctx.state.log.get_mut(&name), ctx.state.acked.get_mut(&name)]
                .into_iter()
                .flatten()
            {
                log.retain(|w| keep(&(w.0, w.1, w.2)));
            }
        }
    }
    let repaired = PoolModel::from_metadata(model.chunk(), model.total(), dump.time, &dump.thins)
        .map_err(StepError::Model)?;
    // Blocks only the lost mappings held are free in the repaired metadata.
    let change = repaired.data_blocks_used().0 as i64 - model.data_blocks_used().0 as i64;
    ctx.state.model = Some(repaired);
    let mut out = ActionOutput {
        predicted: Some(change),
        predicted_note: Some("resynced from thin_dump after thin_repair".into()),
        ..Default::default()
    };
    use thinbench_schema::record::{Better, MetricKind};
    out.metrics.push(super::ctx::metric(
        "repair.mappings_lost",
        lost as f64,
        "blocks",
        MetricKind::Exact,
        Better::Lower,
    ));
    out.checks.push(check(
        if m.tool == MetadataTool::Dump {
            "thin_dump --repair of the (damaged) inactive metadata, thin_restore of its XML, then thin_check"
        } else {
            "thin_repair of the (damaged) inactive metadata, then thin_check of it"
        },
        "clean".into(),
        if checked.get() { "clean" } else { "not run" }.into(),
        ctx.step,
    ));
    out.checks.push(verdict(
        "thin_repair: what the repaired metadata lost of the model's mappings (reported, not judged)",
        "reported".into(),
        match lost_by_thin.is_empty() {
            true => "nothing lost".into(),
            false => lost_by_thin
                .iter()
                .map(|(id, g)| format!("thin {id}: {} chunks", g.len()))
                .collect::<Vec<_>>()
                .join(", "),
        },
        true,
        ctx.step,
    ));
    Ok(out)
}

/// Stands for the inactive metadata device in a tool's arguments until the pool is down.
const META: &str = "<metadata device>";

/// `thin_restore` of an earlier dump's XML onto the inactive metadata, the pool brought
/// back up on it. Only metadata the pool still has is restored: restoring an older state
/// would roll back writes the model, the integrity log and the data device disagree on.
fn restore(ctx: &mut StepCtx<'_>, m: &MetadataToolSpec) -> Result<ActionOutput, StepError> {
    let from = m
        .from
        .as_ref()
        .ok_or_else(|| StepError::Failed("thin_restore needs `from`".into()))?;
    let xml =
        ctx.state.control.dumps.get(from).cloned().ok_or_else(|| {
            StepError::Refused(format!("step {from} made no thin_dump in this case"))
        })?;
    let model = model(ctx)?.clone();
    let dump = parse_thin_dump(&xml, model.total()).map_err(StepError::Failed)?;
    if let Err(e) = dump_agrees(&dump, &model) {
        return Err(StepError::Refused(format!(
            "the pool changed since step {from}'s dump ({e}): restoring it would roll back what the model and the data device hold"
        )));
    }
    let file = output_path(ctx, "restored.xml")?;
    std::fs::write(&file, &xml).map_err(|e| StepError::io(file.display().to_string(), e))?;
    let file_s = file.to_string_lossy().into_owned();
    let commands = ctx.backend.with_pool_down(&mut |meta, _| {
        // Damage first, if asked: thin_restore writes the whole device over it.
        damage(meta, m.damage)?;
        command::run(
            "thin_restore",
            &["-i", &file_s, "-o", &meta.to_string_lossy()],
        )?;
        Ok(())
    })?;
    let mut out = ActionOutput {
        predicted: Some(0),
        ..Default::default()
    };
    out.checks.push(check(
        &format!("thin_restore of step {from}'s XML: the pool and its thins up again on it ({} commands)", commands.len()),
        format!("{} thins", model.thins().count()),
        format!("{} thins", dump.thins.len()),
        ctx.step,
    ));
    Ok(out)
}

/// `thin_trim` of the inactive pool: discards of every data block no thin maps. On
/// loop-lvm the data file's allocated bytes say what came back to the filesystem that
/// holds it: afterwards, no more than the mapped blocks.
fn trim(ctx: &mut StepCtx<'_>, m: &MetadataToolSpec) -> Result<ActionOutput, StepError> {
    let file = ctx.backend.data_file();
    let allocated = |f: &Option<PathBuf>| -> Result<Option<u64>, StepError> {
        use std::os::unix::fs::MetadataExt;
        match f {
            None => Ok(None),
            Some(p) => std::fs::metadata(p)
                .map(|m| Some(m.blocks() * 512))
                .map_err(|e| StepError::io(p.display().to_string(), e)),
        }
    };
    let before = allocated(&file)?;
    ctx.backend.with_pool_down(&mut |meta, data| {
        damage(meta, m.damage)?;
        command::run(
            "thin_trim",
            &[
                "--metadata-dev",
                &meta.to_string_lossy(),
                "--data-dev",
                &data.to_string_lossy(),
            ],
        )?;
        Ok(())
    })?;
    let after = allocated(&file)?;
    // What thin_trim must not touch: every acknowledged write of every thin reads back
    // (thin-provisioning-tools 0.9.0 discards the highest mapped block when free blocks
    // follow it: docs/peer-coverage.md, thin_trim_discards_correct_area).
    let thins: Vec<Ident> = ctx.state.log.keys().cloned().collect();
    let mut intact = Vec::new();
    for t in &thins {
        if ctx.backend.thin(t).is_some() {
            intact.push(super::write::verify_thin(
                ctx,
                t,
                "reads back after thin_trim",
            )?);
        }
    }
    let chunk_bytes = ctx.pool.chunk.bytes().0;
    let mapped_bytes = model(ctx)?.data_blocks_used().0 * chunk_bytes;
    let mut out = ActionOutput {
        predicted: Some(0),
        ..Default::default()
    };
    if let (Some(b), Some(a)) = (before, after) {
        use thinbench_schema::record::{Better, MetricKind};
        out.metrics.push(super::ctx::metric(
            "trim.data_file_allocated_before",
            b as f64,
            "bytes",
            MetricKind::Exact,
            Better::Neither,
        ));
        out.metrics.push(super::ctx::metric(
            "trim.data_file_allocated_after",
            a as f64,
            "bytes",
            MetricKind::Exact,
            Better::Lower,
        ));
        out.metrics.push(super::ctx::metric(
            "trim.returned_bytes",
            b.saturating_sub(a) as f64,
            "bytes",
            MetricKind::Exact,
            Better::Higher,
        ));
        out.checks.push(verdict(
            "thin_trim: the data file holds no more than the mapped blocks (allocated bytes <= blocks in use x chunk)",
            format!("<= {mapped_bytes}"),
            format!("{a} (was {b}: {} returned)", b.saturating_sub(a)),
            a <= mapped_bytes,
            ctx.step,
        ));
    }
    out.checks.extend(intact);
    Ok(out)
}

/// Where two dumps first differ, line by line.
fn first_difference(a: &str, b: &str) -> String {
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return format!("line {}: {:?} here, {:?} before", i + 1, y.trim(), x.trim());
        }
    }
    format!(
        "{} lines here, {} before",
        b.lines().count(),
        a.lines().count()
    )
}
