//! Parsing a pool's and a thin's status lines, what the sampler does every 250 ms during
//! a workload (and every step twice). It lives here, not with the workloads' benches,
//! because the parsers are the harness's. `cargo bench -p thinbench-harness --bench status`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use thinbench_harness::backend::status::{parse_pool_status, parse_thin_status};

fn status(c: &mut Criterion) {
    // As the 6.1 kernel prints them (a loop-lvm pool mid-run, and its thin).
    let pool = "5 1655/16384 1024/16384 - rw discard_passdown queue_if_no_space - 1024";
    let thin = "65536 131071";
    c.bench_function("status/thin-pool", |b| {
        b.iter(|| black_box(parse_pool_status(black_box(pool)).unwrap()))
    });
    c.bench_function("status/thin", |b| {
        b.iter(|| black_box(parse_thin_status(black_box(thin)).unwrap()))
    });
}

criterion_group!(benches, status);
criterion_main!(benches);
