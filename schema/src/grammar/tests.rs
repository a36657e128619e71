//! The grammar, case by case: what parses to what, and what each mistake says.

use super::*;

fn size(s: &str) -> Result<u64, UnitError> {
    parse_size(s).map(|b| b.0)
}

fn dur(s: &str) -> Result<Duration, UnitError> {
    parse_duration(s)
}

#[test]
fn sizes() {
    let cases: &[(&str, u64)] = &[
        ("4096", 4096),
        ("4096B", 4096),
        ("8s", 4096),
        ("64KiB", 64 << 10),
        ("64K", 64 << 10),
        ("64k", 64 << 10),
        ("512MiB", 512 << 20),
        ("512 MiB", 512 << 20),
        (" 1GiB ", 1 << 30),
        ("1G", 1 << 30),
        ("2TiB", 2 << 40),
        ("1PiB", 1 << 50),
        ("1EiB", 1 << 60),
        ("1_000kB", 1_000_000),
        ("1KB", 1000),
        ("1MB", 1_000_000),
        ("1GB", 1_000_000_000),
        ("1TB", 1_000_000_000_000),
        ("1PB", 1_000_000_000_000_000),
        ("1EB", 1_000_000_000_000_000_000),
        ("0", 0),
    ];
    for (s, want) in cases {
        assert_eq!(size(s), Ok(*want), "{s}");
    }
}

#[test]
fn every_binary_unit_has_its_decimal_twin() {
    // The promise of the issue: PiB and PB, EiB and EB, or neither.
    for (bin, dec) in [
        ("KiB", "kB"),
        ("MiB", "MB"),
        ("GiB", "GB"),
        ("TiB", "TB"),
        ("PiB", "PB"),
        ("EiB", "EB"),
    ] {
        assert!(size(&format!("1{bin}")).is_ok(), "{bin}");
        assert!(size(&format!("1{dec}")).is_ok(), "{dec}");
    }
}

#[test]
fn size_mistakes_say_how_to_write_them() {
    let e = size("1.5GiB").unwrap_err();
    assert_eq!(e.message, "`1.5GiB`: sizes are whole numbers, not decimals");
    assert_eq!(e.hint, "use 1536MiB");
    assert_eq!(size("0.5KiB").unwrap_err().hint, "use 512B");
    assert_eq!(size("2.5GB").unwrap_err().hint, "use 2500MB");
    assert_eq!(size("1.0GiB").unwrap_err().hint, "use 1GiB");
    assert_eq!(
        size("0.1KiB").unwrap_err().hint,
        "it is not a whole number of bytes"
    );
    let e = size("1gib").unwrap_err();
    assert_eq!(e.message, "`1gib`: unknown size unit `gib`");
    assert_eq!(e.hint, "did you mean `GiB`? units are case-sensitive");
    assert!(size("1mb").unwrap_err().hint.contains("`MB`"));
    assert!(size("1Kib").unwrap_err().hint.contains("`KiB`"));
    let e = size("12 furlongs").unwrap_err();
    assert!(e.message.contains("unknown size unit `furlongs`"), "{e}");
    assert!(e.hint.contains("PB, EB"), "{e}");
    assert!(size("MiB").unwrap_err().message.contains("not a size"));
    assert!(size("").is_err());
    assert!(size("-1GiB").is_err());
    assert!(size("1GiB/d")
        .unwrap_err()
        .message
        .contains("unexpected `/d`"));
    assert!(size("16EiB").unwrap_err().message.contains("too large"));
    assert!(size("99999999999999999999")
        .unwrap_err()
        .message
        .contains("too large"));
    assert!(size("100.5EiB").unwrap_err().message.contains("too large"));
}

#[test]
fn durations() {
    let s = Duration::from_secs;
    let cases: &[(&str, Duration)] = &[
        ("90s", s(90)),
        ("20m", s(1200)),
        ("20 m", s(1200)),
        ("1h", s(3600)),
        ("1h30m", s(5400)),
        ("1h 30m 10s", s(5410)),
        ("90d", s(90 * 86_400)),
        ("2w", s(14 * 86_400)),
        ("1w2d", s(9 * 86_400)),
        ("1d12h", s(36 * 3600)),
        ("250ms", Duration::from_millis(250)),
        ("1s500ms", Duration::from_millis(1500)),
        ("50us", Duration::from_micros(50)),
        ("50µs", Duration::from_micros(50)),
        ("7ns", Duration::from_nanos(7)),
        ("7 ns", Duration::from_nanos(7)),
        ("0s", Duration::ZERO),
    ];
    for (t, want) in cases {
        assert_eq!(dur(t), Ok(*want), "{t}");
    }
}

#[test]
fn duration_mistakes_say_how_to_write_them() {
    let e = dur("1.5h").unwrap_err();
    assert_eq!(
        e.message,
        "`1.5h`: durations are whole numbers, not decimals"
    );
    assert_eq!(e.hint, "use 90m");
    assert_eq!(dur("1.5s").unwrap_err().hint, "use 1500ms");
    assert_eq!(dur("1.5ms").unwrap_err().hint, "use 1500us");
    assert_eq!(dur("0.5d").unwrap_err().hint, "use 12h");
    assert_eq!(dur("1h0.5m").unwrap_err().hint, "use 3630s");
    let e = dur("20M").unwrap_err();
    assert_eq!(e.hint, "did you mean `m`? units are case-sensitive");
    assert!(dur("1H").unwrap_err().hint.contains("`h`"));
    assert!(dur("5MS").unwrap_err().hint.contains("`ms`"));
    assert!(dur("5 minutes")
        .unwrap_err()
        .hint
        .starts_with("did you mean `m`?"));
    assert!(dur("2days")
        .unwrap_err()
        .hint
        .starts_with("did you mean `d`?"));
    let e = dur("600").unwrap_err();
    assert_eq!(e.message, "`600` has no unit after 600");
    assert!(e.hint.contains("\"600s\""));
    assert!(dur("").is_err());
    assert!(dur("h").unwrap_err().message.contains("expected a number"));
    assert!(dur("30m1h")
        .unwrap_err()
        .message
        .contains("largest to the smallest"));
    assert!(dur("1m1m").is_err());
    assert!(dur("1us1µs").is_err());
    assert!(dur("1ms1ns").is_ok());
    assert!(dur("999999999999w")
        .unwrap_err()
        .message
        .contains("too long"));
    assert!(dur("5 parsecs")
        .unwrap_err()
        .message
        .contains("unknown duration unit"));
}

#[test]
fn formats_round_trip() {
    for t in [
        "1h30m", "250ms", "90d", "2w", "1d12h", "50us", "7ns", "0s", "1m1s1ms",
    ] {
        let d = dur(t).unwrap();
        assert_eq!(dur(&format_duration(d)), Ok(d), "{t}");
    }
    assert_eq!(format_duration(Duration::from_secs(5400)), "1h30m");
    assert_eq!(format_duration(Duration::from_secs(8 * 86_400)), "1w1d");
}

#[test]
fn rates() {
    assert_eq!(
        parse_rate("1GiB/d"),
        Ok((Bytes(1 << 30), Duration::from_secs(86_400)))
    );
    assert_eq!(
        parse_rate("1MiB/h"),
        Ok((Bytes(1 << 20), Duration::from_secs(3600)))
    );
    assert_eq!(
        parse_rate("1MiB/2h"),
        Ok((Bytes(1 << 20), Duration::from_secs(7200)))
    );
    assert_eq!(parse_rate("1.5GiB/d").unwrap_err().hint, "use 1536MiB");
    assert!(parse_rate("1GiB/0s")
        .unwrap_err()
        .message
        .contains("above zero"));
    assert!(parse_rate("1GiB")
        .unwrap_err()
        .message
        .contains("not a rate"));
    assert!(parse_rate("1GiB/D").unwrap_err().hint.contains("`d`"));
}

/// The fuzz target's properties (fuzz/fuzz_targets/bytes_human.rs) over a generated
/// corpus, so that `cargo test` checks them too: no panic, what parses prints back to
/// the same quantity, every refusal has a message and a hint, and a "use N" hint parses.
#[test]
fn properties_hold_over_generated_inputs() {
    const PARTS: &[&str] = &[
        "0",
        "1",
        "5",
        "9",
        "10",
        "64",
        "999",
        "18446744073709551615",
        "_",
        ".",
        ".5",
        " ",
        "/",
        "B",
        "s",
        "K",
        "k",
        "KiB",
        "kib",
        "MiB",
        "M",
        "m",
        "GiB",
        "GB",
        "gb",
        "TiB",
        "PiB",
        "PB",
        "EiB",
        "EB",
        "E",
        "ms",
        "us",
        "µs",
        "ns",
        "h",
        "H",
        "d",
        "w",
        "sec",
        "min",
        "-",
        "x",
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..100_000 {
        let n = 1 + next() % 6;
        let s: String = (0..n)
            .map(|_| PARTS[(next() % PARTS.len() as u64) as usize])
            .collect();
        match parse_size(&s) {
            Ok(b) => assert_eq!(parse_size(&b.human()), Ok(b), "{s:?}"),
            Err(e) => {
                assert!(!e.message.is_empty() && !e.hint.is_empty(), "{s:?}");
                if let Some(w) = e.hint.strip_prefix("use ") {
                    assert!(parse_size(w).is_ok(), "{s:?}: {}", e.hint);
                }
            }
        }
        match parse_duration(&s) {
            Ok(d) => assert_eq!(parse_duration(&format_duration(d)), Ok(d), "{s:?}"),
            Err(e) => {
                assert!(!e.message.is_empty() && !e.hint.is_empty(), "{s:?}");
                if let Some(w) = e.hint.strip_prefix("use ") {
                    assert!(parse_duration(w).is_ok(), "{s:?}: {}", e.hint);
                }
            }
        }
        if let Ok((_, per)) = parse_rate(&s) {
            assert!(!per.is_zero(), "{s:?}");
        }
    }
}
