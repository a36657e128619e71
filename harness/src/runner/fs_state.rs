//! The filesystem steps' state: each thin's filesystem and the files the case wrote on
//! it (the file model, copied to a snapshot as it is taken), the case's mounts, and the
//! stamped records files are made of — self-describing, so any file reads back without a
//! copy: the integrity-stamp idea of `workloads/src/pattern.rs` at file level.
//!
//! A record is a header line `thinbench-file v1 step=S thin=T seq=N len=L path=P\n` and
//! filler that follows from the header (a hash of it, as hex lines) up to `L` bytes.
//! Its stamp is `S@T`: the file step that wrote it and the thin it ran on.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use thinbench_schema::ids::Ident;

use crate::spec::{FileOp, FsKind, FsTarget};

/// The largest file `verify-files` reads.
const READ_LIMIT: u64 = 256 << 20;
/// The longest header line.
const MAX_HEADER: usize = 2048;
const MAGIC: &str = "thinbench-file v1 ";

/// One stamped record of a file, as the model knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The file step that wrote it.
    pub step: String,
    /// The thin it ran on.
    pub thin: String,
    /// Unique in the case (the case's generation counter).
    pub seq: u64,
    /// Bytes, header included.
    pub len: u64,
}

impl Record {
    /// `step@thin`.
    pub fn stamp(&self) -> String {
        format!("{}@{}", self.step, self.thin)
    }

    fn header(&self, path: &str) -> String {
        format!(
            "{MAGIC}step={} thin={} seq={} len={} path={path}\n",
            self.step, self.thin, self.seq, self.len
        )
    }

    /// The record's bytes, written as `path`.
    pub fn bytes(&self, path: &str) -> Result<Vec<u8>, String> {
        let h = self.header(path);
        if h.len() as u64 > self.len {
            return Err(format!(
                "a record of {} bytes cannot hold its {}-byte header",
                self.len,
                h.len()
            ));
        }
        let mut out = Vec::with_capacity(self.len as usize);
        out.extend_from_slice(h.as_bytes());
        out.extend(filler(&h, self.len as usize - h.len()));
        Ok(out)
    }
}

fn fnv(s: &[u8]) -> u64 {
    s.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// `n` bytes of hex lines derived from the header.
fn filler(header: &str, n: usize) -> impl Iterator<Item = u8> {
    let h = fnv(header.as_bytes());
    (0..n).map(move |i| {
        let (line, col) = (i / 17, i % 17);
        if col == 16 {
            b'\n'
        } else {
            let v = h ^ (line as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            b"0123456789abcdef"[((v >> (60 - 4 * col)) & 0xf) as usize]
        }
    })
}

/// Reads the records of a file's bytes: their stamps and lengths, or why it is not
/// (or no longer) a sequence of whole, intact records.
pub fn decode(b: &[u8]) -> Result<Vec<(String, u64)>, String> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at < b.len() {
        let rest = &b[at..];
        let end = rest
            .iter()
            .take(MAX_HEADER)
            .position(|c| *c == b'\n')
            .ok_or_else(|| format!("no record header at byte {at}"))?;
        let h = std::str::from_utf8(&rest[..=end])
            .map_err(|_| format!("no record header at byte {at}"))?;
        let fields = h
            .strip_prefix(MAGIC)
            .ok_or_else(|| format!("no record header at byte {at}"))?;
        let get = |k: &str| {
            fields
                .split(' ')
                .find_map(|f| f.strip_prefix(k).and_then(|v| v.strip_prefix('=')))
                .map(|v| v.trim_end_matches('\n'))
        };
        let (Some(step), Some(thin), Some(len)) = (
            get("step"),
            get("thin"),
            get("len").and_then(|l| l.parse::<u64>().ok()),
        ) else {
            return Err(format!("a damaged record header at byte {at}"));
        };
        if len < h.len() as u64 || (rest.len() as u64) < len {
            return Err(format!(
                "record {step}@{thin} at byte {at} is cut short ({} of {len} bytes)",
                rest.len()
            ));
        }
        let body = &rest[h.len()..len as usize];
        if let Some(i) = body
            .iter()
            .zip(filler(h, body.len()))
            .position(|(a, b)| *a != b)
        {
            return Err(format!(
                "record {step}@{thin} at byte {at} differs at byte {}",
                at + h.len() + i
            ));
        }
        out.push((format!("{step}@{thin}"), len));
        at += len as usize;
    }
    Ok(out)
}

/// A thin's filesystem and the files the case wrote there.
#[derive(Debug, Clone)]
pub struct ThinFiles {
    /// Its kind.
    pub fs: FsKind,
    /// Path → its records, in order.
    pub files: BTreeMap<String, Vec<Record>>,
}

/// A mounted thin or case device.
#[derive(Debug, Clone)]
pub struct Mount {
    /// The thin or device.
    pub on: FsTarget,
    /// thinbench's mount point, under the case's scratch directory.
    pub dir: PathBuf,
}

/// See the module doc.
#[derive(Debug, Default)]
pub struct FsState {
    /// Thins with a filesystem made by the case (or inherited from an origin).
    pub thins: BTreeMap<Ident, ThinFiles>,
    /// Case devices with a filesystem made by the case.
    pub devices: BTreeMap<Ident, ThinFiles>,
    /// Mounts, oldest first.
    pub mounts: Vec<Mount>,
}

impl FsState {
    /// Where `thin` is mounted.
    pub fn mount_of(&self, thin: &Ident) -> Option<&Path> {
        self.mount_at(&FsTarget::Thin(thin.clone()))
    }

    /// Where the thin or device `on` is mounted.
    pub fn mount_at(&self, on: &FsTarget) -> Option<&Path> {
        self.mounts
            .iter()
            .find(|m| &m.on == on)
            .map(|m| m.dir.as_path())
    }

    /// The filesystem on `on` and its file model.
    pub fn files_of(&self, on: &FsTarget) -> Option<&ThinFiles> {
        match on {
            FsTarget::Thin(t) => self.thins.get(t),
            FsTarget::Device(d) => self.devices.get(d),
        }
    }

    /// As `files_of`, to change.
    pub fn files_mut(&mut self, on: &FsTarget) -> Option<&mut ThinFiles> {
        match on {
            FsTarget::Thin(t) => self.thins.get_mut(t),
            FsTarget::Device(d) => self.devices.get_mut(d),
        }
    }

    /// A new filesystem on `on` (`mkfs`): no files.
    pub fn made(&mut self, on: &FsTarget, fs: FsKind) {
        let f = ThinFiles {
            fs,
            files: Default::default(),
        };
        match on {
            FsTarget::Thin(t) => self.thins.insert(t.clone(), f),
            FsTarget::Device(d) => self.devices.insert(d.clone(), f),
        };
    }

    /// A snapshot's file model is its origin's as of the snapshot.
    pub fn snapshot(&mut self, thin: &Ident, origin: &Ident) {
        match self.thins.get(origin).cloned() {
            Some(f) => self.thins.insert(thin.clone(), f),
            None => self.thins.remove(thin),
        };
    }

    /// Unmounts every mount, last first (the case's end: success, failure or a stop);
    /// what could not be unmounted. A busy mount is detached (`umount -l`) so the thins'
    /// removal can go on.
    pub fn unmount_all(&mut self) -> Vec<String> {
        let mut errors = Vec::new();
        while let Some(m) = self.mounts.pop() {
            let d = m.dir.to_string_lossy().into_owned();
            if let Err(e) = crate::sys::command::run("umount", &[&d]) {
                let lazy = crate::sys::command::run("umount", &["-l", &d]);
                errors.push(match lazy {
                    Ok(_) => format!("umount {d} ({}): {e}; detached lazily", m.on),
                    Err(e2) => format!("umount {d} ({}): {e}; umount -l: {e2}", m.on),
                });
            }
            let _ = fs::remove_dir(&m.dir);
        }
        errors
    }
}

/// `rel` inside `root`: every existing parent resolved (symlinks followed) must stay
/// inside it, and the last component is opened without following a symlink.
pub fn inside(root: &Path, rel: &str, make_parents: bool) -> Result<PathBuf, String> {
    let p = root.join(rel);
    let parent = p.parent().unwrap_or(root);
    if make_parents {
        fs::create_dir_all(parent).map_err(|e| format!("creating {}: {e}", parent.display()))?;
    }
    let real_root = fs::canonicalize(root).map_err(|e| format!("{}: {e}", root.display()))?;
    let real = fs::canonicalize(parent).map_err(|e| format!("{rel}: its directory: {e}"))?;
    if !real.starts_with(&real_root) {
        return Err(format!(
            "{rel} leads outside the filesystem through a symlink (to {})",
            real.display()
        ));
    }
    Ok(p)
}

fn open(p: &Path, opts: &mut OpenOptions) -> Result<File, String> {
    opts.custom_flags(libc::O_NOFOLLOW)
        .open(p)
        .map_err(|e| format!("{}: {e}", p.display()))
}

fn sync_dir(p: &Path) -> Result<(), String> {
    let d = p.parent().unwrap_or(p);
    File::open(d)
        .and_then(|f| f.sync_all())
        .map_err(|e| format!("fsync {}: {e}", d.display()))
}

/// Does `op` to `path` of the filesystem mounted at `root`, and to the thin's file model
/// `files`; `rec` is the new record a write, append or modify writes.
pub fn apply(
    root: &Path,
    files: &mut BTreeMap<String, Vec<Record>>,
    path: &str,
    op: &FileOp,
    rec: Record,
    fsync: bool,
) -> Result<(), String> {
    let make = matches!(op, FileOp::Write { .. } | FileOp::Append { .. });
    let p = inside(root, path, make)?;
    let sync = |f: &File| {
        if fsync {
            f.sync_all()
                .map_err(|e| format!("fsync {}: {e}", p.display()))
        } else {
            Ok(())
        }
    };
    match op {
        FileOp::Write { .. } => {
            let mut f = open(
                &p,
                OpenOptions::new().write(true).create(true).truncate(true),
            )?;
            f.write_all(&rec.bytes(path)?)
                .map_err(|e| format!("{path}: {e}"))?;
            sync(&f)?;
            files.insert(path.to_owned(), vec![rec]);
        }
        FileOp::Append { .. } => {
            let mut f = open(&p, OpenOptions::new().append(true).create(true))?;
            f.write_all(&rec.bytes(path)?)
                .map_err(|e| format!("{path}: {e}"))?;
            sync(&f)?;
            files.entry(path.to_owned()).or_default().push(rec);
        }
        FileOp::Modify => {
            let mut f = open(&p, OpenOptions::new().read(true).write(true))?;
            let mut head = vec![0u8; MAX_HEADER];
            let n = f.read(&mut head).map_err(|e| format!("{path}: {e}"))?;
            // The first record's length, from its own header: the new record takes its place.
            let len = decode_len(&head[..n]).ok_or_else(|| {
                format!("{path} does not start with a thinbench record: nothing to modify")
            })?;
            let rec = Record { len, ..rec };
            f.seek(SeekFrom::Start(0))
                .map_err(|e| format!("{path}: {e}"))?;
            f.write_all(&rec.bytes(path)?)
                .map_err(|e| format!("{path}: {e}"))?;
            sync(&f)?;
            match files.get_mut(path).and_then(|r| r.first_mut()) {
                Some(first) => *first = rec,
                None => {
                    files.insert(path.to_owned(), vec![rec]);
                }
            }
        }
        FileOp::Rename { to } => {
            let q = inside(root, to, true)?;
            if fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink()) {
                return Err(format!("{path} is a symlink"));
            }
            fs::rename(&p, &q).map_err(|e| format!("rename {path} to {to}: {e}"))?;
            if fsync {
                sync_dir(&q)?;
                sync_dir(&p)?;
            }
            if let Some(r) = files.remove(path) {
                files.insert(to.clone(), r);
            }
        }
        FileOp::Delete => {
            fs::remove_file(&p).map_err(|e| format!("delete {path}: {e}"))?;
            if fsync {
                sync_dir(&p)?;
            }
            files.remove(path);
        }
    }
    Ok(())
}

fn decode_len(head: &[u8]) -> Option<u64> {
    let end = head.iter().position(|c| *c == b'\n')?;
    let h = std::str::from_utf8(&head[..end])
        .ok()?
        .strip_prefix(MAGIC)?;
    h.split(' ')
        .find_map(|f| f.strip_prefix("len="))
        .and_then(|v| v.parse().ok())
}

/// What a file holds as `verify-files` reads it: its records' stamps and lengths, or
/// why it is not a file of whole records.
pub type FileRead = Result<Vec<(String, u64)>, String>;

/// Every regular file under `root` (not following symlinks; ext4's `lost+found` at the
/// root left out), read and decoded; anything else found is reported as such.
pub fn read_tree(root: &Path) -> BTreeMap<String, FileRead> {
    let mut out = BTreeMap::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let Ok(rd) = fs::read_dir(root.join(&rel)) else {
            continue;
        };
        for e in rd.filter_map(Result::ok) {
            let r = rel.join(e.file_name());
            let name = r.to_string_lossy().into_owned();
            if name == "lost+found" {
                continue;
            }
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(r),
                Ok(t) if t.is_file() => {
                    let got = thinbench_schema::untrusted::read(&root.join(&r), READ_LIMIT)
                        .map_err(|e| e.to_string())
                        .and_then(|b| decode(&b));
                    out.insert(name, got);
                }
                _ => {
                    out.insert(name, Err("not a regular file".into()));
                }
            }
        }
    }
    out
}

/// How a file's contents are shown: its stamps, ` + ` between them, or `absent`; a run
/// of one stamp as `stamp ×n` (a layout's thousands of records stay one line).
pub fn shown(stamps: Option<&[String]>) -> String {
    match stamps {
        None => "absent".into(),
        Some([]) => "empty".into(),
        Some(s) => s
            .chunk_by(|a, b| a == b)
            .map(|run| match run.len() {
                1 => run[0].clone(),
                n => format!("{} ×{n}", run[0]),
            })
            .collect::<Vec<_>>()
            .join(" + "),
    }
}

/// A read file as shown (an unreadable one says why).
pub fn shown_read(r: Option<&FileRead>) -> String {
    match r {
        None => "absent".into(),
        Some(Ok(recs)) => shown(Some(
            &recs.iter().map(|(s, _)| s.clone()).collect::<Vec<_>>(),
        )),
        Some(Err(why)) => format!("unreadable: {why}"),
    }
}

/// The model's file as shown.
pub fn shown_model(recs: Option<&Vec<Record>>) -> String {
    shown(
        recs.map(|r| r.iter().map(Record::stamp).collect::<Vec<_>>())
            .as_deref(),
    )
}

/// A read file's lengths differ from the model's records' (same stamps, other sizes).
pub fn lengths_differ(read: &FileRead, model: &[Record]) -> bool {
    match read {
        Ok(r) => r.iter().map(|(_, l)| *l).ne(model.iter().map(|m| m.len)),
        Err(_) => false,
    }
}

#[cfg(test)]
#[path = "fs_state_tests.rs"]
mod tests;
