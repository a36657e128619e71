//! Errors of a gate config: positioned (`FILE:LINE:COL: error: …`, then `  hint: …`),
//! every one found in the file reported at once. The error, the [`Diagnostic`] a check
//! reports and the [`LineIndex`] that positions it are `thinbench_schema::positioned`'s,
//! shared with scenario files and planner plans.

use thinbench_schema::positioned::Positioned;
pub(crate) use thinbench_schema::positioned::{suggest, Diagnostic, LineIndex};

/// Every mistake found in one config file, in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", Positioned::display_list(&self.errors))]
pub struct ConfigErrors {
    /// The errors; never empty.
    pub errors: Vec<ConfigError>,
}

/// One mistake: `FILE:LINE:COL: error: MESSAGE` (+ `\n  hint: HINT`). Line and column
/// are 1-based (columns count characters); line 0 means the whole file (it could not be
/// read). The shape every thinbench input file's errors share: see [`Positioned`].
pub type ConfigError = Positioned;
