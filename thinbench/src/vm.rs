//! `thinbench vm exec -- CMD`: one boot, one command, its output on stdout.

use anyhow::Context;
use std::time::Duration;

use crate::args::KernelArgs;
use thinbench_harness::env::vm::services::GuestServices;
use thinbench_harness::env::vm::{self, VmConfig, VmJob};

/// VM subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum VmCmd {
    /// Run CMD in a fresh VM; exits with CMD's exit code.
    Exec {
        /// Kernel choice.
        #[command(flatten)]
        kernel: KernelArgs,
        /// How long before the VM is killed (`90s`, `20m`, `1h`: the duration grammar of
        /// every file and flag).
        #[arg(long, default_value = "10m", value_parser = crate::args::timeout_arg)]
        timeout: Duration,
        /// Directory shared read-write with the guest (default: a temporary one).
        #[arg(long)]
        share: Option<std::path::PathBuf>,
        /// The command, run by /bin/sh in the guest.
        #[arg(trailing_var_arg = true, required = true)]
        cmd: Vec<String>,
    },
}

pub fn run(c: VmCmd) -> anyhow::Result<i32> {
    let VmCmd::Exec {
        kernel,
        timeout,
        share,
        cmd,
    } = c;
    let (cpus, clock) = (kernel.cpus, kernel.clock);
    let services = GuestServices::parse(&kernel.services).map_err(anyhow::Error::msg)?;
    services.check_installed()?;
    if kernel.kernel.len() > 1 {
        anyhow::bail!("vm exec boots one kernel: give --kernel once (`run` takes several)");
    }
    let kernel = match kernel.kernel.is_empty() {
        true => None,
        false => vm::resolve_all(&kernel.kernel, &kernel.modules)?.pop(),
    };
    let mut cfg = VmConfig::discover(kernel)?;
    cfg.set_clock(clock.map_or(vm::TimingClock::Wall, |c| c.clock()), cpus)?;
    let (dir, temp) = match share {
        Some(d) => (
            std::fs::canonicalize(&d).with_context(|| format!("{}", d.display()))?,
            false,
        ),
        None => {
            let d = std::env::temp_dir().join(format!("thinbench-vm-{}", std::process::id()));
            std::fs::create_dir_all(&d)?;
            (d, true)
        }
    };
    let script = format!(
        "export DM_DISABLE_UDEV=1 PATH=/usr/sbin:/usr/bin:/sbin:/bin\ncd /\n{}{}\n",
        services.start_script(),
        cmd.join(" ")
    );
    let job = VmJob {
        name: "thinbench-vm-exec".into(),
        out_dir: dir.clone(),
        script,
        disks: vec![],
        timeout,
        guest_limit: None,
        crash_qemu_when: None,
    };
    let out = vm::run(&cfg, &job, &mut || {})?;
    let console = std::fs::read_to_string(&out.console).unwrap_or_default();
    let mut in_job = false;
    for line in console.lines() {
        let line = line.trim_end_matches('\r');
        if line.contains("thinbench-guest: job") {
            in_job = true;
        } else if line.contains("thinbench-guest: exit=") {
            in_job = false;
        } else if in_job {
            println!("{line}");
        }
    }
    eprintln!(
        "thinbench: vm {} kernel {} ({}) accel {} clock {}: boot-to-job {:.1}s, total {:.1}s",
        cfg.qemu_version().unwrap_or_default(),
        cfg.kernel.version,
        out.boot.image,
        cfg.accel.as_str(),
        cfg.clock.as_str(),
        out.boot.wall_to_job.unwrap_or(f64::NAN),
        out.wall_secs
    );
    if let Some(b) = out.boot.breakdown() {
        eprintln!("thinbench: boot breakdown: {b}");
    }
    if temp {
        let _ = std::fs::remove_dir_all(&dir);
    }
    if out.timed_out {
        anyhow::bail!(
            "the VM timed out after {}",
            thinbench_schema::grammar::format_duration(timeout)
        );
    }
    Ok(out.exit_code.unwrap_or(crate::exit_code::INCOMPLETE))
}
