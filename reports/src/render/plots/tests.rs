//! Plots checked as drawn: every text label of every plot of the report fixtures and of
//! a synthetic run built to be hard (many steps close together, long names, close
//! values, text-only checks, a fill that holds IO and recovers, a hole in the
//! readings) is drawn through the label ledger, and no two labels' boxes may meet, nor
//! leave the canvas. Then what each plot says: one model slot per step with a block
//! count, returned blocks below zero, percentiles at their nines, every decade
//! labelled, held IO marked, every step labelled, legends only for what is drawn.

use super::text::{ensure_font, Rect};
use super::{draw, PlacedLabel};
use crate::model::{build_model, ReportModel};
use crate::render::document::Figure;
use crate::render::layout;
use crate::render::plot_spec::{BandKind, PlotSpec};
use plotters::prelude::*;
use std::path::Path;
use thinbench_schema::load::LoadedRun;
use thinbench_schema::record::{
    EventKind, ExpectationResult, PoolMode, PoolSample, RunEvent, Status, StepResult,
};

fn fixture(name: &str) -> LoadedRun {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    crate::load_run(&dir).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The figures of the report of `runs`.
fn figures(runs: &[LoadedRun]) -> Vec<Figure> {
    let m = build_model(runs);
    layout::report(&m).figures().cloned().collect()
}

/// `spec` drawn as SVG: its labels and its canvas.
fn drawn(spec: &PlotSpec) -> (Vec<PlacedLabel>, Rect) {
    ensure_font().unwrap();
    let (w, h) = spec.size();
    let mut svg = String::new();
    let labels = {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        let l = draw(&root, spec).unwrap();
        root.present().unwrap();
        l
    };
    assert!(svg.contains("<svg"), "no svg drawn");
    (labels, Rect::new(0, 0, w as i32, h as i32))
}

/// Every pair of labels whose boxes meet.
fn overlaps(labels: &[PlacedLabel]) -> Vec<String> {
    let mut out = Vec::new();
    for (i, a) in labels.iter().enumerate() {
        for b in &labels[i + 1..] {
            if a.rect.intersects(&b.rect) {
                out.push(format!(
                    "{:?} {:?} × {:?} {:?}",
                    a.text, a.rect, b.text, b.rect
                ));
            }
        }
    }
    out
}

fn assert_readable(figs: &[Figure]) {
    assert!(!figs.is_empty());
    for f in figs {
        let (labels, canvas) = drawn(&f.plot);
        assert!(labels.len() > 5, "{}: only {} labels", f.id, labels.len());
        let o = overlaps(&labels);
        assert!(o.is_empty(), "{}: labels overlap:\n{}", f.id, o.join("\n"));
        for l in &labels {
            assert!(
                canvas.contains(&l.rect),
                "{}: {:?} leaves the canvas {:?}",
                f.id,
                l,
                canvas
            );
        }
    }
}

#[test]
fn the_overlap_check_sees_an_overlap() {
    let l = |text: &str, x0, y0| PlacedLabel {
        text: text.into(),
        rect: Rect::new(x0, y0, x0 + 30, y0 + 12),
    };
    assert_eq!(overlaps(&[l("479", 100, 10), l("479", 120, 12)]).len(), 1);
    assert!(overlaps(&[l("479", 100, 10), l("479", 131, 10)]).is_empty());
    assert!(overlaps(&[l("a", 100, 10), l("b", 100, 23)]).is_empty());
}

#[test]
fn fixture_plots_have_no_overlapping_labels() {
    for name in ["smoke", "smoke-kvm", "docker-lifecycle"] {
        assert_readable(&figures(&[fixture(name)]));
    }
    // Two runs in one report: labels carry run ids, pools double.
    assert_readable(&figures(&[fixture("smoke"), fixture("smoke-kvm")]));
}

#[test]
fn synthetic_plots_have_no_overlapping_labels() {
    assert_readable(&figures(&[synthetic()]));
}

fn figure<'a>(figs: &'a [Figure], id: &str) -> &'a Figure {
    figs.iter().find(|f| f.id == id).unwrap_or_else(|| {
        panic!(
            "no figure {id} in {:?}",
            figs.iter().map(|f| &f.id).collect::<Vec<_>>()
        )
    })
}

#[test]
fn model_plot_has_a_slot_per_counted_step_and_returns_below_zero() {
    let run = synthetic();
    let m = build_model(std::slice::from_ref(&run));
    let figs: Vec<Figure> = layout::report(&m).figures().cloned().collect();
    let PlotSpec::Ledger(b) = &figure(&figs, "model-vs-kernel").plot else {
        panic!("model-vs-kernel is not a ledger plot");
    };
    let loop_panel = &b.panels[0];
    // Steps with a check that counts blocks, each once; the step with only a thin_ls
    // check has none.
    let mut counted: Vec<String> = Vec::new();
    for c in m.model_checks.iter().filter(|c| c.pool == 0) {
        let cat = format!("#{} {}", c.step_index, c.step);
        if (c.expected_blocks.is_some() || c.observed_blocks.is_some()) && !counted.contains(&cat) {
            counted.push(cat);
        }
    }
    assert_eq!(loop_panel.categories, counted);
    assert!(!loop_panel
        .categories
        .iter()
        .any(|c| c.contains("text-only")));
    assert!(m.model_checks.iter().any(|c| c.step.contains("text-only")));
    // The blocks blkdiscard gave back: below zero, in the freed series, not allocated.
    let slot = loop_panel
        .categories
        .iter()
        .position(|c| c.ends_with("discard-all"))
        .unwrap();
    let value = |label: &str| {
        loop_panel
            .series
            .iter()
            .find(|s| s.label.starts_with(label))
            .and_then(|s| s.values[slot])
    };
    assert_eq!(value("kernel: freed"), Some(-1291.0));
    assert_eq!(value("model: freed"), Some(-1291.0));
    assert_eq!(value("kernel: allocated"), Some(0.0));
    // Drawn: the returned count is written as a count, and nothing is written negative.
    let (labels, _) = drawn(&figure(&figs, "model-vs-kernel").plot);
    assert!(labels.iter().any(|l| l.text == "1291"), "{labels:?}");
    assert!(
        !labels
            .iter()
            .any(|l| l.text.parse::<f64>().is_ok_and(|v| v < 0.0)),
        "{labels:?}"
    );
    // Legend: no freed entry for the direct-lvm pool, which has no such check.
    assert!(!labels.iter().any(|l| l.text == "kernel: freed, direct-lvm"));
    assert!(labels.iter().any(|l| l.text == "kernel: freed, loop-lvm"));
}

#[test]
fn latency_is_drawn_on_nines_with_every_decade_and_held_io_marked() {
    let figs = figures(&[synthetic()]);
    let f = figure(&figs, "latency-fill");
    let PlotSpec::Latency(l) = &f.plot else {
        panic!("latency-fill is not a latency plot");
    };
    // Both pools ran the same IO: one plot.
    assert_eq!(l.series.len(), 2);
    let s = &l.series[0];
    let xs: Vec<f64> = s.points.iter().map(|p| p.nines).collect();
    assert!((xs[0] + (1.0f64 - 0.5).log10()).abs() < 1e-12, "{xs:?}");
    assert_eq!(&xs[1..4], &[1.0, 2.0, 3.0]);
    let count = 70_000f64;
    assert!((xs[4] - count.log10()).abs() < 1e-9, "{xs:?}");
    // The fill's maximum is held IO, and only the maximum.
    assert!(s.points.iter().all(|p| p.held == p.max));
    assert!(l.held_note.as_deref().unwrap().contains("fill"));

    let (labels, _) = drawn(&f.plot);
    let texts: Vec<&str> = labels.iter().map(|l| l.text.as_str()).collect();
    // 0.9 ms .. 2.8 s: every decade from 100 µs to 10 s labelled.
    for d in ["100 µs", "1 ms", "10 ms", "100 ms", "1 s", "10 s"] {
        assert!(texts.contains(&d), "decade {d} missing from {texts:?}");
    }
    for p in ["p50", "p90", "p99", "p99.9", "p99.99"] {
        assert!(texts.contains(&p), "{p} missing from {texts:?}");
    }
    assert!(texts.contains(&"held IO"), "{texts:?}");
    assert!(
        texts.iter().any(|t| t.starts_with("max includes IO held")),
        "{texts:?}"
    );

    // A workload without held IO has no ring and no held legend.
    let seq = figure(&figs, "latency-seq-write");
    let (labels, _) = drawn(&seq.plot);
    assert!(
        !labels.iter().any(|l| l.text.contains("held")),
        "{labels:?}"
    );
}

#[test]
fn usage_plot_labels_every_step_and_shows_the_fill_as_sampled() {
    let figs = figures(&[synthetic()]);
    let f = figure(&figs, "usage-loop-lvm");
    let PlotSpec::Timeline(t) = &f.plot else {
        panic!("usage-loop-lvm is not a timeline");
    };
    let (labels, _) = drawn(&f.plot);
    for s in &t.steps {
        let full = s.full();
        let short = s.short();
        assert!(
            labels.iter().any(|l| l.text == full || l.text == short),
            "step {full} unlabelled"
        );
    }
    // The fill: its hold at 100% is shaded as IO held, and the line keeps every reading
    // of its climb, hold and recovery.
    let held: Vec<_> = t
        .bands
        .iter()
        .filter(|b| b.kind == BandKind::Held)
        .collect();
    assert_eq!(held.len(), 1, "{:?}", t.bands);
    let m = build_model(&[synthetic()]);
    let fill = m.pools[0]
        .timeline
        .steps
        .iter()
        .find(|s| s.name == "fill")
        .unwrap();
    let hold_start = (fill.start_ms + 5000) as f64 / 1000.0;
    assert!((held[0].from - hold_start).abs() < 1e-9, "{held:?}");
    assert!((held[0].to - (hold_start + 2.5)).abs() < 1e-9, "{held:?}");
    let data = &t.lines[0];
    let readings: usize = data.segments.iter().map(Vec::len).sum();
    assert_eq!(readings, m.pools[0].timeline.points.len());
    // The hole in the readings breaks the line and is shaded.
    assert_eq!(data.segments.len(), 2);
    assert!(t
        .bands
        .iter()
        .any(|b| b.kind == BandKind::Down && b.label == "no samples"));
    assert!(labels.iter().any(|l| l.text == "IO held"), "{labels:?}");
    assert!(
        labels
            .iter()
            .any(|l| l.text.contains("→ out_of_data_space")),
        "{labels:?}"
    );
}

#[test]
fn legends_list_only_what_is_drawn() {
    let figs = figures(&[fixture("docker-lifecycle")]);
    let PlotSpec::Ledger(b) = &figure(&figs, "model-vs-kernel").plot else {
        panic!("not a ledger");
    };
    // The fixture has no freed checks: those series exist, empty, and get no entry.
    assert!(b.panels[0]
        .series
        .iter()
        .any(|s| s.label.starts_with("model: freed")));
    let (labels, _) = drawn(&figure(&figs, "model-vs-kernel").plot);
    assert!(
        !labels.iter().any(|l| l.text.contains("freed")),
        "{labels:?}"
    );
    assert!(labels
        .iter()
        .any(|l| l.text == "kernel: allocated, loop-lvm"));
}

// ---- the synthetic run -------------------------------------------------------------

fn expectation(what: &str, expected: &str, observed: &str) -> ExpectationResult {
    let status = if expected == observed {
        Status::Passed
    } else {
        Status::Failed
    };
    ExpectationResult {
        what: what.into(),
        expected: expected.into(),
        observed: observed.into(),
        status,
        message: None,
    }
}

/// docker-lifecycle with its loop-lvm case rewritten: 26 steps, several starting within
/// milliseconds of each other and with long names; close allocation figures (479 and
/// 478); a thin_ls check on every step and one step with nothing else; blkdiscard's
/// freed blocks; a fill of 70,000 IOs whose 2.8 s maximum was held, at 100% for 2.5 s
/// under queue_if_no_space before a delete recovers it; 3 s without readings.
fn synthetic() -> LoadedRun {
    let mut run = fixture("docker-lifecycle");
    let case = &mut run.summary.cases[0];
    let pool = case.pool.name.clone();
    let template = case.steps[1].clone();
    let fill_template = case.steps[6].clone();
    let total = 4096u64;
    let mut steps: Vec<StepResult> = Vec::new();
    let mut t = 1000u64;
    let names = [
        "base-device",
        "seq-write",
        "random-write",
        "layer",
        "remove-layer",
        "image-layer-with-a-rather-long-descriptive-name",
        "container-fs",
        "text-only",
        "discard-all",
    ];
    for i in 0..26usize {
        let mut s = if i == 20 {
            fill_template.clone()
        } else {
            template.clone()
        };
        s.index = i;
        s.name = match names.get(i) {
            Some(n) => (*n).to_owned(),
            None if i == 20 => "fill".to_owned(),
            None => format!("extra-step-{i}"),
        };
        s.action = match s.name.as_str() {
            "discard-all" => "delete".into(),
            "text-only" => "snapshot".into(),
            _ if i == 20 => "fill".into(),
            _ => "small-write".into(),
        };
        s.started_ms = t;
        // Clusters of quick steps, then longer ones.
        s.duration_ms = match i {
            3..=7 => 15,
            20 => 9_000,
            _ => 700,
        };
        t += s.duration_ms + 10;
        // A few workload steps: enough for shared and single-pool latency plots.
        if !matches!(i, 1 | 2 | 5 | 20) {
            s.workload = None;
        }
        s.expectations = match s.name.as_str() {
            "text-only" => vec![expectation(
                "thin_ls agrees with the model",
                "per-thin blocks",
                "per-thin blocks",
            )],
            "discard-all" => vec![
                expectation("data blocks allocated == model", "0", "0"),
                expectation(
                    "blkdiscard + delete: data blocks freed == model (predicted)",
                    "1291",
                    "1291",
                ),
                expectation("thin_ls agrees with the model", "5 thins", "5 thins"),
            ],
            _ => vec![
                expectation(
                    "data blocks allocated == model",
                    if i % 3 == 0 { "479" } else { "478" },
                    "479",
                ),
                expectation(
                    "thin_ls agrees with the model",
                    "per-thin blocks",
                    "per-thin blocks",
                ),
            ],
        };
        steps.push(s);
    }
    // The fill: 70,000 IOs, 0.9 ms median, its slowest 2.8 s.
    let fill = &mut steps[20];
    let w = fill.workload.as_mut().unwrap();
    w.ops = 70_000;
    w.bytes = thinbench_schema::units::Bytes(70_000 * 65_536);
    w.latency.count = 70_000;
    w.latency.p50_ns = 900_000;
    w.latency.p90_ns = 2_000_000;
    w.latency.p99_ns = 9_000_000;
    w.latency.p999_ns = 60_000_000;
    w.latency.max_ns = 2_800_000_000;
    // Readings fall on multiples of 250 ms: so do the fill's start and its hold.
    fill.started_ms = fill.started_ms.div_ceil(250) * 250;
    let fill_start = fill.started_ms;
    for u in [fill.pool_before.as_mut(), fill.pool_after.as_mut()]
        .into_iter()
        .flatten()
    {
        u.error_if_no_space = Some(false);
    }
    // The other pool's fill ran the same IO, so the two share a latency plot.
    let other = &mut run.summary.cases[1].steps[6];
    if let Some(w) = other.workload.as_mut() {
        w.ops = 20_000;
        w.bytes = thinbench_schema::units::Bytes(20_000 * 65_536);
        w.latency.count = 20_000;
    }
    let case = &mut run.summary.cases[0];
    case.steps = steps;
    case.timeline.clear();

    // Readings every 250 ms: small steps, 3 s without any, then the fill climbing to
    // 100% in 5 s, held there 2.5 s out of data space, and recovered to 60% by a delete.
    let end = t;
    let (hold_start, hold_end) = (fill_start + 5000, fill_start + 7500);
    let mut samples: Vec<PoolSample> = run
        .samples
        .iter()
        .filter(|s| s.pool != pool)
        .cloned()
        .collect();
    let mut k = 1000u64;
    while k <= end {
        let in_gap = (8_000..11_000).contains(&k);
        if !in_gap {
            let (used, mode) = if k < fill_start {
                (40 + k / 100, "rw")
            } else if k < hold_start {
                let f = (k - fill_start) as f64 / (hold_start - fill_start) as f64;
                ((f * total as f64) as u64, "rw")
            } else if k < hold_end {
                (total, "out_of_data_space")
            } else {
                (total * 6 / 10, "rw")
            };
            let step = case
                .steps
                .iter()
                .find(|s| (s.started_ms..s.started_ms + s.duration_ms).contains(&k))
                .map(|s| s.index);
            samples.push(PoolSample {
                t_ms: k,
                pool: pool.clone(),
                step,
                reason: "periodic".into(),
                data_used: used.min(total),
                data_total: total,
                meta_used: 300,
                meta_total: 16_384,
                mode: mode.into(),
                needs_check: false,
                no_space: "queue".into(),
            });
        }
        k += 250;
    }
    samples.sort_by_key(|s| s.t_ms);
    run.samples = samples;
    // Events: the fixture's for the other pool, and this pool's mode changes and low
    // water mark at their times.
    let other_start = run.summary.cases[1].steps[0].started_ms;
    let mut events: Vec<RunEvent> = run
        .events
        .iter()
        .filter(|e| e.t_ms >= other_start.saturating_sub(400))
        .cloned()
        .collect();
    let ev = |t_ms, kind| RunEvent { t_ms, kind };
    events.extend([
        ev(
            hold_start - 800,
            EventKind::KernelLog {
                line: "device-mapper: thin: 253:0: reached low water mark for data device: sending event.".into(),
                at_ms: Some(hold_start - 800),
                step: Some(20),
            },
        ),
        ev(hold_start, EventKind::ModeChange { pool: pool.clone(), from: PoolMode::Rw, to: PoolMode::OutOfDataSpace }),
        ev(hold_end, EventKind::ModeChange { pool: pool.clone(), from: PoolMode::OutOfDataSpace, to: PoolMode::Rw }),
    ]);
    events.sort_by_key(|e| e.t_ms);
    run.events = events;
    run
}

/// The model of the synthetic run is what the tests above assume.
#[test]
fn the_synthetic_run_is_as_described() {
    let m: ReportModel = build_model(&[synthetic()]);
    let p = &m.pools[0];
    assert_eq!(p.timeline.steps.len(), 26);
    assert!(p
        .timeline
        .points
        .iter()
        .any(|x| x.mode == "out_of_data_space"));
    assert!(m.model_checks.iter().filter(|c| c.pool == 0).count() > 50);
    let fill = m.workloads.iter().find(|g| g.step == "fill").unwrap();
    assert_eq!(fill.entries.len(), 2);
}

/// The synthetic run's plots as PNG, kept under `target/report-artifacts/plots/` for a
/// person to look at; each a plausible image of the size its spec asks for.
#[test]
fn synthetic_plots_render_as_png() {
    use super::{Plotter, PngPlotter};
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("report-artifacts/plots");
    std::fs::create_dir_all(&dir).unwrap();
    for f in figures(&[synthetic()]) {
        let path = PngPlotter { dir: &dir }.plot(&f).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.starts_with(b"\x89PNG"), "{}", path.display());
        // The IHDR chunk: width and height, big-endian, after the 16-byte header.
        let be =
            |o: usize| u32::from_be_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]);
        assert_eq!((be(16), be(20)), f.plot.size(), "{}", path.display());
    }
}
