//! The top level: format version, scenario name, timeout, the counts of pools and steps,
//! unique names; runs the per-table checks and the per-pool walk, and builds the plan.

use super::{Checker, IDENT_HINT, SCENARIO_FORMAT_VERSION};
use crate::scenario::raw::{Field, RawFault, RawPool, RawScenario, RawStep, Span};
use crate::scenario::{suggest, Diagnostic};
use crate::spec::{FaultSpec, KernelRequest, PoolSpec, ScenarioSpec, StepSpec};
use serde_spanned::Spanned;
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;
use thinbench_schema::ids::Ident;
use thinbench_schema::record::TimingClock;

const MAX_POOLS: usize = 8;
const MAX_STEPS: usize = 10_000;

pub(super) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);
const MIN_TIMEOUT: Duration = Duration::from_secs(1);
const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 3600);
/// `sample_interval`'s bounds: under 10 ms the sampler's own status reads (an ioctl
/// each, a metadata lock) start to be the load; over 10 s a step's shape is lost.
const MIN_SAMPLE_INTERVAL: Duration = Duration::from_millis(10);
const MAX_SAMPLE_INTERVAL: Duration = Duration::from_secs(10);

/// `Some(error)` when the file declares a format version other than this build's; the
/// loader then reports only that, since the rest of the file may follow other rules.
pub(crate) fn check_format_version(raw: &RawScenario) -> Option<Diagnostic> {
    let v = raw.format.value()?;
    (*v.get_ref() != SCENARIO_FORMAT_VERSION).then(|| {
        Diagnostic::new(
            v.span(),
            format!(
                "unsupported scenario format {}: this thinbench reads format {SCENARIO_FORMAT_VERSION}",
                v.get_ref()
            ),
        )
        .with_hint(format!(
            "write `format = {SCENARIO_FORMAT_VERSION}` and the keys docs/scenario-format.md lists, or use the thinbench that wrote this file"
        ))
    })
}

impl Checker {
    pub(super) fn scenario(&mut self, raw: &RawScenario, source: &Path) -> Option<ScenarioSpec> {
        let file_start = raw.span.start..raw.span.start;
        match &raw.format {
            Field::Absent => self.err_hint(
                file_start.clone(),
                "missing `format`",
                format!("start the file with `format = {SCENARIO_FORMAT_VERSION}`"),
            ),
            Field::Invalid { .. } => {}
            Field::Given { .. } => {
                if let Some(e) = check_format_version(raw) {
                    self.d.push(e);
                }
            }
        }
        let name = match &raw.name {
            Field::Given { value, .. } => self.ident(value, "scenario name"),
            Field::Invalid { .. } => None,
            Field::Absent => self.name_from_file(source, &file_start),
        };
        let description = raw.description.value().map(|v| v.get_ref().clone());
        let timeout = self
            .duration("timeout", &raw.timeout, (MIN_TIMEOUT, MAX_TIMEOUT))
            .map(|t| t.unwrap_or(DEFAULT_TIMEOUT));
        let sample_interval = self
            .duration(
                "sample_interval",
                &raw.sample_interval,
                (MIN_SAMPLE_INTERVAL, MAX_SAMPLE_INTERVAL),
            )
            .map(|t| t.unwrap_or(crate::spec::DEFAULT_SAMPLE_INTERVAL));

        let clocks = [TimingClock::Wall, TimingClock::Instructions].map(|c| (c.as_str(), c));
        let clock = match &raw.clock {
            Field::Absent => Some(None),
            Field::Invalid { .. } => None,
            Field::Given { value, .. } => self.choice("clock", value, &clocks).map(Some),
        };

        let kernels = match &raw.kernels {
            Field::Absent => Some(Vec::new()),
            Field::Invalid { .. } => None,
            Field::Given { value, .. } => self.kernels(value.get_ref()),
        };

        let raw_pools: &[RawPool] = raw.pools.value().map_or(&[], |v| v.get_ref());
        self.count_limits(&raw.pools, &file_start, "pool", MAX_POOLS, |p: &RawPool| {
            p.table.clone()
        });
        let pools: Vec<Option<PoolSpec>> = raw_pools.iter().map(|p| self.pool(p)).collect();
        self.unique_pool_names(raw_pools);
        // Pool names as written, for references (see the module doc).
        let mut pool_names: Vec<&str> = Vec::with_capacity(raw_pools.len());
        for p in raw_pools {
            if let Some(v) = p.name.value() {
                if !pool_names.contains(&v.get_ref().as_str()) {
                    pool_names.push(v.get_ref());
                }
            }
        }

        let raw_faults: &[RawFault] = raw.faults.value().map_or(&[], |v| v.get_ref());
        let mut faults: Vec<(String, Option<FaultSpec>)> = Vec::new();
        let mut fault_slots: HashMap<(String, &'static str, &'static str), usize> = HashMap::new();
        for (i, f) in raw_faults.iter().enumerate() {
            if let Some((pool, spec)) = self.fault(f, raw_pools) {
                if let Some(spec) = &spec {
                    let slot = (pool.clone(), spec.device.as_str(), spec.target.dm_target());
                    if let Some(first) = fault_slots.get(&slot) {
                        self.err_hint(
                            f.table.clone(),
                            format!(
                                "a second `{}` fault on pool `{pool}`'s {} device",
                                slot.2, slot.1
                            ),
                            format!("fault #{first} already puts one there (faults are numbered from 0); one layer of a target per device"),
                        );
                    } else {
                        fault_slots.insert(slot, i);
                    }
                }
                faults.push((pool, spec));
            }
        }

        let raw_steps: &[RawStep] = raw.steps.value().map_or(&[], |v| v.get_ref());
        self.count_limits(&raw.steps, &file_start, "step", MAX_STEPS, |s: &RawStep| {
            s.table.clone()
        });
        let mut steps = Vec::with_capacity(raw_steps.len());
        let mut facts = Vec::with_capacity(raw_steps.len());
        for (i, s) in raw_steps.iter().enumerate() {
            let (spec, f) = self.step(i, s, &pool_names);
            steps.push(spec);
            facts.push(f);
        }
        self.unique_step_names(&facts);
        self.dump_references(raw_steps, &steps);
        self.walk(&pool_names, &facts);
        let step_names: Vec<&str> = facts.iter().filter_map(|f| f.name.as_deref()).collect();
        for (span, name) in std::mem::take(&mut self.fault_steps) {
            if !step_names.contains(&name.as_str()) {
                let hint = match suggest(name.as_str(), &step_names) {
                    Some(m) => format!("did you mean `{m}`? steps: {}", step_names.join(", ")),
                    None => format!("steps: {}", step_names.join(", ")),
                };
                self.err_hint(span, format!("the fault names no step `{name}`"), hint);
            }
        }

        let mut pools: Option<Vec<PoolSpec>> = pools.into_iter().collect();
        let steps: Option<Vec<StepSpec>> = steps.into_iter().collect();
        for (pool, spec) in faults {
            match (spec, pools.as_mut()) {
                (Some(spec), Some(ps)) => {
                    if let Some(p) = ps.iter_mut().find(|p| p.name.as_str() == pool) {
                        p.faults.push(spec);
                    }
                }
                (None, _) => pools = None,
                (Some(_), None) => {}
            }
        }
        Some(ScenarioSpec {
            name: name?,
            description,
            source: source.to_path_buf(),
            timeout: timeout?,
            sample_interval: sample_interval?,
            warnings: Vec::new(),
            pools: pools?,
            steps: steps?,
            clock: clock?,
            kernels: kernels?,
        })
    }

    /// `kernels = ["debian:6.12", …]`: Debian kernels only (a path in a file would be a
    /// host path the file chose), each once.
    fn kernels(&mut self, names: &[Spanned<String>]) -> Option<Vec<KernelRequest>> {
        let mut out = Vec::new();
        let mut ok = true;
        for n in names {
            match KernelRequest::parse(n.get_ref()) {
                Ok(KernelRequest::Path(_)) => {
                    self.err_hint(
                        n.span(),
                        format!("`{}` is not a Debian kernel name", n.get_ref()),
                        "a scenario names kernels as `debian:<version>` (`debian:6.12`, `debian:6.1.0-47`, `debian:latest`); a kernel image path goes on the command line: --kernel PATH --modules DIR",
                    );
                    ok = false;
                }
                Ok(k) if out.contains(&k) => {
                    self.err(n.span(), format!("kernel `{k}` is named twice"));
                    ok = false;
                }
                Ok(k) => out.push(k),
                Err(e) => {
                    self.err(n.span(), e);
                    ok = false;
                }
            }
        }
        if names.len() > 8 {
            self.err(
                names[8].span(),
                format!("{} kernels: at most 8, one boot each", names.len()),
            );
            ok = false;
        }
        ok.then_some(out)
    }

    fn name_from_file(&mut self, source: &Path, at: &Span) -> Option<Ident> {
        let stem = source
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        match Ident::new(&stem) {
            Ok(i) => Some(i),
            Err(e) => {
                self.err_hint(
                    at.clone(),
                    format!(
                        "the scenario has no `name`, and its file name is not a valid one: {e}"
                    ),
                    format!("add `name = \"...\"` at the top, or rename the file; {IDENT_HINT}"),
                );
                None
            }
        }
    }

    /// `[[pool]]`/`[[step]]`: at least one, at most `max`.
    fn count_limits<T>(
        &mut self,
        f: &Field<Vec<T>>,
        file_start: &Span,
        key: &str,
        max: usize,
        table: impl Fn(&T) -> Span,
    ) {
        match f {
            Field::Invalid { .. } => {}
            Field::Absent => self.err_hint(
                file_start.clone(),
                format!("no [[{key}]]: a scenario needs 1 to {max}"),
                format!("add a `[[{key}]]` table; see docs/scenario-format.md"),
            ),
            Field::Given { value, .. } => {
                let items = value.get_ref();
                if items.is_empty() {
                    self.err(
                        value.span(),
                        format!("no [[{key}]]: a scenario needs 1 to {max}"),
                    );
                } else if let Some(extra) = items.get(max) {
                    self.err(
                        table(extra),
                        format!(
                            "too many [[{key}]] tables: {}, at most {max} (this is number {})",
                            items.len(),
                            max + 1
                        ),
                    );
                }
            }
        }
    }

    /// `same_as` of a thin_dump step and `from` of a thin_restore step name an earlier
    /// thin_dump step.
    fn dump_references(&mut self, raw: &[RawStep], steps: &[Option<StepSpec>]) {
        use crate::spec::{Action, MetadataTool};
        let dump_of = |s: &Option<StepSpec>| {
            s.as_ref().and_then(|s| match &s.action {
                Action::MetadataTool(m) if m.tool == MetadataTool::Dump => Some(s.name.clone()),
                _ => None,
            })
        };
        for (i, s) in steps.iter().enumerate() {
            let named = s.as_ref().and_then(|s| match &s.action {
                Action::MetadataTool(m) => m
                    .same_as
                    .clone()
                    .map(|n| (n, "same_as", &raw[i].same_as))
                    .or(m.from.clone().map(|n| (n, "from", &raw[i].from))),
                _ => None,
            });
            let Some((earlier, key, field)) = named else {
                continue;
            };
            let before: Vec<String> = steps[..i]
                .iter()
                .filter_map(dump_of)
                .map(|n| n.to_string())
                .collect();
            if !before.iter().any(|n| *n == earlier.as_str()) {
                let at = field.key().unwrap_or(raw[i].table.clone());
                let hint = match before.is_empty() {
                    true => "no thin_dump step comes before this one".to_owned(),
                    false => format!("earlier thin_dump steps: {}", before.join(", ")),
                };
                self.err_hint(
                    at,
                    format!("`{key}` names no earlier thin_dump step `{earlier}`"),
                    hint,
                );
            }
        }
    }

    fn unique_pool_names(&mut self, pools: &[RawPool]) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, p) in pools.iter().enumerate() {
            let Some(v) = p.name.value() else { continue };
            if let Some(first) = seen.get(v.get_ref().as_str()) {
                self.err_hint(
                    v.span(),
                    format!("duplicate pool name `{}`", v.get_ref()),
                    format!(
                        "pool #{first} already has this name (pools are numbered from 0); pool names must be unique"
                    ),
                );
            } else {
                seen.insert(v.get_ref().as_str(), i);
            }
        }
    }
}
