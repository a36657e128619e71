//! The runner on the fake backend: every action's bookkeeping, the oracles, the
//! expectation checks and the error paths, without root or a VM. What the kernel does
//! is the VM tests' to prove; these prove what the runner does with it.

mod background;
mod control;
mod discard;
mod expect;
mod fs;
mod grammar;
mod reload;
mod steps;

use std::path::Path;
use std::time::Instant;

use thinbench_schema::record::{RunSummary, Status, StepResult};

use super::{run_plan_with, FakePools, RunContext};
use crate::record::Recorder;
use crate::scenario::load_scenario_str;

/// A scenario run on fake pools, with its results directory kept for the test.
pub(super) struct Ran {
    pub summary: RunSummary,
    pub dir: tempfile::TempDir,
}

impl Ran {
    /// The steps of case `case` (0-based).
    pub fn steps(&self, case: usize) -> &[StepResult] {
        &self.summary.cases[case].steps
    }
    /// Step `name` of the first case.
    pub fn step(&self, name: &str) -> &StepResult {
        self.steps(0)
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no step {name} in {:#?}", self.summary.cases[0].steps))
    }
    /// The expectation `what` of step `name` (first case).
    pub fn expectation(
        &self,
        name: &str,
        what: &str,
    ) -> &thinbench_schema::record::ExpectationResult {
        let s = self.step(name);
        s.expectations
            .iter()
            .find(|e| e.what == what)
            .unwrap_or_else(|| {
                panic!(
                    "step {name} has no expectation {what}: {:#?}",
                    s.expectations
                )
            })
    }
    /// Every sample row of `samples.csv`.
    pub fn samples(&self) -> Vec<thinbench_schema::record::PoolSample> {
        let mut r = csv::Reader::from_path(self.dir.path().join("out/samples.csv")).unwrap();
        r.deserialize().map(|x| x.unwrap()).collect()
    }
}

/// Runs `toml` (a whole scenario) on fake pools.
pub(super) fn run(toml: &str) -> Ran {
    run_with(toml, FakePools::default())
}

/// Runs `toml` on `pools`.
pub(super) fn run_with(toml: &str, mut pools: FakePools) -> Ran {
    let plan = load_scenario_str(Path::new("test.toml"), toml)
        .unwrap_or_else(|e| panic!("scenario does not validate: {e}"));
    let dir = tempfile::tempdir().unwrap();
    let (out, work) = (dir.path().join("out"), dir.path().join("work"));
    std::fs::create_dir_all(&out).unwrap();
    std::fs::create_dir_all(&work).unwrap();
    let ctx = RunContext {
        run_id: super::new_run_id(),
        out_dir: out.clone(),
        work_dir: work.clone(),
        env: Default::default(),
        auto_devices: Default::default(),
        started_at: super::now_rfc3339(),
        force_device: false,
        dmeventd: false,
    };
    let rec = Recorder::create(&out, Instant::now(), None).unwrap();
    let summary = run_plan_with(&plan, &ctx, &rec, &mut pools);
    drop(rec);
    // The fake leaves nothing behind in the work dir.
    let left: Vec<_> = walk(&work);
    assert!(left.is_empty(), "debris after the run: {left:?}");
    Ran { summary, dir }
}

fn walk(d: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// A one-pool loop-lvm scenario: `steps` is the TOML of its `[[step]]`s.
pub(super) fn one_pool(steps: &str) -> String {
    format!(
        "format = 1\nname = \"t\"\n\n[[pool]]\nname = \"p\"\nkind = \"loop-lvm\"\n\
         data_size = \"64MiB\"\nmetadata_size = \"8MiB\"\n\n{steps}"
    )
}

/// Asserts every step passed, naming the first that did not.
pub(super) fn all_passed(r: &Ran) {
    for s in r.steps(0) {
        assert_eq!(s.status, Status::Passed, "step {} failed: {s:#?}", s.name);
    }
}
