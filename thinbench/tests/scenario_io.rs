//! `io` and `engine-vs-fio` steps through the public loader: the shipped peer benchmark
//! loads as promised, and every mistake in an io step or its fio job is an error at
//! file:line:col (never a panic, never silently ignored).

use std::path::{Path, PathBuf};
use std::time::Duration;

use thinbench_harness::scenario::{load_scenario, load_scenario_str, ScenarioError};
use thinbench_harness::spec::{Action, IoEngineSpec, IoLength, ScenarioSpec};
use thinbench_schema::units::Bytes;
use thinbench_workloads::fio::FioRw;

const HEAD: &str = "format = 1\n[[pool]]\nname = \"p\"\nkind = \"loop-lvm\"\n\
[[step]]\naction = \"create-thin\"\nthin = \"t\"\nsize = \"1GiB\"\n";
/// Lines in `HEAD`: a step added after it starts on line 9.
const HEAD_LINES: usize = 8;

fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

fn load(step: &str) -> Result<ScenarioSpec, Vec<ScenarioError>> {
    load_scenario_str(Path::new("s.toml"), &format!("{HEAD}{step}")).map_err(|e| e.errors)
}

/// The single error of a step, with its line relative to the step's first line (1-based)
/// and column.
fn one(step: &str) -> (usize, usize, String) {
    let e = match load(step) {
        Ok(p) => panic!("should fail: {p:#?}"),
        Err(e) => e,
    };
    assert_eq!(e.len(), 1, "{e:#?}");
    let e = &e[0];
    assert!(e.line > HEAD_LINES, "{e}");
    let text = match &e.hint {
        Some(h) => format!("{} [hint: {h}]", e.message),
        None => e.message.clone(),
    };
    (e.line - HEAD_LINES, e.col, text)
}

#[test]
fn shipped_peer_benchmark_loads() {
    let plan = load_scenario(&repo_file("scenarios/engine-vs-fio.toml")).unwrap();
    let Action::EngineVsFio(p) = &plan.steps[1].action else {
        panic!("{:?}", plan.steps[1].action)
    };
    assert_eq!(p.span, Bytes(64 << 20));
    assert_eq!(
        (p.runtime, p.rounds, p.sampling_cost),
        (Duration::from_secs(2), 2, true)
    );
    let Action::Io(io) = &plan.steps[2].action else {
        panic!()
    };
    let IoEngineSpec::FioJob { text, file } = &io.engine else {
        panic!("{:?}", io.engine)
    };
    assert!(text.contains("rw=randrw") && file.is_none());
    let Action::Io(io) = &plan.steps[3].action else {
        panic!()
    };
    let IoEngineSpec::Thinbench(s) = &io.engine else {
        panic!()
    };
    assert_eq!((s.rw, s.queue_depth, s.jobs), (FioRw::RandWrite, 16, 2));
    assert_eq!(s.length, IoLength::Runtime(Duration::from_secs(1)));
}

#[test]
fn io_defaults_and_fio_shape() {
    let plan = load(
        "[[step]]\naction = \"io\"\nthin = \"t\"\nengine = \"fio\"\nrw = \"read\"\ncount = 10\n",
    )
    .unwrap();
    let Action::Io(io) = &plan.steps[1].action else {
        panic!()
    };
    let IoEngineSpec::FioShape(s) = &io.engine else {
        panic!("{:?}", io.engine)
    };
    assert_eq!(
        (s.io_size, s.queue_depth, s.jobs, s.offset, s.span),
        (Bytes(4096), 1, 1, Bytes(0), None)
    );
    assert_eq!(s.length, IoLength::Count(10));
}

#[test]
fn io_mistakes_are_positioned() {
    let io = "[[step]]\naction = \"io\"\nthin = \"t\"\n";
    // Line 1 is the [[step]] header; keys follow from line 4.
    let (l, c, m) = one(&format!("{io}rw = \"randwrite\"\n"));
    assert_eq!((l, c), (1, 1));
    assert!(m.contains("neither `runtime` nor `count`"), "{m}");
    let (l, _, m) = one(&format!("{io}runtime = \"1s\"\n"));
    assert_eq!(l, 1);
    assert!(m.contains("io step has no `rw`"), "{m}");
    let (l, c, m) = one(&format!("{io}rw = \"randwirte\"\nruntime = \"1s\"\n"));
    assert_eq!((l, c), (4, 6));
    assert!(m.contains("did you mean \"randwrite\"?"), "{m}");
    let (l, _, m) = one(&format!("{io}rw = \"read\"\nruntime = \"1s\"\ncount = 3\n"));
    assert_eq!(l, 6);
    assert!(m.contains("both `runtime` and `count`"), "{m}");
    let (l, _, m) = one(&format!("{io}rw = \"read\"\ncount = 3\nqueue_depth = 0\n"));
    assert_eq!(l, 6);
    assert!(m.contains("`queue_depth` must be 1 to 1024, not 0"), "{m}");
    let (l, _, m) = one(&format!(
        "{io}rw = \"read\"\ncount = 3\nengine = \"spdk\"\n"
    ));
    assert_eq!(l, 6);
    assert!(m.contains("must be one of \"thinbench\", \"fio\""), "{m}");
    let (l, _, m) = one(&format!(
        "{io}rw = \"read\"\ncount = 3\njobs = 4\nspan = \"8KiB\"\n"
    ));
    assert_eq!(l, 7);
    assert!(
        m.contains("less than one 4KiB IO for each of 4 jobs"),
        "{m}"
    );
    let (l, _, m) = one(&format!("{io}rw = \"read\"\ncount = 3\nspan = \"2GiB\"\n"));
    assert_eq!(l, 6);
    assert!(m.contains("goes past the end of thin `t`"), "{m}");
    let (_, _, m) = one("[[step]]\naction = \"fio\"\n");
    assert!(
        m.contains("fio is an engine") && m.contains("`engine = \"fio\"`"),
        "{m}"
    );
    let (l, _, m) = one(&format!("{io}rw = \"read\"\ncount = 3\nrounds = 2\n"));
    assert_eq!(l, 6);
    assert!(
        m.contains("`rounds` is not a key of io steps (it is for: engine-vs-fio)"),
        "{m}"
    );
}

#[test]
fn fio_job_mistakes_are_positioned() {
    let fio = "[[step]]\naction = \"io\"\nthin = \"t\"\nengine = \"fio\"\n";
    let (l, c, m) = one(&format!(
        "{fio}job = \"\"\"\n[j]\nrw=randread\nfilename=/dev/sda\n\"\"\"\n"
    ));
    assert_eq!((l, c), (5, 7));
    assert!(
        m.contains("line 3 of the job: option `filename` is not allowed"),
        "{m}"
    );
    let (l, _, m) = one(&format!("{fio}job = \"[global]\\nbs=4k\\n\"\n"));
    assert_eq!(l, 5);
    assert!(m.contains("no job section"), "{m}");
    let (l, _, m) = one(&format!(
        "{fio}job = \"[j]\\nrw=read\\n\"\nqueue_depth = 4\n"
    ));
    assert_eq!(l, 6);
    assert!(m.contains("`queue_depth` cannot go with a fio job"), "{m}");
    let (l, _, m) = one(&format!("{fio}job = \"[j]\\n\"\njob_file = \"x.fio\"\n"));
    assert_eq!(l, 6);
    assert!(m.contains("both `job` and `job_file`"), "{m}");
    let (l, _, m) = one(&format!("{fio}job_file = \"no-such.fio\"\n"));
    assert_eq!(l, 5);
    assert!(
        m.contains("cannot read fio job file") && m.contains("no-such.fio"),
        "{m}"
    );
    let (l, _, m) = one("[[step]]\naction = \"io\"\nthin = \"t\"\njob = \"[j]\\n\"\n");
    assert_eq!(l, 4);
    assert!(m.contains("a fio job needs `engine = \"fio\"`"), "{m}");
}

#[test]
fn fio_job_file_is_read_relative_to_the_scenario() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("own.fio"), "[j]\nrw=randread\nbs=4k\n").unwrap();
    std::fs::write(
        dir.path().join("bad.fio"),
        "[j]\nrw=randread\ndirectory=/tmp\n",
    )
    .unwrap();
    let scen = |job: &str| {
        let p = dir.path().join("s.toml");
        std::fs::write(
            &p,
            format!("{HEAD}[[step]]\naction = \"io\"\nthin = \"t\"\nengine = \"fio\"\njob_file = \"{job}\"\n"),
        )
        .unwrap();
        load_scenario(&p)
    };
    let plan = scen("own.fio").unwrap();
    let Action::Io(io) = &plan.steps[1].action else {
        panic!()
    };
    let IoEngineSpec::FioJob { text, file } = &io.engine else {
        panic!()
    };
    assert!(text.contains("rw=randread"));
    assert_eq!(file.as_deref(), Some(dir.path().join("own.fio").as_path()));
    let e = scen("bad.fio").unwrap_err();
    let shown = e.to_string();
    assert!(
        shown.contains("bad.fio:3: option `directory` is not allowed"),
        "{shown}"
    );
}

#[test]
fn engine_vs_fio_mistakes_are_positioned() {
    let p = "[[step]]\naction = \"engine-vs-fio\"\nthin = \"t\"\n";
    load(p).unwrap();
    let (l, _, m) = one(&format!("{p}span = \"1MiB\"\n"));
    assert_eq!(l, 4);
    assert!(m.contains("below the minimum of 4MiB"), "{m}");
    let (l, _, m) = one(&format!("{p}rounds = 0\n"));
    assert_eq!(l, 4);
    assert!(m.contains("`rounds` must be 1 to 20"), "{m}");
    let (l, _, m) = one(&format!("{p}runtime = \"1ms\"\n"));
    assert_eq!(l, 4);
    assert!(m.contains("`runtime` must be"), "{m}");
    let (l, _, m) = one("[[step]]\naction = \"engine-vs-fio\"\nthin = \"nope\"\n");
    assert_eq!(l, 3);
    assert!(m.contains("nope"), "{m}");
}
