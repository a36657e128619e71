//! Documented exit codes (README, "Commands").

/// Everything ran and every check passed.
pub const OK: i32 = 0;
/// The run finished and something checked failed; `gate` and `compare`: something
/// regressed, changed or went missing.
pub const FAILED: i32 = 1;
/// Usage, scenario or environment error: nothing (more) was run.
pub const ERROR: i32 = 2;
/// The run is incomplete: interrupted, killed guest, timeout.
pub const INCOMPLETE: i32 = 3;
/// Everything that ran passed but something was skipped (with a reason).
pub const SKIPPED: i32 = 4;
/// `gate`: nothing regressed, but something could not be judged (too few samples, too
/// noisy, unstable); `--inconclusive fail|pass` turns it into 1 or 0.
pub const GATE_INCONCLUSIVE: i32 = 3;
