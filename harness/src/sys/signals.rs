//! SIGINT/SIGTERM turn into a flag that the runner checks between IOs and steps, so an
//! interrupted run still tears down what it built and marks its results incomplete.

use std::sync::atomic::{AtomicBool, Ordering};

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

/// Install the handlers (idempotent).
pub fn install() {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
    let act = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for s in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe {
            let _ = sigaction(s, &act);
        }
    }
}

/// The flag itself, for code that polls it (workloads take `&AtomicBool`).
pub fn stop_flag() -> &'static AtomicBool {
    &STOP
}

/// Whether a stop was asked for.
pub fn stop_requested() -> bool {
    STOP.load(Ordering::SeqCst)
}

static REASON: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Ask the run to stop for `reason` (e.g. its timeout passed): the same orderly path as
/// SIGINT, with the reason recorded. The first reason given wins.
pub fn request_stop(reason: &str) {
    let _ = REASON.set(reason.to_owned());
    STOP.store(true, Ordering::SeqCst);
}

/// Why the run was asked to stop: the reason given to [`request_stop`], or
/// `interrupted` for a signal.
pub fn stop_reason() -> String {
    REASON
        .get()
        .cloned()
        .unwrap_or_else(|| "interrupted".to_owned())
}
