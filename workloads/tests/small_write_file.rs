//! `small-write` end to end on a sparse file standing in for a thin device: write,
//! verify every sector, damage sectors in known ways and check verification names
//! exactly those, and check the allocation model agrees with the chunks the workload
//! counted. No root needed.

use std::collections::BTreeSet;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::AtomicBool;

use thinbench_model::PoolModel;
use thinbench_schema::ids::ThinId;
use thinbench_schema::units::{Bytes, ChunkSize, DataBlocks};
use thinbench_workloads::pattern::{self, Corruption, Mismatch};
use thinbench_workloads::{
    small_write, verify_writes, Device, Limit, OffsetPattern, Offsets, Region, SmallWriteParams,
    WorkloadError,
};

const SPAN: u64 = 64 << 20;
const IO: u64 = 4096;
const CHUNK: u64 = 64 << 10;
const DEV_ID: u64 = 3;
const SEED: u64 = 11;

/// A sparse file of `SPAN` bytes, opened with O_DIRECT when the filesystem allows it.
fn sparse_device(dir: &Path) -> (Device, std::path::PathBuf) {
    let path = dir.join("thin");
    std::fs::File::create(&path).unwrap().set_len(SPAN).unwrap();
    let dev = match Device::open(&path, true) {
        Ok(d) => d,
        Err(WorkloadError::Open { source, .. }) if source.raw_os_error() == Some(libc::EINVAL) => {
            eprintln!(
                "O_DIRECT refused on {} ({source}): running buffered; set TMPDIR to a disk filesystem to test O_DIRECT",
                path.display()
            );
            Device::open(&path, false).unwrap()
        }
        Err(e) => panic!("{e}"),
    };
    (dev, path)
}

fn params(dev: &Device, pattern: OffsetPattern, io: u64, limit: Limit) -> SmallWriteParams {
    let mut p = SmallWriteParams::new(ChunkSize::new(Bytes(CHUNK)).unwrap(), Bytes(SPAN));
    p.io_size = Bytes(io);
    p.offsets = pattern;
    p.limit = limit;
    p.device_id = DEV_ID;
    p.generation = 1;
    p.seed = SEED;
    p.direct = dev.is_direct();
    p.record_writes = true;
    p
}

fn thin() -> ThinId {
    ThinId::new(1).unwrap()
}

/// Overwrite with a plain buffered write, as a stray writer would.
fn poke(path: &Path, offset: u64, data: &[u8]) {
    let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.write_all_at(data, offset).unwrap();
    f.sync_data().unwrap();
}

fn stamped_sector(offset: u64, generation: u64) -> Vec<u8> {
    let mut s = vec![0u8; 512];
    pattern::stamp(&mut s, DEV_ID, Bytes(offset), generation, SEED);
    s
}

#[test]
fn small_write_verify_and_detect_damage() {
    let dir = tempfile::tempdir().unwrap();
    let (mut dev, path) = sparse_device(dir.path());
    let p = params(
        &dev,
        OffsetPattern::Random { seed: 7 },
        IO,
        Limit::Count(2000),
    );
    let mut calls = 0;
    let out = small_write::run(&mut dev, &p, &mut |_| calls += 1, &AtomicBool::new(false)).unwrap();

    let s = &out.stats;
    assert_eq!((s.ops, s.errors, s.first_error.as_deref()), (2000, 0, None));
    assert_eq!(s.bytes, Bytes(2000 * IO));
    assert!(!out.interrupted);
    assert!(out.sync_elapsed.is_some());
    assert!(s.iops > 0.0 && s.mb_per_s > 0.0 && s.elapsed_ns > 0);
    assert_eq!(s.latency.count, 2000);
    assert!(s.latency.min_ns <= s.latency.p50_ns && s.latency.p50_ns <= s.latency.max_ns);
    assert_eq!(out.writes.len(), 2000);

    // The chunk count, recomputed from the writes.
    let chunks: BTreeSet<u64> = out.writes.iter().map(|(o, _)| o.0 / CHUNK).collect();
    assert!(out.chunks_touched.iter().eq(chunks.iter().copied()));
    assert_eq!(s.distinct_chunks_touched, chunks.len() as u64);
    // Random with replacement over 16384 slots: 2000 draws repeat some offsets.
    let distinct: BTreeSet<u64> = out.writes.iter().map(|(o, _)| o.0).collect();
    assert!(
        distinct.len() < 2000,
        "expected repeats, got {} distinct",
        distinct.len()
    );

    // Everything written reads back intact.
    let writes: Vec<(Bytes, Bytes, u64)> = out.writes.iter().map(|&(o, l)| (o, l, 1)).collect();
    let r = verify_writes(&dev, &writes, DEV_ID).unwrap();
    assert!(r.is_clean(), "{r:?}");
    assert_eq!(r.checked_sectors, distinct.len() as u64 * (IO / 512));

    let mut offs = distinct.iter().copied();
    let (a, b, c, d) = (
        offs.next().unwrap(),
        offs.next().unwrap(),
        offs.next().unwrap(),
        offs.next().unwrap(),
    );

    // 1. Garbage over the second sector of one write: exactly that sector is corrupt.
    poke(&path, a + 512, &[0xee; 512]);
    let r = verify_writes(&dev, &writes, DEV_ID).unwrap();
    assert_eq!(r.mismatch_count, 1, "{r:?}");
    assert_eq!(
        r.mismatches,
        [(
            Bytes(a + 512),
            Mismatch::Corrupt {
                kind: Corruption::BadMagic
            }
        )]
    );
    poke(&path, a + 512, &stamped_sector(a + 512, 1));
    assert!(verify_writes(&dev, &writes, DEV_ID).unwrap().is_clean());

    // 2. A valid sector meant for `b` lands at `a`: misdirected.
    poke(&path, a, &stamped_sector(b, 1));
    let r = verify_writes(&dev, &writes, DEV_ID).unwrap();
    assert_eq!(
        r.mismatches,
        [(Bytes(a), Mismatch::WrongOffset { found: Bytes(b) })]
    );
    poke(&path, a, &stamped_sector(a, 1));

    // 3. One write's range zeroed (as a discard would leave it): 8 zeroed sectors.
    poke(&path, c, &[0u8; IO as usize]);
    let r = verify_writes(&dev, &writes, DEV_ID).unwrap();
    let want: Vec<(Bytes, Mismatch)> = (0..IO / 512)
        .map(|i| (Bytes(c + i * 512), Mismatch::Zeroed))
        .collect();
    assert_eq!(r.mismatches, want);
    poke(&path, c, &{
        let mut v = vec![0u8; IO as usize];
        pattern::stamp(&mut v, DEV_ID, Bytes(c), 1, SEED);
        v
    });

    // 4. The back half of a sector from a later generation: torn.
    poke(&path, d + 256, &stamped_sector(d, 2)[256..]);
    let r = verify_writes(&dev, &writes, DEV_ID).unwrap();
    assert_eq!(r.mismatch_count, 1, "{r:?}");
    assert!(
        matches!(r.mismatches[0], (at, Mismatch::Torn { first_bad_byte, .. }) if at == Bytes(d) && (256..264).contains(&first_bad_byte))
    );
    poke(&path, d, &stamped_sector(d, 1));
    assert!(verify_writes(&dev, &writes, DEV_ID).unwrap().is_clean());

    // The allocation model, fed the same offset stream on a fresh thin, allocates one
    // block per chunk the workload counted.
    let mut model = PoolModel::new(p.chunk, DataBlocks(SPAN / CHUNK));
    model.create_thin(thin()).unwrap();
    let region = Region::new(p.offset, p.span, p.io_size).unwrap();
    for off in Offsets::new(region, p.offsets).take(2000) {
        let e = model.write(thin(), off, p.io_size).unwrap();
        assert_eq!(e.no_space, 0);
    }
    assert_eq!(
        model.data_blocks_used(),
        DataBlocks(out.chunks_touched.len())
    );
    assert_eq!(
        model.mapped(thin()).unwrap(),
        DataBlocks(s.distinct_chunks_touched)
    );
    // The offsets the device saw are that same stream.
    let seen: Vec<Bytes> = out.writes.iter().map(|&(o, _)| o).collect();
    let replay: Vec<Bytes> = Offsets::new(region, p.offsets).take(2000).collect();
    assert_eq!(seen, replay);
}

#[test]
fn sequential_straddling_ios_agree_with_model() {
    // 96 KiB IOs do not divide 64 KiB chunks: every other IO straddles a boundary.
    let dir = tempfile::tempdir().unwrap();
    let (mut dev, _path) = sparse_device(dir.path());
    let io = 96 << 10;
    let p = params(
        &dev,
        OffsetPattern::Sequential,
        io,
        Limit::Bytes(Bytes(10 * io)),
    );
    let out = small_write::run(&mut dev, &p, &mut |_| {}, &AtomicBool::new(false)).unwrap();
    assert_eq!(out.stats.ops, 10);
    // 960 KiB from 0 covers chunks 0..15.
    assert_eq!(
        out.chunks_touched
            .ranges()
            .map(|r| (r.start, r.end))
            .collect::<Vec<_>>(),
        [(0, 15)]
    );

    let mut model = PoolModel::new(p.chunk, DataBlocks(SPAN / CHUNK));
    model.create_thin(thin()).unwrap();
    for &(off, len) in &out.writes {
        model.write(thin(), off, len).unwrap();
    }
    assert_eq!(
        model.data_blocks_used(),
        DataBlocks(out.chunks_touched.len())
    );

    let writes: Vec<_> = out.writes.iter().map(|&(o, l)| (o, l, 1)).collect();
    assert!(verify_writes(&dev, &writes, DEV_ID).unwrap().is_clean());
}

#[test]
fn stop_flag_ends_a_real_run_early() {
    let dir = tempfile::tempdir().unwrap();
    let (mut dev, _path) = sparse_device(dir.path());
    let p = params(&dev, OffsetPattern::Sequential, IO, Limit::Count(100));
    let out = small_write::run(&mut dev, &p, &mut |_| {}, &AtomicBool::new(true)).unwrap();
    assert!(out.interrupted);
    assert_eq!((out.stats.ops, out.chunks_touched.len()), (0, 0));
}
