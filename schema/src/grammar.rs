//! The one grammar of sizes and durations, for every file (scenarios, plans, the gate
//! config) and every command-line flag (docs/scenario-format.md, "Sizes and durations").
//!
//! - **Sizes**: a whole number (`_` may group digits) and a unit: `B` (or none: bytes),
//!   `s` (512-byte sectors), binary `KiB` `MiB` `GiB` `TiB` `PiB` `EiB` (short `K`/`k`, `M`,
//!   `G`, `T`, `P`, `E`) and decimal `kB` (`KB`) `MB` `GB` `TB` `PB` `EB`.
//! - **Durations**: whole numbers with units `ns`, `us` (`µs`), `ms`, `s`, `m`, `h`, `d`,
//!   `w`, several from largest to smallest, each once (`"1h30m"`, `"1d 12h"`).
//!
//! One space may stand between a number and its unit. Decimals are refused with the
//! integer form as the hint (`"1.5GiB"`: use `1536MiB`; `"1.5h"`: use `90m`), and a unit
//! written in the wrong case gets its right spelling (`"1gib"`: `GiB`). Bounds (a
//! timeout's 1s to 24h, a chunk's 64KiB multiple) are each reader's, not the grammar's.

use std::fmt;
use std::ops::Range;
use std::time::Duration;

use crate::positioned::Diagnostic;
use crate::units::Bytes;

/// Why a size or duration does not parse: a message quoting the input, and how to write
/// it instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitError {
    /// What is wrong, lowercase, quoting the input.
    pub message: String,
    /// How to write it.
    pub hint: String,
}

impl fmt::Display for UnitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.hint)
    }
}

impl std::error::Error for UnitError {}

impl UnitError {
    /// The positioned form of this error at the value of `key` (`span`): "invalid
    /// `key`: MESSAGE", with the hint. How every file reader reports it.
    pub fn diagnostic(self, span: Range<usize>, key: &str) -> Diagnostic {
        Diagnostic::new(span, format!("invalid `{key}`: {}", self.message)).with_hint(self.hint)
    }
}

fn fail<T>(message: String, hint: impl Into<String>) -> Result<T, UnitError> {
    Err(UnitError {
        message,
        hint: hint.into(),
    })
}

/// Size units: (spelling, bytes). The first spelling of each size is its canonical one,
/// which case-mistake hints suggest.
const SIZE_UNITS: &[(&str, u64)] = &[
    ("B", 1),
    ("s", 512),
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
    ("TiB", 1 << 40),
    ("PiB", 1 << 50),
    ("EiB", 1 << 60),
    ("kB", 1_000),
    ("MB", 1_000_000),
    ("GB", 1_000_000_000),
    ("TB", 1_000_000_000_000),
    ("PB", 1_000_000_000_000_000),
    ("EB", 1_000_000_000_000_000_000),
    ("K", 1 << 10),
    ("k", 1 << 10),
    ("KB", 1_000),
    ("M", 1 << 20),
    ("G", 1 << 30),
    ("T", 1 << 40),
    ("P", 1 << 50),
    ("E", 1 << 60),
];

/// The size units, for hints.
pub const SIZE_UNIT_LIST: &str =
    "B, s (sectors), KiB, MiB, GiB, TiB, PiB, EiB, kB, MB, GB, TB, PB, EB";

/// What a size looks like, for hints.
pub const SIZE_HINT: &str =
    "a whole number and a unit, like \"64KiB\", \"100GiB\" or \"2048s\" (units: B, s, KiB, MiB, GiB, TiB, PiB, EiB, kB, MB, GB, TB, PB, EB)";

/// Duration units: (spelling, nanoseconds), largest first.
const DURATION_UNITS: &[(&str, u64)] = &[
    ("w", 7 * 86_400 * NS),
    ("d", 86_400 * NS),
    ("h", 3_600 * NS),
    ("m", 60 * NS),
    ("s", NS),
    ("ms", 1_000_000),
    ("us", 1_000),
    ("µs", 1_000),
    ("ns", 1),
];

const NS: u64 = 1_000_000_000;

/// What a duration looks like, for hints.
pub const DURATION_HINT: &str =
    "whole numbers with units w, d, h, m, s, ms, us or ns, largest first, like \"90s\", \"20m\", \"1h30m\" or \"90d\"";

/// Words people write for duration units, and the unit meant.
const DURATION_WORDS: &[(&[&str], &str)] = &[
    (&["sec", "secs", "second", "seconds"], "s"),
    (&["min", "mins", "minute", "minutes"], "m"),
    (&["hr", "hrs", "hour", "hours"], "h"),
    (&["day", "days"], "d"),
    (&["wk", "week", "weeks"], "w"),
    (&["msec", "msecs"], "ms"),
    (&["usec", "usecs", "μs"], "us"),
    (&["nsec", "nsecs"], "ns"),
];

/// One `NUMBER[.FRACTION] UNIT` part of the input: the number's digits (no `_`), the
/// fraction's digits if any, the unit, and the rest of the input after it.
struct Part<'s> {
    whole: String,
    frac: Option<String>,
    unit: &'s str,
    rest: &'s str,
}

/// Reads one part from the start of `t` (already trimmed at the start); `None` when it
/// does not start with a digit.
fn part(t: &str) -> Option<Part<'_>> {
    let digits = |s: &str| {
        s.find(|c: char| !(c.is_ascii_digit() || c == '_'))
            .unwrap_or(s.len())
    };
    let n = digits(t);
    if n == 0 || !t.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let whole: String = t[..n].chars().filter(|c| *c != '_').collect();
    let mut after = &t[n..];
    let mut frac = None;
    if let Some(f) = after.strip_prefix('.') {
        let m = digits(f);
        frac = Some(f[..m].chars().filter(|c| *c != '_').collect());
        after = &f[m..];
    }
    // One space may separate the number from its unit.
    let after = after.strip_prefix(' ').unwrap_or(after);
    let u = after
        .find(|c: char| !c.is_alphabetic())
        .unwrap_or(after.len());
    Some(Part {
        whole,
        frac,
        unit: &after[..u],
        rest: &after[u..],
    })
}

/// `whole.frac × mult` exactly, if it is a whole number: `Ok(Some(n))`; `Ok(None)` if it is
/// not whole; `Err(())` if it overflows.
fn scaled(whole: &str, frac: &str, mult: u64) -> Result<Option<u128>, ()> {
    let w: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| ())?
    };
    let frac = frac.trim_end_matches('0');
    if frac.len() > 30 {
        return Ok(None);
    }
    let f: u128 = if frac.is_empty() {
        0
    } else {
        frac.parse().map_err(|_| ())?
    };
    let den = 10u128.pow(frac.len() as u32);
    let num = w
        .checked_mul(den)
        .and_then(|x| x.checked_add(f))
        .and_then(|x| x.checked_mul(u128::from(mult)))
        .ok_or(())?;
    Ok((num % den == 0).then_some(num / den))
}

/// The unit `unit` was meant to be when only its case is wrong.
fn case_fix<'u>(unit: &str, units: impl IntoIterator<Item = &'u str>) -> Option<&'u str> {
    units.into_iter().find(|u| u.eq_ignore_ascii_case(unit))
}

/// Parses a size (module doc).
pub fn parse_size(s: &str) -> Result<Bytes, UnitError> {
    let t = s.trim();
    let Some(p) = part(t) else {
        return fail(
            format!("`{s}` is not a size: expected a whole number and a unit"),
            SIZE_HINT,
        );
    };
    if !p.rest.trim().is_empty() {
        return fail(
            format!(
                "`{s}` is not a size: unexpected `{}` after the unit",
                p.rest.trim()
            ),
            SIZE_HINT,
        );
    }
    let mult = match p.unit {
        "" => 1,
        u => match SIZE_UNITS.iter().find(|(name, _)| *name == u) {
            Some((_, m)) => *m,
            None => {
                let hint = match case_fix(u, SIZE_UNITS.iter().map(|(n, _)| *n)) {
                    Some(fix) => format!("did you mean `{fix}`? units are case-sensitive"),
                    None => format!("units: {SIZE_UNIT_LIST}"),
                };
                return fail(format!("`{s}`: unknown size unit `{u}`"), hint);
            }
        },
    };
    let too_large = || {
        fail(
            format!("`{s}` is too large: sizes stop at 16EiB - 1"),
            SIZE_HINT,
        )
    };
    match &p.frac {
        None => match p
            .whole
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(mult))
        {
            Some(b) => Ok(Bytes(b)),
            None => too_large(),
        },
        Some(frac) => {
            let hint = match scaled(&p.whole, frac, mult) {
                Err(()) => return too_large(),
                Ok(Some(b)) if b <= u128::from(u64::MAX) => {
                    format!("use {}", whole_size(b as u64, decimal_unit(mult)))
                }
                Ok(Some(_)) => return too_large(),
                Ok(None) => "it is not a whole number of bytes".to_owned(),
            };
            fail(
                format!("`{s}`: sizes are whole numbers, not decimals"),
                hint,
            )
        }
    }
}

/// Whether a unit of `mult` bytes is a decimal one (kB, MB, …).
fn decimal_unit(mult: u64) -> bool {
    mult >= 1000 && !mult.is_power_of_two()
}

/// `b` bytes in the largest unit that holds it exactly: binary units, or decimal ones
/// when the input was decimal (`1.5GB`: `1500MB`).
fn whole_size(b: u64, decimal: bool) -> String {
    if !decimal {
        return Bytes(b).human();
    }
    for (name, m) in [
        ("EB", 1_000_000_000_000_000_000u64),
        ("PB", 1_000_000_000_000_000),
        ("TB", 1_000_000_000_000),
        ("GB", 1_000_000_000),
        ("MB", 1_000_000),
        ("kB", 1_000),
    ] {
        if b >= m && b.is_multiple_of(m) {
            return format!("{}{name}", b / m);
        }
    }
    format!("{b}B")
}

/// Parses a duration (module doc).
pub fn parse_duration(s: &str) -> Result<Duration, UnitError> {
    let t = s.trim();
    if t.is_empty() {
        return fail("empty duration".to_owned(), DURATION_HINT);
    }
    let mut rest = t;
    let mut total: u128 = 0;
    let mut exact = true;
    // Index into DURATION_UNITS of the last unit: each later one must be smaller.
    let mut last: Option<usize> = None;
    let mut decimal = false;
    while !rest.is_empty() {
        let Some(p) = part(rest) else {
            return fail(
                format!("`{s}` is not a duration: expected a number at `{rest}`"),
                DURATION_HINT,
            );
        };
        let Some(i) = DURATION_UNITS.iter().position(|(u, _)| *u == p.unit) else {
            let hint = if p.unit.is_empty() {
                format!("add a unit: like \"{}s\" or \"{}m\"", p.whole, p.whole)
            } else if let Some(fix) = case_fix(p.unit, DURATION_UNITS.iter().map(|(u, _)| *u)) {
                format!("did you mean `{fix}`? units are case-sensitive")
            } else if let Some((_, u)) = DURATION_WORDS
                .iter()
                .find(|(words, _)| words.iter().any(|w| w.eq_ignore_ascii_case(p.unit)))
            {
                format!("did you mean `{u}`? {DURATION_HINT}")
            } else {
                DURATION_HINT.to_owned()
            };
            let message = if p.unit.is_empty() {
                format!("`{s}` has no unit after {}", p.whole)
            } else {
                format!("`{s}`: unknown duration unit `{}`", p.unit)
            };
            return fail(message, hint);
        };
        // `us` and `µs` are one unit: `µs` ranks as `us`, just before it.
        let rank = if DURATION_UNITS[i].0 == "µs" {
            i - 1
        } else {
            i
        };
        if last.is_some_and(|l| rank <= l) {
            return fail(
                format!("`{s}`: units must go from the largest to the smallest, each once"),
                DURATION_HINT,
            );
        }
        last = Some(rank);
        let mult = DURATION_UNITS[i].1;
        let ns = match scaled(&p.whole, p.frac.as_deref().unwrap_or(""), mult) {
            Ok(Some(n)) => n,
            Ok(None) => {
                exact = false;
                0
            }
            Err(()) => return fail(format!("`{s}` is too long"), DURATION_HINT),
        };
        decimal |= p.frac.is_some();
        total = total
            .checked_add(ns)
            .filter(|n| *n <= u128::from(u64::MAX))
            .ok_or_else(|| UnitError {
                message: format!("`{s}` is too long"),
                hint: DURATION_HINT.to_owned(),
            })?;
        rest = p.rest.trim_start();
    }
    if decimal {
        let hint = if exact {
            format!("use {}", whole_duration(total as u64))
        } else {
            "it is not a whole number of nanoseconds".to_owned()
        };
        return fail(
            format!("`{s}`: durations are whole numbers, not decimals"),
            hint,
        );
    }
    Ok(Duration::from_nanos(total as u64))
}

/// `ns` nanoseconds in the largest unit that holds it exactly (`5400s`: `90m`).
fn whole_duration(ns: u64) -> String {
    for (u, m) in DURATION_UNITS {
        if ns >= *m && ns.is_multiple_of(*m) {
            return format!("{}{u}", ns / m);
        }
    }
    format!("{ns}ns")
}

/// The shortest exact form of `d` in the grammar, largest units first (`1h30m`,
/// `250ms`, `0s`): what a message quotes back.
pub fn format_duration(d: Duration) -> String {
    let mut ns = u128::from(d.as_secs()) * u128::from(NS) + u128::from(d.subsec_nanos());
    if ns == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    for (u, m) in DURATION_UNITS.iter().filter(|(u, _)| *u != "µs") {
        let m = u128::from(*m);
        if ns >= m {
            out.push_str(&format!("{}{u}", ns / m));
            ns %= m;
        }
    }
    out
}

/// Parses a rate, a size per time: `"500MiB/d"`, `"10MiB/h"`, `"1GiB/2d"`. Returns the
/// size and the time it takes (never zero).
pub fn parse_rate(s: &str) -> Result<(Bytes, Duration), UnitError> {
    const HINT: &str = "a size per unit of time, like \"500MiB/d\" or \"10MiB/h\"";
    let Some((size, per)) = s.split_once('/') else {
        return fail(format!("`{s}` is not a rate: expected SIZE/TIME"), HINT);
    };
    let b = parse_size(size)?;
    let per = per.trim();
    let per = if per.starts_with(|c: char| c.is_ascii_digit()) {
        parse_duration(per)?
    } else {
        parse_duration(&format!("1{per}"))?
    };
    if per.is_zero() {
        return fail(format!("`{s}`: a rate's time must be above zero"), HINT);
    }
    Ok((b, per))
}

#[cfg(test)]
mod tests;
