//! The one verdict vocabulary of the gate (`gate.json`, its tables) and `compare`: the
//! words, their worst-first order and their table labels. Each reader keeps its own
//! rules for *when* a figure gets which verdict; only what the words are lives here.

use serde::Serialize;

/// What a comparison found for one figure.
///
/// `R` is what an inconclusive verdict says about why: the gate gives typed reasons
/// (their shape is part of `gate.json`); a sentence by default.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict<R = String> {
    /// No change worth the name.
    Unchanged {
        /// Why a difference was not called a change (within noise, under the floor), or
        /// a remark (fails in the baseline too).
        note: Option<String>,
    },
    /// Better in the candidate.
    Improved,
    /// Worse in the candidate.
    Regressed,
    /// Different, and no direction is better (or exact changes are not judged by
    /// direction): a behaviour change.
    Changed,
    /// In the baseline, not in the candidate.
    Missing,
    /// In the candidate only.
    New,
    /// The figures cannot say.
    Inconclusive {
        /// Why.
        reason: R,
    },
    /// Shown, not judged: the clock it was measured on cannot support a verdict (a
    /// timing on the wall clock under emulation).
    NotGated {
        /// Why, and how to get a verdict.
        reason: String,
    },
}

impl<R> Verdict<R> {
    /// `Unchanged`, with the note that says why a difference did not count.
    pub fn unchanged_because(note: impl Into<String>) -> Self {
        Verdict::Unchanged {
            note: Some(note.into()),
        }
    }

    /// Which verdict it is, without its detail: what counts and colours go by.
    pub fn kind(&self) -> VerdictKind {
        match self {
            Verdict::Unchanged { .. } => VerdictKind::Unchanged,
            Verdict::Improved => VerdictKind::Improved,
            Verdict::Regressed => VerdictKind::Regressed,
            Verdict::Changed => VerdictKind::Changed,
            Verdict::Missing => VerdictKind::Missing,
            Verdict::New => VerdictKind::New,
            Verdict::Inconclusive { .. } => VerdictKind::Inconclusive,
            Verdict::NotGated { .. } => VerdictKind::NotGated,
        }
    }

    /// The word, as `gate.json` writes it: [`VerdictKind::as_str`].
    pub fn as_str(&self) -> &'static str {
        self.kind().as_str()
    }

    /// The word for tables: [`VerdictKind::label`].
    pub fn label(&self) -> &'static str {
        self.kind().label()
    }

    /// The note of an `Unchanged` verdict.
    pub fn note(&self) -> Option<&str> {
        match self {
            Verdict::Unchanged { note } => note.as_deref(),
            _ => None,
        }
    }
}

/// A verdict's word without its detail. Ordered worst first, as summaries count them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictKind {
    /// Worse in the candidate.
    Regressed,
    /// A behaviour change.
    Changed,
    /// In the baseline only.
    Missing,
    /// The figures cannot say.
    Inconclusive,
    /// Shown, not judged.
    NotGated,
    /// Better in the candidate.
    Improved,
    /// No change worth the name.
    Unchanged,
    /// In the candidate only.
    New,
}

impl VerdictKind {
    /// Every verdict, worst first: the order summaries count them in.
    pub const ALL: [VerdictKind; 8] = [
        VerdictKind::Regressed,
        VerdictKind::Changed,
        VerdictKind::Missing,
        VerdictKind::Inconclusive,
        VerdictKind::NotGated,
        VerdictKind::Improved,
        VerdictKind::Unchanged,
        VerdictKind::New,
    ];

    /// The word: `gate.json`'s `verdict`, the counts line, the docs.
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictKind::Regressed => "regressed",
            VerdictKind::Changed => "changed",
            VerdictKind::Missing => "missing",
            VerdictKind::Inconclusive => "inconclusive",
            VerdictKind::NotGated => "not_gated",
            VerdictKind::Improved => "improved",
            VerdictKind::Unchanged => "unchanged",
            VerdictKind::New => "new",
        }
    }

    /// The word for tables: the ones that can fail a gate in capitals, to stand out in
    /// a column of "unchanged".
    pub fn label(self) -> &'static str {
        match self {
            VerdictKind::Regressed => "REGRESSED",
            VerdictKind::Changed => "CHANGED",
            VerdictKind::Missing => "MISSING",
            VerdictKind::NotGated => "not gated",
            other => other.as_str(),
        }
    }
}

/// "1 regressed, 0 changed, … 0 not gated, … 3 new": a count of each verdict, worst first.
pub fn counts_line(count: impl Fn(VerdictKind) -> usize) -> String {
    VerdictKind::ALL
        .iter()
        .map(|&k| format!("{} {}", count(k), k.as_str().replace('_', " ")))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_worst_first_and_every_kind_is_listed_once() {
        let mut sorted = VerdictKind::ALL;
        sorted.sort();
        assert_eq!(sorted, VerdictKind::ALL, "ALL follows the declared order");
        let words: std::collections::BTreeSet<&str> =
            VerdictKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(words.len(), VerdictKind::ALL.len(), "{words:?}");
        assert_eq!(
            VerdictKind::ALL.first().map(|k| k.as_str()),
            Some("regressed")
        );
    }

    #[test]
    fn serde_words_are_the_as_str_words() {
        for k in VerdictKind::ALL {
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
        }
        let v: Verdict = Verdict::unchanged_because("within noise");
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"verdict":"unchanged","note":"within noise"}"#
        );
        let v: Verdict<u8> = Verdict::Inconclusive { reason: 3 };
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"verdict":"inconclusive","reason":3}"#
        );
        let v: Verdict = Verdict::Missing;
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"verdict":"missing"}"#
        );
    }

    #[test]
    fn labels_shout_only_what_can_fail() {
        let loud: Vec<&str> = VerdictKind::ALL
            .iter()
            .map(|k| k.label())
            .filter(|l| l.chars().all(|c| c.is_ascii_uppercase()))
            .collect();
        assert_eq!(loud, ["REGRESSED", "CHANGED", "MISSING"]);
        let v: Verdict = Verdict::Inconclusive {
            reason: "why".into(),
        };
        assert_eq!((v.label(), v.as_str()), ("inconclusive", "inconclusive"));
    }

    #[test]
    fn note_is_only_an_unchanged_verdicts() {
        let v: Verdict = Verdict::unchanged_because("under the floor");
        assert_eq!(v.note(), Some("under the floor"));
        assert_eq!(v.kind(), VerdictKind::Unchanged);
        let v: Verdict = Verdict::Inconclusive {
            reason: "too few".into(),
        };
        assert_eq!(v.note(), None);
    }

    #[test]
    fn counts_line_counts_each_kind_in_order() {
        let line = counts_line(|k| k as usize);
        assert_eq!(
            line,
            "0 regressed, 1 changed, 2 missing, 3 inconclusive, 4 not gated, 5 improved, 6 unchanged, 7 new"
        );
    }
}
