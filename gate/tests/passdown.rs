//! The gate on the IO counters of two real runs (gate/tests/fixtures/passdown, recorded in
//! the VM; see its README): one loop-lvm pool, a thin's files deleted and the thin
//! discarded whole (Docker's delete), once with the pool's discard passdown on, once off.
//! Passdown off stops the discards reaching the data device — `io.data.discards` 4 → 0 —
//! and the gate fails on it, with one sample a side and no statistics.

mod common;

use std::path::{Path, PathBuf};

use common::write_run;
use serde_json::Value;
use thinbench_gate::config::GateConfig;
use thinbench_gate::verdict::{Outcome, Verdict};
use thinbench_gate::{compare, load_sample_set, GateReport, Overall};

const CASE: &str = "passdown/loop";
const STEP: &str = "rm-blkdiscard";

fn fixture(side: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/passdown")
        .join(side)
        .join("summary.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn gate(base: &Path, cand: &Path) -> GateReport {
    let b = load_sample_set(&[base.to_path_buf()]).unwrap();
    let c = load_sample_set(&[cand.to_path_buf()]).unwrap();
    compare(&b, &c, &GateConfig::default()).unwrap()
}

fn metric<'v>(s: &'v mut Value, name: &str) -> &'v mut Value {
    let steps = s["cases"][0]["steps"].as_array_mut().unwrap();
    let st = steps.iter_mut().find(|x| x["name"] == STEP).unwrap();
    let m = st["metrics"].as_array_mut().unwrap();
    let m = m.iter_mut().find(|x| x["name"] == name).unwrap();
    &mut m["value"]
}

fn failing(r: &GateReport) -> Vec<String> {
    r.with_outcome(Outcome::Fail)
        .filter(|x| x.key.step.as_deref() == Some(STEP))
        .map(|x| x.key.figure.clone())
        .collect()
}

fn runs(t: &Path, on: &Value, off: &Value) -> (PathBuf, PathBuf) {
    (write_run(t, "on", on), write_run(t, "off", off))
}

#[test]
fn the_fixtures_are_what_they_say() {
    let (mut on, mut off) = (fixture("on"), fixture("off"));
    for (s, passdown, discards) in [(&mut on, true, true), (&mut off, false, false)] {
        assert_eq!(s["scenario"]["name"], "passdown");
        assert_eq!(s["cases"][0]["id"], CASE);
        assert_eq!(
            s["cases"][0]["pool"]["settings"]["discard_passdown"],
            passdown
        );
        let d = metric(s, "io.data.discards").as_f64().unwrap();
        assert_eq!(d > 0.0, discards, "io.data.discards {d}");
    }
}

#[test]
fn a_run_against_itself_passes_on_the_io_counters() {
    let t = tempfile::tempdir().unwrap();
    let on = fixture("on");
    let a = write_run(t.path(), "a", &on);
    let mut again = on.clone();
    again["run_id"] = "20261202T000000-bbbb".into();
    let b = write_run(t.path(), "b", &again);
    let r = gate(&a, &b);
    assert!(failing(&r).is_empty(), "{:?}", failing(&r));
    assert_ne!(r.verdict, Overall::Regression);
}

#[test]
fn discard_passdown_turned_off_fails_the_gate_on_io_data_discards() {
    let t = tempfile::tempdir().unwrap();
    let (on, off) = (fixture("on"), fixture("off"));
    let (a, b) = runs(t.path(), &on, &off);
    let r = gate(&a, &b);
    // Overall::Regression is the gate's exit 1.
    assert_eq!(r.verdict, Overall::Regression);
    let f = failing(&r);
    for n in ["io.data.discards", "io.data.discard_bytes"] {
        assert!(f.iter().any(|x| x == n), "{n} not failing: {f:?}");
    }
    let row = r
        .rows
        .iter()
        .find(|x| {
            x.key.case == CASE
                && x.key.step.as_deref() == Some(STEP)
                && x.key.figure == "io.data.discards"
        })
        .unwrap();
    assert_eq!(row.verdict, Verdict::Changed);
    assert_eq!(row.candidate.as_ref().unwrap().display(), "0");
    assert!(row.baseline.as_ref().unwrap().median.unwrap() > 0.0);
}

/// The counters alone decide it: the passdown-on run with only its two discard figures
/// taken from the passdown-off run (the setting and the space figures left as they were)
/// still fails, on exactly those two.
#[test]
fn the_discard_counter_alone_fails_the_gate() {
    let t = tempfile::tempdir().unwrap();
    let (on, mut off) = (fixture("on"), fixture("off"));
    let mut cand = on.clone();
    cand["run_id"] = "20261202T000000-cccc".into();
    for n in ["io.data.discards", "io.data.discard_bytes"] {
        *metric(&mut cand, n) = metric(&mut off, n).clone();
    }
    let (a, b) = runs(t.path(), &on, &cand);
    let r = gate(&a, &b);
    assert_eq!(r.verdict, Overall::Regression);
    let mut f = failing(&r);
    f.sort();
    assert_eq!(f, ["io.data.discard_bytes", "io.data.discards"]);
}
