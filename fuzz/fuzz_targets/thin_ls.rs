//! `thin_ls` output → `parse_thin_ls`. Never panics; every line is a row, a blank, the
//! header, or an error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use thinbench_harness::backend::thin_tools::parse_thin_ls;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(rows) = parse_thin_ls(s) {
        assert!(rows.len() <= s.lines().count());
    }
});
