//! Raw scenario → [`ScenarioSpec`]: units parsed, defaults applied, bounds and cross references
//! checked, every mistake collected (not just the first) with the position of the value
//! or key at fault and, where there is something useful to say, a hint.
//!
//! Checks happen in two passes. The first reads each pool and step on its own (values,
//! bounds, keys that belong to another pool kind or action). The second walks the step
//! list once per pool, because steps apply per pool: a thin made by a step restricted to
//! pool A does not exist for pool B. Names in the walk are compared as written, even when
//! they are not valid identifiers, so one bad name is reported once rather than at every
//! later step that uses it.
//!
//! `scenario` checks the top level and runs both passes; `pool`, `fault` and `step` (with
//! one file per action family, `expect` for expectations) are the first; `walk` is the
//! second. Shared value readers (sizes, integers, choices, durations) are here.

mod actions;
mod background;
mod control;
mod deferred;
mod delete;
mod device;
mod device_over;
mod discard;
mod dm_table;
mod expect;
mod fault;
mod fill;
mod fs;
mod fs_device;
mod fs_layout;
mod ids;
mod io;
mod io_file;
mod lvm;
mod metadata;
mod pool;
mod pool_stripes;
mod power;
mod reload;
mod scenario;
mod step;
mod thin;
mod tool;
mod walk;
mod write;

#[cfg(test)]
mod backing_tests;
#[cfg(test)]
mod control_tests;
#[cfg(test)]
mod discard_tests;
#[cfg(test)]
mod fs_background_tests;
#[cfg(test)]
mod fs_tests;
#[cfg(test)]
mod io_file_tests;
#[cfg(test)]
mod reload_tests;
#[cfg(test)]
mod runnable_tests;
#[cfg(test)]
mod schema_tests;
#[cfg(test)]
mod stripes_tests;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tool_tests;

pub(crate) use scenario::check_format_version;
pub use thinbench_schema::grammar::parse_duration;

use crate::scenario::raw::{Field, IntOrText, RawScenario, Span};
use crate::scenario::{suggest, Diagnostic};
use crate::spec::ScenarioSpec;
use serde_spanned::Spanned;
use std::path::{Path, PathBuf};
use std::time::Duration;
use thinbench_schema::grammar::format_duration as human_duration;
use thinbench_schema::ids::Ident;
use thinbench_schema::units::{Bytes, SECTOR_SIZE};

/// The scenario file format this build reads (`format = 1`).
pub const SCENARIO_FORMAT_VERSION: i64 = 1;

const KIB: u64 = Bytes::KIB;
const MIB: u64 = Bytes::MIB;
const GIB: u64 = Bytes::GIB;
const TIB: u64 = 1 << 40;

/// dm-delay takes any `unsigned` ms; past a minute a delay is a hang, not a slowdown.
const MAX_FAULT_DELAY: Duration = Duration::from_secs(60);

const DEFAULT_IO_SIZE: u64 = 4 * KIB;
const DEFAULT_SEED: i64 = 1;

const IDENT_HINT: &str =
    "names are 1 to 32 ASCII letters, digits, `-` and `_`, starting with a letter";

/// Bounds of one size key.
struct SizeRule {
    min: u64,
    max: u64,
    /// Values must be a multiple of this many bytes.
    multiple_of: u64,
    /// Why the maximum is what it is, for the hint.
    max_why: &'static str,
}

const GROW_BY: SizeRule = SizeRule {
    min: MIB,
    max: 16 * TIB,
    multiple_of: MIB,
    max_why: "loop files and LVs are capped at 16TiB here",
};

const THIN_SIZE: SizeRule = SizeRule {
    min: MIB,
    max: 16 * TIB,
    multiple_of: SECTOR_SIZE,
    max_why: "thinbench caps thin devices at 16TiB",
};
const IO_SIZE: SizeRule = SizeRule {
    min: SECTOR_SIZE,
    max: 16 * MIB,
    multiple_of: SECTOR_SIZE,
    max_why: "a single IO is at most 16MiB",
};

/// Checks `raw` and builds its plan. Every problem goes to `d`; the plan is returned
/// only when this found none (the caller also discards it if reading `raw` had errors).
pub(crate) fn validate(
    raw: &RawScenario,
    source: &Path,
    grants: &Grants,
    d: &mut Vec<Diagnostic>,
    warnings: &mut Vec<Diagnostic>,
) -> Option<ScenarioSpec> {
    let mut c = Checker {
        d: Vec::new(),
        warnings: Vec::new(),
        fault_steps: Vec::new(),
        pools_walked: Vec::new(),
        base: source.parent().map(Path::to_owned).unwrap_or_default(),
        grants: grants.clone(),
    };
    let plan = c.scenario(raw, source);
    let clean = c.d.is_empty();
    d.append(&mut c.d);
    warnings.append(&mut c.warnings);
    plan.filter(|_| clean)
}

/// Collects diagnostics while checking.
struct Checker {
    d: Vec<Diagnostic>,
    /// What will run, but not as the file seems to say.
    warnings: Vec<Diagnostic>,
    /// Step names that faults' `at`/`until` name, checked once the steps are known.
    fault_steps: Vec<(Span, Ident)>,
    /// What the walk needs of each pool whose kind is known: thin ids are the kind's,
    /// some step settings must fit the chunk.
    pools_walked: Vec<walk::PoolFacts>,
    /// The scenario file's directory: relative paths in it (`job_file`) start here.
    base: PathBuf,
    /// What the command line allows beyond the file's own directory.
    grants: Grants,
}

/// What the command line grants a scenario; a scenario cannot grant itself anything
/// (docs/security.md). The default grants nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants {
    /// `--allow-host-paths`: absolute and `..` paths in the file (`job_file`, loop-lvm
    /// `dir` with `allow_outside_workdir`), symlinks out of its directory, and direct-lvm
    /// on a named block device.
    pub host_paths: bool,
}

/// The command-line flag that sets [`Grants::host_paths`], as messages name it.
pub const HOST_PATHS_FLAG: &str = "--allow-host-paths";

impl Checker {
    fn err(&mut self, span: Span, message: impl Into<String>) {
        self.d.push(Diagnostic::new(span, message));
    }

    fn err_hint(&mut self, span: Span, message: impl Into<String>, hint: impl Into<String>) {
        self.d.push(Diagnostic::new(span, message).with_hint(hint));
    }

    fn warn_hint(&mut self, span: Span, message: impl Into<String>, hint: impl Into<String>) {
        self.warnings
            .push(Diagnostic::new(span, message).with_hint(hint));
    }

    /// A required key: its value, or an error at the table that lacks it.
    fn required<'f, T>(
        &mut self,
        f: &'f Field<T>,
        table: &Span,
        message: &str,
        hint: &str,
    ) -> Option<&'f Spanned<T>> {
        if let Field::Absent = f {
            self.err_hint(table.clone(), message, hint);
        }
        f.value()
    }

    fn ident(&mut self, v: &Spanned<String>, what: &str) -> Option<Ident> {
        match Ident::new(v.get_ref()) {
            Ok(i) => Some(i),
            Err(e) => {
                self.err_hint(v.span(), format!("invalid {what}: {e}"), IDENT_HINT);
                None
            }
        }
    }

    /// A size as bytes, without bounds.
    fn bytes(&mut self, key: &str, v: &Spanned<IntOrText>) -> Option<Bytes> {
        match v.get_ref() {
            IntOrText::Int(i) => match u64::try_from(*i) {
                Ok(b) => Some(Bytes(b)),
                Err(_) => {
                    self.err(v.span(), format!("`{key}` must not be negative"));
                    None
                }
            },
            IntOrText::Text(s) => match thinbench_schema::grammar::parse_size(s) {
                Ok(b) => Some(b),
                Err(e) => {
                    self.d.push(e.diagnostic(v.span(), key));
                    None
                }
            },
        }
    }

    /// A size key within `rule`, or `default` when absent.
    fn size(
        &mut self,
        key: &str,
        f: &Field<IntOrText>,
        default: u64,
        rule: &SizeRule,
    ) -> Option<Bytes> {
        match f {
            Field::Absent => Some(Bytes(default)),
            Field::Invalid { .. } => None,
            Field::Given { value, .. } => {
                let b = self.bytes(key, value)?;
                self.size_rule(key, value.span(), b, rule).then_some(b)
            }
        }
    }

    fn size_rule(&mut self, key: &str, span: Span, b: Bytes, rule: &SizeRule) -> bool {
        if b.0 < rule.min {
            self.err(
                span,
                format!(
                    "`{key}` is {}, below the minimum of {}",
                    b.human(),
                    Bytes(rule.min).human()
                ),
            );
            false
        } else if b.0 > rule.max {
            self.err_hint(
                span,
                format!(
                    "`{key}` is {}, above the maximum of {}",
                    b.human(),
                    Bytes(rule.max).human()
                ),
                rule.max_why,
            );
            false
        } else if !b.0.is_multiple_of(rule.multiple_of) {
            self.err(
                span,
                format!(
                    "`{key}` is {}, not a multiple of {} bytes (one sector)",
                    b.human(),
                    rule.multiple_of
                ),
            );
            false
        } else {
            true
        }
    }

    /// An integer key within `lo..=hi`, or `default` when absent.
    fn int(
        &mut self,
        key: &str,
        f: &Field<i64>,
        default: i64,
        (lo, hi): (i64, i64),
        hint: Option<&str>,
    ) -> Option<i64> {
        match f {
            Field::Absent => Some(default),
            Field::Invalid { .. } => None,
            Field::Given { value, .. } => self.int_value(key, value, (lo, hi), hint),
        }
    }

    fn int_value(
        &mut self,
        key: &str,
        v: &Spanned<i64>,
        (lo, hi): (i64, i64),
        hint: Option<&str>,
    ) -> Option<i64> {
        let n = *v.get_ref();
        if (lo..=hi).contains(&n) {
            return Some(n);
        }
        let message = if hi == i64::MAX {
            format!("`{key}` must be at least {lo}, not {n}")
        } else {
            format!("`{key}` must be {lo} to {hi}, not {n}")
        };
        match hint {
            Some(h) => self.err_hint(v.span(), message, h),
            None => self.err(v.span(), message),
        }
        None
    }

    /// A percentage key within `lo..=hi` as `u8`.
    fn percent(
        &mut self,
        key: &str,
        f: &Field<i64>,
        default: u8,
        (lo, hi): (u8, u8),
        hint: Option<&str>,
    ) -> Option<u8> {
        self.int(key, f, default.into(), (lo.into(), hi.into()), hint)
            .and_then(|n| u8::try_from(n).ok())
    }

    /// One of a fixed set of strings.
    fn choice<T: Copy>(
        &mut self,
        key: &str,
        v: &Spanned<String>,
        options: &[(&str, T)],
    ) -> Option<T> {
        let s = v.get_ref().as_str();
        if let Some((_, t)) = options.iter().find(|(name, _)| *name == s) {
            return Some(*t);
        }
        let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
        let listed = names
            .iter()
            .map(|n| format!("\"{n}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let message = format!("`{key}` must be one of {listed}, not \"{s}\"");
        match suggest(s, &names) {
            Some(m) => self.err_hint(v.span(), message, format!("did you mean \"{m}\"?")),
            None => self.err(v.span(), message),
        }
        None
    }

    fn choice_or<T: Copy>(
        &mut self,
        key: &str,
        f: &Field<String>,
        default: T,
        options: &[(&str, T)],
    ) -> Option<T> {
        match f {
            Field::Absent => Some(default),
            Field::Invalid { .. } => None,
            Field::Given { value, .. } => self.choice(key, value, options),
        }
    }

    /// A duration key within `lo..=hi`; `None` inside when absent.
    fn duration(
        &mut self,
        key: &str,
        f: &Field<String>,
        (lo, hi): (Duration, Duration),
    ) -> Option<Option<Duration>> {
        let v = match f {
            Field::Absent => return Some(None),
            Field::Invalid { .. } => return None,
            Field::Given { value, .. } => value,
        };
        let d = match parse_duration(v.get_ref()) {
            Ok(d) => d,
            Err(e) => {
                self.d.push(e.diagnostic(v.span(), key));
                return None;
            }
        };
        if d < lo || d > hi {
            self.err(
                v.span(),
                format!(
                    "`{key}` must be {} to {}, not {}",
                    human_duration(lo),
                    human_duration(hi),
                    human_duration(d)
                ),
            );
            return None;
        }
        Some(Some(d))
    }
}
