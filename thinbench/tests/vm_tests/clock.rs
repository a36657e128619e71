//! Checks of `vm_instruction_clock_and_ram_backing`: the clock recorded and labelled, and
//! RAM-backed runs doing no IO to the guest's disks.

use std::collections::BTreeMap;
use std::path::Path;

use thinbench_schema::record::{RunSummary, Status, TimingClock};

/// The `-icount shift=N` qemu was started with (`qemu.argv`, one argument a line).
fn qemu_shift(base: &Path) -> u8 {
    let argv = std::fs::read_to_string(base.join("qemu.argv")).unwrap();
    let mut args = argv.lines();
    assert!(
        args.any(|a| a == "tcg,thread=single"),
        "not single-threaded TCG: {argv}"
    );
    let icount = argv
        .lines()
        .find_map(|a| a.strip_prefix("shift="))
        .unwrap_or_else(|| panic!("no -icount shift in {argv}"));
    assert!(icount.ends_with(",sleep=off"), "{icount}");
    icount.trim_end_matches(",sleep=off").parse().unwrap()
}

/// vd* lines of a `/proc/diskstats` copy: device → its counters.
fn vd_stats(path: &Path) -> BTreeMap<String, Vec<u64>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let name = f.get(2)?;
            name.starts_with("vd").then(|| {
                (
                    name.to_string(),
                    f[3..].iter().map(|x| x.parse().unwrap()).collect(),
                )
            })
        })
        .collect()
}

/// Whether any vd* disk's counters changed over the run in `dir`.
fn disks_touched(dir: &Path) -> bool {
    let before = vd_stats(&dir.join("guest-diskstats-before.txt"));
    let after = vd_stats(&dir.join("guest-diskstats-after.txt"));
    assert!(!before.is_empty(), "no vd disk in the guest's diskstats");
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    before != after
}

pub fn check_batch(base: &Path, stdout: &str) {
    let shift = qemu_shift(base);
    let label = format!(
        "instruction clock (emulated): time = instructions × 2^{shift} ns; device waits do not count"
    );
    assert!(
        stdout.contains(&format!("note: timings: {label}")),
        "{stdout}"
    );
    for (name, ram) in [("smoke", false), ("smoke-ram", true)] {
        let dir = base.join(name);
        let text = std::fs::read_to_string(dir.join("summary.json")).unwrap();
        let s: RunSummary = serde_json::from_str(&text).unwrap();
        assert_eq!(s.status, Status::Passed, "{name}: {text}");
        assert_eq!(s.environment.clock, TimingClock::Instructions, "{name}");
        assert_eq!(s.environment.icount_shift, Some(shift), "{name}");
        assert_eq!(
            s.environment.cpus, 1,
            "{name}: the instruction clock runs one CPU"
        );
        let kinds: Vec<&str> = s.cases.iter().map(|c| c.pool.kind.as_str()).collect();
        assert_eq!(kinds, ["loop-lvm", "direct-lvm"], "{name}");
        for c in &s.cases {
            let built = c.pool.construction.join("\n");
            let (tmpfs, brd) = (built.contains("tmpfs"), built.contains("modprobe brd"));
            assert_eq!(tmpfs || brd, ram, "{name}/{}: construction:\n{built}", c.id);
        }
        for f in ["report/report.md", "report/report.html"] {
            let page = std::fs::read_to_string(dir.join(f)).unwrap();
            assert!(
                page.contains(&label),
                "{name}: {f} does not label the clock"
            );
        }
        let touched = disks_touched(&dir);
        eprintln!("{name}: guest disks touched by the run: {touched}");
        assert_eq!(touched, !ram, "{name}: vd* counters changed: {touched}");
        let console = std::fs::read_to_string(base.join("console.log")).unwrap();
        for warning in ["blocked for more than", "soft lockup"] {
            assert!(
                !console.contains(warning),
                "{name}: console has {warning:?}"
            );
        }
    }
}
