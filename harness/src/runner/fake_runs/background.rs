//! Background steps on the fake pool: the workload runs across later steps, the steps in
//! between skip the accounting check (saying why), the wait checks the model against the
//! pool and reads every write back; a case that fails before the wait stops the workload.

use super::{all_passed, one_pool, run};
use thinbench_schema::record::Status;

const TWO_THINS: &str = r#"
[[step]]
action = "create-thin"
thin = "a"
size = "32MiB"

[[step]]
action = "create-thin"
thin = "b"
size = "32MiB"

[[step]]
name = "bg"
action = "small-write"
thin = "a"
pattern = "sequential"
bytes = "8MiB"
io_size = "64KiB"
background = true
"#;

#[test]
fn a_background_write_is_accounted_and_verified_at_its_wait() {
    let r = run(&one_pool(&format!(
        "{TWO_THINS}
[[step]]
name = \"meanwhile\"
action = \"small-write\"
thin = \"b\"
pattern = \"sequential\"
bytes = \"1MiB\"
io_size = \"64KiB\"

[[step]]
name = \"end\"
action = \"wait\"
step = \"bg\"
[step.expect]
errors = 0
"
    )));
    all_passed(&r);
    for step in ["bg", "meanwhile"] {
        let x = r.expectation(step, "data blocks allocated == model");
        assert_eq!(x.status, Status::Skipped, "{x:#?}");
        assert!(x.observed.contains("background step `bg`"), "{x:#?}");
    }
    // The wait's prediction is the whole workload's: 8MiB of 64KiB chunks, less what the
    // pool had already allocated for it as the wait began.
    let end = r.step("end");
    let w = end
        .workload
        .as_ref()
        .expect("the wait carries the workload");
    assert_eq!(w.bytes.0, 8 << 20);
    let x = r.expectation("end", "data blocks allocated == model");
    assert_eq!(x.status, Status::Passed, "{x:#?}");
    let x = r.expectation(
        "end",
        "thin_ls agrees with the model (per thin id: mapped/exclusive/shared blocks)",
    );
    assert_eq!(x.status, Status::Passed, "{x:#?}");
    let x = r.expectation("end", "integrity: a after background step bg");
    assert_eq!(x.status, Status::Passed, "{x:#?}");
    assert_eq!(x.expected, "16384 sectors intact");
}

#[test]
fn a_case_that_fails_before_the_wait_stops_the_background_workload() {
    let r = run(&one_pool(&format!(
        "{TWO_THINS}
[[step]]
action = \"reboot\"

[[step]]
action = \"wait\"
step = \"bg\"
"
    )));
    let case = &r.summary.cases[0];
    assert_eq!(case.status, Status::Failed, "{case:#?}");
    assert_eq!(case.steps.len(), 4, "the wait never ran: {:#?}", case.steps);
    let e = case.error.as_deref().unwrap_or_default();
    assert!(
        e.contains("background step(s) bg ended without their wait"),
        "{e}"
    );
}
