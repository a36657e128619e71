//! The same scenarios on several kernels, every figure side by side: the first kernel is
//! the baseline and each other is compared with it by [`compare_sets`]'s rules, with one
//! difference — the kernels differ on purpose, so that alone does not stop timings being
//! judged (a clock, accelerator or CPU difference still does). An exact figure that
//! differs on any kernel is a *finding*: dm-thin, or the tools around it, behaved
//! differently.

use std::collections::BTreeMap;

use super::compare::{compare_sets, CompareRules, Comparison, FigureId};
use crate::run_info::RunInfo;
use thinbench_schema::load::LoadedRun;
use thinbench_schema::record::{MetricKind, PoolKind, Status};
use thinbench_schema::verdict::{Verdict, VerdictKind};

/// One kernel's column.
#[derive(Debug, Clone)]
pub struct KernelColumn {
    /// Kernel release (`uname -r` in the guest).
    pub release: String,
    /// Its first run (environment, versions).
    pub first: RunInfo,
    /// Run ids of every run on it.
    pub runs: Vec<String>,
    /// Runs on it that did not pass, with their status.
    pub not_passed: Vec<(String, Status)>,
}

/// One figure on every kernel.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelRow {
    /// Which figure.
    pub id: FigureId,
    /// Pool name.
    pub pool: String,
    /// Pool kind.
    pub kind: PoolKind,
    /// Step (and phase) label.
    pub step: String,
    /// Figure label.
    pub figure: String,
    /// Unit.
    pub unit: String,
    /// Exact or timing.
    pub metric_kind: MetricKind,
    /// The median on each kernel, in column order (`None`: the figure is not there).
    pub values: Vec<Option<f64>>,
    /// Each kernel after the first against the first.
    pub verdicts: Vec<Verdict>,
}

impl KernelRow {
    /// An exact figure present on every kernel and not the same on all of them.
    pub fn is_finding(&self) -> bool {
        self.metric_kind == MetricKind::Exact
            && !self.is_partial()
            && self.verdicts.iter().any(|v| {
                matches!(
                    v.kind(),
                    VerdictKind::Changed | VerdictKind::Regressed | VerdictKind::Improved
                )
            })
    }

    /// A figure some kernel lacks: its step did not run there, or the run did not finish.
    pub fn is_partial(&self) -> bool {
        self.values.iter().any(Option::is_none)
    }
}

/// Several kernels, compared.
#[derive(Debug, Clone)]
pub struct KernelComparison {
    /// One per kernel, the baseline first.
    pub columns: Vec<KernelColumn>,
    /// Every figure of any kernel, in the baseline's order, then figures new on later
    /// kernels.
    pub rows: Vec<KernelRow>,
    /// Per later kernel, why its timings are not judged, if they are not.
    pub timings_not_comparable: Vec<Option<String>>,
}

impl KernelComparison {
    /// The rows that are findings.
    pub fn findings(&self) -> impl Iterator<Item = &KernelRow> {
        self.rows.iter().filter(|r| r.is_finding())
    }

    /// Whether every kernel has two runs or more: only then is an exact figure known to
    /// be the same run to run on each kernel (compare calls one that varies within a side
    /// inconclusive), so that a difference between kernels is the kernel's. With one run a
    /// kernel, a counter that varies with timing (block-layer merges, commits on dm-thin's
    /// one-second timer) looks like a finding.
    pub fn confirmed(&self) -> bool {
        self.columns.iter().all(|k| k.runs.len() >= 2)
    }

    /// Exact figures that vary between the runs of one kernel: not findings.
    pub fn varying(&self) -> impl Iterator<Item = &KernelRow> {
        self.rows.iter().filter(|r| {
            r.metric_kind == MetricKind::Exact
                && r.verdicts
                    .iter()
                    .any(|v| v.kind() == VerdictKind::Inconclusive)
        })
    }

    /// The rows some kernel lacks.
    pub fn partial(&self) -> impl Iterator<Item = &KernelRow> {
        self.rows.iter().filter(|r| r.is_partial())
    }
}

/// Compare the runs of each kernel (`groups`: release and its runs, baseline first).
/// `None` with fewer than two non-empty groups.
pub fn compare_kernels(
    groups: &[(String, Vec<LoadedRun>)],
    rules: &CompareRules,
) -> Option<KernelComparison> {
    let groups: Vec<&(String, Vec<LoadedRun>)> =
        groups.iter().filter(|(_, r)| !r.is_empty()).collect();
    let (base, rest) = groups.split_first()?;
    if rest.is_empty() {
        return None;
    }
    let rules = CompareRules {
        across_kernels: true,
        ..rules.clone()
    };
    let pairs: Vec<Comparison> = rest
        .iter()
        .filter_map(|(_, runs)| compare_sets(&base.1, runs, &rules))
        .collect();
    let k = groups.len();
    let mut rows: Vec<KernelRow> = Vec::new();
    let mut index: BTreeMap<FigureId, usize> = BTreeMap::new();
    for (i, c) in pairs.iter().enumerate() {
        for r in &c.rows {
            let at = *index.entry(r.id.clone()).or_insert_with(|| {
                rows.push(KernelRow {
                    id: r.id.clone(),
                    pool: r.pool.clone(),
                    kind: r.kind,
                    step: r.step.clone(),
                    figure: r.figure.clone(),
                    unit: r.unit.clone(),
                    metric_kind: r.metric_kind,
                    values: vec![None; k],
                    verdicts: vec![Verdict::Missing; k - 1],
                });
                rows.len() - 1
            });
            let row = &mut rows[at];
            row.values[0] = row.values[0].or(r.a);
            row.values[i + 1] = r.b;
            row.verdicts[i] = r.verdict.clone();
        }
    }
    // A figure of the baseline that a later comparison lacks cannot happen (every pair
    // lists all of A's figures); one new on kernel i but absent from kernel j's pair is
    // missing on j: its default verdict above.
    Some(KernelComparison {
        columns: groups
            .iter()
            .map(|(release, runs)| KernelColumn {
                release: release.clone(),
                first: RunInfo::of(&runs[0]),
                runs: runs.iter().map(|r| r.summary.run_id.clone()).collect(),
                not_passed: runs
                    .iter()
                    .filter(|r| r.summary.status != Status::Passed)
                    .map(|r| (r.summary.run_id.clone(), r.summary.status))
                    .collect(),
            })
            .collect(),
        rows,
        timings_not_comparable: pairs
            .iter()
            .map(|c| c.timings_not_comparable.clone())
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};
    use thinbench_schema::load::load_run;

    fn smoke(id: &str, kernel: &str) -> LoadedRun {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/smoke");
        let mut r = load_run(Path::new(dir)).unwrap();
        r.summary.run_id = id.into();
        r.summary.environment.kernel = kernel.into();
        r.dir = PathBuf::from(format!("/nonexistent/{id}"));
        r
    }

    #[test]
    fn an_exact_difference_on_one_kernel_is_a_finding_and_timings_are_judged() {
        let mut a = vec![smoke("a1", "6.1.0-57-amd64"), smoke("a2", "6.1.0-57-amd64")];
        let mut b = vec![
            smoke("b1", "6.12.117+deb12-amd64"),
            smoke("b2", "6.12.117+deb12-amd64"),
        ];
        // 6.12 allocates one more block in the first step that records allocation.
        let (ci, si) = b[0]
            .summary
            .cases
            .iter()
            .enumerate()
            .find_map(|(ci, c)| {
                c.steps
                    .iter()
                    .position(|s| s.data_blocks_allocated.is_some())
                    .map(|si| (ci, si))
            })
            .expect("the fixture records allocation");
        for r in a.iter_mut().chain(&mut b) {
            r.summary.status = Status::Passed;
        }
        b[1].summary.status = Status::Failed;
        for r in &mut b {
            let s = &mut r.summary.cases[ci].steps[si];
            s.data_blocks_allocated = s.data_blocks_allocated.map(|n| n + 1);
        }
        let groups = vec![
            ("6.1.0-57-amd64".to_owned(), a),
            ("6.12.117+deb12-amd64".to_owned(), b),
        ];
        let c = compare_kernels(&groups, &CompareRules::default()).unwrap();
        assert_eq!(c.columns.len(), 2);
        let findings: Vec<&KernelRow> = c.findings().collect();
        assert_eq!(findings.len(), 1, "{findings:#?}");
        let f = findings[0];
        assert_eq!(f.id.name, "data_blocks_allocated");
        assert_eq!(f.values[1], f.values[0].map(|x| x + 1.0));
        assert_eq!(f.verdicts, [Verdict::Changed]);
        // The kernels differ on purpose: timings are judged (identical samples:
        // unchanged), not blocked as "kernels differ".
        assert_eq!(c.timings_not_comparable, [None]);
        let timing = c
            .rows
            .iter()
            .find(|r| r.metric_kind == MetricKind::Timing)
            .unwrap();
        assert_eq!(timing.verdicts[0].kind(), VerdictKind::Unchanged);
        assert_eq!(c.partial().count(), 0);
        assert!(c.confirmed(), "two runs on each kernel");
        // Laid out: the versions in the header, the finding in its own table.
        let md = crate::render::kernel_comparison_markdown(&c);
        assert!(md.contains("1 exact figure(s) differ"), "{md}");
        assert!(
            md.contains("| 6.12.117+deb12-amd64 vs 6.1.0-57-amd64"),
            "{md}"
        );
        let findings = md.split("## Findings").nth(1).unwrap();
        let findings = findings.split("## Every figure").next().unwrap();
        assert!(findings.contains("data blocks allocated"), "{findings}");
        assert!(
            md.contains("On 6.12.117+deb12-amd64, not every run passed (b2 failed)"),
            "{md}"
        );
        let failed: Vec<&str> = c
            .columns
            .iter()
            .flat_map(|k| k.not_passed.iter().map(|(id, _)| id.as_str()))
            .collect();
        assert_eq!(failed, ["b2"]);
        // A kernel whose run lacks a step: its figures are partial, not findings.
        let mut groups2 = groups.clone();
        for r in &mut groups2[1].1 {
            r.summary.cases[ci].steps.truncate(si);
        }
        let c2 = compare_kernels(&groups2, &CompareRules::default()).unwrap();
        assert_eq!(c2.findings().count(), 0);
        assert!(c2.partial().count() > 0);
        // One group only: nothing to compare.
        assert!(compare_kernels(&groups[..1], &CompareRules::default()).is_none());
    }
}
