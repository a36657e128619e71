use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use thinbench_schema::record::{PoolMode, PoolUsage};
use thinbench_schema::units::{DataBlocks, MetaBlocks};

use super::*;
use crate::backend::BackendError;

/// A pool whose usage grows by one block a read, and that can be taken down.
struct Reader {
    used: u64,
    down: Arc<AtomicBool>,
    /// Milliseconds the next read blocks for (once), as a suspended device's would.
    block_ms: Arc<std::sync::atomic::AtomicU64>,
}

impl StatusReader for Reader {
    fn read(&mut self) -> Result<PoolUsage, BackendError> {
        if self.down.load(Ordering::Relaxed) {
            return Err(BackendError::Unsupported("the pool is down".into()));
        }
        let block = self.block_ms.swap(0, Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(block));
        self.used += 1;
        Ok(PoolUsage {
            transaction_id: 0,
            data_used: DataBlocks(self.used),
            data_total: DataBlocks(1000),
            meta_used: MetaBlocks(1),
            meta_total: MetaBlocks(100),
            mode: PoolMode::Rw,
            needs_check: false,
            error_if_no_space: Some(false),
        })
    }
}

struct Run {
    dir: tempfile::TempDir,
    rec: Recorder,
    down: Arc<AtomicBool>,
    block_ms: Arc<std::sync::atomic::AtomicU64>,
}

fn run() -> Run {
    let dir = tempfile::tempdir().unwrap();
    let rec = Recorder::create(dir.path(), Instant::now(), None).unwrap();
    Run {
        dir,
        rec,
        down: Arc::new(AtomicBool::new(false)),
        block_ms: Arc::default(),
    }
}

impl Run {
    fn start(&self, interval_ms: u64) -> Sampler {
        let reader = Reader {
            used: 0,
            down: self.down.clone(),
            block_ms: self.block_ms.clone(),
        };
        Sampler::start(
            self.rec.clone(),
            Box::new(reader),
            "p".into(),
            Duration::from_millis(interval_ms),
        )
    }
    fn samples(&self) -> Vec<PoolSample> {
        let mut r = csv::Reader::from_path(self.dir.path().join("samples.csv")).unwrap();
        r.deserialize().map(|x| x.unwrap()).collect()
    }
    fn events(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("events.jsonl")).unwrap_or_default()
    }
}

fn until(what: &str, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "waited 10 s for {what}"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn samples_come_at_the_interval_with_the_step_they_fall_in() {
    let r = run();
    let s = r.start(5);
    until("3 samples between steps", || s.mark().samples >= 3);
    s.set_step(Some(4));
    let m = s.mark();
    until("3 samples in step 4", || s.cost_since(&m).samples >= 3);
    s.set_step(None);
    let m = s.mark();
    until("2 more between", || s.cost_since(&m).samples >= 2);
    s.stop();
    let rows = r.samples();
    assert!(rows.iter().all(|x| x.reason == "periodic" && x.pool == "p"));
    let steps: Vec<Option<usize>> = rows.iter().map(|x| x.step).collect();
    // Between, then step 4, then between again: in that order, each at least once.
    let first4 = steps.iter().position(|s| *s == Some(4)).unwrap();
    let last4 = steps.iter().rposition(|s| *s == Some(4)).unwrap();
    assert!(
        first4 > 0 && steps[..first4].iter().all(Option::is_none),
        "{steps:?}"
    );
    assert!(
        steps[first4..=last4].iter().all(|s| *s == Some(4)),
        "{steps:?}"
    );
    assert!(last4 + 1 < steps.len(), "{steps:?}");
    // Every read is a row, in order.
    let used: Vec<u64> = rows.iter().map(|x| x.data_used).collect();
    assert_eq!(used, (1..=rows.len() as u64).collect::<Vec<_>>());
    let t: Vec<u64> = rows.iter().map(|x| x.t_ms).collect();
    assert!(t.windows(2).all(|w| w[0] <= w[1]), "{t:?}");
}

#[test]
fn a_paused_sampler_reads_nothing_and_resumes_when_the_guard_goes() {
    let r = run();
    let s = r.start(2);
    until("a sample", || s.mark().samples >= 1);
    let m = {
        let _p = s.pause("a test");
        // A read already under way may still land: let it, then count from there.
        std::thread::sleep(Duration::from_millis(10));
        let m = s.mark();
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(s.cost_since(&m).samples, 0, "sampled while paused");
        s.mark()
    };
    until("sampling again", || s.cost_since(&m).samples >= 2);
    s.stop();
    // The pause is a gap that says why.
    assert!(
        r.events().contains(r#""why":"paused: a test""#),
        "{}",
        r.events()
    );
}

#[test]
fn a_pool_that_cannot_be_read_is_a_gap_event_not_a_silent_hole() {
    let r = run();
    let s = r.start(2);
    until("a sample", || s.mark().samples >= 1);
    let down_at = r.rec.t_ms();
    r.down.store(true, Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(30));
    let before = s.mark().samples;
    let up_at = r.rec.t_ms();
    r.down.store(false, Ordering::Relaxed);
    until("sampling again", || s.mark().samples > before);
    s.stop();
    let ev = r.events();
    let gaps: Vec<serde_json::Value> = ev
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["event"] == "sampling_gap")
        // A loaded machine may also leave the 2 ms sampler unscheduled for a few slots:
        // those gaps say so.
        .filter(|v| !v["why"].as_str().unwrap().starts_with("no reading for"))
        .collect();
    assert_eq!(gaps.len(), 1, "{ev}");
    let g = &gaps[0];
    assert!(
        g["why"].as_str().unwrap().contains("the pool is down"),
        "{g}"
    );
    let (from, to) = (g["from_ms"].as_u64().unwrap(), g["to_ms"].as_u64().unwrap());
    // The first failed read came after the pool went down, the first good one after it
    // came back.
    assert!(
        down_at <= from && from <= up_at && up_at <= to,
        "{down_at} {up_at}: {g}"
    );
}

#[test]
fn a_gap_still_open_at_the_stop_is_reported() {
    let r = run();
    let s = r.start(2);
    until("a sample", || s.mark().samples >= 1);
    r.down.store(true, Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(10));
    s.stop();
    assert!(r.events().contains("sampling_gap"), "{}", r.events());
}

#[test]
fn the_cost_is_the_sampler_threads_own_cpu_over_the_stretch() {
    let r = run();
    let s = r.start(1);
    let m = s.mark();
    until("20 samples", || s.cost_since(&m).samples >= 20);
    let c = s.cost_since(&m);
    assert!(c.wall >= Duration::from_millis(15), "{c:?}");
    assert!(c.cpu <= c.wall + Duration::from_millis(5), "{c:?}");
    drop(s);
}

#[test]
fn a_blocked_read_is_a_gap_and_the_slots_it_missed_are_not_caught_up() {
    let r = run();
    let s = r.start(10);
    until("2 samples", || s.mark().samples >= 2);
    r.block_ms.store(100, Ordering::Relaxed);
    let m = s.mark();
    until("3 samples after the block", || {
        s.cost_since(&m).samples >= 4
    });
    s.stop();
    let ev = r.events();
    let gap = ev
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["event"] == "sampling_gap")
        .unwrap_or_else(|| panic!("no gap for the blocked read: {ev}"));
    assert!(
        gap["why"].as_str().unwrap().starts_with("no reading for"),
        "{gap}"
    );
    let (from, to) = (
        gap["from_ms"].as_u64().unwrap(),
        gap["to_ms"].as_u64().unwrap(),
    );
    assert!(to - from >= 80, "{gap}");
    // The reading that blocked lands at the gap's end, followed at once by the slot it ran
    // into and then by the next slot on the schedule (which may fall a moment later):
    // at most three readings in the half slot after the gap, never a burst of the ~9
    // slots it missed.
    let t: Vec<u64> = r.samples().iter().map(|x| x.t_ms).collect();
    let after: Vec<u64> = t.iter().copied().filter(|&x| x >= to).collect();
    assert!(after.len() >= 3, "{t:?}");
    assert!(
        after.iter().filter(|&&x| x < to + 5).count() <= 3,
        "a burst of catch-up samples after the gap: {t:?}"
    );
}
