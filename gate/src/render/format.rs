//! Number and text formatting shared by the renderers.

/// A figure for a table: integers without decimals, others with four significant digits.
pub fn number(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    if x.fract() == 0.0 && x.abs() < 1e15 {
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

/// A relative change as a signed percentage.
pub fn pct(x: f64) -> String {
    if x.is_infinite() {
        return if x > 0.0 {
            "+∞".into()
        } else {
            "−∞".into()
        };
    }
    format!("{:+.1} %", x * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(number(64.0), "64");
        assert_eq!(number(-96.0), "-96");
        assert_eq!(number(504.259), "504.3");
        assert_eq!(number(2.065445), "2.065");
        assert_eq!(number(0.05779), "0.05779");
        assert_eq!(number(1234567.8), "1234568");
        assert_eq!(pct(0.2134), "+21.3 %");
        assert_eq!(pct(-0.05), "-5.0 %");
    }
}
