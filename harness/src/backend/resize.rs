//! What a `resize` of a pool's device did ([`Resized`]), for the step's record.

use thinbench_schema::units::Bytes;

/// A resized device: its size before and after, and the commands that did it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resized {
    /// Bytes before.
    pub before: Bytes,
    /// Bytes after (what the pool now sees).
    pub after: Bytes,
    /// The commands run, as a user would type them.
    pub commands: Vec<String>,
}
