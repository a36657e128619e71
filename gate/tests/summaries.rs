//! `gate.md` as a CI job summary and `junit.xml`'s times, on the report fixtures: one
//! line per shared inconclusive reason, values in their unit, long tables collapsed, the
//! harness's own cost apart; suites and test cases timed from the candidate's runs.

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;
use thinbench_gate::config::GateConfig;
use thinbench_gate::render::markdown::{render, COLLAPSE_ROWS};
use thinbench_gate::verdict::Outcome;
use thinbench_gate::{compare, load_sample_set, GateReport};

fn gate(base: &Path, cand: &Path) -> GateReport {
    let b = load_sample_set(&[base.to_path_buf()]).unwrap();
    let c = load_sample_set(&[cand.to_path_buf()]).unwrap();
    compare(&b, &c, &GateConfig::default()).unwrap()
}

/// `md` after `heading`, up to the next `## ` heading or the table of every figure.
fn section<'m>(md: &'m str, heading: &str) -> &'m str {
    let at = md
        .find(heading)
        .unwrap_or_else(|| panic!("no {heading:?} in:\n{md}"));
    let rest = &md[at + heading.len()..];
    let end = ["\n## ", "\n<details><summary>All"]
        .iter()
        .filter_map(|m| rest.find(m))
        .min()
        .unwrap_or(rest.len());
    &rest[..end]
}

#[test]
fn one_line_per_shared_inconclusive_reason_with_the_names_collapsed() {
    let t = tempfile::tempdir().unwrap();
    let smoke = fixture("smoke");
    let base = samples(&t.path().join("a"), &smoke, 1, "aaaa", |_, _| {});
    let cand = samples(&t.path().join("b"), &smoke, 1, "bbbb", |_, _| {});
    let r = gate(&base, &cand);
    let n = r.with_outcome(Outcome::Inconclusive).count();
    assert!(n > 2, "{n}");
    let md = render(&r, &[], None);
    let inc = section(&md, "## Inconclusive");
    let line = format!("**{n} figures: too few samples (baseline 1, candidate 1; need 5 each).**");
    assert!(inc.contains(&line), "missing {line:?} in:\n{inc}");
    assert_eq!(inc.matches("too few samples").count(), 1, "{inc}");
    assert!(inc.contains(&format!("<details><summary>The {n} figures</summary>\n\n")));
    assert!(inc.contains(
        "| smoke/loop | seq-write | workload.iops, workload.mb_per_s, workload.p50_ns, \
         workload.p99_ns |"
    ));
    // Every name is listed once.
    for row in r.with_outcome(Outcome::Inconclusive) {
        assert!(inc.contains(&row.key.figure), "{} not listed", row.key);
    }
    // In the table of every figure, the reason in a few words.
    assert!(md.contains(
        "| smoke/loop | seq-write | workload.p99_ns | 7.590 ms | 7.590 ms | +0.0 % | \
         inconclusive: too few samples |"
    ));
}

#[test]
fn values_in_their_unit_and_exact_where_rounding_would_hide_a_change() {
    let t = tempfile::tempdir().unwrap();
    let smoke = fixture("smoke");
    let base = samples(&t.path().join("a"), &smoke, 1, "aaaa", |_, _| {});
    let cand = samples(&t.path().join("b"), &smoke, 1, "bbbb", |_, s| {
        step(s, "smoke/loop", "seq-write")["workload"]["bytes"] = Value::from(4_194_305);
    });
    let md = render(&gate(&base, &cand), &[], None);
    for needle in [
        "| smoke/loop | seq-write | workload.p50_ns | 939.5 µs | 939.5 µs |",
        "| smoke/direct | seq-write | workload.bytes | 4 MiB | 4 MiB |",
        "| smoke/loop | seq-write | data_blocks_allocated | 64 blocks | 64 blocks |",
        // 4 MiB and 4 MiB + 1 byte both read "4 MiB": shown exactly.
        "| smoke/loop | seq-write | workload.bytes | 4194304 bytes | 4194305 bytes |",
    ] {
        assert!(md.contains(needle), "missing {needle:?} in:\n{md}");
    }
    assert!(!md.contains("939519"), "a raw ns value in:\n{md}");
    assert!(!md.contains("(ns)"), "{md}");
}

#[test]
fn long_tables_are_collapsed() {
    let t = tempfile::tempdir().unwrap();
    let smoke = fixture("smoke");
    let mut g = rng(3);
    let base = samples(&t.path().join("a"), &smoke, 5, "aaaa", |_, s| {
        jitter_timings(s, &mut g, 1.0, 0.02)
    });
    let cand = samples(&t.path().join("b"), &smoke, 5, "bbbb", |_, s| {
        jitter_timings(s, &mut g, 2.0, 0.02)
    });
    let r = gate(&base, &cand);
    let fails = r.with_outcome(Outcome::Fail).count();
    assert!(fails > COLLAPSE_ROWS, "{fails} regressions");
    let md = render(&r, &[], None);
    let reg = section(&md, "## Regressions and behaviour changes");
    assert!(
        reg.starts_with(&format!(
            "\n\n<details><summary>{fails} figures</summary>\n\n| case |"
        )),
        "{reg}"
    );
    assert!(reg.contains("|\n\n</details>"), "{reg}");
    // Every figure's table is collapsed whatever its length.
    assert!(md.contains("<details><summary>All 92 figures of the pools</summary>\n\n| case |"));
}

#[test]
fn the_harness_cost_stands_apart_from_the_pools_figures() {
    let t = tempfile::tempdir().unwrap();
    let smoke = fixture("smoke");
    let with_cost = |_: usize, s: &mut Value| {
        for st in steps(s) {
            if !st["metrics"].is_array() {
                st["metrics"] = Value::Array(Vec::new());
            }
            st["metrics"]
                .as_array_mut()
                .unwrap()
                .push(serde_json::json!({
                    "name": "oracle.thin_ls_ms", "value": 640.0, "unit": "ms",
                    "kind": "timing", "better": "lower"
                }));
        }
    };
    let base = samples(&t.path().join("a"), &smoke, 1, "aaaa", with_cost);
    let cand = samples(&t.path().join("b"), &smoke, 1, "bbbb", with_cost);
    let r = gate(&base, &cand);
    let costs = r
        .rows
        .iter()
        .filter(|x| x.key.figure == "oracle.thin_ls_ms")
        .count();
    assert!(costs > 0);
    let md = render(&r, &[], None);
    let harness = section(&md, "## Harness cost");
    assert_eq!(
        harness
            .matches("| oracle.thin_ls_ms | 640 ms | 640 ms |")
            .count(),
        costs
    );
    let pools = (r.rows.len() - costs).to_string();
    assert!(
        md.contains(&format!("All {pools} figures of the pools")),
        "{md}"
    );
    for other in ["## Inconclusive", "<details><summary>All"] {
        assert!(
            !section(&md, other).contains("oracle."),
            "harness cost under {other:?}"
        );
    }
}

#[test]
fn junit_suites_and_cases_carry_time_and_timestamp() {
    let t = tempfile::tempdir().unwrap();
    let smoke = fixture("smoke");
    // Candidate runs 3 s longer in seq-write, one sample each: the median is that one.
    let base = samples(&t.path().join("a"), &smoke, 1, "aaaa", |_, _| {});
    let cand = samples(&t.path().join("b"), &smoke, 1, "bbbb", |_, s| {
        let st = step(s, "smoke/loop", "seq-write");
        st["duration_ms"] = Value::from(st["duration_ms"].as_u64().unwrap() + 3000);
    });
    let out = t.path().join("gate");
    let o = thinbench_gate::run_gate(&thinbench_gate::GateRequest {
        baseline: &[base],
        candidate: std::slice::from_ref(&cand),
        config: None,
        out: &out,
    })
    .unwrap();
    let x = std::fs::read_to_string(&o.files.junit).unwrap();
    let s: Value =
        serde_json::from_str(&std::fs::read_to_string(cand.join("sample-1/summary.json")).unwrap())
            .unwrap();
    let case = s["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "smoke/loop")
        .unwrap();
    let steps = case["steps"].as_array().unwrap();
    let total_ms: u64 = steps
        .iter()
        .map(|st| st["duration_ms"].as_u64().unwrap())
        .sum();
    let first_ms = steps
        .iter()
        .map(|st| st["started_ms"].as_u64().unwrap())
        .min()
        .unwrap();
    let seq_ms = steps.iter().find(|st| st["name"] == "seq-write").unwrap()["duration_ms"]
        .as_u64()
        .unwrap();
    let secs = |ms: u64| format!("{:.3}", ms as f64 / 1000.0);
    // The run started at 12:49:38; the case's first step `first_ms` later.
    assert_eq!(s["started_at"], "2026-11-23T12:49:38Z");
    let stamp = format!(
        "2026-11-23T12:49:{:06.3}+00:00",
        38.0 + first_ms as f64 / 1000.0
    );
    let suite = format!(
        "<testsuite name=\"smoke/loop\" tests=\"{}\"",
        o.report
            .rows
            .iter()
            .filter(|r| r.key.case == "smoke/loop")
            .count()
    );
    let at = x
        .find(&suite)
        .unwrap_or_else(|| panic!("no {suite:?} in:\n{x}"));
    let tag = &x[at..at + x[at..].find('>').unwrap()];
    assert!(tag.contains(&format!("timestamp=\"{stamp}\"")), "{tag}");
    assert!(
        tag.contains(&format!("time=\"{}\"", secs(total_ms))),
        "{tag}"
    );
    assert!(
        x.contains(&format!(
            "<testcase name=\"seq-write: workload.p99_ns\" classname=\"smoke/loop\" time=\"{}\"",
            secs(seq_ms)
        )),
        "{x}"
    );
    // The run-level suite: the run's wall time (finished_at − started_at).
    assert!(x.contains("<testsuite name=\"smoke\" tests=\"2\""));
    assert!(x.contains("timestamp=\"2026-11-23T12:49:38.000+00:00\" time=\"44.000\""));
}
