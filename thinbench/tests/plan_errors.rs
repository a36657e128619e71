//! `thinbench plan` on bad plans, through the binary: every mistake at once, each at
//! `FILE:LINE:COL` with a hint, exit 2; a binary file positioned too; and a plan given to
//! `validate` (or a scenario to `plan`) named for what it is, with the command that fits.

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_thinbench");

fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// Exit code and stderr of `thinbench ARGS`.
fn thinbench(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(BIN).args(args).output().expect("runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const FIVE_MISTAKES: &str = r#"format = 1
[pool]
data_size = "1.5GiB"
chunk_size = "100KiB"
[[image]]
name = "web"
containres = 20
[[image.layer]]
bytes = "120MiB"
pattern = "randon"
[image.churn]
every = "0h"
replace = 5
"#;

#[test]
fn five_mistakes_give_five_positioned_errors_with_hints() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.toml");
    std::fs::write(&f, FIVE_MISTAKES).unwrap();
    let (code, err) = thinbench(&["plan", f.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    let errors: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].contains(": error: "))
        .collect();
    assert_eq!(errors.len(), 5, "{err}");
    let at = |i: usize| {
        lines[errors[i]]
            .strip_prefix(f.to_str().unwrap())
            .unwrap_or("")
    };
    assert!(
        at(0).starts_with(":3:13: error: invalid `data_size`: `1.5GiB`: sizes are whole numbers"),
        "{err}"
    );
    assert!(
        at(1).starts_with(":4:14: error: chunk size 100KiB is not a multiple of 64KiB"),
        "{err}"
    );
    assert!(
        at(2).starts_with(":7:1: error: unknown key `containres` in [[image]]"),
        "{err}"
    );
    assert!(
        at(3).starts_with(":10:11: error: unknown pattern `randon`"),
        "{err}"
    );
    assert!(
        at(4).starts_with(":12:9: error: `churn.every` must be above zero"),
        "{err}"
    );
    let hints: Vec<&str> = errors
        .iter()
        .map(|&i| lines.get(i + 1).copied().unwrap_or(""))
        .collect();
    assert!(hints.iter().all(|h| h.starts_with("  hint: ")), "{err}");
    assert_eq!(hints[0], "  hint: use 1536MiB");
    assert!(
        hints[2].starts_with(
            "  hint: did you mean `containers`? valid keys in [[image]]: name, containers,"
        ),
        "{err}"
    );
    assert!(
        hints[3].starts_with("  hint: did you mean \"random\"?"),
        "{err}"
    );
}

#[test]
fn a_binary_plan_gets_a_positioned_error() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bin.toml");
    std::fs::write(&f, b"format = 1\n[pool]\ndata_size = \"\xff\xfe\"\n").unwrap();
    let (code, err) = thinbench(&["plan", f.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.starts_with(&format!(
            "{}:3:14: error: not UTF-8 text: byte 0xff",
            f.display()
        )),
        "{err}"
    );
    assert!(err.contains("hint: plan files are UTF-8 TOML"), "{err}");
}

#[test]
fn validate_on_a_plan_says_use_plan() {
    let plan = repo_file("plans/docker-default.toml");
    let (code, err) = thinbench(&["validate", plan.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(err.matches(": error: ").count(), 1, "{err}");
    assert!(err.contains("error: this is a plan file"), "{err}");
    assert!(err.contains("`thinbench plan FILE`"), "{err}");
}

#[test]
fn plan_on_a_scenario_says_use_run_or_validate() {
    let scen = repo_file("scenarios/smoke.toml");
    let (code, err) = thinbench(&["plan", scen.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(err.matches(": error: ").count(), 1, "{err}");
    assert!(err.contains("error: this is a scenario file"), "{err}");
    assert!(
        err.contains("`thinbench run FILE`") && err.contains("`thinbench validate FILE`"),
        "{err}"
    );
}
