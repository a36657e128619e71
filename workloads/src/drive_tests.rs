use std::collections::VecDeque;
use std::io;
use std::time::Duration;

use super::*;
use crate::offsets::{OffsetPattern, Region};

/// An engine of `depth` slots that completes everything in flight, in submission order,
/// on each `complete`; IO number `n` fails with `fail(n)`'s errno.
struct FakeEngine {
    bufs: Vec<Vec<u8>>,
    in_flight: VecDeque<IoRequest>,
    max_in_flight: usize,
    submitted: u64,
    fail: fn(u64) -> Option<i32>,
    /// Each `complete` takes this long, so a deadline can pass.
    pause: Duration,
}

impl FakeEngine {
    fn new(depth: usize, fail: fn(u64) -> Option<i32>) -> FakeEngine {
        FakeEngine {
            bufs: vec![vec![0; 4096]; depth],
            in_flight: VecDeque::new(),
            max_in_flight: 0,
            submitted: 0,
            fail,
            pause: Duration::ZERO,
        }
    }
}

impl IoEngine for FakeEngine {
    fn queue_depth(&self) -> usize {
        self.bufs.len()
    }
    fn buf_mut(&mut self, slot: usize) -> &mut [u8] {
        assert!(
            self.in_flight.iter().all(|r| r.slot != slot),
            "slot {slot} handed out while in flight"
        );
        &mut self.bufs[slot]
    }
    fn submit(&mut self, request: IoRequest) -> io::Result<()> {
        assert!(self.in_flight.len() < self.bufs.len(), "over depth");
        self.in_flight.push_back(request);
        self.max_in_flight = self.max_in_flight.max(self.in_flight.len());
        Ok(())
    }
    fn complete(&mut self, done: &mut dyn FnMut(Completion)) -> io::Result<usize> {
        std::thread::sleep(self.pause);
        let n = self.in_flight.len();
        for request in self.in_flight.drain(..) {
            let result = match (self.fail)(self.submitted) {
                Some(errno) => Err(io::Error::from_raw_os_error(errno)),
                None => Ok(()),
            };
            self.submitted += 1;
            done(Completion {
                request,
                result,
                latency: Duration::from_micros(1),
            });
        }
        Ok(n)
    }
}

/// Counts completions and errors; halts on an error when `halt_on_error`.
#[derive(Default)]
struct Counter {
    halt_on_error: bool,
    ok: u64,
    errors: u64,
    filled: u64,
    batches: u64,
}

impl DriveHandler for Counter {
    fn fill(&mut self, buf: &mut [u8], offset: Bytes) {
        self.filled += 1;
        buf[0] = (offset.0 / 4096) as u8;
    }
    fn completed(&mut self, c: Completion) -> bool {
        match c.result {
            Ok(()) => self.ok += 1,
            Err(_) => self.errors += 1,
        }
        c.result.is_err() && self.halt_on_error
    }
    fn batch_done(&mut self, completed: u64) {
        self.batches += 1;
        assert_eq!(completed, self.ok + self.errors);
    }
}

fn offsets() -> Offsets {
    let region = Region::new(Bytes(0), Bytes(1 << 20), Bytes(4096)).unwrap();
    Offsets::new(region, OffsetPattern::Sequential)
}

fn plan<'a>(offsets: &'a mut Offsets, count: u64, stop: &'a AtomicBool) -> Plan<'a> {
    Plan {
        op: IoOp::Write,
        io_len: 4096,
        offsets,
        count,
        deadline: None,
        stop,
        path: Path::new("fake"),
    }
}

#[test]
fn keeps_depth_full_never_over_it() {
    let stop = AtomicBool::new(false);
    let mut offs = offsets();
    let mut e = FakeEngine::new(4, |_| None);
    let mut h = Counter::default();
    let end = drive(&mut e, plan(&mut offs, 10, &stop), &mut h).unwrap();
    assert_eq!(end.issued, 10);
    assert!(!end.interrupted);
    // The fake asserts it is never over depth; a full queue reaches it.
    assert_eq!(e.max_in_flight, 4);
    assert_eq!((h.ok, h.errors, h.filled), (10, 0, 10));
    // 4 + 4 + 2.
    assert_eq!(h.batches, 3);
}

#[test]
fn halting_on_error_drains_and_counts_every_error() {
    let stop = AtomicBool::new(false);
    let mut offs = offsets();
    // IOs 10 and 11 fail in the third batch (8..12): both in flight when the first
    // fails, so both are reaped and counted, and nothing more is issued.
    let mut e = FakeEngine::new(4, |n| (n >= 10).then_some(libc::ENOSPC));
    let mut h = Counter {
        halt_on_error: true,
        ..Counter::default()
    };
    let end = drive(&mut e, plan(&mut offs, 100, &stop), &mut h).unwrap();
    assert_eq!(end.issued, 12);
    assert_eq!((h.ok, h.errors), (10, 2));
    assert!(e.in_flight.is_empty());

    // Not halting: every IO is issued and every failure counted.
    let mut offs = offsets();
    let mut e = FakeEngine::new(4, |n| (n >= 10).then_some(libc::EIO));
    let mut h = Counter::default();
    let end = drive(&mut e, plan(&mut offs, 30, &stop), &mut h).unwrap();
    assert_eq!(end.issued, 30);
    assert_eq!((h.ok, h.errors), (10, 20));
}

#[test]
fn runtime_limit_ends_it() {
    let stop = AtomicBool::new(false);
    let mut offs = offsets();
    let mut e = FakeEngine::new(2, |_| None);
    e.pause = Duration::from_millis(5);
    let mut h = Counter::default();
    let mut p = plan(&mut offs, u64::MAX, &stop);
    p.deadline = Some(Instant::now() + Duration::from_millis(50));
    let t = Instant::now();
    let end = drive(&mut e, p, &mut h).unwrap();
    assert!(t.elapsed() >= Duration::from_millis(50));
    assert!(t.elapsed() < Duration::from_secs(5));
    // About 10 batches of 2; far fewer than the count allows.
    assert!((2..1000).contains(&end.issued), "{end:?}");
    assert_eq!(h.ok, end.issued);
}

#[test]
fn stop_flag_interrupts_before_issuing() {
    let stop = AtomicBool::new(true);
    let mut offs = offsets();
    let mut e = FakeEngine::new(4, |_| None);
    let mut h = Counter::default();
    let end = drive(&mut e, plan(&mut offs, 100, &stop), &mut h).unwrap();
    assert_eq!(
        end,
        DriveEnd {
            issued: 0,
            interrupted: true
        }
    );
    assert_eq!(h.filled, 0);
}
