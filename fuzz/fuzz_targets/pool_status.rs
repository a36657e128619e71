//! A `thin-pool` status line → `parse_pool_status`. Never panics; surrounding
//! whitespace does not change the result.
#![no_main]

use libfuzzer_sys::fuzz_target;
use thinbench_harness::backend::status::parse_pool_status;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let r = parse_pool_status(s);
    assert_eq!(r, parse_pool_status(&format!(" {s}\n")));
    if let Ok(u) = r {
        let _ = u.mode.as_str();
    }
});
