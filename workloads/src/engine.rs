//! The IO path: an aligned buffer, a device opened for (optionally) O_DIRECT IO, and the
//! [`IoEngine`] trait workloads drive.
//!
//! Workloads see the device only through [`IoEngine`]'s submit/complete shape: a
//! queue-depth engine ([`crate::uring::UringEngine`]) must own its buffers while the
//! kernel holds them and measures latency from submission to completion, so the trait is
//! shaped for that and the synchronous engine ([`SyncEngine`], the fallback where
//! io_uring is unavailable) is its depth-1 case. Errors keep the OS errno ([`io::Error`]
//! from the syscall, untouched) because ENOSPC from a full pool is a result a scenario
//! checks for, not a failure to hide.

use std::alloc::{self, Layout};
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io;
use std::ops::{Deref, DerefMut};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileExt, FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::ptr::NonNull;
use std::time::{Duration, Instant};

use thinbench_schema::units::Bytes;

use crate::error::WorkloadError;

/// A zeroed heap buffer whose start is aligned to [`AlignedBuf::ALIGN`] bytes, as O_DIRECT
/// needs. Allocated once per workload and reused for every IO: the hot path never
/// allocates.
pub struct AlignedBuf {
    ptr: NonNull<u8>,
    len: usize,
    layout: Layout,
}

// SAFETY: `AlignedBuf` uniquely owns its allocation, like `Box<[u8]>`; shared access only
// hands out `&[u8]`.
unsafe impl Send for AlignedBuf {}
// SAFETY: as above; no interior mutability.
unsafe impl Sync for AlignedBuf {}

impl AlignedBuf {
    /// Alignment of the buffer's start: 4096 covers the logical block size of every disk
    /// (512 or 4096) and the page size O_DIRECT on some filesystems wants.
    pub const ALIGN: usize = 4096;

    /// A zeroed buffer of `len` bytes.
    ///
    /// # Panics
    /// If `len` rounded up to [`Self::ALIGN`] overflows `isize` (as `Vec` does); aborts via
    /// [`alloc::handle_alloc_error`] when memory runs out.
    pub fn new(len: usize) -> AlignedBuf {
        // Round the allocation up to whole alignment units: never a zero-size allocation
        // (undefined for `alloc`), and a whole-block tail even for odd lengths.
        let cap = len
            .max(1)
            .checked_next_multiple_of(Self::ALIGN)
            .expect("AlignedBuf capacity overflow");
        let layout =
            Layout::from_size_align(cap, Self::ALIGN).expect("AlignedBuf capacity overflow");
        // SAFETY: `layout` has a non-zero size.
        let raw = unsafe { alloc::alloc_zeroed(layout) };
        let ptr = NonNull::new(raw).unwrap_or_else(|| alloc::handle_alloc_error(layout));
        AlignedBuf { ptr, len, layout }
    }

    /// Length in bytes (as asked, not the rounded-up allocation).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the buffer is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Deref for AlignedBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: `ptr` points to `layout.size() >= len` initialised (zeroed) bytes owned
        // by `self`, alive for `&self`.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl DerefMut for AlignedBuf {
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `deref`, and `&mut self` makes the access unique.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for AlignedBuf {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with exactly this layout, freed only here.
        unsafe { alloc::dealloc(self.ptr.as_ptr(), self.layout) }
    }
}

impl fmt::Debug for AlignedBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AlignedBuf")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

/// A block device (or regular file standing in for one) opened for positional IO.
#[derive(Debug)]
pub struct Device {
    file: File,
    path: PathBuf,
    direct: bool,
    block: bool,
}

impl Device {
    /// Open `path` for reading and writing; with `direct`, with O_DIRECT so IO bypasses
    /// the page cache and reaches dm-thin as issued (one bio per IO, errors at once).
    /// The file must exist: this never creates or truncates.
    pub fn open(path: impl AsRef<Path>, direct: bool) -> Result<Device, WorkloadError> {
        Self::open_with(path.as_ref(), direct, true)
    }

    /// Open `path` read-only (for verifying a device activated read-only, a snapshot).
    pub fn open_read_only(path: impl AsRef<Path>, direct: bool) -> Result<Device, WorkloadError> {
        Self::open_with(path.as_ref(), direct, false)
    }

    fn open_with(path: &Path, direct: bool, write: bool) -> Result<Device, WorkloadError> {
        let open_err = |source| WorkloadError::Open {
            path: path.to_owned(),
            direct,
            source,
        };
        let mut opts = OpenOptions::new();
        opts.read(true).write(write);
        if direct {
            opts.custom_flags(libc::O_DIRECT);
        }
        let file = opts.open(path).map_err(open_err)?;
        let block = file
            .metadata()
            .map_err(open_err)?
            .file_type()
            .is_block_device();
        Ok(Device {
            file,
            path: path.to_owned(),
            direct,
            block,
        })
    }

    /// The file descriptor, for engines that issue IO themselves (io_uring).
    pub fn raw_fd(&self) -> std::os::fd::RawFd {
        self.file.as_raw_fd()
    }

    /// The path it was opened as.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether it was opened with O_DIRECT.
    pub fn is_direct(&self) -> bool {
        self.direct
    }

    /// Whether it is a block device (else a regular file or other node).
    pub fn is_block_device(&self) -> bool {
        self.block
    }

    /// Length in bytes: BLKGETSIZE64 for block devices (their inode size is 0), the file
    /// length otherwise.
    pub fn len(&self) -> Result<Bytes, WorkloadError> {
        let size_err = |source| WorkloadError::Size {
            path: self.path.clone(),
            source,
        };
        if self.block {
            blk_get_size64(&self.file).map(Bytes).map_err(size_err)
        } else {
            self.file
                .metadata()
                .map(|m| Bytes(m.len()))
                .map_err(size_err)
        }
    }

    /// Check that IO up to `end` stays on the device, and give the buffer length of an
    /// `io_size` IO (what every workload checks before its first IO).
    pub fn io_len_within(&self, end: Bytes, io_size: Bytes) -> Result<usize, WorkloadError> {
        let len = self.len()?;
        if end > len {
            return Err(WorkloadError::RegionBeyondDevice {
                path: self.path.clone(),
                end,
                len,
            });
        }
        usize::try_from(io_size.0).map_err(|_| WorkloadError::InvalidParam {
            param: "io_size",
            reason: format!("{io_size} does not fit memory"),
        })
    }

    /// Write all of `buf` at `offset`. With O_DIRECT, `buf`'s address, length and
    /// `offset` must be multiples of the logical block size (EINVAL otherwise). Short
    /// writes are continued; the error is the syscall's, errno intact.
    pub fn write_at(&self, buf: &[u8], offset: Bytes) -> io::Result<()> {
        self.debug_check_direct(buf.as_ptr(), buf.len(), offset);
        self.file.write_all_at(buf, offset.0)
    }

    /// Fill all of `buf` from `offset`; reading past the end is `UnexpectedEof`.
    pub fn read_at(&self, buf: &mut [u8], offset: Bytes) -> io::Result<()> {
        self.debug_check_direct(buf.as_ptr(), buf.len(), offset);
        self.file.read_exact_at(buf, offset.0)
    }

    /// `fdatasync(2)`: for buffered IO this is where write errors (ENOSPC from a full
    /// pool) surface; for O_DIRECT it flushes the device's volatile cache.
    pub fn fdatasync(&self) -> io::Result<()> {
        self.file.sync_data()
    }

    /// O_DIRECT misalignment is a caller bug that the kernel reports as a bare EINVAL,
    /// easy to mistake for a device answer; catch it in debug builds.
    fn debug_check_direct(&self, addr: *const u8, len: usize, offset: Bytes) {
        if self.direct {
            debug_assert!(
                (addr as usize).is_multiple_of(512)
                    && len.is_multiple_of(512)
                    && offset.0.is_multiple_of(512),
                "O_DIRECT IO must be 512-byte aligned (addr {addr:p}, len {len}, offset {offset})"
            );
        }
    }
}

/// `ioctl(fd, BLKGETSIZE64, &u64)`. libc has no constant for it: it is `_IOR(0x12, 114,
/// size_t)`, and the kernel always writes a u64.
fn blk_get_size64(file: &File) -> io::Result<u64> {
    let request = nix::request_code_read!(0x12, 114, std::mem::size_of::<u64>());
    let mut size: u64 = 0;
    // SAFETY: BLKGETSIZE64 writes one u64 through the pointer, which points to `size`;
    // the fd is open for the duration of the call.
    let rc = unsafe { libc::ioctl(file.as_raw_fd(), request as _, &mut size as *mut u64) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(size)
}

/// Direction of an IO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoOp {
    /// Read into the slot's buffer.
    Read,
    /// Write the slot's buffer.
    Write,
}

/// One IO handed to an [`IoEngine`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IoRequest {
    /// Which of the engine's buffers; `0..queue_depth()`.
    pub slot: usize,
    /// Read or write.
    pub op: IoOp,
    /// Device offset.
    pub offset: Bytes,
    /// Bytes from the start of the slot's buffer.
    pub len: usize,
}

/// A finished IO.
#[derive(Debug)]
pub struct Completion {
    /// The request, as submitted.
    pub request: IoRequest,
    /// The outcome; the OS error with its errno on failure.
    pub result: io::Result<()>,
    /// Time from submission to completion as the engine saw it (for the synchronous
    /// engine: the syscall alone).
    pub latency: Duration,
}

/// How workloads issue IO. An engine owns `queue_depth()` buffers ("slots"); a workload
/// fills a free slot's buffer, submits it, and collects completions, after which the slot
/// is free again. Buffers live in the engine because a queue-depth engine must keep them
/// valid while the kernel owns them.
pub trait IoEngine {
    /// How many IOs may be in flight (number of slots).
    fn queue_depth(&self) -> usize;

    /// The buffer of a slot that is not in flight: fill it before a write, read it after
    /// a read completes. Every slot is at least as long as the engine was built for.
    ///
    /// # Panics
    /// If `slot` is out of range or in flight.
    fn buf_mut(&mut self, slot: usize) -> &mut [u8];

    /// Start an IO. An error here means the engine could not queue it (a bad request,
    /// the ring is broken); the IO's own failure arrives in its [`Completion`].
    fn submit(&mut self, request: IoRequest) -> io::Result<()>;

    /// Wait for at least one IO if any is in flight, hand every finished one to `done`,
    /// and return how many were handed over (0 when nothing was in flight).
    fn complete(&mut self, done: &mut dyn FnMut(Completion)) -> io::Result<usize>;
}

/// The depth-1 engine: each submit is one blocking `pwrite`/`pread`, timed around the
/// syscall alone.
#[derive(Debug)]
pub struct SyncEngine<'d> {
    dev: &'d Device,
    buf: AlignedBuf,
    done: Option<Completion>,
    busy_wait: Duration,
}

impl<'d> SyncEngine<'d> {
    /// An engine on `dev` with one slot of `buf_len` bytes.
    pub fn new(dev: &'d Device, buf_len: usize) -> SyncEngine<'d> {
        SyncEngine {
            dev,
            buf: AlignedBuf::new(buf_len),
            done: None,
            busy_wait: Duration::ZERO,
        }
    }

    /// The same engine spinning on the clock for `wait` inside each IO's timed window,
    /// before the syscall: every latency grows by `wait` and the time is really spent (a
    /// sleep would let an instruction-clock guest skip it). The gate's self-validation
    /// injects its slowdown of known cost this way.
    pub fn with_busy_wait(mut self, wait: Duration) -> SyncEngine<'d> {
        self.busy_wait = wait;
        self
    }
}

impl IoEngine for SyncEngine<'_> {
    fn queue_depth(&self) -> usize {
        1
    }

    fn buf_mut(&mut self, slot: usize) -> &mut [u8] {
        assert!(slot == 0, "SyncEngine has one slot, got {slot}");
        assert!(self.done.is_none(), "SyncEngine slot 0 is in flight");
        &mut self.buf
    }

    fn submit(&mut self, request: IoRequest) -> io::Result<()> {
        if request.slot != 0 || request.len > self.buf.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "bad request for a 1-slot engine of {} bytes: {request:?}",
                    self.buf.len()
                ),
            ));
        }
        if self.done.is_some() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "slot 0 is still in flight",
            ));
        }
        let start = Instant::now();
        if !self.busy_wait.is_zero() {
            while start.elapsed() < self.busy_wait {
                std::hint::spin_loop();
            }
        }
        let result = match request.op {
            IoOp::Write => self.dev.write_at(&self.buf[..request.len], request.offset),
            IoOp::Read => self
                .dev
                .read_at(&mut self.buf[..request.len], request.offset),
        };
        let latency = start.elapsed();
        self.done = Some(Completion {
            request,
            result,
            latency,
        });
        Ok(())
    }

    fn complete(&mut self, done: &mut dyn FnMut(Completion)) -> io::Result<usize> {
        Ok(match self.done.take() {
            Some(c) => {
                done(c);
                1
            }
            None => 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_file::temp_device;

    #[test]
    fn busy_wait_is_inside_the_timed_window() {
        let (_dir, path) = temp_device(1 << 20);
        let dev = Device::open(&path, false).unwrap();
        let wait = Duration::from_millis(3);
        let mut eng = SyncEngine::new(&dev, 4096).with_busy_wait(wait);
        for _ in 0..3 {
            eng.submit(IoRequest {
                slot: 0,
                op: IoOp::Write,
                offset: Bytes(0),
                len: 4096,
            })
            .unwrap();
            let mut lat = Duration::ZERO;
            assert_eq!(eng.complete(&mut |c| lat = c.latency).unwrap(), 1);
            assert!(lat >= wait, "latency {lat:?} < busy wait {wait:?}");
        }
    }

    #[test]
    fn aligned_buf_is_aligned_zeroed_and_sized() {
        for len in [0, 1, 512, 4096, 4097, 1 << 20] {
            let mut b = AlignedBuf::new(len);
            assert_eq!(b.as_ptr() as usize % AlignedBuf::ALIGN, 0);
            assert_eq!(b.len(), len);
            assert!(b.iter().all(|&x| x == 0));
            b.fill(0xa5);
            assert!(b.iter().all(|&x| x == 0xa5));
        }
    }

    #[test]
    fn file_device_round_trip_and_len() {
        let (_dir, path) = temp_device(1 << 20);
        let dev = Device::open(&path, false).unwrap();
        assert!(!dev.is_block_device());
        assert_eq!(dev.len().unwrap(), Bytes(1 << 20));
        let mut b = AlignedBuf::new(4096);
        b.fill(7);
        dev.write_at(&b, Bytes(8192)).unwrap();
        let mut r = AlignedBuf::new(4096);
        dev.read_at(&mut r, Bytes(8192)).unwrap();
        assert_eq!(&r[..], &b[..]);
        dev.fdatasync().unwrap();
        // Past the end is an error, not a silent short read.
        let e = dev.read_at(&mut r, Bytes(1 << 20)).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn open_error_keeps_errno() {
        let e = Device::open("/nonexistent/thinbench", false).unwrap_err();
        match e {
            WorkloadError::Open { source, .. } => {
                assert_eq!(source.raw_os_error(), Some(libc::ENOENT))
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn write_error_keeps_errno() {
        // /dev/full answers every write with ENOSPC, like a pool with error_if_no_space.
        let Ok(dev) = Device::open("/dev/full", false) else {
            eprintln!("skipped: /dev/full cannot be opened here");
            return;
        };
        let e = dev.write_at(&[0u8; 512], Bytes(0)).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOSPC));
    }

    #[test]
    fn sync_engine_is_depth_one_and_times_the_io() {
        let (_dir, path) = temp_device(1 << 16);
        let dev = Device::open(&path, false).unwrap();
        let mut eng = SyncEngine::new(&dev, 4096);
        assert_eq!(eng.queue_depth(), 1);
        eng.buf_mut(0).fill(9);
        let req = IoRequest {
            slot: 0,
            op: IoOp::Write,
            offset: Bytes(4096),
            len: 4096,
        };
        eng.submit(req).unwrap();
        // A second submit before reaping is refused, not silently dropped.
        assert!(eng.submit(req).is_err());
        let mut got = Vec::new();
        assert_eq!(eng.complete(&mut |c| got.push(c)).unwrap(), 1);
        assert_eq!(eng.complete(&mut |c| got.push(c)).unwrap(), 0);
        assert_eq!(got.len(), 1);
        assert!(got[0].result.is_ok());
        assert_eq!(got[0].request, req);
        eng.buf_mut(0).fill(0);
        eng.submit(IoRequest {
            op: IoOp::Read,
            ..req
        })
        .unwrap();
        eng.complete(&mut |c| c.result.unwrap()).unwrap();
        assert!(eng.buf_mut(0).iter().all(|&x| x == 9));
        let too_long = IoRequest { len: 8192, ..req };
        assert_eq!(
            eng.submit(too_long).unwrap_err().kind(),
            io::ErrorKind::InvalidInput
        );
    }
}
