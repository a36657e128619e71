//! The planner's translation of a fleet's write into the chunk ranges the extent model
//! takes (`simulate::chunk_ranges`) against the workloads' own offset generator, the one
//! a thinbench run issues: the same chunks, for sequential and random writes, sub-chunk
//! and multi-chunk IO, wrapping and repeating. With `thinbench-model`'s agreement test
//! (extent model = per-chunk model), a plan's counts are the kernel's oracle's.

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use thinbench_model::extent::chunk_ranges_of;
use thinbench_planner::fleet::{Amount, Pattern, Target, WriteSpec};
use thinbench_planner::simulate::chunk_ranges;
use thinbench_schema::units::Bytes;
use thinbench_workloads::{OffsetPattern, Offsets, Region};

const K: u64 = 1024;

/// The chunks the generator's IOs touch, sorted and coalesced into `(first, count)`.
fn chunks_of_ios(
    region: Region,
    pat: OffsetPattern,
    n: u64,
    io: u64,
    chunk: u64,
) -> Vec<(u64, u64)> {
    let cs: Vec<u64> = Offsets::new(region, pat)
        .take(n as usize)
        .flat_map(|o| o.0 / chunk..=(o.0 + io - 1) / chunk)
        .collect();
    chunk_ranges_of(cs)
}

#[test]
fn chunk_ranges_are_the_chunks_the_workload_touches() {
    let mut rng = Pcg64Mcg::seed_from_u64(7);
    for case in 0..2000 {
        let cb = [64u64, 128, 256][rng.gen_range(0..3)] * K;
        let thin_bytes = cb * 64;
        let io = [4 * K, 16 * K, cb, 2 * cb][rng.gen_range(0..4)];
        let slots = thin_bytes / io;
        let a = rng.gen_range(0..slots);
        let b = rng.gen_range(a + 1..=slots);
        let (off, span) = (Bytes(a * io), Bytes((b - a) * io));
        let random = rng.gen_bool(0.5);
        let n = rng.gen_range(1..3 * (b - a) + 2);
        let w = WriteSpec {
            target: Target::At(off),
            amount: Amount::Count(n),
            pattern: if random {
                Pattern::Random { seed: case }
            } else {
                Pattern::Sequential
            },
            io_size: Bytes(io),
            span: Some(span),
        };
        let pat = if random {
            OffsetPattern::Random { seed: case }
        } else {
            OffsetPattern::Sequential
        };
        let region = Region::new(off, span, Bytes(io)).unwrap();
        assert_eq!(
            chunk_ranges(&w, off, span, cb),
            chunks_of_ios(region, pat, n, io, cb),
            "case {case}: {n} IOs of {io} in [{a}, {b}) slots, chunk {cb}, random {random}"
        );
    }
}
