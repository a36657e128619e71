//! dm-thin status lines → typed values. Tolerant of older kernels that end after the
//! no-space policy field; strict about the fields it needs.

use thinbench_schema::record::{PoolMode, PoolUsage};
use thinbench_schema::units::{DataBlocks, MetaBlocks};

/// Parse a `thin-pool` status line (the params part, without start/length/type).
pub fn parse_pool_status(s: &str) -> Result<PoolUsage, String> {
    let s = s.trim();
    let mode_only = |mode| PoolUsage {
        transaction_id: 0,
        data_used: DataBlocks(0),
        data_total: DataBlocks(0),
        meta_used: MetaBlocks(0),
        meta_total: MetaBlocks(0),
        mode,
        needs_check: false,
        error_if_no_space: None,
    };
    match s {
        "Fail" => return Ok(mode_only(PoolMode::Fail)),
        "Error" => return Ok(mode_only(PoolMode::Error)),
        _ => {}
    }
    let f: Vec<&str> = s.split_whitespace().collect();
    if f.len() < 5 {
        return Err(format!(
            "thin-pool status `{s}` has {} fields, expected at least 5",
            f.len()
        ));
    }
    let num = |v: &str, what: &str| {
        v.parse::<u64>()
            .map_err(|_| format!("thin-pool status: {what} `{v}` is not a number"))
    };
    let frac = |v: &str, what: &str| -> Result<(u64, u64), String> {
        let (a, b) = v
            .split_once('/')
            .ok_or_else(|| format!("thin-pool status: {what} `{v}` is not used/total"))?;
        Ok((num(a, what)?, num(b, what)?))
    };
    let transaction_id = num(f[0], "transaction id")?;
    let (mu, mt) = frac(f[1], "metadata usage")?;
    let (du, dt) = frac(f[2], "data usage")?;
    let mode = match f[4] {
        "rw" => PoolMode::Rw,
        "ro" => PoolMode::Ro,
        "out_of_data_space" => PoolMode::OutOfDataSpace,
        other => return Err(format!("thin-pool status: unknown mode `{other}`")),
    };
    let error_if_no_space = f.iter().skip(5).find_map(|w| match *w {
        "error_if_no_space" => Some(true),
        "queue_if_no_space" => Some(false),
        _ => None,
    });
    Ok(PoolUsage {
        transaction_id,
        data_used: DataBlocks(du),
        data_total: DataBlocks(dt),
        meta_used: MetaBlocks(mu),
        meta_total: MetaBlocks(mt),
        mode,
        needs_check: f.iter().skip(5).any(|w| *w == "needs_check"),
        error_if_no_space,
    })
}

/// A `thin` status: mapped sectors and highest mapped sector (`None` when nothing is
/// mapped), or `None` overall for `Fail`.
pub fn parse_thin_status(s: &str) -> Result<Option<(u64, Option<u64>)>, String> {
    let s = s.trim();
    if s == "Fail" {
        return Ok(None);
    }
    let mut it = s.split_whitespace();
    let mapped = it
        .next()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("thin status `{s}`: no mapped-sectors field"))?;
    let highest = match it.next() {
        Some("-") | None => None,
        Some(v) => Some(
            v.parse()
                .map_err(|_| format!("thin status `{s}`: bad highest sector `{v}`"))?,
        ),
    };
    Ok(Some((mapped, highest)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_6_1_pool_status() {
        let u = parse_pool_status(
            "5 280/4161600 124/16384 - rw discard_passdown queue_if_no_space - 1024",
        )
        .unwrap();
        assert_eq!(u.transaction_id, 5);
        assert_eq!((u.meta_used.0, u.meta_total.0), (280, 4_161_600));
        assert_eq!((u.data_used.0, u.data_total.0), (124, 16_384));
        assert_eq!(u.mode, PoolMode::Rw);
        assert!(!u.needs_check);
        assert_eq!(u.error_if_no_space, Some(false));
    }

    #[test]
    fn parses_exhausted_and_needs_check() {
        let u = parse_pool_status(
            "9 300/512 16384/16384 - out_of_data_space no_discard_passdown error_if_no_space - 128",
        )
        .unwrap();
        assert_eq!(u.mode, PoolMode::OutOfDataSpace);
        assert_eq!(u.error_if_no_space, Some(true));
        let u = parse_pool_status(
            "9 512/512 10/16384 - ro discard_passdown queue_if_no_space needs_check 128",
        )
        .unwrap();
        assert_eq!((u.mode, u.needs_check), (PoolMode::Ro, true));
    }

    #[test]
    fn tolerates_old_kernels_and_fail() {
        let u = parse_pool_status("0 10/100 0/200 - rw discard_passdown").unwrap();
        assert_eq!(u.error_if_no_space, None);
        assert_eq!(parse_pool_status("Fail").unwrap().mode, PoolMode::Fail);
        assert_eq!(parse_pool_status("Error").unwrap().mode, PoolMode::Error);
    }

    #[test]
    fn rejects_garbage_with_the_field_named() {
        assert!(parse_pool_status("x 1/2 3/4 - rw")
            .unwrap_err()
            .contains("transaction id"));
        assert!(parse_pool_status("1 12 3/4 - rw")
            .unwrap_err()
            .contains("metadata usage"));
        assert!(parse_pool_status("1 1/2 3/4 - sideways")
            .unwrap_err()
            .contains("mode"));
        assert!(parse_pool_status("").is_err());
    }

    #[test]
    fn thin_status() {
        assert_eq!(parse_thin_status("0 -").unwrap(), Some((0, None)));
        assert_eq!(
            parse_thin_status("8192 1048575").unwrap(),
            Some((8192, Some(1_048_575)))
        );
        assert_eq!(parse_thin_status("Fail").unwrap(), None);
        assert!(parse_thin_status("abc").is_err());
    }
}
