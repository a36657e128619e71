//! `run --kernel A --kernel B`: which kernels a run boots, and the report across them.

use std::path::{Path, PathBuf};

use thinbench_harness::spec::{KernelRequest, ScenarioSpec};
use thinbench_reports::CompareRules;

/// The kernels to boot: the command line's when given (it wins over the files), else
/// the scenarios' `kernels`, which must then agree (the scenarios share the boots), else
/// none (the default kernel).
pub fn choose_kernels<'a>(
    plans: impl IntoIterator<Item = (&'a ScenarioSpec, &'a Path)>,
    cli: &[KernelRequest],
) -> Result<Vec<KernelRequest>, String> {
    if !cli.is_empty() {
        return Ok(cli.to_vec());
    }
    let mut chosen: Option<(&[KernelRequest], &Path)> = None;
    for (plan, file) in plans {
        if plan.kernels.is_empty() {
            continue;
        }
        match chosen {
            Some((first, f)) if first != plan.kernels.as_slice() => {
                let list = |k: &[KernelRequest]| {
                    k.iter()
                        .map(|k| k.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                return Err(format!(
                    "{} says kernels = [{}] and {} says kernels = [{}]: scenarios run together share their boots; run them apart or choose with --kernel",
                    f.display(),
                    list(first),
                    file.display(),
                    list(&plan.kernels)
                ));
            }
            Some(_) => {}
            None => chosen = Some((&plan.kernels, file)),
        }
    }
    Ok(chosen.map(|(k, _)| k.to_vec()).unwrap_or_default())
}

/// What the report across kernels found.
pub struct KernelReport {
    /// `kernels.html`.
    pub html: PathBuf,
    /// Exact figures that differ.
    pub findings: usize,
    /// Figures compared.
    pub figures: usize,
}

/// Load each kernel's runs (release and its result directories, baseline first) and
/// write `kernels.html`, `kernels.md` and their CSVs into `out`. A run that cannot be
/// loaded is left out, with a warning (its kernel's own report says why).
pub fn write_report(
    groups: &[(String, Vec<PathBuf>)],
    out: &Path,
) -> anyhow::Result<Option<KernelReport>> {
    let mut loaded = Vec::new();
    for (release, dirs) in groups {
        let mut runs = Vec::new();
        for d in dirs {
            match thinbench_reports::load_run(d) {
                Ok(r) => runs.push(r),
                Err(e) => eprintln!(
                    "thinbench: {} on {release} is left out of the report across kernels: {e}",
                    d.display()
                ),
            }
        }
        loaded.push((release.clone(), runs));
    }
    let Some(c) = thinbench_reports::compare_kernels(&loaded, &CompareRules::default()) else {
        return Ok(None);
    };
    let files = thinbench_reports::write_kernel_comparison(&c, out)?;
    Ok(Some(KernelReport {
        html: files.html,
        findings: c.findings().count(),
        figures: c.rows.len(),
    }))
}
