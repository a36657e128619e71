//! `deferred-removal` and `deferred-deletion` steps: what keeps the thin busy, for how
//! long, and how often the deletion worker retries.

use super::Checker;
use crate::scenario::raw::RawStep;
use crate::spec::{DeferredSpec, Holder};
use std::time::Duration;
use thinbench_schema::ids::Ident;

impl Checker {
    /// `deferred-removal`/`deferred-deletion` settings.
    pub(super) fn deferred(&mut self, s: &RawStep, thin: Option<Ident>) -> Option<DeferredSpec> {
        let holders = [
            ("fd", Holder::Fd),
            ("mount", Holder::Mount),
            ("mount-namespace", Holder::MountNamespace),
        ];
        let holder = match s.holder.value() {
            None => Some(Holder::Fd),
            Some(v) => self.choice("holder", v, &holders),
        };
        let limits = (Duration::ZERO, Duration::from_secs(600));
        let hold = self
            .duration("hold", &s.hold, limits)
            .map(|d| d.unwrap_or(Duration::from_secs(2)));
        let retry = self
            .duration(
                "retry_interval",
                &s.retry_interval,
                (Duration::from_millis(10), Duration::from_secs(600)),
            )
            .map(|d| d.unwrap_or(Duration::from_secs(1)));
        match (thin, holder, hold, retry) {
            (Some(thin), Some(holder), Some(hold), Some(retry_interval)) => Some(DeferredSpec {
                thin,
                holder,
                hold,
                retry_interval,
            }),
            _ => None,
        }
    }
}
