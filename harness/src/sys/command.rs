//! Running external tools (lvm2, mkfs, thin-provisioning-tools) with their stderr kept.

use std::process::{Command, Stdio};

use crate::errors::CommandError;

/// Run `prog args…`, return stdout; on failure a [`CommandError`] with stderr.
pub fn run(prog: &str, args: &[&str]) -> Result<String, CommandError> {
    run_env(prog, args, &[])
}

/// Like [`run`] with extra environment variables.
pub fn run_env(prog: &str, args: &[&str], env: &[(&str, &str)]) -> Result<String, CommandError> {
    let cmdline = std::iter::once(prog)
        .chain(args.iter().copied())
        .collect::<Vec<_>>()
        .join(" ");
    let mut cmd = Command::new(prog);
    cmd.args(args).stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().map_err(|e| CommandError {
        command: cmdline.clone(),
        status: "not started".into(),
        stderr: e.to_string(),
    })?;
    if !out.status.success() {
        return Err(CommandError {
            command: cmdline,
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Whether `prog` is on PATH.
pub fn exists(prog: &str) -> bool {
    which(prog).is_some()
}

/// Full path of `prog` on PATH (plus the sbin dirs, which a non-login root shell may lack).
pub fn which(prog: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"])
        .map(|d| std::path::Path::new(d).join(prog))
        .find(|p| p.is_file());
    found
}
