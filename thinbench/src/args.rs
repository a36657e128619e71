//! Options several subcommands share.

use clap::ValueEnum;
use std::path::PathBuf;
use std::time::Duration;
use thinbench_harness::spec::KernelRequest;
use thinbench_schema::record::TimingClock;

/// Where the kernel under test runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EnvArg {
    /// The host's device-mapper if it has one, else the VM.
    Auto,
    /// The running kernel (root, device-mapper needed).
    Host,
    /// A kernel booted under qemu.
    Vm,
}

/// The clock a VM's guest time runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClockArg {
    /// Real time (under TCG: the emulation's speed on this host).
    Wall,
    /// qemu's instruction counter: time = guest instructions × 2^4 ns, device waits do
    /// not count (TCG only, one guest CPU).
    Instructions,
}

impl ClockArg {
    /// The schema's clock.
    pub fn clock(self) -> TimingClock {
        match self {
            ClockArg::Wall => TimingClock::Wall,
            ClockArg::Instructions => TimingClock::Instructions,
        }
    }
}

/// Options choosing the VM's kernel, CPUs and clock.
#[derive(Debug, Clone, clap::Args)]
pub struct KernelArgs {
    /// The VM's kernel: `debian:6.12`, `debian:6.1.0-47`, `debian:latest`,
    /// `debian:default` (fetched through apt and cached once per version), or an image
    /// path with --modules. `run` takes it several times: each scenario on each kernel,
    /// one boot per kernel, and a report across them (default: the scenarios'
    /// `kernels`, else the cached Debian kernel).
    #[arg(long, value_parser = KernelRequest::parse)]
    pub kernel: Vec<KernelRequest>,
    /// The `lib/modules/<version>` directory of each kernel image path, in order.
    #[arg(long)]
    pub modules: Vec<PathBuf>,
    /// Guest CPUs (default: 1 under TCG, where a second one costs host CPU and gains no
    /// speed; 2 under KVM).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub cpus: Option<u32>,
    /// The VM's clock (default: the scenario's `clock`, else wall). `instructions` runs
    /// single-threaded TCG with one CPU and qemu's instruction counter, so timings count
    /// guest instructions, not the host's speed (docs/environments.md).
    #[arg(long, value_enum)]
    pub clock: Option<ClockArg>,
    /// Start a real host's device services in the guest: `udev` (systemd-udevd: device
    /// nodes and /dev/mapper links by udev rules, lvm synced with udev), `dmeventd`
    /// (lvm's monitoring: it autoextends direct-lvm pools; the guest's runs get
    /// `--dmeventd`), or `host` for both. Default: neither (docs/environments.md).
    #[arg(long, value_delimiter = ',')]
    pub services: Vec<String>,
}

/// Parses a duration flag in the one grammar of every file and flag
/// (`thinbench_schema::grammar`: `90s`, `20m`, `1h30m`, `2d`), for clap.
pub fn duration_arg(s: &str) -> Result<Duration, String> {
    thinbench_schema::grammar::parse_duration(s).map_err(|e| e.to_string())
}

/// The longest `--timeout`: a scenario's own `timeout` is bounded the same.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// A `--timeout` (`run`, `vm exec`): a duration from 1s to 24h.
pub fn timeout_arg(s: &str) -> Result<Duration, String> {
    let d = duration_arg(s)?;
    if d < Duration::from_secs(1) || d > MAX_TIMEOUT {
        return Err(format!(
            "`{s}`: a timeout must be 1s to 24h, not {}",
            thinbench_schema::grammar::format_duration(d)
        ));
    }
    Ok(d)
}
