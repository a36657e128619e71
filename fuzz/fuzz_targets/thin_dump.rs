//! `thin_dump` XML → `parse_thin_dump` → `PoolModel::from_metadata`, as the `delete`
//! action resyncs its model. Never panics, and memory stays bounded by the pool's size
//! whatever lengths the text claims.
#![no_main]

use libfuzzer_sys::fuzz_target;
use thinbench_harness::backend::thin_tools::parse_thin_dump;
use thinbench_schema::units::{Bytes, ChunkSize, DataBlocks};
use thinbench_model::chunk::PoolModel;

/// A 1GiB pool of 64KiB chunks.
const POOL_BLOCKS: u64 = 16_384;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(dump) = parse_thin_dump(s, DataBlocks(POOL_BLOCKS)) else {
        return;
    };
    for t in &dump.thins {
        assert!(t.mappings.len() as u64 <= POOL_BLOCKS);
        assert!(t.mappings.iter().all(|m| m.1 < POOL_BLOCKS));
    }
    let chunk = ChunkSize::new(Bytes(64 * 1024)).expect("64KiB is a chunk size");
    if let Ok(m) = PoolModel::from_metadata(chunk, DataBlocks(POOL_BLOCKS), dump.time, &dump.thins)
    {
        assert!(m.data_blocks_used().0 <= POOL_BLOCKS);
    }
});
