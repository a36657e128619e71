//! The IO path's CPU work per IO, outside any device: stamping and verifying the
//! integrity pattern, recording a latency, counting a touched chunk, and the allocation
//! model's updates. `cargo bench -p thinbench-workloads --bench hot_paths`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use thinbench_model::chunk::PoolModel;
use thinbench_schema::ids::ThinId;
use thinbench_schema::units::{Bytes, ChunkSize, DataBlocks};
use thinbench_workloads::engine::AlignedBuf;
use thinbench_workloads::latency::LatencyRecorder;
use thinbench_workloads::pattern;

fn patterns(c: &mut Criterion) {
    let mut g = c.benchmark_group("pattern");
    for len in [4096usize, 65536] {
        let mut buf = AlignedBuf::new(len);
        g.throughput(Throughput::Bytes(len as u64));
        let mut off = 0u64;
        g.bench_with_input(BenchmarkId::new("stamp", len), &len, |b, _| {
            b.iter(|| {
                off = off.wrapping_add(len as u64);
                pattern::stamp(&mut buf, 7, Bytes(off), 3, 11);
            })
        });
        pattern::stamp(&mut buf, 7, Bytes(0), 3, 11);
        g.bench_with_input(BenchmarkId::new("verify", len), &len, |b, _| {
            b.iter(|| {
                for (i, s) in buf.chunks_exact(pattern::SECTOR).enumerate() {
                    black_box(pattern::verify(s, 7, Bytes(i as u64 * 512)).unwrap());
                }
            })
        });
    }
    g.finish();
}

fn histogram(c: &mut Criterion) {
    let mut r = LatencyRecorder::new();
    // Latencies spread over 1 µs .. 30 ms, as under TCG.
    let lat: Vec<Duration> = (0..1024u64)
        .map(|i| Duration::from_nanos(1_000 + (i * 2_654_435_761) % 30_000_000))
        .collect();
    let mut i = 0;
    c.bench_function("latency/record", |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            r.record(black_box(lat[i]));
        })
    });
    c.bench_function("latency/summary", |b| b.iter(|| black_box(r.summary())));
}

fn model(c: &mut Criterion) {
    let chunk = ChunkSize::new(Bytes(64 * 1024)).unwrap();
    let id = ThinId::new(1).unwrap();
    let snap = ThinId::new(2).unwrap();
    let mut g = c.benchmark_group("model");
    // A 4 KiB write to an already mapped chunk: the common case of a benchmark.
    let mut m = PoolModel::new(chunk, DataBlocks(1 << 20));
    m.create_thin(id).unwrap();
    m.write(id, Bytes(0), Bytes(64 << 20)).unwrap();
    let mut k = 0u64;
    g.bench_function("write 4KiB, provisioned", |b| {
        b.iter(|| {
            k = (k + 4096 * 17) % (64 << 20);
            black_box(m.write(id, Bytes(k), Bytes(4096)).unwrap());
        })
    });
    // A first write to a chunk shared with a snapshot (CoW), then the snapshot dropped.
    g.bench_function("snapshot + 16 CoW writes + delete", |b| {
        b.iter(|| {
            m.create_snap(snap, id).unwrap();
            for j in 0..16u64 {
                black_box(m.write(snap, Bytes(j * 65536 * 7), Bytes(4096)).unwrap());
            }
            m.delete(snap).unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, patterns, histogram, model);
criterion_main!(benches);
