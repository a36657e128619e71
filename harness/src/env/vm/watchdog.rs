//! The timeout of a run on this kernel (a host with dm, or the guest itself).

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use thinbench_schema::record::Status;

use crate::record::{read_summary, write_json_atomic};
use crate::sys::signals;

/// How long a run that passed its timeout gets to stop in order before it gives up.
pub const TIMEOUT_GRACE: Duration = Duration::from_secs(20);

/// Enforces the scenario's timeout: first an orderly stop (the runner tears down and
/// marks the results incomplete), then, if IO held in the kernel (e.g.
/// `queue_if_no_space` with no timeout) keeps the run from stopping, an exit that leaves
/// the devices for `thinbench cleanup` rather than a harness hung for ever.
pub struct Watchdog {
    done: Arc<AtomicBool>,
}

impl Watchdog {
    /// Start watching the run writing to `out`. `say` tells the user what it does (the
    /// library does not print); `stuck_exit` is the process exit code when it gives up;
    /// `grace` how long an orderly stop may take ([`TIMEOUT_GRACE`], longer on a clock
    /// that runs ahead of wall time).
    pub fn start(
        timeout: Duration,
        grace: Duration,
        out: &Path,
        guest: bool,
        say: fn(&str),
        stuck_exit: i32,
    ) -> Watchdog {
        let done = Arc::new(AtomicBool::new(false));
        let d = done.clone();
        let out = out.to_owned();
        let wait = move |limit: Duration| {
            let t0 = Instant::now();
            while t0.elapsed() < limit {
                if d.load(Ordering::SeqCst) {
                    return true;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            d.load(Ordering::SeqCst)
        };
        std::thread::spawn(move || {
            if wait(timeout) {
                return;
            }
            let why = format!(
                "timed out: the run passed its timeout of {}s",
                timeout.as_secs()
            );
            say(&format!("{why}; stopping"));
            signals::request_stop(&why);
            if wait(grace) {
                say("stopped within the grace period");
                return;
            }
            // Still stuck: some IO does not return. Say so in the results, show where the
            // kernel is blocked (in the guest: on the console), and leave.
            let stuck = format!(
                "{why}, and it could not stop within {}s: IO is held in the kernel; {}",
                grace.as_secs(),
                if guest {
                    "the VM is powered off with it"
                } else {
                    "its devices are left for `thinbench cleanup`"
                }
            );
            say(&stuck);
            if let Ok(mut s) = read_summary(&out) {
                s.status = Status::Incomplete;
                s.error = Some(stuck);
                let _ = write_json_atomic(&out.join("summary.json"), &s);
            }
            if guest {
                power_off_stuck_guest();
            }
            std::process::exit(stuck_exit);
        });
        Watchdog { done }
    }
}

/// A process with a thread stuck in the kernel cannot exit, so the guest would wait for it
/// for ever: tell the host (the console marker its watcher knows), dump the blocked tasks
/// and their stacks to the console (KERN_INFO lines), and power the VM off; the results
/// are on the host.
fn power_off_stuck_guest() {
    let _ = std::fs::write(
        "/dev/ttyS0",
        "thinbench-guest: watchdog: the run is stuck in the kernel; blocked tasks follow\n",
    );
    let _ = std::fs::write("/proc/sys/kernel/printk", "7");
    let _ = std::fs::write("/proc/sysrq-trigger", "w");
    std::thread::sleep(Duration::from_secs(2));
    let _ = std::fs::write("/proc/sysrq-trigger", "o");
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.done.store(true, Ordering::SeqCst);
    }
}
