//! The "loop-lvm vs direct-lvm" section: the same figure on both kinds of pool (the
//! harness's own cost is not a pool's figure: it is left out).

use super::builder::Builder;
use super::shared::{better_str, fig_value, is_harness_cost};
use crate::model::ReportModel;
use crate::render::document::{Block, Cell};
use thinbench_schema::format;
use thinbench_schema::record::PoolKind;

pub(super) fn kind_section(b: &mut Builder, m: &ReportModel) {
    let rows: Vec<_> = m
        .kind_comparison
        .iter()
        .filter(|r| !is_harness_cost(&r.figure))
        .collect();
    if rows.is_empty() {
        return;
    }
    b.h(2, "loop-lvm vs direct-lvm");
    let chunks = |k: PoolKind| {
        let mut v: Vec<String> = m
            .pools
            .iter()
            .filter(|p| p.kind == k)
            .map(|p| format::bytes(p.chunk))
            .collect();
        v.dedup();
        v.join("/")
    };
    b.text(format!(
        "The same figure on both kinds of pool (median when a kind has several pools or \
         runs). Block sizes: loop-lvm {}, direct-lvm {}; block counts are in each pool's \
         own blocks.",
        chunks(PoolKind::LoopLvm),
        chunks(PoolKind::DirectLvm)
    ));
    let mut t = b.table(
        "loop-vs-direct",
        "loop-lvm vs direct-lvm",
        &[
            ("what", false),
            ("figure", false),
            ("loop-lvm", true),
            ("direct-lvm", true),
            ("direct / loop", true),
            ("better", false),
        ],
    );
    for r in rows {
        let v = |kv: crate::analysis::pairing::KindValue| {
            let mut c = Cell::opt(kv.value, |x| fig_value(x, &r.unit));
            if kv.n > 1 {
                c.text = format!("{} (n={})", c.text, kv.n);
            }
            c
        };
        t.rows.push(vec![
            Cell::text(&r.subject),
            Cell::text(&r.figure),
            v(r.loop_lvm),
            v(r.direct_lvm),
            Cell::opt(r.ratio, |x| format::ratio(Some(x))),
            Cell::text(better_str(r.better)),
        ]);
    }
    b.blocks.push(Block::Table(t));
}
