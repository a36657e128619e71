//! `discard` steps, the `ignore_discard` pool key and the discard expectations
//! (`mapped`, `data_discard_bytes`): values, defaults, and each refusal at its position.

use super::test_support::{ok, one};
use crate::spec::{Action, DiscardSpec, Expect, ScenarioSpec};
use thinbench_schema::ids::Ident;
use thinbench_schema::units::Bytes;

/// A loop-lvm pool `p`, a 4MiB thin `t`, then `rest`.
fn with_thin(rest: &str) -> String {
    format!(
        "format = 1\n[[pool]]\nname = \"p\"\nkind = \"loop-lvm\"\n\
         [[step]]\naction = \"create-thin\"\nthin = \"t\"\nsize = \"4MiB\"\n{rest}"
    )
}

/// A discard step on `t` with `keys`, and its `[step.expect]` when given.
fn discard(keys: &str, expect: &str) -> String {
    let e = if expect.is_empty() {
        String::new()
    } else {
        format!("[step.expect]\n{expect}\n")
    };
    with_thin(&format!(
        "[[step]]\naction = \"discard\"\nthin = \"t\"\n{keys}\n{e}"
    ))
}

fn spec_of(p: &ScenarioSpec) -> &DiscardSpec {
    match &p.steps[1].action {
        Action::Discard(d) => d,
        a => panic!("not a discard: {a:?}"),
    }
}

#[test]
fn a_discard_defaults_to_the_whole_thin() {
    let p = ok(&discard("", ""));
    let d = spec_of(&p);
    assert_eq!(
        *d,
        DiscardSpec {
            thin: Ident::new("t").unwrap(),
            offset: Bytes(0),
            length: None,
            stride: None,
            count: None,
            flush: false,
        }
    );
    assert_eq!(
        d.ranges(Bytes(4 * Bytes::MIB)),
        vec![(Bytes(0), Bytes(4 * Bytes::MIB))]
    );
    assert_eq!(p.steps[1].name.as_str(), "step1-discard");
}

#[test]
fn a_strided_discard_reads_its_sizes() {
    let p = ok(&discard(
        "offset = \"64KiB\"\nlength = \"64KiB\"\nstride = \"128KiB\"\ncount = 3",
        "",
    ));
    let d = spec_of(&p);
    assert_eq!(
        (d.offset, d.length, d.stride, d.count),
        (
            Bytes(65536),
            Some(Bytes(65536)),
            Some(Bytes(131072)),
            Some(3)
        )
    );
    // An integer is bytes, as every size key.
    let p = ok(&discard("length = 512\nstride = 1024", ""));
    assert_eq!(spec_of(&p).stride, Some(Bytes(1024)));
}

#[test]
fn discard_is_no_longer_reserved() {
    assert!(!super::actions::RESERVED_ACTIONS.contains(&"discard"));
}

#[test]
fn bad_ranges_are_refused_where_they_are_written() {
    let e = one(&discard("offset = \"1000B\"", ""));
    assert!(
        e.starts_with("t.toml:12:10: error: `offset` is 1000B, not a multiple of 512 bytes"),
        "{e}"
    );
    let e = one(&discard("length = 0", ""));
    assert!(
        e.starts_with("t.toml:12:10: error: `length` is 0B, below the minimum of 512B"),
        "{e}"
    );
    let e = one(&discard("stride = \"1MiB\"", ""));
    assert!(
        e.starts_with("t.toml:12:1: error: `stride` needs a `length`"),
        "{e}"
    );
    let e = one(&discard("count = 2", ""));
    assert!(
        e.starts_with("t.toml:12:1: error: `count` needs a `stride`"),
        "{e}"
    );
    let e = one(&discard("length = \"64KiB\"\nstride = 0", ""));
    assert!(
        e.starts_with("t.toml:13:1: error: `stride = 0` repeats one discard, and needs a `count`"),
        "{e}"
    );
    let e = one(&discard(
        "length = \"64KiB\"\nstride = \"64KiB\"\ncount = 0",
        "",
    ));
    assert!(
        e.starts_with("t.toml:14:9: error: `count` must be 1 to 1000000, not 0"),
        "{e}"
    );
    // small-write's stride is still a count.
    let e = one(&with_thin(
        "[[step]]\naction = \"small-write\"\nthin = \"t\"\npattern = \"sequential\"\nstride = \"1MiB\"\ncount = 1\n",
    ));
    assert!(
        e.contains("`stride` must be an integer number of chunks, not a string"),
        "{e}"
    );
}

#[test]
fn a_discard_past_the_end_passes_only_when_the_refusal_is_expected() {
    let e = one(&discard("length = \"8MiB\"", ""));
    assert!(
        e.starts_with("t.toml:12:1: error: the discard goes past the end of thin `t` (4MiB): the kernel refuses it with EINVAL"),
        "{e}"
    );
    assert!(
        e.contains("or add `expect.error = \"EINVAL\"` to test the refusal"),
        "{e}"
    );
    let e = one(&discard(
        "length = \"1MiB\"\nstride = \"1MiB\"\ncount = 5",
        "",
    ));
    assert!(
        e.starts_with("t.toml:14:1: error: the discard goes past the end"),
        "{e}"
    );
    let e = one(&discard("offset = \"4MiB\"", ""));
    assert!(
        e.starts_with("t.toml:12:1: error: the discard goes past the end"),
        "{e}"
    );
    // Without a count a stride stops at the thin's end: it always fits.
    ok(&discard("length = \"1MiB\"\nstride = \"3MiB\"", ""));
    ok(&discard("length = \"8MiB\"", "error = \"EINVAL\""));
    // Another kind expected is not this refusal.
    let e = one(&discard("length = \"8MiB\"", "error = \"EBUSY\""));
    assert!(e.contains("goes past the end"), "{e}");
}

#[test]
fn a_discard_of_an_unknown_thin_is_the_walks_error() {
    let e = one(&with_thin("[[step]]\naction = \"discard\"\nthin = \"u\"\n"));
    assert!(
        e.starts_with("t.toml:11:8: error: no thin named `u`"),
        "{e}"
    );
    let e = one(&with_thin("[[step]]\naction = \"discard\"\n"));
    assert!(
        e.starts_with("t.toml:9:1: error: discard step has no `thin`"),
        "{e}"
    );
}

#[test]
fn the_discard_expectations_read_names_blocks_and_bytes() {
    let p = ok(&discard(
        "",
        "data_blocks_allocated = -64\nmapped = { t = 0 }\ndata_discard_bytes = \"4MiB\"",
    ));
    assert_eq!(
        p.steps[1].expect,
        [
            Expect::DataBlocksAllocated(crate::spec::BlockCount::Exact(-64)),
            Expect::Mapped(vec![(Ident::new("t").unwrap(), 0)]),
            Expect::DataDiscardBytes(Bytes(4 * Bytes::MIB)),
        ]
    );
    // Any step can expect them: the kernel's figures after it.
    ok(&with_thin("[[step]]\naction = \"delete-thin\"\nthin = \"t\"\n[step.expect]\ndata_discard_bytes = \"0B\"\n"));
}

#[test]
fn bad_discard_expectations_are_refused_at_their_values() {
    let e = one(&discard("", "mapped = { t = -1 }"));
    assert!(
        e.starts_with("t.toml:14:16: error: `mapped.t` must not be negative"),
        "{e}"
    );
    let e = one(&discard("", "mapped = { t = \"x\" }"));
    assert!(
        e.starts_with(
            "t.toml:14:16: error: `mapped.t` must be an integer number of data blocks, not a string"
        ),
        "{e}"
    );
    let e = one(&discard("", "mapped = {}"));
    assert!(
        e.starts_with("t.toml:14:10: error: `mapped` names no thin"),
        "{e}"
    );
    let e = one(&discard("", "mapped = { u = 0 }"));
    assert!(
        e.starts_with("t.toml:14:12: error: no thin named `u`"),
        "{e}"
    );
    let e = one(&discard("", "data_discard_bytes = 100"));
    assert!(
        e.starts_with(
            "t.toml:14:22: error: `data_discard_bytes` is 100B, not a multiple of 512 bytes"
        ),
        "{e}"
    );
}

const STEP: &str = "[[step]]\naction = \"create-thin\"\nthin = \"t\"\n";

#[test]
fn ignore_discard_is_a_pool_key_of_both_kinds() {
    for kind in ["loop-lvm", "direct-lvm"] {
        let p = ok(&format!(
            "format = 1\n[[pool]]\nname = \"p\"\nkind = \"{kind}\"\nignore_discard = true\n{STEP}"
        ));
        assert!(p.pools[0].ignore_discard);
    }
    let p = ok(&format!(
        "format = 1\n[[pool]]\nname = \"p\"\nkind = \"loop-lvm\"\n{STEP}"
    ));
    assert!(!p.pools[0].ignore_discard);
    let e = one(&format!(
        "format = 1\n[[pool]]\nname = \"p\"\nkind = \"loop-lvm\"\nignore_discard = 1\n{STEP}"
    ));
    assert!(
        e.starts_with("t.toml:5:18: error: `ignore_discard` must be"),
        "{e}"
    );
}
