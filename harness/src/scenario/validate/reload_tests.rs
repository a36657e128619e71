//! `reload` and `resize` steps: their specs, their positioned errors, and what the walk
//! says of direct-lvm pools.

use super::*;
use crate::scenario::{load_scenario_str, ScenarioError};
use crate::spec::{
    Action, LowWaterMark, NoSpacePolicy, ReloadSpec, ResizeAmount, ResizeDevice, ResizeSpec,
};
use thinbench_schema::units::{ChunkSize, DataBlocks};

/// Two pools, `a` (loop-lvm) and `b` (direct-lvm), then `steps`.
fn text(steps: &str) -> String {
    format!(
        "format = 1\n[[pool]]\nname = \"a\"\nkind = \"loop-lvm\"\n\
         [[pool]]\nname = \"b\"\nkind = \"direct-lvm\"\n{steps}"
    )
}

fn load(steps: &str) -> Result<ScenarioSpec, Vec<ScenarioError>> {
    load_scenario_str(Path::new("t.toml"), &text(steps)).map_err(|e| e.errors)
}

fn action(steps: &str) -> Action {
    let plan = load(steps).unwrap_or_else(|e| panic!("should load: {e:#?}"));
    plan.steps.last().expect("a step").action.clone()
}

/// The one error, as `line:col: message [hint]`.
fn one(steps: &str) -> String {
    let e = load(steps).expect_err("should fail");
    assert_eq!(e.len(), 1, "{e:#?}");
    let e = &e[0];
    let at = e.to_string();
    let pos = at
        .split(": error")
        .next()
        .unwrap_or_default()
        .trim_start_matches("t.toml:");
    format!(
        "{pos}: {} [{}]",
        e.message,
        e.hint.clone().unwrap_or_default()
    )
}

#[test]
fn a_reload_keeps_what_it_does_not_name() {
    assert_eq!(
        action("[[step]]\naction = \"reload\"\n"),
        Action::Reload(ReloadSpec::default())
    );
    let a = action(
        "[[step]]\naction = \"reload\"\npools = [\"a\"]\nno_space = \"error\"\n\
         block_zeroing = true\ndiscard_passdown = false\nignore_discard = true\n\
         read_only = true\nlow_water_mark = \"10%\"\nchunk_size = \"128KiB\"\n",
    );
    assert_eq!(
        a,
        Action::Reload(ReloadSpec {
            no_space: Some(NoSpacePolicy::Error),
            block_zeroing: Some(true),
            discard_passdown: Some(false),
            ignore_discard: Some(true),
            read_only: Some(true),
            low_water_mark: Some(LowWaterMark::Percent(10)),
            chunk: Some(ChunkSize::new(Bytes(128 * KIB)).unwrap()),
        })
    );
    let a = action("[[step]]\naction = \"reload\"\npools = [\"a\"]\nlow_water_mark = 7\n");
    let Action::Reload(r) = a else {
        panic!("{a:?}")
    };
    assert_eq!(r.low_water_mark, Some(LowWaterMark::Blocks(DataBlocks(7))));
}

#[test]
fn a_resize_is_online_unless_told_and_grows_by_or_to() {
    assert_eq!(
        action("[[step]]\naction = \"resize\"\ndevice = \"data\"\nby = \"64MiB\"\n"),
        Action::Resize(ResizeSpec {
            device: ResizeDevice::Data,
            amount: ResizeAmount::By(Bytes(64 * MIB)),
            online: true,
        })
    );
    assert_eq!(
        action(
            "[[step]]\naction = \"resize\"\ndevice = \"metadata\"\nto = \"16MiB\"\nonline = false\n"
        ),
        Action::Resize(ResizeSpec {
            device: ResizeDevice::Metadata,
            amount: ResizeAmount::To(Bytes(16 * MIB)),
            online: false,
        })
    );
}

#[test]
fn resize_mistakes_are_positioned() {
    // Line 8 is the `[[step]]` header, its keys follow.
    assert_eq!(
        one("[[step]]\naction = \"resize\"\nby = \"1MiB\"\n"),
        "8:1: resize step has no `device` [add `device = \"data\"` or `device = \"metadata\"`]"
    );
    assert_eq!(
        one("[[step]]\naction = \"resize\"\ndevice = \"data\"\n"),
        "8:1: resize step has neither `by` nor `to` [add `by = \"64MiB\"` (grow by) or `to = \"256MiB\"` (the new size)]"
    );
    assert_eq!(
        one("[[step]]\naction = \"resize\"\ndevice = \"data\"\nby = \"1MiB\"\nto = \"2MiB\"\n"),
        "11:1: resize step has both `by` and `to` [keep one: `by` grows by an amount, `to` gives the new size]"
    );
    assert_eq!(
        one("[[step]]\naction = \"resize\"\ndevice = \"meta\"\nby = \"1MiB\"\n"),
        "10:10: `device` must be one of \"data\", \"metadata\", not \"meta\" [did you mean \"data\"?]"
    );
    assert!(
        one("[[step]]\naction = \"resize\"\ndevice = \"data\"\nby = \"100\"\n")
            .starts_with("11:6: `by` is 100B, below the minimum of 512B")
    );
    assert!(one(
        "[[step]]\naction = \"resize\"\ndevice = \"data\"\nby = \"64MiB\"\nthin = \"x\"\n"
    )
    .starts_with("12:1: `thin` is not a key of resize steps"));
}

#[test]
fn reload_keys_lvm_cannot_change_are_refused_on_direct_lvm_only() {
    for (key, value, why) in [
        ("read_only", "true", "lvm has no read-only thin pool"),
        (
            "low_water_mark",
            "0",
            "lvm loads the pool's low water mark itself",
        ),
        ("chunk_size", "\"128KiB\"", "lvm fixes a pool's chunk size"),
    ] {
        let e = one(&format!("[[step]]\naction = \"reload\"\n{key} = {value}\n"));
        assert!(
            e.starts_with(&format!(
                "10:1: `{key}` cannot be reloaded on a direct-lvm pool: {why}"
            )),
            "{e}"
        );
        assert!(e.contains("(in pool `b`)"), "{e}");
        // On the loop-lvm pool alone, or expected to fail, it is what the step means.
        load(&format!(
            "[[step]]\naction = \"reload\"\npools = [\"a\"]\n{key} = {value}\n"
        ))
        .unwrap();
        load(&format!(
            "[[step]]\naction = \"reload\"\n{key} = {value}\nexpect.error = \"unsupported\"\n"
        ))
        .unwrap();
    }
    // What lvm has a command for goes to both kinds.
    load("[[step]]\naction = \"reload\"\nno_space = \"error\"\nblock_zeroing = true\ndiscard_passdown = false\n").unwrap();
}

#[test]
fn reload_values_are_checked() {
    assert!(
        one("[[step]]\naction = \"reload\"\npools = [\"a\"]\nchunk_size = \"96KiB\"\n")
            .starts_with("11:14: chunk size 96KiB is not a multiple of 64KiB")
    );
    assert_eq!(
        one("[[step]]\naction = \"reload\"\nno_space = \"eror\"\n"),
        "10:12: `no_space` must be one of \"queue\", \"error\", not \"eror\" [did you mean \"error\"?]"
    );
    let d = one("[[step]]\naction = \"reload\"\ndevice = \"data\"\n");
    assert!(
        d.starts_with("10:1: `device` is not a key of reload steps (it is for: ")
            && d.contains("resize"),
        "{d}"
    );
}

#[test]
fn a_delete_expected_to_be_refused_leaves_the_thin_for_later_steps() {
    let steps = "[[step]]\naction = \"create-thin\"\nthin = \"t\"\nsize = \"16MiB\"\n\
                 [[step]]\naction = \"delete-thin\"\nthin = \"t\"\nexpect.error = \"EOPNOTSUPP\"\n\
                 [[step]]\naction = \"small-write\"\nthin = \"t\"\nbytes = \"1MiB\"\n";
    load(steps).unwrap();
    // Without the refusal the thin is gone.
    let e = one(&steps.replace("expect.error = \"EOPNOTSUPP\"\n", ""));
    assert!(e.contains("thin `t` no longer exists"), "{e}");
}
