//! `thinbench compare A B` through the binary: its exit code is the verdict, it names the
//! figures that failed, reads the gate's config, warns about the same run on both sides,
//! and judges no timing across environments or from one run each. Runs are copies of the
//! report fixtures (real runs from the VM), changed where a test says.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn thinbench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_thinbench"))
        .args(args)
        .current_dir(repo())
        .output()
        .unwrap()
}

fn smoke() -> Value {
    let p = repo().join("reports/tests/fixtures/smoke/summary.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// `summary` as a run directory `dir`, after `change`.
fn run_dir(dir: &Path, mut summary: Value, change: impl Fn(&mut Value)) -> String {
    change(&mut summary);
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("summary.json"), summary.to_string()).unwrap();
    dir.display().to_string()
}

/// A step of the fixture's loop-lvm case.
fn loop_step<'a>(s: &'a mut Value, step: &str) -> &'a mut Value {
    let steps = s["cases"][0]["steps"].as_array_mut().unwrap();
    steps.iter_mut().find(|st| st["name"] == step).unwrap()
}

fn add_block(s: &mut Value) {
    let st = loop_step(s, "random-write");
    let n = st["data_blocks_allocated"].as_u64().unwrap();
    st["data_blocks_allocated"] = Value::from(n + 1);
}

fn scale_iops(s: &mut Value, by: f64) {
    let w = &mut loop_step(s, "seq-write")["workload"];
    let iops = w["iops"].as_f64().unwrap();
    w["iops"] = Value::from(iops * by);
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Exit code, stdout, stderr.
fn compare(args: &[&str]) -> (i32, String, String) {
    let o = thinbench(&[&["compare"], args].concat());
    (
        o.status.code().unwrap_or(-1),
        text(&o.stdout),
        text(&o.stderr),
    )
}

/// The lines naming failed figures.
fn named(stdout: &str) -> Vec<&str> {
    stdout.lines().filter(|l| l.starts_with("  ")).collect()
}

fn summary_line(stdout: &str) -> &str {
    stdout
        .lines()
        .find(|l| l.starts_with("compare: "))
        .unwrap_or_else(|| panic!("no summary line in:\n{stdout}"))
}

#[test]
fn fixtures_of_two_environments_fail_on_exact_figures_only() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("cmp");
    let (code, stdout, stderr) = compare(&[
        "reports/tests/fixtures/smoke",
        "reports/tests/fixtures/smoke-kvm",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    // KVM is faster on every timing, but TCG against KVM cannot judge one; two exact
    // block counts moved by one.
    assert_eq!(
        summary_line(&stdout),
        "compare: FAIL: 37 figures: 0 regressed, 2 changed, 0 missing, 16 inconclusive, 0 not gated, \
         0 improved, 19 unchanged, 0 new"
    );
    assert!(
        stdout
            .contains("note: no timing is judged (inconclusive): accelerators differ: tcg vs kvm"),
        "{stdout}"
    );
    assert_eq!(
        named(&stdout),
        [
            "  CHANGED smoke/loop / random-write / workload.distinct_chunks_touched: 486 -> 487 blocks (+0.2%)",
            "  CHANGED smoke/loop / random-write / data_blocks_allocated: 479 -> 480 blocks (+0.2%)",
        ]
    );
    let md = std::fs::read_to_string(out.join("compare.md")).unwrap();
    assert!(
        md.contains("37 figures: 0 regressed, 2 changed, 0 missing, 16 inconclusive"),
        "{md}"
    );
}

#[test]
fn a_copy_with_one_exact_figure_changed_fails_unless_the_config_says_it_varies() {
    let t = tempfile::tempdir().unwrap();
    let a = run_dir(&t.path().join("a"), smoke(), |_| {});
    // A copy: the same run id, one block more in loop's random write.
    let b = run_dir(&t.path().join("b"), smoke(), add_block);
    let out = t.path().join("out").display().to_string();
    let (code, stdout, stderr) = compare(&[&a, &b, "--out", &out]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert_eq!(
        named(&stdout),
        ["  CHANGED smoke/loop / random-write / data_blocks_allocated: 479 -> 480 blocks (+0.2%)"]
    );
    assert!(
        stderr.contains("warning: run 20261123T124914-44da is on both sides"),
        "{stderr}"
    );

    let config = t.path().join("gate.toml");
    std::fs::write(
        &config,
        "format = 1\n\n[[rule]]\nstep = \"random-write\"\nfigure = \"data_blocks_allocated\"\n\
         kind = \"timing\"\n",
    )
    .unwrap();
    let cfg = config.display().to_string();
    let (code, stdout, stderr) = compare(&[&a, &b, "--out", &out, "--config", &cfg]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(named(&stdout).is_empty(), "{stdout}");
    assert!(
        summary_line(&stdout).starts_with("compare: PASS: "),
        "{stdout}"
    );
    let md = std::fs::read_to_string(Path::new(&out).join("compare.md")).unwrap();
    assert!(
        md.contains(
            "| loop | random-write | data blocks allocated | timing | 479 blocks | 480 blocks \
             | +0.2% | inconclusive (one sample each) |"
        ),
        "{md}"
    );

    // Left out: no row, counted.
    std::fs::write(
        &config,
        "format = 1\n\n[[rule]]\nfigure = \"data_blocks_allocated\"\nkind = \"ignore\"\n",
    )
    .unwrap();
    let (code, stdout, _) = compare(&[&a, &b, "--out", &out, "--config", &cfg]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains(&format!("rules: {cfg} (figures ignored: 9)")),
        "{stdout}"
    );

    // The shipped config says nothing of this step's blocks: still a failure.
    let (code, stdout, _) = compare(&[&a, &b, "--out", &out, "--config", "ci/gate.toml"]);
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(named(&stdout).len(), 1, "{stdout}");
    assert!(
        stdout.contains("rules: ci/gate.toml (figures ignored: 0)"),
        "{stdout}"
    );
}

#[test]
fn a_bad_config_is_a_positioned_error_and_no_verdict() {
    let t = tempfile::tempdir().unwrap();
    let a = run_dir(&t.path().join("a"), smoke(), |_| {});
    let config = t.path().join("gate.toml");
    std::fs::write(&config, "format = 1\n[defaults]\nnoise = \"lots\"\n").unwrap();
    let cfg = config.display().to_string();
    let out = t.path().join("out").display().to_string();
    let (code, stdout, stderr) = compare(&[&a, &a, "--out", &out, "--config", &cfg]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stderr.contains(&format!("{cfg}:3:")), "{stderr}");
    assert!(!Path::new(&out).exists());
}

#[test]
fn the_same_run_twice_is_warned_about_and_unchanged() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out").display().to_string();
    let fixture = "reports/tests/fixtures/smoke";
    let (code, stdout, stderr) = compare(&[fixture, fixture, "--out", &out]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stderr.contains(
            "thinbench: warning: run 20261123T124914-44da is on both sides: a run compared \
             with itself can only be unchanged"
        ),
        "{stderr}"
    );
    assert!(named(&stdout).is_empty(), "{stdout}");
    // Two different runs: no warning.
    let a = run_dir(&t.path().join("a"), smoke(), |s| s["run_id"] = "a".into());
    let b = run_dir(&t.path().join("b"), smoke(), |s| s["run_id"] = "b".into());
    let (code, _, stderr) = compare(&[&a, &b, "--out", &out]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("on both sides"), "{stderr}");
}

#[test]
fn another_kernel_gets_a_note_and_no_timing_verdict() {
    let t = tempfile::tempdir().unwrap();
    let a = run_dir(&t.path().join("a"), smoke(), |s| s["run_id"] = "a".into());
    let b = run_dir(&t.path().join("b"), smoke(), |s| {
        s["run_id"] = "b".into();
        s["environment"]["kernel"] = "6.12.9-amd64".into();
        scale_iops(s, 0.5);
    });
    let out = t.path().join("out").display().to_string();
    let (code, stdout, stderr) = compare(&[&a, &b, "--out", &out]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains(
            "note: no timing is judged (inconclusive): kernels differ: 6.1.0-56-amd64 vs \
             6.12.9-amd64"
        ),
        "{stdout}"
    );
    let summary = summary_line(&stdout);
    assert!(summary.contains(" 0 regressed, 0 changed, "), "{summary}");
    assert!(summary.contains(" 0 improved, "), "{summary}");
    let md = std::fs::read_to_string(Path::new(&out).join("compare.md")).unwrap();
    let top = md.lines().nth(2).unwrap_or_default();
    assert!(top.contains("Different environments: kernel"), "{md}");
    assert!(
        md.contains("| -50.0% | inconclusive (kernels differ: 6.1.0-56-amd64 vs 6.12.9-amd64) |"),
        "{md}"
    );
    // Exact figures are still compared across kernels.
    let c = run_dir(&t.path().join("c"), smoke(), |s| {
        s["run_id"] = "c".into();
        s["environment"]["kernel"] = "6.12.9-amd64".into();
        add_block(s);
    });
    let (code, stdout, _) = compare(&[&a, &c, "--out", &out]);
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(named(&stdout).len(), 1, "{stdout}");
}

#[test]
fn one_run_each_cannot_say_a_timing_improved_or_regressed() {
    let t = tempfile::tempdir().unwrap();
    let a = run_dir(&t.path().join("a"), smoke(), |s| s["run_id"] = "a".into());
    let b = run_dir(&t.path().join("b"), smoke(), |s| {
        s["run_id"] = "b".into();
        scale_iops(s, 0.5);
    });
    let out = t.path().join("out").display().to_string();
    let (code, stdout, stderr) = compare(&[&a, &b, "--out", &out]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(!stdout.contains("no timing is judged"), "{stdout}");
    let md = std::fs::read_to_string(Path::new(&out).join("compare.md")).unwrap();
    assert!(
        md.contains("| loop | seq-write | IOPS | timing | 504 | 252 | -50.0% | inconclusive (one sample each) |"),
        "{md}"
    );
    assert!(!md.contains("REGRESSED"), "{md}");
}

#[test]
fn samples_on_both_sides_judge_a_timing() {
    let t = tempfile::tempdir().unwrap();
    let set = |name: &str, by: f64| {
        for k in 0..3 {
            let d = t.path().join(name).join(format!("sample-{k}"));
            run_dir(&d, smoke(), |s| {
                s["run_id"] = format!("{name}-{k}").into();
                scale_iops(s, by + 0.01 * k as f64);
            });
        }
        t.path().join(name).display().to_string()
    };
    let (a, slow) = (set("a", 1.0), set("slow", 0.5));
    let out = t.path().join("out").display().to_string();
    let (code, stdout, stderr) = compare(&[&a, &slow, "--out", &out]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.contains("A: 3 runs, B: 3 runs"), "{stdout}");
    let named = named(&stdout);
    assert_eq!(named.len(), 1, "{stdout}");
    assert!(
        named[0].starts_with("  REGRESSED smoke/loop / seq-write / workload.iops: "),
        "{stdout}"
    );
    // The other way round it improved, which passes.
    let (code, stdout, _) = compare(&[&slow, &a, "--out", &out]);
    assert_eq!(code, 0, "{stdout}");
    assert!(summary_line(&stdout).contains(" 1 improved, "), "{stdout}");
}

#[test]
fn compare_names_figures_as_the_gate_does() {
    // A config rule is written in the gate's names; compare resolves its figures under
    // them. Every one the gate also has must be spelled alike (the gate leaves out a
    // phase's figures other than p99 and errors, compare shows them).
    let dir = repo().join("reports/tests/fixtures/docker-lifecycle");
    let run = thinbench_reports::load_run(&dir).unwrap();
    let gate: std::collections::BTreeSet<(String, Option<String>, String)> =
        thinbench_gate::figures::run_figures(&run.summary)
            .into_keys()
            .map(|k| (k.case, k.step, k.figure))
            .collect();
    let addresses = thinbench_reports::figure_addresses(std::slice::from_ref(&run));
    assert!(addresses.len() > 50, "{}", addresses.len());
    let mut phases = 0;
    for f in addresses {
        let key = (
            f.id.case.clone(),
            Some(f.id.step.clone()),
            f.id.name.clone(),
        );
        let phase_only_here = f.id.name.starts_with("phase.")
            && !f.id.name.ends_with(".p99_ns")
            && !f.id.name.ends_with(".errors");
        if phase_only_here {
            phases += 1;
        } else {
            assert!(gate.contains(&key), "the gate has no {}", f.id);
        }
    }
    assert!(phases > 0, "the fixture has phases");
}
