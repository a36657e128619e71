//! `thinbench gate`, `baseline update`, `merge`, and the parts of `run --repeat/--shard`
//! that need no root or VM, through the binary: the documented exit codes and what is
//! printed. Sample sets are copies of the report fixtures (real runs from the VM).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn thinbench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_thinbench"))
        .args(args)
        .current_dir(repo())
        .output()
        .unwrap()
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn fixture(name: &str) -> Value {
    let p = repo()
        .join("reports/tests/fixtures")
        .join(name)
        .join("summary.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// A fixture as if its timings were on the instruction clock, which the gate judges
/// under TCG (the fixtures' own wall-clock timings it shows, not gated).
fn on_instruction_clock(mut s: Value) -> Value {
    s["environment"]["clock"] = "instructions".into();
    s["environment"]["icount_shift"] = 4.into();
    s
}

/// `n` copies of `base` as `dir/sample-k/summary.json`, each with its own run id.
fn samples(dir: &Path, base: &Value, n: usize, tag: &str, change: impl Fn(&mut Value)) -> String {
    for k in 0..n {
        let mut s = base.clone();
        s["run_id"] = Value::String(format!("20260101T0000{k:02}-{tag}"));
        change(&mut s);
        let d = dir.join(format!("sample-{}", k + 1));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("summary.json"), s.to_string()).unwrap();
    }
    dir.display().to_string()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

#[test]
fn gate_exit_codes() {
    let t = tempfile::tempdir().unwrap();
    // The fixture as recorded (TCG, wall clock): its timings are not gated, so one sample
    // a side decides on the exact figures alone: exit 0.
    let wall = fixture("smoke");
    let wall_a = samples(&t.path().join("wall-a"), &wall, 1, "aaaa", |_| {});
    let wall_b = samples(&t.path().join("wall-b"), &wall, 1, "bbbb", |_| {});
    let out = t.path().join("out").display().to_string();
    let o = thinbench(&[
        "gate",
        "--baseline",
        &wall_a,
        "--candidate",
        &wall_b,
        "--out",
        &out,
    ]);
    assert_eq!(code(&o), 0, "{}{}", text(&o.stdout), text(&o.stderr));
    assert!(
        text(&o.stdout).contains(" 0 inconclusive, 16 not gated,"),
        "{}",
        text(&o.stdout)
    );
    let md = std::fs::read_to_string(t.path().join("out/gate.md")).unwrap();
    assert!(
        md.contains("## Not gated")
            && md.contains("wall clock under emulation (TCG); use --clock instructions"),
        "{md}"
    );

    let smoke = on_instruction_clock(fixture("smoke"));
    let one_a = samples(&t.path().join("one-a"), &smoke, 1, "aaaa", |_| {});
    let one_b = samples(&t.path().join("one-b"), &smoke, 1, "bbbb", |_| {});

    // One sample a side: exact figures agree, timings are inconclusive: exit 3, or what
    // --inconclusive says.
    let o = thinbench(&[
        "gate",
        "--baseline",
        &one_a,
        "--candidate",
        &one_b,
        "--out",
        &out,
    ]);
    assert_eq!(code(&o), 3, "{}{}", text(&o.stdout), text(&o.stderr));
    assert!(text(&o.stdout).starts_with("gate: INCONCLUSIVE: 92 figures"));
    assert!(text(&o.stdout).contains("too few samples (baseline 1, candidate 1; need 5 each)"));
    for (flag, want) in [("fail", 1), ("pass", 0), ("report", 3)] {
        let o = thinbench(&[
            "gate",
            "--baseline",
            &one_a,
            "--candidate",
            &one_b,
            "--out",
            &out,
            "--inconclusive",
            flag,
        ]);
        assert_eq!(code(&o), want, "--inconclusive {flag}");
    }

    // Five a side of the same run: every figure unchanged, exit 0.
    let five_a = samples(&t.path().join("five-a"), &smoke, 5, "aaaa", |_| {});
    let five_b = samples(&t.path().join("five-b"), &smoke, 5, "bbbb", |_| {});
    let o = thinbench(&[
        "gate",
        "--baseline",
        &five_a,
        "--candidate",
        &five_b,
        "--config",
        "ci/gate.toml",
        "--out",
        &out,
    ]);
    assert_eq!(code(&o), 0, "{}{}", text(&o.stdout), text(&o.stderr));
    assert!(text(&o.stdout).starts_with("gate: PASS: 92 figures: 0 regressed"));
    for f in [
        "gate.json",
        "junit.xml",
        "gate.md",
        "bencher.json",
        "benchmark-smaller-is-better.json",
        "benchmark-bigger-is-better.json",
    ] {
        assert!(t.path().join("out").join(f).is_file(), "{f}");
    }

    // A block count changed: a behaviour change, exit 1, named with both numbers.
    let changed = samples(&t.path().join("changed"), &smoke, 5, "cccc", |s| {
        s["cases"][0]["steps"][2]["data_blocks_allocated"] = Value::from(480);
    });
    let o = thinbench(&[
        "gate",
        "--baseline",
        &five_a,
        "--candidate",
        &changed,
        "--out",
        &out,
    ]);
    assert_eq!(code(&o), 1);
    assert!(
        text(&o.stdout).contains(
            "CHANGED      smoke/loop / random-write / data_blocks_allocated: 479 -> 480 blocks"
        ),
        "{}",
        text(&o.stdout)
    );

    // Another environment: refused, field by field, exit 2.
    let kvm = samples(
        &t.path().join("kvm"),
        &fixture("smoke-kvm"),
        5,
        "kkkk",
        |_| {},
    );
    let o = thinbench(&[
        "gate",
        "--baseline",
        &five_a,
        "--candidate",
        &kvm,
        "--out",
        &out,
    ]);
    assert_eq!(code(&o), 2);
    assert!(
        text(&o.stderr).contains("accel: baseline `tcg`, candidate `kvm`"),
        "{}",
        text(&o.stderr)
    );

    // An incomplete run: refused, exit 2.
    let dead = samples(&t.path().join("dead"), &smoke, 1, "dddd", |s| {
        s["status"] = Value::from("incomplete");
        s["finished_at"] = Value::Null;
    });
    let o = thinbench(&[
        "gate",
        "--baseline",
        &five_a,
        "--candidate",
        &dead,
        "--out",
        &out,
    ]);
    assert_eq!(code(&o), 2);
    assert!(
        text(&o.stderr).contains("is incomplete"),
        "{}",
        text(&o.stderr)
    );

    // A bad config: every mistake, positioned, exit 2.
    let cfg = t.path().join("gate.toml");
    std::fs::write(&cfg, "format = 1\n[defaults]\nnoise = 5\nmin_samples = 2\n").unwrap();
    let o = thinbench(&[
        "gate",
        "--baseline",
        &five_a,
        "--candidate",
        &five_b,
        "--config",
        &cfg.display().to_string(),
        "--out",
        &out,
    ]);
    assert_eq!(code(&o), 2);
    let err = text(&o.stderr);
    assert!(
        err.contains("gate.toml:3:9: error: `noise` must be a percentage string"),
        "{err}"
    );
    assert!(
        err.contains("gate.toml:4:15: error: with 2 samples a side"),
        "{err}"
    );

    // No runs where runs were promised: exit 2.
    let empty = t.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let o = thinbench(&[
        "gate",
        "--baseline",
        &five_a,
        "--candidate",
        &empty.display().to_string(),
        "--out",
        &out,
    ]);
    assert_eq!(code(&o), 2);
    assert!(
        text(&o.stderr).contains("no run directory"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn baseline_update_then_gate_against_the_store() {
    let t = tempfile::tempdir().unwrap();
    let smoke = fixture("smoke");
    let runs = samples(&t.path().join("runs"), &smoke, 5, "aaaa", |_| {});
    let store = t.path().join("baselines").display().to_string();
    let o = thinbench(&["baseline", "update", "--from", &runs, "--store", &store]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("  smoke: 5 sample(s)"),
        "{}",
        text(&o.stdout)
    );
    let cand = samples(&t.path().join("cand"), &smoke, 5, "cccc", |_| {});
    let o = thinbench(&["gate", "--baseline", &store, "--candidate", &cand]);
    assert_eq!(code(&o), 0, "{}{}", text(&o.stdout), text(&o.stderr));
    assert!(
        t.path().join("cand/gate/gate.md").is_file(),
        "default out: CANDIDATE/gate"
    );
}

#[test]
fn merge_shards_then_gate() {
    let t = tempfile::tempdir().unwrap();
    let smoke = fixture("smoke");
    let keep = |case: &'static str| {
        move |s: &mut Value| {
            s["cases"]
                .as_array_mut()
                .unwrap()
                .retain(|c| c["id"] == case);
        }
    };
    let s1 = samples(
        &t.path().join("shard-1"),
        &smoke,
        5,
        "s1s1",
        keep("smoke/loop"),
    );
    let s2 = samples(
        &t.path().join("shard-2"),
        &smoke,
        5,
        "s2s2",
        keep("smoke/direct"),
    );
    let merged = t.path().join("merged").display().to_string();
    let o = thinbench(&["merge", &s1, &s2, "--out", &merged, "--no-report"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("merged 10 run(s)"));
    let base = samples(&t.path().join("base"), &smoke, 5, "bbbb", |_| {});
    let o = thinbench(&["gate", "--baseline", &base, "--candidate", &merged]);
    assert_eq!(code(&o), 0, "{}{}", text(&o.stdout), text(&o.stderr));
    // Merging again into the same directory is refused.
    let o = thinbench(&["merge", &s1, "--out", &merged]);
    assert_eq!(code(&o), 2);
}

#[test]
fn run_refuses_bad_shards_and_duplicate_scenarios_before_anything_runs() {
    let o = thinbench(&["run", "--shard", "0/2", "scenarios/smoke.toml"]);
    assert_eq!(code(&o), 2);
    assert!(
        text(&o.stderr).contains("counts from 1"),
        "{}",
        text(&o.stderr)
    );
    let o = thinbench(&["run", "--repeat", "0", "scenarios/smoke.toml"]);
    assert_eq!(code(&o), 2);

    // Two files with one scenario name would write to one place.
    let t = tempfile::tempdir().unwrap();
    let copy = t.path().join("smoke-copy.toml");
    std::fs::copy(repo().join("scenarios/smoke.toml"), &copy).unwrap();
    let o = thinbench(&["run", "scenarios/smoke.toml", &copy.display().to_string()]);
    assert_eq!(code(&o), 2);
    assert!(
        text(&o.stderr).contains("both named `smoke`"),
        "{}",
        text(&o.stderr)
    );

    // More shards than matrix entries: this one has nothing to do, and says so.
    let o = thinbench(&["run", "--shard", "3/3", "scenarios/smoke.toml"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("shard 3/3: 0 of the 2-entry matrix"));
    assert!(text(&o.stdout).contains("nothing to run"));
}

/// The example workflow calls thinbench with flags that exist: every `bin/thinbench SUB
/// … --flag` in it is checked against `thinbench SUB --help`.
#[test]
fn example_workflow_uses_real_flags() {
    let wf = std::fs::read_to_string(repo().join("ci/github-actions-example.yml")).unwrap();
    // Join continued lines, then take each invocation.
    let joined = wf.replace("\\\n", " ");
    let mut checked = 0;
    for line in joined.lines() {
        let Some(rest) = line.trim().split("bin/thinbench ").nth(1) else {
            continue;
        };
        let words: Vec<&str> = rest.split_whitespace().collect();
        let sub: Vec<&str> = words
            .iter()
            .take_while(|w| !w.starts_with('-') && !w.contains('/') && !w.contains('$'))
            .copied()
            .collect();
        let mut args = sub.clone();
        args.push("--help");
        let help = text(&thinbench(&args).stdout);
        for flag in words.iter().filter(|w| w.starts_with("--")) {
            assert!(
                help.contains(&format!("{flag} ")) || help.contains(&format!("{flag}\n")),
                "`thinbench {}` has no {flag}",
                sub.join(" ")
            );
        }
        checked += 1;
    }
    assert!(checked >= 4, "found {checked} thinbench invocations");
}
