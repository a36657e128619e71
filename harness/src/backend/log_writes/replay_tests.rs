use super::*;
use crate::backend::log_writes::test_log::{fill, nz, LogBuilder};
use crate::backend::log_writes::{Select, END_MARK};

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
                at: Sectors(0),
            },
            Region {
                start: Sectors(0),
                len: Sectors(meta),
                file: dir.path().join(format!("meta-{tag}")),
                at: Sectors(0),
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
            at: Sectors(0),
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
        at: Sectors(0),
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

/// A log under a whole PV: each LV is a file made of its segments, in LV order, and
/// what lvm writes outside them (labels, its metadata area) is counted, not replayed.
#[test]
fn segments_make_up_one_file_and_the_rest_is_skipped() {
    let bs = 512;
    let mut b = LogBuilder::new(bs);
    // PV sectors: 0..2 lvm's label; the LV's second half at 2..4, its first at 6..8.
    b.write(0, &fill(bs, 2, 7), Flags::FUA)
        .write(6, &fill(bs, 2, 1), Flags::default())
        .write(2, &fill(bs, 2, 2), Flags::default())
        // Crosses from the second half into the gap at 4..6 and on to 6.
        .write(3, &fill(bs, 4, 3), Flags::FUA)
        .discard(7, 1);
    let log = LogReader::from_bytes(b.build()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lv = dir.path().join("lv");
    let seg = |start, at| Region {
        start: Sectors(start),
        len: Sectors(2),
        file: lv.clone(),
        at: Sectors(at),
    };
    // Without leave to skip, lvm's label write is an error.
    let mut strict = Replayer::new(&log, vec![seg(2, 2), seg(6, 0)]).unwrap();
    assert!(matches!(
        strict.advance_to_entry(0),
        Err(LogError::Unmapped { index: 0, .. })
    ));
    let mut r = Replayer::new(&log, vec![seg(2, 2), seg(6, 0)])
        .unwrap()
        .skipping_unmapped();
    r.finish().unwrap();
    let got = std::fs::read(&lv).unwrap();
    assert_eq!(got.len(), 4 * 512);
    // LV sector 0 (PV 6): entry 3's last sector; 1 (PV 7): discarded.
    assert!(got[..512].iter().all(|&x| x == 3));
    assert!(got[512..1024].iter().all(|&x| x == 0));
    // LV sector 2 (PV 2): entry 2; 3 (PV 3): entry 3.
    assert!(got[1024..1536].iter().all(|&x| x == 2));
    assert!(got[1536..].iter().all(|&x| x == 3));
    // The label's 2 sectors and entry 3's 2 in the gap.
    assert_eq!(r.skipped_sectors(), 4);
    // Two segments onto the same bytes of one file are refused.
    assert!(matches!(
        Replayer::new(&log, vec![seg(2, 0), seg(6, 1)]),
        Err(LogError::RegionsOverlap { .. })
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
                at: Sectors(0),
            };
            let mut r = Replayer::new(&log, vec![region]).unwrap();
            let _ = r.finish();
        }
    }
}
