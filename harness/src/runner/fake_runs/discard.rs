//! `discard` steps on the fake pool (which punches holes in its thins' files over the
//! whole chunks of a range, as dm-thin unmaps them): the model's prediction, thin_ls
//! agreeing, `expect.mapped`, the case forgetting what was discarded, refusals.

use thinbench_schema::record::Status;

use super::{all_passed, one_pool, run, Ran};

const BASE: &str = r#"
[[step]]
name = "base"
action = "create-thin"
thin = "base"
size = "4MiB"

[[step]]
name = "wipe"
action = "small-write"
thin = "base"
pattern = "sequential"
io_size = "64KiB"
bytes = "1MiB"
[step.expect]
data_blocks_allocated = 16
"#;

fn observed(r: &Ran, step: &str, what: &str) -> String {
    r.expectation(step, what).observed.clone()
}

#[test]
fn a_whole_thin_discard_frees_every_block_and_thin_ls_agrees() {
    let r = run(&one_pool(&format!(
        "{BASE}
[[step]]
name = \"d\"
action = \"discard\"
thin = \"base\"
[step.expect]
data_blocks_allocated = -16
mapped = {{ base = 0 }}
"
    )));
    all_passed(&r);
    assert_eq!(r.step("d").data_blocks_allocated, Some(-16));
    assert_eq!(observed(&r, "d", "data blocks allocated == model"), "-16");
    let ls = r
        .step("d")
        .expectations
        .iter()
        .find(|e| e.what.starts_with("thin_ls agrees"))
        .unwrap();
    assert_eq!(
        (ls.status, ls.observed.as_str()),
        (Status::Passed, "1:0/0/0")
    );
    assert_eq!(
        observed(&r, "d", "mapped data blocks per thin (thin_ls)"),
        "base=0"
    );
    let m = |n: &str| {
        r.step("d")
            .metrics
            .iter()
            .find(|m| m.name == n)
            .map(|m| m.value)
    };
    assert_eq!(m("discard.requests"), Some(1.0));
    assert_eq!(m("discard.model_blocks_freed"), Some(16.0));
}

#[test]
fn partial_chunks_stay_and_a_stride_unmaps_every_other_chunk() {
    let r = run(&one_pool(&format!(
        "{BASE}
[[step]]
name = \"partial\"
action = \"discard\"
thin = \"base\"
offset = \"32KiB\"
length = \"64KiB\"
[step.expect]
data_blocks_allocated = 0
mapped = {{ base = 16 }}

[[step]]
name = \"alternate\"
action = \"discard\"
thin = \"base\"
length = \"64KiB\"
stride = \"128KiB\"
count = 8
[step.expect]
data_blocks_allocated = -8
mapped = {{ base = 8 }}

[[step]]
name = \"rewrite\"
action = \"small-write\"
thin = \"base\"
pattern = \"sequential\"
io_size = \"64KiB\"
bytes = \"1MiB\"
[step.expect]
data_blocks_allocated = \"chunks-touched\"
"
    )));
    all_passed(&r);
    // The discarded chunks count as untouched again: 8 provisioned anew.
    assert_eq!(r.step("rewrite").data_blocks_allocated, Some(8));
    // The partial discard kept its chunks' data: the read-back passed.
    let kept = observed(&r, "partial", "integrity: base after the discards");
    assert_eq!(kept, format!("{} sectors intact", 16 * 128));
    // After the strided one, half the writes are forgotten.
    let kept = observed(&r, "alternate", "integrity: base after the discards");
    assert_eq!(kept, format!("{} sectors intact", 8 * 128));
}

#[test]
fn a_range_with_shared_chunks_frees_only_the_exclusive_ones() {
    let r = run(&one_pool(&format!(
        "{BASE}
[[step]]
name = \"snap\"
action = \"snapshot\"
thin = \"snap\"
origin = \"base\"

[[step]]
name = \"rewrite\"
action = \"small-write\"
thin = \"base\"
pattern = \"sequential\"
io_size = \"64KiB\"
offset = \"512KiB\"
bytes = \"512KiB\"
[step.expect]
data_blocks_allocated = 8

[[step]]
name = \"d\"
action = \"discard\"
thin = \"base\"
[step.expect]
data_blocks_allocated = -8
mapped = {{ base = 0, snap = 16 }}
"
    )));
    all_passed(&r);
    assert_eq!(
        observed(&r, "d", "mapped data blocks per thin (thin_ls)"),
        "base=0 snap=16"
    );
}

#[test]
fn a_wrong_mapped_count_fails_the_step_naming_both_figures() {
    let r = run(&one_pool(&format!(
        "{BASE}
[[step]]
name = \"d\"
action = \"discard\"
thin = \"base\"
length = \"64KiB\"
[step.expect]
mapped = {{ base = 16 }}
"
    )));
    let d = r.step("d");
    assert_eq!(d.status, Status::Failed);
    let x = r.expectation("d", "mapped data blocks per thin (thin_ls)");
    assert_eq!(
        (x.expected.as_str(), x.observed.as_str()),
        ("base=16", "base=15")
    );
    assert!(x
        .message
        .as_deref()
        .unwrap_or("")
        .starts_with("step 2 (d): mapped"));
}

#[test]
fn refusals_keep_their_errno_and_change_nothing() {
    let text = one_pool(&format!(
        "{BASE}
[[step]]
name = \"past-end\"
action = \"discard\"
thin = \"base\"
length = \"8MiB\"
[step.expect]
error = \"EINVAL\"
"
    ));
    let r = run(&text);
    all_passed(&r);
    assert!(r
        .step("past-end")
        .error
        .as_deref()
        .unwrap_or("")
        .contains("EINVAL"));
    // ignore_discard: the thin refuses every discard with EOPNOTSUPP.
    let ignore = text.replace(
        "metadata_size = \"8MiB\"",
        "metadata_size = \"8MiB\"\nignore_discard = true",
    );
    let ignore = ignore.replace(
        "length = \"8MiB\"\n[step.expect]\nerror = \"EINVAL\"",
        "[step.expect]\nerror = \"EOPNOTSUPP\"",
    );
    let r = run(&ignore);
    all_passed(&r);
    assert_eq!(
        observed(&r, "past-end", "a refused step changes nothing"),
        "16"
    );
    // Not expected, the refusal fails the step.
    let r = run(&ignore.replace("[step.expect]\nerror = \"EOPNOTSUPP\"", ""));
    assert_eq!(r.step("past-end").status, Status::Failed);
}

#[test]
fn data_discard_bytes_is_not_measured_on_the_fake_and_says_so() {
    let r = run(&one_pool(&format!(
        "{BASE}
[[step]]
name = \"d\"
action = \"discard\"
thin = \"base\"
[step.expect]
data_discard_bytes = \"0B\"
"
    )));
    let x = r.expectation("d", "bytes discarded on the data device");
    assert_eq!(x.status, Status::Failed);
    assert!(x.observed.contains("not measured"), "{}", x.observed);
}
