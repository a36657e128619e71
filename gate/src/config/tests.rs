//! Config parsing and resolution: what a good file gives, and the exact positioned
//! errors of bad ones.

use std::path::Path;
use std::time::Duration;

use thinbench_schema::record::{Better, MetricKind};

use super::*;
use crate::figures::{FigureClass, FigureKey, FigureMeta};

fn ok(text: &str) -> GateConfig {
    parse_config(Path::new("gate.toml"), text).unwrap_or_else(|e| panic!("{e}"))
}

fn errs(text: &str) -> String {
    match parse_config(Path::new("gate.toml"), text) {
        Ok(c) => panic!("should fail: {c:#?}"),
        Err(e) => e.to_string(),
    }
}

fn key(case: &str, step: Option<&str>, figure: &str) -> FigureKey {
    FigureKey {
        case: case.into(),
        step: step.map(Into::into),
        figure: figure.into(),
    }
}

fn timing(unit: &str, action: Option<&str>) -> FigureMeta {
    FigureMeta {
        action: action.map(Into::into),
        unit: unit.into(),
        kind: MetricKind::Timing,
        better: Better::Lower,
        class: FigureClass::Metric,
    }
}

#[test]
fn shipped_config_parses() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ci/gate.toml");
    let cfg = load_config(&p).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cfg.defaults.min_samples, 5);
    assert!(!cfg.rules.is_empty());
}

#[test]
fn defaults_and_rules() {
    let cfg = ok(r#"
format = 1

[defaults]
min_samples = 6
noise = "3%"
floor = 0
exact = "changed"

[[rule]]
figure = "workload.p99_ns"
noise = "10%"
floor = "50us"

[[rule]]
action = "fill"
figure = "data_blocks_allocated"
kind = "timing"

[[rule]]
case = "smoke/*"
figure = "workload.*"
better = "higher"
"#);
    assert_eq!(cfg.defaults.min_samples, 6);
    assert_eq!(cfg.defaults.noise, Ratio(0.03));
    assert_eq!((cfg.rules[0].line, cfg.rules[0].col), (10, 1));
    assert_eq!(
        cfg.rules[0].set.floor,
        Some(Floor::Duration(Duration::from_micros(50)))
    );

    // p99 of a smoke case: rules 1 and 3 apply, in order.
    let r = cfg
        .resolve(
            &key("smoke/loop", Some("seq"), "workload.p99_ns"),
            &timing("ns", Some("small-write")),
            "wall",
        )
        .unwrap();
    assert_eq!(r.timing.noise, 0.10);
    assert_eq!(r.timing.floor, 50_000.0);
    assert_eq!(r.better, Better::Higher);
    assert_eq!(r.rules, vec!["10:1", "20:1"]);
    assert_eq!(r.timing.min_samples, 6);

    // An exact figure of a fill step becomes statistical.
    let exact = FigureMeta {
        kind: MetricKind::Exact,
        better: Better::Neither,
        unit: "blocks".into(),
        ..timing("blocks", Some("fill"))
    };
    let r = cfg
        .resolve(
            &key("d/loop", Some("fill"), "data_blocks_allocated"),
            &exact,
            "wall",
        )
        .unwrap();
    assert_eq!(r.kind, MetricKind::Timing);
    assert_eq!(r.timing.noise, 0.03);

    // Text figures stay exact whatever a rule says.
    let text = FigureMeta {
        class: FigureClass::Status,
        ..timing("", Some("fill"))
    };
    let r = cfg
        .resolve(
            &key("d/loop", Some("fill"), "data_blocks_allocated"),
            &text,
            "wall",
        )
        .unwrap();
    assert_eq!((r.kind, r.better), (MetricKind::Exact, Better::Neither));

    // Seeds differ per figure, and are stable.
    let a = cfg
        .resolve(&key("a", None, "x"), &timing("ns", None), "wall")
        .unwrap();
    let b = cfg
        .resolve(&key("b", None, "x"), &timing("ns", None), "wall")
        .unwrap();
    assert_ne!(a.timing.seed, b.timing.seed);
}

#[test]
fn duration_floor_on_a_count_is_an_error_at_resolution() {
    let cfg = ok("format = 1\n[[rule]]\nfigure = \"*\"\nfloor = \"1ms\"\n");
    let e = cfg
        .resolve(
            &key("c", Some("s"), "workload.iops"),
            &timing("iops", None),
            "wall",
        )
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "gate.toml:2:1: a duration floor does not apply to `workload.iops` (c), measured in iops"
    );
}

#[test]
fn every_mistake_is_reported_with_its_position() {
    let e = errs(
        r#"format = 1
colour = "red"

[defaults]
nose = "5%"
alpha = 2
noise = 5
min_samples = 3

[[rule]]
figure = "x"
kind = "fast"
floor = "5 parsecs"

[[rule]]
noise = "5%"

[[rule]]
figure = "y"
"#,
    );
    let expected = r#"gate.toml:2:1: error: unknown key `colour` in the top level
  hint: valid keys in the top level: format, defaults, rule
gate.toml:5:1: error: unknown key `nose` in [defaults]
  hint: did you mean `noise`? valid keys in [defaults]: min_samples, alpha, confidence, resamples, seed, noise, max_ci_width, floor, decision, exact, missing
gate.toml:6:9: error: alpha = 2 must lie between 0 and 0.5
gate.toml:7:9: error: `noise` must be a percentage string
  hint: write it like noise = "5%"
gate.toml:8:15: error: with 3 samples a side the Mann-Whitney test can never reach p < 0.05 (smallest possible p = 0.100): no regression could ever be detected
  hint: use min_samples = 4 or more
gate.toml:12:8: error: `kind` must be "exact", "timing" or "ignore"
gate.toml:13:9: error: invalid `floor`: `5 parsecs`: unknown duration unit `parsecs`
  hint: whole numbers with units w, d, h, m, s, ms, us or ns, largest first, like "90s", "20m", "1h30m" or "90d"
gate.toml:15:1: error: this rule matches every figure
  hint: give figure, case, step or action (globs); settings for every figure go in [defaults]
gate.toml:18:1: error: this rule changes nothing
  hint: set one of: kind, better, noise, max_ci_width, floor, min_samples, exact"#;
    assert_eq!(e, expected);
}

#[test]
fn format_and_syntax() {
    assert_eq!(
        errs("[defaults]\n"),
        "gate.toml:1:1: error: missing `format`\n  hint: start the file with `format = 1`"
    );
    assert!(errs("format = 2\n").starts_with("gate.toml:1:10: error: format 2 is not known"));
    let e = errs("format = 1\n[defaults\n");
    assert!(e.starts_with("gate.toml:2:"), "{e}");
    assert!(e.contains("invalid TOML"), "{e}");
    // Not readable.
    let e = load_config(Path::new("/nonexistent/gate.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("/nonexistent/gate.toml: error: cannot read"),
        "{e}"
    );
}

#[test]
fn messages_stay_one_line() {
    // A key quoted with a newline and a terminal escape in it comes back in "unknown key
    // `...`": escaped, so each error stays one line (its hint one more). The scenario
    // loader's fuzzing finding, for the gate config (they share the error type).
    let e = parse_config(
        Path::new("gate.toml"),
        "format = 1\n\"x\\r\\ty\" = 1\n[defaults]\n\"nose\\n\\u001b[31m\" = \"5%\"\n",
    )
    .unwrap_err();
    assert_eq!(e.errors.len(), 2, "{e}");
    for err in &e.errors {
        let shown = err.to_string();
        assert!(!shown.contains(['\r', '\u{1b}']), "{shown:?}");
        assert_eq!(
            shown.lines().count(),
            1 + usize::from(err.hint.is_some()),
            "{shown:?}"
        );
    }
    assert_eq!(
        e.errors[1].to_string(),
        "gate.toml:4:1: error: unknown key `nose\\n\\u{1b}[31m` in [defaults]\n  hint: valid keys in [defaults]: min_samples, alpha, confidence, resamples, seed, noise, max_ci_width, floor, decision, exact, missing"
    );
    let e = errs("format = 1\n[[rule]]\nfigure = \"a\\u0007b\\r\"\nset = 1\n");
    assert!(!e.contains(['\r', '\u{7}']), "{e:?}");
    assert_eq!(
        e.lines().filter(|l| !l.starts_with("  hint: ")).count(),
        e.matches(": error: ").count(),
        "{e}"
    );
}

#[test]
fn floors_take_the_one_duration_grammar() {
    let floor = |f: &str| format!("format = 1\n[[rule]]\nfigure = \"*\"\nfloor = \"{f}\"\n");
    for (f, want) in [
        ("50us", Duration::from_micros(50)),
        ("2s", Duration::from_secs(2)),
        ("7 ns", Duration::from_nanos(7)),
        ("1s500ms", Duration::from_millis(1500)),
    ] {
        assert_eq!(
            ok(&floor(f)).rules[0].set.floor,
            Some(Floor::Duration(want)),
            "{f}"
        );
    }
    assert_eq!(
        errs(&floor("1.5ms")),
        "gate.toml:4:9: error: invalid `floor`: `1.5ms`: durations are whole numbers, not decimals\n  hint: use 1500us"
    );
    assert!(errs(&floor("5US")).contains("did you mean `us`?"));
    assert!(errs(&floor("5")).contains("no unit after 5"));
}

#[test]
fn clock_rules_apply_to_runs_of_that_clock_only() {
    let cfg = ok("format = 1\n[[rule]]\nclock = \"instructions*\"\nfigure = \"*_ns\"\nnoise = \"2%\"\nfloor = \"1us\"\n");
    let k = key("c/loop", Some("s"), "workload.p50_ns");
    let m = timing("ns", Some("small-write"));
    let icount = cfg.resolve(&k, &m, "instructions (shift 4)").unwrap();
    assert_eq!((icount.timing.noise, icount.timing.floor), (0.02, 1_000.0));
    assert_eq!(icount.rules, vec!["2:1"]);
    let wall = cfg.resolve(&k, &m, "wall").unwrap();
    assert_eq!(wall.timing.noise, 0.05);
    assert!(wall.rules.is_empty());
}
