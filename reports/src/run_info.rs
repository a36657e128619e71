//! [`RunInfo`]: who a run was and where it ran, read off its summary. Shared by the
//! report model and the run-vs-run comparison, so neither imports the other for it.

use std::path::PathBuf;
use thinbench_schema::load::LoadedRun;
use thinbench_schema::record::{EnvironmentInfo, Status, TimingClock};

/// Identity and environment of one run.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RunInfo {
    /// Run id.
    pub run_id: String,
    /// Scenario name.
    pub scenario: String,
    /// Scenario description.
    pub description: Option<String>,
    /// Overall verdict.
    pub status: Status,
    /// Start time (RFC 3339).
    pub started_at: String,
    /// End time, if it finished.
    pub finished_at: Option<String>,
    /// Where it ran.
    pub environment: EnvironmentInfo,
    /// Run-level error.
    pub error: Option<String>,
    /// The run directory.
    pub dir: PathBuf,
}

impl RunInfo {
    /// The identity of `run`.
    pub fn of(run: &LoadedRun) -> RunInfo {
        let s = &run.summary;
        RunInfo {
            run_id: s.run_id.clone(),
            scenario: s.scenario.name.clone(),
            description: s.scenario.description.clone(),
            status: s.status,
            started_at: s.started_at.clone(),
            finished_at: s.finished_at.clone(),
            environment: s.environment.clone(),
            error: s.error.clone(),
            dir: run.dir.clone(),
        }
    }

    /// Whether the pools ran under emulation (qemu TCG): timings are then only
    /// comparable within the same environment.
    pub fn is_tcg(&self) -> bool {
        self.environment.accel.as_deref() == Some("tcg")
    }

    /// The label of its timings when they were taken on the instruction clock.
    pub fn clock_label(&self) -> Option<String> {
        clock_label(&self.environment)
    }
}

/// "instruction clock (emulated): time = instructions × 2^N ns; device waits do not
/// count" for a run on the instruction clock, `None` on the wall clock: every place that
/// shows such timings says so.
pub fn clock_label(e: &EnvironmentInfo) -> Option<String> {
    (e.clock == TimingClock::Instructions).then(|| {
        format!(
            "instruction clock (emulated): time = instructions × 2^{} ns; device waits do not count",
            e.icount_shift
                .map_or_else(|| "N".to_owned(), |n| n.to_string())
        )
    })
}

/// The clock as the environment tables show it: `wall`, or the label.
pub fn clock_cell(e: &EnvironmentInfo) -> String {
    clock_label(e).unwrap_or_else(|| "wall".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instruction_clock_runs_are_labelled_with_their_shift() {
        let mut e = EnvironmentInfo::default();
        assert_eq!(clock_label(&e), None);
        assert_eq!(clock_cell(&e), "wall");
        e.clock = TimingClock::Instructions;
        e.icount_shift = Some(4);
        assert_eq!(
            clock_label(&e).as_deref(),
            Some("instruction clock (emulated): time = instructions × 2^4 ns; device waits do not count")
        );
    }
}
