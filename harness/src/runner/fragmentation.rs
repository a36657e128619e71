//! How fragmented each thin's mappings are, from a `thin_dump`: a run is a longest
//! stretch of mappings whose virtual chunks and data blocks both go up by one (one
//! extent on the data device), the peer's `MetadataAnalysis.fragmentations` figure in
//! two numbers per thin: runs, and mapped blocks per run.

use thinbench_model::chunk::ThinMetadata;
use thinbench_schema::record::{Better, Metric, MetricKind};

fn metric(name: &str, value: f64, unit: &str, better: Better) -> Metric {
    Metric {
        name: name.into(),
        value,
        unit: unit.into(),
        // Where a filesystem placed its blocks varies run to run: noisy, not exact.
        kind: MetricKind::Timing,
        better,
    }
}

/// Runs of `mappings` (`(virtual chunk, data block, time)`, in any order).
pub fn runs(mappings: &[(u64, u64, u32)]) -> u64 {
    let mut m: Vec<(u64, u64)> = mappings.iter().map(|x| (x.0, x.1)).collect();
    m.sort_unstable();
    let breaks = m
        .windows(2)
        .filter(|w| !(w[1].0 == w[0].0 + 1 && w[1].1 == w[0].1 + 1))
        .count() as u64;
    if m.is_empty() {
        0
    } else {
        breaks + 1
    }
}

/// `fragmentation.<thin>.runs` and `.blocks_per_run` of each thin of a dump; `name`
/// gives a thin's scenario name (its id when the case has none for it).
pub fn metrics(thins: &[ThinMetadata], name: &dyn Fn(&ThinMetadata) -> String) -> Vec<Metric> {
    let mut out = Vec::new();
    for t in thins {
        let (n, mapped) = (runs(&t.mappings), t.mappings.len() as u64);
        let who = name(t);
        out.push(metric(
            &format!("fragmentation.{who}.runs"),
            n as f64,
            "runs",
            Better::Lower,
        ));
        if n > 0 {
            out.push(metric(
                &format!("fragmentation.{who}.blocks_per_run"),
                mapped as f64 / n as f64,
                "blocks",
                Better::Higher,
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_is_contiguous_in_both_the_thin_and_the_data_device() {
        assert_eq!(runs(&[]), 0);
        // 0..3 → 10..13 one run; 3 → 20 breaks (data jumps); 5 → 21 breaks (virtual jumps).
        let m = [(1, 11, 0), (0, 10, 0), (2, 12, 0), (3, 20, 0), (5, 21, 0)];
        assert_eq!(runs(&m), 3);
        let t = ThinMetadata {
            id: thinbench_schema::ids::ThinId::try_from(1u32).unwrap(),
            snapshotted_time: 0,
            mappings: m.to_vec(),
        };
        let ms = metrics(&[t], &|_| "t".into());
        let v: Vec<(&str, f64)> = ms.iter().map(|m| (m.name.as_str(), m.value)).collect();
        assert_eq!(
            v,
            [
                ("fragmentation.t.runs", 3.0),
                ("fragmentation.t.blocks_per_run", 5.0 / 3.0)
            ]
        );
    }
}
