//! fio's JSON as captured in the VM (fio 3.33, Debian 12, on a dm-thin device; see
//! `fixtures/fio/README.md`) parsed into the result model, every figure checked against
//! the file.

use thinbench_workloads::fio::{check_job_text, parse_json};

fn fixture(name: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fio")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn random_write_qd32_from_the_vm() {
    let r = parse_json(&fixture("randwrite-4k-qd32-vm.json")).unwrap();
    assert_eq!(r.version, "fio-3.33");
    assert_eq!(r.job_entries, 1);
    // Only the write direction did IO.
    assert_eq!(
        r.phases.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        ["write"]
    );
    let s = &r.stats;
    assert_eq!(s.workload, "fio");
    assert_eq!((s.ops, s.bytes.0, s.errors), (4981, 4981 * 4096, 0));
    assert!((s.iops - 2483.050847).abs() < 1e-6, "{s:?}");
    assert!((s.mb_per_s - 10.170576).abs() < 1e-9, "{s:?}");
    assert_eq!(s.elapsed_ns, 2_006_000_000);
    // Total latency (lat_ns, from lat_percentiles=1), not completion latency.
    let l = &s.latency;
    assert_eq!((l.count, l.min_ns, l.max_ns), (4981, 1_715_090, 45_142_160));
    assert_eq!(l.p99_ns, 31_588_352);
    assert!(l.p50_ns > 0 && l.p50_ns <= l.p90_ns && l.p90_ns <= l.p99_ns);
    assert!(l.p99_ns <= l.p999_ns && l.p999_ns <= l.max_ns);
    // The job thinbench generated for it passes thinbench's own job check.
    check_job_text(&fixture("randwrite-4k-qd32-vm.fio")).unwrap();
}

#[test]
fn own_mixed_job_from_the_vm_has_both_directions() {
    let r = parse_json(&fixture("randrw-own-job-vm.json")).unwrap();
    let names: Vec<&str> = r.phases.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["read", "write"]);
    let read = &r.phases[0].stats;
    let write = &r.phases[1].stats;
    assert_eq!((read.ops, write.ops), (1235, 540));
    assert_eq!(read.latency.p99_ns, 36_962_304);
    assert_eq!(write.latency.p99_ns, 37_486_592);
    // The step's headline is the busier direction (reads, 70% of this job).
    assert_eq!(r.stats.ops, 1235);
    check_job_text(&fixture("randrw-own-job-vm.fio")).unwrap();
}

#[test]
fn truncated_vm_output_is_an_error_not_a_panic() {
    let text = fixture("randwrite-4k-qd32-vm.json");
    for cut in [1, text.len() / 3, text.len() / 2, text.len() - 2] {
        assert!(parse_json(&text[..cut]).is_err(), "cut at {cut}");
    }
}
