//! Scenario text → `load_scenario_str` (TOML, raw tables, validation). Never panics; errors
//! are positioned inside the text; a plan loads the same twice, and what the backends
//! derive from a pool spec (loop-lvm's pool table) is a table the table parser reads back
//! with the chunk size the plan has.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use thinbench_harness::backend::loop_lvm::{features, low_water_mark, pool_params};
use thinbench_harness::backend::table::PoolTable;
use thinbench_harness::spec::PoolKindSpec;
use thinbench_harness::scenario::load_scenario_str;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("fuzz.toml");
    match load_scenario_str(path, text) {
        Err(e) => {
            assert!(!e.errors.is_empty(), "an error list must not be empty");
            let lines = text.split('\n').count();
            for err in &e.errors {
                assert!(
                    (1..=lines).contains(&err.line) && err.col >= 1,
                    "error outside the text ({lines} lines): {err:?}"
                );
                assert!(!err.message.contains('\n'), "multi-line message: {err:?}");
            }
            let _ = e.to_string();
        }
        Ok(plan) => {
            let again = load_scenario_str(path, text).expect("a plan loads twice");
            assert_eq!(plan, again);
            for pool in &plan.pools {
                let PoolKindSpec::LoopLvm(l) = &pool.kind else {
                    continue;
                };
                let blocks = pool.chunk.whole_blocks_in(l.data_size);
                assert!(blocks.0 >= 1, "a validated loop-lvm pool holds a chunk");
                let lwm = low_water_mark(pool.low_water_mark, blocks);
                assert!(lwm <= blocks);
                let params = pool_params("7:1", "7:0", pool, blocks);
                let t = PoolTable::parse(&params).expect("our own pool table parses");
                assert_eq!(t.block_sectors, pool.chunk.sectors().0);
                assert_eq!(t.features.len(), features(pool).len());
                assert_eq!(t.to_string(), params);
            }
            for step in &plan.steps {
                let _ = step.action.name();
                assert!(plan.pools.iter().any(|p| step.applies_to(&p.name)));
            }
        }
    }
});
