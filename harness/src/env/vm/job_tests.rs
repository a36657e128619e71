//! Tests of the VM batch: the guest script byte for byte, the scratch disks.

use super::*;

fn plan(name: &str) -> ScenarioSpec {
    let text = format!(
        "format = 1\nname = \"{name}\"\n[[pool]]\nname = \"loop\"\nkind = \"loop-lvm\"\n\
         [[pool]]\nname = \"direct\"\nkind = \"direct-lvm\"\ndevice = \"auto\"\n\
         [[step]]\naction = \"create-thin\"\nthin = \"t\"\nsize = \"1GiB\"\n"
    );
    crate::scenario::load_scenario_str(Path::new("s.toml"), &text).unwrap()
}

#[test]
fn guest_script_runs_every_job_into_its_own_directory() {
    let mut narrowed = plan("smoke");
    narrowed.retain_pools(&["direct".into()]).unwrap();
    let jobs: Vec<Job> = (1..=2)
        .map(|k| Job {
            plan: narrowed.clone(),
            pools: Some(vec!["direct".into()]),
            run_id: format!("20260101T00000{k}-abcd"),
            out: PathBuf::from(format!("/r/it's/sample-{k}")),
            sample: (k, 2),
        })
        .collect();
    let flags = GuestFlags {
        force_device: true,
        allow_host_paths: false,
        services: Default::default(),
    };
    let facts = HostFacts {
        accel: "tcg".into(),
        qemu_version: Some("10.0.2".into()),
        host_cpu: "AMD EPYC 9B14".into(),
        clock: "instructions".into(),
        icount_shift: Some(4),
    };
    let s = guest_script(Path::new("/bin/thinbench"), &jobs, flags, None, &facts);
    let lines: Vec<&str> = s.lines().collect();
    assert_eq!(
        lines[0],
        "export DM_DISABLE_UDEV=1 PATH=/usr/sbin:/usr/bin:/sbin:/bin RUST_BACKTRACE=1 \
         THINBENCH_VM_ACCEL='tcg' THINBENCH_VM_QEMU_VERSION='10.0.2' THINBENCH_VM_HOST_CPU='AMD EPYC 9B14' \
         THINBENCH_VM_CLOCK='instructions' THINBENCH_VM_ICOUNT_SHIFT='4'"
    );
    assert_eq!(lines[2], "rc=0");
    // The instruction clock's factor (50 × 30 min) is capped at the 24 h a run takes.
    assert!(lines[3].starts_with("echo \"thinbench-guest: run 1/2 uptime="));
    assert_eq!(
        lines[4],
        "cat /proc/diskstats > '/r/it'\\''s/sample-1/guest-diskstats-before.txt' 2>/dev/null"
    );
    assert_eq!(
        lines[5],
        "'/bin/thinbench' run --env host --guest --force-device --timeout 86400s --run-id 20260101T000001-abcd \
         --only-pool 'direct' --out '/r/it'\\''s/sample-1' '/r/it'\\''s/sample-1/scenario.toml' \
         > '/r/it'\\''s/sample-1/guest.log' 2>&1 || rc=$?"
    );
    assert!(lines[6].ends_with("/sample-1/guest-diskstats-after.txt' 2>/dev/null"));
    assert!(lines[7].starts_with("echo \"thinbench-guest: run 2/2 uptime="));
    assert!(lines[9].contains("--run-id 20260101T000002-abcd"));
    assert_eq!(lines.last(), Some(&"exit $rc"));
}

#[test]
fn disks_are_whole_mib_with_room_for_the_file_system() {
    assert_eq!(whole_mib(1), 1 << 20);
    assert_eq!(whole_mib(1 << 20), 1 << 20);
    // Small pools still get 1 GiB, plus 512 MiB.
    assert_eq!(work_disk_bytes(0), (1 << 30) + (512 << 20));
    // 10 GiB of loop files: 11 GiB, plus 512 MiB.
    assert_eq!(work_disk_bytes(10 << 30), (11 << 30) + (512 << 20));
}

#[test]
fn scratch_disks_cover_every_direct_pool_position() {
    let dir = tempfile::tempdir().unwrap();
    let job = Job {
        plan: plan("smoke"),
        pools: None,
        run_id: "20260101T000000-abcd".into(),
        out: dir.path().join("out"),
        sample: (1, 1),
    };
    let disks = scratch_disks(&[job], dir.path()).unwrap();
    let serials: Vec<&str> = disks.iter().map(|d| d.serial.as_str()).collect();
    // The direct-lvm pool is the second one: its PV disk is found by index 1.
    assert_eq!(
        serials,
        [guest::WORK_SERIAL.to_owned(), guest::pv_serial(1)]
    );
    for d in &disks {
        assert_eq!(fs::metadata(&d.path).unwrap().len() % (1 << 20), 0);
    }
}
