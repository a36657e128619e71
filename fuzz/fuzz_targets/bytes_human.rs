//! Human sizes → `Bytes::parse_human`. Never panics; what parses prints back (`human`)
//! to the same number of bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use thinbench_schema::units::Bytes;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(b) = Bytes::parse_human(s) {
        assert_eq!(Bytes::parse_human(&b.human()), Ok(b));
        let _ = b.approx();
    }
});
