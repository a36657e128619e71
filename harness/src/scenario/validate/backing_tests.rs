//! `clock` and `backing`: values, defaults, and the refusals with their positions.

use crate::scenario::load_scenario_str;
use crate::spec::{Backing, DeviceSpec, PoolKindSpec, ScenarioSpec};
use std::path::Path;
use thinbench_schema::record::TimingClock;
use thinbench_schema::units::Bytes;

fn load(text: &str) -> Result<ScenarioSpec, Vec<String>> {
    load_scenario_str(Path::new("t.toml"), text)
        .map_err(|e| e.errors.iter().map(|e| e.to_string()).collect())
}

fn one(text: &str) -> String {
    let e = load(text).expect_err("should fail");
    assert_eq!(e.len(), 1, "{e:#?}");
    e[0].clone()
}

const STEP: &str = "[[step]]\naction = \"create-thin\"\nthin = \"t\"\nsize = \"64MiB\"\n";

fn pools(loop_keys: &str, direct_keys: &str) -> String {
    format!(
        "format = 1\n[[pool]]\nname = \"l\"\nkind = \"loop-lvm\"\n{loop_keys}\
         [[pool]]\nname = \"d\"\nkind = \"direct-lvm\"\n{direct_keys}{STEP}"
    )
}

#[test]
fn clock_is_wall_or_instructions_and_absent_by_default() {
    let p = load(&pools("", "")).unwrap();
    assert_eq!(p.clock, None);
    let p = load(&format!("clock = \"instructions\"\n{}", pools("", ""))).unwrap();
    assert_eq!(p.clock, Some(TimingClock::Instructions));
    let e = one(&format!("clock = \"instruction\"\n{}", pools("", "")));
    assert!(
        e.starts_with("t.toml:1:9: error: `clock` must be one of \"wall\", \"instructions\""),
        "{e}"
    );
}

#[test]
fn ram_backing_puts_loop_files_in_memory_and_makes_a_brd_pv() {
    let p = load(&pools(
        "backing = \"ram\"\ndata_size = \"256MiB\"\nmetadata_size = \"16MiB\"\n",
        "backing = \"ram\"\ndevice_size = \"512MiB\"\n",
    ))
    .unwrap();
    assert!(p.all_ram_backed());
    assert_eq!(p.pools[0].ram_bytes(), Some(Bytes(272 << 20)));
    let PoolKindSpec::DirectLvm(d) = &p.pools[1].kind else {
        panic!("direct-lvm expected")
    };
    assert_eq!(
        d.device,
        DeviceSpec::Ram {
            size: Bytes(512 << 20)
        }
    );
    // The default is disk, and a disk-backed pool takes no memory.
    let p = load(&pools("", "")).unwrap();
    assert_eq!(p.pools[0].backing, Backing::Disk);
    assert_eq!(p.pools[0].ram_bytes(), None);
    assert!(!p.all_ram_backed());
}

#[test]
fn ram_backing_must_fit_half_the_guest_memory() {
    // loop-lvm's defaults are Docker's 100GiB + 2GiB files.
    let e = one(&pools("backing = \"ram\"\n", ""));
    assert!(e.starts_with("t.toml:5:1: error: `backing = \"ram\"`: the pool takes up to 102GiB in memory when full (data_size 100GiB + metadata_size 2GiB), more than the 1GiB a RAM-backed pool may use: half of the VM's 2GiB"), "{e}");
    let e = one(&pools("", "backing = \"ram\"\ndevice_size = \"1040MiB\"\n"));
    assert!(
        e.contains("takes up to 1040MiB in memory when full (device_size 1040MiB)"),
        "{e}"
    );
    // Exactly half fits.
    load(&pools("", "backing = \"ram\"\ndevice_size = \"1GiB\"\n")).unwrap();
}

#[test]
fn ram_backing_refuses_another_place_for_the_data() {
    let e = one(&pools(
        "backing = \"ram\"\ndata_size = \"64MiB\"\ndir = \"x\"\n",
        "",
    ));
    assert!(
        e.contains("`dir` and `backing = \"ram\"` both say where"),
        "{e}"
    );
    let e = one(&pools("", "backing = \"ram\"\ndevice = \"loop\"\n"));
    assert!(
        e.starts_with("t.toml:9:1: error: `backing = \"ram\"` makes the PV a brd ram disk"),
        "{e}"
    );
    let e = one(&pools("backing = \"tmpfs\"\n", ""));
    assert!(
        e.contains("`backing` must be one of \"disk\", \"ram\""),
        "{e}"
    );
}

/// `stacked_levels`: a loop-lvm pool over a thin of pools below it; the lower pools'
/// settings only with it, and no fault layers under such a pool yet.
#[test]
fn a_stacked_pool_takes_its_levels_and_lower_settings_and_no_faults() {
    let base = "format = 1\n[[pool]]\nname = \"p\"\nkind = \"loop-lvm\"\n";
    let step = "[[step]]\naction = \"create-thin\"\nthin = \"t\"\n";
    let plan = load(&format!(
        "{base}stacked_levels = 2\nlower_discard_passdown = false\n{step}"
    ))
    .unwrap();
    let PoolKindSpec::LoopLvm(l) = &plan.pools[0].kind else {
        panic!("loop-lvm")
    };
    let st = l.stacked.expect("stacked");
    assert_eq!(
        (st.levels, st.discard_passdown, st.ignore_discard),
        (2, false, false)
    );
    let e = one(&format!("{base}lower_ignore_discard = true\n{step}"));
    assert!(
        e.starts_with("t.toml:5:1:") && e.contains("need `stacked_levels`"),
        "{e}"
    );
    let e = one(&format!("{base}stacked_levels = 4\n{step}"));
    assert!(e.starts_with("t.toml:5:18:"), "{e}");
    let e = one(&format!(
        "{base}stacked_levels = 1\n[[fault]]\npool = \"p\"\ndevice = \"data\"\ntarget = \"delay\"\n{step}"
    ));
    assert!(e.contains("not yet: a fault under a stacked pool"), "{e}");
}
