//! Number formatting shared by every renderer, so a figure reads the same in Markdown,
//! HTML, CSV and plot labels.

use thinbench_schema::units::Bytes;

/// Bytes in IEC units with three significant digits (`33.9 MiB`); exact below 1 KiB.
pub(crate) fn bytes(b: Bytes) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if b.0 < 1024 {
        return format!("{} B", b.0);
    }
    let mut v = b.0 as f64;
    let mut unit = "B";
    for u in UNITS {
        if v < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = u;
    }
    format!("{} {unit}", sig3(v))
}

/// Three significant digits, no exponent: `0.00123`, `1.23`, `12.3`, `123`, `12345`.
pub(crate) fn sig3(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".into();
    }
    let a = v.abs();
    let s = if a == 0.0 {
        "0".to_owned()
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        let decimals = (2 - a.log10().floor() as i32).clamp(3, 9) as usize;
        format!("{v:.decimals$}")
    };
    trim_zeros(s)
}

fn trim_zeros(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// A plain number for tables: integers as integers, others with three significant
/// digits.
pub(crate) fn num(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        sig3(v)
    }
}

/// A latency given in nanoseconds, shown in microseconds.
pub(crate) fn micros(ns: f64) -> String {
    sig3(ns / 1_000.0)
}

/// A percentage with one decimal.
pub(crate) fn pct(v: f64) -> String {
    format!("{v:.1}%")
}

/// A signed change in percent (`+12.3%`), or `n/a`.
pub(crate) fn change(c: Option<f64>) -> String {
    match c {
        Some(0.0) => "0%".into(),
        Some(c) => format!("{c:+.1}%"),
        None => "n/a".into(),
    }
}

/// A ratio (`1.23×`).
pub(crate) fn ratio(r: Option<f64>) -> String {
    r.map(|r| format!("{}×", sig3(r)))
        .unwrap_or_else(|| "n/a".into())
}

/// A metric value with its unit made human: bytes in IEC units, ns in µs/ms, ms in ms
/// or s; other units as `value unit`.
pub(crate) fn metric_value(v: f64, unit: &str) -> String {
    match unit {
        "bytes" if v >= 0.0 && v.fract() == 0.0 => bytes(Bytes(v as u64)),
        "ns" if v.abs() >= 1e6 => format!("{} ms", sig3(v / 1e6)),
        "ns" => format!("{} µs", sig3(v / 1e3)),
        "ms" if v.abs() >= 10_000.0 => format!("{} s", sig3(v / 1e3)),
        "ms" => format!("{} ms", num(v)),
        "ratio" => sig3(v),
        "percent" | "%" => format!("{}%", num(v)),
        "count" | "" => num(v),
        u => format!("{} {u}", num(v)),
    }
}

/// A plain machine-readable value for CSV cells.
pub(crate) fn raw(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_numbers() {
        assert_eq!(bytes(Bytes(512)), "512 B");
        assert_eq!(bytes(Bytes(64 << 10)), "64 KiB");
        assert_eq!(bytes(Bytes(543 * 65536)), "33.9 MiB");
        assert_eq!(bytes(Bytes(1 << 30)), "1 GiB");
        assert_eq!(sig3(504.259), "504");
        assert_eq!(sig3(2.0654), "2.07");
        assert_eq!(sig3(0.5779), "0.578");
        assert_eq!(sig3(0.001234), "0.00123");
        assert_eq!(num(64.0), "64");
        assert_eq!(micros(939_519.0), "940");
        assert_eq!(change(Some(12.345)), "+12.3%");
        assert_eq!(change(None), "n/a");
        assert_eq!(metric_value(2_705_407.0, "ns"), "2.71 ms");
        assert_eq!(metric_value(220_659_712.0, "bytes"), "210 MiB");
        assert_eq!(metric_value(1.605263, "ratio"), "1.61");
        assert_eq!(metric_value(3.0, "count"), "3");
        assert_eq!(metric_value(12.0, "blocks"), "12 blocks");
    }
}
