//! Errors of loading a scenario: positioned (`FILE:LINE:COL`), with a hint, and always
//! collected into one list so a user sees every mistake in a file at once.
//!
//! Inside the crate, checks report a [`Diagnostic`] carrying a byte span of the scenario
//! text; the loader turns spans into 1-based line:column once, at the end, with
//! [`LineIndex`]. Both, and the error itself, are `thinbench_schema::positioned`'s,
//! shared with the planner's plans and the gate's config.

use thinbench_schema::positioned::Positioned;
pub(crate) use thinbench_schema::positioned::{Diagnostic, LineIndex};

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

/// The candidate closest to `word` for a "did you mean" hint: edit distance at most 2
/// (ignoring case; a swap of neighbours counts 1), and at most half the candidate's
/// length so that two-letter keys do not match any two-letter typo.
pub(crate) fn suggest<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    let word: Vec<char> = word.to_lowercase().chars().collect();
    candidates
        .iter()
        .map(|c| {
            let cand: Vec<char> = c.to_lowercase().chars().collect();
            (edit_distance(&word, &cand), cand.len(), *c)
        })
        .filter(|&(dist, len, _)| dist <= 2 && dist * 2 <= len)
        .min_by_key(|&(dist, _, _)| dist)
        .map(|(_, _, c)| c)
}

/// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
fn edit_distance(a: &[char], b: &[char]) -> usize {
    // Rows i-2, i-1 and i of the usual dynamic programme.
    let mut prev2: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(prev2[j - 2] + 1);
            }
            cur[j] = best;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let keys = ["chunk_size", "name", "id", "data_size", "metadata_size"];
        assert_eq!(suggest("chunk_sise", &keys), Some("chunk_size"));
        assert_eq!(suggest("chnuk_size", &keys), Some("chunk_size")); // swap = 1
        assert_eq!(suggest("Name", &keys), Some("name"));
        assert_eq!(suggest("nmae", &keys), Some("name"));
        assert_eq!(suggest("ix", &keys), Some("id"));
        assert_eq!(suggest("xy", &keys), None); // 2 edits on a 2-letter key: noise
        assert_eq!(suggest("chunk", &keys), None);
        assert_eq!(suggest("metadata", &keys), None);
        assert_eq!(suggest("", &keys), None);
        let a: Vec<char> = "kitten".chars().collect();
        let b: Vec<char> = "sitting".chars().collect();
        assert_eq!(edit_distance(&a, &b), 3);
        assert_eq!(edit_distance(&[], &b), 7);
    }
}
