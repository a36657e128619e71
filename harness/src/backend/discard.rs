//! Discards of a thin's byte range: BLKDISCARD on a block device, and the fake pool's
//! equivalent on its sparse files (holes punched over the whole chunks of the range, as
//! dm-thin unmaps them).

use std::fs::OpenOptions;
use std::os::unix::io::AsRawFd;
use std::path::Path;

use nix::errno::Errno;
use thinbench_schema::units::Bytes;

use super::error::BackendError;

/// `BLKDISCARD` = `_IO(0x12, 119)`: discard a byte range `[start, len]` of a block device.
const BLKDISCARD: u64 = 0x1277;

/// BLKDISCARD of `len` bytes at `offset` of `dev`. The kernel's errno is kept: EINVAL
/// for a range past the end (or not in whole sectors), EOPNOTSUPP for a device that
/// takes no discards (a pool with `ignore_discard`).
pub fn blkdiscard(dev: &Path, offset: Bytes, len: Bytes) -> Result<(), BackendError> {
    let f = OpenOptions::new()
        .write(true)
        .open(dev)
        .map_err(|source| BackendError::Io {
            what: "opening".into(),
            path: dev.to_owned(),
            source,
        })?;
    let range: [u64; 2] = [offset.0, len.0];
    // SAFETY: BLKDISCARD reads two u64s from the pointer, which outlives the call.
    let r = unsafe { libc::ioctl(f.as_raw_fd(), BLKDISCARD as _, range.as_ptr()) };
    if r != 0 {
        return Err(BackendError::Errno {
            op: "BLKDISCARD".into(),
            device: dev.display().to_string(),
            errno: Errno::last(),
            why: format!("{} at {}", len.human(), offset.human()),
        });
    }
    Ok(())
}

/// The fake pool's discard of `len` bytes at `offset` of `file` (a thin of `size` with
/// `chunk`-sized blocks): the block layer's checks (whole sectors, inside the device:
/// EINVAL), then a hole over every whole chunk of the range (partial chunks keep their
/// data, as dm-thin keeps their blocks). The fake's scan then gives those blocks back.
pub fn punch_chunks(
    file: &Path,
    size: Bytes,
    chunk: Bytes,
    offset: Bytes,
    len: Bytes,
) -> Result<(), BackendError> {
    let refuse = |why: &str| BackendError::Errno {
        op: "BLKDISCARD".into(),
        device: file.display().to_string(),
        errno: Errno::EINVAL,
        why: why.into(),
    };
    if !offset.0.is_multiple_of(512) || !len.0.is_multiple_of(512) {
        return Err(refuse("the range is not in whole sectors"));
    }
    if offset.0.checked_add(len.0).is_none_or(|e| e > size.0) {
        return Err(refuse("the range goes past the end of the device"));
    }
    let first = offset.0.div_ceil(chunk.0) * chunk.0;
    let end = (offset.0 + len.0) / chunk.0 * chunk.0;
    if first >= end {
        return Ok(());
    }
    let f = OpenOptions::new()
        .write(true)
        .open(file)
        .map_err(|source| BackendError::Io {
            what: "opening".into(),
            path: file.to_owned(),
            source,
        })?;
    let (Ok(at), Ok(n)) = (i64::try_from(first), i64::try_from(end - first)) else {
        return Err(refuse("the range does not fit an off_t"));
    };
    // SAFETY: fallocate on a descriptor we own; no memory is passed.
    let r = unsafe {
        libc::fallocate(
            f.as_raw_fd(),
            libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
            at,
            n,
        )
    };
    if r != 0 {
        return Err(BackendError::Io {
            what: "punching a hole in".into(),
            path: file.to_owned(),
            source: std::io::Error::last_os_error(),
        });
    }
    Ok(())
}
