//! Choosing kernels, without booting one: the scenario's `kernels` key (positioned
//! errors for paths, repeats and bad names), and `run`'s refusals before anything is
//! created (a Debian name apt does not offer, a kernel for a run on the running kernel,
//! scenarios that disagree). Booting them is the VM tests' (`vm_smoke_…`).

use std::path::Path;
use std::process::Command;

use thinbench_harness::scenario::load_scenario_str;
use thinbench_harness::spec::KernelRequest;

const BIN: &str = env!("CARGO_BIN_EXE_thinbench");

fn scenario(kernels: &str) -> String {
    format!(
        "format = 1\nname = \"k\"\n{kernels}\n[[pool]]\nname = \"p\"\nkind = \"loop-lvm\"\n\
         [[step]]\naction = \"create-thin\"\nthin = \"t\"\nsize = \"1GiB\"\n"
    )
}

#[test]
fn scenario_kernels_are_debian_names_each_once() {
    let p = load_scenario_str(
        Path::new("k.toml"),
        &scenario(r#"kernels = ["debian:6.1", "debian:6.12"]"#),
    )
    .unwrap();
    assert_eq!(
        p.kernels,
        [
            KernelRequest::Debian("6.1".into()),
            KernelRequest::Debian("6.12".into())
        ]
    );
    let errors = |k: &str| -> Vec<String> {
        load_scenario_str(Path::new("k.toml"), &scenario(k))
            .unwrap_err()
            .errors
            .iter()
            .map(|e| e.to_string())
            .collect()
    };
    let e = errors(r#"kernels = ["/boot/vmlinuz-6.1.0-57-amd64"]"#);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].starts_with("k.toml:3:"), "{e:?}");
    assert!(e[0].contains("is not a Debian kernel name"), "{e:?}");
    let e = errors(r#"kernels = ["debian:6.1", "debian:6.1"]"#);
    assert!(e[0].contains("named twice"), "{e:?}");
    let e = errors(r#"kernels = ["debian:6.1$(id)"]"#);
    assert!(e[0].contains("only letters, digits"), "{e:?}");
    let e = errors(r#"kernels = "debian:6.1""#);
    assert!(e[0].contains("an array of kernel names"), "{e:?}");
}

fn root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// `run` as root (it checks root before anything else); `None` when not root and the
/// suite is not required to run everything.
fn run(args: &[&str], files: &[(&str, String)]) -> Option<(i32, String)> {
    if !root() {
        assert!(
            std::env::var_os("THINBENCH_REQUIRE_VM").is_none(),
            "run needs root and the suite requires it"
        );
        eprintln!("skipped: `thinbench run` needs root");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let o = Command::new(BIN)
        .current_dir(dir.path())
        .arg("run")
        .args(args)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    // Refused before anything was made: no results directory.
    assert!(!dir.path().join("runs").exists(), "{err}");
    Some((o.status.code().unwrap_or(-1), err))
}

#[test]
fn a_kernel_apt_does_not_offer_is_an_error_naming_what_it_offers() {
    let Some((code, err)) = run(
        &["k.toml", "--env", "vm", "--kernel", "debian:9.99"],
        &[("k.toml", scenario(""))],
    ) else {
        return;
    };
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("no Debian kernel matches `debian:9.99`"),
        "{err}"
    );
    // Either the releases offered, or that apt offers none here: never a bare failure.
    assert!(err.contains("apt offers"), "{err}");
}

#[test]
fn kernels_are_for_the_vm_and_scenarios_run_together_must_agree() {
    let Some((code, err)) = run(
        &["k.toml", "--env", "host", "--kernel", "debian:6.12"],
        &[("k.toml", scenario(""))],
    ) else {
        return;
    };
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("a kernel is chosen for the VM"), "{err}");
    let b = scenario(r#"kernels = ["debian:6.12"]"#).replace("name = \"k\"", "name = \"b\"");
    let (code, err) = run(
        &["a.toml", "b.toml", "--env", "vm"],
        &[
            ("a.toml", scenario(r#"kernels = ["debian:6.1"]"#)),
            ("b.toml", b),
        ],
    )
    .unwrap();
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("share their boots"), "{err}");
}
