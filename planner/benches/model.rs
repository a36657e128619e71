//! The extent model's hot path: a container's life (snapshot of an image, CoW overwrites,
//! appended new data, delete) against an image of 10,240 chunks in a pool of 1,000
//! containers.

use criterion::{criterion_group, criterion_main, Criterion};
use thinbench_model::extent::ExtentPool;

fn pool_with_containers(n: u32) -> ExtentPool {
    let mut p = ExtentPool::new();
    p.create_thin(1).unwrap();
    p.write(1, &[(0, 10_240)]).unwrap();
    for c in 0..n {
        p.create_snap(100 + c, 1).unwrap();
        p.write(100 + c, &[(5, 3), (900, 1), (4000, 16), (10_240, 1024)])
            .unwrap();
    }
    p
}

fn container_life(c: &mut Criterion) {
    let mut p = pool_with_containers(1000);
    let mut next = 10_000u32;
    c.bench_function(
        "container: snap + 4 CoW/new ranges + append + delete",
        |b| {
            b.iter(|| {
                next += 1;
                p.create_snap(next, 1).unwrap();
                p.write(next, &[(5, 3), (900, 1), (4000, 16), (10_240, 1024)])
                    .unwrap();
                p.write(next, &[(11_264, 256)]).unwrap();
                p.delete(next).unwrap()
            })
        },
    );
    let ranges: Vec<(u64, u64)> = (0..2000u64).map(|i| (i * 5 % 10_240, 1)).collect();
    let mut ranges = ranges;
    ranges.sort_unstable();
    ranges.dedup();
    c.bench_function(
        "random write: 2000 single-chunk ranges into a snapshot",
        |b| {
            b.iter(|| {
                next += 1;
                p.create_snap(next, 1).unwrap();
                p.write(next, &ranges).unwrap();
                p.delete(next).unwrap()
            })
        },
    );
}

criterion_group!(benches, container_life);
criterion_main!(benches);
