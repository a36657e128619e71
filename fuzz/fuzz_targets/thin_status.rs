//! A `thin` status line → `parse_thin_status`. Never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use thinbench_harness::backend::status::parse_thin_status;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let r = parse_thin_status(s);
    assert_eq!(r, parse_thin_status(&format!("\t{s} ")));
});
