//! `thin-pool` and `thin` table params → `PoolTable::parse` / `ThinTable::parse`. Never
//! panics; what parses prints back to text that parses to the same table.
#![no_main]

use libfuzzer_sys::fuzz_target;
use thinbench_harness::backend::table::{PoolTable, ThinTable};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(t) = PoolTable::parse(s) {
        let text = t.to_string();
        assert_eq!(PoolTable::parse(&text).as_ref(), Ok(&t), "{text:?}");
    }
    if let Ok(t) = ThinTable::parse(s) {
        let text = t.to_string();
        assert_eq!(ThinTable::parse(&text).as_ref(), Ok(&t), "{text:?}");
    }
});
