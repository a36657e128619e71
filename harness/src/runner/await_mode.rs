//! `await_mode`: a step that starts once the pool reports a mode, which the IO of a
//! background step gets it to (a full pool holding a filesystem's writes, as the peer's
//! resize thread waits for `out_of_data_space`). Polled; the step fails if the mode does
//! not come within the limit, or every background workload ended without it.

use std::time::{Duration, Instant};

use super::case::CaseState;
use super::error::StepError;
use crate::backend::PoolBackend;
use crate::spec::StepSpec;
use crate::sys::signals;

/// How long a step waits for its mode.
pub const LIMIT: Duration = Duration::from_secs(300);
const POLL: Duration = Duration::from_millis(100);

/// Returns once the pool is in the step's `await_mode` (at once without one).
pub fn until(
    step: &StepSpec,
    backend: &dyn PoolBackend,
    state: &CaseState,
) -> Result<(), StepError> {
    let Some(want) = step.await_mode else {
        return Ok(());
    };
    let started = Instant::now();
    loop {
        let now = backend.status()?.mode;
        if now == want {
            return Ok(());
        }
        // Nothing else changes the mode: once every workload is done, it will not come.
        let running = state
            .background
            .values()
            .any(|j| j.handle.as_ref().is_some_and(|h| !h.is_finished()));
        if !running {
            return Err(StepError::Failed(format!(
                "await_mode: the pool is {} and no background workload is running to make it {}",
                now.as_str(),
                want.as_str()
            )));
        }
        if started.elapsed() >= LIMIT {
            return Err(StepError::Failed(format!(
                "await_mode: the pool is still {} after {}s, not {}",
                now.as_str(),
                LIMIT.as_secs(),
                want.as_str()
            )));
        }
        if signals::stop_requested() {
            return Err("interrupted".into());
        }
        std::thread::sleep(POLL);
    }
}
