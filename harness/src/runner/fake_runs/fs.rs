//! The filesystem steps on the fake pool: its thins are files, not block devices, so
//! each fails `unsupported`, saying why, rather than mounting a loop device under a
//! file; a step that expects it passes. The file model and its records are tested on a
//! directory in `runner/fs_state_tests.rs`; the real thing in the VM test.

use thinbench_schema::record::Status;

use super::{one_pool, run};

const BASE: &str = r#"
[[step]]
name = "base"
action = "create-thin"
thin = "base"
size = "4MiB"
"#;

#[test]
fn mkfs_on_the_fake_pool_is_unsupported_and_says_why() {
    let r = run(&one_pool(&format!(
        "{BASE}
[[step]]
name = \"mk\"
action = \"mkfs\"
thin = \"base\"
"
    )));
    let st = r.step("mk");
    assert_eq!(st.status, Status::Failed);
    let e = st.error.as_deref().unwrap_or_default();
    assert!(
        e.contains("is not a block device: a filesystem on a thin needs a kernel pool"),
        "{e}"
    );
}

#[test]
fn an_expected_unsupported_mkfs_passes_and_changes_nothing() {
    let r = run(&one_pool(&format!(
        "{BASE}
[[step]]
name = \"mk\"
action = \"mkfs\"
thin = \"base\"
expect.error = \"unsupported\"
"
    )));
    let st = r.step("mk");
    assert_eq!(st.status, Status::Passed, "{st:#?}");
}
