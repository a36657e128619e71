//! Options several subcommands share.

use clap::ValueEnum;
use std::path::PathBuf;

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

/// Options choosing the VM's kernel and CPUs.
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
}
