//! Durations as scenario files write them (`"1h30m"`, `"250ms"`), and back for messages.

use std::time::Duration;

/// `"90s"`, `"20m"`, `"1h"`, `"1h30m"`, `"1h 30m 10s"`, `"20 m"`: whole hours, minutes and seconds,
/// each at most once, largest first.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("empty duration".to_owned());
    }
    let mut rest = t;
    let mut total: u64 = 0;
    // Rank of the last unit: 4 = none yet, 3 = h, 2 = m, 1 = s, 0 = ms. Total in ms.
    let mut last = 4;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!(
                "`{s}` is not a duration: expected a number at `{rest}`"
            ));
        }
        let (num, after) = rest.split_at(digits);
        let after = after.trim_start();
        let unit_len = after
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let (rank, mult) = match unit {
            "h" => (3, 3_600_000),
            "m" => (2, 60_000),
            "s" => (1, 1000),
            "ms" => (0, 1),
            "" => return Err(format!("`{s}` has no unit after {num} (use h, m, s or ms)")),
            other => return Err(format!("`{s}`: unknown unit `{other}` (use h, m, s or ms)")),
        };
        if rank >= last {
            return Err(format!(
                "`{s}`: units must go from hours to milliseconds, each once"
            ));
        }
        last = rank;
        total = num
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(mult))
            .and_then(|n| total.checked_add(n))
            .ok_or_else(|| format!("`{s}` is too long"))?;
        rest = after.trim_start();
    }
    Ok(Duration::from_millis(total))
}

/// The shortest `1h30m`-style form of whole seconds.
pub(super) fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    let ms = d.subsec_millis();
    if s == 0 {
        return if ms == 0 {
            "0s".to_owned()
        } else {
            format!("{ms}ms")
        };
    }
    let (h, m, sec) = (s / 3600, s % 3600 / 60, s % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if sec > 0 {
        out.push_str(&format!("{sec}s"));
    }
    if ms > 0 {
        out.push_str(&format!("{ms}ms"));
    }
    out
}
