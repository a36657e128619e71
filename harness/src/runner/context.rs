//! Where and as what a run executes: below the runner and the pool factories, which
//! both read it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use thinbench_schema::record::EnvironmentInfo;

/// Where and as what a run executes.
pub struct RunContext {
    /// Run id (tags every device).
    pub run_id: String,
    /// Results directory.
    pub out_dir: PathBuf,
    /// Scratch directory for pool files and lvm config (removed at the end).
    pub work_dir: PathBuf,
    /// Environment facts.
    pub env: EnvironmentInfo,
    /// Whether `device = "auto"` can be resolved (VM scratch disks), by pool index.
    pub auto_devices: BTreeMap<usize, PathBuf>,
    /// RFC 3339 start time.
    pub started_at: String,
    /// `--force-device`: a named device's signatures may be overwritten.
    pub force_device: bool,
    /// `--dmeventd`: the system's dmeventd monitors direct-lvm pools (and autoextends
    /// them); thinbench's own monitor only watches.
    pub dmeventd: bool,
}
