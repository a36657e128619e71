//! Self-validation of the CI gate on the real kernel: `thinbench gate-trial` with one pair
//! of boots (A/A must not be flagged, a 5% slowdown of known cost must be), and a
//! chunk-size change must show as an exact `changed`. Every figure is printed (eprintln)
//! so it lands in the CI log.

use std::path::{Path, PathBuf};
use std::process::Command;

use thinbench_schema::record::{RunSummary, Status};

use super::{repo, vm_available, BIN};

/// `run FIXTURE --repeat N --env vm` (fixtures in tests/fixtures/vm/); every sample must
/// pass. Returns the sample directories and the wall seconds of the boot.
fn run_samples(fixture: &str, repeat: u32, clock: &str, out: &Path) -> (Vec<PathBuf>, f64) {
    let start = std::time::Instant::now();
    let o = Command::new(BIN)
        .current_dir(repo())
        .args([
            "run",
            &format!("thinbench/tests/fixtures/vm/{fixture}.toml"),
        ])
        .args(["--repeat", &repeat.to_string(), "--clock", clock])
        .args(["--env", "vm", "--out"])
        .arg(out)
        .output()
        .unwrap();
    let secs = start.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&o.stderr);
    let boot = stderr
        .lines()
        .find(|l| l.starts_with("thinbench: vm boot:"))
        .unwrap_or("");
    eprintln!("{fixture} --repeat {repeat}: {secs:.0}s of VM wall time; {boot}");
    let dirs: Vec<PathBuf> = if repeat == 1 {
        vec![out.to_owned()]
    } else {
        (1..=repeat)
            .map(|k| out.join(format!("sample-{k}")))
            .collect()
    };
    for d in &dirs {
        let text = std::fs::read_to_string(d.join("summary.json"))
            .unwrap_or_else(|e| panic!("{}: {e}\n{stderr}", d.display()));
        let s: RunSummary = serde_json::from_str(&text).unwrap();
        assert_eq!(s.status, Status::Passed, "{}: {text}", d.display());
    }
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    (dirs, secs)
}

/// `thinbench gate` of two sample sets with ci/gate.toml: the exit code and gate.json.
fn gate(baseline: &[PathBuf], candidate: &[PathBuf], out: &Path) -> (i32, serde_json::Value) {
    let o = Command::new(BIN)
        .current_dir(repo())
        .args(["gate", "--config", "ci/gate.toml", "--out"])
        .arg(out)
        .arg("--baseline")
        .args(baseline)
        .arg("--candidate")
        .args(candidate)
        .output()
        .unwrap();
    let code = o.status.code().unwrap_or(-1);
    assert!(
        matches!(code, 0 | 1 | 3),
        "gate exit {code}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = std::fs::read_to_string(out.join("gate.json")).unwrap();
    (code, serde_json::from_str(&text).unwrap())
}

/// The gate.json rows of `figure` in step `step` (any case).
fn rows<'v>(g: &'v serde_json::Value, step: &str, figure: &str) -> Vec<&'v serde_json::Value> {
    g["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["step"] == step && r["figure"] == figure)
        .collect()
}

#[test]
#[ignore = "boots a VM three times (qemu TCG, instruction clock, ~1.5 min); run by ci/test"]
fn vm_gate_trial_one_pair() {
    if !vm_available() {
        return;
    }
    // `thinbench gate-trial` with one pair, on the loop-lvm half of ci/gate-trial.toml:
    // boot a1 and boot b1 of the scenario (A/A), boot s1 of a copy with
    // `busy_wait_per_io` = 5% of each small-write step's median in a1 (the slowdown).
    // The 20-pair trial on both pool kinds is a benchmark (docs/gate.md), this keeps the
    // mechanism honest: the busy wait must reach the figures, the gate must see a 5%
    // change in each slowed median and nothing in the A/A pair.
    let tmp = tempfile::tempdir().unwrap();
    let start = std::time::Instant::now();
    let o = Command::new(BIN)
        .current_dir(repo())
        .args([
            "gate-trial",
            "thinbench/tests/fixtures/vm/gate-trial-loop.toml",
            "--pairs",
            "1",
            "--out",
        ])
        .arg(tmp.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    let md = std::fs::read_to_string(tmp.path().join("trial.md")).unwrap_or_default();
    eprintln!(
        "{stderr}\n{md}\nVM wall time: {:.0}s",
        start.elapsed().as_secs_f64()
    );
    let t: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("trial.json"))
            .unwrap_or_else(|e| panic!("no trial.json ({e}): {stderr}")),
    )
    .unwrap();
    assert_eq!(t["clock"], "instructions (shift 4)", "{t}");
    let injected = t["injected"].as_object().unwrap();
    assert_eq!(
        injected.keys().collect::<Vec<_>>(),
        ["loop-overwrite", "loop-seq-write"],
        "{t}"
    );
    for (step, v) in injected {
        let (ns, p50) = (v[0].as_f64().unwrap(), v[1].as_f64().unwrap());
        assert!(
            (ns / p50 - 0.05).abs() < 0.001,
            "{step}: {ns} ns of {p50} ns"
        );
        // The busy wait is in the slowed boot's figures: its median grew by about that.
        let med = |boot: &str| {
            t["boots"][boot][format!("gate-trial-loop/loop/{step}")]["p50_ns"]
                .as_f64()
                .unwrap()
        };
        let grew = med("s1") - med("a1");
        assert!(
            (0.5 * ns..2.0 * ns).contains(&grew),
            "{step}: p50 {} -> {} ns for a {ns} ns busy wait",
            med("a1"),
            med("s1")
        );
    }
    let (aa, slow) = (&t["aa"][0], &t["slowdown"][0]);
    assert_ne!(aa["exit"], 1, "A/A flagged: {aa}");
    assert_eq!(t["false_alarms"], 0, "{t}");
    assert_eq!(slow["exit"], 1, "slowdown not flagged: {slow}");
    assert_eq!(t["detected"], 1, "{slow}");
    // A busy wait in the timed window changes timings only: no count, no status.
    assert_eq!(slow["changed"], serde_json::json!([]), "{slow}");
    assert_eq!(o.status.code(), Some(0), "{stderr}");
}

#[test]
#[ignore = "boots a VM twice (qemu TCG, ~1 min); run by ci/test"]
fn vm_exact_gate_flags_a_chunk_size_change() {
    if !vm_available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (base, s64) = run_samples("gate", 1, "wall", &tmp.path().join("c64"));
    let (cand, s128) = run_samples("gate-chunk128", 1, "wall", &tmp.path().join("c128"));
    let blocks = |d: &Path| -> i64 {
        let s: RunSummary =
            serde_json::from_str(&std::fs::read_to_string(d.join("summary.json")).unwrap())
                .unwrap();
        let st = s.cases[0]
            .steps
            .iter()
            .find(|st| st.name == "random-write")
            .unwrap();
        st.data_blocks_allocated.unwrap()
    };
    let (b64, b128) = (blocks(&base[0]), blocks(&cand[0]));
    let (code, g) = gate(&base, &cand, &tmp.path().join("gate"));
    eprintln!(
        "chunk 64KiB -> 128KiB: gate exit {code}, verdict {}, counts {}",
        g["verdict"], g["counts"]
    );
    for r in g["rows"].as_array().unwrap() {
        if r["outcome"] == "fail" {
            eprintln!(
                "  {} {}/{}: {} -> {}",
                r["verdict"],
                r["step"],
                r["figure"],
                r["baseline"]["values"],
                r["candidate"]["values"]
            );
        }
    }
    eprintln!("VM wall time: {s64:.0}s + {s128:.0}s");
    assert_eq!(code, 1);
    assert_eq!(g["verdict"], "regression");
    let r = rows(&g, "random-write", "data_blocks_allocated");
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0]["verdict"], "changed", "{}", r[0]);
    // gate.json keeps every numeric value as a JSON float.
    let values = |side: &str| -> Vec<f64> {
        r[0][side]["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect()
    };
    assert_eq!(values("baseline"), [b64 as f64], "{}", r[0]);
    assert_eq!(values("candidate"), [b128 as f64], "{}", r[0]);
    // 400 random 4KiB writes over 128MiB: 2048 chunks of 64KiB, 1024 of 128KiB, so fewer
    // distinct chunks are touched at 128KiB, each of them a block.
    assert!(b128 < b64, "{b64} -> {b128}");
    // Creating the thin allocates nothing at either size: that figure must not move.
    let r = rows(&g, "base", "data_blocks_allocated");
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["verdict"], "unchanged", "{}", r[0]);
    // Wall-clock timings under TCG are shown, never judged: the exit code above came
    // from exact figures alone (which is why this test need not run alone).
    let timing: Vec<&serde_json::Value> = g["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "timing")
        .collect();
    assert!(timing.len() >= 4, "{timing:?}");
    for r in &timing {
        assert_eq!(r["outcome"], "not_gated", "{r}");
        assert!(
            r["candidate"]["values"]
                .as_array()
                .is_some_and(|v| !v.is_empty()),
            "{r}"
        );
    }
    assert_eq!(g["counts"]["not_gated"], timing.len(), "{}", g["counts"]);
    assert_eq!(g["counts"]["inconclusive"], 0, "{}", g["counts"]);
}
