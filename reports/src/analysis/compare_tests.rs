//! compare's rules on the fixture runs (`tests/fixtures/`) and on hand-made samples.

use super::*;
use thinbench_schema::load::load_run;

fn smoke() -> LoadedRun {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/smoke");
    load_run(Path::new(dir)).unwrap()
}

/// `smoke` as another run: its own id and directory, nothing else changed.
fn rerun(id: &str) -> LoadedRun {
    let mut r = smoke();
    r.summary.run_id = id.into();
    r.dir = PathBuf::from(format!("/nonexistent/{id}"));
    r
}

fn step_mut<'a>(r: &'a mut LoadedRun, pool: &str, step: &str) -> &'a mut StepResultOf {
    r.summary
        .cases
        .iter_mut()
        .find(|c| c.pool.name == pool)
        .and_then(|c| c.steps.iter_mut().find(|s| s.name == step))
        .unwrap_or_else(|| panic!("no step {pool} {step}"))
}

type StepResultOf = thinbench_schema::record::StepResult;

fn id(case: &str, step: &str, name: &str) -> FigureId {
    FigureId {
        case: case.into(),
        step: step.into(),
        name: name.into(),
    }
}

fn find<'a>(c: &'a Comparison, fid: &FigureId) -> &'a ComparisonRow {
    c.rows
        .iter()
        .find(|r| &r.id == fid)
        .unwrap_or_else(|| panic!("no row {fid}"))
}

fn timing(better: Better) -> FigureRule {
    FigureRule::recorded(MetricKind::Timing, better)
}

fn reason(v: &Verdict) -> Option<&str> {
    match v {
        Verdict::Inconclusive { reason } => Some(reason),
        _ => None,
    }
}

#[test]
fn exact_figures_must_be_equal_whichever_way_they_moved() {
    let rule = FigureRule::recorded(MetricKind::Exact, Better::Lower);
    let v = |x: f64, y: f64| exact_verdict(&rule, &[x], &[y]);
    assert_eq!(v(1.0, 2.0), Verdict::Changed);
    assert_eq!(v(2.0, 1.0), Verdict::Changed);
    assert_eq!(v(64.0, 64.0), Verdict::Unchanged { note: None });
    // No noise band on exact figures.
    assert_eq!(v(100.0, 100.5), Verdict::Changed);
    let directional = FigureRule {
        exact_directional: true,
        ..rule.clone()
    };
    assert_eq!(
        exact_verdict(&directional, &[2.0], &[1.0]),
        Verdict::Improved
    );
    assert_eq!(
        exact_verdict(&directional, &[1.0], &[2.0]),
        Verdict::Regressed
    );
}

#[test]
fn exact_samples_that_disagree_within_a_side_are_inconclusive() {
    let rule = FigureRule::recorded(MetricKind::Exact, Better::Neither);
    let v = exact_verdict(&rule, &[366.0, 366.0], &[366.0, 339.0]);
    let why = reason(&v).unwrap_or_else(|| panic!("{v:?}"));
    assert!(why.starts_with("varies within B (366, 339)"), "{why}");
    assert_eq!(
        exact_verdict(&rule, &[5.0, 5.0], &[5.0, 5.0, 5.0]),
        Verdict::Unchanged { note: None }
    );
}

#[test]
fn one_timing_sample_each_is_never_improved_or_regressed() {
    let rule = timing(Better::Higher);
    for (x, y) in [(100.0, 300.0), (300.0, 100.0), (100.0, 103.0)] {
        let v = timing_verdict(&rule, &[x], &[y], None);
        assert_eq!(reason(&v), Some("one sample each"), "{x} -> {y}");
    }
    let v = timing_verdict(&rule, &[100.0], &[300.0, 310.0], None);
    assert_eq!(
        reason(&v),
        Some("too few samples (A 1, B 2; need 2 each)"),
        "{v:?}"
    );
}

#[test]
fn timings_with_samples_need_the_band_and_apart_samples() {
    let up = timing(Better::Higher);
    let down = timing(Better::Lower);
    let a = [100.0, 102.0, 98.0];
    let v = |rule: &FigureRule, b: &[f64]| timing_verdict(rule, &a, b, None);
    assert_eq!(v(&up, &[130.0, 125.0, 128.0]), Verdict::Improved);
    assert_eq!(v(&down, &[130.0, 125.0, 128.0]), Verdict::Regressed);
    assert_eq!(v(&up, &[80.0, 70.0, 75.0]), Verdict::Regressed);
    assert_eq!(
        v(&timing(Better::Neither), &[80.0, 70.0, 75.0]),
        Verdict::Changed
    );
    // Median +3 %: within the band.
    assert_eq!(
        v(&up, &[103.0, 101.0, 105.0]).note(),
        Some("within ±5% noise")
    );
    // Median +30 %, but one B sample below A's best: no verdict from so few samples.
    let overlap = v(&up, &[130.0, 101.0, 135.0]);
    assert_eq!(
        reason(&overlap),
        Some("samples overlap (A 98…102, B 101…135)"),
        "{overlap:?}"
    );
    let wide = FigureRule {
        noise_pct: 40.0,
        ..up.clone()
    };
    assert_eq!(
        v(&wide, &[130.0, 125.0, 128.0]).note(),
        Some("within ±40% noise")
    );
    let floored = FigureRule { floor: 30.0, ..up };
    assert_eq!(
        v(&floored, &[130.0, 125.0, 128.0]).note(),
        Some("under the floor")
    );
    let zero = timing_verdict(&down, &[0.0, 0.0], &[5.0, 6.0], None);
    assert!(
        reason(&zero).is_some_and(|r| r.starts_with("zero in A")),
        "{zero:?}"
    );
    let blocked = timing_verdict(&down, &a, &[500.0, 600.0, 700.0], Some("kernels differ"));
    assert_eq!(reason(&blocked), Some("kernels differ"));
}

#[test]
fn figure_ids_are_the_gates_names() {
    let names: BTreeSet<String> = figure_addresses(&[smoke()])
        .into_iter()
        .filter(|f| f.id.case == "smoke/loop" && f.id.step == "random-write")
        .map(|f| {
            assert_eq!(f.action, "small-write");
            f.id.name
        })
        .collect();
    for n in [
        "workload.iops",
        "workload.mb_per_s",
        "workload.p50_ns",
        "workload.p99_ns",
        "workload.errors",
        "workload.bytes",
        "workload.distinct_chunks_touched",
        "data_blocks_allocated",
    ] {
        assert!(names.contains(n), "no {n} in {names:?}");
    }
}

#[test]
fn a_changed_exact_figure_fails_and_is_named() {
    let a = rerun("a");
    let mut b = rerun("b");
    let s = step_mut(&mut b, "loop", "random-write");
    let blocks = s.data_blocks_allocated.unwrap();
    s.data_blocks_allocated = Some(blocks + 1);
    let c = compare(&a, &b);
    let failed: Vec<&FigureId> = c.failures().map(|r| &r.id).collect();
    let blocks_id = id("smoke/loop", "random-write", "data_blocks_allocated");
    assert_eq!(failed, [&blocks_id]);
    let r = find(&c, &blocks_id);
    assert_eq!((r.a, r.b), (Some(blocks as f64), Some(blocks as f64 + 1.0)));
    assert!(c.same_runs.is_empty(), "{:?}", c.same_runs);
    assert_eq!(c.timings_not_comparable, None);

    // Declared varying: compared as a timing, and one sample each cannot say.
    let mut rules = CompareRules::default();
    let mut varying = FigureRule::recorded(MetricKind::Exact, Better::Neither);
    varying.treatment = Treatment::Varying;
    rules.figures.insert(blocks_id.clone(), varying);
    let c = compare_sets(std::slice::from_ref(&a), std::slice::from_ref(&b), &rules).unwrap();
    assert_eq!(c.failures().count(), 0);
    let r = find(&c, &blocks_id);
    assert_eq!(r.metric_kind, MetricKind::Timing);
    assert_eq!(reason(&r.verdict), Some("one sample each"));

    // Ignored: left out and counted.
    let mut ignore = FigureRule::recorded(MetricKind::Exact, Better::Neither);
    ignore.treatment = Treatment::Ignore;
    rules.figures.insert(blocks_id.clone(), ignore);
    let c = compare_sets(&[a], &[b], &rules).unwrap();
    assert_eq!((c.ignored, c.failures().count()), (1, 0));
    assert!(c.rows.iter().all(|r| r.id != blocks_id));
}

#[test]
fn missing_fails_unless_ignored() {
    let a = rerun("a");
    let mut b = rerun("b");
    b.summary.cases[0].steps.retain(|s| s.name != "snap");
    let c = compare(&a, &b);
    assert!(c.count(VerdictKind::Missing) > 0);
    assert_eq!(c.failures().count(), c.count(VerdictKind::Missing));
    let rules = CompareRules {
        missing_ignored: true,
        ..CompareRules::default()
    };
    let c = compare_sets(&[a], &[b], &rules).unwrap();
    assert!(c.count(VerdictKind::Missing) > 0);
    assert_eq!(c.failures().count(), 0);
}

#[test]
fn the_same_run_on_both_sides_is_said() {
    let c = compare(&smoke(), &smoke());
    assert_eq!(c.same_runs, ["run 20261123T124914-44da is on both sides"]);
    assert_eq!(c.failures().count(), 0);
    // Another id, the same directory.
    let mut b = smoke();
    b.summary.run_id = "other".into();
    let c = compare(&smoke(), &b);
    assert_eq!(c.same_runs.len(), 1);
    assert!(
        c.same_runs[0].ends_with("fixtures/smoke is on both sides"),
        "{:?}",
        c.same_runs
    );
    assert!(compare(&rerun("a"), &rerun("b")).same_runs.is_empty());
}

#[test]
fn other_kernels_give_no_timing_verdict_but_exact_figures_count() {
    let a: Vec<LoadedRun> = ["a1", "a2", "a3"].map(rerun).into();
    let mut b: Vec<LoadedRun> = ["b1", "b2", "b3"].map(rerun).into();
    for r in &mut b {
        r.summary.environment.kernel = "6.12.0".into();
        let w = step_mut(r, "loop", "seq-write").workload.as_mut().unwrap();
        w.iops /= 2.0;
        let s = step_mut(r, "loop", "random-write");
        s.data_blocks_allocated = s.data_blocks_allocated.map(|n| n + 3);
    }
    let c = compare_sets(&a, &b, &CompareRules::default()).unwrap();
    let why = "kernels differ: 6.1.0-56-amd64 vs 6.12.0";
    assert_eq!(c.timings_not_comparable.as_deref(), Some(why));
    let timings: Vec<&ComparisonRow> = c
        .rows
        .iter()
        .filter(|r| r.metric_kind == MetricKind::Timing)
        .collect();
    assert!(!timings.is_empty());
    for r in timings {
        assert_eq!(reason(&r.verdict), Some(why), "{}", r.id);
    }
    let blocks = find(
        &c,
        &id("smoke/loop", "random-write", "data_blocks_allocated"),
    );
    assert_eq!(blocks.verdict, Verdict::Changed);
    assert_eq!((blocks.a_n, blocks.b_n), (3, 3));
    assert_eq!(c.environment_differences.len(), 1);
    assert_eq!(c.environment_differences[0].field, "kernel");
}

#[test]
fn sample_sets_judge_timings_by_their_medians() {
    let a: Vec<LoadedRun> = ["a1", "a2", "a3"].map(rerun).into();
    let mut b: Vec<LoadedRun> = ["b1", "b2", "b3"].map(rerun).into();
    for (k, r) in b.iter_mut().enumerate() {
        let w = step_mut(r, "loop", "seq-write").workload.as_mut().unwrap();
        w.iops *= 0.5 + 0.01 * k as f64;
    }
    let c = compare_sets(&a, &b, &CompareRules::default()).unwrap();
    assert_eq!((c.a_runs.len(), c.b_runs.len()), (3, 3));
    let iops = find(&c, &id("smoke/loop", "seq-write", "workload.iops"));
    assert_eq!(iops.verdict, Verdict::Regressed);
    assert_eq!((iops.a_n, iops.b_n), (3, 3));
    let change = iops.change_pct.unwrap();
    assert!((change + 49.0).abs() < 1e-9, "{change}");
    let failed: Vec<String> = c.failures().map(|r| r.id.to_string()).collect();
    assert_eq!(failed, ["smoke/loop / seq-write / workload.iops"]);
    // Equal timings in every sample: unchanged.
    let mb = find(&c, &id("smoke/loop", "seq-write", "workload.mb_per_s"));
    assert_eq!(mb.verdict, Verdict::Unchanged { note: None });
}
