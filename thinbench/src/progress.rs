//! Live progress while a run goes, fed by the run's one event stream (and its pool
//! samples). On a terminal: permanent lines for step boundaries and mode changes, under a
//! redrawn bar line (step n/N, bytes written, pool usage). Elsewhere (CI logs): the same
//! permanent lines, plus a plain progress line every [`PLAIN_EVERY`] during a long step.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use thinbench_schema::record::{EventKind, PoolSample, RunEvent, Status};

use crate::summary::status_word;

/// How often a non-terminal progress line is printed during a step.
pub const PLAIN_EVERY: Duration = Duration::from_secs(15);
/// Terminal redraws are throttled to this many a second (indicatif's own limit).
const REDRAWS_PER_SEC: u8 = 10;

#[derive(Default)]
struct State {
    t_ms: u64,
    step: Option<(usize, String)>,
    bytes: u64,
    total: u64,
    /// data used, data total, meta used, meta total, mode.
    pool: Option<(u64, u64, u64, u64, String)>,
    last_plain: Option<Instant>,
}

/// The progress display. Shared by the recorder's listener (host runs) and the follower
/// of a guest's files (VM runs).
pub struct Progress {
    /// Drawn on a terminal; hidden elsewhere (CI logs get plain lines instead).
    bar: ProgressBar,
    tty: bool,
    steps: usize,
    state: Mutex<State>,
}

fn secs(ms: u64) -> String {
    format!("{:>7.1}s", ms as f64 / 1000.0)
}

fn pct(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 * 100.0 / b as f64
    }
}

/// The live line: time and step, then (while a step writes) indicatif's bar of the bytes
/// written, then the rest of the status text.
fn style(with_bar: bool) -> ProgressStyle {
    let template = if with_bar {
        "{prefix} {bar:20} {msg}"
    } else {
        "{prefix} {msg}"
    };
    ProgressStyle::with_template(template)
        .expect("a valid template")
        .progress_chars("█░ ")
}

impl Progress {
    /// `steps`: steps per case, for "step n/N". `tty`: stderr is a terminal (not CI).
    pub fn new(steps: usize, tty: bool) -> Progress {
        let tty = tty && std::env::var_os("CI").is_none_or(|v| v != "true");
        let target = if tty {
            ProgressDrawTarget::stderr_with_hz(REDRAWS_PER_SEC)
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(None, target).with_style(style(false));
        Progress {
            bar,
            tty,
            steps,
            state: Mutex::new(State::default()),
        }
    }

    /// Print a permanent line, above the live line on a terminal.
    fn line(&self, _st: &mut State, text: &str) {
        if self.tty {
            self.bar.println(text);
        } else {
            eprintln!("{text}");
        }
    }

    fn step_text(&self, st: &State) -> String {
        match &st.step {
            Some((i, name)) => format!("step {}/{} {name}", i + 1, self.steps),
            None => String::new(),
        }
    }

    /// What follows the step: bytes written, pool usage.
    fn usage_text(&self, st: &State) -> String {
        let mut s = String::new();
        if st.total > 0 {
            let f = st.bytes as f64 / st.total as f64;
            s.push_str(&format!(
                " {:>5.1}% of {} MiB written",
                f * 100.0,
                st.total >> 20
            ));
        } else if st.bytes > 0 {
            s.push_str(&format!(" {} MiB written", st.bytes >> 20));
        }
        if let Some((du, dt, mu, mt, mode)) = &st.pool {
            s.push_str(&format!(
                " | pool data {:.0}% meta {:.0}% {mode}",
                pct(*du, *dt),
                pct(*mu, *mt)
            ));
        }
        s
    }

    fn status_text(&self, st: &State) -> String {
        format!("{}{}", self.step_text(st), self.usage_text(st))
    }

    /// Update the live line (terminal) or print a plain one now and then (CI).
    fn tick(&self, st: &mut State) {
        if self.tty {
            let with_bar = st.total > 0;
            self.bar.set_style(style(with_bar));
            self.bar.set_length(st.total);
            self.bar.set_position(st.bytes.min(st.total));
            self.bar
                .set_prefix(format!("{}   {}", secs(st.t_ms), self.step_text(st)));
            self.bar
                .set_message(self.usage_text(st).trim_start().to_owned());
        } else if st.step.is_some() {
            let now = Instant::now();
            let last = *st.last_plain.get_or_insert(now);
            if now - last >= PLAIN_EVERY {
                st.last_plain = Some(now);
                let text = format!("{}     {}", secs(st.t_ms), self.status_text(st));
                self.line(st, &text);
            }
        }
    }

    /// A pool sample (periodic status reading).
    pub fn sample(&self, s: &PoolSample) {
        let Ok(mut st) = self.state.lock() else {
            return;
        };
        st.t_ms = st.t_ms.max(s.t_ms);
        st.pool = Some((
            s.data_used,
            s.data_total,
            s.meta_used,
            s.meta_total,
            s.mode.clone(),
        ));
        self.tick(&mut st);
    }

    /// An event of the run.
    pub fn event(&self, ev: &RunEvent) {
        let Ok(mut st) = self.state.lock() else {
            return;
        };
        st.t_ms = st.t_ms.max(ev.t_ms);
        let t = secs(ev.t_ms);
        match &ev.kind {
            EventKind::CaseStarted { case } => {
                st.pool = None;
                self.line(&mut st, &format!("{t} case {case}"));
            }
            EventKind::StepStarted { index, name, .. } => {
                st.step = Some((*index, name.clone()));
                (st.bytes, st.total, st.last_plain) = (0, 0, None);
                let n = self.steps;
                self.line(&mut st, &format!("{t}   step {}/{n} {name} ...", index + 1));
                self.tick(&mut st);
            }
            EventKind::Progress { bytes, total, .. } => {
                (st.bytes, st.total) = (*bytes, *total);
                self.tick(&mut st);
            }
            EventKind::PoolStatus { usage, .. } => {
                st.pool = Some((
                    usage.data_used.0,
                    usage.data_total.0,
                    usage.meta_used.0,
                    usage.meta_total.0,
                    usage.mode.as_str().to_owned(),
                ));
            }
            EventKind::StepFinished { result, .. } => {
                st.step = None;
                let extra = match &result.workload {
                    Some(w) => format!(
                        " {:.0} IOPS {:.1} MB/s p99 {:.0} us",
                        w.iops,
                        w.mb_per_s,
                        w.latency.p99_ns as f64 / 1e3
                    ),
                    None => String::new(),
                };
                let mut text = format!(
                    "{t}   step {}/{} {}: {}{extra}",
                    result.index + 1,
                    self.steps,
                    result.name,
                    status_word(result.status)
                );
                if let Some(e) = &result.error {
                    text.push_str(&format!("\n{t}     error: {e}"));
                }
                for x in result
                    .expectations
                    .iter()
                    .filter(|x| x.status == Status::Failed)
                {
                    text.push_str(&format!(
                        "\n{t}     FAILED {}",
                        x.message.as_deref().unwrap_or(&x.what)
                    ));
                }
                self.line(&mut st, &text);
            }
            EventKind::ModeChange { pool, from, to } => {
                let text = format!("{t}   pool {pool}: {} -> {}", from.as_str(), to.as_str());
                self.line(&mut st, &text);
            }
            EventKind::Autoextend {
                pool,
                by,
                used_blocks,
                from_blocks,
                to_blocks,
                error,
            } => {
                let what = match (to_blocks, error) {
                    (Some(to), _) => format!("{from_blocks} -> {to} data blocks"),
                    (None, e) => format!("failed: {}", e.as_deref().unwrap_or("?")),
                };
                let text =
                    format!("{t}   pool {pool}: autoextend by {by} at {used_blocks} used: {what}");
                self.line(&mut st, &text);
            }
            EventKind::Error { message } => self.line(&mut st, &format!("{t}   error: {message}")),
            EventKind::CaseFinished { case, status } => {
                let text = format!("{t} case {case}: {}", status_word(*status));
                self.line(&mut st, &text);
            }
            _ => {}
        }
    }

    /// End the live line (before the summary is printed).
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_and_status_text() {
        let p = Progress::new(9, false);
        assert!(p.bar.is_hidden(), "no terminal: indicatif draws nothing");
        let mut st = State {
            step: Some((2, "fill".into())),
            bytes: 64 << 20,
            total: 256 << 20,
            pool: Some((3000, 4096, 50, 1000, "rw".into())),
            ..State::default()
        };
        assert_eq!(
            p.status_text(&st),
            "step 3/9 fill  25.0% of 256 MiB written | pool data 73% meta 5% rw"
        );
        st.total = 0;
        assert_eq!(
            p.status_text(&st),
            "step 3/9 fill 64 MiB written | pool data 73% meta 5% rw"
        );
    }

    #[test]
    fn a_terminal_bar_follows_the_bytes_written() {
        // Drawn to a hidden target here, but a terminal's state: the bar's own numbers.
        let mut p = Progress::new(2, false);
        p.tty = true;
        let mut st = State {
            step: Some((0, "fill".into())),
            bytes: 3 << 20,
            total: 4 << 20,
            ..State::default()
        };
        p.tick(&mut st);
        assert_eq!(p.bar.length(), Some(4 << 20));
        assert_eq!(p.bar.position(), 3 << 20);
        assert!(
            p.bar.prefix().ends_with("step 1/2 fill"),
            "{}",
            p.bar.prefix()
        );
        assert_eq!(p.bar.message(), "75.0% of 4 MiB written");
    }
}
