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

/// Every fio job thinbench ships passes the job check (an allowlist): the VM fixtures
/// here and the jobs inside the shipped scenarios (`job = """..."""`, `job_file`).
#[test]
fn every_shipped_fio_job_passes_the_allowlist() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut checked = Vec::new();
    let fixtures = root.join("tests/fixtures/fio");
    for entry in std::fs::read_dir(&fixtures).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "fio") {
            let text = std::fs::read_to_string(&p).unwrap();
            check_job_text(&text).unwrap_or_else(|e| panic!("{}: {e:?}", p.display()));
            checked.push(p);
        }
    }
    let scenarios = root.join("../scenarios");
    for entry in std::fs::read_dir(&scenarios).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        for job in inline_jobs(&text) {
            check_job_text(job).unwrap_or_else(|e| panic!("{} job: {e:?}", p.display()));
            checked.push(p.clone());
        }
        for line in text.lines() {
            let Some(rest) = line.trim().strip_prefix("job_file") else {
                continue;
            };
            let file = rest.trim_start_matches([' ', '=']).trim().trim_matches('"');
            let job = p.parent().unwrap().join(file);
            let job_text = std::fs::read_to_string(&job)
                .unwrap_or_else(|e| panic!("{}: {}: {e}", p.display(), job.display()));
            check_job_text(&job_text).unwrap_or_else(|e| panic!("{}: {e:?}", job.display()));
            checked.push(job);
        }
    }
    // The two VM fixtures and the peer benchmark's own job at least.
    assert!(checked.len() >= 3, "{checked:?}");
    assert!(
        checked.iter().any(|p| p.ends_with("engine-vs-fio.toml")),
        "{checked:?}"
    );
}

/// The `job = """..."""` strings of a scenario's text (TOML's multi-line basic string,
/// whose first newline is not part of the value).
fn inline_jobs(toml: &str) -> Vec<&str> {
    let mut jobs = Vec::new();
    let mut rest = toml;
    while let Some(i) = rest.find("job = \"\"\"") {
        let body = &rest[i + "job = \"\"\"".len()..];
        let body = body.strip_prefix('\n').unwrap_or(body);
        let end = body.find("\"\"\"").expect("a closed multi-line string");
        jobs.push(&body[..end]);
        rest = &body[end + 3..];
    }
    jobs
}
