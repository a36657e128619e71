//! Human output: the summary table at the end of a run.

use std::path::Path;

use thinbench_schema::record::{RunSummary, Status};

/// The verdict word.
pub fn status_word(s: Status) -> &'static str {
    match s {
        Status::Passed => "passed",
        Status::Failed => "FAILED",
        Status::Skipped => "skipped",
        Status::Incomplete => "INCOMPLETE",
    }
}

/// The end-of-run summary on stdout.
pub fn print(s: &RunSummary, out: &Path) {
    let e = &s.environment;
    println!(
        "\nthinbench {} — scenario {} — run {}",
        e.thinbench_version, s.scenario.name, s.run_id
    );
    println!(
        "kernel {} ({}{}), dm {}, thin-pool {}",
        e.kernel,
        e.kind,
        e.accel
            .as_deref()
            .map(|a| format!(", {a}"))
            .unwrap_or_default(),
        e.dm_version.as_deref().unwrap_or("?"),
        e.thin_pool_target_version.as_deref().unwrap_or("?")
    );
    if let Some(label) = thinbench_reports::clock_label(e) {
        println!("note: timings: {label}");
    } else if e.accel.as_deref() == Some("tcg") {
        println!(
            "note: timings under TCG are emulated; compare them only within the same environment"
        );
    }
    for c in &s.cases {
        println!(
            "\n{} [{}, chunk {}]: {}",
            c.id,
            c.pool.kind.as_str(),
            c.pool.chunk_bytes.human(),
            status_word(c.status)
        );
        if let Some(err) = &c.error {
            println!("  error: {err}");
        }
        println!(
            "  {:<3} {:<22} {:<12} {:>9} {:>9} {:>10} {:>9} {:>10}",
            "#", "step", "action", "allocated", "expected", "IOPS", "MB/s", "p99 us"
        );
        for st in &c.steps {
            let expected = st
                .expectations
                .iter()
                .find(|x| x.what.contains("model"))
                .map(|x| x.expected.clone())
                .unwrap_or_else(|| "-".into());
            let (iops, mbs, p99) = match &st.workload {
                Some(w) => (
                    format!("{:.0}", w.iops),
                    format!("{:.1}", w.mb_per_s),
                    format!("{:.0}", w.latency.p99_ns as f64 / 1e3),
                ),
                None => ("-".into(), "-".into(), "-".into()),
            };
            let alloc = st
                .data_blocks_allocated
                .map(|d| d.to_string())
                .unwrap_or_else(|| "?".into());
            let mark = if st.status == Status::Passed {
                ""
            } else {
                "  <-- "
            };
            println!(
                "  {:<3} {:<22} {:<12} {:>9} {:>9} {:>10} {:>9} {:>10}{mark}{}",
                st.index,
                st.name,
                st.action,
                alloc,
                expected,
                iops,
                mbs,
                p99,
                if st.status == Status::Passed {
                    ""
                } else {
                    status_word(st.status)
                }
            );
            for x in st
                .expectations
                .iter()
                .filter(|x| x.status != Status::Passed)
            {
                println!("      {}", x.message.as_deref().unwrap_or(&x.what));
            }
            if let Some(err) = &st.error {
                println!("      error: {err}");
            }
            print_peer(st);
        }
        if let Some(u) = &c.pool.final_usage {
            println!(
                "  pool at end: data {}/{} blocks, metadata {}/{} blocks, mode {}",
                u.data_used.0,
                u.data_total.0,
                u.meta_used.0,
                u.meta_total.0,
                u.mode.as_str()
            );
        }
        for t in &c.teardown_errors {
            println!("  teardown: {t}");
        }
    }
    for k in s.kernel_problems.iter().take(5) {
        println!("kernel: {k}");
    }
    if let Some(err) = &s.error {
        println!("\nrun error: {err}");
    }
    println!(
        "\nresult: {} — results in {}",
        status_word(s.status),
        out.display()
    );
}

/// The peer benchmark's table (`engine-vs-fio` metrics), under its step.
fn print_peer(st: &thinbench_schema::record::StepResult) {
    let get = |name: String| st.metrics.iter().find(|m| m.name == name).map(|m| m.value);
    let mut cases: Vec<&str> = st
        .metrics
        .iter()
        .filter_map(|m| m.name.strip_prefix("peer.")?.strip_suffix(".iops_ratio"))
        .collect();
    cases.dedup();
    if !cases.is_empty() {
        println!(
            "      {:<20} {:>11} {:>11} {:>7} {:>11} {:>11} {:>7} {:>9}",
            "thinbench / fio",
            "IOPS tb",
            "IOPS fio",
            "ratio",
            "p99 us tb",
            "p99 us fio",
            "ratio",
            "QD/max"
        );
    }
    for c in cases {
        let v = |k: &str| get(format!("peer.{c}.{k}")).unwrap_or(f64::NAN);
        println!(
            "      {:<20} {:>11.0} {:>11.0} {:>7.3} {:>11.0} {:>11.0} {:>7.3} {:>5}/{:<3}",
            c,
            v("thinbench_iops"),
            v("fio_iops"),
            v("iops_ratio"),
            v("thinbench_p99_ns") / 1e3,
            v("fio_p99_ns") / 1e3,
            v("p99_ratio"),
            v("queue_depth"),
            v("max_in_flight")
        );
    }
    if let (Some(off), Some(on), Some(cost)) = (
        get("sampling.iops_off".into()),
        get("sampling.iops_on".into()),
        get("sampling.cost_pct".into()),
    ) {
        println!(
            "      status sampling: {off:.0} IOPS off, {on:.0} IOPS on: cost {cost:.2}% of throughput"
        );
        if let Some(cpu) = get("sampling.cpu_pct".into()) {
            println!(
                "      status sampling: the sampler thread used {cpu:.3}% of a CPU while it ran"
            );
        }
    }
}
