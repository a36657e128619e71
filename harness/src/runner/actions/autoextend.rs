//! lvm's autoextend policy during a fill, whoever applies it: thinbench's monitor
//! (standing in for dmeventd where nothing monitors the pool) or the system's dmeventd
//! (seen as the pool's growth). Each extension, or failure to extend, is a timeline event
//! saying who acted, at what usage and by how much.

use std::time::{Duration, Instant};

use thinbench_schema::record::{Better, EventKind, Metric, MetricKind, PoolUsage};

use super::ctx::metric;
use crate::backend::BackendError;
use crate::record::Recorder;

/// After a failed extension, thinbench's monitor tries again no sooner than this: the
/// period at which dmeventd's thin plugin checks a monitored pool (its registration
/// timeout, `DM_EVENT_DEFAULT_TIMEOUT`), so a pool lvm cannot grow costs one lvm command
/// per period, as under dmeventd.
pub const RETRY_PERIOD: Duration = Duration::from_secs(10);

/// Who applied the policy, as events name it.
pub const BY_MONITOR: &str = "thinbench-monitor";
/// The system's dmeventd.
pub const BY_DMEVENTD: &str = "dmeventd";

/// The extensions of one fill.
#[derive(Debug)]
pub struct Extensions {
    /// The largest data size seen so far, blocks (growth past it is someone's extension).
    pub seen_total: u64,
    by_monitor: u32,
    by_dmeventd: u32,
    failed: u32,
    blocks_added: u64,
    first_used_pct: Option<f64>,
    retry_at: Option<Instant>,
}

impl Extensions {
    /// Starting from a pool of `total` data blocks.
    pub fn new(total: u64) -> Extensions {
        Extensions {
            seen_total: total,
            by_monitor: 0,
            by_dmeventd: 0,
            failed: 0,
            blocks_added: 0,
            first_used_pct: None,
            retry_at: None,
        }
    }

    /// Whether thinbench's monitor may try now (not within a period of a failure).
    pub fn may_try(&self) -> bool {
        self.retry_at.is_none_or(|t| Instant::now() >= t)
    }

    fn grew(&mut self, rec: &Recorder, pool: &str, by: &str, used: u64, to: u64) {
        let from = self.seen_total;
        self.blocks_added += to - from;
        if self.first_used_pct.is_none() && from > 0 {
            self.first_used_pct = Some(used as f64 * 100.0 / from as f64);
        }
        self.seen_total = to;
        rec.event(EventKind::Autoextend {
            pool: pool.to_owned(),
            by: by.to_owned(),
            used_blocks: used,
            from_blocks: from,
            to_blocks: Some(to),
            error: None,
        });
    }

    /// A status reading: growth nobody here made is dmeventd's when it monitors the pool.
    pub fn watch(&mut self, rec: &Recorder, pool: &str, u: &PoolUsage, dmeventd: bool) {
        if u.data_total.0 > self.seen_total {
            let by = if dmeventd {
                BY_DMEVENTD
            } else {
                "another process"
            };
            if dmeventd {
                self.by_dmeventd += 1;
            }
            self.grew(rec, pool, by, u.data_used.0, u.data_total.0);
        }
    }

    /// thinbench's monitor ran `lvextend --use-policies` at reading `u`.
    pub fn acted(
        &mut self,
        rec: &Recorder,
        pool: &str,
        u: &PoolUsage,
        r: Result<bool, BackendError>,
        after: Option<&PoolUsage>,
    ) {
        match r {
            Ok(true) => {
                let to = after.map_or(u.data_total.0, |a| a.data_total.0);
                self.by_monitor += 1;
                // What it grew from is this reading's size (a growth seen before is
                // already counted).
                self.seen_total = self.seen_total.max(u.data_total.0);
                if to > self.seen_total {
                    self.grew(rec, pool, BY_MONITOR, u.data_used.0, to);
                }
            }
            // lvm found nothing to do (its own reading was below the threshold).
            Ok(false) => {}
            Err(e) => {
                self.failed += 1;
                self.retry_at = Some(Instant::now() + RETRY_PERIOD);
                rec.event(EventKind::Autoextend {
                    pool: pool.to_owned(),
                    by: BY_MONITOR.to_owned(),
                    used_blocks: u.data_used.0,
                    from_blocks: u.data_total.0,
                    to_blocks: None,
                    error: Some(e.to_string()),
                });
            }
        }
    }

    /// The fill's autoextend figures.
    pub fn metrics(&self) -> Vec<Metric> {
        let count = |name: &str, v: u32| {
            metric(
                name,
                f64::from(v),
                "count",
                MetricKind::Exact,
                Better::Neither,
            )
        };
        let mut v = vec![
            count("fill.autoextend_by_thinbench_monitor", self.by_monitor),
            count("fill.autoextend_by_dmeventd", self.by_dmeventd),
            count("fill.autoextend_failed_by_thinbench_monitor", self.failed),
            // lvm extends by the percent or to below the threshold as it reads the
            // pool then: the amount depends on when it looked.
            metric(
                thinbench_schema::autoextend::BLOCKS_ADDED,
                self.blocks_added as f64,
                "blocks",
                MetricKind::Timing,
                Better::Neither,
            ),
        ];
        // When it acted depends on when it looked: dmeventd every period, the monitor
        // every poll.
        if let Some(p) = self.first_used_pct {
            v.push(metric(
                "fill.autoextend_first_at_used_pct",
                p,
                "%",
                MetricKind::Timing,
                Better::Neither,
            ));
        }
        v
    }
}
