//! The peer scenarios (`scenarios/peer/`: device-mapper-test-suite's and dmtest-python's
//! thin tests, said in thinbench's words; docs/peer-coverage.md) in one boot: each passes
//! on the pool kinds it names, every step checked against the model (or a refusal checked
//! to have changed nothing, or skipped saying a background step writes), the metadata
//! clean after teardown. A fixture that expects a refusal the kernel does not give fails,
//! naming the step and what happened.

use std::process::Command;

use thinbench_schema::record::{RunSummary, Status};

use super::{repo, vm_available, BIN};

/// The peer scenarios CI runs in its one boot: one or more per capability of the
/// vocabulary (docs/peer-coverage.md, "Running them"), about 3 minutes of TCG time of the
/// 7 all of them take. `THINBENCH_PEER=all` runs every file of `scenarios/peer/`.
const CI_SET: [&str; 13] = [
    "creation_tests", // kernel refusals; suspend, activate while suspended, resume
    "ramdisk_tests",  // baselines: linear and striped devices beside thins, in RAM
    "direct_lvm_fault_tests", // a metadata abort under a fault layer; a reboot through lvm
    "discard_tests",  // block-range discards: exclusive freed, shared kept; passdown
    "external_origin_tests", // an external origin smaller, equal, bigger than the thin
    "multiple_pool_tests", // a pool stacked on thins of three pools
    "pool_resize_tests", // data grown live, under IO, offline; shrinks refused
    "read_only_tests", // a read-only pool refusing to provision
    "transaction_id_tests", // set_transaction_id, its refusals; a clean reboot keeps all
    "tools_tests_metadata", // thin_dump/thin_delta on metadata snapshots vs the model; refusals
    "restore_tests",  // dump, thin_restore, dump on the inactive metadata; data served;
    // generated metadata; thin_dump --repair; thin_trim returning space
    "pool_resize_tests_tables", // hand-written tables (dm-table) refused and taken
    "flush_triggers_commit",    // commit observation: metadata writes only when changed
];
// Not in CI for the suite's 15 minutes (in the full set, THINBENCH_PEER=all):
// suspend_tests (`pool_resumes_after`, 39 s), ramdisk_tests_stacked, striped_tests and
// the background-filesystem files (parallel-fs-io.toml has a VM test of its own).

/// The scenario files of `scenarios/peer/` this run covers, by stem, sorted.
fn peer_scenarios() -> Vec<String> {
    let all = std::env::var("THINBENCH_PEER").is_ok_and(|v| v == "all");
    let mut v = all_peer_scenarios();
    if !all {
        for n in CI_SET {
            assert!(
                v.iter().any(|s| s == n),
                "CI_SET names {n}, not in scenarios/peer/"
            );
        }
        v.retain(|s| CI_SET.contains(&s.as_str()));
    }
    v
}

/// The scenario files of `scenarios/peer/`, by stem, sorted.
fn all_peer_scenarios() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(repo().join("scenarios/peer"))
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let p = e.path();
            (p.extension()? == "toml").then(|| p.file_stem()?.to_str().map(str::to_owned))?
        })
        .collect();
    v.sort();
    v
}

#[test]
#[ignore = "boots a VM (qemu TCG, ~3 min; THINBENCH_PEER=all: ~8 min); run by ci/test"]
fn vm_peer_scenarios_pass_in_one_boot() {
    if !vm_available() {
        return;
    }
    let names = peer_scenarios();
    assert!(!names.is_empty(), "scenarios/peer/ has no scenarios");
    let out = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = vec!["run".into()];
    args.extend(names.iter().map(|n| format!("scenarios/peer/{n}.toml")));
    args.push("thinbench/tests/fixtures/vm/refusal-not-given.toml".into());
    args.push("thinbench/tests/fixtures/vm/thin-trim-0-9.toml".into());
    args.extend(["--env".into(), "vm".into(), "--out".into()]);
    let run = Command::new(BIN)
        .current_dir(repo())
        .args(&args)
        .arg(out.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    eprint!("{stdout}{}", String::from_utf8_lossy(&run.stderr));
    // The fixtures fail, so the batch does.
    assert_eq!(run.status.code(), Some(1), "exit code of the batch");
    let summary = |n: &str| -> RunSummary {
        let text = std::fs::read_to_string(out.path().join(n).join("summary.json"))
            .unwrap_or_else(|e| panic!("{n}: no summary.json: {e}"));
        serde_json::from_str(&text).unwrap()
    };
    for n in &names {
        let s = summary(n);
        for c in &s.cases {
            for st in &c.steps {
                for e in st
                    .expectations
                    .iter()
                    .filter(|e| e.status != Status::Passed)
                {
                    eprintln!(
                        "{n}/{}/{}: {}: {:?}: {} (expected {})",
                        c.pool.name, st.name, e.what, e.status, e.observed, e.expected
                    );
                }
                assert_eq!(
                    st.status,
                    Status::Passed,
                    "{n} {} step {}: {st:#?}",
                    c.id,
                    st.name
                );
                let model = st
                    .expectations
                    .iter()
                    .find(|x| x.what.starts_with("data blocks allocated == model"));
                let refused = st
                    .expectations
                    .iter()
                    .any(|x| x.what == "a refused step changes nothing");
                assert!(
                    model.is_some() || refused,
                    "{n} {}: step {} has no model check",
                    c.id,
                    st.name
                );
                if let Some(m) = model.filter(|m| m.status == Status::Skipped) {
                    // The reasons the runner gives for not predicting a step.
                    assert!(
                        m.observed.contains("background step")
                            || m.observed
                                .contains("a power cut under a fault that loses writes")
                            || m.observed
                                .contains("the pool aborted its transaction under a fault"),
                        "{n} {}: step {}: the model check is skipped for another reason: {}",
                        c.id,
                        st.name,
                        m.observed
                    );
                }
            }
            // A pool whose construction is the test (`expect_error`) has no metadata to
            // check: its case passes on the kernel's refusal, which its timeline names.
            if c.timeline.iter().any(|t| t.kind == "refusal") {
                assert!(c.steps.is_empty(), "{n} {}: steps on a refused pool", c.id);
                assert_eq!(c.status, Status::Passed, "{n} {}: {:?}", c.id, c.error);
                continue;
            }
            assert_eq!(
                c.metadata_check.as_deref(),
                Some("thin_check: ok"),
                "{n} {}: thin_check after teardown",
                c.id
            );
        }
        assert_eq!(s.status, Status::Passed, "{n}: {:?}", s.error);
    }
    // The kernel gives no refusal where the fixture expects one: the step fails, its
    // message naming the step, the kind expected and what happened.
    let s = summary("refusal-not-given");
    assert_eq!(s.status, Status::Failed);
    let st = &s.cases[0].steps[0];
    assert_eq!(st.status, Status::Failed, "{st:#?}");
    let msg = st
        .expectations
        .iter()
        .filter_map(|e| e.message.as_deref())
        .find(|m| m.contains("step fails with an error of kind"))
        .unwrap_or_else(|| panic!("no refusal verdict: {st:#?}"));
    assert!(
        msg.contains("step 0 (no-refusal)") && msg.contains("expected EINVAL, observed no error"),
        "{msg}"
    );
    // thin-provisioning-tools 0.9.0's thin_trim discards the highest mapped block when
    // free blocks follow it (the fixture's header): the trim gives the deleted thin's
    // space back, and the one thin left reads zeroes where it wrote. When this fails
    // because nothing was lost, the tool was fixed: restore_tests.toml can say
    // thin_trim_discards_correct_area again (docs/peer-coverage.md).
    let s = summary("thin-trim-0-9");
    let c = &s.cases[0];
    let (last, before) = c.steps.split_last().expect("steps");
    assert!(
        before.iter().all(|st| st.status == Status::Passed),
        "{c:#?}"
    );
    assert_eq!(last.name, "trim_discards_correct_area");
    let verdict = |what: &str| {
        last.expectations
            .iter()
            .find(|e| e.what.starts_with(what))
            .unwrap_or_else(|| panic!("no `{what}` check: {last:#?}"))
    };
    assert_eq!(
        verdict("thin_trim: the data file holds").status,
        Status::Passed
    );
    let lost = verdict("integrity: reads back after thin_trim");
    assert_eq!(lost.status, Status::Failed, "{lost:?}");
    assert!(
        lost.message
            .as_deref()
            .is_some_and(|m| m.contains("zeroed")),
        "{lost:?}"
    );
    eprintln!(
        "thin_trim 0.9.0 still discards a mapped block: {:?}",
        lost.message
    );
}
