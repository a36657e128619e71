//! `[step.expect]`: what a step must leave behind (blocks, pool mode, errors, latency,
//! kernel log), and which expectations need the step to run a workload.

use super::actions::ActionKind;
use super::{Checker, MAX_FAULT_DELAY};
use crate::errors::Kind;
use crate::scenario::raw::{Field, IntOrText, RawExpect};
use crate::spec::{BlockCount, Expect};
use std::time::Duration;
use thinbench_schema::record::PoolMode;

impl Checker {
    pub(super) fn expect(
        &mut self,
        e: &RawExpect,
        kind: Option<ActionKind>,
    ) -> Option<Vec<Expect>> {
        let mut out = Vec::new();
        let mut ok = true;
        let not_workload = kind.filter(|k| !k.is_workload());
        match &e.data_blocks_allocated {
            Field::Absent => {}
            Field::Invalid { .. } => ok = false,
            Field::Given { value, .. } => match value.get_ref() {
                IntOrText::Int(n) => match u64::try_from(*n) {
                    Ok(n) => out.push(Expect::DataBlocksAllocated(BlockCount::Exact(n))),
                    Err(_) => {
                        self.err(value.span(), "`data_blocks_allocated` must not be negative");
                        ok = false;
                    }
                },
                IntOrText::Text(t) if t == "chunks-touched" => {
                    if let Some(k) = not_workload {
                        self.err_hint(
                            value.span(),
                            format!("\"chunks-touched\" needs a workload, and {} steps run none", k.name()),
                            "expect an exact number of blocks instead, e.g. `data_blocks_allocated = 0`",
                        );
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
                if v.len() > 1
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
                if let Some(k) = not_workload {
                    self.err(
                        value.span(),
                        format!(
                            "`errors` counts workload IO errors, and {} steps run no workload",
                            k.name()
                        ),
                    );
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
                if let Some(k) = not_workload {
                    self.err(
                        e.p50_at_least.key().unwrap_or_default(),
                        format!(
                            "`p50_at_least` is a workload's latency, and {} steps run no workload",
                            k.name()
                        ),
                    );
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
        ok.then_some(out)
    }
}
