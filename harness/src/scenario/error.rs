//! Errors of loading a scenario: positioned (`FILE:LINE:COL`), with a hint, and always
//! collected into one list so a user sees every mistake in a file at once.
//!
//! Inside the crate, checks report a [`Diagnostic`] carrying a byte span of the scenario
//! text; the loader turns spans into 1-based line:column once, at the end, with
//! [`LineIndex`]. Both, and the error itself, are `thinbench_schema::positioned`'s,
//! shared with the planner's plans and the gate's config.

use thinbench_schema::positioned::Positioned;
pub(crate) use thinbench_schema::positioned::{suggest, Diagnostic, LineIndex};

/// Every error found in one scenario file, in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", Positioned::display_list(&self.errors))]
pub struct ScenarioErrors {
    /// The errors; never empty when returned by the loader.
    pub errors: Vec<ScenarioError>,
}

/// One mistake in a scenario file: `FILE:LINE:COL: error: MESSAGE`, plus
/// `\n  hint: HINT` when there is a hint; line and column 1-based, the column in
/// characters; line 0 for the file as a whole (`FILE: error: MESSAGE`). The shape every
/// thinbench input file's errors share: see [`Positioned`].
pub type ScenarioError = Positioned;
