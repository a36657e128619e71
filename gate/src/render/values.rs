//! A figure's values as `gate.md` and `junit.xml` show them: in a unit a reader takes in
//! (bytes in KiB … EiB, ns in µs or ms, ms in ms or s, a `bool` as true/false) with the
//! gate's four significant digits ([`precise_number`]), so `319356928` bytes reads
//! `304.6 MiB` and `5910527` ns `5.911 ms`. Where rounding would hide a difference (an
//! exact figure one byte apart), both sides are shown exactly instead.

use thinbench_schema::format::precise_number;

use crate::analysis::{Row, SampleSummary};

/// `v`, recorded in `unit`, in the unit it reads best in, the unit written after it
/// (none for `count`, `ratio` and unitless figures).
pub(crate) fn human(v: f64, unit: &str) -> String {
    if !v.is_finite() {
        return precise_number(v);
    }
    let p = precise_number;
    match unit {
        "bytes" => iec(v),
        "ns" if v.abs() >= 1e6 => format!("{} ms", p(v / 1e6)),
        "ns" if v.abs() >= 1e3 => format!("{} µs", p(v / 1e3)),
        "ms" if v.abs() >= 10_000.0 => format!("{} s", p(v / 1e3)),
        "bool" if v == 0.0 => "false".into(),
        "bool" if v == 1.0 => "true".into(),
        "%" | "percent" => format!("{}%", p(v)),
        "" | "count" | "ratio" => p(v),
        u => format!("{} {u}", p(v)),
    }
}

/// Bytes in IEC units: exact below 1 KiB.
fn iec(v: f64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if v.abs() < 1024.0 {
        return format!("{} B", precise_number(v));
    }
    let mut x = v;
    let mut unit = "B";
    for u in UNITS {
        if x.abs() < 1024.0 {
            break;
        }
        x /= 1024.0;
        unit = u;
    }
    format!("{} {unit}", precise_number(x))
}

/// `v` exactly, in its recorded unit: what [`sides`] falls back to.
fn exact(v: f64, unit: &str) -> String {
    match unit {
        "" | "count" | "ratio" => precise_number(v),
        u => format!("{} {u}", precise_number(v)),
    }
}

/// One side's value: the median in a readable unit, or the text values.
pub(crate) fn side(s: &SampleSummary, unit: &str) -> String {
    match s.median {
        Some(m) => human(m, unit),
        None => s.display(),
    }
}

/// Baseline and candidate (`None`: absent) as shown; when both read the same but their
/// medians differ, both exactly.
pub(crate) fn sides(r: &Row) -> (Option<String>, Option<String>) {
    let b = r.baseline.as_ref().map(|s| side(s, &r.unit));
    let c = r.candidate.as_ref().map(|s| side(s, &r.unit));
    let medians = (
        r.baseline.as_ref().and_then(|s| s.median),
        r.candidate.as_ref().and_then(|s| s.median),
    );
    match (medians, &b, &c) {
        ((Some(mb), Some(mc)), Some(tb), Some(tc)) if mb != mc && reads_the_same(tb, tc) => {
            (Some(exact(mb, &r.unit)), Some(exact(mc, &r.unit)))
        }
        _ => (b, c),
    }
}

/// Whether two shown values say the same to a reader: `4 MiB` and `4.000 MiB` do.
fn reads_the_same(a: &str, b: &str) -> bool {
    let words = |s: &str| -> Vec<Result<f64, String>> {
        s.split_whitespace()
            .map(|w| w.parse::<f64>().map_err(|_| w.to_owned()))
            .collect()
    };
    words(a) == words(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_in_their_unit() {
        for (v, unit, want) in [
            (319_356_928.0, "bytes", "304.6 MiB"),
            (4_194_304.0, "bytes", "4 MiB"),
            (512.0, "bytes", "512 B"),
            (5_910_527.0, "ns", "5.911 ms"),
            (939_519.0, "ns", "939.5 µs"),
            (500.0, "ns", "500 ns"),
            (2210.0, "ms", "2210 ms"),
            (12_345.0, "ms", "12.35 s"),
            (1.0, "bool", "true"),
            (0.0, "bool", "false"),
            (3.0, "count", "3"),
            (1.605263, "ratio", "1.605"),
            (2.5, "%", "2.500%"),
            (64.0, "blocks", "64 blocks"),
            (676.3, "iops", "676.3 iops"),
        ] {
            assert_eq!(human(v, unit), want, "{v} {unit}");
        }
    }

    #[test]
    fn the_same_reading_is_by_number_not_by_digits() {
        assert!(reads_the_same("4 MiB", "4.000 MiB"));
        assert!(!reads_the_same("4 MiB", "4.001 MiB"));
        assert!(!reads_the_same("4 MiB", "4 GiB"));
        assert!(reads_the_same("passed", "passed"));
    }
}
