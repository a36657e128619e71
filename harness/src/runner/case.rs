//! What a case carries from step to step ([`CaseState`]: the accounting oracle, the
//! chunks written, the integrity log), and the shape of an expectation's verdict
//! ([`check`], [`verdict`]): the state every action and the step runner share, below both.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use thinbench_model::chunk::PoolModel;
use thinbench_schema::ids::Ident;
use thinbench_schema::record::{ExpectationResult, PoolMode, PoolSample, PoolUsage, Status};
use thinbench_schema::units::Bytes;

use crate::backend::PoolBackend;
use crate::record::Recorder;
use crate::spec::{PoolSpec, StepSpec};
use crate::sys::clock::SharedClock;

/// A write as the integrity oracle remembers it: offset, length, generation.
pub type LoggedWrite = (Bytes, Bytes, u64);

/// What a case carries from step to step.
#[derive(Default)]
pub struct CaseState {
    /// The accounting oracle (created at the first step, sized from the real pool).
    pub model: Option<PoolModel>,
    /// Chunks written per thin by this run (snapshots inherit the origin's set): the
    /// independent count behind `chunks-touched`.
    pub written: BTreeMap<Ident, BTreeSet<u64>>,
    /// Acknowledged writes per thin, oldest first (snapshots inherit their origin's),
    /// for the integrity oracle.
    pub log: BTreeMap<Ident, Vec<LoggedWrite>>,
    /// Every acknowledged write per thin, append-only (snapshots start with their
    /// origin's): what a power cut may have kept, for the power-cut oracles, which
    /// `log` (cut back to what is known to be on disk after a reboot) no longer holds.
    pub acked: BTreeMap<Ident, Vec<LoggedWrite>>,
    /// Last generation handed out; each workload phase gets a new one.
    pub generation: u64,
    /// Last pool mode seen.
    pub last_mode: Option<PoolMode>,
    /// The kernel log reader (opened when the case starts).
    pub kmsg: Option<crate::env::kmsg::Kmsg>,
    /// Every kernel log line seen during the case.
    pub kernel_lines: Vec<String>,
    /// When the kernel logged each of `kernel_lines`, on the run's clock (by
    /// `kernel_clock`; `None` without one).
    pub kernel_at_ms: Vec<Option<u64>>,
    /// printk time tied to the run's clock, marked when the case starts.
    pub kernel_clock: Option<crate::env::kmsg::ClockMark>,
    /// Data blocks the kernel allocated and committed for writes that then failed when
    /// the metadata ran out (`metadata-fill`): counted by the pool, mapped by no thin,
    /// so in no model. The whole-pool accounting checks add them.
    pub leaked_data_blocks: u64,
    /// The case's scratch directory (under the run's work dir, so its path carries the
    /// run id): filesystems of `delete` steps are mounted below it.
    pub scratch: std::path::PathBuf,
    /// The fault schedule (a case with `[[fault]]` layers).
    pub faults: Option<super::faults::Scheduler>,
    /// Completed flushes, oldest first: when each completed, and how long each thin's
    /// write log was then — the writes a power cut after it must not lose.
    pub flushes: Vec<Flushed>,
    /// The case's clock (real; a test's fake): the fault schedule's times and the
    /// flushes' are taken on it, so they compare.
    pub clock: SharedClock,
    /// The devices of the case other than its pool and thins (`create-device`), in
    /// order of construction (removed in reverse after the pool), and what each holds.
    pub devices: Vec<CaseDeviceEntry>,
    /// The run's names (dm devices of the case carry its run id).
    pub names: Option<crate::backend::names::Names>,
    /// Background steps in flight, by step name, until their `wait`.
    pub background: BTreeMap<Ident, super::background::BackgroundJob>,
    /// Thins without a device, suspended devices, a held metadata snapshot.
    pub control: super::control_state::ControlState,
    /// The pool's settings as the last `reload` left them (`None`: as the scenario
    /// built it): what the steps after it are given as their pool.
    pub settings: Option<PoolSpec>,
    /// Filesystems on thins, their file models, and the case's mounts.
    pub fs: super::fs_state::FsState,
}

/// A device of the case, and the stamped writes it holds.
pub struct CaseDeviceEntry {
    /// The name steps use.
    pub name: Ident,
    /// The device.
    pub device: crate::backend::case_device::CaseDevice,
    /// Its content, as the integrity oracle reads it back.
    pub content: Vec<LoggedWrite>,
    /// The `io` step whose writes replaced the stamped content (`None`: as made).
    pub overwritten_by: Option<String>,
    /// The thins whose IO its IO is (`over`, or those under the device it is over).
    pub over: Vec<Ident>,
    /// Written with stamps when made (over scratch files); a device over other devices
    /// is not.
    pub stamped: bool,
    /// The device of the case it is made over (`over_device`): its stamps go with a
    /// write.
    pub below: Option<Ident>,
    /// It holds a device of the pool open (a thin, the pool's own): it goes before the
    /// pool at teardown.
    pub holds_pool: bool,
}

impl CaseState {
    /// The case device named `name`.
    pub fn device(&self, name: &Ident) -> Option<&CaseDeviceEntry> {
        self.devices.iter().find(|d| &d.name == name)
    }

    /// Device `name` written by `by`: its stamps, and those of the devices below it,
    /// gone.
    pub fn device_written(&mut self, name: &Ident, by: &str) {
        let mut next = Some(name.clone());
        while let Some(n) = next.take() {
            if let Some(d) = self.devices.iter_mut().find(|d| d.name == n) {
                d.overwritten_by.get_or_insert_with(|| by.to_owned());
                next = d.below.clone();
            }
        }
    }

    /// Removes the case's devices made over the pool's devices (its thins, its own),
    /// last made first, before the pool goes (they hold them open); returns what could
    /// not be removed.
    pub fn remove_devices_over_thins(&mut self) -> Vec<String> {
        let (over, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.devices)
            .into_iter()
            .partition(|d| d.holds_pool);
        self.devices = rest;
        over.into_iter()
            .rev()
            .flat_map(|d| d.device.remove())
            .collect()
    }

    /// Removes the case's devices, last made first; returns what could not be removed.
    pub fn remove_devices(&mut self) -> Vec<String> {
        std::mem::take(&mut self.devices)
            .into_iter()
            .rev()
            .flat_map(|d| d.device.remove())
            .collect()
    }
}

/// How thinbench's clock marks start in the kernel log.
const CLOCK_MARK: &str = "thinbench: clock mark";

/// A completed flush of the workload (see [`CaseState::flushes`]).
#[derive(Debug, Clone)]
pub struct Flushed {
    /// On the case's clock, taken after the flush returned (so never earlier than its
    /// completion).
    pub at: Duration,
    /// The `log-writes` mark written right after it, if the pool has a log.
    pub mark: Option<String>,
    /// `acked` length per thin.
    pub lens: BTreeMap<Ident, usize>,
}

impl CaseState {
    /// Read new kernel log lines into `kernel_lines`; returns how many arrived.
    pub fn drain_kernel(&mut self) -> usize {
        let new = self.kmsg.as_mut().map(|k| k.drain()).unwrap_or_default();
        let before = self.kernel_lines.len();
        // thinbench's own clock marks are not the kernel's words.
        for l in new.iter().filter(|l| !l.text.starts_with(CLOCK_MARK)) {
            let at = self.kernel_clock.map(|c| c.run_ms(l.usec));
            self.kernel_at_ms.push(at);
            self.kernel_lines.push(l.formatted());
        }
        self.kernel_lines.len() - before
    }

    /// Record a completed flush (after a workload's `fdatasync` returned); with a
    /// `log-writes` layer under the pool, also mark the log with it.
    pub fn flushed(&mut self, backend: &dyn PoolBackend) {
        // Under a fault that drops or damages writes a completed flush promises nothing.
        if self
            .faults
            .as_ref()
            .is_some_and(|f| f.damage_since().is_some())
        {
            return;
        }
        let at = self.clock.elapsed();
        let mark = backend.pool_log().and_then(|log| {
            let label = format!("flush-{}", self.flushes.len());
            let dm = crate::backend::dm::Dm::open().ok()?;
            log.mark(&dm, &label).ok().map(|()| label)
        });
        let lens = self
            .acked
            .iter()
            .map(|(k, v)| (k.clone(), v.len()))
            .collect();
        self.flushes.push(Flushed { at, mark, lens });
    }

    /// A meter for a workload phase's bytes, feeding the schedule's `written:` triggers.
    pub fn written_meter(&self) -> super::faults::WrittenMeter {
        self.faults
            .as_ref()
            .map_or_else(Default::default, super::faults::Scheduler::meter)
    }

    /// A background step in flight, if any (the model does not know its writes yet).
    pub fn in_flight(&self) -> Option<&Ident> {
        self.background.keys().next()
    }

    /// Ends every background step still in flight (the case ends without its wait:
    /// a step failed, or a stop was asked for); returns their names.
    pub fn abandon_background(&mut self) -> Vec<String> {
        let jobs = std::mem::take(&mut self.background);
        jobs.into_values()
            .map(|mut j| {
                let _ = j.abandon();
                j.step.to_string()
            })
            .collect()
    }

    /// A fresh generation number for a phase's writes.
    pub fn next_generation(&mut self) -> u64 {
        self.generation += 1;
        self.generation
    }
}

/// A pool status reading into `samples.csv`.
pub fn sample(rec: &Recorder, pool: &str, step: Option<usize>, reason: &str, u: &PoolUsage) {
    rec.sample(&PoolSample::from_usage(rec.t_ms(), pool, step, reason, u));
}

/// An expectation check that names the step and both numbers when it fails.
pub fn check(what: &str, expected: String, observed: String, step: &StepSpec) -> ExpectationResult {
    let ok = expected == observed;
    verdict(what, expected, observed, ok, step)
}

/// A check that could not be made, saying why (`observed` starts "skipped: ").
pub fn skipped(what: &str, why: &str) -> ExpectationResult {
    ExpectationResult {
        what: what.into(),
        expected: "n/a".into(),
        observed: why.into(),
        status: Status::Skipped,
        message: None,
    }
}

/// An expectation that holds when `ok` (not by string equality).
pub fn verdict(
    what: &str,
    expected: String,
    observed: String,
    ok: bool,
    step: &StepSpec,
) -> ExpectationResult {
    ExpectationResult {
        message: (!ok).then(|| {
            format!(
                "step {} ({}): {what}: expected {expected}, observed {observed}",
                step.index, step.name
            )
        }),
        what: what.to_owned(),
        expected,
        observed,
        status: if ok { Status::Passed } else { Status::Failed },
    }
}
