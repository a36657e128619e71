//! Sample sets made from the report fixtures (real runs from this project's VM): copies
//! of one run with fresh run ids, optionally changed, written to a temporary directory.

#![allow(dead_code)] // each test binary uses its own part

use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use serde_json::Value;

/// A fixture run's `summary.json` as JSON, as if measured on the instruction clock: the
/// fixtures are TCG runs, and the gate judges TCG timings only on that clock (on the wall
/// clock it shows them, not gated: [`fixture_on_wall_clock`]).
pub fn fixture(name: &str) -> Value {
    let mut s = fixture_on_wall_clock(name);
    s["environment"]["clock"] = "instructions".into();
    s["environment"]["icount_shift"] = 4.into();
    s
}

/// A fixture run's `summary.json` as recorded: TCG, wall clock.
pub fn fixture_on_wall_clock(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../reports/tests/fixtures")
        .join(name)
        .join("summary.json");
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

/// Write `summary` as run `dir/<name>` (with `summary.json` only) and return its path.
pub fn write_run(dir: &Path, name: &str, summary: &Value) -> PathBuf {
    let d = dir.join(name);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(
        d.join("summary.json"),
        serde_json::to_string_pretty(summary).unwrap(),
    )
    .unwrap();
    d
}

/// `n` samples of `base` under `dir/sample-1..n`, each with its own run id; `change`
/// edits sample k (0-based) before it is written.
pub fn samples(
    dir: &Path,
    base: &Value,
    n: usize,
    tag: &str,
    mut change: impl FnMut(usize, &mut Value),
) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    for k in 0..n {
        let mut s = base.clone();
        s["run_id"] = Value::String(format!("20260101T0000{k:02}-{tag}"));
        change(k, &mut s);
        write_run(dir, &format!("sample-{}", k + 1), &s);
    }
    dir.to_path_buf()
}

/// Every step of every case, mutable.
pub fn steps(s: &mut Value) -> impl Iterator<Item = &mut Value> {
    s["cases"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .flat_map(|c| c["steps"].as_array_mut().unwrap().iter_mut())
}

/// The step `step` of case `case`.
pub fn step<'a>(s: &'a mut Value, case: &str, step: &str) -> &'a mut Value {
    s["cases"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["id"] == case)
        .unwrap_or_else(|| panic!("no case {case}"))["steps"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|st| st["name"] == step)
        .unwrap_or_else(|| panic!("no step {step}"))
}

/// Multiply every workload timing (latencies, and divide IOPS and MB/s) by a factor drawn
/// around `scale` with a log-normal spread of `cov`: a run of the same build that is
/// `scale` times slower, with realistic noise.
pub fn jitter_timings(s: &mut Value, rng: &mut Pcg64, scale: f64, cov: f64) {
    let sigma = (1.0 + cov * cov).ln().sqrt();
    for st in steps(s) {
        let Some(w) = st.get_mut("workload").filter(|w| w.is_object()) else {
            continue;
        };
        let f = scale * (sigma * normal(rng)).exp();
        for k in ["p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns", "min_ns"] {
            let v = w["latency"][k].as_f64().unwrap();
            w["latency"][k] = Value::from((v * f).round() as u64);
        }
        for k in ["iops", "mb_per_s"] {
            let v = w[k].as_f64().unwrap();
            w[k] = Value::from(v / f);
        }
    }
}

/// A standard normal draw (Box-Muller).
pub fn normal(rng: &mut Pcg64) -> f64 {
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A seeded generator.
pub fn rng(seed: u64) -> Pcg64 {
    Pcg64::seed_from_u64(seed)
}
