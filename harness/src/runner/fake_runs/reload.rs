//! `reload` and `resize` on the fake pool: the settings a reload changes, the sizes a
//! resize gives the model, a refused shrink, and what the fake cannot do.

use thinbench_schema::record::Status;

use super::{all_passed, one_pool, run};

const BASE: &str = r#"
[[step]]
name = "base"
action = "create-thin"
thin = "base"
size = "256MiB"
"#;

#[test]
fn a_reload_changes_the_no_space_policy_the_pool_reports() {
    let r = run(&one_pool(&format!(
        "{BASE}
[[step]]
name = \"err\"
action = \"reload\"
no_space = \"error\"
expect.mode = \"rw\"
"
    )));
    all_passed(&r);
    let x = r.expectation("err", "the reloaded table's `error_if_no_space`");
    assert_eq!((x.observed.as_str(), x.status), ("on", Status::Passed));
    let ends: Vec<String> = r
        .samples()
        .into_iter()
        .filter(|s| s.reason == "step-end")
        .map(|s| s.no_space)
        .collect();
    assert_eq!(ends, ["queue", "error"], "the policy after each step");
}

#[test]
fn a_data_resize_grows_the_pool_and_the_model_writes_into_the_new_space() {
    // 64 MiB of 64 KiB chunks is 1024 blocks; 16 MiB more is 256.
    let r = run(&one_pool(&format!(
        "{BASE}
[[step]]
name = \"grow\"
action = \"resize\"
device = \"data\"
by = \"16MiB\"

[[step]]
name = \"to\"
action = \"resize\"
device = \"data\"
to = \"96MiB\"

[[step]]
name = \"meta\"
action = \"resize\"
device = \"metadata\"
by = \"4MiB\"

[[step]]
name = \"w\"
action = \"small-write\"
thin = \"base\"
pattern = \"sequential\"
io_size = \"64KiB\"
bytes = \"80MiB\"
expect.errors = 0
expect.data_blocks_allocated = 1280
"
    )));
    all_passed(&r);
    let x = r.expectation("grow", "the pool's data blocks after the resize");
    assert_eq!(x.observed, "1280");
    let x = r.expectation("to", "the pool's data blocks after the resize");
    assert_eq!(x.observed, "1536");
    // The fake starts with 1024 metadata blocks of 4 KiB; 4 MiB more is 1024 more.
    let x = r.expectation("meta", "the pool's metadata blocks after the resize");
    assert_eq!(x.observed, "2048");
    let after = r.step("w").pool_after.as_ref().unwrap();
    assert_eq!((after.data_used.0, after.data_total.0), (1280, 1536));
}

#[test]
fn a_shrink_is_refused_and_a_refusal_that_does_not_come_fails_the_step() {
    let r = run(&one_pool(&format!(
        "{BASE}
[[step]]
name = \"shrink\"
action = \"resize\"
device = \"data\"
to = \"32MiB\"
expect.error = \"EINVAL\"

[[step]]
name = \"grow_expected_to_fail\"
action = \"resize\"
device = \"data\"
by = \"1MiB\"
expect.error = \"EINVAL\"
"
    )));
    let s = r.step("shrink");
    assert_eq!(s.status, Status::Passed, "{s:#?}");
    assert!(s
        .error
        .as_deref()
        .unwrap()
        .contains("32MiB is below the pool's 64MiB"));
    let s = r.step("grow_expected_to_fail");
    assert_eq!(s.status, Status::Failed, "{s:#?}");
    assert!(
        s.expectations
            .iter()
            .any(|x| x.status == Status::Failed && x.observed == "no error"),
        "{s:#?}"
    );
    let after = s.pool_after.as_ref().unwrap();
    assert_eq!(after.data_total.0, 1024 + 16, "the grow happened");
    // Not expected, the kernel's refusal fails the step with its words.
    let r = run(&one_pool(&format!(
        "{BASE}
[[step]]
name = \"shrink\"
action = \"resize\"
device = \"data\"
to = \"32MiB\"
"
    )));
    let s = r.step("shrink");
    assert_eq!(s.status, Status::Failed);
    assert!(s.error.as_deref().unwrap().contains("EINVAL"), "{s:#?}");
}

#[test]
fn what_needs_a_kernel_is_unsupported_on_the_fake() {
    for key in [
        "read_only = true",
        "ignore_discard = true",
        "chunk_size = \"128KiB\"",
    ] {
        let r = run(&one_pool(&format!(
            "{BASE}
[[step]]
name = \"ro\"
action = \"reload\"
{key}
expect.error = \"unsupported\"
"
        )));
        all_passed(&r);
        assert!(r
            .step("ro")
            .error
            .as_deref()
            .unwrap()
            .contains("the fake pool has no kernel"));
    }
}
