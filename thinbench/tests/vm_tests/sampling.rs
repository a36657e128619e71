//! What the case sampler must have seen in a run's `samples.csv`: every step longer than
//! three intervals sampled at least ⌊duration / interval⌋ − 1 times (less the stretches
//! the sampler says the pool was down), and a fill's climb to a full pool and what
//! came after.

use std::path::Path;

use thinbench_schema::record::{EventKind, PoolSample, RunEvent, RunSummary};

/// Checks `out`'s samples against `s`'s steps at `interval_ms`; panics naming the step.
pub fn check(name: &str, out: &Path, s: &RunSummary, interval_ms: u64) {
    let mut r = csv::Reader::from_path(out.join("samples.csv")).unwrap();
    let samples: Vec<PoolSample> = r.deserialize().map(|x| x.unwrap()).collect();
    let events: Vec<RunEvent> = std::fs::read_to_string(out.join("events.jsonl"))
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    for c in &s.cases {
        let pool = c.pool.name.as_str();
        // (from, to, paused): a pause is the runner's choice (a benchmark's sampling-off
        // phase), allowed anywhere; the pool not being readable is not.
        let gaps: Vec<(u64, u64, bool)> = events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::SamplingGap {
                    pool: p,
                    from_ms,
                    to_ms,
                    why,
                } if p == pool => {
                    eprintln!("{name} {pool}: sampling gap {from_ms}..{to_ms} ms: {why}");
                    // A stretch with no reading the sampler says it had (a blocked read,
                    // the thread not scheduled) counts as a pause: said, and subtracted.
                    let said = why.starts_with("paused:") || why.starts_with("no reading for");
                    Some((*from_ms, *to_ms, said))
                }
                _ => None,
            })
            .collect();
        for st in &c.steps {
            let (a, b) = (st.started_ms, st.started_ms + st.duration_ms);
            if st.duration_ms <= 3 * interval_ms {
                continue;
            }
            let overlap = |paused: bool| -> u64 {
                gaps.iter()
                    .filter(|g| g.2 == paused)
                    .map(|(f, t, _)| t.min(&b).saturating_sub(*f.max(&a)))
                    .sum()
            };
            let (down, paused) = (overlap(false), overlap(true));
            assert!(
                paused * 2 <= st.duration_ms || st.action == "engine-vs-fio",
                "{name} {pool}: step {} ({}) went unsampled for {paused} of its {} ms",
                st.name,
                st.action,
                st.duration_ms
            );
            // Only a step that takes the pool down may leave the sampler unable to read it:
            // a reboot, a repair, and on direct-lvm an lvm command on the pool's thins
            // (lvm replaces the pool's device when it makes the first thin: for a moment
            // the pool is there under no name; the gap event says so).
            let lvm_changes_pool = c.pool.kind.as_str() == "direct-lvm"
                && matches!(
                    st.action.as_str(),
                    "create-thin" | "snapshot" | "delete-thin"
                );
            let takes_pool_down =
                lvm_changes_pool || matches!(st.action.as_str(), "reboot" | "repair-metadata");
            assert!(
                down == 0 || takes_pool_down,
                "{name} {pool}: the sampler could not read the pool for {down} ms of step {} ({})",
                st.name,
                st.action
            );
            let want =
                (st.duration_ms.saturating_sub(down + paused) / interval_ms).saturating_sub(1);
            let got = samples
                .iter()
                .filter(|x| x.pool == pool && x.reason == "periodic" && x.step == Some(st.index))
                .count() as u64;
            eprintln!(
                "{name} {pool} step {:<14} {:>6} ms: {got} periodic samples (at least {want}; pool down {down} ms, paused {paused} ms)",
                st.name, st.duration_ms
            );
            assert!(
                got >= want,
                "{name} {pool}: step {} ran {} ms ({down} ms down) and has {got} periodic samples, fewer than {want}",
                st.name,
                st.duration_ms
            );
            if st.action == "fill" {
                check_fill(name, pool, st.index, &samples);
            }
        }
    }
}

/// A fill's samples: one at a full pool (out of data space, within one block of the
/// total), and when it recovered, the drop (blocks freed) or the growth (a bigger pool).
fn check_fill(name: &str, pool: &str, step: usize, samples: &[PoolSample]) {
    let own: Vec<&PoolSample> = samples
        .iter()
        .filter(|x| x.pool == pool && x.step == Some(step))
        .collect();
    let full = own
        .iter()
        .position(|x| x.mode == "out_of_data_space" && x.data_used + 1 >= x.data_total);
    let Some(full) = full else {
        // error_if_no_space fails the writes at once: the pool may never show the mode
        // for long enough to be sampled; then the fill must at least reach the top.
        let top = own.iter().map(|x| x.data_used).max().unwrap_or(0);
        let total = own.iter().map(|x| x.data_total).max().unwrap_or(0);
        assert!(
            top + 1 >= total,
            "{name} {pool}: the fill's samples never reach a full pool ({top} of {total})"
        );
        return;
    };
    let at = own[full];
    if let Some(after) = own[full + 1..].iter().find(|x| x.mode == "rw") {
        assert!(
            after.data_used < at.data_used || after.data_total > at.data_total,
            "{name} {pool}: the fill recovered (rw at {} ms) with neither a drop nor a growth: {at:?} then {after:?}",
            after.t_ms
        );
    }
}

/// Kernel lines at kernel time: every case marked the kernel's clock (to within 100 ms,
/// drifting less than 100 ms over the case), every kernel line has its time on the run
/// clock, and low water mark events belong to the step `lwm_step` when given.
pub fn check_kernel_time(name: &str, out: &Path, lwm_step: Option<&str>, s: &RunSummary) {
    let events: Vec<RunEvent> = std::fs::read_to_string(out.join("events.jsonl"))
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let marks: Vec<(u64, Option<i64>)> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::KernelClock {
                uncertainty_ms,
                drift_ms,
                ..
            } => Some((*uncertainty_ms, *drift_ms)),
            _ => None,
        })
        .collect();
    assert!(
        marks.len() >= 2 * s.cases.len(),
        "{name}: {} kernel clock marks for {} cases",
        marks.len(),
        s.cases.len()
    );
    for (u, d) in &marks {
        assert!(*u <= 100, "{name}: a clock mark took {u} ms");
        assert!(
            d.unwrap_or(0).abs() <= 100,
            "{name}: the clocks drifted {d:?} ms"
        );
    }
    let step_name = |i: usize| {
        s.cases
            .iter()
            .flat_map(|c| &c.steps)
            .find(|st| st.index == i)
            .map(|st| st.name.clone())
    };
    for e in &events {
        if let EventKind::KernelLog { line, at_ms, step } = &e.kind {
            let at =
                at_ms.unwrap_or_else(|| panic!("{name}: kernel line without its time: {line}"));
            assert!(
                at <= e.t_ms + 100,
                "{name}: logged at {at} ms, read at {} ms: {line}",
                e.t_ms
            );
            if line.contains("reached low water mark") {
                eprintln!(
                    "{name}: low water mark event logged at {at} ms (printk {}), read at {} ms, step {:?}",
                    line.split(']').next().unwrap_or("").trim_start_matches('['),
                    e.t_ms,
                    step.and_then(step_name)
                );
                if let Some(want) = lwm_step {
                    assert_eq!(
                        step.and_then(step_name).as_deref(),
                        Some(want),
                        "{name}: the low water mark event belongs to step {want}: {line}"
                    );
                }
            }
        }
    }
}

/// The environment event says what `summary.json` says of the VM (the accelerator, qemu,
/// the host's CPU): the guest is told them, the host does not patch them in afterwards.
pub fn check_environment_event(name: &str, out: &Path, s: &RunSummary) {
    let text = std::fs::read_to_string(out.join("events.jsonl")).unwrap();
    let env = text
        .lines()
        .filter_map(|l| serde_json::from_str::<RunEvent>(l).ok())
        .find_map(|e| match e.kind {
            EventKind::Environment { info } => Some(info),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{name}: no environment event"));
    assert_eq!(env.accel, s.environment.accel, "{name}: accel");
    assert_eq!(env.qemu_version, s.environment.qemu_version, "{name}: qemu");
    assert!(
        env.accel.is_some(),
        "{name}: the guest does not know its accelerator"
    );
    assert_eq!(
        env.host_cpu_model, s.environment.host_cpu_model,
        "{name}: host CPU"
    );
}
