//! The expectation checks: each holds when the pool did what was expected and fails,
//! naming both figures, when it did not; and the runner's error paths.

use nix::errno::Errno;
use thinbench_schema::record::Status;

use super::{one_pool, run, run_with};
use crate::backend::fake::FakeOp;
use crate::runner::FakePools;

/// A thin, 1 MiB written to it (16 chunks), then `expect` on a last small write.
fn written(expect: &str) -> String {
    one_pool(&format!(
        r#"
[[step]]
action = "create-thin"
thin = "a"
size = "8MiB"
[[step]]
name = "w"
action = "small-write"
thin = "a"
pattern = "sequential"
io_size = "64KiB"
bytes = "1MiB"
[step.expect]
{expect}
"#
    ))
}

fn check(expect: &str, what: &str) -> (Status, String, String, Option<String>) {
    let r = run(&written(expect));
    let e = r.expectation("w", what);
    (
        e.status,
        e.expected.clone(),
        e.observed.clone(),
        e.message.clone(),
    )
}

#[test]
fn data_blocks_allocated_holds_exactly_or_fails_naming_both_figures() {
    let (st, ..) = check("data_blocks_allocated = 16", "data blocks allocated");
    assert_eq!(st, Status::Passed);
    let (st, exp, obs, msg) = check("data_blocks_allocated = 15", "data blocks allocated");
    assert_eq!(
        (st, exp.as_str(), obs.as_str()),
        (Status::Failed, "15", "16")
    );
    assert_eq!(
        msg.as_deref(),
        Some("step 1 (w): data blocks allocated: expected 15, observed 16")
    );
}

#[test]
fn mode_and_needs_check_hold_or_fail() {
    assert_eq!(check("mode = \"rw\"", "pool mode").0, Status::Passed);
    let (st, exp, obs, _) = check("mode = \"out_of_data_space\"", "pool mode");
    assert_eq!(
        (st, exp.as_str(), obs.as_str()),
        (Status::Failed, "out_of_data_space", "rw")
    );
    let what = "pool needs_check flag";
    assert_eq!(check("needs_check = false", what).0, Status::Passed);
    assert_eq!(check("needs_check = true", what).0, Status::Failed);
}

#[test]
fn workload_errors_and_first_error_hold_or_fail() {
    assert_eq!(check("errors = 0", "workload IO errors").0, Status::Passed);
    let (st, exp, obs, _) = check("errors = 2", "workload IO errors");
    assert_eq!((st, exp.as_str(), obs.as_str()), (Status::Failed, "2", "0"));
    let (st, _, obs, _) = check("first_error = \"ENOSPC\"", "first workload error");
    assert_eq!(st, Status::Failed, "no error happened: {obs}");
}

#[test]
fn a_failing_expectation_fails_its_step_and_the_case_but_the_case_goes_on() {
    let r = run(&format!(
        "{}\n[[step]]\nname = \"later\"\naction = \"create-thin\"\nthin = \"b\"\n",
        written("data_blocks_allocated = 3")
    ));
    assert_eq!(r.step("w").status, Status::Failed);
    assert_eq!(r.step("later").status, Status::Passed);
    assert_eq!(r.summary.cases[0].status, Status::Failed);
}

/// The fake's next `create-thin` fails with `e`.
fn failing_create(e: Errno) -> FakePools {
    FakePools {
        prepare: Some(Box::new(move |p| p.fail_next(FakeOp::CreateThin, e))),
        ..Default::default()
    }
}

#[test]
fn a_step_error_fails_the_step_stops_the_case_and_is_recorded() {
    let r = run_with(&written(""), failing_create(Errno::EEXIST));
    let s = &r.steps(0)[0];
    assert_eq!(s.status, Status::Failed);
    assert!(
        s.error.as_deref().unwrap().contains("EEXIST"),
        "{:?}",
        s.error
    );
    assert_eq!(r.steps(0).len(), 1, "later steps do not run after an error");
    assert_eq!(r.summary.cases[0].status, Status::Failed);
    let events = std::fs::read_to_string(r.dir.path().join("out/events.jsonl")).unwrap();
    assert!(
        events.contains("EEXIST"),
        "the error is in the event stream"
    );
}

#[test]
fn error_contains_passes_on_the_refusal_it_names_and_fails_without_it() {
    let toml = |text: &str| {
        one_pool(&format!(
            "[[step]]\nname = \"c\"\naction = \"create-thin\"\nthin = \"a\"\n\
             [step.expect]\nerror_contains = \"{text}\"\n"
        ))
    };
    let r = run_with(&toml("injected by the test"), failing_create(Errno::ENOSPC));
    assert_eq!(r.step("c").status, Status::Passed, "{:#?}", r.step("c"));
    let r = run_with(&toml("something else"), failing_create(Errno::ENOSPC));
    assert_eq!(r.step("c").status, Status::Failed);
    let r = run(&toml("injected by the test"));
    assert_eq!(r.step("c").status, Status::Failed, "the step did not fail");
}

#[test]
fn a_workload_step_is_sampled_while_it_runs() {
    let r = run(&written(""));
    let rows = r.samples();
    let reasons: Vec<&str> = rows.iter().map(|s| s.reason.as_str()).collect();
    assert!(reasons.contains(&"step-start") && reasons.contains(&"step-end"));
    assert!(rows.iter().all(|s| s.pool == "p"));
    let last = rows.last().unwrap();
    assert_eq!(last.data_used, 16, "{rows:#?}");
}

#[test]
fn error_kind_passes_on_the_kind_expected_and_fails_naming_the_one_seen() {
    let toml = |kind: &str| {
        one_pool(&format!(
            "[[step]]\nname = \"c\"\naction = \"create-thin\"\nthin = \"a\"\n\
             [step.expect]\nerror = \"{kind}\"\n"
        ))
    };
    let r = run_with(&toml("EEXIST"), failing_create(Errno::EEXIST));
    assert_eq!(r.step("c").status, Status::Passed, "{:#?}", r.step("c"));
    let e = r.expectation("c", "step fails with an error of kind");
    assert_eq!(
        (e.expected.as_str(), e.observed.as_str()),
        ("EEXIST", "EEXIST")
    );

    let r = run_with(&toml("EBUSY"), failing_create(Errno::EEXIST));
    assert_eq!(r.step("c").status, Status::Failed);
    let e = r.expectation("c", "step fails with an error of kind");
    assert_eq!(
        (e.expected.as_str(), e.observed.as_str()),
        ("EBUSY", "EEXIST")
    );

    let r = run(&toml("EEXIST"));
    assert_eq!(r.step("c").status, Status::Failed, "it did not fail");
    assert_eq!(
        r.expectation("c", "step fails with an error of kind")
            .observed,
        "no error"
    );
}

#[test]
fn a_delete_the_pool_refuses_as_busy_is_expected_as_ebusy() {
    let toml = one_pool(
        "[[step]]\naction = \"create-thin\"\nthin = \"a\"\n\
         [[step]]\nname = \"d\"\naction = \"delete-thin\"\nthin = \"a\"\n\
         [step.expect]\nerror = \"EBUSY\"\nerror_contains = \"injected\"\n",
    );
    let pools = FakePools {
        prepare: Some(Box::new(|p| p.fail_next(FakeOp::Delete, Errno::EBUSY))),
        ..Default::default()
    };
    let r = run_with(&toml, pools);
    assert_eq!(r.step("d").status, Status::Passed, "{:#?}", r.step("d"));
    assert_eq!(
        r.step("d").expectations.len(),
        3,
        "kind, text, changes nothing"
    );
}

/// Docker's `dm.min_free_space`: thinbench itself refuses the snapshot (kind
/// `refused`), from the fake pool's real usage.
#[test]
fn a_snapshot_below_min_free_space_is_refused() {
    let toml = |min: &str| {
        format!(
            "format = 1\nname = \"t\"\n[[pool]]\nname = \"p\"\nkind = \"loop-lvm\"\n\
             data_size = \"4MiB\"\nmetadata_size = \"8MiB\"\nmin_free_space = \"{min}\"\n\
             [[step]]\naction = \"create-thin\"\nthin = \"a\"\nsize = \"4MiB\"\n\
             [[step]]\naction = \"small-write\"\nthin = \"a\"\npattern = \"sequential\"\n\
             io_size = \"64KiB\"\nbytes = \"3MiB\"\n\
             [[step]]\nname = \"s\"\naction = \"snapshot\"\nthin = \"s\"\norigin = \"a\"\n\
             [step.expect]\nerror = \"refused\"\n"
        )
    };
    // 48 of 64 blocks used: 25% free.
    let r = run(&toml("30%"));
    assert_eq!(r.step("s").status, Status::Passed, "{:#?}", r.step("s"));
    assert!(r
        .step("s")
        .error
        .as_deref()
        .unwrap()
        .contains("below min_free_space 30%"));
    let r = run(&toml("20%"));
    assert_eq!(
        r.step("s").status,
        Status::Failed,
        "25% free is enough for 20%"
    );
}

/// One sampler per case: periodic samples through a step that runs no workload (a
/// deferred removal holding its thin for 200 ms), at the scenario's `sample_interval`,
/// each with the step it fell in.
#[test]
fn the_case_sampler_samples_every_step_at_the_scenarios_interval() {
    let toml = one_pool(
        "[[step]]\naction = \"create-thin\"\nthin = \"a\"\n\
         [[step]]\nname = \"rm\"\naction = \"deferred-removal\"\nthin = \"a\"\nhold = \"200ms\"\n",
    )
    .replace(
        "name = \"t\"\n",
        "name = \"t\"\nsample_interval = \"10ms\"\n",
    );
    let r = run(&toml);
    super::all_passed(&r);
    let rm = r.step("rm").index;
    let periodic: Vec<_> = r
        .samples()
        .into_iter()
        .filter(|s| s.reason == "periodic" && s.step == Some(rm))
        .collect();
    // 200 ms at 10 ms: at least ⌊(200 − gaps)/10⌋ − 1, allowing for a slow machine's
    // scheduling: a stretch the sampler could not read in is a gap it says it had.
    let st = r.step("rm");
    let (a, b) = (st.started_ms, st.started_ms + st.duration_ms);
    let events = std::fs::read_to_string(r.dir.path().join("out/events.jsonl")).unwrap();
    let gaps: u64 = events
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["event"] == "sampling_gap")
        .map(|v| {
            let (f, t) = (v["from_ms"].as_u64().unwrap(), v["to_ms"].as_u64().unwrap());
            t.min(b).saturating_sub(f.max(a))
        })
        .sum();
    let want = ((st.duration_ms.saturating_sub(gaps)) / 10).saturating_sub(2);
    assert!(
        periodic.len() as u64 >= want.min(10) && !periodic.is_empty(),
        "{} periodic samples in the step ({gaps} ms of gaps)",
        periodic.len()
    );
    assert!(periodic
        .iter()
        .all(|s| s.no_space == "queue" && s.mode == "rw"));
}
