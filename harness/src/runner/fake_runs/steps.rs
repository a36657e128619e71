//! One test (at least) per step action, each asserting the action's bookkeeping: what it
//! predicted, what the fake pool allocated, what it checked, what it left.

use thinbench_schema::record::Status;

use super::{all_passed, one_pool, run};

const BASE: &str = r#"
[[step]]
name = "base"
action = "create-thin"
thin = "base"
size = "16MiB"
[step.expect]
data_blocks_allocated = 0
"#;

#[test]
fn create_thin_allocates_nothing_and_the_thin_takes_writes() {
    let r = run(&one_pool(&format!(
        "{BASE}
[[step]]
name = \"w\"
action = \"small-write\"
thin = \"base\"
pattern = \"sequential\"
io_size = \"4KiB\"
bytes = \"1MiB\"
[step.expect]
data_blocks_allocated = \"chunks-touched\"
errors = 0
mode = \"rw\"
"
    )));
    all_passed(&r);
    assert_eq!(r.step("base").data_blocks_allocated, Some(0));
    // 1 MiB of 4 KiB sequential writes touches 16 chunks of 64 KiB.
    assert_eq!(r.step("w").data_blocks_allocated, Some(16));
    let w = r.step("w").workload.as_ref().unwrap();
    assert_eq!((w.ops, w.errors), (256, 0));
    assert_eq!(
        r.expectation(
            "w",
            "data blocks allocated == distinct chunks first touched"
        )
        .observed,
        "16"
    );
}

/// The fake pool has no block devices: its IO is not measured — no `io.*` figure at all
/// (never zeros) and a reason on every step, workload or not.
#[test]
fn io_counters_are_absent_on_the_fake_pool_and_say_why() {
    let r = run(&one_pool(&format!(
        "{BASE}
[[step]]
name = \"w\"
action = \"small-write\"
thin = \"base\"
pattern = \"sequential\"
io_size = \"4KiB\"
bytes = \"256KiB\"
"
    )));
    all_passed(&r);
    for st in r.steps(0) {
        let io: Vec<&str> = st
            .metrics
            .iter()
            .map(|m| m.name.as_str())
            .filter(|n| {
                n.starts_with("io.data.")
                    || n.starts_with("io.metadata.")
                    || n.starts_with("oracle.thin_ls_metadata")
            })
            .collect();
        assert!(io.is_empty(), "step {}: {io:?}", st.name);
        let why = st.io_not_measured.as_deref().unwrap_or("");
        assert!(
            why.starts_with("not measured: ") && why.contains("fake"),
            "step {}: {why:?}",
            st.name
        );
    }
    assert!(r.step("w").workload.as_ref().is_some_and(|w| w.ops == 64));
}

#[test]
fn small_write_random_counts_first_touches_not_ios() {
    let r = run(&one_pool(&format!(
        "{BASE}
[[step]]
name = \"w\"
action = \"small-write\"
thin = \"base\"
pattern = \"random\"
seed = 7
io_size = \"4KiB\"
count = 300
span = \"2MiB\"
[step.expect]
data_blocks_allocated = \"chunks-touched\"
"
    )));
    all_passed(&r);
    let got = r.step("w").data_blocks_allocated.unwrap();
    // 300 random 4 KiB IOs over 32 chunks: nearly all chunks, never more than 32.
    assert!((20..=32).contains(&got), "{got}");
}

#[test]
fn snapshot_shares_and_delete_thin_frees_only_what_it_alone_mapped() {
    let r = run(&one_pool(&format!(
        "{BASE}
[[step]]
name = \"w\"
action = \"small-write\"
thin = \"base\"
pattern = \"sequential\"
io_size = \"64KiB\"
bytes = \"1MiB\"
[[step]]
name = \"snap\"
action = \"snapshot\"
thin = \"snap\"
origin = \"base\"
[step.expect]
data_blocks_allocated = 0
[[step]]
name = \"w2\"
action = \"small-write\"
thin = \"snap\"
pattern = \"sequential\"
io_size = \"4KiB\"
bytes = \"256KiB\"
[[step]]
name = \"del\"
action = \"delete-thin\"
thin = \"snap\"
"
    )));
    all_passed(&r);
    assert_eq!(r.step("snap").data_blocks_allocated, Some(0));
    // Writing 4 shared chunks of the snapshot copies them.
    assert_eq!(r.step("w2").data_blocks_allocated, Some(4));
    assert_eq!(r.step("del").data_blocks_allocated, Some(-4));
    // The model's prediction is checked against the fake on every step.
    let e = r.expectation("del", "data blocks allocated == model");
    assert_eq!((e.expected.as_str(), e.observed.as_str()), ("-4", "-4"));
}

#[test]
fn cow_overwrite_copies_on_both_sides_and_verifies_every_layer() {
    let r = run(&one_pool(&format!(
        "{BASE}
[[step]]
name = \"layers\"
action = \"cow-overwrite\"
origin = \"base\"
depth = 2
region = \"1MiB\"
io_size = \"4KiB\"
"
    )));
    all_passed(&r);
    let s = r.step("layers");
    assert!(!s.phases.is_empty(), "{s:#?}");
    assert!(s.data_blocks_allocated.unwrap() > 16, "{s:#?}");
    assert!(
        s.expectations.iter().any(|e| e.what.contains("integrity")),
        "{:#?}",
        s.expectations
    );
}

/// The fake never runs out of space (a file write does not fail), so a fill capped by
/// `bytes` shows the fill's own bookkeeping: what it wrote is allocated and verified,
/// and its check that the pool ran out fails, saying what to change.
#[test]
fn fill_capped_by_bytes_verifies_what_it_wrote_and_says_the_pool_never_ran_out() {
    let r = run(&one_pool(&format!(
        "{BASE}
[[step]]
name = \"fill\"
action = \"fill\"
thin = \"base\"
bytes = \"2MiB\"
"
    )));
    let s = r.step("fill");
    assert_eq!(s.data_blocks_allocated, Some(32));
    assert_eq!(s.workload.as_ref().unwrap().bytes.0, 2 * 1024 * 1024);
    assert_eq!(
        r.expectation("fill", "integrity: base after filling")
            .status,
        Status::Passed
    );
    assert_eq!(
        r.expectation("fill", "data blocks allocated == model")
            .status,
        Status::Passed
    );
    let out = r.expectation("fill", "the pool ran out of data space");
    assert_eq!(out.status, Status::Failed);
    assert_eq!(out.observed, "never (2097152 bytes written)");
    assert!(out
        .message
        .as_deref()
        .unwrap()
        .contains("write more (`bytes`)"));
    assert_eq!(s.status, Status::Failed);
}

#[test]
fn deferred_removal_of_an_open_thin_sees_ebusy_the_flag_and_the_last_close() {
    let r = run(&one_pool(&format!(
        "{BASE}
[[step]]
name = \"rm\"
action = \"deferred-removal\"
thin = \"base\"
holder = \"fd\"
hold = \"50ms\"
"
    )));
    all_passed(&r);
    let whats: Vec<&str> = r
        .step("rm")
        .expectations
        .iter()
        .map(|e| e.what.as_str())
        .collect();
    for w in [
        "plain remove of a busy device fails with EBUSY (\"Device is Busy\")",
        "deferred remove accepted, device shows the deferred flag",
        "device still present while held",
        "device disappears at last close",
    ] {
        assert!(whats.contains(&w), "{w} not in {whats:?}");
    }
}

#[test]
fn deferred_deletion_retries_until_the_holder_lets_go() {
    let r = run(&one_pool(&format!(
        "{BASE}
[[step]]
name = \"w\"
action = \"small-write\"
thin = \"base\"
pattern = \"sequential\"
io_size = \"64KiB\"
bytes = \"512KiB\"
[[step]]
name = \"del\"
action = \"deferred-deletion\"
thin = \"base\"
holder = \"fd\"
hold = \"100ms\"
retry_interval = \"20ms\"
"
    )));
    all_passed(&r);
    let s = r.step("del");
    assert_eq!(s.data_blocks_allocated, Some(-8));
    let m = |n: &str| s.metrics.iter().find(|m| m.name == n).map(|m| m.value);
    assert_eq!(m("deferred.deleted_device_count_peak"), Some(1.0));
}

#[test]
fn io_by_the_engine_accounts_its_writes() {
    let r = run(&one_pool(&format!(
        "{BASE}
[[step]]
name = \"io\"
action = \"io\"
thin = \"base\"
rw = \"write\"
io_size = \"64KiB\"
queue_depth = 4
count = 16
"
    )));
    all_passed(&r);
    let s = r.step("io");
    assert_eq!(s.data_blocks_allocated, Some(16));
    assert_eq!(s.workload.as_ref().unwrap().ops, 16);
}

/// The actions that need what the fake does not have (a filesystem on the thin, fio,
/// metadata, fault layers, a reboot) fail on it, each for its stated reason: an error
/// stops the case (and teardown still runs: the harness asserts no debris); a check the
/// fake cannot satisfy fails the step with its message and the case goes on.
#[test]
fn kernel_only_actions_fail_on_the_fake_for_their_reason() {
    enum Then {
        Error(&'static str),
        Check(&'static str),
    }
    for (action, keys, then) in [
        (
            "delete",
            "thin = \"base\"\nfs = \"ext4\"\nfiles = \"1MiB\"",
            Then::Error("is not a block device: a filesystem on a thin needs a kernel pool"),
        ),
        (
            "metadata-fill",
            "thin = \"base\"\nspan = \"1MiB\"\nsnapshots = 2",
            Then::Check("ran out of metadata space"),
        ),
        (
            "deferred-removal",
            "thin = \"base\"\nholder = \"mount\"",
            Then::Error("is not a block device"),
        ),
        ("repair-metadata", "", Then::Error("repair")),
        ("reboot", "", Then::Error("reboot")),
        (
            "replay",
            "",
            Then::Error("needs a log-writes fault under the pool"),
        ),
    ] {
        // A log-writes layer for `replay` (the fake builds none: the error says so).
        let fault = if action == "replay" {
            "[[fault]]\npool = \"p\"\ndevice = \"pool\"\ntarget = \"log-writes\"\n"
        } else {
            ""
        };
        let r = run(&one_pool(&format!(
            "{fault}{BASE}
[[step]]
name = \"k\"
action = \"{action}\"
{keys}
[[step]]
name = \"after\"
action = \"create-thin\"
thin = \"x\"
"
        )));
        let s = r.step("k");
        assert_eq!(s.status, Status::Failed, "{action}: {s:#?}");
        assert_eq!(r.summary.cases[0].status, Status::Failed);
        let went_on = r.steps(0).iter().any(|s| s.name == "after");
        match then {
            Then::Error(why) => {
                let e = s.error.as_deref().unwrap_or_default();
                assert!(e.contains(why), "{action}: error {e:?} should say {why}");
                assert!(!went_on, "{action}: the case went on after an error");
            }
            Then::Check(what) => {
                let failed: Vec<&str> = s
                    .expectations
                    .iter()
                    .filter(|e| e.status == Status::Failed)
                    .map(|e| e.what.as_str())
                    .collect();
                assert!(
                    failed.iter().any(|w| w.contains(what)),
                    "{action}: failed checks {failed:?} should include {what}"
                );
                assert!(went_on, "{action}: a failed check is not an error");
            }
        }
    }
}

/// The peer benchmark runs both engines on the fake's thin file; fio is the machine's
/// (`ci/setup.sh` installs it): without it the step must say so.
#[test]
fn engine_vs_fio_runs_both_engines_or_says_fio_is_missing() {
    let r = run(&one_pool(&format!(
        "{BASE}
[[step]]
name = \"peer\"
action = \"engine-vs-fio\"
thin = \"base\"
span = \"4MiB\"
runtime = \"200ms\"
rounds = 1
"
    )));
    let s = r.step("peer");
    let have_fio = std::process::Command::new("fio")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if have_fio {
        assert_eq!(s.status, Status::Passed, "{s:#?}");
        let names: Vec<&str> = s.metrics.iter().map(|m| m.name.as_str()).collect();
        assert!(names.iter().any(|n| n.contains("ratio")), "{names:?}");
        assert!(s.phases.len() >= 2, "{:#?}", s.phases);
    } else {
        assert!(
            s.error.as_deref().unwrap_or_default().contains("fio"),
            "{s:#?}"
        );
    }
}
