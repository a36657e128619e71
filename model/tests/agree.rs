//! The extent model against the per-chunk reference model: random small fleets of
//! create / snapshot / write (sequential and random, sub-chunk and whole-chunk IO) /
//! discard / delete, both models fed the same operations; the pool's used data blocks,
//! each thin's mapped chunks and exclusive blocks must agree after every operation.
//! (The planner's translation of a fleet's writes into chunk ranges is checked against
//! the workloads' offsets in `planner/tests/chunk_ranges.rs`.)

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use thinbench_model::extent::{chunk_ranges_of, ExtentPool};
use thinbench_model::PoolModel;
use thinbench_schema::ids::ThinId;
use thinbench_schema::units::{Bytes, ChunkSize, DataBlocks};

const K: u64 = 1024;

fn tid(n: u32) -> ThinId {
    ThinId::new(u64::from(n)).unwrap()
}

/// The chunks `ios` (offsets of `io` bytes each) touch, as sorted, coalesced
/// `(first, count)` ranges: what the extent model takes.
fn touched(ios: &[u64], io: u64, chunk: u64) -> Vec<(u64, u64)> {
    let cs: Vec<u64> = ios
        .iter()
        .flat_map(|o| o / chunk..=(o + io - 1) / chunk)
        .collect();
    chunk_ranges_of(cs)
}

fn one_fleet(seed: u64) {
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    let chunk_k = [64u64, 128, 256][rng.gen_range(0..3)];
    let cb = chunk_k * K;
    let thin_bytes = cb * 64;
    let mut per_chunk = PoolModel::new(ChunkSize::new(Bytes(cb)).unwrap(), DataBlocks(1 << 30));
    let mut ext = ExtentPool::new();
    let mut live: Vec<u32> = Vec::new();
    let mut next = 0u32;
    for step in 0..60 {
        let op = if live.is_empty() {
            0
        } else {
            rng.gen_range(0..10)
        };
        let ctx = format!("seed {seed} step {step} op {op} chunk {chunk_k}KiB");
        match op {
            0 => {
                next += 1;
                per_chunk.create_thin(tid(next)).unwrap();
                ext.create_thin(next).unwrap();
                live.push(next);
            }
            1 | 2 => {
                let o = live[rng.gen_range(0..live.len())];
                next += 1;
                per_chunk.create_snap(tid(next), tid(o)).unwrap();
                ext.create_snap(next, o).unwrap();
                live.push(next);
            }
            3..=6 => {
                let t = live[rng.gen_range(0..live.len())];
                let io = [4 * K, 16 * K, cb, 2 * cb][rng.gen_range(0..4)];
                let slots = thin_bytes / io;
                let a = rng.gen_range(0..slots);
                let b = rng.gen_range(a + 1..=slots);
                let random = rng.gen_bool(0.5);
                let n = rng.gen_range(1..40);
                // The IOs: consecutive slots from `a`, or random slots in [a, b).
                let ios: Vec<u64> = (0..n)
                    .map(|i| {
                        let slot = if random {
                            rng.gen_range(a..b)
                        } else {
                            a + i % (b - a)
                        };
                        slot * io
                    })
                    .collect();
                // Per chunk: every IO, as the harness feeds the oracle.
                let mut allocated = 0;
                let mut released = 0;
                for &o in &ios {
                    let e = per_chunk.write(tid(t), Bytes(o), Bytes(io)).unwrap();
                    allocated += e.allocated().0;
                    released += e.released.0;
                }
                let e = ext.write(t, &touched(&ios, io, cb)).unwrap();
                assert_eq!(
                    (e.allocated(), e.released),
                    (allocated, released),
                    "{ctx}: write effect"
                );
            }
            7 => {
                let t = live[rng.gen_range(0..live.len())];
                let a = rng.gen_range(0..thin_bytes);
                let len = rng.gen_range(1..=thin_bytes - a);
                let e1 = per_chunk.discard(tid(t), Bytes(a), Bytes(len)).unwrap();
                let (ca, cbnd) = (a.div_ceil(cb), (a + len) / cb);
                let e2 = if cbnd > ca {
                    ext.discard(t, ca, cbnd - ca).unwrap()
                } else {
                    Default::default()
                };
                assert_eq!(
                    (e1.unmapped.0, e1.freed.0),
                    (e2.provisioned, e2.freed),
                    "{ctx}: discard"
                );
            }
            _ => {
                let i = rng.gen_range(0..live.len());
                let t = live.swap_remove(i);
                let f1 = per_chunk.delete(tid(t)).unwrap();
                let f2 = ext.delete(t).unwrap();
                assert_eq!(f1.0, f2, "{ctx}: delete frees");
            }
        }
        assert_eq!(per_chunk.data_blocks_used().0, ext.used(), "{ctx}: used");
        for &t in &live {
            let u = per_chunk.usage(tid(t)).unwrap();
            assert_eq!(u.mapped.0, ext.mapped(t).unwrap(), "{ctx}: mapped of {t}");
            assert_eq!(
                u.exclusive.0,
                ext.exclusive(t).unwrap(),
                "{ctx}: exclusive of {t}"
            );
        }
    }
}

#[test]
fn extent_model_equals_per_chunk_model_on_random_fleets() {
    for seed in 0..400 {
        one_fleet(seed);
    }
}
