//! The kernel's own per-thin accounting against the model: after a step that the model
//! checked, `thin_ls` reads a metadata snapshot of the pool, and every thin's mapped,
//! exclusive and shared blocks must equal the model's.

use std::collections::BTreeMap;

use thinbench_model::chunk::PoolModel;
use thinbench_schema::ids::ThinId;
use thinbench_schema::record::{
    Better, ExpectationResult, Metric, MetricKind, PoolMode, PoolUsage, Status,
};

use super::case::CaseState;
use crate::backend::btree_walk::MappingTrees;
use crate::backend::thin_tools::ThinLsRow;
use crate::backend::PoolBackend;
use crate::spec::StepSpec;

/// The expectation's `what`.
pub const THIN_LS_AGREES: &str = "thin_ls agrees with the model";

/// `id:mapped/exclusive/shared` per thin, by id: the expectation's compact text.
fn compact(rows: &BTreeMap<u64, (u64, u64, u64)>) -> String {
    if rows.is_empty() {
        return "no thins".into();
    }
    rows.iter()
        .map(|(id, (m, e, s))| format!("{id}:{m}/{e}/{s}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn model_rows(model: &PoolModel) -> BTreeMap<u64, (u64, u64, u64)> {
    model
        .thins()
        .filter_map(|id| {
            let u = model.usage(id).ok()?;
            Some((u64::from(id.get()), (u.mapped.0, u.exclusive.0, u.shared.0)))
        })
        .collect()
}

/// The first difference between the model's rows and thin_ls's, in words.
fn first_difference(
    model: &BTreeMap<u64, (u64, u64, u64)>,
    kernel: &BTreeMap<u64, (u64, u64, u64)>,
    name: &dyn Fn(u64) -> String,
) -> Option<String> {
    for id in model.keys().chain(kernel.keys()) {
        match (model.get(id), kernel.get(id)) {
            (Some(_), None) => {
                return Some(format!("thin {}: in the model, not in thin_ls", name(*id)))
            }
            (None, Some(_)) => {
                return Some(format!("thin {}: in thin_ls, not in the model", name(*id)))
            }
            (Some(m), Some(k)) if m != k => {
                let fields = [
                    ("mapped", m.0, k.0),
                    ("exclusive", m.1, k.1),
                    ("shared", m.2, k.2),
                ];
                let diff: Vec<String> = fields
                    .iter()
                    .filter(|(_, a, b)| a != b)
                    .map(|(f, a, b)| format!("{f} blocks model {a}, thin_ls {b}"))
                    .collect();
                return Some(format!("thin {}: {}", name(*id), diff.join(", ")));
            }
            _ => {}
        }
    }
    None
}

/// Compare `rows` (thin_ls) with `model`; pure, for tests.
pub fn compare(
    rows: &[ThinLsRow],
    model: &PoolModel,
    name: &dyn Fn(u64) -> String,
    step: &StepSpec,
) -> ExpectationResult {
    let kernel: BTreeMap<u64, (u64, u64, u64)> = rows
        .iter()
        .map(|r| (r.dev, (r.mapped, r.exclusive, r.shared)))
        .collect();
    let model = model_rows(model);
    let diff = first_difference(&model, &kernel, name);
    ExpectationResult {
        what: format!("{THIN_LS_AGREES} (per thin id: mapped/exclusive/shared blocks)"),
        expected: compact(&model),
        observed: compact(&kernel),
        status: if diff.is_none() {
            Status::Passed
        } else {
            Status::Failed
        },
        message: diff
            .map(|d| format!("step {} ({}): {THIN_LS_AGREES}: {d}", step.index, step.name)),
    }
}

fn skipped(why: String) -> ExpectationResult {
    ExpectationResult {
        what: format!("{THIN_LS_AGREES} (per thin id: mapped/exclusive/shared blocks)"),
        expected: "-".into(),
        observed: format!("skipped: {why}"),
        status: Status::Skipped,
        message: None,
    }
}

/// Run `thin_ls` on the pool and compare it with the case's model.
pub fn thin_ls(
    backend: &dyn PoolBackend,
    state: &CaseState,
    after: Option<&PoolUsage>,
    step: &StepSpec,
) -> (ExpectationResult, TreeMetrics) {
    let Some(model) = &state.model else {
        return (skipped("no model".into()), (Vec::new(), None));
    };
    // Pool messages (reserve_metadata_snap) are refused in read-only and fail modes.
    match after.map(|u| u.mode) {
        Some(PoolMode::Rw | PoolMode::OutOfDataSpace) => {}
        Some(m) => {
            return (
                skipped(format!("pool is {} (no metadata snapshot)", m.as_str())),
                (Vec::new(), None),
            )
        }
        None => return (skipped("pool status unreadable".into()), (Vec::new(), None)),
    }
    let names: BTreeMap<ThinId, String> = state
        .log
        .keys()
        .filter_map(|n| backend.thin(n).map(|t| (t.id, n.to_string())))
        .collect();
    let name = |id: u64| match ThinId::new(id).ok().and_then(|i| names.get(&i)) {
        Some(n) => format!("{id} ({n})"),
        None => id.to_string(),
    };
    match backend.thin_ls_with_trees() {
        Ok((rows, trees)) => (compare(&rows, model, &name, step), tree_metrics(trees)),
        Err(e) => (
            ExpectationResult {
                what: format!("{THIN_LS_AGREES} (per thin id: mapped/exclusive/shared blocks)"),
                expected: compact(&model_rows(model)),
                observed: format!("error: {e}"),
                status: Status::Failed,
                message: Some(format!(
                    "step {} ({}): {THIN_LS_AGREES}: thin_ls failed: {e}",
                    step.index, step.name
                )),
            },
            (Vec::new(), None),
        ),
    }
}

/// The mapping trees' shape as metrics (`metadata.trees.*`, `metadata.tree.<id>.*`). A
/// walk that failed gives no metrics and a skipped expectation saying why, not a failed
/// step: it is a measurement, not an oracle.
fn tree_metrics(trees: Option<Result<MappingTrees, String>>) -> TreeMetrics {
    let t = match trees {
        None => return (Vec::new(), None),
        Some(Ok(t)) => t,
        Some(Err(e)) => {
            let x = ExpectationResult {
                what: "mapping trees walked (metadata.trees.* metrics)".into(),
                expected: "the held metadata snapshot's trees".into(),
                observed: format!("skipped: {e}"),
                status: Status::Skipped,
                message: None,
            };
            return (Vec::new(), Some(x));
        }
    };
    let m = |name: String, v: u64, unit: &str| Metric {
        name,
        value: v as f64,
        unit: unit.into(),
        kind: MetricKind::Exact,
        better: Better::Lower,
    };
    let mut out = vec![
        m("metadata.trees.blocks".into(), t.tree_blocks, "blocks"),
        m("metadata.trees.top_blocks".into(), t.top_blocks, "blocks"),
        m(
            "metadata.trees.details_blocks".into(),
            t.details_blocks,
            "blocks",
        ),
        m(
            "metadata.trees.levels".into(),
            t.thins
                .iter()
                .map(|s| u64::from(s.levels))
                .max()
                .unwrap_or(0),
            "count",
        ),
    ];
    for s in &t.thins {
        let p = format!("metadata.tree.{}", s.thin);
        out.push(m(format!("{p}.levels"), u64::from(s.levels), "count"));
        out.push(m(format!("{p}.leaves"), s.leaves, "blocks"));
        out.push(m(format!("{p}.internal"), s.internal, "blocks"));
        out.push(m(format!("{p}.mappings"), s.mappings, "count"));
    }
    (out, None)
}

/// Tree metrics, and an expectation saying why there are none when the walk failed.
pub type TreeMetrics = (Vec<Metric>, Option<ExpectationResult>);

#[cfg(test)]
mod tests {
    use super::*;
    use thinbench_schema::ids::Ident;
    use thinbench_schema::units::{Bytes, ChunkSize, DataBlocks};

    fn step() -> StepSpec {
        StepSpec {
            index: 3,
            name: Ident::new("w").unwrap(),
            pools: None,
            action: crate::spec::Action::DeleteThin {
                thin: Ident::new("t").unwrap(),
            },
            expect: vec![],
            await_mode: None,
        }
    }

    #[test]
    fn names_the_thin_and_both_numbers() {
        let mut m = PoolModel::new(ChunkSize::new(Bytes(65536)).unwrap(), DataBlocks(100));
        let id = |n| ThinId::new(n).unwrap();
        m.create_thin(id(1)).unwrap();
        m.write(id(1), Bytes(0), Bytes(4 * 65536)).unwrap();
        m.create_snap(id(2), id(1)).unwrap();
        let row = |dev, mapped, exclusive, shared| ThinLsRow {
            dev,
            mapped,
            exclusive,
            shared,
        };
        let name = |i: u64| format!("{i} (t{i})");
        let ok = compare(&[row(1, 4, 0, 4), row(2, 4, 0, 4)], &m, &name, &step());
        assert_eq!(ok.status, Status::Passed);
        assert_eq!(ok.expected, "1:4/0/4 2:4/0/4");
        assert_eq!(ok.observed, ok.expected);
        let bad = compare(&[row(1, 4, 1, 3), row(2, 4, 0, 4)], &m, &name, &step());
        assert_eq!(bad.status, Status::Failed);
        assert_eq!(
            bad.message.as_deref(),
            Some("step 3 (w): thin_ls agrees with the model: thin 1 (t1): exclusive blocks model 0, thin_ls 1, shared blocks model 4, thin_ls 3")
        );
        let missing = compare(&[row(1, 4, 0, 4)], &m, &name, &step());
        assert!(missing
            .message
            .unwrap()
            .contains("thin 2 (t2): in the model, not in thin_ls"));
        let extra = compare(
            &[row(1, 4, 0, 4), row(2, 4, 0, 4), row(9, 0, 0, 0)],
            &m,
            &name,
            &step(),
        );
        assert!(extra
            .message
            .unwrap()
            .contains("thin 9 (t9): in thin_ls, not in the model"));
    }
}
