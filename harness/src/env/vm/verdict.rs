//! The verdicts of a VM batch's runs: what each guest run wrote, and what the host saw of
//! the VM (a panic, a hang, a timeout, qemu dying) on the runs it cut short.

use std::path::Path;
use std::time::Duration;

use thinbench_schema::record::{EnvironmentInfo, RunSummary, ScenarioInfo, Status};

use super::{VmConfig, VmOutcome};
use crate::env::host;
use crate::record::read_summary;
use crate::runner;
use crate::spec::ScenarioSpec;

/// One run of the batch, as the verdicts need it.
pub struct RunRef<'a> {
    /// Its plan.
    pub plan: &'a ScenarioSpec,
    /// Its run id.
    pub run_id: &'a str,
    /// Its results directory.
    pub out: &'a Path,
}

/// Why the VM ended before the guest said how its jobs went, if it did.
fn why_cut_short(outcome: &VmOutcome, vm_timeout: Duration) -> Option<String> {
    let console = outcome.console.display();
    if outcome.interrupted {
        Some("interrupted".to_owned())
    } else if let Some(p) = &outcome.panic {
        Some(format!(
            "the guest kernel panicked: `{p}`; console: {console}"
        ))
    } else if outcome.guest_watchdog {
        Some(format!(
            "hung: the guest's watchdog dumped the blocked tasks to {console} and powered off"
        ))
    } else if outcome.timed_out {
        Some(format!(
            "the VM was killed at its timeout ({}s); console: {console}",
            vm_timeout.as_secs()
        ))
    } else if outcome.exit_code.is_none() {
        Some(format!(
            "qemu died before the guest reported ({}); console: {console}",
            outcome.qemu_status
        ))
    } else {
        None
    }
}

/// Each run's summary, completed with the VM's facts and its fate.
pub fn summaries(
    cfg: &VmConfig,
    runs: &[RunRef<'_>],
    vm_timeout: Duration,
    outcome: &VmOutcome,
) -> Vec<RunSummary> {
    let why = why_cut_short(outcome, vm_timeout);
    let mut summaries: Vec<RunSummary> = runs
        .iter()
        .map(|r| read_summary(r.out).unwrap_or_else(|e| incomplete_summary(r.plan, r.run_id, &e)))
        .collect();
    // When the VM died, the job it was running and every later one are incomplete;
    // jobs that finished before keep their verdicts. (With every summary finished,
    // the last job is the one it died in.)
    if let Some(w) = &why {
        let first_unfinished = summaries
            .iter()
            .position(|s| s.status == Status::Incomplete || s.finished_at.is_none())
            .unwrap_or(summaries.len() - 1);
        for s in &mut summaries[first_unfinished..] {
            s.status = Status::Incomplete;
            // The guest's own reason (e.g. its timeout) comes first when it gave one.
            s.error = Some(match s.error.take() {
                Some(g) if !g.starts_with("no summary") => format!("{g}; {w}"),
                _ => w.clone(),
            });
        }
    }
    // Kernel problems the guest's own log reading did not pin on a run (at boot,
    // between runs) go on every run: a kernel that misbehaved taints them all.
    let unclaimed: Vec<String> = outcome
        .kernel_problems
        .iter()
        .filter(|p| {
            let m = log_message(p);
            !summaries
                .iter()
                .any(|s| s.kernel_problems.iter().any(|k| log_message(k) == m))
        })
        .cloned()
        .collect();
    let (qemu_version, host_cpu) = (cfg.qemu_version(), host::cpu_model());
    for s in &mut summaries {
        s.environment.kind = "vm".into();
        if s.environment.kernel.is_empty() {
            // A sample the guest never started: the kernel it would have run on.
            s.environment.kernel = cfg.kernel.version.clone();
        }
        s.environment.accel = Some(cfg.accel.as_str().into());
        s.environment.clock = cfg.clock;
        s.environment.icount_shift = cfg.icount_shift();
        s.environment.qemu_version = qemu_version.clone();
        s.environment.host_cpu_model = host_cpu.clone();
        for p in &unclaimed {
            if !s.kernel_problems.contains(p) {
                s.kernel_problems.push(p.clone());
            }
        }
        if !s.kernel_problems.is_empty() {
            s.status = s.status.worst(Status::Failed);
        }
    }
    summaries
}

/// A kernel log line without its `[ seconds.micros]` stamp (the console and /dev/kmsg
/// stamp the same message alike, but not byte for byte).
fn log_message(line: &str) -> &str {
    let t = line.trim();
    match (t.starts_with('['), t.find(']')) {
        (true, Some(i)) => t[i + 1..].trim(),
        _ => t,
    }
}

/// The summary of a run the guest left none for.
fn incomplete_summary(plan: &ScenarioSpec, run_id: &str, why: &str) -> RunSummary {
    RunSummary {
        format_version: thinbench_schema::FORMAT_VERSION,
        run_id: run_id.to_owned(),
        scenario: ScenarioInfo {
            name: plan.name.to_string(),
            file: plan.source.display().to_string(),
            description: plan.description.clone(),
        },
        status: Status::Incomplete,
        started_at: runner::now_rfc3339(),
        finished_at: None,
        environment: EnvironmentInfo {
            thinbench_version: env!("CARGO_PKG_VERSION").to_owned(),
            ..Default::default()
        },
        cases: vec![],
        kernel_problems: vec![],
        error: Some(format!("no summary from the guest: {why}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_lines_compare_without_their_stamp() {
        assert_eq!(log_message("[   12.345678] WARNING: x"), "WARNING: x");
        assert_eq!(log_message("[12.3] WARNING: x"), "WARNING: x");
        assert_eq!(log_message("BUG: y"), "BUG: y");
    }
}
