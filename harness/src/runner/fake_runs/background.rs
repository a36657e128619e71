//! Background steps on the fake pool: the workload runs across later steps, the steps in
//! between skip the accounting check (saying why), the wait checks the model against the
//! pool and reads every write back; a case that fails before the wait stops the workload.

use super::{all_passed, one_pool, run};
use thinbench_schema::record::{PoolMode, Status};

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
    // Beside the writer each step says how many background steps still ran (0 or 1: the
    // fake writes fast); after the wait there is none in flight, so no such figure.
    let running = |step: &str| {
        r.step(step)
            .metrics
            .iter()
            .find(|m| m.name == "background.running")
            .map(|m| m.value)
    };
    assert!(running("meanwhile").is_some_and(|v| v == 0.0 || v == 1.0));
    assert_eq!(running("end"), None);
    let at_wait = r
        .step("end")
        .metrics
        .iter()
        .find(|m| m.name == "background.running_at_wait")
        .map(|m| m.value);
    assert!(at_wait.is_some_and(|v| v == 0.0 || v == 1.0), "{at_wait:?}");
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

/// A 4MiB pool and a writer of twice that in the background, then `rest`.
fn filling(rest: &str) -> String {
    format!(
        "format = 1\nname = \"t\"\n\n[[pool]]\nname = \"p\"\nkind = \"loop-lvm\"\n\
         data_size = \"4MiB\"\nmetadata_size = \"8MiB\"\nlow_water_mark = 0\n\n\
         [[step]]\naction = \"create-thin\"\nthin = \"a\"\nsize = \"32MiB\"\n\n\
         [[step]]\nname = \"bg\"\naction = \"small-write\"\nthin = \"a\"\npattern = \"sequential\"\n\
         bytes = \"8MiB\"\nio_size = \"64KiB\"\nbackground = true\n{rest}"
    )
}

#[test]
fn a_step_awaiting_a_mode_begins_once_the_pool_is_in_it() {
    let r = run(&filling(
        "[[step]]\nname = \"grow\"\naction = \"resize\"\ndevice = \"data\"\nby = \"8MiB\"\n\
         await_mode = \"out_of_data_space\"\nexpect.mode = \"rw\"\n\
         [[step]]\nname = \"end\"\naction = \"wait\"\nstep = \"bg\"\n",
    ));
    let grow = r.step("grow");
    assert_eq!(grow.status, Status::Passed, "{grow:#?}");
    let before = grow.pool_before.as_ref().expect("a status before the step");
    assert_eq!(before.mode, PoolMode::OutOfDataSpace, "{before:#?}");
    // The fake pool holds no IO at a full pool (its thins are files): it reports full.
    assert!(before.data_used >= before.data_total, "{before:#?}");
}

#[test]
fn a_mode_no_running_workload_can_bring_fails_the_step_saying_why() {
    // 1MiB in a 4MiB pool: the writer ends with the pool rw, so the mode never comes.
    let r = run(&one_pool(&format!(
        "{TWO_THINS}
[[step]]
name = \"end\"
action = \"wait\"
step = \"bg\"

[[step]]
name = \"more\"
action = \"small-write\"
thin = \"b\"
count = 1
background = true

[[step]]
name = \"never\"
action = \"resize\"
device = \"data\"
by = \"8MiB\"
await_mode = \"out_of_data_space\"

[[step]]
action = \"wait\"
step = \"more\"
"
    )));
    let st = r.step("never");
    assert_eq!(st.status, Status::Failed, "{st:#?}");
    let e = st.error.as_deref().unwrap_or_default();
    assert!(
        e.contains("await_mode: the pool is rw and no background workload is running to make it out_of_data_space"),
        "{e}"
    );
}
