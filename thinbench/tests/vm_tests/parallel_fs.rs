//! Parallel IO to several thins in one step group (`scenarios/parallel-fs-io.toml`):
//! background file writes on an ext4 thin and on its live snapshot, a background block
//! write on an unshared thin, a thin formatted and deleted beside them. Every check
//! passes or is skipped saying it is a background step's; the last wait checks the whole
//! pool against the model; each thin's files are its own.

use std::process::Command;

use thinbench_schema::record::{RunSummary, Status};

use super::{repo, vm_available, BIN};

#[test]
#[ignore = "boots a VM (qemu TCG, ~1 min); run by ci/test"]
fn vm_parallel_fs_io_shared_and_unshared_thins() {
    if !vm_available() {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let run = Command::new(BIN)
        .current_dir(repo())
        .args([
            "run",
            "scenarios/parallel-fs-io.toml",
            "--env",
            "vm",
            "--out",
        ])
        .arg(out.path())
        .output()
        .unwrap();
    eprint!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(run.status.success(), "exit code {:?}", run.status.code());
    let text = std::fs::read_to_string(out.path().join("summary.json")).unwrap();
    let s: RunSummary = serde_json::from_str(&text).unwrap();
    assert_eq!(s.status, Status::Passed, "{:?}", s.error);
    let c = &s.cases[0];
    let step = |n: &str| c.steps.iter().find(|x| x.name == n).unwrap();
    for st in &c.steps {
        for e in &st.expectations {
            let ok = e.status == Status::Passed
                || (e.status == Status::Skipped && e.observed.contains("background step"));
            assert!(ok, "{}: {e:#?}", st.name);
        }
    }
    // Beside the writers, the thin made, formatted and deleted has its own checks skipped.
    let x = |st: &str, what: &str| {
        step(st)
            .expectations
            .iter()
            .find(|e| e.what.starts_with(what))
            .unwrap_or_else(|| panic!("{st}: no {what}"))
            .clone()
    };
    assert_eq!(
        x("meanwhile-mkfs", "data blocks allocated == model").status,
        Status::Skipped
    );
    // Each file write's wait reads its file back; the last wait is the whole pool's.
    let f = x(
        "snap-rand-wait",
        "thin snap: file dt/rand == the file model",
    );
    assert_eq!(f.observed, "snap-rand@snap ×2048", "{f:#?}");
    let f = x("base-seq-wait", "thin base: file dt/seq == the file model");
    assert_eq!(f.observed, "base-seq@base ×128", "{f:#?}");
    assert_eq!(
        x("other-dt-wait", "data blocks allocated == model").status,
        Status::Passed
    );
    assert_eq!(
        x(
            "other-dt-wait",
            "integrity: other after background step other-dt"
        )
        .status,
        Status::Passed
    );
    // Shared until written: the snapshot's rewrite is its own, the base keeps its file.
    let claim = x(
        "snap-files",
        "thin snap: file id.txt (the scenario's claim)",
    );
    assert_eq!(claim.observed, "snap-id@snap");
    let claim = x(
        "base-files",
        "thin base: file id.txt (the scenario's claim)",
    );
    assert_eq!(claim.observed, "id@base");
}
