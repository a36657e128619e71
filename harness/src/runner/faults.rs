//! The fault schedule of one case: which `[[fault]]` layers are in force, and the swaps
//! that put them in and out of force — at step starts (on the runner's thread), and at a
//! time, an amount written or a pool usage (on a trigger thread that runs while a step
//! does). Every change goes to the event stream and the case's timeline.
//!
//! Time comes from the case's [`Clock`], the amount written from the schedule's own
//! counter (fed by [`WrittenMeter`]s), and the trigger thread is handed its
//! [`LayerSwitch`] and usage reader: tests run the schedule on a fake clock with a
//! recording switch, without device-mapper.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use thinbench_schema::ids::Ident;
use thinbench_schema::record::{EventKind, TimelineEntry};

use crate::backend::dm::Dm;
use crate::backend::fault::{self, LayerRef};
use crate::backend::{BackendError, StatusReader};
use crate::record::Recorder;
use crate::spec::{FaultAt, FaultTarget, FaultUntil, FlakeyMode};
use crate::sys::clock::Clock;

/// Counts a workload phase's progress into a case's written-bytes counter (the one its
/// `written:` triggers read): progress reports are cumulative per phase, so each meter
/// adds the difference. A default meter counts into a counter of its own, which no
/// schedule reads (a case without faults).
#[derive(Default)]
pub struct WrittenMeter {
    counter: Arc<AtomicU64>,
    seen: u64,
}

impl WrittenMeter {
    /// The phase has written `bytes` so far.
    pub fn progress(&mut self, bytes: u64) {
        if bytes > self.seen {
            self.counter.fetch_add(bytes - self.seen, Ordering::Relaxed);
            self.seen = bytes;
        }
    }
}

/// Reads the pool's data usage in percent (`None` when it cannot be read).
pub type UsageReader = Box<dyn FnMut() -> Option<f64> + Send>;

/// How often the trigger thread looks.
const POLL: Duration = Duration::from_millis(20);

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Pending,
    /// Since when, on the case's clock.
    Active(Duration),
    Done,
}

struct Slot {
    layer: LayerRef,
    state: State,
}

struct Inner {
    slots: Vec<Slot>,
    /// When the case started, on its clock (`time:` triggers count from it).
    case_start: Duration,
    timeline: Vec<TimelineEntry>,
    /// Since when (on the case's clock) a fault that loses or damages writes has been in
    /// force (since the last reboot): writes flushed before it are the ones a reboot
    /// must find.
    damage_since: Option<Duration>,
    /// The last swap that failed (a schedule that cannot be kept fails the step).
    error: Option<String>,
}

/// A case's fault schedule (cheap to clone: shared state).
#[derive(Clone)]
pub struct Scheduler {
    inner: Arc<Mutex<Inner>>,
    rec: Recorder,
    pool: String,
    clock: Arc<dyn Clock>,
    /// Bytes the case's workloads have written since the schedule was made.
    written: Arc<AtomicU64>,
}

/// Whether a fault in force can lose or alter what is written (so a power-cut oracle
/// must stop trusting writes flushed after it went in).
fn damages_writes(t: &FaultTarget) -> bool {
    match t {
        FaultTarget::Delay(_) | FaultTarget::LogWrites(_) => false,
        FaultTarget::Flakey(f) => f.mode != FlakeyMode::ErrorReads,
        FaultTarget::Error(_) | FaultTarget::Dust(_) => true,
    }
}

impl Scheduler {
    /// The schedule of `layers` (as built: `at = "start"` ones already in force), on
    /// `clock` (the case's: its start is now).
    pub fn new(
        layers: Vec<LayerRef>,
        rec: Recorder,
        pool: &str,
        clock: Arc<dyn Clock>,
    ) -> Scheduler {
        let now = clock.elapsed();
        let mut timeline = Vec::new();
        let mut damage_since = None;
        let slots = layers
            .into_iter()
            .map(|layer| {
                let state = if layer.spec.at == FaultAt::Start {
                    timeline.push(TimelineEntry {
                        t_ms: rec.t_ms(),
                        kind: "fault-on".into(),
                        text: format!(
                            "{} in force from the pool's construction",
                            layer.spec.label()
                        ),
                    });
                    if damages_writes(&layer.spec.target) {
                        damage_since.get_or_insert(now);
                    }
                    State::Active(now)
                } else {
                    State::Pending
                };
                Slot { layer, state }
            })
            .collect();
        Scheduler {
            inner: Arc::new(Mutex::new(Inner {
                slots,
                case_start: now,
                timeline,
                damage_since,
                error: None,
            })),
            rec,
            pool: pool.to_owned(),
            clock,
            written: Arc::new(AtomicU64::new(0)),
        }
    }

    /// A meter for one workload phase, counting into this case's `written:` triggers.
    pub fn meter(&self) -> WrittenMeter {
        WrittenMeter {
            counter: self.written.clone(),
            seen: 0,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Add a line to the timeline (mode changes, kernel lines, errors, marks).
    pub fn note(&self, kind: &str, text: String) {
        let t_ms = self.rec.t_ms();
        self.lock().timeline.push(TimelineEntry {
            t_ms,
            kind: kind.into(),
            text,
        });
    }

    /// The timeline so far, in time order.
    pub fn timeline(&self) -> Vec<TimelineEntry> {
        let mut t = self.lock().timeline.clone();
        t.sort_by_key(|e| e.t_ms);
        t
    }

    /// Since when (on the case's clock) writes have been at risk (see
    /// [`Inner::damage_since`]).
    pub fn damage_since(&self) -> Option<Duration> {
        self.lock().damage_since
    }

    /// A swap error since the last call, if any.
    pub fn take_error(&self) -> Option<String> {
        self.lock().error.take()
    }

    /// Swap the slots `idx` to `active`, recording why. Runs with the lock held, so the
    /// trigger thread and the runner never swap the same layer at once.
    fn apply(
        &self,
        inner: &mut Inner,
        dm: &dyn LayerSwitch,
        idx: &[usize],
        active: bool,
        reason: &str,
    ) {
        if idx.is_empty() {
            return;
        }
        let refs: Vec<LayerRef> = idx.iter().map(|&i| inner.slots[i].layer.clone()).collect();
        let now = self.clock.elapsed();
        match dm.swap_layers(&refs, active) {
            Ok(_) => {
                for &i in idx {
                    let slot = &mut inner.slots[i];
                    slot.state = if active {
                        State::Active(now)
                    } else {
                        State::Done
                    };
                    if active && damages_writes(&slot.layer.spec.target) {
                        inner.damage_since.get_or_insert(now);
                    }
                    let label = slot.layer.spec.label();
                    self.rec.event(EventKind::Fault {
                        pool: self.pool.clone(),
                        fault: label.clone(),
                        active,
                        reason: reason.to_owned(),
                    });
                    inner.timeline.push(TimelineEntry {
                        t_ms: self.rec.t_ms(),
                        kind: if active { "fault-on" } else { "fault-off" }.into(),
                        text: format!(
                            "{label} {}: {reason}",
                            if active { "in force" } else { "out of force" }
                        ),
                    });
                }
            }
            Err(e) => {
                let msg = format!(
                    "swapping {} {}: {e}",
                    if active { "in" } else { "out" },
                    refs.iter()
                        .map(|r| r.spec.label())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                inner.timeline.push(TimelineEntry {
                    t_ms: self.rec.t_ms(),
                    kind: "error".into(),
                    text: msg.clone(),
                });
                inner.error = Some(msg);
            }
        }
    }

    /// As step `name` starts: faults that end at it go out of force, then those that
    /// start at it go in.
    pub fn step_starts(&self, dm: &dyn LayerSwitch, name: &Ident) {
        let mut inner = self.lock();
        let off: Vec<usize> = inner
            .slots
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                matches!(s.state, State::Active(_))
                    && s.layer.spec.until == FaultUntil::Step(name.clone())
            })
            .map(|(i, _)| i)
            .collect();
        self.apply(&mut inner, dm, &off, false, &format!("step {name} starts"));
        let on: Vec<usize> = inner
            .slots
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                s.state == State::Pending && s.layer.spec.at == FaultAt::Step(name.clone())
            })
            .map(|(i, _)| i)
            .collect();
        self.apply(&mut inner, dm, &on, true, &format!("step {name} starts"));
    }

    /// Every fault in force goes out of force (the case's end, or power back on at a
    /// reboot); pending ones never start. Returns the commands, or the swap's error.
    pub fn end_all(&self, dm: &dyn LayerSwitch, reason: &str) -> Result<Vec<String>, String> {
        let mut inner = self.lock();
        let off: Vec<usize> = inner
            .slots
            .iter()
            .enumerate()
            .filter(|(_, s)| matches!(s.state, State::Active(_)))
            .map(|(i, _)| i)
            .collect();
        let names: Vec<String> = off
            .iter()
            .map(|&i| inner.slots[i].layer.spec.label())
            .collect();
        self.apply(&mut inner, dm, &off, false, reason);
        for s in &mut inner.slots {
            if s.state == State::Pending {
                s.state = State::Done;
            }
        }
        inner.damage_since = None;
        match inner.error.take() {
            Some(e) => Err(e),
            None => Ok(names
                .iter()
                .map(|n| format!("{n}: swapped out (linear pass-through): {reason}"))
                .collect()),
        }
    }

    /// One look at the time/amount/usage conditions; `usage` reads the pool's data usage
    /// in percent (only called when a usage trigger is pending).
    fn poll(&self, dm: &dyn LayerSwitch, usage: &mut dyn FnMut() -> Option<f64>) {
        let mut inner = self.lock();
        let now = self.clock.elapsed();
        let elapsed = now.saturating_sub(inner.case_start);
        let written = self.written.load(Ordering::Relaxed);
        let off: Vec<usize> = inner
            .slots
            .iter()
            .enumerate()
            .filter(|(_, s)| match (s.state, &s.layer.spec.until) {
                (State::Active(since), FaultUntil::After(d)) => now.saturating_sub(since) >= *d,
                _ => false,
            })
            .map(|(i, _)| i)
            .collect();
        self.apply(&mut inner, dm, &off, false, "its time in force is over");
        let needs_usage = inner
            .slots
            .iter()
            .any(|s| s.state == State::Pending && matches!(s.layer.spec.at, FaultAt::Usage(_)));
        let pct = if needs_usage { usage() } else { None };
        // Group by reason: faults due together go in at one instant.
        let mut due: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, s) in inner.slots.iter().enumerate() {
            if s.state != State::Pending {
                continue;
            }
            let reason = match &s.layer.spec.at {
                FaultAt::Time(d) if elapsed >= *d => {
                    format!("{} ms into the case", elapsed.as_millis())
                }
                FaultAt::Written(b) if written >= b.0 => {
                    format!("{written} bytes written (at = {})", s.layer.spec.at.text())
                }
                FaultAt::Usage(p) if pct.is_some_and(|x| x >= f64::from(*p)) => format!(
                    "pool data usage {:.1}% (at = {})",
                    pct.unwrap_or(0.0),
                    s.layer.spec.at.text()
                ),
                _ => continue,
            };
            due.entry(reason).or_default().push(i);
        }
        for (reason, idx) in due {
            self.apply(&mut inner, dm, &idx, true, &reason);
        }
    }

    /// Whether the trigger thread has anything to watch.
    fn wants_trigger(&self) -> bool {
        self.lock().slots.iter().any(|s| match s.state {
            State::Pending => matches!(
                s.layer.spec.at,
                FaultAt::Time(_) | FaultAt::Written(_) | FaultAt::Usage(_)
            ),
            State::Active(_) => matches!(s.layer.spec.until, FaultUntil::After(_)),
            State::Done => false,
        })
    }

    /// Start the trigger thread for a step (none when nothing needs watching): it polls
    /// every [`POLL`] on the case's clock, swapping through `switch` and reading the
    /// pool's usage with `usage`.
    pub fn trigger(
        &self,
        switch: Box<dyn LayerSwitch + Send>,
        mut usage: UsageReader,
    ) -> Option<Trigger> {
        if !self.wants_trigger() {
            return None;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let (s, me) = (stop.clone(), self.clone());
        let handle = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                me.poll(switch.as_ref(), &mut usage);
                me.clock.sleep(POLL);
            }
        });
        Some(Trigger {
            stop,
            handle: Some(handle),
        })
    }
}

/// A running trigger thread; `stop` joins it.
pub struct Trigger {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Trigger {
    /// Stop and join.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Trigger {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Switches fault layers between their pass-through and faulty tables; behind a trait so
/// tests can record the scheduler's switches in order without device-mapper.
pub trait LayerSwitch {
    /// Loads every layer's active (faulty) or pass-through table; returns its notes.
    fn swap_layers(
        &self,
        layers: &[fault::LayerRef],
        active: bool,
    ) -> Result<Vec<String>, BackendError>;
}

impl LayerSwitch for Dm {
    fn swap_layers(
        &self,
        layers: &[fault::LayerRef],
        active: bool,
    ) -> Result<Vec<String>, BackendError> {
        fault::swap(self, layers, active)
    }
}

/// What a trigger thread works with on device-mapper: a control handle to swap the
/// layers, and the pool's data usage in percent from `status` (the backend's status
/// reader, a handle of its own).
pub fn dm_trigger_parts(
    mut status: Box<dyn StatusReader>,
) -> Result<(Box<dyn LayerSwitch + Send>, UsageReader), BackendError> {
    let switch = Dm::open()?;
    let usage = move || {
        status.read().ok().map(|u| {
            if u.data_total.0 == 0 {
                0.0
            } else {
                u.data_used.0 as f64 * 100.0 / u.data_total.0 as f64
            }
        })
    };
    Ok((Box::new(switch), Box::new(usage)))
}

#[cfg(test)]
#[path = "faults_tests.rs"]
mod tests;
