//! `thinbench`: parse the command line, dispatch to one library call per subcommand, turn
//! errors into messages and documented exit codes (see `exit_code`).
//! Only this crate prints; everything it calls is a library.

mod args;
mod cleanup;
mod env;
mod exit_code;
mod gate;
mod kernels;
mod plan;
mod progress;
mod report;
mod run;
mod schema;
mod snippet;
mod summary;
mod trial;
#[cfg(test)]
mod units_everywhere;
mod validate;
mod vm;

use clap::{Parser, Subcommand};

pub use args::{EnvArg, KernelArgs};
use std::path::PathBuf;

/// thinbench: fault-injection and benchmarking harness for device-mapper thin pools.
#[derive(Debug, Parser)]
#[command(name = "thinbench", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Cmd,
    /// Under each positioned error, its source line with a caret under the column, also
    /// when stderr is not a terminal (on a terminal they are always shown).
    #[arg(long, global = true)]
    pub snippets: bool,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Run a scenario.
    Run(run::RunArgs),
    /// Render a run's report (HTML, Markdown with PNG plots, CSV); several runs side by side.
    Report(report::ReportArgs),
    /// Compare two runs (or two sets of runs) of one scenario figure by figure, with the
    /// change in % and a verdict.
    ///
    /// Exit 0 nothing changed or regressed, 1 an exact figure changed, a timing
    /// regressed or a figure went missing, 2 usage, input or config error.
    Compare(report::CompareArgs),
    /// CI regression gate: a candidate's runs against a baseline (docs/gate.md).
    ///
    /// Exit 0 pass, 1 regression, 2 usage or config error or no baseline for the
    /// candidate's environment, 3 inconclusive. Writes gate.json, junit.xml, gate.md,
    /// Bencher and github-action-benchmark JSON.
    Gate(gate::GateArgs),
    /// The gate's self-validation on the instruction clock: pairs of boots of one
    /// scenario gated A/A, and a copy slowed by a known cost gated against them
    /// (docs/gate.md). Exit 0 when no A/A pair failed and the slowdown was seen in at
    /// least 95% of pairs, 1 otherwise, 2 on a usage or run error.
    GateTrial(trial::TrialArgs),
    /// Baselines kept in the repository (ci/baselines/<environment>/).
    #[command(subcommand)]
    Baseline(gate::BaselineCmd),
    /// Combine result directories (CI shards) into one that `report` and `gate` read.
    Merge(gate::MergeArgs),
    /// Capacity planning: predict data and metadata blocks, free space over time and
    /// time-to-full for a fleet of images and containers (docs/plan-format.md).
    Plan(plan::PlanArgs),
    /// Print the JSON Schema of scenario, plan or gate-config files, for editors that
    /// complete keys and flag mistakes as you type (docs/editors.md).
    Schema(schema::SchemaArgs),
    /// Check scenario files without running anything.
    Validate {
        /// Scenario files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Trust the scenarios with host paths: absolute or `..` paths, symlinks out of
        /// their directory, a named block device (docs/security.md). Never for a
        /// scenario you have not read.
        #[arg(long)]
        allow_host_paths: bool,
    },
    /// Remove devices, loop devices, VGs and scratch files left by killed runs.
    Cleanup {
        /// Only list what would be removed.
        #[arg(long)]
        dry_run: bool,
        /// Include runs that are still alive (their lock is held).
        #[arg(long)]
        all: bool,
    },
    /// Show which environment a run would use and why; list what is missing.
    Env,
    /// Boot the VM and run a shell command in it (as root, host root shared read-only).
    #[command(subcommand)]
    Vm(vm::VmCmd),
}

/// Run a subcommand; returns the process exit code.
pub fn dispatch(cli: Cli) -> anyhow::Result<i32> {
    snippet::ask(cli.snippets);
    // Only commands that build something take SIGINT/SIGTERM as "stop in order, tear
    // down": the others hold nothing to undo, so the default action (end now) is the
    // right one, and no blocking read can make them ignore a signal.
    if matches!(
        cli.command,
        Cmd::Run(_) | Cmd::Cleanup { .. } | Cmd::Vm(_) | Cmd::GateTrial(_)
    ) {
        thinbench_harness::sys::signals::install();
    }
    match cli.command {
        Cmd::Run(a) => run::run(a),
        Cmd::Report(a) => report::report(a),
        Cmd::Compare(a) => report::compare(a),
        Cmd::Gate(a) => gate::gate(a),
        Cmd::GateTrial(a) => trial::run(a),
        Cmd::Baseline(c) => gate::baseline(c),
        Cmd::Merge(a) => gate::merge(a),
        Cmd::Plan(a) => plan::run(a),
        Cmd::Schema(a) => schema::run(a),
        Cmd::Validate {
            files,
            allow_host_paths,
        } => validate::run(
            files,
            &thinbench_harness::scenario::Grants {
                host_paths: allow_host_paths,
            },
        ),
        Cmd::Cleanup { dry_run, all } => cleanup::run(dry_run, all),
        Cmd::Env => env::run(),
        Cmd::Vm(c) => vm::run(c),
    }
}

fn main() {
    // Die quietly on a closed pipe (`thinbench report … | head`) as command-line tools do,
    // instead of panicking in println!.
    // SAFETY: restoring a signal's default disposition before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(code) => std::process::exit(code),
        Err(err) => {
            eprintln!("thinbench: error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            std::process::exit(exit_code::ERROR);
        }
    }
}
