use super::*;
use crate::backend::log_writes::test_log::{fill, nz, LogBuilder};

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
