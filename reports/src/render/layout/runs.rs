//! The "Runs" section: each run's identity and environment, as key-value blocks.

use super::builder::Builder;
use super::shared::status_str;
use crate::model::ReportModel;
use crate::render::document::Block;
use crate::run_info::RunInfo;

pub(super) fn env_rows(r: &RunInfo) -> Vec<(String, String)> {
    let e = &r.environment;
    let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "n/a".into());
    let mut rows = vec![
        ("Run ID".into(), r.run_id.clone()),
        ("Scenario".into(), r.scenario.clone()),
    ];
    if let Some(d) = &r.description {
        rows.push(("Description".into(), d.clone()));
    }
    rows.extend([
        ("Status".into(), status_str(r.status).to_owned()),
        ("Started".into(), r.started_at.clone()),
        (
            "Finished".into(),
            r.finished_at
                .clone()
                .unwrap_or_else(|| "did not finish".into()),
        ),
        ("Environment".into(), e.kind.clone()),
        ("Kernel".into(), e.kernel.clone()),
        ("Device-mapper driver".into(), opt(&e.dm_version)),
        ("thin-pool target".into(), opt(&e.thin_pool_target_version)),
        ("thin target".into(), opt(&e.thin_target_version)),
        ("Accel".into(), opt(&e.accel)),
        ("QEMU".into(), opt(&e.qemu_version)),
        ("CPU (pools' kernel)".into(), e.cpu_model.clone()),
        ("Host CPU".into(), e.host_cpu_model.clone()),
        ("CPUs".into(), e.cpus.to_string()),
        ("Clock".into(), crate::run_info::clock_cell(e)),
        (
            "thinbench".into(),
            match &e.thinbench_commit {
                Some(c) => format!("{} ({c})", e.thinbench_version),
                None => e.thinbench_version.clone(),
            },
        ),
    ]);
    for (tool, v) in &e.tools {
        rows.push((format!("Tool: {tool}"), v.clone()));
    }
    if let Some(err) = &r.error {
        rows.push(("Run error".into(), err.clone()));
    }
    rows.push(("Results".into(), r.dir.display().to_string()));
    rows
}

pub(super) fn runs_section(b: &mut Builder, m: &ReportModel) {
    b.h(2, "Runs");
    for r in &m.runs {
        let id = b.ids.get(&format!("run-{}", r.run_id));
        b.blocks.push(Block::KeyValues {
            id,
            title: format!("Run {}", r.run_id),
            rows: env_rows(r),
            colour: None,
        });
    }
}
