//! Sparse backing files on loop devices, attached under a lock so concurrent runs never
//! race on `/dev/loop-control`'s next-free device.

use std::fs::{self, File};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use loopdev::{LoopControl, LoopDevice};

use super::error::BackendError;

/// An attached loop device and its backing file.
pub struct Loop {
    dev: Option<LoopDevice>,
    /// `/dev/loopN`.
    pub path: PathBuf,
    /// Backing file.
    pub file: PathBuf,
    /// major:minor.
    pub majmin: String,
}

fn io(what: &str, path: &Path, source: std::io::Error) -> BackendError {
    BackendError::Io {
        what: what.into(),
        path: path.to_owned(),
        source,
    }
}

/// Create a sparse file of `len` bytes (truncating an existing one to zero first, so a
/// fresh metadata file starts zeroed).
pub fn sparse_file(path: &Path, len: u64) -> Result<(), BackendError> {
    if let Some(d) = path.parent() {
        fs::create_dir_all(d).map_err(|e| io("creating directory", d, e))?;
    }
    let f = File::create(path).map_err(|e| io("creating", path, e))?;
    f.set_len(len).map_err(|e| io("sizing", path, e))
}

/// Attach `file` to a free loop device (buffered, as Docker's loop-lvm did; autoclear so
/// the kernel detaches it at last close even if we die).
pub fn attach(file: &Path) -> Result<Loop, BackendError> {
    let lock_path = Path::new("/run/thinbench-loop.lock");
    let lock = File::create(lock_path).map_err(|e| io("opening lock", lock_path, e))?;
    // SAFETY: flock on a valid fd we own.
    unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) };
    let ctl = LoopControl::open().map_err(|e| io("opening", Path::new("/dev/loop-control"), e))?;
    let dev = ctl
        .next_free()
        .map_err(|e| io("finding a free loop device for", file, e))?;
    dev.with()
        .autoclear(true)
        .attach(file)
        .map_err(|e| io("attaching loop device to", file, e))?;
    drop(lock);
    let path = dev.path().unwrap_or_default();
    let majmin = format!(
        "{}:{}",
        dev.major().map_err(|e| io("stat", &path, e))?,
        dev.minor().map_err(|e| io("stat", &path, e))?
    );
    Ok(Loop {
        dev: Some(dev),
        path,
        file: file.to_owned(),
        majmin,
    })
}

impl Loop {
    /// Detach unless autoclear already did (it does once nothing holds the device).
    pub fn detach(&mut self) -> Result<(), BackendError> {
        if let Some(dev) = self.dev.take() {
            let still = backing_file(&self.path).is_some_and(|b| b == self.file);
            drop(dev);
            if still && backing_file(&self.path).is_some_and(|b| b == self.file) {
                let d = LoopDevice::open(&self.path).map_err(|e| io("opening", &self.path, e))?;
                d.detach().map_err(|e| io("detaching", &self.path, e))?;
            }
        }
        Ok(())
    }
}

/// The backing file of `/dev/loopN`, from sysfs; `None` when unattached.
pub fn backing_file(dev: &Path) -> Option<PathBuf> {
    let name = dev.file_name()?.to_str()?;
    let s = fs::read_to_string(format!("/sys/block/{name}/loop/backing_file")).ok()?;
    Some(PathBuf::from(s.trim_end().trim_end_matches(" (deleted)")))
}

/// All attached loop devices with their backing files.
pub fn list() -> Vec<(PathBuf, PathBuf)> {
    let Ok(rd) = fs::read_dir("/sys/block") else {
        return vec![];
    };
    let mut v: Vec<(PathBuf, PathBuf)> = rd
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("loop"))
        .filter_map(|e| {
            let dev = Path::new("/dev").join(e.file_name());
            backing_file(&dev).map(|b| (dev, b))
        })
        .collect();
    v.sort();
    v
}
