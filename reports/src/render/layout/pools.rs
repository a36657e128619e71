//! The "Pools" section: each pool as `docker info` shows a devicemapper pool.

use super::builder::Builder;
use super::shared::na;
use crate::model::{PoolView, ReportModel};
use crate::render::document::Block;
use crate::render::plot_spec::pool_colour;
use thinbench_schema::format;
use thinbench_schema::units::{Bytes, META_BLOCK_SIZE};

fn yes_no(v: Option<bool>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(na)
}

/// `docker info`'s devicemapper block for a pool.
pub(crate) fn docker_info(p: &PoolView) -> Vec<(String, String)> {
    let mut rows = vec![
        (
            "Pool Name".to_owned(),
            p.dm_name.clone().unwrap_or_else(|| p.name.clone()),
        ),
        ("Pool Kind".to_owned(), p.kind.as_str().to_owned()),
        ("Pool Blocksize".to_owned(), format::bytes(p.chunk)),
    ];
    match &p.usage {
        Some((u, _)) => {
            let data = |n| format::bytes(p.data_bytes(n));
            let meta = |n: u64| format::bytes(Bytes(n.saturating_mul(META_BLOCK_SIZE)));
            rows.extend([
                ("Data Space Used".to_owned(), data(u.data_used)),
                ("Data Space Total".to_owned(), data(u.data_total)),
                (
                    "Data Space Available".to_owned(),
                    data(u.data_total.saturating_sub(u.data_used)),
                ),
                ("Metadata Space Used".to_owned(), meta(u.meta_used.0)),
                ("Metadata Space Total".to_owned(), meta(u.meta_total.0)),
                (
                    "Metadata Space Available".to_owned(),
                    meta(u.meta_total.0.saturating_sub(u.meta_used.0)),
                ),
            ]);
        }
        None => {
            for k in [
                "Data Space Used",
                "Data Space Total",
                "Data Space Available",
                "Metadata Space Used",
                "Metadata Space Total",
                "Metadata Space Available",
            ] {
                rows.push((k.to_owned(), na()));
            }
        }
    }
    let min_free = match (p.min_free_space_pct, &p.usage) {
        (Some(pctv), Some((u, _))) => {
            let bytes = p.data_bytes(u.data_total).0 as f64 * pctv / 100.0;
            format!(
                "{} ({}%)",
                format::bytes(Bytes(bytes as u64)),
                format::number(pctv)
            )
        }
        (Some(pctv), None) => format!("{}%", format::number(pctv)),
        (None, _) => na(),
    };
    rows.extend([
        ("Thin Pool Minimum Free Space".to_owned(), min_free),
        (
            "Low Water Mark".to_owned(),
            p.low_water_mark
                .map(|l| format!("{} data blocks ({})", l.0, format::bytes(p.data_bytes(l))))
                .unwrap_or_else(na),
        ),
        (
            "Deferred Removal Enabled".to_owned(),
            yes_no(p.deferred.removal_enabled),
        ),
        (
            "Deferred Deletion Enabled".to_owned(),
            yes_no(p.deferred.deletion_enabled),
        ),
        (
            "Deferred Deleted Device Count".to_owned(),
            p.deferred
                .deleted_device_count
                .map(format::number)
                .unwrap_or_else(na),
        ),
    ]);
    if let Some((u, src)) = &p.usage {
        rows.extend([
            ("Mode".to_owned(), u.mode.as_str().to_owned()),
            ("Needs Check".to_owned(), u.needs_check.to_string()),
            ("Usage Read".to_owned(), src.describe().to_owned()),
        ]);
    }
    if let Some(d) = &p.device {
        rows.push(("Device".to_owned(), d.clone()));
    }
    rows
}

pub(super) fn pools_section(b: &mut Builder, m: &ReportModel) {
    if m.pools.is_empty() {
        return;
    }
    b.h(2, "Pools");
    b.text(
        "As `docker info` shows a devicemapper pool. Data space is data blocks × the pool's \
         block size; metadata space is metadata blocks × 4 KiB. Minimum free space and \
         the deferred fields come from the run's `pool.*` and `deferred.*` metrics (n/a: \
         the run measured none). Every plot draws loop-lvm pools in blue and direct-lvm \
         pools in orange.",
    );
    for p in &m.pools {
        let id = b.ids.get(&format!("pool-{}", p.label));
        b.blocks.push(Block::KeyValues {
            id,
            title: p.label.clone(),
            rows: docker_info(p),
            colour: Some(pool_colour(p.kind, p.shade)),
        });
    }
}
