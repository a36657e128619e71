//! Environments: where the kernel under test runs. `host` uses the running kernel's
//! device-mapper; `vm` boots a kernel under qemu. `auto` picks host when it has dm.

pub mod guest;
pub mod host;
pub mod kmsg;
pub mod vm;
