//! `thinbench compare A B` through the binary: its summary line and the rows it names are
//! said in the gate's verdict words, and it writes its files.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn compare_prints_the_gates_verdict_words() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("cmp");
    let o = Command::new(env!("CARGO_BIN_EXE_thinbench"))
        .args([
            "compare",
            "reports/tests/fixtures/smoke",
            "reports/tests/fixtures/smoke-kvm",
        ])
        .arg("--out")
        .arg(&out)
        .current_dir(repo())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The fixtures: KVM is faster on every timing; two exact block counts moved by one.
    let summary = stdout
        .lines()
        .find(|l| l.contains(" figures: "))
        .unwrap_or_else(|| panic!("no summary line in:\n{stdout}"));
    assert_eq!(
        summary,
        "37 figures: 0 regressed, 2 changed, 0 missing, 0 inconclusive, 16 improved, 19 unchanged, 0 new"
    );
    let named: Vec<&str> = stdout.lines().filter(|l| l.starts_with("  ")).collect();
    assert_eq!(named.len(), 2, "{stdout}");
    assert!(
        named
            .iter()
            .all(|l| l.starts_with("  CHANGED loop random-write ")),
        "{stdout}"
    );
    let md = std::fs::read_to_string(out.join("compare.md")).unwrap();
    assert!(md.contains(&format!("{summary}.")), "{md}");
}
