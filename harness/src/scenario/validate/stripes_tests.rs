//! Stripes: a loop-lvm pool over a striped data device (`data_stripes`), a device of
//! the case over thins (`create-device` with `over`), and the filesystem steps on a
//! device (`device`): what validates, and each refusal at its position.

use super::test_support::{ok, one};
use crate::spec::{Action, CaseDeviceKind, DataStripes, FsTarget, PoolKindSpec};
use thinbench_schema::ids::Ident;
use thinbench_schema::units::Bytes;

const KIB: u64 = 1024;

/// A loop-lvm pool `p` with `keys`, then `steps`.
fn pool(keys: &str, steps: &str) -> String {
    format!("format = 1\n[[pool]]\nname = \"p\"\nkind = \"loop-lvm\"\n{keys}{steps}")
}

/// Thins `a` and `b` of 16MiB (lines 5 to 12), then `rest`.
fn two_thins(rest: &str) -> String {
    pool(
        "",
        &format!(
            "[[step]]\naction = \"create-thin\"\nthin = \"a\"\nsize = \"16MiB\"\n\
             [[step]]\naction = \"create-thin\"\nthin = \"b\"\nsize = \"16MiB\"\n{rest}"
        ),
    )
}

const STRIPED: &str = "[[step]]\naction = \"create-device\"\ndevice = \"d\"\nkind = \"striped\"\nsize = \"32MiB\"\nover = [\"a\", \"b\"]\n";

#[test]
fn a_striped_pool_and_a_filesystem_on_a_device_over_thins_validate() {
    let fs = "[[step]]\naction = \"mkfs\"\ndevice = \"d\"\n\
              [[step]]\naction = \"mount\"\ndevice = \"d\"\n\
              [[step]]\nname = \"w\"\naction = \"file\"\ndevice = \"d\"\npath = \"x\"\nop = \"write\"\n\
              [[step]]\naction = \"verify-files\"\ndevice = \"d\"\ncontents = { x = [\"w@d\"] }\n\
              [[step]]\naction = \"umount\"\ndevice = \"d\"\n\
              [[step]]\naction = \"fsck\"\ndevice = \"d\"\n\
              [[step]]\naction = \"io\"\ndevice = \"d\"\nrw = \"write\"\ncount = 8\n";
    let text = two_thins(&format!("{STRIPED}{fs}")).replace(
        "kind = \"loop-lvm\"\n",
        "kind = \"loop-lvm\"\ndata_size = \"48MiB\"\ndata_stripes = 3\ndata_stripe_size = \"64KiB\"\n",
    );
    let s = ok(&text);
    let PoolKindSpec::LoopLvm(l) = &s.pools[0].kind else {
        panic!("loop-lvm")
    };
    assert_eq!(
        l.data_stripes,
        Some(DataStripes {
            stripes: 3,
            stripe: Bytes(64 * KIB)
        })
    );
    let Action::CreateDevice(d) = &s.steps[2].action else {
        panic!("create-device")
    };
    assert_eq!(
        d.kind,
        CaseDeviceKind::Striped {
            stripes: 2,
            stripe: Bytes(256 * KIB)
        }
    );
    let names: Vec<&str> = d.over.iter().map(Ident::as_str).collect();
    assert_eq!(names, ["a", "b"]);
    let Action::Mkfs(m) = &s.steps[3].action else {
        panic!("mkfs")
    };
    assert_eq!(m.on, FsTarget::Device(Ident::new("d").unwrap()));
    let Action::Fsck { on } = &s.steps[8].action else {
        panic!("fsck")
    };
    assert_eq!(on.thin(), None);
    // Without the keys: one file, no stripes; a thin's filesystem is on the thin.
    let s = ok(&pool(
        "",
        "[[step]]\naction = \"create-thin\"\nthin = \"t\"\n[[step]]\naction = \"mkfs\"\nthin = \"t\"\n",
    ));
    let PoolKindSpec::LoopLvm(l) = &s.pools[0].kind else {
        panic!("loop-lvm")
    };
    assert_eq!(l.data_stripes, None);
    let Action::Mkfs(m) = &s.steps[1].action else {
        panic!("mkfs")
    };
    assert_eq!(m.on.thin().map(Ident::as_str), Some("t"));
}

const STEP: &str = "[[step]]\naction = \"create-thin\"\nthin = \"t\"\n";

#[test]
fn striped_data_devices_are_whole_rows_on_loop_lvm_only() {
    let e = one(&format!(
        "format = 1\n[[pool]]\nname = \"d\"\nkind = \"direct-lvm\"\ndata_stripes = 2\n{STEP}"
    ));
    assert!(
        e.starts_with("t.toml:5:1:") && e.contains("lvcreate -i N") && e.contains("one PV"),
        "{e}"
    );
    let e = one(&pool("data_size = \"1MiB\"\ndata_stripes = 3\n", STEP));
    assert!(
        e.starts_with("t.toml:5:13:")
            && e.contains("`data_size` 1MiB is not a multiple of 3 stripes of 256KiB"),
        "{e}"
    );
    let e = one(&pool("data_stripe_size = \"64KiB\"\n", STEP));
    assert!(
        e.starts_with("t.toml:5:1:") && e.contains("`data_stripe_size` needs `data_stripes`"),
        "{e}"
    );
    let e = one(&pool(
        "data_stripes = 2\ndata_stripe_size = \"96KiB\"\n",
        STEP,
    ));
    assert!(
        e.starts_with("t.toml:6:20:") && e.contains("96KiB is not a power of two"),
        "{e}"
    );
    let e = one(&pool("data_stripes = 2\nstacked_levels = 1\n", STEP));
    assert!(
        e.starts_with("t.toml:5:1:")
            && e.contains("`data_stripes` and `stacked_levels` both say what the data device is"),
        "{e}"
    );
    let e = one(&pool("data_stripes = 9\n", STEP));
    assert!(e.starts_with("t.toml:5:16:"), "{e}");
}

#[test]
fn a_device_over_thins_has_one_stripe_a_thin_each_big_enough() {
    let e = one(&two_thins(
        "[[step]]\naction = \"create-device\"\ndevice = \"d\"\nsize = \"16MiB\"\nover = [\"a\", \"b\"]\n",
    ));
    assert!(
        e.starts_with("t.toml:17:8:")
            && e.contains("a linear device is over one thin, and `over` names 2"),
        "{e}"
    );
    let e = one(&two_thins(&STRIPED.replace("size", "stripes = 4\nsize")));
    assert!(
        e.starts_with("t.toml:17:11:") && e.contains("`stripes` is 4 and `over` names 2 thins"),
        "{e}"
    );
    // Each thin too small is said at its name.
    let e = crate::scenario::load_scenario_str(
        std::path::Path::new("t.toml"),
        &two_thins(&STRIPED.replace("32MiB", "64MiB")),
    )
    .expect_err("should fail")
    .errors;
    let e: Vec<String> = e.iter().map(ToString::to_string).collect();
    assert_eq!(e.len(), 2, "{e:#?}");
    assert!(
        e[0].starts_with("t.toml:18:9:")
            && e[0].contains("thin `a` is 16MiB and device `d` needs 32MiB of each thin under it"),
        "{e:?}"
    );
    assert!(
        e[1].starts_with("t.toml:18:14:") && e[1].contains("thin `b` is 16MiB"),
        "{e:?}"
    );
    let e = one(&two_thins(&STRIPED.replace("\"b\"]", "\"a\"]")));
    assert!(
        e.starts_with("t.toml:18:14:") && e.contains("thin `a` is named twice in `over`"),
        "{e}"
    );
    let e = one(&two_thins(&STRIPED.replace("\"b\"]", "\"c\"]")));
    assert!(
        e.starts_with("t.toml:18:14:") && e.contains("no thin named `c`"),
        "{e}"
    );
}

#[test]
fn a_device_over_thins_holds_them_and_is_not_stamped() {
    let e = one(&two_thins(&format!(
        "{STRIPED}[[step]]\naction = \"delete-thin\"\nthin = \"b\"\n"
    )));
    assert!(
        e.starts_with("t.toml:21:8:")
            && e.contains("thin `b` is under device `d` and cannot be deleted"),
        "{e}"
    );
    let e = one(&two_thins(&format!(
        "{STRIPED}[[step]]\naction = \"verify\"\ndevice = \"d\"\n"
    )));
    assert!(
        e.starts_with("t.toml:21:10:")
            && e.contains("device `d` is made over thins and not stamped"),
        "{e}"
    );
}

#[test]
fn a_filesystem_on_a_device_is_on_one_thing_made_before_it_is_mounted() {
    let e = one(&two_thins(&format!(
        "{STRIPED}[[step]]\naction = \"mkfs\"\nthin = \"a\"\ndevice = \"d\"\n"
    )));
    assert!(
        e.starts_with("t.toml:22:10:") && e.contains("mkfs step has both `thin` and `device`"),
        "{e}"
    );
    let e = one(&two_thins(&format!(
        "{STRIPED}[[step]]\naction = \"mount\"\ndevice = \"d\"\n"
    )));
    assert!(
        e.starts_with("t.toml:21:10:") && e.contains("device `d` has no filesystem here"),
        "{e}"
    );
    let e = one(&two_thins(&format!(
        "{STRIPED}[[step]]\naction = \"mkfs\"\ndevice = \"d\"\n[[step]]\naction = \"file\"\ndevice = \"d\"\npath = \"x\"\nop = \"write\"\n"
    )));
    assert!(
        e.starts_with("t.toml:24:10:") && e.contains("device `d` is not mounted here"),
        "{e}"
    );
    let e = one(&two_thins(
        "[[step]]\naction = \"mkfs\"\ndevice = \"nope\"\n",
    ));
    assert!(
        e.starts_with("t.toml:15:10:") && e.contains("no device `nope` before this step"),
        "{e}"
    );
}

/// A 16MiB device `lin` (lines 5 to 9), then `rest`.
fn lin(rest: &str) -> String {
    pool(
        "",
        &format!(
            "[[step]]\naction = \"create-device\"\ndevice = \"lin\"\nsize = \"16MiB\"\n{rest}"
        ),
    )
}

const LIN2: &str =
    "[[step]]\naction = \"create-device\"\ndevice = \"lin2\"\nover_device = \"lin\"\nsize = \"16MiB\"\n";
const ONPOOL: &str =
    "[[step]]\naction = \"create-device\"\ndevice = \"p\"\nover_pool = true\nsize = \"16MiB\"\n";

#[test]
fn a_device_over_a_device_or_the_pool_device_validates_and_is_read() {
    let reads = "[[step]]\naction = \"io\"\ndevice = \"lin2\"\nrw = \"read\"\ncount = 8\n\
                 [[step]]\naction = \"io\"\ndevice = \"p\"\nrw = \"randread\"\ncount = 8\n\
                 [[step]]\naction = \"verify\"\ndevice = \"lin\"\n";
    let s = ok(&lin(&format!("{LIN2}{ONPOOL}{reads}")));
    let Action::CreateDevice(d) = &s.steps[1].action else {
        panic!("create-device")
    };
    assert_eq!(d.over_device.as_ref().map(Ident::as_str), Some("lin"));
    assert!(!d.over_pool && d.over.is_empty());
    let Action::CreateDevice(d) = &s.steps[2].action else {
        panic!("create-device")
    };
    assert!(d.over_pool && d.over_device.is_none());
}

#[test]
fn a_device_over_the_pool_device_is_not_written_and_stacked_stamps_go_with_a_write() {
    let e = one(&lin(&format!(
        "{ONPOOL}[[step]]\naction = \"io\"\ndevice = \"p\"\nrw = \"write\"\ncount = 8\n"
    )));
    assert!(
        e.starts_with("t.toml:16:10:")
            && e.contains("a write would land under the pool's mappings"),
        "{e}"
    );
    let e = one(&lin(&format!(
        "{LIN2}[[step]]\nname = \"fmt\"\naction = \"mkfs\"\ndevice = \"lin2\"\n\
         [[step]]\naction = \"verify\"\ndevice = \"lin\"\n"
    )));
    assert!(
        e.starts_with("t.toml:20:10:")
            && e.contains("device `lin` holds step `fmt`'s unstamped IO"),
        "{e}"
    );
    let e = one(&lin(&format!(
        "{LIN2}[[step]]\naction = \"verify\"\ndevice = \"lin2\"\n"
    )));
    assert!(
        e.starts_with("t.toml:16:10:")
            && e.contains("device `lin2` is made over device `lin` and not stamped"),
        "{e}"
    );
}

#[test]
fn a_device_is_made_over_one_thing_linear_and_no_bigger() {
    let e = one(&lin(&LIN2.replace("size", "over_pool = true\nsize")));
    assert!(
        e.starts_with("t.toml:13:1:")
            && e.contains("`over_device` and `over_pool` both say what the device is made over"),
        "{e}"
    );
    let e = one(&lin(&LIN2.replace("size", "kind = \"striped\"\nsize")));
    assert!(
        e.starts_with("t.toml:12:1:")
            && e.contains("`over_device` makes a linear device, and this one is striped"),
        "{e}"
    );
    let e = one(&lin(&LIN2.replace("16MiB", "32MiB")));
    assert!(
        e.starts_with("t.toml:12:15:")
            && e.contains("device `lin` is 16MiB and device `lin2` over it is 32MiB"),
        "{e}"
    );
}
