//! The queue-depth engine: io_uring (the `io-uring` crate, raw syscalls, no liburing).
//!
//! One ring per engine (per job thread), one aligned buffer per slot allocated up front,
//! so the hot path neither allocates nor locks. `submit` only fills a submission queue
//! entry; the syscall happens in `complete` (`io_uring_enter` submits everything queued
//! and waits for at least one completion), so a burst of submissions costs one syscall,
//! as in fio's io_uring engine. Latency runs from the moment an IO is queued to the
//! moment its completion is reaped: what fio reports as `lat` (its total latency).

use std::io;
use std::time::Instant;

use io_uring::{opcode, types, IoUring};

use crate::engine::{AlignedBuf, Completion, Device, IoEngine, IoOp, IoRequest};

/// An io_uring engine on one device.
pub struct UringEngine<'d> {
    dev: &'d Device,
    ring: IoUring,
    bufs: Vec<AlignedBuf>,
    /// When each slot's IO was queued; `None` when the slot is free.
    queued_at: Vec<Option<Instant>>,
    /// Each slot's last request, handed back with its completion.
    requests: Vec<IoRequest>,
    in_flight: usize,
    /// Most IOs ever in flight at once: the depth the workload really reached.
    max_in_flight: usize,
    /// The ring's set-up flags that the kernel took.
    setup: RingSetup,
}

/// How the ring was set up: the completion-delivery flags fio's io_uring engine also
/// asks for, as far as the kernel takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RingSetup {
    /// `SINGLE_ISSUER | DEFER_TASKRUN` (6.1+): completions are posted only when the job
    /// waits for them, in its own context: no IPI, no wake-up of another CPU per IO.
    DeferTaskrun,
    /// `COOP_TASKRUN` (5.19+): no IPI to post a completion.
    CoopTaskrun,
    /// Plain (older kernels).
    Plain,
}

impl RingSetup {
    /// As shown in results.
    pub fn as_str(self) -> &'static str {
        match self {
            RingSetup::DeferTaskrun => "single_issuer+defer_taskrun",
            RingSetup::CoopTaskrun => "coop_taskrun",
            RingSetup::Plain => "plain",
        }
    }
}

/// A ring of `depth` entries with the best completion delivery the kernel has; EINVAL
/// (a flag unknown to this kernel) steps down, as fio does. Measured under TCG, the
/// plain ring's cross-CPU completion wake-ups cost milliseconds per IO at low depth.
fn new_ring(depth: u32) -> io::Result<(IoUring, RingSetup)> {
    let einval = |e: &io::Error| e.raw_os_error() == Some(libc::EINVAL);
    match IoUring::builder()
        .setup_coop_taskrun()
        .setup_single_issuer()
        .setup_defer_taskrun()
        .build(depth)
    {
        Ok(r) => return Ok((r, RingSetup::DeferTaskrun)),
        Err(e) if !einval(&e) => return Err(e),
        Err(_) => {}
    }
    match IoUring::builder().setup_coop_taskrun().build(depth) {
        Ok(r) => return Ok((r, RingSetup::CoopTaskrun)),
        Err(e) if !einval(&e) => return Err(e),
        Err(_) => {}
    }
    Ok((IoUring::new(depth)?, RingSetup::Plain))
}

impl std::fmt::Debug for UringEngine<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UringEngine")
            .field("dev", &self.dev.path())
            .field("queue_depth", &self.bufs.len())
            .field("in_flight", &self.in_flight)
            .finish_non_exhaustive()
    }
}

impl<'d> UringEngine<'d> {
    /// A ring of `queue_depth` entries on `dev`, with as many buffers of `buf_len` bytes.
    /// Fails with the OS error when the kernel has no io_uring (ENOSYS) or refuses it
    /// (EPERM under `kernel.io_uring_disabled`, seccomp): callers fall back to
    /// [`crate::SyncEngine`].
    pub fn new(dev: &'d Device, queue_depth: usize, buf_len: usize) -> io::Result<Self> {
        let depth = u32::try_from(queue_depth)
            .ok()
            .filter(|d| (1..=4096).contains(d))
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("queue depth {queue_depth} is not within 1..=4096"),
                )
            })?;
        // `len` of an SQE is a u32: refuse buffers it cannot describe.
        if u32::try_from(buf_len).is_err() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("buffer of {buf_len} bytes is too long for one io_uring IO"),
            ));
        }
        let (ring, setup) = new_ring(depth)?;
        Ok(UringEngine {
            setup,
            dev,
            ring,
            bufs: (0..queue_depth).map(|_| AlignedBuf::new(buf_len)).collect(),
            queued_at: vec![None; queue_depth],
            requests: (0..queue_depth)
                .map(|slot| IoRequest {
                    slot,
                    op: IoOp::Read,
                    offset: thinbench_schema::units::Bytes(0),
                    len: 0,
                })
                .collect(),
            in_flight: 0,
            max_in_flight: 0,
        })
    }

    /// How the ring was set up.
    pub fn setup(&self) -> RingSetup {
        self.setup
    }

    /// The most IOs that were in flight at once since the engine was made.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight
    }

    /// Wait for every IO in flight (their buffers must outlive the kernel's use).
    fn drain(&mut self) -> io::Result<()> {
        while self.in_flight > 0 {
            self.complete(&mut |_| {})?;
        }
        Ok(())
    }
}

impl IoEngine for UringEngine<'_> {
    fn queue_depth(&self) -> usize {
        self.bufs.len()
    }

    fn buf_mut(&mut self, slot: usize) -> &mut [u8] {
        assert!(
            self.queued_at[slot].is_none(),
            "UringEngine slot {slot} is in flight"
        );
        &mut self.bufs[slot]
    }

    fn submit(&mut self, request: IoRequest) -> io::Result<()> {
        let IoRequest {
            slot, op, offset, ..
        } = request;
        let bad = |why: &str| {
            Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{why}: {request:?}"),
            ))
        };
        if slot >= self.bufs.len() || request.len > self.bufs[slot].len() {
            return bad("slot or length out of range");
        }
        if self.queued_at[slot].is_some() {
            return bad("slot is still in flight");
        }
        let fd = types::Fd(self.dev.raw_fd());
        let len = request.len as u32; // checked against the buffer, itself < 4 GiB
        let buf = &mut self.bufs[slot];
        let entry = match op {
            IoOp::Write => opcode::Write::new(fd, buf.as_ptr(), len)
                .offset(offset.0)
                .build(),
            IoOp::Read => opcode::Read::new(fd, buf.as_mut_ptr(), len)
                .offset(offset.0)
                .build(),
        }
        .user_data(slot as u64);
        // SAFETY: the buffer is owned by `self`, is not handed out while the slot is in
        // flight (`buf_mut` asserts), and `Drop` waits for every IO before the buffers
        // go; the fd outlives the engine (`'d`).
        let pushed = unsafe { self.ring.submission().push(&entry) };
        if pushed.is_err() {
            // Unreachable: the ring has as many entries as there are slots.
            return bad("submission queue full");
        }
        self.queued_at[slot] = Some(Instant::now());
        self.requests[slot] = request;
        self.in_flight += 1;
        self.max_in_flight = self.max_in_flight.max(self.in_flight);
        Ok(())
    }

    fn complete(&mut self, done: &mut dyn FnMut(Completion)) -> io::Result<usize> {
        if self.in_flight == 0 {
            return Ok(0);
        }
        loop {
            match self.ring.submit_and_wait(1) {
                Ok(_) => break,
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
                Err(e) => return Err(e),
            }
        }
        // One clock read per reaped batch: completions reaped together finished within
        // the wait's return, and a clock read per IO costs more than that spread.
        let now = Instant::now();
        let mut n = 0;
        // Copy completions out in batches: the completion queue borrows the ring, and
        // freeing slots needs `self`.
        let mut cq = self.ring.completion();
        let mut reaped = [(0u64, 0i32); 64];
        let mut k = 0;
        loop {
            while k < reaped.len() {
                match cq.next() {
                    Some(cqe) => {
                        reaped[k] = (cqe.user_data(), cqe.result());
                        k += 1;
                    }
                    None => break,
                }
            }
            drop(cq);
            for &(slot, res) in &reaped[..k] {
                let slot = slot as usize;
                let Some(queued) = self.queued_at.get_mut(slot).and_then(Option::take) else {
                    return Err(io::Error::other(format!(
                        "io_uring completed unknown slot {slot}"
                    )));
                };
                self.in_flight -= 1;
                let request = self.requests[slot];
                let result = if res < 0 {
                    Err(io::Error::from_raw_os_error(-res))
                } else if res as usize != request.len {
                    // O_DIRECT on a block device completes whole or not at all; a short
                    // transfer (end of a file) is reported rather than resubmitted.
                    Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("short {:?}: {res} of {} bytes", request.op, request.len),
                    ))
                } else {
                    Ok(())
                };
                done(Completion {
                    request,
                    result,
                    latency: now.saturating_duration_since(queued),
                });
                n += 1;
            }
            if k < reaped.len() {
                break;
            }
            k = 0;
            cq = self.ring.completion();
        }
        Ok(n)
    }
}

impl Drop for UringEngine<'_> {
    fn drop(&mut self) {
        // The kernel may still write into the buffers: wait for it. Should waiting fail,
        // leak the buffers rather than free memory the kernel may yet write.
        if self.drain().is_err() {
            std::mem::forget(std::mem::take(&mut self.bufs));
        }
    }
}
