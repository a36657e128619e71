//! Small system helpers: running tools with stderr captured, kernel modules on demand,
//! signals, privilege checks.

pub mod clock;
pub mod command;
pub mod host_services;
pub mod modules;
pub mod signals;

/// Whether the process runs as root.
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}
