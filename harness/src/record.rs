//! The run's recorder: one event stream, appended to `events.jsonl` as it happens, pool
//! samples to `samples.csv`, and `summary.json` written atomically (temp + rename) at the
//! start (as `incomplete`), after each case, and at the end. A killed run therefore leaves
//! a summary that says `incomplete` and a timeline up to the kill.

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use thinbench_schema::record::{EventKind, PoolSample, RunEvent, RunSummary};

/// Something that wants to see events and samples as they happen (the terminal display).
pub trait Listen: Send + Sync {
    /// An event, after it was written.
    fn event(&self, ev: &RunEvent);
    /// A pool sample, after it was written.
    fn sample(&self, _s: &PoolSample) {}
}

/// A boxed [`Listen`]er.
pub type Listener = Box<dyn Listen>;

struct Inner {
    events: BufWriter<File>,
    samples: csv::Writer<File>,
    listener: Option<Listener>,
}

/// Shared handle; clone it into sampler threads.
#[derive(Clone)]
pub struct Recorder {
    dir: PathBuf,
    start: Instant,
    inner: Arc<Mutex<Inner>>,
}

impl Recorder {
    /// Open the output files in `dir` (which must exist).
    pub fn create(
        dir: &Path,
        start: Instant,
        listener: Option<Listener>,
    ) -> std::io::Result<Recorder> {
        let events = OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("events.jsonl"))?;
        let samples = csv::Writer::from_writer(File::create(dir.join("samples.csv"))?);
        Ok(Recorder {
            dir: dir.to_owned(),
            start,
            inner: Arc::new(Mutex::new(Inner {
                events: BufWriter::new(events),
                samples,
                listener,
            })),
        })
    }

    /// The results directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Milliseconds since the run started.
    pub fn t_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// Record an event (flushed at once: the file is the crash-proof timeline).
    pub fn event(&self, kind: EventKind) {
        let ev = RunEvent {
            t_ms: self.t_ms(),
            kind,
        };
        let Ok(mut g) = self.inner.lock() else { return };
        if let Ok(line) = serde_json::to_string(&ev) {
            let _ = writeln!(g.events, "{line}");
            let _ = g.events.flush();
        }
        if let Some(l) = &g.listener {
            l.event(&ev);
        }
    }

    /// Record a pool sample.
    pub fn sample(&self, s: &PoolSample) {
        let Ok(mut g) = self.inner.lock() else { return };
        let _ = g.samples.serialize(s);
        let _ = g.samples.flush();
        if let Some(l) = &g.listener {
            l.sample(s);
        }
    }

    /// Write `summary.json` atomically.
    pub fn write_summary(&self, s: &RunSummary) -> std::io::Result<()> {
        write_json_atomic(&self.dir.join("summary.json"), s)
    }
}

/// Write JSON to `path` via a temp file and rename, so readers never see half a file.
pub fn write_json_atomic<T: serde::Serialize>(path: &Path, v: &T) -> std::io::Result<()> {
    let tmp = path.with_extension("json.tmp");
    // One write, not serde's thousands of small ones: in the VM the results directory is
    // 9p under TCG, where each write is a round trip (a 115KB summary took 150s).
    let mut text = serde_json::to_vec_pretty(v).map_err(std::io::Error::other)?;
    text.push(b'\n');
    {
        let mut f = File::create(&tmp)?;
        f.write_all(&text)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)
}

/// Read a `summary.json`.
pub fn read_summary(dir: &Path) -> Result<RunSummary, String> {
    let p = dir.join("summary.json");
    let text = thinbench_schema::untrusted::read_text(
        &p,
        thinbench_schema::untrusted::limit::SUMMARY_JSON,
    )
    .map_err(|e| e.to_string())?;
    let s: RunSummary = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))?;
    if s.format_version > thinbench_schema::FORMAT_VERSION {
        return Err(format!(
            "{}: format_version {} is newer than this thinbench understands ({})",
            p.display(),
            s.format_version,
            thinbench_schema::FORMAT_VERSION
        ));
    }
    Ok(s)
}
