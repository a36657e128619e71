//! The fault schedule on a fake clock, through a switch that records what it is asked to
//! swap: every schedule kind, failed swaps, `damage_since`, and the trigger thread.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tempfile::TempDir;
use thinbench_schema::ids::Ident;
use thinbench_schema::record::{EventKind, RunEvent};
use thinbench_schema::units::Bytes;

use super::{LayerSwitch, Scheduler, WrittenMeter};
use crate::backend::fault::LayerRef;
use crate::backend::BackendError;
use crate::record::Recorder;
use crate::spec::{
    DelaySpec, ErrorSpec, FaultAt, FaultDevice, FaultSpec, FaultTarget, FaultUntil, FlakeyMode,
    FlakeySpec, LogWritesSpec,
};
use crate::sys::clock::FakeClock;

/// One `swap_layers` call: the layers' labels and whether they went in.
type Swap = (Vec<String>, bool);

/// A [`LayerSwitch`] that records the swaps it is asked for, in order, and fails the
/// next one when told to (a failed swap is not recorded).
#[derive(Clone, Default)]
struct RecordingSwitch {
    swaps: Arc<Mutex<Vec<Swap>>>,
    fail_next: Arc<AtomicBool>,
}

impl RecordingSwitch {
    fn swaps(&self) -> Vec<Swap> {
        self.swaps.lock().unwrap().clone()
    }

    fn fail_next_swap(&self) {
        self.fail_next.store(true, Ordering::SeqCst);
    }
}

impl LayerSwitch for RecordingSwitch {
    fn swap_layers(&self, layers: &[LayerRef], active: bool) -> Result<Vec<String>, BackendError> {
        if self.fail_next.swap(false, Ordering::SeqCst) {
            return Err(BackendError::Unsupported("injected failure".into()));
        }
        let labels = layers.iter().map(|l| l.spec.label()).collect();
        self.swaps.lock().unwrap().push((labels, active));
        Ok(Vec::new())
    }
}

/// A scheduler on a fake clock, recording into a temporary results directory.
struct Case {
    dir: TempDir,
    clock: Arc<FakeClock>,
    sched: Scheduler,
    switch: RecordingSwitch,
}

/// What the case's clock reads when the schedule is made: not zero, so tests see times
/// count from the case's start, not the clock's origin.
const CASE_START: Duration = Duration::from_secs(5);

/// A schedule of `faults` made at [`CASE_START`].
fn case(faults: Vec<FaultSpec>) -> Case {
    let dir = tempfile::tempdir().unwrap();
    let rec = Recorder::create(dir.path(), Instant::now(), None).unwrap();
    let clock = Arc::new(FakeClock::default());
    clock.advance(CASE_START);
    let layers = faults
        .into_iter()
        .map(|spec| LayerRef {
            dm_name: format!("tb-test-pool-a-{}", spec.label()),
            under: "7:0".into(),
            lv: None,
            spec,
        })
        .collect();
    let sched = Scheduler::new(layers, rec, "pool-a", clock.clone());
    Case {
        dir,
        clock,
        sched,
        switch: RecordingSwitch::default(),
    }
}

impl Case {
    fn poll(&self) {
        self.sched.poll(&self.switch, &mut || None);
    }

    fn step(&self, name: &str) {
        self.sched.step_starts(&self.switch, &ident(name));
    }

    fn advance_ms(&self, ms: u64) {
        self.clock.advance(Duration::from_millis(ms));
    }

    /// The timeline as `(kind, text)`.
    fn timeline(&self) -> Vec<(String, String)> {
        self.sched
            .timeline()
            .into_iter()
            .map(|e| (e.kind, e.text))
            .collect()
    }

    /// The fault events in `events.jsonl` as `(fault, active, reason)`, all on pool-a.
    fn fault_events(&self) -> Vec<(String, bool, String)> {
        let text = std::fs::read_to_string(self.dir.path().join("events.jsonl")).unwrap();
        text.lines()
            .filter_map(
                |l| match serde_json::from_str::<RunEvent>(l).unwrap().kind {
                    EventKind::Fault {
                        pool,
                        fault,
                        active,
                        reason,
                    } => {
                        assert_eq!(pool, "pool-a");
                        Some((fault, active, reason))
                    }
                    _ => None,
                },
            )
            .collect()
    }
}

fn ident(s: &str) -> Ident {
    Ident::new(s).unwrap()
}

fn fault(device: FaultDevice, target: FaultTarget, at: FaultAt, until: FaultUntil) -> FaultSpec {
    FaultSpec {
        device,
        at,
        until,
        target,
    }
}

fn flakey(mode: FlakeyMode) -> FaultTarget {
    FaultTarget::Flakey(FlakeySpec {
        up_s: 0,
        down_s: 1,
        mode,
    })
}

fn delay() -> FaultTarget {
    FaultTarget::Delay(DelaySpec {
        read_ms: 0,
        write_ms: 50,
        flush_ms: None,
    })
}

fn swap(labels: &[&str], active: bool) -> Swap {
    (labels.iter().map(|l| l.to_string()).collect(), active)
}

fn entry(kind: &str, text: &str) -> (String, String) {
    (kind.to_owned(), text.to_owned())
}

fn event(fault: &str, active: bool, reason: &str) -> (String, bool, String) {
    (fault.to_owned(), active, reason.to_owned())
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn at_start_is_in_force_from_construction_without_a_swap() {
    let c = case(vec![fault(
        FaultDevice::Data,
        flakey(FlakeyMode::DropWrites),
        FaultAt::Start,
        FaultUntil::End,
    )]);
    assert_eq!(c.switch.swaps(), vec![]);
    assert_eq!(
        c.timeline(),
        vec![entry(
            "fault-on",
            "data-flakey in force from the pool's construction"
        )]
    );
    assert_eq!(c.fault_events(), vec![]);
    // A damaging fault in force from the start puts writes at risk from the start.
    assert_eq!(c.sched.damage_since(), Some(CASE_START));
    // Neither steps nor polls touch it: it is already in force.
    c.step("a");
    c.advance_ms(10_000);
    c.poll();
    assert_eq!(c.switch.swaps(), vec![]);
    assert_eq!(
        c.sched.end_all(&c.switch, "the case ends"),
        Ok(vec![
            "data-flakey: swapped out (linear pass-through): the case ends".to_owned()
        ])
    );
    assert_eq!(c.switch.swaps(), vec![swap(&["data-flakey"], false)]);
}

#[test]
fn at_step_goes_in_at_that_steps_start_only() {
    let c = case(vec![fault(
        FaultDevice::Data,
        delay(),
        FaultAt::Step(ident("b")),
        FaultUntil::End,
    )]);
    c.step("a");
    c.advance_ms(60_000);
    c.poll();
    assert_eq!(c.switch.swaps(), vec![]);
    c.step("b");
    assert_eq!(c.switch.swaps(), vec![swap(&["data-delay"], true)]);
    // Once in force, its step starting again changes nothing.
    c.step("b");
    assert_eq!(c.switch.swaps().len(), 1);
    assert_eq!(
        c.timeline(),
        vec![entry("fault-on", "data-delay in force: step b starts")]
    );
    assert_eq!(
        c.fault_events(),
        vec![event("data-delay", true, "step b starts")]
    );
}

#[test]
fn at_time_goes_in_at_its_time_after_the_case_start() {
    let c = case(vec![fault(
        FaultDevice::Metadata,
        flakey(FlakeyMode::ErrorWrites),
        FaultAt::Time(ms(100)),
        FaultUntil::End,
    )]);
    // The clock read 5 s at the case's start: 99 ms into the case is not yet 100.
    c.advance_ms(99);
    c.poll();
    assert_eq!(c.switch.swaps(), vec![]);
    c.advance_ms(1);
    c.poll();
    assert_eq!(c.switch.swaps(), vec![swap(&["metadata-flakey"], true)]);
    assert_eq!(
        c.fault_events(),
        vec![event("metadata-flakey", true, "100 ms into the case")]
    );
    assert_eq!(
        c.timeline(),
        vec![entry(
            "fault-on",
            "metadata-flakey in force: 100 ms into the case"
        )]
    );
    assert_eq!(c.sched.damage_since(), Some(CASE_START + ms(100)));
}

#[test]
fn at_written_goes_in_once_the_case_has_written_that_much() {
    let c = case(vec![fault(
        FaultDevice::Data,
        flakey(FlakeyMode::Fail),
        FaultAt::Written(Bytes(1000)),
        FaultUntil::End,
    )]);
    // A meter not made from this schedule counts for nobody.
    WrittenMeter::default().progress(5000);
    c.poll();
    assert_eq!(c.switch.swaps(), vec![]);
    // Two phases' meters add up: 600 + 399 is one byte short.
    let mut first = c.sched.meter();
    first.progress(600);
    let mut second = c.sched.meter();
    second.progress(399);
    c.poll();
    assert_eq!(c.switch.swaps(), vec![]);
    second.progress(400);
    c.poll();
    assert_eq!(c.switch.swaps(), vec![swap(&["data-flakey"], true)]);
    assert_eq!(
        c.fault_events(),
        vec![event(
            "data-flakey",
            true,
            "1000 bytes written (at = written:1000)"
        )]
    );
    assert_eq!(
        c.timeline(),
        vec![entry(
            "fault-on",
            "data-flakey in force: 1000 bytes written (at = written:1000)"
        )]
    );
}

#[test]
fn a_written_meter_adds_what_its_phase_wrote_since_its_last_report() {
    let c = case(vec![]);
    let mut m = c.sched.meter();
    m.progress(500);
    // Reports are cumulative: a smaller one (or the same) adds nothing.
    m.progress(300);
    m.progress(500);
    assert_eq!(c.sched.written.load(Ordering::Relaxed), 500);
    m.progress(800);
    assert_eq!(c.sched.written.load(Ordering::Relaxed), 800);
}

#[test]
fn at_usage_goes_in_at_its_percentage_and_usage_is_read_only_while_it_is_pending() {
    let c = case(vec![fault(
        FaultDevice::Data,
        flakey(FlakeyMode::DropWrites),
        FaultAt::Usage(50),
        FaultUntil::End,
    )]);
    let (reads, pct) = (Cell::new(0u32), Cell::new(None::<f64>));
    let mut usage = || {
        reads.set(reads.get() + 1);
        pct.get()
    };
    pct.set(Some(49.9));
    c.sched.poll(&c.switch, &mut usage);
    // An unreadable status starts nothing either.
    pct.set(None);
    c.sched.poll(&c.switch, &mut usage);
    assert_eq!(c.switch.swaps(), vec![]);
    pct.set(Some(50.0));
    c.sched.poll(&c.switch, &mut usage);
    assert_eq!(c.switch.swaps(), vec![swap(&["data-flakey"], true)]);
    assert_eq!(reads.get(), 3);
    // In force, nothing waits on the usage: it is not read again.
    c.sched.poll(&c.switch, &mut usage);
    assert_eq!(reads.get(), 3);
    assert_eq!(
        c.fault_events(),
        vec![event(
            "data-flakey",
            true,
            "pool data usage 50.0% (at = usage:50%)"
        )]
    );
}

#[test]
fn usage_is_not_read_without_a_pending_usage_trigger() {
    let c = case(vec![fault(
        FaultDevice::Data,
        delay(),
        FaultAt::Time(ms(100)),
        FaultUntil::End,
    )]);
    let reads = Cell::new(0u32);
    let mut usage = || {
        reads.set(reads.get() + 1);
        Some(100.0)
    };
    c.sched.poll(&c.switch, &mut usage);
    c.advance_ms(100);
    c.sched.poll(&c.switch, &mut usage);
    assert_eq!(c.switch.swaps(), vec![swap(&["data-delay"], true)]);
    assert_eq!(reads.get(), 0);
}

#[test]
fn until_end_goes_out_at_end_all_and_pending_faults_never_start() {
    let c = case(vec![
        fault(
            FaultDevice::Data,
            flakey(FlakeyMode::ErrorWrites),
            FaultAt::Start,
            FaultUntil::End,
        ),
        fault(
            FaultDevice::Metadata,
            delay(),
            FaultAt::Time(ms(1000)),
            FaultUntil::End,
        ),
    ]);
    assert_eq!(
        c.sched.end_all(&c.switch, "the case ends"),
        Ok(vec![
            "data-flakey: swapped out (linear pass-through): the case ends".to_owned()
        ])
    );
    assert_eq!(c.switch.swaps(), vec![swap(&["data-flakey"], false)]);
    c.advance_ms(2000);
    c.poll();
    c.step("a");
    assert_eq!(c.switch.swaps().len(), 1);
    // Nothing is left to watch, so no trigger thread starts.
    assert!(c
        .sched
        .trigger(Box::new(c.switch.clone()), Box::new(|| None))
        .is_none());
    assert_eq!(
        c.fault_events(),
        vec![event("data-flakey", false, "the case ends")]
    );
    assert_eq!(
        c.timeline(),
        vec![
            entry(
                "fault-on",
                "data-flakey in force from the pool's construction"
            ),
            entry("fault-off", "data-flakey out of force: the case ends"),
        ]
    );
}

#[test]
fn until_step_goes_out_at_that_steps_start_before_those_going_in_at_it() {
    let c = case(vec![
        fault(
            FaultDevice::Data,
            flakey(FlakeyMode::Fail),
            FaultAt::Start,
            FaultUntil::Step(ident("b")),
        ),
        fault(
            FaultDevice::Metadata,
            delay(),
            FaultAt::Step(ident("b")),
            FaultUntil::End,
        ),
    ]);
    c.step("a");
    c.poll();
    assert_eq!(c.switch.swaps(), vec![]);
    c.step("b");
    assert_eq!(
        c.switch.swaps(),
        vec![
            swap(&["data-flakey"], false),
            swap(&["metadata-delay"], true)
        ]
    );
    assert_eq!(
        c.fault_events(),
        vec![
            event("data-flakey", false, "step b starts"),
            event("metadata-delay", true, "step b starts"),
        ]
    );
    assert_eq!(
        c.timeline(),
        vec![
            entry(
                "fault-on",
                "data-flakey in force from the pool's construction"
            ),
            entry("fault-off", "data-flakey out of force: step b starts"),
            entry("fault-on", "metadata-delay in force: step b starts"),
        ]
    );
}

#[test]
fn until_after_goes_out_its_time_after_it_went_in() {
    let c = case(vec![fault(
        FaultDevice::Data,
        delay(),
        FaultAt::Step(ident("a")),
        FaultUntil::After(ms(200)),
    )]);
    // It counts from going in, not from the case's start.
    c.advance_ms(1000);
    c.step("a");
    c.advance_ms(199);
    c.poll();
    assert_eq!(c.switch.swaps(), vec![swap(&["data-delay"], true)]);
    c.advance_ms(1);
    c.poll();
    assert_eq!(
        c.switch.swaps(),
        vec![swap(&["data-delay"], true), swap(&["data-delay"], false)]
    );
    // Out for good: later polls and end_all leave it be.
    c.advance_ms(1000);
    c.poll();
    assert_eq!(c.sched.end_all(&c.switch, "the case ends"), Ok(vec![]));
    assert_eq!(c.switch.swaps().len(), 2);
    assert_eq!(
        c.fault_events(),
        vec![
            event("data-delay", true, "step a starts"),
            event("data-delay", false, "its time in force is over"),
        ]
    );
}

#[test]
fn a_failed_swap_is_kept_once_noted_and_retried_by_the_next_poll() {
    let c = case(vec![fault(
        FaultDevice::Data,
        flakey(FlakeyMode::DropWrites),
        FaultAt::Time(ms(100)),
        FaultUntil::End,
    )]);
    c.advance_ms(100);
    c.switch.fail_next_swap();
    c.poll();
    assert_eq!(c.switch.swaps(), vec![]);
    let msg = "swapping in data-flakey: injected failure";
    assert_eq!(c.sched.take_error().as_deref(), Some(msg));
    assert_eq!(c.sched.take_error(), None);
    assert_eq!(c.timeline(), vec![entry("error", msg)]);
    assert_eq!(c.fault_events(), vec![]);
    // The slot is still pending: nothing is in force, and the next poll tries again.
    assert_eq!(c.sched.damage_since(), None);
    c.advance_ms(20);
    c.poll();
    assert_eq!(c.switch.swaps(), vec![swap(&["data-flakey"], true)]);
    assert_eq!(c.sched.take_error(), None);
    assert_eq!(
        c.fault_events(),
        vec![event("data-flakey", true, "120 ms into the case")]
    );
}

#[test]
fn a_failed_end_all_returns_the_error_and_a_later_one_retries() {
    let c = case(vec![fault(
        FaultDevice::Data,
        flakey(FlakeyMode::DropWrites),
        FaultAt::Start,
        FaultUntil::End,
    )]);
    c.switch.fail_next_swap();
    let msg = "swapping out data-flakey: injected failure";
    assert_eq!(
        c.sched.end_all(&c.switch, "power back on (reboot)"),
        Err(msg.to_owned())
    );
    // end_all hands the error back itself, so it is not kept for take_error too.
    assert_eq!(c.sched.take_error(), None);
    assert_eq!(c.switch.swaps(), vec![]);
    // The fault stays in force (a later end_all swaps it out), but writes are no longer
    // counted at risk.
    assert_eq!(c.sched.damage_since(), None);
    assert_eq!(
        c.sched.end_all(&c.switch, "the case ends"),
        Ok(vec![
            "data-flakey: swapped out (linear pass-through): the case ends".to_owned()
        ])
    );
    assert_eq!(c.switch.swaps(), vec![swap(&["data-flakey"], false)]);
    assert!(c.timeline().contains(&entry("error", msg)));
}

#[test]
fn damage_since_is_set_by_damaging_faults_only_and_cleared_by_end_all() {
    let c = case(vec![
        fault(FaultDevice::Data, delay(), FaultAt::Start, FaultUntil::End),
        fault(
            FaultDevice::Pool,
            FaultTarget::LogWrites(LogWritesSpec {
                log_size: Bytes(1 << 20),
            }),
            FaultAt::Start,
            FaultUntil::End,
        ),
        fault(
            FaultDevice::Metadata,
            flakey(FlakeyMode::ErrorReads),
            FaultAt::Step(ident("a")),
            FaultUntil::End,
        ),
        fault(
            FaultDevice::Data,
            flakey(FlakeyMode::DropWrites),
            FaultAt::Time(ms(100)),
            FaultUntil::End,
        ),
        fault(
            FaultDevice::Metadata,
            FaultTarget::Error(ErrorSpec {
                bad: vec![(Bytes(0), Bytes(4096))],
            }),
            FaultAt::Time(ms(300)),
            FaultUntil::End,
        ),
    ]);
    assert_eq!(c.sched.damage_since(), None);
    c.step("a");
    assert_eq!(c.switch.swaps(), vec![swap(&["metadata-flakey"], true)]);
    assert_eq!(c.sched.damage_since(), None);
    c.advance_ms(100);
    c.poll();
    let first = CASE_START + ms(100);
    assert_eq!(c.sched.damage_since(), Some(first));
    // A second damaging fault does not move it: writes were at risk from the first.
    c.advance_ms(200);
    c.poll();
    assert_eq!(
        c.switch.swaps().last(),
        Some(&swap(&["metadata-error"], true))
    );
    assert_eq!(c.sched.damage_since(), Some(first));
    assert!(c.sched.end_all(&c.switch, "power back on (reboot)").is_ok());
    assert_eq!(c.sched.damage_since(), None);
    assert_eq!(
        c.switch.swaps().last(),
        Some(&swap(
            &[
                "data-delay",
                "pool-log-writes",
                "metadata-flakey",
                "data-flakey",
                "metadata-error"
            ],
            false
        ))
    );
}

#[test]
fn faults_due_together_go_in_with_one_swap() {
    let c = case(vec![
        fault(
            FaultDevice::Data,
            flakey(FlakeyMode::DropWrites),
            FaultAt::Time(ms(100)),
            FaultUntil::End,
        ),
        fault(
            FaultDevice::Metadata,
            flakey(FlakeyMode::DropWrites),
            FaultAt::Time(ms(50)),
            FaultUntil::End,
        ),
        fault(
            FaultDevice::Data,
            delay(),
            FaultAt::Step(ident("b")),
            FaultUntil::End,
        ),
        fault(
            FaultDevice::Metadata,
            delay(),
            FaultAt::Step(ident("b")),
            FaultUntil::End,
        ),
    ]);
    // Both time triggers are due at the first look after 100 ms: one swap, one instant.
    c.advance_ms(100);
    c.poll();
    c.step("b");
    assert_eq!(
        c.switch.swaps(),
        vec![
            swap(&["data-flakey", "metadata-flakey"], true),
            swap(&["data-delay", "metadata-delay"], true),
        ]
    );
    assert_eq!(
        c.fault_events(),
        vec![
            event("data-flakey", true, "100 ms into the case"),
            event("metadata-flakey", true, "100 ms into the case"),
            event("data-delay", true, "step b starts"),
            event("metadata-delay", true, "step b starts"),
        ]
    );
}

#[test]
fn the_trigger_thread_polls_on_the_case_clock_through_the_switch_it_is_given() {
    let c = case(vec![fault(
        FaultDevice::Data,
        flakey(FlakeyMode::DropWrites),
        FaultAt::Time(ms(100)),
        FaultUntil::End,
    )]);
    let trigger = c
        .sched
        .trigger(Box::new(c.switch.clone()), Box::new(|| None))
        .expect("a time trigger is pending");
    // The thread sleeps on the fake clock, so it advances it itself; the deadline only
    // bounds a broken thread.
    let deadline = Instant::now() + Duration::from_secs(10);
    while c.switch.swaps().is_empty() && Instant::now() < deadline {
        std::thread::yield_now();
    }
    trigger.stop();
    assert_eq!(c.switch.swaps(), vec![swap(&["data-flakey"], true)]);
    // Polls every 20 ms from the case's start: the one at 100 ms puts it in.
    assert_eq!(
        c.fault_events(),
        vec![event("data-flakey", true, "100 ms into the case")]
    );
}

#[test]
fn no_trigger_thread_when_only_step_bound_faults_remain() {
    let c = case(vec![
        fault(
            FaultDevice::Data,
            delay(),
            FaultAt::Start,
            FaultUntil::Step(ident("b")),
        ),
        fault(
            FaultDevice::Metadata,
            delay(),
            FaultAt::Step(ident("a")),
            FaultUntil::End,
        ),
    ]);
    assert!(c
        .sched
        .trigger(Box::new(c.switch.clone()), Box::new(|| None))
        .is_none());
    // An `after:` fault in force is something to watch.
    let d = case(vec![fault(
        FaultDevice::Data,
        delay(),
        FaultAt::Start,
        FaultUntil::After(ms(100)),
    )]);
    let t = d
        .sched
        .trigger(Box::new(d.switch.clone()), Box::new(|| None));
    assert!(t.is_some());
    drop(t);
}
