//! Which kernel a run asks for: `debian:<name>` (resolved through apt when the VM is
//! set up) or an image path. A scenario's `kernels` key may name only `debian:` kernels:
//! a path in a file is a host path the file would choose (docs/security.md).

use std::path::PathBuf;

/// How a kernel was asked for on the command line or in a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelRequest {
    /// `debian:<name>`: resolved through apt.
    Debian(String),
    /// A kernel image path (its modules directory comes with `--modules`).
    Path(PathBuf),
}

impl KernelRequest {
    /// `debian:X` is a Debian kernel; anything else a path.
    pub fn parse(s: &str) -> Result<KernelRequest, String> {
        match s.strip_prefix("debian:") {
            Some("") => Err(format!(
                "`{s}`: name a version after `debian:` (`debian:6.12`, `debian:6.1.0-47`, `debian:latest`, `debian:default`)"
            )),
            Some(name) if name.chars().all(|c| c.is_ascii_alphanumeric() || ".-+~".contains(c)) => {
                Ok(KernelRequest::Debian(name.to_owned()))
            }
            Some(name) => Err(format!(
                "`debian:{name}`: a Debian kernel version has only letters, digits and `.-+~`"
            )),
            None => Ok(KernelRequest::Path(PathBuf::from(s))),
        }
    }
}

impl std::fmt::Display for KernelRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KernelRequest::Debian(n) => write!(f, "debian:{n}"),
            KernelRequest::Path(p) => write!(f, "{}", p.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse() {
        assert_eq!(
            KernelRequest::parse("debian:6.12").unwrap(),
            KernelRequest::Debian("6.12".into())
        );
        assert_eq!(
            KernelRequest::parse("/boot/vmlinuz").unwrap(),
            KernelRequest::Path("/boot/vmlinuz".into())
        );
        assert!(KernelRequest::parse("debian:").is_err());
        assert!(KernelRequest::parse("debian:6.1;rm").is_err());
    }
}
