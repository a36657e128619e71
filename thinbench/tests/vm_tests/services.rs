//! A guest that is a real host (`--services udev,dmeventd`): the default scenario through
//! the guest's `thinbench run --env host`, with systemd-udevd making the device nodes and
//! lvm's dmeventd autoextending direct-lvm; and a user's `--env host --dmeventd` run on
//! that host, killed mid-fill, whose leftovers `thinbench cleanup` finds and removes.

use std::path::Path;
use std::process::Command;

use thinbench_schema::record::{EventKind, RunEvent, RunSummary};

use super::{repo, run_shipped_in, vm_available, BIN};

/// The fill step's figure `name` of case `case`.
fn fill_metric(s: &RunSummary, case: &str, name: &str) -> Option<f64> {
    let c = s.cases.iter().find(|c| c.pool.name.as_str() == case)?;
    let st = c.steps.iter().find(|st| st.action == "fill")?;
    st.metrics.iter().find(|m| m.name == name).map(|m| m.value)
}

/// The autoextend events of `pool` in a run's events.jsonl.
fn autoextends(out: &Path, pool: &str) -> Vec<(String, u64, Option<u64>)> {
    let text = std::fs::read_to_string(out.join("events.jsonl")).unwrap();
    text.lines()
        .filter_map(|l| serde_json::from_str::<RunEvent>(l).ok())
        .filter_map(|e| match e.kind {
            EventKind::Autoextend {
                pool: p,
                by,
                from_blocks,
                to_blocks,
                ..
            } if p == pool => Some((by, from_blocks, to_blocks)),
            _ => None,
        })
        .collect()
}

/// direct-lvm's fill autoextended by `by` (and only by it), at least once, the pool's
/// data size grew in the samples, and loop-lvm had none.
pub fn check_docker_autoextend(out: &Path, s: &RunSummary, by: &str) {
    let (mine, other) = match by {
        "dmeventd" => (
            "fill.autoextend_by_dmeventd",
            "fill.autoextend_by_thinbench_monitor",
        ),
        _ => (
            "fill.autoextend_by_thinbench_monitor",
            "fill.autoextend_by_dmeventd",
        ),
    };
    let n = fill_metric(s, "direct-lvm", mine).unwrap_or(0.0);
    let added = fill_metric(s, "direct-lvm", "fill.autoextend_blocks_added").unwrap_or(0.0);
    eprintln!(
        "docker-devicemapper direct-lvm: {n} autoextension(s) by {by}, {added} blocks added, first at {:?}% used",
        fill_metric(s, "direct-lvm", "fill.autoextend_first_at_used_pct")
    );
    assert!(n >= 1.0, "no autoextension by {by}");
    assert_eq!(fill_metric(s, "direct-lvm", other), Some(0.0));
    assert!(added > 0.0);
    assert_eq!(
        fill_metric(s, "loop-lvm", "fill.autoextend_blocks_added"),
        Some(0.0),
        "loop-lvm has no lvm policy"
    );
    let ev = autoextends(out, "direct-lvm");
    eprintln!("autoextend events: {ev:?}");
    assert!(
        ev.iter()
            .any(|(b, from, to)| b == by && to.is_some_and(|t| t > *from)),
        "no growth by {by} in the timeline: {ev:?}"
    );
    // The samples show the pool bigger at the end than at the start.
    let mut rd = csv::Reader::from_path(out.join("samples.csv")).unwrap();
    let totals: Vec<u64> = rd
        .records()
        .map(|r| r.unwrap())
        .filter(|r| &r[1] == "direct-lvm")
        .map(|r| r[5].parse().unwrap())
        .collect();
    assert!(
        totals.last() > totals.first(),
        "direct-lvm's data size did not grow in samples.csv"
    );
}

/// The default scenario in the udev + dmeventd guest: every check of a shipped scenario,
/// the services recorded, dmeventd (not thinbench) grew direct-lvm, its log names the
/// pool, and no udev cookie was left waiting.
#[test]
#[ignore = "boots a VM (qemu TCG, ~2 min); run by ci/test"]
fn vm_udev_dmeventd_guest_runs_the_default_scenario() {
    if !vm_available() {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let s = run_shipped_in(
        "docker-devicemapper",
        None,
        &["--services", "udev,dmeventd"],
        out.path(),
    );
    assert_eq!(s.environment.host_services, ["systemd-udevd", "dmeventd"]);
    check_docker_autoextend(out.path(), &s, "dmeventd");
    let log = std::fs::read_to_string(out.path().join("dmeventd.log")).unwrap();
    eprintln!("dmeventd.log:\n{log}");
    assert!(log.contains("Monitoring thin pool"), "{log}");
    let cookies = std::fs::read_to_string(out.path().join("udev-cookies.txt")).unwrap();
    assert_eq!(
        cookies.lines().filter(|l| !l.starts_with("Cookie")).count(),
        0,
        "udev cookies left: {cookies}"
    );
    let page = std::fs::read_to_string(out.path().join("report/report.html")).unwrap();
    assert!(
        page.contains("dmeventd: autoextend"),
        "no dmeventd mark in the report"
    );
}

/// A user's `thinbench run --env host --dmeventd` on the udev + dmeventd guest, killed
/// (SIGKILL: no teardown) once its fill has begun: `thinbench cleanup` lists its VG, loop
/// devices, lvm profile and scratch directory, removes them, and finds nothing after.
#[test]
#[ignore = "boots a VM (qemu TCG, ~1 min); run by ci/test"]
fn vm_dmeventd_host_run_killed_then_cleanup() {
    if !vm_available() {
        return;
    }
    let share = tempfile::tempdir().unwrap();
    let d = share.path().display().to_string();
    let fixture = repo().join("thinbench/tests/fixtures/dmeventd-host.toml");
    let f = fixture.display();
    let script = format!(
        "{BIN} run --env host --dmeventd {f} --out {d}/killed > {d}/killed.log 2>&1 & pid=$!; \
         i=0; while ! grep -q '\"name\":\"fill\"' {d}/killed/events.jsonl 2>/dev/null && [ $i -lt 1200 ]; do sleep 0.2; i=$((i+1)); done; \
         sleep 1; ls /etc/lvm/profile > {d}/profiles-while-running; kill -9 $pid; wait $pid; echo killed=$? > {d}/rc; \
         {BIN} cleanup --dry-run > {d}/cleanup-list.txt 2>&1; {BIN} cleanup > {d}/cleanup.txt 2>&1; echo cleanup=$? >> {d}/rc; \
         {BIN} cleanup --dry-run > {d}/cleanup-after.txt 2>&1; ls /etc/lvm/profile > {d}/profiles-after-cleanup; \
         vgs --noheadings -o vg_name > {d}/vgs 2>&1; losetup -a > {d}/loops; dmsetup udevcookies > {d}/cookies 2>&1",
    );
    let o = Command::new(BIN)
        .current_dir(repo())
        .args(["vm", "exec", "--services", "udev,dmeventd"])
        .arg("--share")
        .arg(share.path())
        .arg("--")
        .arg(script)
        .output()
        .unwrap();
    let read = |n: &str| std::fs::read_to_string(share.path().join(n)).unwrap_or_default();
    eprintln!(
        "{}\n{}\nrc: {}\nrun: {}\nprofiles while running: {}\ncleanup list: {}\ncleanup: {}\nafter: {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
        read("rc"),
        read("killed.log"),
        read("profiles-while-running"),
        read("cleanup-list.txt"),
        read("cleanup.txt"),
        read("cleanup-after.txt")
    );
    // It was killed in its fill, with its profile installed where dmeventd reads it.
    assert!(
        read("rc").contains("killed=137"),
        "not killed: {}",
        read("rc")
    );
    assert!(read("profiles-while-running").contains("thinbench-"));
    let list = read("cleanup-list.txt");
    for what in [
        "volume group tb_",
        "loop device",
        "lvm profile",
        "scratch directory",
    ] {
        assert!(list.contains(what), "cleanup did not find a {what}: {list}");
    }
    assert!(read("rc").contains("cleanup=0"), "cleanup failed");
    let after = read("cleanup-after.txt");
    assert!(
        !after.contains("volume group")
            && !after.contains("loop device")
            && !after.contains("lvm profile"),
        "left after cleanup: {after}"
    );
    assert!(!read("profiles-after-cleanup").contains("thinbench-"));
    assert!(!read("vgs").contains("tb_"), "{}", read("vgs"));
    assert!(!read("loops").contains("thinbench"), "{}", read("loops"));
    assert_eq!(
        read("cookies")
            .lines()
            .filter(|l| !l.starts_with("Cookie"))
            .count(),
        0,
        "udev cookies left: {}",
        read("cookies")
    );
}
