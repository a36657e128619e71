//! Number formatting of the results readers, so a figure reads the same in every report,
//! gate table and plot label. Two precisions on purpose: reports show three significant
//! digits ([`sig3`], [`number`]); the gate's tables four ([`precise_number`]), where a 1 %
//! change must stay visible.

use crate::units::Bytes;

/// Bytes in IEC units with three significant digits (`33.9 MiB`); exact below 1 KiB.
pub fn bytes(b: Bytes) -> String {
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
pub fn sig3(v: f64) -> String {
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

fn is_integer(v: f64) -> bool {
    v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15
}

/// A plain number for report tables: integers as integers, others with three
/// significant digits.
pub fn number(v: f64) -> String {
    if is_integer(v) {
        format!("{v:.0}")
    } else {
        sig3(v)
    }
}

/// A figure for the gate's tables: integers without decimals, others with four
/// significant digits (not trimmed: `2.100`); non-finite values as Rust prints them.
pub fn precise_number(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    if is_integer(x) {
        return format!("{x:.0}");
    }
    let digits = if x == 0.0 {
        0
    } else {
        x.abs().log10().floor() as i32
    };
    let decimals = (3 - digits).clamp(0, 6) as usize;
    format!("{x:.decimals$}")
}

/// A latency given in nanoseconds, shown in microseconds.
pub fn micros(ns: f64) -> String {
    sig3(ns / 1_000.0)
}

/// A percentage (given in percent) with one decimal: `12.3%`.
pub fn percent(v: f64) -> String {
    format!("{v:.1}%")
}

/// A signed change given in percent (`+12.3%`), or `n/a`.
pub fn percent_change(c: Option<f64>) -> String {
    match c {
        Some(0.0) => "0%".into(),
        Some(c) => format!("{c:+.1}%"),
        None => "n/a".into(),
    }
}

/// A relative change given as a fraction (+0.2) as a signed percentage: `+20.0 %`,
/// `+∞` from zero.
pub fn relative_change(x: f64) -> String {
    if x.is_infinite() {
        return if x > 0.0 {
            "+∞".into()
        } else {
            "−∞".into()
        };
    }
    format!("{:+.1} %", x * 100.0)
}

/// A ratio (`1.23×`).
pub fn ratio(r: Option<f64>) -> String {
    r.map(|r| format!("{}×", sig3(r)))
        .unwrap_or_else(|| "n/a".into())
}

/// A metric value with its unit made human: bytes in IEC units, ns in µs/ms, ms in ms
/// or s; other units as `value unit`.
pub fn metric_value(v: f64, unit: &str) -> String {
    match unit {
        "bytes" if v >= 0.0 && v.fract() == 0.0 => bytes(Bytes(v as u64)),
        "ns" if v.abs() >= 1e6 => format!("{} ms", sig3(v / 1e6)),
        "ns" => format!("{} µs", sig3(v / 1e3)),
        "ms" if v.abs() >= 10_000.0 => format!("{} s", sig3(v / 1e3)),
        "ms" => format!("{} ms", number(v)),
        "ratio" => sig3(v),
        "percent" | "%" => format!("{}%", number(v)),
        "count" | "" => number(v),
        u => format!("{} {u}", number(v)),
    }
}

/// A plain machine-readable value for CSV cells: integers as integers, others in full.
pub fn raw(v: f64) -> String {
    if is_integer(v) {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_numbers() {
        assert_eq!(bytes(Bytes(512)), "512 B");
        assert_eq!(bytes(Bytes(64 << 10)), "64 KiB");
        assert_eq!(bytes(Bytes(543 * 65536)), "33.9 MiB");
        assert_eq!(bytes(Bytes(1 << 30)), "1 GiB");
        assert_eq!(sig3(504.259), "504");
        assert_eq!(sig3(2.0654), "2.07");
        assert_eq!(sig3(0.5779), "0.578");
        assert_eq!(sig3(0.001234), "0.00123");
        assert_eq!(sig3(f64::NAN), "n/a");
        assert_eq!(number(64.0), "64");
        assert_eq!(number(2.0654), "2.07");
        assert_eq!(micros(939_519.0), "940");
        assert_eq!(percent(12.345), "12.3%");
        assert_eq!(percent_change(Some(12.345)), "+12.3%");
        assert_eq!(percent_change(Some(0.0)), "0%");
        assert_eq!(percent_change(None), "n/a");
        assert_eq!(ratio(Some(1.605)), "1.6×");
        assert_eq!(ratio(None), "n/a");
        assert_eq!(metric_value(2_705_407.0, "ns"), "2.71 ms");
        assert_eq!(metric_value(220_659_712.0, "bytes"), "210 MiB");
        assert_eq!(metric_value(1.605263, "ratio"), "1.61");
        assert_eq!(metric_value(3.0, "count"), "3");
        assert_eq!(metric_value(12.0, "blocks"), "12 blocks");
        assert_eq!(raw(3.0), "3");
        assert_eq!(raw(0.25), "0.25");
    }

    #[test]
    fn gate_numbers() {
        assert_eq!(precise_number(64.0), "64");
        assert_eq!(precise_number(-96.0), "-96");
        assert_eq!(precise_number(504.259), "504.3");
        assert_eq!(precise_number(2.065445), "2.065");
        assert_eq!(precise_number(0.05779), "0.05779");
        assert_eq!(precise_number(1234567.8), "1234568");
        assert_eq!(relative_change(0.2134), "+21.3 %");
        assert_eq!(relative_change(-0.05), "-5.0 %");
        assert_eq!(relative_change(f64::INFINITY), "+∞");
    }
}
