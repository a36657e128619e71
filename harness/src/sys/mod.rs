//! Small system helpers: running tools with stderr captured, signals, privilege checks.

pub mod command;
pub mod signals;

/// Whether the process runs as root.
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}
