//! The filesystem steps in one boot: the seeds' demo (`scenarios/thin-snapshot-demo.toml`:
//! ext4 on a thin, a snapshot changed, the base unchanged, a snapshot of the snapshot
//! seeing both files) passes on both pool kinds with every claim a verdict in
//! `summary.json`, and a wrong file claim (`fixtures/vm/wrong-file.toml`) fails naming the
//! thin, the file and both contents' stamps.

use std::process::Command;

use thinbench_schema::record::{RunSummary, Status};

use super::{repo, vm_available, BIN};

#[test]
#[ignore = "boots a VM (qemu TCG, ~1 min); run by ci/test"]
fn vm_fs_demo_and_wrong_file() {
    if !vm_available() {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let run = Command::new(BIN)
        .current_dir(repo())
        .args([
            "run",
            "scenarios/thin-snapshot-demo.toml",
            "thinbench/tests/fixtures/vm/wrong-file.toml",
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
    // The fixture fails, so the batch does.
    assert_eq!(run.status.code(), Some(1), "exit code of the batch");
    let summary = |n: &str| -> RunSummary {
        let text = std::fs::read_to_string(out.path().join(n).join("summary.json"))
            .unwrap_or_else(|e| panic!("{n}: no summary.json: {e}"));
        serde_json::from_str(&text).unwrap()
    };

    let s = summary("thin-snapshot-demo");
    assert_eq!(s.status, Status::Passed, "{:?}", s.error);
    let mut kinds: Vec<String> = s
        .cases
        .iter()
        .map(|c| c.pool.kind.as_str().to_owned())
        .collect();
    kinds.sort();
    assert_eq!(kinds, ["direct-lvm", "loop-lvm"]);
    for c in &s.cases {
        let verdicts: Vec<(&str, &str, &str, &str)> = c
            .steps
            .iter()
            .flat_map(|st| {
                st.expectations.iter().map(move |e| {
                    assert_eq!(e.status, Status::Passed, "{} {}: {e:#?}", c.id, st.name);
                    (
                        st.name.as_str(),
                        e.what.as_str(),
                        e.expected.as_str(),
                        e.observed.as_str(),
                    )
                })
            })
            .collect();
        // Every claim of the demo, as a verdict of its step.
        let claim = |step: &str, what: &str, expected: &str| {
            assert!(
                verdicts
                    .iter()
                    .any(|v| v.0 == step && v.1 == what && v.2 == expected && v.3 == expected),
                "{}: no passed verdict {step}: {what} = {expected}",
                c.id
            );
        };
        let (id, s1) = (
            "id.txt (the scenario's claim)",
            "snap1.txt (the scenario's claim)",
        );
        claim(
            "base-has-id",
            &format!("thin base: file {id}"),
            "write-id@base",
        );
        claim(
            "snap1-sees-id",
            &format!("thin snap1: file {id}"),
            "write-id@base",
        );
        claim("snap1-sees-id", &format!("thin snap1: file {s1}"), "absent");
        let both = "write-id@base + append-id@snap1";
        claim("snap1-changed", &format!("thin snap1: file {id}"), both);
        claim(
            "snap1-changed",
            &format!("thin snap1: file {s1}"),
            "write-snap1@snap1",
        );
        claim(
            "base-unchanged",
            &format!("thin base: file {id}"),
            "write-id@base",
        );
        claim("base-unchanged", &format!("thin base: file {s1}"), "absent");
        claim("snap2-sees-both", &format!("thin snap2: file {id}"), both);
        claim(
            "snap2-sees-both",
            &format!("thin snap2: file {s1}"),
            "write-snap1@snap1",
        );
        claim("fsck-snap2", "thin snap2: e2fsck -f -n", "clean");
        // The model against the kernel at every step, resynced after filesystem IO.
        for st in &c.steps {
            assert!(
                st.expectations
                    .iter()
                    .any(|e| e.what.starts_with("data blocks allocated == model")),
                "{}: step {} has no model check",
                c.id,
                st.name
            );
        }
        assert_eq!(
            c.metadata_check.as_deref(),
            Some("thin_check: ok"),
            "{}",
            c.id
        );
    }

    let s = summary("wrong-file");
    assert_eq!(s.status, Status::Failed);
    let st = s.cases[0]
        .steps
        .iter()
        .find(|st| st.name == "wrong-claim")
        .expect("the wrong-claim step");
    assert_eq!(st.status, Status::Failed, "{st:#?}");
    let msg = st
        .expectations
        .iter()
        .filter_map(|e| e.message.as_deref())
        .next()
        .unwrap_or_else(|| panic!("no failed verdict: {st:#?}"));
    assert_eq!(
        msg,
        "step 7 (wrong-claim): thin snap1: file id.txt (the scenario's claim): expected write-id@base, observed write-id@base + append-id@snap1"
    );
}
