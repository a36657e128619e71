//! What a run writes: `summary.json` ([`RunSummary`]), `events.jsonl` ([`RunEvent`], one
//! per line) and `samples.csv` ([`PoolSample`], one per row).
//!
//! Times are milliseconds since the run started (`t_ms`) unless named otherwise; latencies
//! are nanoseconds. Every struct here is part of the documented contract (docs/results.md).

use crate::units::{Bytes, DataBlocks, MetaBlocks};
use serde::{Deserialize, Serialize};

/// How a run, case, step or expectation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Everything checked held.
    Passed,
    /// Something checked did not hold, or a step failed.
    Failed,
    /// Could not run here; the record carries the reason. Never counts as passed.
    Skipped,
    /// The run died before it finished (killed, guest crash, timeout). Never counts as
    /// passed; results present are partial.
    Incomplete,
}

impl Status {
    /// Combine two statuses: the worse wins (incomplete > failed > skipped > passed).
    pub fn worst(self, other: Status) -> Status {
        fn rank(s: Status) -> u8 {
            match s {
                Status::Passed => 0,
                Status::Skipped => 1,
                Status::Failed => 2,
                Status::Incomplete => 3,
            }
        }
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }
}

/// The kind of thin pool, named as Docker's devicemapper driver named its modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PoolKind {
    /// Sparse files on loop devices, pool and thins made with dm ioctls.
    #[serde(rename = "loop-lvm")]
    LoopLvm,
    /// An LVM thin pool on a block device, made with lvm2.
    #[serde(rename = "direct-lvm")]
    DirectLvm,
}

impl PoolKind {
    /// The name used in scenarios and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            PoolKind::LoopLvm => "loop-lvm",
            PoolKind::DirectLvm => "direct-lvm",
        }
    }
}

/// The pool's operating mode as its status line reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PoolMode {
    /// `rw`: normal.
    Rw,
    /// `ro`: read-only (metadata trouble, or asked for).
    Ro,
    /// `out_of_data_space`.
    OutOfDataSpace,
    /// Status reads `Fail`.
    Fail,
    /// Status reads `Error` (metadata unreadable).
    Error,
}

impl PoolMode {
    /// The kernel's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PoolMode::Rw => "rw",
            PoolMode::Ro => "ro",
            PoolMode::OutOfDataSpace => "out_of_data_space",
            PoolMode::Fail => "Fail",
            PoolMode::Error => "Error",
        }
    }
}

/// One reading of a pool's status line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolUsage {
    /// Pool transaction id.
    pub transaction_id: u64,
    /// Data blocks in use.
    pub data_used: DataBlocks,
    /// Data blocks in the pool.
    pub data_total: DataBlocks,
    /// Metadata blocks in use.
    pub meta_used: MetaBlocks,
    /// Metadata blocks on the metadata device.
    pub meta_total: MetaBlocks,
    /// Operating mode.
    pub mode: PoolMode,
    /// `needs_check` flag set.
    pub needs_check: bool,
    /// `error_if_no_space` (true) or `queue_if_no_space` (false). `None` when the status
    /// is `Fail`/`Error` and says nothing.
    pub error_if_no_space: Option<bool>,
}

/// One row of `samples.csv`: a pool status reading at a point in the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoolSample {
    /// Milliseconds since the run started.
    pub t_ms: u64,
    /// Pool name from the scenario.
    pub pool: String,
    /// Step index (0-based) running when the sample was taken; `None` between steps.
    pub step: Option<usize>,
    /// Why the sample was taken: `step-start`, `step-end`, `periodic`.
    pub reason: String,
    /// Data blocks used.
    pub data_used: u64,
    /// Data blocks total.
    pub data_total: u64,
    /// Metadata blocks used.
    pub meta_used: u64,
    /// Metadata blocks total.
    pub meta_total: u64,
    /// Mode (kernel spelling).
    pub mode: String,
    /// needs_check flag.
    pub needs_check: bool,
    /// The no-space policy the status reports: `error` (`error_if_no_space`), `queue`,
    /// or empty when the status says none (`Fail`/`Error`). Absent in files of earlier
    /// versions, read as empty.
    #[serde(default)]
    pub no_space: String,
}

impl PoolSample {
    /// A row from a status reading.
    pub fn from_usage(
        t_ms: u64,
        pool: &str,
        step: Option<usize>,
        reason: &str,
        u: &PoolUsage,
    ) -> PoolSample {
        PoolSample {
            t_ms,
            pool: pool.to_owned(),
            step,
            reason: reason.to_owned(),
            data_used: u.data_used.0,
            data_total: u.data_total.0,
            meta_used: u.meta_used.0,
            meta_total: u.meta_total.0,
            mode: u.mode.as_str().to_owned(),
            needs_check: u.needs_check,
            no_space: match u.error_if_no_space {
                Some(true) => "error",
                Some(false) => "queue",
                None => "",
            }
            .to_owned(),
        }
    }
}

/// Latency percentiles of one workload, in nanoseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Number of IOs measured.
    pub count: u64,
    /// Mean.
    pub mean_ns: f64,
    /// Median.
    pub p50_ns: u64,
    /// 90th percentile.
    pub p90_ns: u64,
    /// 99th percentile.
    pub p99_ns: u64,
    /// 99.9th percentile.
    pub p999_ns: u64,
    /// Largest.
    pub max_ns: u64,
    /// Smallest.
    pub min_ns: u64,
}

/// Measured figures of one workload step.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkloadStats {
    /// Workload kind (`small-write`, ...).
    pub workload: String,
    /// Bytes written or read successfully.
    pub bytes: Bytes,
    /// IOs completed successfully.
    pub ops: u64,
    /// IOs that returned an error.
    pub errors: u64,
    /// The first error seen, as text (`ENOSPC: No space left on device`).
    pub first_error: Option<String>,
    /// Wall time of the IO phase, nanoseconds.
    pub elapsed_ns: u64,
    /// IOs per second.
    pub iops: f64,
    /// Throughput in MB/s (10^6 bytes per second).
    pub mb_per_s: f64,
    /// Per-IO latency.
    pub latency: LatencySummary,
    /// Distinct chunks (data blocks) that this step wrote to for the first time, as the
    /// workload itself counts them (not the pool).
    pub distinct_chunks_touched: u64,
}

/// Whether a metric is exact (block counts, errors: identical run to run on one kernel)
/// or a timing (noisy; compared statistically).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// Deterministic: compared exactly.
    Exact,
    /// Timing or throughput: compared with confidence intervals.
    Timing,
}

/// Which direction is an improvement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    /// Smaller is better (latency, blocks used).
    Lower,
    /// Larger is better (IOPS, space returned).
    Higher,
    /// Neither: any change is a behaviour change.
    Neither,
}

/// A named figure of a step, e.g. `space.pool_blocks_returned` or `cow.amplification`.
/// Names are stable across versions (part of the contract); reports and the gate read
/// them without knowing the workload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    /// Dotted name.
    pub name: String,
    /// Value.
    pub value: f64,
    /// Unit (`blocks`, `bytes`, `ns`, `iops`, `MB/s`, `ratio`, `ms`, `count`).
    pub unit: String,
    /// Exact or timing.
    pub kind: MetricKind,
    /// Direction of improvement.
    pub better: Better,
}

/// One phase of a multi-phase workload (e.g. CoW: first write vs rewrite of a chunk).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseStats {
    /// Phase name, e.g. `snapshot/sub-chunk/first`.
    pub name: String,
    /// Its figures.
    pub stats: WorkloadStats,
}

/// One checked expectation: what was expected, what was seen, and the verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpectationResult {
    /// What is checked, e.g. `data_blocks_allocated == distinct chunks touched`.
    pub what: String,
    /// Expected value as text.
    pub expected: String,
    /// Observed value as text.
    pub observed: String,
    /// Verdict.
    pub status: Status,
    /// Why skipped, or a one-line explanation of a failure naming step and numbers.
    pub message: Option<String>,
}

/// The result of one step of one case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepResult {
    /// 0-based index in the scenario's step list.
    pub index: usize,
    /// Step name (given, or `<index>-<action>`).
    pub name: String,
    /// Action (`create-thin`, `snapshot`, `small-write`, ...).
    pub action: String,
    /// Verdict for the step.
    pub status: Status,
    /// Milliseconds since run start when the step began.
    pub started_ms: u64,
    /// How long the step took, milliseconds.
    pub duration_ms: u64,
    /// Pool status before the step.
    pub pool_before: Option<PoolUsage>,
    /// Pool status after the step.
    pub pool_after: Option<PoolUsage>,
    /// Data blocks the pool allocated during the step (after - before).
    pub data_blocks_allocated: Option<i64>,
    /// Workload figures, for workload steps.
    pub workload: Option<WorkloadStats>,
    /// Phases of multi-phase workloads, each with its own figures.
    #[serde(default)]
    pub phases: Vec<PhaseStats>,
    /// Named figures (space returned, amplification, time to ENOSPC, ...).
    #[serde(default)]
    pub metrics: Vec<Metric>,
    /// Checked expectations.
    pub expectations: Vec<ExpectationResult>,
    /// Error that ended the step, if any.
    pub error: Option<String>,
    /// Why the step's `io.*` counters (block-layer IO the pool sent its data and
    /// metadata devices) are absent, wholly or for one device (`not measured: …`);
    /// absent when they were measured, and in results from before they existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub io_not_measured: Option<String>,
}

/// A pool as a case saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoolReport {
    /// Pool name from the scenario.
    pub name: String,
    /// Kind.
    pub kind: PoolKind,
    /// Chunk (data block) size in bytes.
    pub chunk_bytes: Bytes,
    /// The dm device the pool ended up as (`/dev/dm-N`, name).
    pub device: Option<String>,
    /// Pool status at the end of the case, before teardown.
    pub final_usage: Option<PoolUsage>,
    /// Details of how it was built (table line, lvm commands) for reproducibility.
    pub construction: Vec<String>,
    /// The pool's configured behaviour, as Docker's daemon options named it. Absent in
    /// results written before it was added.
    #[serde(default)]
    pub settings: Option<PoolSettings>,
}

/// A pool's configured behaviour (the `docker info` fields that are settings, not
/// measurements).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolSettings {
    /// `dm.min_free_space` in percent (0: off).
    pub min_free_space_pct: u8,
    /// `error_if_no_space` (true) or queue when out of data space.
    pub error_if_no_space: bool,
    /// Discards passed down to the data device.
    pub discard_passdown: bool,
    /// New blocks zeroed on partial writes.
    pub block_zeroing: bool,
    /// The scenario removes busy thins with deferred remove (`dm.use_deferred_removal`).
    pub deferred_removal: bool,
    /// The scenario defers the deletion of busy thins (`dm.use_deferred_deletion`).
    pub deferred_deletion: bool,
    /// Fault layers stacked under the pool's devices (`[[fault]]`), bottom first; their
    /// tables are in `construction`. Absent when there are none (and in results written
    /// before faults existed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<FaultInfo>,
}

/// One fault layer under a pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultInfo {
    /// The pool device it sits on: `data` or `metadata`.
    pub device: String,
    /// dm target: `delay`.
    pub target: String,
    /// When it goes into force: `start` (the pool's construction), `step:NAME`,
    /// `time:<ms>ms`, `written:<bytes>`, `usage:<pct>%`.
    pub at: String,
    /// When it goes out of force: `end`, `step:NAME`, `after:<ms>ms` (absent in runs
    /// made before scheduling existed: `end`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// The target's table params when in force (`<dev>` for the device below).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<String>,
    /// Its dm device name (`tb-<run>-<pool>-<device>-<target>`).
    pub dm_name: String,
    /// The kernel's version of the target (`dmsetup targets`), when it has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_version: Option<String>,
    /// dm-delay's delays (target `delay`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<DelayInfo>,
}

/// dm-delay's delays, milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelayInfo {
    /// Reads.
    pub read_ms: u32,
    /// Writes.
    pub write_ms: u32,
    /// Flushes; absent: flushes take the write delay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flush_ms: Option<u32>,
}

/// One case: the scenario's steps run against one pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseResult {
    /// Case id, `<scenario>/<pool>`.
    pub id: String,
    /// Verdict.
    pub status: Status,
    /// The pool.
    pub pool: PoolReport,
    /// Steps in order. Steps not reached are absent.
    pub steps: Vec<StepResult>,
    /// Why the case is skipped or failed outside any step (set-up, teardown).
    pub error: Option<String>,
    /// Teardown problems; a case that leaked is failed.
    pub teardown_errors: Vec<String>,
    /// `thin_check` of the pool's metadata after teardown: `thin_check: ok`,
    /// `thin_check: failed: <problems>` (fails the case), or `skipped: <reason>`.
    /// Absent in runs made before it existed.
    #[serde(default)]
    pub metadata_check: Option<String>,
    /// What happened to the pool, in time order: faults in and out of force, mode
    /// changes, kernel log lines, workload errors, replay points. Empty (and absent) for
    /// a case without faults.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<TimelineEntry>,
}

/// One line of a case's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// Milliseconds since the run started.
    pub t_ms: u64,
    /// `fault-on`, `fault-off`, `mode`, `kernel`, `error`, `step`, `mark`.
    pub kind: String,
    /// What, in words.
    pub text: String,
}

/// The clock a run's timings were taken on (docs/results.md).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TimingClock {
    /// Real time: the host's, or under TCG the emulation's speed on a shared host.
    #[default]
    Wall,
    /// qemu's instruction counter (`-icount`): virtual time = guest instructions ×
    /// 2^shift ns; time the guest waits for a device does not count.
    Instructions,
}

impl TimingClock {
    /// `wall` or `instructions`, as in `summary.json` and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            TimingClock::Wall => "wall",
            TimingClock::Instructions => "instructions",
        }
    }
}

/// Where a run ran.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentInfo {
    /// `host` or `vm`.
    pub kind: String,
    /// `uname -r` of the kernel that ran the pools.
    pub kernel: String,
    /// device-mapper driver version (version ioctl), e.g. `4.47.0`.
    pub dm_version: Option<String>,
    /// `thin-pool` target version.
    pub thin_pool_target_version: Option<String>,
    /// `thin` target version.
    pub thin_target_version: Option<String>,
    /// `tcg` or `kvm` (vm only).
    pub accel: Option<String>,
    /// qemu version (vm only).
    pub qemu_version: Option<String>,
    /// CPU model as the kernel running the pools reports it.
    pub cpu_model: String,
    /// Host CPU model (differs from `cpu_model` in a vm).
    pub host_cpu_model: String,
    /// Number of CPUs the pools' kernel had.
    pub cpus: u32,
    /// The clock the timings were taken on (`wall` in runs made before it was recorded).
    #[serde(default)]
    pub clock: TimingClock,
    /// Under the instruction clock: qemu's `-icount shift`, so one guest instruction
    /// counts 2^shift ns of virtual time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icount_shift: Option<u8>,
    /// thinbench version.
    pub thinbench_version: String,
    /// git commit thinbench was built from, when known.
    pub thinbench_commit: Option<String>,
    /// Versions of the tools used (lvm, thin_check, fio, mkfs.xfs).
    pub tools: Vec<(String, String)>,
    /// The real host's device services that ran beside the pools: `systemd-udevd`
    /// (lvm and dmsetup synced with udev), `dmeventd` (it monitored direct-lvm pools).
    /// Empty: none (the minimal guest: no udev, thinbench's monitor).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub host_services: Vec<String>,
}

/// Scenario identity in a summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioInfo {
    /// Scenario name.
    pub name: String,
    /// Path the scenario was read from.
    pub file: String,
    /// Description from the file.
    pub description: Option<String>,
}

/// `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// [`crate::FORMAT_VERSION`] of the writer.
    pub format_version: u32,
    /// Unique run id (also the tag on every device the run made).
    pub run_id: String,
    /// The scenario.
    pub scenario: ScenarioInfo,
    /// Overall verdict: the worst of its cases; `incomplete` if the run did not finish.
    pub status: Status,
    /// RFC 3339 start time.
    pub started_at: String,
    /// RFC 3339 end time; `None` while running or if killed.
    pub finished_at: Option<String>,
    /// Where it ran.
    pub environment: EnvironmentInfo,
    /// One per pool in the scenario.
    pub cases: Vec<CaseResult>,
    /// Kernel log lines that fail a run (BUG, WARNING, Oops, panic).
    pub kernel_problems: Vec<String>,
    /// Run-level error (environment failed, guest crashed, timeout).
    pub error: Option<String>,
}

/// One line of `events.jsonl`: the run's timeline. Written as the run goes, so a killed
/// run leaves its timeline up to the kill.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunEvent {
    /// Milliseconds since run start.
    pub t_ms: u64,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// The kinds of timeline event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// The run began.
    RunStarted {
        /// Run id.
        run_id: String,
        /// Scenario name.
        scenario: String,
    },
    /// Environment facts are known.
    Environment {
        /// The facts.
        info: Box<EnvironmentInfo>,
    },
    /// A case (pool) began.
    CaseStarted {
        /// Case id.
        case: String,
    },
    /// A step began.
    StepStarted {
        /// Case id.
        case: String,
        /// Step index.
        index: usize,
        /// Step name.
        name: String,
    },
    /// Workload progress.
    Progress {
        /// Case id.
        case: String,
        /// Step index.
        index: usize,
        /// Bytes done so far.
        bytes: u64,
        /// Bytes planned (0 if unbounded).
        total: u64,
    },
    /// A pool status reading.
    PoolStatus {
        /// Pool name.
        pool: String,
        /// The reading.
        usage: Box<PoolUsage>,
    },
    /// The pool changed mode.
    ModeChange {
        /// Pool name.
        pool: String,
        /// Old mode.
        from: PoolMode,
        /// New mode.
        to: PoolMode,
    },
    /// lvm's autoextend policy acted on a direct-lvm pool (`lvextend --use-policies`).
    Autoextend {
        /// Pool name.
        pool: String,
        /// Who acted: `thinbench-monitor` (thinbench standing in for dmeventd, where
        /// nothing monitors the pool) or `dmeventd` (the system's, seen as the pool's
        /// growth at the first status reading that shows it).
        by: String,
        /// Data blocks in use when it acted (dmeventd: at that reading).
        used_blocks: u64,
        /// Data blocks before.
        from_blocks: u64,
        /// Data blocks after (absent: lvm could not extend).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to_blocks: Option<u64>,
        /// lvm's refusal, when it could not.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// A line from the kernel log. The event's `t_ms` is when thinbench read it;
    /// `at_ms` when the kernel logged it (its printk time on the run's clock).
    KernelLog {
        /// The line, as `dmesg` shows it.
        line: String,
        /// When the kernel logged it, ms since run start (absent without a clock mark).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at_ms: Option<u64>,
        /// The step it was logged during (absent: between steps, or not known).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        step: Option<usize>,
    },
    /// printk time tied to the run's clock: the kernel stamped thinbench's marker `usec`
    /// (µs since boot) at run time `marked_ms`, to within `uncertainty_ms`.
    KernelClock {
        /// The marker's printk time.
        usec: u64,
        /// Run clock when it was written.
        marked_ms: u64,
        /// Time the write took: the mapping's uncertainty.
        uncertainty_ms: u64,
        /// A later mark's distance from where the case's first mark put it (the two
        /// clocks' drift), absent for the first.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        drift_ms: Option<i64>,
    },
    /// A step ended.
    StepFinished {
        /// Case id.
        case: String,
        /// The result.
        result: Box<StepResult>,
    },
    /// A case ended.
    CaseFinished {
        /// Case id.
        case: String,
        /// Verdict.
        status: Status,
    },
    /// A fault went into or out of force.
    Fault {
        /// Pool name.
        pool: String,
        /// The fault (`metadata-flakey`).
        fault: String,
        /// Whether it is now in force.
        active: bool,
        /// Why now (`at = "usage:50%"` reached at 51%, …).
        reason: String,
    },
    /// The case's sampler could not read the pool's status from `from_ms` to `to_ms`
    /// (the pool was down: a reboot, a repair): no samples there, and this says why.
    SamplingGap {
        /// Pool name.
        pool: String,
        /// First failed read, ms since run start.
        from_ms: u64,
        /// First good read after it (or the sampler's stop), ms since run start.
        to_ms: u64,
        /// The read's error.
        why: String,
    },
    /// Something went wrong outside a step.
    Error {
        /// What.
        message: String,
    },
    /// The run ended (absent when killed).
    RunFinished {
        /// Verdict.
        status: Status,
    },
}
