//! Reading files that thinbench does not trust (docs/security.md): every scenario, fio
//! job, plan, gate config, baseline and result of another run. A hostile file may name a
//! FIFO (open blocks for ever), a device (`/dev/zero` never ends; opening some devices
//! has effects), a kernel file (`/proc/self/environ` holds the CI's secrets), or be
//! huge; and a path written in a file may lead out of its directory.
//!
//! So a file is read only if it is a regular file on an ordinary filesystem, no larger
//! than a limit set per kind of file; and a path taken from a file resolves, after
//! symlinks, inside the directory it is relative to unless the command line (never the
//! file) allows otherwise. Errors name the path and the reason, never the contents.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};

/// Size limits by kind of file: far above any real file of that kind, far below what
/// would strain the machine (the corpus test holds every command under 100 MiB RSS).
pub mod limit {
    /// A scenario, plan or gate config (TOML written by hand: the shipped ones are
    /// under 20 KiB).
    pub const INPUT_TOML: u64 = 1 << 20;
    /// A fio job file.
    pub const FIO_JOB: u64 = 64 << 10;
    /// A run's `summary.json` (one record per step and metric).
    pub const SUMMARY_JSON: u64 = 32 << 20;
    /// A run's `events.jsonl` or `samples.csv`.
    pub const EVENT_LOG: u64 = 64 << 20;
    /// A gate baseline file.
    pub const BASELINE: u64 = 16 << 20;
    /// Output of a tool thinbench ran (fio's JSON, thin_dump's XML).
    pub const TOOL_OUTPUT: u64 = 256 << 20;
    /// Any one file of a results directory copied by `merge` (console logs, plots).
    pub const RESULT_FILE: u64 = 256 << 20;
}

/// Why an untrusted file was not read. Never carries the file's contents.
#[derive(Debug)]
pub enum ReadError {
    /// The path could not be looked up or opened.
    Io {
        /// The path as given.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// Not a regular file: a FIFO, socket, device or directory.
    NotRegular {
        /// The path as given.
        path: PathBuf,
        /// What it is instead (`a FIFO`, `a character device`, …).
        kind: &'static str,
    },
    /// A file of a kernel pseudo-filesystem (`/proc`, `/sys`, …): not data a user wrote,
    /// and often secrets (`/proc/self/environ`).
    KernelFile {
        /// The path as given.
        path: PathBuf,
        /// The filesystem (`proc`, `sysfs`, …).
        fs: &'static str,
    },
    /// Not UTF-8 text, where text was expected.
    NotText {
        /// The path as given.
        path: PathBuf,
        /// Offset of the first byte that is not valid UTF-8.
        at: usize,
    },
    /// Larger than the limit for its kind.
    TooLarge {
        /// The path as given.
        path: PathBuf,
        /// Its size (or a lower bound, when it grew while being read).
        size: u64,
        /// The limit.
        limit: u64,
    },
}

impl ReadError {
    /// The path the error is about.
    pub fn path(&self) -> &Path {
        match self {
            ReadError::Io { path, .. }
            | ReadError::NotRegular { path, .. }
            | ReadError::KernelFile { path, .. }
            | ReadError::NotText { path, .. }
            | ReadError::TooLarge { path, .. } => path,
        }
    }

    /// The reason alone, without the path (for messages that place the path themselves).
    pub fn reason(&self) -> String {
        match self {
            ReadError::Io { source, .. } => source.to_string(),
            ReadError::NotRegular { kind, .. } => {
                format!("not a regular file ({kind}): only regular files are read")
            }
            ReadError::KernelFile { fs, .. } => {
                format!("a file of the kernel's {fs} filesystem, not a user's file: refused")
            }
            ReadError::NotText { at, .. } => {
                format!("not UTF-8 text (byte offset {at} is not valid UTF-8)")
            }
            ReadError::TooLarge { size, limit, .. } => {
                format!("{size} bytes, over the limit of {limit} bytes for this kind of file")
            }
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path().display(), self.reason())
    }
}

impl std::error::Error for ReadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReadError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

fn file_kind(t: std::fs::FileType) -> Option<&'static str> {
    if t.is_file() {
        None
    } else if t.is_dir() {
        Some("a directory")
    } else if t.is_fifo() {
        Some("a FIFO")
    } else if t.is_char_device() {
        Some("a character device")
    } else if t.is_block_device() {
        Some("a block device")
    } else if t.is_socket() {
        Some("a socket")
    } else {
        Some("not a file")
    }
}

/// The kernel pseudo-filesystem `f` is on, if it is one (statfs magic numbers from
/// `include/uapi/linux/magic.h`).
fn pseudo_fs(f: &File) -> Option<&'static str> {
    use std::os::fd::AsRawFd;
    let mut s = std::mem::MaybeUninit::<libc::statfs>::uninit();
    // SAFETY: `s` is a valid out pointer for one statfs; the fd is open for the call.
    let rc = unsafe { libc::fstatfs(f.as_raw_fd(), s.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: fstatfs succeeded, so it filled `s`.
    // f_type's width differs by architecture (i64 on x86_64, u32 or i32 elsewhere).
    #[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
    let magic = unsafe { s.assume_init() }.f_type as i64;
    Some(match magic {
        0x9fa0 => "proc",
        0x6265_6572 => "sysfs",
        0x6462_6720 => "debugfs",
        0x7363_6673 => "securityfs",
        0x7472_6163 => "tracefs",
        0x0027_e0eb => "cgroup",
        0x6367_7270 => "cgroup2",
        0xcafe_4a11 => "bpf",
        0x6e73_6673 => "nsfs",
        0x5079_7473 => "pstore",
        0xde5e_81e4 => "efivarfs",
        0x7363_6d70 => "configfs",
        _ => return None,
    })
}

/// Open `path` for reading if it is a regular file on an ordinary filesystem of at most
/// `limit` bytes. The type is checked before opening (opening a FIFO blocks, opening a
/// device can act) and again on the open file (the path may have changed in between).
pub fn open(path: &Path, limit: u64) -> Result<(File, u64), ReadError> {
    let io = |source| ReadError::Io {
        path: path.to_owned(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if let Some(kind) = file_kind(meta.file_type()) {
        return Err(ReadError::NotRegular {
            path: path.to_owned(),
            kind,
        });
    }
    // O_NONBLOCK: should the path have become a FIFO since the check, open returns at
    // once instead of waiting for a writer; the check below then refuses it.
    let f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(io)?;
    let now = f.metadata().map_err(io)?;
    if let Some(kind) = file_kind(now.file_type()) {
        return Err(ReadError::NotRegular {
            path: path.to_owned(),
            kind,
        });
    }
    if let Some(fs) = pseudo_fs(&f) {
        return Err(ReadError::KernelFile {
            path: path.to_owned(),
            fs,
        });
    }
    if now.size() > limit {
        return Err(ReadError::TooLarge {
            path: path.to_owned(),
            size: now.size(),
            limit,
        });
    }
    Ok((f, now.size()))
}

/// The bytes of `path`, checked as [`open`] does; a file that grows past `limit` while
/// being read is refused too.
pub fn read(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let (f, size) = open(path, limit)?;
    let mut buf = Vec::with_capacity(size as usize);
    f.take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|source| ReadError::Io {
            path: path.to_owned(),
            source,
        })?;
    if buf.len() as u64 > limit {
        return Err(ReadError::TooLarge {
            path: path.to_owned(),
            size: buf.len() as u64,
            limit,
        });
    }
    Ok(buf)
}

/// The text of `path`, read as [`read`] does, which must be UTF-8.
pub fn read_text(path: &Path, limit: u64) -> Result<String, ReadError> {
    String::from_utf8(read(path, limit)?).map_err(|e| ReadError::NotText {
        path: path.to_owned(),
        at: e.utf8_error().valid_up_to(),
    })
}

/// Why a path written in a file was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathRefusal {
    /// Empty, or holds a NUL or another control character.
    Malformed(&'static str),
    /// Absolute, while only paths relative to the file's directory are allowed.
    Absolute,
    /// Has a `..` component.
    ParentDir,
    /// Resolves, through a symlink, outside the directory it is relative to.
    EscapesBySymlink {
        /// Where it resolved to.
        resolved: PathBuf,
    },
    /// Could not be resolved (missing, or a component is not a directory).
    Unresolvable(String),
}

impl fmt::Display for PathRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathRefusal::Malformed(why) => write!(f, "{why}"),
            PathRefusal::Absolute => write!(f, "is absolute"),
            PathRefusal::ParentDir => write!(f, "has a `..` component"),
            PathRefusal::EscapesBySymlink { resolved } => write!(
                f,
                "leads outside its directory through a symlink (to {})",
                resolved.display()
            ),
            PathRefusal::Unresolvable(e) => write!(f, "cannot be resolved: {e}"),
        }
    }
}

/// Check the form of `written`, a path taken from an untrusted file, without touching
/// the filesystem: not empty, no control characters, and, unless `outside_allowed`,
/// relative with no `..`.
pub fn check_relative(written: &str, outside_allowed: bool) -> Result<PathBuf, PathRefusal> {
    if written.is_empty() {
        return Err(PathRefusal::Malformed("is empty"));
    }
    if written.chars().any(char::is_control) {
        return Err(PathRefusal::Malformed("holds a control character"));
    }
    let p = PathBuf::from(written);
    if !outside_allowed {
        if p.is_absolute() {
            return Err(PathRefusal::Absolute);
        }
        if p.components().any(|c| matches!(c, Component::ParentDir)) {
            return Err(PathRefusal::ParentDir);
        }
    }
    Ok(p)
}

/// Resolve `written` (a path taken from an untrusted file) against `base`, the directory
/// it is relative to: [`check_relative`], then, unless `outside_allowed`, every symlink
/// followed and the result required to lie inside `base` (itself resolved).
pub fn resolve_inside(
    base: &Path,
    written: &str,
    outside_allowed: bool,
) -> Result<PathBuf, PathRefusal> {
    let rel = check_relative(written, outside_allowed)?;
    let joined = base.join(&rel);
    if outside_allowed {
        return Ok(joined);
    }
    let base_real = std::fs::canonicalize(if base.as_os_str().is_empty() {
        Path::new(".")
    } else {
        base
    })
    .map_err(|e| PathRefusal::Unresolvable(format!("its directory: {e}")))?;
    let real =
        std::fs::canonicalize(&joined).map_err(|e| PathRefusal::Unresolvable(e.to_string()))?;
    if !real.starts_with(&base_real) {
        return Err(PathRefusal::EscapesBySymlink { resolved: real });
    }
    Ok(joined)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// A scratch directory, removed when the guard drops.
    fn tmp() -> (tempfile::TempDir, PathBuf) {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().to_owned();
        (t, p)
    }

    #[test]
    fn regular_files_read_within_the_limit() {
        let (_guard, d) = tmp();
        let f = d.join("a.toml");
        std::fs::write(&f, b"x = 1\n").unwrap();
        assert_eq!(read(&f, 6).unwrap(), b"x = 1\n");
        let e = read(&f, 5).unwrap_err();
        assert!(
            matches!(
                e,
                ReadError::TooLarge {
                    size: 6,
                    limit: 5,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("over the limit of 5 bytes"), "{e}");
    }

    #[test]
    fn devices_fifos_directories_and_kernel_files_are_refused_at_once() {
        let (_guard, d) = tmp();
        let fifo = d.join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid C string path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let t = Instant::now();
        let cases: [(&Path, &str); 5] = [
            (&fifo, "a FIFO"),
            (Path::new("/dev/zero"), "a character device"),
            (&d, "a directory"),
            (Path::new("/proc/self/environ"), "proc filesystem"),
            (
                Path::new("/sys/kernel/mm/transparent_hugepage/enabled"),
                "sysfs",
            ),
        ];
        for (p, want) in cases {
            if !p.exists() {
                continue;
            }
            let e = read(p, 1 << 20).unwrap_err().to_string();
            assert!(e.contains(want), "{}: {e}", p.display());
        }
        assert!(t.elapsed().as_secs() < 2, "a refusal must not block");
    }

    #[test]
    fn paths_stay_inside_their_directory() {
        let (_guard, d) = tmp();
        std::fs::create_dir_all(d.join("sub")).unwrap();
        std::fs::write(d.join("sub/job.fio"), "[j]\n").unwrap();
        std::os::unix::fs::symlink("/etc/hostname", d.join("out")).unwrap();
        std::os::unix::fs::symlink("sub/job.fio", d.join("in")).unwrap();
        assert_eq!(
            resolve_inside(&d, "sub/job.fio", false).unwrap(),
            d.join("sub/job.fio")
        );
        assert!(resolve_inside(&d, "in", false).is_ok());
        assert_eq!(
            resolve_inside(&d, "/etc/shadow", false),
            Err(PathRefusal::Absolute)
        );
        assert_eq!(
            resolve_inside(&d, "sub/../../etc/shadow", false),
            Err(PathRefusal::ParentDir)
        );
        assert!(matches!(
            resolve_inside(&d, "out", false),
            Err(PathRefusal::EscapesBySymlink { .. })
        ));
        assert!(matches!(
            resolve_inside(&d, "a\nb", false),
            Err(PathRefusal::Malformed(_))
        ));
        // The command line may allow what a file cannot.
        assert_eq!(
            resolve_inside(&d, "/etc/shadow", true).unwrap(),
            PathBuf::from("/etc/shadow")
        );
    }
}
