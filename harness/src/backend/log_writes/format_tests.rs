use super::*;
use crate::backend::log_writes::test_log::{fill, LogBuilder};
use crate::backend::log_writes::{LogError, LogReader};

fn problem(r: Result<LogReader, LogError>) -> Corruption {
    match r {
        Err(LogError::Corrupt { problem, .. }) => problem,
        other => panic!("expected corruption, got {other:?}"),
    }
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
            b.raw([0, 0, Flags::MARK.bits(), 10_000], b"x", &[]);
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
            b.raw([0, 1, Flags::DISCARD.bits(), 1], &[], &[]);
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
            b.raw([0, 1, (Flags::MARK | Flags::FUA).bits(), 0], &[], &[0; 512]);
        }),
        Corruption::BadMark { .. }
    ));
    // Label shorter than its bytes: the rest is non-zero padding.
    assert_eq!(
        one(&|b| {
            b.raw([0, 0, Flags::MARK.bits(), 2], b"abc", &[]);
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
