//! Sizes, durations and rates in the one grammar (`thinbench_schema::grammar`, which every
//! file and flag reads them with). Never panics; what parses prints back to the same
//! quantity (`Bytes::human`, `format_duration`); every refusal has a message and a hint,
//! each one line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use thinbench_schema::grammar::{format_duration, parse_duration, parse_rate, parse_size};

fn one_line(e: &thinbench_schema::grammar::UnitError) {
    assert!(!e.message.is_empty() && !e.hint.is_empty(), "{e:?}");
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    match parse_size(s) {
        Ok(b) => {
            assert_eq!(parse_size(&b.human()), Ok(b));
            let _ = b.approx();
        }
        Err(e) => {
            one_line(&e);
            if let Some(whole) = e.hint.strip_prefix("use ") {
                assert!(parse_size(whole).is_ok(), "{s:?}: {}", e.hint);
            }
        }
    }
    match parse_duration(s) {
        Ok(d) => assert_eq!(parse_duration(&format_duration(d)), Ok(d), "{s:?}"),
        Err(e) => {
            one_line(&e);
            // A decimal's hint is its whole form, which must read back.
            if let Some(whole) = e.hint.strip_prefix("use ") {
                assert!(parse_duration(whole).is_ok(), "{s:?}: {}", e.hint);
            }
        }
    }
    match parse_rate(s) {
        Ok((_, per)) => assert!(!per.is_zero()),
        Err(e) => one_line(&e),
    }
});
