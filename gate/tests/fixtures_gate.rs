//! The gate on real run results (the report fixtures): a set against itself, against a
//! changed exact figure, a slowdown, a failed expectation, another environment, an
//! incomplete run; merge and baseline store round trips; every output written.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;
use thinbench_gate::config::{parse_config, GateConfig};
use thinbench_gate::verdict::{Inconclusive, Outcome, Verdict};
use thinbench_gate::{compare, load_sample_set, GateError, GateReport, Overall};

fn gate(base: &Path, cand: &Path, cfg: &GateConfig) -> Result<GateReport, GateError> {
    let b = load_sample_set(&[base.to_path_buf()])?;
    let c = load_sample_set(&[cand.to_path_buf()])?;
    compare(&b, &c, cfg)
}

fn row<'r>(
    r: &'r GateReport,
    case: &str,
    step: Option<&str>,
    figure: &str,
) -> &'r thinbench_gate::Row {
    r.rows
        .iter()
        .find(|x| x.key.case == case && x.key.step.as_deref() == step && x.key.figure == figure)
        .unwrap_or_else(|| panic!("no row {case} {step:?} {figure}"))
}

fn failing(r: &GateReport) -> Vec<String> {
    r.with_outcome(Outcome::Fail)
        .map(|x| x.key.to_string())
        .collect()
}

#[test]
fn a_run_against_itself_is_unchanged_but_one_sample_is_too_few_for_timings() {
    let t = tempfile::tempdir().unwrap();
    let dir = write_run(t.path(), "smoke", &fixture("smoke"));
    let r = gate(&dir, &dir, &GateConfig::default()).unwrap();
    assert!(failing(&r).is_empty(), "{:?}", failing(&r));
    assert_eq!(r.verdict, Overall::Inconclusive);
    let p99 = row(&r, "smoke/loop", Some("seq-write"), "workload.p99_ns");
    assert_eq!(
        p99.verdict,
        Verdict::Inconclusive {
            reason: Inconclusive::TooFewSamples {
                baseline: 1,
                candidate: 1,
                needed: 5
            }
        }
    );
    // Exact figures need one sample: compared, equal.
    let blocks = row(
        &r,
        "smoke/loop",
        Some("random-write"),
        "data_blocks_allocated",
    );
    assert_eq!(blocks.verdict, Verdict::Unchanged { note: None });
    // The direct-lvm snapshot failed in both: unchanged, and said so.
    let snap = row(&r, "smoke/direct", Some("snap"), "step.status");
    assert!(
        matches!(&snap.verdict, Verdict::Unchanged { note: Some(n) } if n.contains("baseline too"))
    );
    assert!(r.counts.unchanged > 50, "{:?}", r.counts);
}

#[test]
fn wall_clock_timings_under_emulation_are_shown_not_gated() {
    let t = tempfile::tempdir().unwrap();
    let smoke = fixture_on_wall_clock("smoke");
    let mut g = rng(5);
    let base = samples(&t.path().join("a"), &smoke, 5, "aaaa", |_, s| {
        jitter_timings(s, &mut g, 1.0, 0.05)
    });
    // Twice as slow: on the instruction clock a regression (the test below).
    let slow = samples(&t.path().join("b"), &smoke, 5, "bbbb", |_, s| {
        jitter_timings(s, &mut g, 2.0, 0.05)
    });
    let r = gate(&base, &slow, &GateConfig::default()).unwrap();
    assert_eq!(r.verdict, Overall::Pass, "{:?}", failing(&r));
    let iops = row(&r, "smoke/loop", Some("seq-write"), "workload.iops");
    assert_eq!(iops.outcome, Outcome::NotGated);
    assert!(
        iops.explain()
            .contains("not gated: wall clock under emulation"),
        "{}",
        iops.explain()
    );
    // Shown: both sides' values are in the row.
    assert_eq!(iops.candidate.as_ref().unwrap().n, 5);
    assert_eq!(
        r.counts.not_gated,
        r.with_outcome(Outcome::NotGated).count()
    );
    assert!(r.counts.not_gated > 10, "{:?}", r.counts);
    assert_eq!(r.counts.inconclusive, 0, "{:?}", r.counts);
    // The exit code depends on exact figures only: a changed block count still fails.
    let changed = samples(&t.path().join("c"), &smoke, 5, "cccc", |_, s| {
        step(s, "smoke/loop", "random-write")["data_blocks_allocated"] = Value::from(480);
    });
    let r = gate(&base, &changed, &GateConfig::default()).unwrap();
    assert_eq!(r.verdict, Overall::Regression);
    assert_eq!(
        failing(&r),
        ["smoke/loop / random-write / data_blocks_allocated"]
    );
    // A wall-clock run and an instruction-clock run are never compared.
    let icount = samples(&t.path().join("d"), &fixture("smoke"), 5, "dddd", |_, _| {});
    let err = gate(&base, &icount, &GateConfig::default()).unwrap_err();
    assert!(err.to_string().contains("clock"), "{err}");
}

#[test]
fn five_samples_against_five_of_the_same_build_pass() {
    let t = tempfile::tempdir().unwrap();
    let smoke = fixture("smoke");
    let mut g = rng(11);
    let base = samples(&t.path().join("a"), &smoke, 5, "aaaa", |_, s| {
        jitter_timings(s, &mut g, 1.0, 0.03)
    });
    let cand = samples(&t.path().join("b"), &smoke, 5, "bbbb", |_, s| {
        jitter_timings(s, &mut g, 1.0, 0.03)
    });
    let r = gate(&base, &cand, &GateConfig::default()).unwrap();
    assert_eq!(r.verdict, Overall::Pass, "{:#?}", failing(&r));
    let p99 = row(&r, "smoke/loop", Some("seq-write"), "workload.p99_ns");
    let st = p99.stats.unwrap();
    assert!(st.ci.is_some() && st.test.is_some());
    assert_eq!(r.groups.len(), 1);
    assert_eq!(r.groups[0].candidate_runs.len(), 5);
}

#[test]
fn a_changed_block_count_is_a_behaviour_change() {
    let t = tempfile::tempdir().unwrap();
    let smoke = fixture("smoke");
    let base = samples(&t.path().join("a"), &smoke, 1, "aaaa", |_, _| {});
    let cand = samples(&t.path().join("b"), &smoke, 1, "bbbb", |_, s| {
        step(s, "smoke/loop", "random-write")["data_blocks_allocated"] = Value::from(480);
    });
    let r = gate(&base, &cand, &GateConfig::default()).unwrap();
    assert_eq!(r.verdict, Overall::Regression);
    assert_eq!(
        failing(&r),
        ["smoke/loop / random-write / data_blocks_allocated"]
    );
    let row = row(
        &r,
        "smoke/loop",
        Some("random-write"),
        "data_blocks_allocated",
    );
    assert_eq!(row.verdict, Verdict::Changed);
    assert_eq!(row.baseline.as_ref().unwrap().display(), "479");
    assert_eq!(row.candidate.as_ref().unwrap().display(), "480");
}

#[test]
fn a_slowdown_regresses_and_a_speedup_improves() {
    let t = tempfile::tempdir().unwrap();
    let smoke = fixture("smoke");
    let mut g = rng(5);
    let base = samples(&t.path().join("a"), &smoke, 5, "aaaa", |_, s| {
        jitter_timings(s, &mut g, 1.0, 0.05)
    });
    let slow = samples(&t.path().join("b"), &smoke, 5, "bbbb", |_, s| {
        jitter_timings(s, &mut g, 1.5, 0.05)
    });
    let cfg = parse_config(
        Path::new("gate.toml"),
        &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../ci/gate.toml"))
            .unwrap(),
    )
    .unwrap();
    let r = gate(&base, &slow, &cfg).unwrap();
    assert_eq!(r.verdict, Overall::Regression);
    let iops = row(&r, "smoke/loop", Some("seq-write"), "workload.iops");
    assert_eq!(iops.verdict, Verdict::Regressed, "{}", iops.explain());
    let p50 = row(&r, "smoke/direct", Some("random-write"), "workload.p50_ns");
    assert_eq!(p50.verdict, Verdict::Regressed, "{}", p50.explain());
    // The `*_ns` floor rule applied (its `[[rule]]` is the line before `figure = "*_ns"`),
    // then the instruction clock's (the fixtures' clock: `[[rule]]`, `clock`, `figure`).
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../ci/gate.toml"))
            .unwrap();
    let at: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| *l == "figure = \"*_ns\"")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(at.len(), 2, "two `*_ns` rules in ci/gate.toml");
    assert_eq!(
        p50.rules,
        [format!("{}:1", at[0]), format!("{}:1", at[1] - 1)]
    );
    // Exact figures did not move.
    assert!(r
        .with_outcome(Outcome::Fail)
        .all(|x| x.kind == thinbench_schema::record::MetricKind::Timing));
    // The other way round: improved, nothing fails.
    let r2 = gate(&slow, &base, &cfg).unwrap();
    assert_eq!(r2.verdict, Overall::Pass, "{:?}", failing(&r2));
    assert!(r2.counts.improved >= 8, "{:?}", r2.counts);
}

#[test]
fn a_failed_expectation_regresses() {
    let t = tempfile::tempdir().unwrap();
    let smoke = fixture("smoke");
    let base = samples(&t.path().join("a"), &smoke, 1, "aaaa", |_, _| {});
    let cand = samples(&t.path().join("b"), &smoke, 1, "bbbb", |_, s| {
        let st = step(s, "smoke/loop", "seq-write");
        st["expectations"][0]["status"] = Value::from("failed");
    });
    let r = gate(&base, &cand, &GateConfig::default()).unwrap();
    assert_eq!(
        failing(&r),
        ["smoke/loop / seq-write / expect: data blocks allocated == model"]
    );
    assert_eq!(
        row(
            &r,
            "smoke/loop",
            Some("seq-write"),
            "expect: data blocks allocated == model"
        )
        .verdict,
        Verdict::Regressed
    );
}

#[test]
fn a_figure_gone_from_the_candidate_is_missing() {
    let t = tempfile::tempdir().unwrap();
    let smoke = fixture("smoke");
    let base = samples(&t.path().join("a"), &smoke, 1, "aaaa", |_, _| {});
    let cand = samples(&t.path().join("b"), &smoke, 1, "bbbb", |_, s| {
        let st = step(s, "smoke/loop", "seq-write");
        st["expectations"].as_array_mut().unwrap().pop();
    });
    let r = gate(&base, &cand, &GateConfig::default()).unwrap();
    assert_eq!(
        failing(&r),
        ["smoke/loop / seq-write / expect: workload IO errors"]
    );
    // Unless the config says missing figures pass.
    let cfg = parse_config(
        Path::new("g.toml"),
        "format = 1\n[defaults]\nmissing = \"ignore\"\n",
    )
    .unwrap();
    assert!(failing(&gate(&base, &cand, &cfg).unwrap()).is_empty());
}

#[test]
fn another_environment_is_refused_field_by_field() {
    let t = tempfile::tempdir().unwrap();
    let base = samples(&t.path().join("a"), &fixture("smoke"), 1, "aaaa", |_, _| {});
    let kvm = samples(
        &t.path().join("b"),
        &fixture("smoke-kvm"),
        1,
        "bbbb",
        |_, _| {},
    );
    let e = gate(&base, &kvm, &GateConfig::default()).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, GateError::FingerprintMismatch { .. }));
    assert!(
        msg.contains("accel: baseline `tcg`, candidate `kvm`"),
        "{msg}"
    );
    assert!(
        msg.contains("cpu_model: baseline `QEMU TCG CPU version 2.5+`, candidate `AMD EPYC 7B13 64-Core Processor`"),
        "{msg}"
    );
    assert!(msg.contains("host_cpu_model"), "{msg}");
    assert!(!msg.contains("kernel:"), "the kernel is the same: {msg}");
    assert!(msg.contains("thinbench baseline update"), "{msg}");
}

#[test]
fn incomplete_runs_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let base = samples(&t.path().join("a"), &fixture("smoke"), 1, "aaaa", |_, _| {});
    let cand = samples(&t.path().join("b"), &fixture("smoke"), 2, "bbbb", |k, s| {
        if k == 1 {
            s["status"] = Value::from("incomplete");
            s["finished_at"] = Value::Null;
            s["error"] = Value::from("the guest died without reporting");
        }
    });
    let e = gate(&base, &cand, &GateConfig::default()).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, GateError::Incomplete { .. }));
    assert!(
        msg.contains(
            "sample-2: run 20260101T000001-bbbb is incomplete (the guest died without reporting)"
        ),
        "{msg}"
    );
}

#[test]
fn merged_shards_gate_like_one_set() {
    let t = tempfile::tempdir().unwrap();
    let smoke = fixture("smoke");
    // Shard 1 ran the loop pool, shard 2 the direct pool, 5 samples each.
    let only = |case: &'static str| {
        move |_: usize, s: &mut Value| {
            s["cases"]
                .as_array_mut()
                .unwrap()
                .retain(|c| c["id"] == case);
        }
    };
    samples(
        &t.path().join("shard-1"),
        &smoke,
        5,
        "s1s1",
        only("smoke/loop"),
    );
    samples(
        &t.path().join("shard-2"),
        &smoke,
        5,
        "s2s2",
        only("smoke/direct"),
    );
    let merged = t.path().join("merged");
    let out = thinbench_gate::merge::merge(
        &[t.path().join("shard-1"), t.path().join("shard-2")],
        &merged,
    )
    .unwrap();
    assert_eq!(out.runs.len(), 10);
    assert!(merged
        .join("smoke/20260101T000000-s1s1/summary.json")
        .is_file());
    assert!(merged.join("merge.json").is_file());
    let base = samples(&t.path().join("base"), &smoke, 5, "bbbb", |_, _| {});
    let r = gate(&base, &merged, &GateConfig::default()).unwrap();
    assert_eq!(r.verdict, Overall::Pass, "{:?}", failing(&r));
    // Each pool's figures have 5 samples; the run-level ones 10.
    let p99 = row(&r, "smoke/loop", Some("seq-write"), "workload.p99_ns");
    assert_eq!(p99.candidate.as_ref().unwrap().n, 5);
    assert_eq!(
        row(&r, "smoke", None, "run.status")
            .candidate
            .as_ref()
            .unwrap()
            .n,
        10
    );

    // A shard given twice would count its runs twice: refused.
    let e = thinbench_gate::merge::merge(
        &[t.path().join("shard-1"), t.path().join("shard-1")],
        &t.path().join("merged2"),
    )
    .unwrap_err();
    assert!(matches!(e, GateError::DuplicateRun { .. }), "{e}");
    // Into a directory that holds something: refused.
    let e = thinbench_gate::merge::merge(&[t.path().join("shard-1")], &merged).unwrap_err();
    assert!(e.to_string().contains("not empty"), "{e}");
}

#[test]
fn a_shard_gated_alone_compares_only_its_cases() {
    let t = tempfile::tempdir().unwrap();
    let smoke = fixture("smoke");
    let base = samples(&t.path().join("base"), &smoke, 1, "bbbb", |_, _| {});
    let shard = samples(&t.path().join("s"), &smoke, 1, "s1s1", |_, s| {
        s["cases"]
            .as_array_mut()
            .unwrap()
            .retain(|c| c["id"] == "smoke/loop");
    });
    let r = gate(&base, &shard, &GateConfig::default()).unwrap();
    assert!(failing(&r).is_empty(), "{:?}", failing(&r));
    assert_eq!(r.groups[0].not_in_candidate, ["smoke/direct"]);
}

#[test]
fn baseline_store_picks_the_candidates_environment() {
    let t = tempfile::tempdir().unwrap();
    let store = t.path().join("baselines");
    let tcg = samples(
        &t.path().join("tcg"),
        &fixture("smoke"),
        3,
        "tcgx",
        |_, _| {},
    );
    let kvm = samples(
        &t.path().join("kvm"),
        &fixture("smoke-kvm"),
        2,
        "kvmx",
        |_, _| {},
    );
    let runs = load_sample_set(&[tcg.clone(), kvm.clone()]).unwrap();
    let up = thinbench_gate::baseline::update(&store, &runs).unwrap();
    assert_eq!(up.updated.len(), 2);
    // Both fixtures are failed runs (a missing dm-snapshot module): said, not refused.
    assert_eq!(up.warnings.len(), 5);
    for u in &up.updated {
        assert!(u.dir.join("baseline.json").is_file());
        assert!(u.dir.join("smoke").is_dir());
    }
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(up.updated[0].dir.join("baseline.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["format_version"], 1);

    // A KVM candidate meets the KVM baseline only: 2 samples, not 5.
    let cand = samples(
        &t.path().join("cand"),
        &fixture("smoke-kvm"),
        1,
        "cand",
        |_, _| {},
    );
    let r = gate(&store, &cand, &GateConfig::default()).unwrap();
    assert_eq!(r.groups.len(), 1);
    assert_eq!(r.groups[0].fingerprint.accel, "kvm");
    assert_eq!(r.groups[0].baseline_runs.len(), 2);

    // Updating again replaces the scenario's samples, not adds to them.
    let runs = load_sample_set(&[kvm]).unwrap();
    thinbench_gate::baseline::update(&store, &runs[..1]).unwrap();
    let r = gate(&store, &cand, &GateConfig::default()).unwrap();
    assert_eq!(r.groups[0].baseline_runs.len(), 1);

    // A store without the candidate's environment: refused, naming what it has.
    let only_tcg = t.path().join("only-tcg");
    thinbench_gate::baseline::update(&only_tcg, &load_sample_set(&[tcg]).unwrap()).unwrap();
    let e = gate(&only_tcg, &cand, &GateConfig::default()).unwrap_err();
    assert!(
        e.to_string()
            .contains("accel: baseline `tcg`, candidate `kvm`"),
        "{e}"
    );
}

#[test]
fn outputs_are_written_and_well_formed() {
    let t = tempfile::tempdir().unwrap();
    let smoke = fixture("smoke");
    let mut g = rng(3);
    let base = samples(&t.path().join("a"), &smoke, 5, "aaaa", |_, s| {
        jitter_timings(s, &mut g, 1.0, 0.05)
    });
    let cand = samples(&t.path().join("b"), &smoke, 5, "bbbb", |k, s| {
        jitter_timings(s, &mut g, 1.4, 0.05);
        if k == 0 {
            step(s, "smoke/loop", "seq-write")["data_blocks_allocated"] = Value::from(65);
        }
    });
    // A candidate run with report plots: they are copied and embedded.
    let plots = cand.join("sample-1/report");
    std::fs::create_dir_all(&plots).unwrap();
    std::fs::write(plots.join("usage.png"), b"\x89PNG fake").unwrap();
    let out = t.path().join("gate");
    let o = thinbench_gate::run_gate(&thinbench_gate::GateRequest {
        baseline: &[base],
        candidate: &[cand],
        config: None,
        out: &out,
    })
    .unwrap();
    let r = &o.report;
    assert_eq!(r.verdict, Overall::Regression);
    // The exact figure differs in one candidate sample only: unstable, not "changed".
    let blocks = row(r, "smoke/loop", Some("seq-write"), "data_blocks_allocated");
    assert!(matches!(
        &blocks.verdict,
        Verdict::Inconclusive {
            reason: Inconclusive::Unstable {
                side: "candidate",
                ..
            }
        }
    ));

    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(&o.files.json).unwrap()).unwrap();
    assert_eq!(json["format_version"], 1);
    assert_eq!(json["verdict"], "regression");
    assert_eq!(json["rows"].as_array().unwrap().len(), r.rows.len());
    let reg = json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["verdict"] == "regressed")
        .unwrap();
    assert!(reg["stats"]["ci"]["lo"].as_f64().is_some());
    assert!(reg["stats"]["test"]["p_value"].as_f64().is_some());
    let unstable = json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| {
            x["figure"] == "data_blocks_allocated"
                && x["step"] == "seq-write"
                && x["case"] == "smoke/loop"
        })
        .unwrap();
    assert_eq!(unstable["reason"]["kind"], "unstable");

    let junit = std::fs::read_to_string(&o.files.junit).unwrap();
    assert_eq!(junit.matches("<testcase ").count(), r.rows.len());
    assert_eq!(
        junit.matches("<failure ").count(),
        r.with_outcome(Outcome::Fail).count()
    );
    assert_eq!(
        junit.matches("<skipped ").count(),
        r.with_outcome(Outcome::Inconclusive).count()
    );
    assert!(junit.contains("name=\"seq-write: expect: data blocks allocated == model\""));
    assert!(junit.contains(
        "<skipped message=\"inconclusive: unstable: varies within the candidate (65, 64)"
    ));

    let md = std::fs::read_to_string(&o.files.markdown).unwrap();
    assert!(md.starts_with("# thinbench gate: REGRESSION"));
    assert!(md.contains("## Regressions and behaviour changes"));
    assert!(out.join("plots/20260101T000000-bbbb/usage.png").is_file());
    // The plots: listed without an image base, embedded under one.
    let runs = load_sample_set(&[t.path().join("b")]).unwrap();
    let listed = t.path().join("listed");
    let f = thinbench_gate::render::write_outputs_with(r, &runs, &listed, None).unwrap();
    let md = std::fs::read_to_string(&f.markdown).unwrap();
    assert!(
        md.contains("- `plots/20260101T000000-bbbb/usage.png`"),
        "{md}"
    );
    assert!(!md.contains("!["), "{md}");
    let base = Some("https://ci.example/gate/");
    let embedded = t.path().join("embedded");
    let f = thinbench_gate::render::write_outputs_with(r, &runs, &embedded, base).unwrap();
    let md = std::fs::read_to_string(&f.markdown).unwrap();
    assert!(
        md.contains("![usage](https://ci.example/gate/plots/20260101T000000-bbbb/usage.png)"),
        "{md}"
    );

    let bmf: Value =
        serde_json::from_str(&std::fs::read_to_string(&o.files.bencher).unwrap()).unwrap();
    let p99 = &bmf["smoke/loop/seq-write/workload.p99_ns"]["latency"];
    assert!(p99["value"].as_f64().unwrap() > 0.0);
    assert!(p99["lower_value"].as_f64().unwrap() <= p99["upper_value"].as_f64().unwrap());
    assert!(bmf["smoke/loop/seq-write/workload.iops"]["throughput"]["value"].is_number());

    let smaller: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&o.files.gab_smaller).unwrap()).unwrap();
    let bigger: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&o.files.gab_bigger).unwrap()).unwrap();
    assert!(smaller
        .iter()
        .any(|e| e["name"] == "smoke/loop/seq-write/workload.p99_ns" && e["unit"] == "ns"));
    assert!(bigger
        .iter()
        .any(|e| e["name"] == "smoke/loop/seq-write/workload.iops"));
    assert!(!bigger
        .iter()
        .any(|e| e["name"].as_str().unwrap().ends_with("p99_ns")));
    // Figures with no better direction (block counts) are in neither file.
    assert!(!smaller.iter().chain(&bigger).any(|e| e["name"]
        .as_str()
        .unwrap()
        .ends_with("data_blocks_allocated")));
}

#[test]
fn same_inputs_same_report() {
    let t = tempfile::tempdir().unwrap();
    let smoke = fixture("smoke");
    let mut g = rng(9);
    let base = samples(&t.path().join("a"), &smoke, 5, "aaaa", |_, s| {
        jitter_timings(s, &mut g, 1.0, 0.1)
    });
    let cand = samples(&t.path().join("b"), &smoke, 5, "bbbb", |_, s| {
        jitter_timings(s, &mut g, 1.1, 0.1)
    });
    let one = gate(&base, &cand, &GateConfig::default()).unwrap();
    let two = gate(&base, &cand, &GateConfig::default()).unwrap();
    assert_eq!(
        thinbench_gate::render::json::render(&one),
        thinbench_gate::render::json::render(&two)
    );
    let _: Vec<PathBuf> = one.groups[0].candidate_runs.clone();
}
