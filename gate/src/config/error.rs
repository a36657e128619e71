//! Errors of a gate config: positioned (`FILE:LINE:COL: error: …`, then `  hint: …`),
//! every one found in the file reported at once. The error, the [`Diagnostic`] a check
//! reports and the [`LineIndex`] that positions it are `thinbench_schema::positioned`'s,
//! shared with scenario files and planner plans.

use thinbench_schema::positioned::Positioned;
pub(crate) use thinbench_schema::positioned::{Diagnostic, LineIndex};

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

/// The closest of `candidates` to `word` (edit distance ≤ 2, and at most half the
/// candidate's length), for "did you mean" hints.
pub(crate) fn suggest<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|&(d, c)| d <= 2 && d * 2 <= c.len())
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let keys = ["noise", "floor", "min_samples"];
        assert_eq!(suggest("nose", &keys), Some("noise"));
        assert_eq!(suggest("min_sample", &keys), Some("min_samples"));
        assert_eq!(suggest("xyz", &keys), None);
    }
}
