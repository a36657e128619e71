//! Options several subcommands share.

use clap::ValueEnum;
use std::path::PathBuf;
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
    /// Kernel image for the VM (default: the cached Debian kernel).
    #[arg(long, requires = "modules")]
    pub kernel: Option<PathBuf>,
    /// The kernel's `lib/modules/<version>` directory.
    #[arg(long, requires = "kernel")]
    pub modules: Option<PathBuf>,
    /// Guest CPUs (default: 1 under TCG, where a second one costs host CPU and gains no
    /// speed; 2 under KVM).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub cpus: Option<u32>,
    /// The VM's clock (default: the scenario's `clock`, else wall). `instructions` runs
    /// single-threaded TCG with one CPU and qemu's instruction counter, so timings count
    /// guest instructions, not the host's speed (docs/environments.md).
    #[arg(long, value_enum)]
    pub clock: Option<ClockArg>,
}
