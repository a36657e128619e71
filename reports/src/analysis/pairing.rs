//! Pairing by pool kind: the same workload figure measured on loop-lvm and on
//! direct-lvm pools, reduced to one value per kind (the median when a kind has several
//! pools or runs) and their ratio.

use super::stats::{median, ratio};
use thinbench_schema::record::{Better, PoolKind};

/// One kind's value of a figure: the median over its `n` measurements.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct KindValue {
    /// Median; `None` when this kind has no measurement.
    pub value: Option<f64>,
    /// Measurements the median is over.
    pub n: usize,
}

/// A figure compared between the two pool kinds.
#[derive(Debug, Clone, PartialEq)]
pub struct KindComparisonRow {
    /// What was measured: a workload step, a phase, or a metric's step.
    pub subject: String,
    /// The figure (`IOPS`, `p99 latency`, a metric name).
    pub figure: String,
    /// Its unit.
    pub unit: String,
    /// Which direction is better.
    pub better: Better,
    /// loop-lvm's value.
    pub loop_lvm: KindValue,
    /// direct-lvm's value.
    pub direct_lvm: KindValue,
    /// direct-lvm / loop-lvm.
    pub ratio: Option<f64>,
}

/// Reduce `(kind, value)` measurements to one value per kind.
pub fn kind_value(values: &[(PoolKind, f64)], kind: PoolKind) -> KindValue {
    let v: Vec<f64> = values
        .iter()
        .filter(|(k, _)| *k == kind)
        .map(|(_, v)| *v)
        .collect();
    KindValue {
        value: median(&v),
        n: v.len(),
    }
}

/// A comparison row, when both kinds measured the figure.
pub fn pair(
    subject: &str,
    figure: &str,
    unit: &str,
    better: Better,
    values: &[(PoolKind, f64)],
) -> Option<KindComparisonRow> {
    let loop_lvm = kind_value(values, PoolKind::LoopLvm);
    let direct_lvm = kind_value(values, PoolKind::DirectLvm);
    let (Some(l), Some(d)) = (loop_lvm.value, direct_lvm.value) else {
        return None;
    };
    Some(KindComparisonRow {
        subject: subject.to_owned(),
        figure: figure.to_owned(),
        unit: unit.to_owned(),
        better,
        loop_lvm,
        direct_lvm,
        ratio: ratio(d, l),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_only_when_both_kinds_measured() {
        let vals = [
            (PoolKind::LoopLvm, 100.0),
            (PoolKind::LoopLvm, 300.0),
            (PoolKind::DirectLvm, 400.0),
        ];
        let row = pair("seq-write", "IOPS", "IOPS", Better::Higher, &vals).unwrap();
        assert_eq!(
            row.loop_lvm,
            KindValue {
                value: Some(200.0),
                n: 2
            }
        );
        assert_eq!(row.direct_lvm.n, 1);
        assert_eq!(row.ratio, Some(2.0));
        assert!(pair("x", "IOPS", "IOPS", Better::Higher, &vals[..2]).is_none());
    }
}
