//! `[[fault]]` under a direct-lvm pool: flakey, delay and error layers are taken (over
//! the PV, confined to the pool's `_tdata`/`_tmeta` LV), and log-writes (over the whole
//! PV); dust, a second PV and a reboot's `repair` are refused where written, saying why.

use super::*;

/// Pool `b` (direct-lvm) with a thin, then `fault`'s table after `[[fault]]`.
fn with_fault(fault: &str) -> String {
    steps(&format!("{CREATE_T}[[fault]]\npool = \"b\"\n{fault}"))
}

#[test]
fn flakey_delay_and_error_faults_go_under_a_direct_lvm_pool() {
    for f in [
        "device = \"data\"\ntarget = \"delay\"\nwrite = \"5ms\"\n",
        "device = \"metadata\"\ntarget = \"flakey\"\nmode = \"error_writes\"\n",
        "device = \"data\"\ntarget = \"error\"\nbad = [\"1MiB+64KiB\"]\n",
    ] {
        let plan = ok(&with_fault(f));
        let b = plan.pools.iter().find(|p| p.name.as_str() == "b").unwrap();
        assert_eq!(b.faults.len(), 1, "{f}");
    }
    // A reboot without `repair` is fine there too.
    ok(&with_fault(
        "device = \"metadata\"\ntarget = \"flakey\"\nmode = \"drop_writes\"\n\
         [[step]]\naction = \"reboot\"\npools = [\"b\"]\n",
    ));
}

#[test]
fn dust_under_direct_lvm_is_refused_at_the_target_and_log_writes_is_taken() {
    let text = with_fault("device = \"data\"\ntarget = \"dust\"\n");
    let errs = load(&text).unwrap_err();
    assert_eq!(errs.len(), 1, "{errs:#?}");
    let shown = errs[0].to_string();
    // `target` is on line 15 (7 of pools, 4 of step, the header, 2 of the fault).
    assert!(
        shown
            .starts_with("t.toml:15:1: error: not yet: a dust fault under a direct-lvm pool (`b`)"),
        "{shown}"
    );
    assert!(shown.contains("one target per LV segment"), "{shown}");
    // log-writes, beside a flakey layer, and a replay of it.
    let plan = ok(&with_fault(
        "device = \"pool\"\ntarget = \"log-writes\"\nlog_size = \"32MiB\"\n\
         [[fault]]\npool = \"b\"\ndevice = \"metadata\"\ntarget = \"flakey\"\nmode = \"drop_writes\"\n\
         [[step]]\naction = \"replay\"\npools = [\"b\"]\n",
    ));
    let b = plan.pools.iter().find(|p| p.name.as_str() == "b").unwrap();
    assert_eq!(b.faults.len(), 2);
    assert!(matches!(b.faults[0].target, FaultTarget::LogWrites(_)));
    // Still under the whole pool only.
    let e = one(&with_fault("device = \"data\"\ntarget = \"log-writes\"\n"));
    assert!(
        e.starts_with("a log-writes fault goes under the whole pool"),
        "{e}"
    );
}

#[test]
fn a_second_pv_with_a_fault_is_refused_at_vgextend_size() {
    let text = format!(
        "format = 1\n[[pool]]\nname = \"b\"\nkind = \"direct-lvm\"\nvgextend_size = \"64MiB\"\n\
         {CREATE_T}[[fault]]\npool = \"b\"\ndevice = \"data\"\ntarget = \"delay\"\nwrite = \"1ms\"\n"
    );
    let errs = load(&text).unwrap_err();
    assert_eq!(errs.len(), 1, "{errs:#?}");
    let shown = errs[0].to_string();
    assert!(
        shown.starts_with(
            "t.toml:5:1: error: not yet: `vgextend_size` on a direct-lvm pool with a fault (`b`)"
        ),
        "{shown}"
    );
}

#[test]
fn a_reboot_with_repair_is_refused_on_direct_lvm_only() {
    let reboot = |pools: &str| {
        with_fault(&format!(
            "device = \"metadata\"\ntarget = \"flakey\"\nmode = \"drop_writes\"\n\
             [[step]]\naction = \"reboot\"\npools = [{pools}]\nrepair = true\n"
        ))
    };
    let e = one(&reboot("\"b\""));
    assert!(
        e.starts_with("not yet: `repair = true` in a reboot of a direct-lvm pool"),
        "{e}"
    );
    assert!(e.contains("lvconvert --repair"), "{e}");
    // loop-lvm takes it (`a` needs a fault of its own for the reboot to mean anything,
    // but validation does not ask for one).
    ok(&reboot("\"a\""));
}
