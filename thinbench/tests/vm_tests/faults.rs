//! Fault scenarios in the VM: faults that end in verdicts, the shipped fault scenarios,
//! replay, and a target the kernel lacks skipped saying so.

use std::process::Command;

use thinbench_schema::record::{RunSummary, Status};

use super::*;

/// Guest faults end in a verdict and a saved console, never a hung harness: a real kernel
/// panic (sysrq `c`), a kernel-problem line (Debian's kernel has no lkdtm for a real Oops,
/// and with `oops=panic` a real Oops is the panic case), qemu dying (SIGSEGV from the
/// host) and a hang (IO queued for ever: `queue_if_no_space`, no `no_space_timeout`) past
/// the run's timeout. None of them may count as passed.
#[test]
#[ignore = "boots a VM four times (qemu TCG, ~4 min); run by ci/test"]
fn vm_guest_faults_end_in_verdicts() {
    if !vm_available() {
        return;
    }
    let fixtures = repo().join("thinbench/tests/fixtures/vm");
    struct Case {
        fault: &'static str,
        scenario: &'static str,
        exit: i32,
        status: Status,
        error_has: &'static str,
        console_has: &'static str,
    }
    let cases = [
        Case {
            fault: "panic",
            scenario: "fault-victim.toml",
            exit: 3,
            status: Status::Incomplete,
            error_has: "the guest kernel panicked: `",
            console_has: "Kernel panic - not syncing: sysrq triggered crash",
        },
        Case {
            fault: "qemu-crash",
            scenario: "fault-victim.toml",
            exit: 3,
            status: Status::Incomplete,
            error_has: "qemu died before the guest reported (signal: 11",
            console_has: "thinbench-guest: job",
        },
        Case {
            fault: "oops-line",
            scenario: "fault-victim.toml",
            exit: 1,
            status: Status::Failed,
            error_has: "the kernel logged 1 problem line(s)",
            console_has: "Oops: thinbench test",
        },
        Case {
            fault: "",
            scenario: "hang.toml",
            exit: 3,
            status: Status::Incomplete,
            error_has: "timed out: the run passed its timeout of 20s, and it could not stop within 20s: IO is held in the kernel",
            // The blocked writer, from the dump the watchdog asked for.
            console_has: "state:D",
        },
    ];
    for c in &cases {
        let out = tempfile::tempdir().unwrap();
        let t0 = std::time::Instant::now();
        let o = Command::new(BIN)
            .args(["run", "--env", "vm", "--out"])
            .arg(out.path())
            .arg(fixtures.join(c.scenario))
            .env("THINBENCH_TEST_GUEST_FAULT", c.fault)
            .stderr(std::process::Stdio::inherit())
            .output()
            .unwrap();
        let secs = t0.elapsed().as_secs();
        let stdout = String::from_utf8_lossy(&o.stdout);
        let name = if c.fault.is_empty() { "hang" } else { c.fault };
        let s: RunSummary = serde_json::from_str(
            &std::fs::read_to_string(out.path().join("summary.json")).unwrap(),
        )
        .unwrap();
        let console = std::fs::read_to_string(out.path().join("console.log")).unwrap();
        let error = s.error.clone().unwrap_or_default();
        eprintln!(
            "guest fault {name}: exit {:?} after {secs}s, status {:?}, error: {error}",
            o.status.code(),
            s.status
        );
        assert_eq!(o.status.code(), Some(c.exit), "{name}: exit code\n{stdout}");
        assert_eq!(s.status, c.status, "{name}: summary status");
        assert_ne!(s.status, Status::Passed);
        assert!(error.contains(c.error_has), "{name}: error `{error}`");
        assert!(
            console.contains(c.console_has),
            "{name}: console.log lacks `{}`",
            c.console_has
        );
        assert!(
            stdout.contains("result: INCOMPLETE") || stdout.contains("result: FAILED"),
            "{name}: the printed verdict\n{stdout}"
        );
    }
}

/// The metric `name` of `step` in case `case` of `s`.
fn step_metric(s: &RunSummary, case: usize, step: &str, name: &str) -> f64 {
    let st = s.cases[case]
        .steps
        .iter()
        .find(|x| x.name == step)
        .unwrap_or_else(|| panic!("{}: no step {step}", s.scenario.name));
    st.metrics
        .iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("{}: step {step} has no metric {name}", s.scenario.name))
        .value
}

/// Every shipped fault scenario, and one needing a target the kernel lacks, in one boot:
/// each prints its verdicts; the figures that make them true are checked here too.
#[test]
#[ignore = "boots a VM (qemu TCG, ~4 min); run by ci/test"]
fn vm_fault_scenarios_verdicts_replay_and_skip() {
    if !vm_available() {
        return;
    }
    let shipped = [
        "fault-metadata-flakey",
        "fault-metadata-error",
        "fault-slow-data",
        "fault-bad-sectors",
        "power-cut",
    ];
    let out = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = vec!["run".into()];
    args.extend(shipped.iter().map(|n| format!("scenarios/{n}.toml")));
    args.push("thinbench/tests/fixtures/vm/needs-dust.toml".into());
    args.extend(["--env".into(), "vm".into(), "--out".into()]);
    let run = Command::new(BIN)
        .current_dir(repo())
        .args(&args)
        .arg(out.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    eprint!("{stdout}{}", String::from_utf8_lossy(&run.stderr));
    // The batch's worst case is the skipped one: a skip is not a pass, so the exit code
    // is SKIPPED (4), not 0.
    assert_eq!(run.status.code(), Some(4), "exit code of the batch");
    let summary = |n: &str| -> RunSummary {
        let text = std::fs::read_to_string(out.path().join(n).join("summary.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    };
    for n in shipped {
        let s = summary(n);
        // The case sampler and kernel time, as for every shipped scenario.
        let dir = out.path().join(n);
        sampling::check(n, &dir, &s, 250);
        sampling::check_kernel_time(n, &dir, None, &s);
        sampling::check_environment_event(n, &dir, &s);
        for c in &s.cases {
            for st in &c.steps {
                for e in &st.expectations {
                    eprintln!(
                        "{n}/{}: {}: {:?}: {} (expected {})",
                        st.name, e.what, e.status, e.observed, e.expected
                    );
                }
            }
            assert!(!c.timeline.is_empty(), "{n}: a fault case has a timeline");
            assert!(
                c.timeline.iter().any(|t| t.kind == "fault-on"),
                "{n}: the timeline shows a fault going into force"
            );
        }
        assert_eq!(s.status, Status::Passed, "{n}: {:?}", s.error);
        assert!(s.kernel_problems.is_empty(), "{n}: {:?}", s.kernel_problems);
    }
    // Flakey metadata: ro + needs_check, then rw after the reboot.
    let s = summary("fault-metadata-flakey");
    let mode = |s: &RunSummary, step: &str| {
        let u = s.cases[0]
            .steps
            .iter()
            .find(|x| x.name == step)
            .unwrap()
            .pool_after
            .clone()
            .unwrap();
        (u.mode.as_str().to_owned(), u.needs_check)
    };
    assert_eq!(mode(&s, "break"), ("ro".to_owned(), true));
    assert_eq!(mode(&s, "repair"), ("rw".to_owned(), false));
    // Error over the metadata: Fail.
    let s = summary("fault-metadata-error");
    assert_eq!(mode(&s, "break").0, "Fail");
    // Slow data: the delay shows in the step it is in force, and only there.
    let s = summary("fault-slow-data");
    let p50 = |step: &str| {
        s.cases[0]
            .steps
            .iter()
            .find(|x| x.name == step)
            .unwrap()
            .workload
            .as_ref()
            .unwrap()
            .latency
            .p50_ns as f64
            / 1e6
    };
    let (before, slow, fast) = (p50("before"), p50("slow"), p50("fast"));
    eprintln!("slow data: p50 {before:.2} ms before, {slow:.2} ms with a 25 ms write delay, {fast:.2} ms after");
    assert!(slow >= 20.0 && before < 20.0 && fast < 20.0);
    // Power cuts: replay points checked, none inconsistent; nothing flushed lost.
    let s = summary("power-cut");
    for (i, c) in s.cases.iter().enumerate() {
        let checked = step_metric(&s, i, "replay", "replay.points_checked");
        let data = step_metric(&s, i, "replay", "replay.points_data_checked");
        let bad = step_metric(&s, i, "replay", "replay.inconsistent_points")
            + step_metric(&s, i, "replay", "replay.damaged_points");
        let lost = step_metric(&s, i, "reboot", "reboot.flushed_sectors_lost");
        let flushed = step_metric(&s, i, "reboot", "reboot.flushed_sectors_checked");
        eprintln!(
            "power-cut/{}: replay {checked} points checked ({} in the log, {data} with data read back), {bad} inconsistent; reboot: {flushed} flushed sectors checked, {lost} lost",
            c.pool.name,
            step_metric(&s, i, "replay", "replay.points_in_log"),
        );
        assert!(checked >= 1.0 && data >= 1.0 && bad == 0.0 && lost == 0.0 && flushed > 0.0);
    }
    // The absent target: skipped with its reason, never passed.
    let s = summary("needs-dust");
    assert_eq!(s.status, Status::Skipped);
    let c = &s.cases[0];
    assert_eq!(c.status, Status::Skipped);
    let why = c.error.as_deref().unwrap_or_default();
    assert!(
        why.starts_with("skipped: ") && why.contains("dust"),
        "{why}"
    );
    assert!(c.steps.is_empty(), "a skipped case runs no step");
    eprintln!("needs-dust: {why}");
}
