//! The table-control steps on the fake pool: deactivate and activate keep the model and
//! the integrity log; a deactivated thin is deleted through the pool; a step expecting
//! a refusal the pool does not give fails, naming the step and that nothing failed;
//! what needs a kernel pool (messages, suspend) fails as unsupported, which a step can
//! expect.

use thinbench_schema::record::Status;

use super::{all_passed, one_pool, run};

const THIN: &str =
    "[[step]]\nname = \"mk\"\naction = \"create-thin\"\nthin = \"a\"\nsize = \"16MiB\"\n";

fn write(name: &str) -> String {
    format!(
        "[[step]]\nname = \"{name}\"\naction = \"small-write\"\nthin = \"a\"\npattern = \"sequential\"\n\
         io_size = \"64KiB\"\nbytes = \"1MiB\"\n[step.expect]\ndata_blocks_allocated = \"chunks-touched\"\n"
    )
}

#[test]
fn a_thin_deactivated_and_activated_again_keeps_its_blocks_and_takes_io() {
    let r = run(&one_pool(&format!(
        "{THIN}{}[[step]]\nname = \"off\"\naction = \"deactivate\"\nthin = \"a\"\n\
         [[step]]\nname = \"on\"\naction = \"activate\"\nthin = \"a\"\n{}",
        write("w1"),
        write("w2")
    )));
    all_passed(&r);
    assert_eq!(r.step("w1").data_blocks_allocated, Some(16));
    // The same region again: mapped already, nothing new (the model agrees).
    assert_eq!(r.step("w2").data_blocks_allocated, Some(0));
    let e = r.expectation("on", "data blocks allocated == model");
    assert_eq!((e.expected.as_str(), e.observed.as_str()), ("0", "0"));
}

#[test]
fn a_deactivated_thin_is_deleted_and_its_blocks_come_back() {
    let r = run(&one_pool(&format!(
        "{THIN}{}[[step]]\naction = \"deactivate\"\nthin = \"a\"\n\
         [[step]]\nname = \"del\"\naction = \"delete-thin\"\nthin = \"a\"\n",
        write("w")
    )));
    all_passed(&r);
    assert_eq!(r.step("del").data_blocks_allocated, Some(-16));
    let e = r.expectation("del", "data blocks allocated == model");
    assert_eq!(e.expected, "-16");
}

#[test]
fn an_expected_refusal_the_pool_does_not_give_fails_naming_the_step() {
    let r = run(&one_pool(&format!(
        "{THIN}[[step]]\nname = \"off\"\naction = \"deactivate\"\nthin = \"a\"\n\
         [step.expect]\nerror = \"EBUSY\"\n"
    )));
    let s = r.step("off");
    assert_eq!(s.status, Status::Failed, "{s:#?}");
    let e = r.expectation("off", "step fails with an error of kind");
    assert_eq!(
        (e.expected.as_str(), e.observed.as_str()),
        ("EBUSY", "no error")
    );
    let m = e.message.as_deref().unwrap_or_default();
    assert_eq!(
        m,
        "step 1 (off): step fails with an error of kind: expected EBUSY, observed no error"
    );
    assert_eq!(r.summary.cases[0].status, Status::Failed);
}

#[test]
fn messages_and_suspends_need_a_kernel_pool_and_say_so() {
    let r = run(&one_pool(
        "[[step]]\nname = \"m\"\naction = \"message\"\ntext = \"create_thin 1\"\n",
    ));
    let s = r.step("m");
    assert_eq!(s.status, Status::Failed);
    assert!(
        s.error
            .as_deref()
            .unwrap_or_default()
            .contains("needs a kernel pool"),
        "{s:#?}"
    );
    let r = run(&one_pool(
        "[[step]]\nname = \"s\"\naction = \"suspend\"\n[step.expect]\nerror = \"unsupported\"\n",
    ));
    assert_eq!(r.step("s").status, Status::Passed, "{:#?}", r.step("s"));
}

#[test]
fn a_refusal_whose_kernel_reason_is_not_logged_fails() {
    // The fake pool refuses a suspend (no kernel) and logs nothing: the kind matches, the
    // kernel's reason the step names does not, and the step fails on it.
    let r = run(&one_pool(
        "[[step]]\nname = \"s\"\naction = \"suspend\"\n[step.expect]\nerror = \"unsupported\"\n\
         kernel_log = \"device-mapper: thin: no such reason\"\n",
    ));
    let s = r.step("s");
    assert_eq!(s.status, Status::Failed, "{s:#?}");
    let e = r.expectation("s", "a kernel log line contains");
    assert_eq!(e.status, Status::Failed);
    assert_eq!(e.observed, "none of 0 line(s) during the step");
    assert_eq!(
        r.expectation("s", "step fails with an error of kind")
            .status,
        Status::Passed
    );
}

#[test]
fn a_refused_steps_other_expectations_are_checked_too() {
    // The refusal is the expected one, but the pool is not `ro` after it: the step fails.
    let r = run(&one_pool(
        "[[step]]\nname = \"s\"\naction = \"suspend\"\n[step.expect]\nerror = \"unsupported\"\nmode = \"ro\"\n",
    ));
    let s = r.step("s");
    assert_eq!(s.status, Status::Failed, "{s:#?}");
    let e = r.expectation("s", "pool mode");
    assert_eq!((e.expected.as_str(), e.observed.as_str()), ("ro", "rw"));
}

#[test]
fn a_pool_expected_to_be_refused_that_is_built_fails_the_case_saying_so() {
    let r = run(
        "format = 1\nname = \"t\"\n[[pool]]\nname = \"bad\"\nkind = \"loop-lvm\"\n\
         data_size = \"64MiB\"\nmetadata_size = \"16KiB\"\nexpect_error = \"ENOSPC\"\n\
         [[pool]]\nname = \"p\"\nkind = \"loop-lvm\"\ndata_size = \"64MiB\"\nmetadata_size = \"8MiB\"\n\
         [[step]]\nname = \"mk\"\naction = \"create-thin\"\nthin = \"a\"\npools = [\"p\"]\n",
    );
    let bad = &r.summary.cases[0];
    assert_eq!(
        bad.status,
        Status::Failed,
        "the fake builds any pool: {bad:#?}"
    );
    assert_eq!(
        bad.error.as_deref(),
        Some("the pool's construction was to fail with ENOSPC, and the pool was built")
    );
    assert!(bad.steps.is_empty(), "no step ran on it");
    assert_eq!(r.summary.cases[1].status, Status::Passed);
}
