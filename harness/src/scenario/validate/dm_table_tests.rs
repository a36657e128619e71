use super::*;
use crate::scenario::validate::test_support::{ok, one};

/// A loop-lvm pool, devices `md` and `data`, then `step` (a dm-table step's keys).
fn with(step: &str) -> String {
    format!(
        "format = 1\n[[pool]]\nname = \"p\"\nkind = \"loop-lvm\"\n\
         [[step]]\naction = \"create-device\"\ndevice = \"md\"\nsize = \"4MiB\"\n\
         [[step]]\naction = \"create-device\"\ndevice = \"data\"\nsize = \"16MiB\"\n\
         [[step]]\nname = \"t\"\naction = \"dm-table\"\n{step}"
    )
}

#[test]
fn a_pool_table_over_case_devices_is_parsed_by_its_grammar() {
    let s = ok(&with(
        "device = \"pp\"\ncreate = true\nwipe = [\"md\"]\n\
         lines = [\"0 {sectors:data} thin-pool {device:md} {device:data} 128 0 1 skip_block_zeroing\"]\n",
    ));
    let Action::DmTable(t) = &s.steps[2].action else {
        panic!("{:?}", s.steps[2].action)
    };
    assert_eq!(t.device, TableDevice::Probe(Ident::new("pp").unwrap()));
    assert_eq!(t.wipe.len(), 1);
    assert!(t.resume);
    let l = &t.lines[0];
    assert_eq!(l.target, "thin-pool");
    assert_eq!(
        l.len,
        Count::SectorsOf(DeviceRef::Case(Ident::new("data").unwrap()))
    );
    assert_eq!(l.args.len(), 6);
    assert_eq!(l.args[5], TableArg::Word("skip_block_zeroing".into()));
}

#[test]
fn a_device_by_path_or_number_is_refused_where_a_device_goes() {
    for (line, says) in [
        ("0 8 linear /dev/sda 0", "`/dev/sda` where a device goes"),
        ("0 8 linear 8:0 0", "`8:0` where a device goes"),
        ("0 8 linear sda 0", "`sda` where a device goes"),
        (
            "0 8 thin-pool {device:md} /dev/vda 128 0",
            "`/dev/vda` where a device goes",
        ),
        (
            "0 8 striped 2 128 {device:md} 0 7:0 0",
            "`7:0` where a device goes",
        ),
        ("0 8 crypt aes {device:md} 0", "target `crypt` is not one"),
        ("0 8 linear {device:md}", "`linear` takes <device> <offset>"),
        (
            "0 8 thin-pool {device:md} {device:data} 128 0 1 skip_block_zeroing read_only",
            "feature count 1 is not the 2 features",
        ),
        (
            "0 8 thin-pool {device:md} {device:data} 128 0 1 no_such",
            "`no_such` is not a thin-pool feature",
        ),
        ("x 8 zero", "`x` is not a number"),
    ] {
        let e = one(&with(&format!(
            "device = \"pp\"\ncreate = true\nlines = [\"{line}\"]\n"
        )));
        assert!(e.contains(says), "{line}: {e}");
    }
}

#[test]
fn the_pool_takes_a_hand_written_table_only_expecting_a_refusal() {
    let e = one(&with(
        "device = \"pool\"\nlines = [\"0 {sectors:pool} linear {device:data} 0\"]\n",
    ));
    assert!(e.contains("must expect its refusal"), "{e}");
    ok(&with(
        "device = \"pool\"\nlines = [\"0 {sectors:pool} linear {device:data} 0\"]\nexpect.error = \"EINVAL\"\n",
    ));
}

#[test]
fn named_devices_must_exist_and_a_loaded_one_loses_its_stamps() {
    let e = one(&with(
        "device = \"pp\"\ncreate = true\nlines = [\"0 8 linear {device:nope} 0\"]\n",
    ));
    assert!(e.contains("nope"), "{e}");
    // A table loaded into `data` replaces what it held: a later verify has nothing to
    // check against.
    let e = one(&with(
        "device = \"data\"\nlines = [\"0 {sectors:data} zero\"]\n\
         [[step]]\naction = \"verify\"\ndevice = \"data\"\n",
    ));
    assert!(e.contains("nothing to check it against"), "{e}");
}

#[test]
fn a_thins_own_table_is_loaded_again_and_nothing_else_goes_with_it() {
    let thin = "[[step]]\naction = \"create-thin\"\nthin = \"a\"\nsize = \"16MiB\"\n\
                [[step]]\nname = \"again\"\naction = \"dm-table\"\n";
    let s = ok(&with(&format!("device = \"x\"\ncreate = true\nlines = [\"0 8 zero\"]\n{thin}thin = \"a\"\nresume = false\n")));
    let Action::DmTable(t) = &s.steps[4].action else {
        panic!("{:?}", s.steps[4].action)
    };
    assert_eq!(t.device, TableDevice::Thin(Ident::new("a").unwrap()));
    assert!(t.lines.is_empty() && !t.resume);
    let e = one(&with(&format!(
        "device = \"x\"\ncreate = true\nlines = [\"0 8 zero\"]\n{thin}thin = \"a\"\nlines = [\"0 8 zero\"]\n"
    )));
    assert!(e.contains("`lines` with `thin`"), "{e}");
    let e = one(&with("thin = \"nope\"\n"));
    assert!(e.contains("nope"), "{e}");
}
