use super::*;

/// Writes logs in the kernel's format (dm-log-writes.c `log_one_block`, `log_super`).
struct LogBuilder {
    bs: usize,
    body: Vec<u8>,
    count: u64,
}

impl LogBuilder {
    fn new(bs: usize) -> LogBuilder {
        LogBuilder {
            bs,
            body: Vec::new(),
            count: 0,
        }
    }

    /// One raw entry: header block (fields, `extra` after them), then `data`.
    fn raw(&mut self, fields: [u64; 4], extra: &[u8], data: &[u8]) -> &mut Self {
        let mut hdr = vec![0u8; self.bs];
        for (i, f) in fields.iter().enumerate() {
            hdr[i * 8..i * 8 + 8].copy_from_slice(&f.to_le_bytes());
        }
        hdr[ENTRY_LEN..ENTRY_LEN + extra.len()].copy_from_slice(extra);
        self.body.extend_from_slice(&hdr);
        self.body.extend_from_slice(data);
        self.count += 1;
        self
    }

    fn write(&mut self, sector: u64, data: &[u8], flags: Flags) -> &mut Self {
        assert_eq!(data.len() % self.bs, 0);
        let n = (data.len() / self.bs) as u64;
        self.raw([sector, n, flags.0, 0], &[], data)
    }

    fn flush(&mut self) -> &mut Self {
        self.raw([0, 0, Flags::FLUSH.0, 0], &[], &[])
    }

    fn discard(&mut self, sector: u64, n: u64) -> &mut Self {
        self.raw([sector, n, Flags::DISCARD.0, 0], &[], &[])
    }

    fn mark(&mut self, label: &str) -> &mut Self {
        let l = label.as_bytes();
        self.raw([0, 0, Flags::MARK.0, l.len() as u64], l, &[])
    }

    fn build_with(&self, nr_entries: u64) -> Vec<u8> {
        let mut sb = vec![0u8; self.bs];
        sb[0..8].copy_from_slice(&LOG_MAGIC.to_le_bytes());
        sb[8..16].copy_from_slice(&LOG_VERSION.to_le_bytes());
        sb[16..24].copy_from_slice(&nr_entries.to_le_bytes());
        sb[24..28].copy_from_slice(&(self.bs as u32).to_le_bytes());
        sb.extend_from_slice(&self.body);
        sb
    }

    fn build(&self) -> Vec<u8> {
        self.build_with(self.count)
    }
}

/// `blocks` blocks of `bs` bytes, each filled with `byte`.
fn fill(bs: usize, blocks: usize, byte: u8) -> Vec<u8> {
    vec![byte; bs * blocks]
}

fn problem(r: Result<LogReader, LogError>) -> Corruption {
    match r {
        Err(LogError::Corrupt { problem, .. }) => problem,
        other => panic!("expected corruption, got {other:?}"),
    }
}

fn nz(n: usize) -> NonZeroUsize {
    NonZeroUsize::new(n).unwrap()
}

/// A device model: the same operations applied to memory.
fn model_apply(dev: &mut [u8], e: &Entry, log: &[u8]) {
    let (o, l) = (e.offset.0 as usize, e.len.0 as usize);
    if e.flags.contains(Flags::DISCARD) {
        dev[o..o + l].fill(0);
    } else if e.has_data() {
        let d = e.data_offset.0 as usize;
        dev[o..o + l].copy_from_slice(&log[d..d + l]);
    }
}

#[test]
fn parses_kernel_layout() {
    let bs = 512;
    let mut b = LogBuilder::new(bs);
    b.write(4, &fill(bs, 2, 0xa1), Flags::default())
        .write(9, &fill(bs, 1, 0xb2), Flags::METADATA)
        .flush()
        .write(1, &fill(bs, 1, 0xc3), Flags::FUA)
        .discard(4, 1)
        .mark("after-fua")
        .write(0, &fill(bs, 1, 0xd4), Flags::FLUSH | Flags::FUA)
        .mark(END_MARK);
    let log = LogReader::from_bytes(b.build()).unwrap();
    assert_eq!(log.block_size(), Bytes(512));
    let es: Vec<Entry> = log.entries().map(Result::unwrap).collect();
    assert_eq!(es.len(), 8);
    assert_eq!(es[0].index, 0);
    assert_eq!((es[0].sector, es[0].nr_sectors), (4, 2));
    assert_eq!((es[0].offset, es[0].len), (Bytes(2048), Bytes(1024)));
    // Superblock block, then entry 0's header block.
    assert_eq!(es[0].data_offset, Bytes(1024));
    // Entry 1 after entry 0's header and two data blocks.
    assert_eq!(es[1].data_offset, Bytes(512 * 5));
    assert!(es[1].flags.contains(Flags::METADATA));
    assert!(!es[2].has_data());
    // A discard has no data in the log: the mark follows its header directly.
    assert_eq!(es[5].data_offset.0, es[4].data_offset.0 + 512);
    assert_eq!(es[5].mark.as_deref(), Some("after-fua"));
    let s = log.summary();
    assert_eq!(
        s,
        Summary {
            entries: 8,
            writes: 4,
            flushes: 2,
            fuas: 2,
            marks: 2,
            discards: 1,
            metadata: 1,
            bytes_written: Bytes(512 * 5),
            bytes_discarded: Bytes(512),
            clean_end: true,
        }
    );
    let kinds: Vec<(u64, PointKind)> = log
        .points(Select::All)
        .into_iter()
        .map(|p| (p.index, p.kind))
        .collect();
    let mark = |l: &str| PointKind::Mark { label: l.into() };
    assert_eq!(
        kinds,
        vec![
            (2, PointKind::Flush),
            (3, PointKind::Fua),
            (5, mark("after-fua")),
            (6, PointKind::FlushFua),
            (7, mark(END_MARK)),
        ]
    );
}

#[test]
fn sectors_count_log_blocks_of_4k() {
    let bs = 4096;
    let mut b = LogBuilder::new(bs);
    b.write(3, &fill(bs, 2, 7), Flags::FUA);
    let log = LogReader::from_bytes(b.build()).unwrap();
    let e = log.entries().next().unwrap().unwrap();
    assert_eq!(
        (e.offset, e.len, e.data_offset),
        (Bytes(12288), Bytes(8192), Bytes(8192))
    );
    assert!(!log.summary().clean_end);
}

/// Replays at every point, incrementally and from scratch, against a memory model.
#[test]
fn replay_matches_model_at_every_point() {
    let bs = 512;
    // Metadata: sectors 0..8, data: 8..24.
    let (meta, data) = (8u64, 16u64);
    let mut b = LogBuilder::new(bs);
    b.write(0, &fill(bs, 1, 1), Flags::METADATA)
        .write(10, &fill(bs, 3, 2), Flags::default())
        .flush()
        .mark("one")
        .write(6, &fill(bs, 4, 3), Flags::FUA) // crosses metadata -> data
        .write(11, &fill(bs, 1, 4), Flags::default())
        .discard(9, 3)
        .flush()
        .write(23, &fill(bs, 1, 5), Flags::FUA)
        .mark(END_MARK);
    let bytes = b.build();
    let log = LogReader::from_bytes(bytes.clone()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let regions = |tag: &str| {
        vec![
            Region {
                start: Sectors(meta),
                len: Sectors(data),
                file: dir.path().join(format!("data-{tag}")),
            },
            Region {
                start: Sectors(0),
                len: Sectors(meta),
                file: dir.path().join(format!("meta-{tag}")),
            },
        ]
    };
    let entries: Vec<Entry> = log.entries().map(Result::unwrap).collect();
    let points = log.points(Select::All);
    assert_eq!(points.len(), 6);
    let mut inc = Replayer::new(&log, regions("inc")).unwrap();
    for p in &points {
        let mut dev = vec![0u8; ((meta + data) * 512) as usize];
        for e in &entries[..=p.index as usize] {
            model_apply(&mut dev, e, &bytes);
        }
        inc.advance_to(p).unwrap();
        assert_eq!(inc.next_index(), p.index + 1);
        let mut fresh = Replayer::new(&log, regions("fresh")).unwrap();
        fresh.advance_to(p).unwrap();
        for tag in ["inc", "fresh"] {
            let m = std::fs::read(dir.path().join(format!("meta-{tag}"))).unwrap();
            let d = std::fs::read(dir.path().join(format!("data-{tag}"))).unwrap();
            assert_eq!(m, dev[..4096], "metadata at {p:?} ({tag})");
            assert_eq!(d, dev[4096..], "data at {p:?} ({tag})");
        }
    }
    // Spot checks of the final state, independent of the model.
    let m = std::fs::read(dir.path().join("meta-inc")).unwrap();
    let d = std::fs::read(dir.path().join("data-inc")).unwrap();
    assert!(m[..512].iter().all(|&x| x == 1));
    assert!(
        m[3072..].iter().all(|&x| x == 3),
        "FUA write's metadata half"
    );
    assert!(d[..512].iter().all(|&x| x == 3), "its data half");
    assert!(d[512..2048].iter().all(|&x| x == 0), "discarded");
    assert!(d[2048..2560].iter().all(|&x| x == 2));
    assert!(d[2560..7680].iter().all(|&x| x == 0));
    assert!(d[7680..].iter().all(|&x| x == 5));
    assert!(matches!(
        inc.advance_to(&points[0]),
        Err(LogError::Passed { index: 2, next: 10 })
    ));
    assert!(matches!(
        inc.advance_to_entry(10),
        Err(LogError::BeyondLog { index: 10, .. })
    ));
}

#[test]
fn discard_punches_and_keeps_size() {
    let bs = 512;
    let mut b = LogBuilder::new(bs);
    b.write(0, &fill(bs, 256, 9), Flags::FUA).discard(0, 128);
    let log = LogReader::from_bytes(b.build()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("t");
    let mut r = Replayer::new(
        &log,
        vec![Region {
            start: Sectors(0),
            len: Sectors(1024),
            file: f.clone(),
        }],
    )
    .unwrap();
    r.finish().unwrap();
    let got = std::fs::read(&f).unwrap();
    assert_eq!(got.len(), 1024 * 512);
    assert!(got[..65536].iter().all(|&x| x == 0));
    assert!(got[65536..131072].iter().all(|&x| x == 9));
    assert!(got[131072..].iter().all(|&x| x == 0));
}

#[test]
fn writes_outside_regions_are_errors() {
    let bs = 512;
    let mut b = LogBuilder::new(bs);
    b.write(3, &fill(bs, 2, 1), Flags::FUA);
    let log = LogReader::from_bytes(b.build()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let region = |start, len, name| Region {
        start: Sectors(start),
        len: Sectors(len),
        file: dir.path().join(name),
    };
    // Covers sector 3 but not 4.
    let mut r = Replayer::new(&log, vec![region(0, 4, "a")]).unwrap();
    assert!(matches!(
        r.advance_to_entry(0),
        Err(LogError::Unmapped {
            index: 0,
            offset: 2048,
            end: 2560
        })
    ));
    // A gap at sector 4.
    let mut r = Replayer::new(&log, vec![region(0, 4, "a"), region(5, 4, "b")]).unwrap();
    assert!(matches!(
        r.advance_to_entry(0),
        Err(LogError::Unmapped { .. })
    ));
    assert!(matches!(
        Replayer::new(&log, vec![region(0, 4, "a"), region(3, 4, "b")]),
        Err(LogError::RegionsOverlap { .. })
    ));
    assert!(matches!(
        Replayer::new(&log, vec![region(0, 0, "a")]),
        Err(LogError::EmptyRegion { region: 0, .. })
    ));
}

#[test]
fn sampling_spreads_and_keeps_the_last() {
    let bs = 512;
    let mut b = LogBuilder::new(bs);
    for i in 0..10 {
        b.write(i, &fill(bs, 1, 1), Flags::FUA);
        b.write(i, &fill(bs, 1, 2), Flags::default());
    }
    let log = LogReader::from_bytes(b.build()).unwrap();
    let idx = |sel| -> Vec<u64> { log.points(sel).iter().map(|p| p.index).collect() };
    assert_eq!(idx(Select::All), (0..10).map(|i| i * 2).collect::<Vec<_>>());
    assert_eq!(idx(Select::Sampled(nz(3))), vec![4, 10, 18]);
    assert_eq!(idx(Select::Sampled(nz(1))), vec![18]);
    assert_eq!(idx(Select::Sampled(nz(5))), vec![2, 6, 10, 14, 18]);
    assert_eq!(idx(Select::Sampled(nz(10))), idx(Select::All));
    assert_eq!(idx(Select::Sampled(nz(50))), idx(Select::All));
    for n in 1..=10 {
        let got = idx(Select::Sampled(nz(n)));
        assert_eq!(got.len(), n);
        assert_eq!(got.last(), Some(&18));
        assert!(got.windows(2).all(|w| w[0] < w[1]));
    }
    let empty = LogReader::from_bytes(LogBuilder::new(bs).build()).unwrap();
    assert!(empty.points(Select::Sampled(nz(3))).is_empty());
}

/// Entries past nr_entries (a live log, or stale blocks) are never read.
#[test]
fn trusts_only_nr_entries() {
    let bs = 512;
    let mut b = LogBuilder::new(bs);
    b.write(0, &fill(bs, 1, 1), Flags::FUA)
        .write(1, &fill(bs, 1, 2), Flags::default());
    let mut bytes = b.build_with(1);
    bytes.extend_from_slice(&[0xff; 4096]);
    let log = LogReader::from_bytes(bytes).unwrap();
    assert_eq!(log.entries().count(), 1);
    assert_eq!(log.summary().writes, 1);
    assert!(!log.summary().clean_end);
}

#[test]
fn bad_superblocks() {
    let bs = 512;
    let good = {
        let mut b = LogBuilder::new(bs);
        b.write(0, &fill(bs, 1, 1), Flags::FUA);
        b.build()
    };
    assert_eq!(
        problem(LogReader::from_bytes(good[..20].to_vec())),
        Corruption::TooShort { len: 20 }
    );
    assert_eq!(
        problem(LogReader::from_bytes(good[..300].to_vec())),
        Corruption::TooShort { len: 300 }
    );
    let mut bad = good.clone();
    bad[0] ^= 1;
    assert!(matches!(
        problem(LogReader::from_bytes(bad)),
        Corruption::BadMagic { .. }
    ));
    let mut bad = good.clone();
    bad[8] = 2;
    assert_eq!(
        problem(LogReader::from_bytes(bad)),
        Corruption::BadVersion { found: 2 }
    );
    for size in [0u32, 256, 1000, 1 << 17] {
        let mut bad = good.clone();
        bad[24..28].copy_from_slice(&size.to_le_bytes());
        assert_eq!(
            problem(LogReader::from_bytes(bad)),
            Corruption::BadBlockSize { found: size }
        );
    }
    let mut bad = good.clone();
    bad[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
    assert_eq!(
        problem(LogReader::from_bytes(bad)),
        Corruption::TooManyEntries {
            nr_entries: u64::MAX,
            max: 2
        }
    );
    // Two blocks after the superblock could hold two entries; the second is absent.
    let mut bad = good.clone();
    bad[16] = 2;
    assert_eq!(
        problem(LogReader::from_bytes(bad)),
        Corruption::Truncated {
            index: 1,
            offset: 1536,
            needed: 2048,
            len: 1536
        }
    );
    // A zeroed block where an entry should be.
    let mut bad = good.clone();
    bad[16] = 2;
    bad.extend_from_slice(&[0; 512]);
    assert_eq!(
        problem(LogReader::from_bytes(bad)),
        Corruption::EmptyEntry {
            index: 1,
            offset: 1536
        }
    );
}

#[test]
fn bad_entries() {
    let bs = 512;
    let one = |f: &dyn Fn(&mut LogBuilder)| {
        let mut b = LogBuilder::new(bs);
        f(&mut b);
        problem(LogReader::from_bytes(b.build()))
    };
    // Data promised but cut off.
    let mut b = LogBuilder::new(bs);
    b.write(0, &fill(bs, 4, 1), Flags::default());
    let mut bytes = b.build();
    bytes.truncate(bytes.len() - 1);
    assert_eq!(
        problem(LogReader::from_bytes(bytes)),
        Corruption::Truncated {
            index: 0,
            offset: 512,
            needed: 3072,
            len: 3071
        }
    );
    // nr_sectors far beyond the log.
    assert!(matches!(
        one(&|b| {
            b.raw([0, 1 << 40, 0, 0], &[], &[]);
        }),
        Corruption::Truncated { .. }
    ));
    assert!(matches!(
        one(&|b| {
            b.raw([u64::MAX / 2, 1, 0, 0], &[], &[0; 512]);
        }),
        Corruption::Overflow { .. }
    ));
    assert_eq!(
        one(&|b| {
            b.raw([0, 0, Flags::MARK.0, 10_000], b"x", &[]);
        }),
        Corruption::DataLen {
            index: 0,
            data_len: 10_000,
            max: 480
        }
    );
    assert_eq!(
        one(&|b| {
            b.raw([0, 1, 0, u64::MAX], &[], &[0; 512]);
        }),
        Corruption::DataLen {
            index: 0,
            data_len: u64::MAX,
            max: 512
        }
    );
    assert_eq!(
        one(&|b| {
            b.raw([0, 1, Flags::DISCARD.0, 1], &[], &[]);
        }),
        Corruption::DataLen {
            index: 0,
            data_len: 1,
            max: 0
        }
    );
    assert_eq!(
        one(&|b| {
            b.raw([0, 0, 64, 0], &[], &[]);
        }),
        Corruption::UnknownFlags {
            index: 0,
            flags: 64
        }
    );
    assert!(matches!(
        one(&|b| {
            b.raw([0, 1, (Flags::MARK | Flags::FUA).0, 0], &[], &[0; 512]);
        }),
        Corruption::BadMark { .. }
    ));
    // Label shorter than its bytes: the rest is non-zero padding.
    assert_eq!(
        one(&|b| {
            b.raw([0, 0, Flags::MARK.0, 2], b"abc", &[]);
        }),
        Corruption::Padding {
            index: 0,
            offset: 512
        }
    );
    assert!(matches!(
        one(&|b| {
            b.raw([0, 1, 0, 0], b"junk", &[0; 512]);
        }),
        Corruption::Padding { .. }
    ));
}

/// Corrupt and truncated logs give errors, never panics.
#[test]
fn mangled_logs_never_panic() {
    let bs = 512;
    let mut b = LogBuilder::new(bs);
    b.write(2, &fill(bs, 2, 1), Flags::default())
        .flush()
        .discard(2, 1)
        .mark("m")
        .write(0, &fill(bs, 1, 3), Flags::FUA)
        .mark(END_MARK);
    let good = b.build();
    for cut in 0..good.len() {
        let _ = LogReader::from_bytes(good[..cut].to_vec());
    }
    let dir = tempfile::tempdir().unwrap();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut rand = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..2000 {
        let mut bytes = good.clone();
        for _ in 0..1 + rand() % 4 {
            let i = (rand() % bytes.len() as u64) as usize;
            bytes[i] = rand() as u8;
        }
        if let Ok(log) = LogReader::from_bytes(bytes) {
            let _ = log.points(Select::Sampled(nz(2)));
            let region = Region {
                start: Sectors(0),
                len: Sectors(16),
                file: dir.path().join("t"),
            };
            let mut r = Replayer::new(&log, vec![region]).unwrap();
            let _ = r.finish();
        }
    }
}

#[test]
fn opens_files() {
    let bs = 512;
    let mut b = LogBuilder::new(bs);
    b.write(0, &fill(bs, 1, 1), Flags::FUA).mark(END_MARK);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("log");
    let mut bytes = b.build();
    // A log device is larger than its log.
    bytes.resize(1 << 16, 0);
    std::fs::write(&p, bytes).unwrap();
    let log = LogReader::open(&p).unwrap();
    assert_eq!(log.path(), p);
    assert!(log.summary().clean_end);
    assert!(matches!(
        LogReader::open(&dir.path().join("none")),
        Err(LogError::Io {
            what: "open log",
            ..
        })
    ));
}
