//! `[step.expect]`: what a step must leave behind (blocks, pool mode, errors, latency,
//! kernel log), and which expectations the step's action records what they read
//! ([`Observes`]): an expectation the step cannot observe would fail as "n/a".

use super::actions::Observes;
use super::{Checker, MAX_FAULT_DELAY};
use crate::errors::Kind;
use crate::scenario::raw::{Field, IntOrText, RawExpect, Span};
use crate::spec::{BlockCount, Expect};
use std::time::Duration;
use thinbench_schema::record::PoolMode;

/// Who a step's expectations are about: `"cow-overwrite steps"`, and what they record.
pub(super) struct Observer {
    pub(super) label: String,
    pub(super) observes: Observes,
}

impl Checker {
    /// `[step.expect]` of a step; `who` is `None` when its action is not known (then only
    /// the values are checked).
    pub(super) fn expect(&mut self, e: &RawExpect, who: Option<&Observer>) -> Option<Vec<Expect>> {
        let mut out = Vec::new();
        let mut ok = true;
        // Refuses an expectation whose figure the step does not record.
        let unobserved = |c: &mut Checker, span: Span, reads: &str, has: fn(Observes) -> bool| {
            let Some(w) = who.filter(|w| !has(w.observes)) else {
                return false;
            };
            c.err_hint(
                span,
                format!("{reads}, which {} do not record", w.label),
                format!("{} can expect: {}", w.label, w.observes.expectable()),
            );
            true
        };
        match &e.data_blocks_allocated {
            Field::Absent => {}
            Field::Invalid { .. } => ok = false,
            Field::Given { value, .. } => match value.get_ref() {
                // Negative: the step freed blocks (a discard, a delete).
                IntOrText::Int(n) => out.push(Expect::DataBlocksAllocated(BlockCount::Exact(*n))),
                IntOrText::Text(t) if t == "chunks-touched" => {
                    if unobserved(
                        self,
                        value.span(),
                        "\"chunks-touched\" reads how many chunks the workload touched for the first time",
                        |o| o.chunks_touched,
                    ) {
                        ok = false;
                    } else {
                        out.push(Expect::DataBlocksAllocated(BlockCount::ChunksTouched));
                    }
                }
                IntOrText::Text(t) => {
                    self.err_hint(
                        value.span(),
                        format!("`data_blocks_allocated` must be an integer or \"chunks-touched\", not \"{t}\""),
                        "\"chunks-touched\" expects as many new blocks as the workload touched distinct chunks",
                    );
                    ok = false;
                }
            },
        }
        let modes = [
            PoolMode::Rw,
            PoolMode::Ro,
            PoolMode::OutOfDataSpace,
            PoolMode::Fail,
            PoolMode::Error,
        ]
        .map(|m| (m.as_str(), m));
        match &e.mode {
            Field::Absent => {}
            Field::Invalid { .. } => ok = false,
            Field::Given { value, .. } => match self.choice("mode", value, &modes) {
                Some(m) => out.push(Expect::Mode(m)),
                None => ok = false,
            },
        }
        match &e.lower_data_blocks_allocated {
            Field::Absent => {}
            Field::Invalid { .. } => ok = false,
            Field::Given { value, .. } => {
                out.push(Expect::LowerDataBlocksAllocated(*value.get_ref()))
            }
        }
        match &e.needs_check {
            Field::Absent => {}
            Field::Invalid { .. } => ok = false,
            Field::Given { value, .. } => out.push(Expect::NeedsCheck(*value.get_ref())),
        }
        match &e.error_contains {
            Field::Absent => {}
            Field::Invalid { .. } => ok = false,
            Field::Given { value, .. } => out.push(Expect::ErrorContains(value.get_ref().clone())),
        }
        match &e.error {
            Field::Absent => {}
            Field::Invalid { .. } => ok = false,
            Field::Given { value, .. } => match Kind::parse(value.get_ref()) {
                Some(k) => out.push(Expect::Error(k)),
                None => {
                    let names: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
                    self.err_hint(
                        value.span(),
                        format!("`error` must be an error kind, not \"{}\"", value.get_ref()),
                        format!("one of: {}", names.join(", ")),
                    );
                    ok = false;
                }
            },
        }
        match &e.first_error {
            Field::Absent => {}
            Field::Invalid { .. } => ok = false,
            Field::Given { value, .. } => {
                let v = value.get_ref();
                if unobserved(
                    self,
                    value.span(),
                    "`first_error` reads the workload's first error (an errno name)",
                    |o| o.first_error,
                ) {
                    ok = false;
                } else if v.len() > 1
                    && v.starts_with('E')
                    && v[1..].chars().all(|c| c.is_ascii_uppercase())
                {
                    out.push(Expect::FirstError(v.clone()));
                } else {
                    self.err_hint(
                        value.span(),
                        format!("`first_error` must be an errno name, not \"{v}\""),
                        "e.g. \"ENOSPC\" or \"EIO\"",
                    );
                    ok = false;
                }
            }
        }
        match &e.errors {
            Field::Absent => {}
            Field::Invalid { .. } => ok = false,
            Field::Given { value, .. } => {
                if unobserved(
                    self,
                    value.span(),
                    "`errors` reads the workload's IO error count",
                    |o| o.errors,
                ) {
                    ok = false;
                } else {
                    match self
                        .int_value("errors", value, (0, i64::MAX), None)
                        .and_then(|n| u64::try_from(n).ok())
                    {
                        Some(n) => out.push(Expect::Errors(n)),
                        None => ok = false,
                    }
                }
            }
        }
        match &e.p50_at_least {
            Field::Absent => {}
            Field::Invalid { .. } => ok = false,
            Field::Given { .. } => {
                if unobserved(
                    self,
                    e.p50_at_least.key().unwrap_or_default(),
                    "`p50_at_least` reads the workload's latency",
                    |o| o.latency,
                ) {
                    ok = false;
                } else {
                    match self.duration(
                        "p50_at_least",
                        &e.p50_at_least,
                        (Duration::ZERO, MAX_FAULT_DELAY),
                    ) {
                        Some(Some(d)) => out.push(Expect::P50AtLeast(d)),
                        _ => ok = false,
                    }
                }
            }
        }
        match &e.kernel_log {
            Field::Absent => {}
            Field::Invalid { .. } => ok = false,
            Field::Given { value, .. } => {
                if value.get_ref().trim().is_empty() {
                    self.err(
                        value.span(),
                        "`kernel_log` is empty: every line would match",
                    );
                    ok = false;
                } else {
                    out.push(Expect::KernelLog(value.get_ref().clone()));
                }
            }
        }
        match &e.transaction_id {
            Field::Absent => {}
            Field::Invalid { .. } => ok = false,
            Field::Given { value, .. } => match u64::try_from(*value.get_ref()) {
                Ok(n) => out.push(Expect::TransactionId(n)),
                Err(_) => {
                    self.err(value.span(), "`transaction_id` must not be negative");
                    ok = false;
                }
            },
        }
        if !self.discard_expectations(e, &mut out) {
            ok = false;
        }
        ok.then_some(out)
    }
}
