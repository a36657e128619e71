//! Recommendations come from the fleet's demand, not the typed pool, and hold through
//! the horizon; rates name their window; every threshold is reported.

use std::path::{Path, PathBuf};

use thinbench_planner::rates::Status;
use thinbench_planner::simulate::{Mode, Sim};
use thinbench_planner::{load_fleet_str, plan, Fleet, PlanReport};
use thinbench_schema::units::{Bytes, ChunkSize};

fn docker_default_text() -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plans/docker-default.toml");
    std::fs::read_to_string(p).unwrap()
}

fn with_data_size(text: &str, size: &str) -> Fleet {
    let line = "data_size = \"100GiB\"";
    assert!(text.contains(line), "docker-default's data_size line moved");
    let t = text.replace(line, &format!("data_size = \"{size}\""));
    load_fleet_str(&PathBuf::from("docker-default.toml"), &t).unwrap()
}

#[test]
fn the_typed_data_size_does_not_change_the_recommendation() {
    let text = docker_default_text();
    let reports: Vec<(String, PlanReport)> = ["1GiB", "20GiB", "100GiB"]
        .iter()
        .map(|s| {
            (
                s.to_string(),
                plan(&with_data_size(&text, s), true, false).unwrap(),
            )
        })
        .collect();
    let (_, first) = &reports[0];
    let r0 = &first.recommendation;
    for (size, r) in &reports[1..] {
        let r = &r.recommendation;
        assert_eq!(
            (r.data_size, r.metadata_size, r.chunk),
            (r0.data_size, r0.metadata_size, r0.chunk),
            "data_size {size} changed the recommendation"
        );
        assert_eq!(r.why, r0.why, "data_size {size} changed the reasoning");
    }
    // ... while what is reported about each typed pool does change: the small pools
    // refuse containers and fill; 100GiB does neither within the horizon.
    let refused: Vec<u64> = reports.iter().map(|(_, r)| r.refused_starts).collect();
    assert!(
        refused[0] > 0 && refused[1] > 0 && refused[2] == 0,
        "{refused:?}"
    );
    let full = |r: &PlanReport| {
        r.thresholds
            .iter()
            .find(|t| t.name == "data full")
            .unwrap()
            .status
    };
    assert_eq!(full(&reports[1].1), Status::Fired);
    assert_eq!(full(&reports[2].1), Status::Extrapolated);
    // The recommendation is above what the 20GiB pool needed to be cut short at.
    assert!(r0.data_size.0 > 20 * Bytes::GIB);
}

/// Simulates the recommended pool over the horizon and returns the report's
/// recommendation with the events that pool sees.
fn check_holds(fleet: &Fleet) -> PlanReport {
    let report = plan(fleet, true, false).unwrap();
    let r = &report.recommendation;
    let mut f = fleet.clone();
    f.pool.data_size = r.data_size;
    f.pool.metadata_size = r.metadata_size;
    f.pool.chunk = ChunkSize::new(r.chunk).unwrap();
    let s = Sim::new(&f, f.pool.chunk, Mode::Pool).run().unwrap();
    let within: Vec<_> = s
        .events
        .iter()
        .filter(|e| e.t_s <= f.timeline.horizon_s)
        .collect();
    assert!(
        within.is_empty(),
        "the recommended pool ({} data, {} metadata, {} chunks) crosses a threshold within the {}-day horizon: {within:?}",
        r.data_size.human(),
        r.metadata_size.human(),
        r.chunk.human(),
        r.horizon_days
    );
    assert_eq!(s.refused, 0);
    // The headroom stated is the headroom simulated.
    let rows = s.rows_until(f.timeline.horizon_s);
    let peak = rows.iter().map(|x| x.data_used).max().unwrap();
    let cb = r.chunk.0;
    assert_eq!(peak * cb, r.peak_data_bytes.0);
    assert!(peak * cb <= r.data_limit_bytes.0);
    let free = 100.0 - peak as f64 * 100.0 / (r.data_size.0 / cb) as f64;
    assert!((free - r.data_headroom_pct).abs() < 1e-9);
    assert!(r.data_headroom_pct >= f64::from(fleet.pool.min_free_space_pct));
    assert!(r.why.iter().any(|w| w.contains(&format!(
        "{:.1}% left free at the peak",
        r.data_headroom_pct
    ))));
    // It lasts at least through the horizon.
    assert!(r.lasts_days.is_some_and(|d| d >= r.horizon_days), "{r:?}");
    // And it is the smallest whole GiB that does: one GiB less crosses a threshold.
    let mut g = f.clone();
    g.pool.data_size = Bytes(r.data_size.0 - Bytes::GIB);
    let s = Sim::new(&g, g.pool.chunk, Mode::Pool).run().unwrap();
    assert!(
        s.events.iter().any(|e| e.t_s <= f.timeline.horizon_s),
        "1GiB less would have held too: the recommendation is not the smallest"
    );
    report
}

#[test]
fn the_docker_default_recommendation_holds_through_its_horizon() {
    let f = with_data_size(&docker_default_text(), "100GiB");
    let report = check_holds(&f);
    assert_eq!(report.recommendation.horizon_days, 30.0);
    // What `thinbench plan plans/docker-default.toml` prints: both rates with their
    // window, every threshold, and how long the recommendation lasts.
    let text = report.text();
    let r = &report.rates;
    assert_eq!((r.window_from_day, r.window_to_day), (15.0, 30.0));
    assert!(r.gross_bytes_per_day > r.net_bytes_per_day && r.net_bytes_per_day > 0.0);
    assert!(
        text.contains("rates (the fleet's demand, days 15.0-30.0"),
        "{text}"
    );
    assert!(
        text.contains("  gross ") && text.contains("  net   "),
        "{text}"
    );
    let events = text
        .split("events (typed pool), every threshold:\n")
        .nth(1)
        .expect("an events section");
    assert_eq!(report.thresholds.len(), 7);
    for t in &report.thresholds {
        assert!(
            events
                .lines()
                .take(7)
                .any(|l| l.trim_start().starts_with(&t.name)),
            "{} missing from the events section",
            t.name
        );
    }
    assert!(events.contains("not within the horizon (30 days); extrapolated day"));
    let lasts = report.recommendation.lasts_days.unwrap();
    assert!(text.contains(&format!("lasts to day {lasts:.1} at the net rate")));
}

/// A small fleet that keeps growing, for horizons far past its duration.
const GROWING: &str = r#"
format = 1
name = "growing"
[pool]
data_size = "8GiB"
metadata_size = "64MiB"
min_free_space = "10%"
autoextend_threshold = 80
low_water_mark = "1%"
[[image]]
name = "app"
containers = 4
[[image.layer]]
bytes = "256MiB"
[[image.container_write]]
bytes = "64MiB"
[timeline]
duration = "30d"
step = "1d"
write_rate = "50MiB/d"
"#;

#[test]
fn a_longer_horizon_sizes_for_longer_and_still_holds() {
    let f = load_fleet_str(Path::new("growing.toml"), GROWING).unwrap();
    let short = check_holds(&f);
    let long_f = thinbench_planner::plan::with_horizon(&f, 180 * 86_400).unwrap();
    let long = check_holds(&long_f);
    assert!(long.recommendation.data_size > short.recommendation.data_size);
    assert_eq!(long.span_days, 180.0);
    assert_eq!(long.timeline.last().unwrap().day, 180.0);
    // The autoextend threshold (80%) binds before min_free_space (90% used).
    assert!(long
        .recommendation
        .data_limit_by
        .contains("autoextend threshold 80%"));
    assert!(thinbench_planner::plan::with_horizon(&f, 0).is_err());
    assert!(thinbench_planner::plan::with_horizon(&f, 100_001 * 86_400).is_err());
}

#[test]
fn rates_name_their_window_and_every_threshold_is_reported() {
    let f = load_fleet_str(Path::new("growing.toml"), GROWING).unwrap();
    let r = plan(&f, false, false).unwrap();
    let text = r.text();
    assert_eq!(
        (r.rates.window_from_day, r.rates.window_to_day),
        (15.0, 30.0)
    );
    // 4 containers × 50MiB a day, nothing deleted: gross = net = 200MiB/day.
    assert_eq!(r.rates.gross_bytes_per_day, (200 * Bytes::MIB) as f64);
    assert_eq!(r.rates.net_bytes_per_day, (200 * Bytes::MIB) as f64);
    assert!(text.contains("days 15.0-30.0"), "{text}");
    assert!(text.contains("gross 200.0 MiB/day"), "{text}");
    assert!(text.contains("net   200.0 MiB/day"), "{text}");
    // Nothing fires in 30 days on 8GiB (1.3GiB at time 0 + 6GiB): still an events
    // section with every threshold, each with its extrapolated day.
    let names: Vec<&str> = r.thresholds.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "low water mark",
            "min_free_space (data)",
            "min_free_space (metadata)",
            "autoextend threshold",
            "metadata autoextend threshold",
            "data full",
            "metadata full"
        ]
    );
    assert!(text.contains("events (typed pool), every threshold:"));
    for t in &r.thresholds {
        assert_eq!(t.status, Status::Extrapolated, "{t:?}");
        let day = t.day.unwrap();
        assert!(day > 30.0);
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(&t.name))
            .unwrap();
        assert!(
            line.contains(&format!(
                "not within the horizon (30 days); extrapolated day {day:.1}"
            )),
            "{line}"
        );
    }
    // Data full at the net rate: 8GiB = 131072 blocks from the last row's use.
    let last = r.timeline.last().unwrap();
    let expect = 30.0 + (131_072 - last.data_used) as f64 / r.rates.net_blocks_per_day;
    assert!((r.days_to_full.unwrap() - expect).abs() < 1e-9);
    assert!(r.days_to_full_extrapolated);
}

#[test]
fn the_peer_is_compared_like_for_like() {
    let f = load_fleet_str(Path::new("growing.toml"), GROWING).unwrap();
    let r = plan(&f, false, false).unwrap();
    let p = &r.metadata.thin_metadata_size;
    assert_eq!(p.quantity, "full pool");
    assert_eq!(p.data_size_bytes, r.recommendation.data_size);
    assert_eq!(p.chunk_bytes, r.recommendation.chunk);
    assert!(p
        .peer
        .command
        .contains(&format!("-s {}s", p.data_size_bytes.0 / 512)));
    assert!(p.peer.command.contains(&format!("-m {}", p.thins)));
    assert_eq!(p.peer.skipped.as_deref(), Some("not run (--no-peer)"));
    assert!(p.peer_vs_model_pct.is_none());
    assert!(r
        .text()
        .contains("thin_metadata_size: skipped: not run (--no-peer)"));
    // The full-pool model maps every data block: at least one leaf per 252 of them.
    let blocks = p.data_size_bytes.0 / p.chunk_bytes.0;
    assert!(p.model_blocks >= blocks / 252);
    assert!(p.model_blocks < p.formula_blocks);
}

/// Containers replaced every 2 days, each writing 20MiB a day: the demand saws up and
/// down around a level and does not grow.
const STEADY: &str = r#"
format = 1
name = "steady"
[pool]
data_size = "8GiB"
[[image]]
name = "app"
containers = 4
[[image.layer]]
bytes = "256MiB"
[[image.container_write]]
bytes = "64MiB"
[image.churn]
every = "1d"
replace = 4
[timeline]
duration = "30d"
write_rate = "20MiB/d"
"#;

#[test]
fn a_demand_that_does_not_grow_never_fills_and_lasts() {
    let f = load_fleet_str(Path::new("steady.toml"), STEADY).unwrap();
    let r = plan(&f, false, false).unwrap();
    assert!(r.rates.net_bytes_per_day <= 0.0, "{:?}", r.rates);
    assert!(r.rates.gross_bytes_per_day > 0.0);
    assert_eq!(r.days_to_full, None);
    for t in &r.thresholds {
        assert!(matches!(t.status, Status::Never | Status::Off), "{t:?}");
        assert_eq!(t.day, None);
    }
    assert_eq!(r.recommendation.lasts_days, None);
    assert!(r.text().contains("never at the net data rate"));
}

#[test]
fn extreme_low_water_marks_do_not_hang_the_sizing() {
    let t = STEADY.replace("[pool]\n", "[pool]\nlow_water_mark = \"0%\"\n");
    let f = load_fleet_str(Path::new("steady.toml"), &t).unwrap();
    // 100% fires at any use: it cannot be sized for, and is left out.
    let t = STEADY.replace("[pool]\n", "[pool]\nlow_water_mark = \"100%\"\n");
    let all = load_fleet_str(Path::new("steady.toml"), &t).unwrap();
    let r = plan(&all, false, false).unwrap();
    assert_eq!(
        r.recommendation.data_size,
        plan(&f, false, false).unwrap().recommendation.data_size
    );
    // A mark of 2^40 blocks: the pool is sized to hold it free, at once.
    let t = STEADY.replace("[pool]\n", "[pool]\nlow_water_mark = 1099511627776\n");
    let huge = load_fleet_str(Path::new("steady.toml"), &t).unwrap();
    let r = plan(&huge, false, false).unwrap();
    let blocks = r.recommendation.data_size.0 / r.recommendation.chunk.0;
    assert!(blocks >= 1 << 40);
    assert!(r.recommendation.data_limit_by.contains("low water mark"));
}

#[test]
fn the_demand_read_off_an_unconstrained_pool_is_the_demand_simulated() {
    for (name, text) in [("growing", GROWING), ("steady", STEADY)] {
        let f = load_fleet_str(Path::new("x.toml"), text).unwrap();
        let pool = Sim::new(&f, f.pool.chunk, Mode::Pool).run().unwrap();
        let derived = pool.as_demand().expect("the pool refused nothing");
        let sim = Sim::new(&f, f.pool.chunk, Mode::Demand).run().unwrap();
        let rows =
            |s: &thinbench_planner::simulate::SimSummary| serde_json::to_value(&s.rows).unwrap();
        assert_eq!(rows(&derived), rows(&sim), "{name}");
        assert_eq!(derived.broken, sim.broken);
        assert!(derived.events.is_empty() && sim.events.is_empty());
    }
    // A pool that refused starts is not the demand.
    let f = with_data_size(&docker_default_text(), "1GiB");
    let mut small = f.clone();
    small.timeline.duration_s = 86_400;
    small.timeline.horizon_s = 86_400;
    let pool = Sim::new(&small, small.pool.chunk, Mode::Pool)
        .run()
        .unwrap();
    assert!(pool.refused > 0);
    assert!(pool.as_demand().is_none());
}
