//! A pool backend with no kernel under it, so the runner's logic (actions' bookkeeping,
//! the oracles, expectation checks, error paths) is unit-tested without root or a VM.
//!
//! Each thin is a sparse file; workloads write it as they would write `/dev/dm-N`. The
//! fake keeps its own block map, apart from the accounting model it is checked against:
//! at every status read it scans the files' data extents (`SEEK_DATA`/`SEEK_HOLE`) and a
//! hash of each mapped chunk, so a chunk with data is allocated, a shared chunk (after a
//! snapshot) whose bytes changed breaks sharing and takes a new block (copy-on-write, on
//! either side), and a chunk that became a hole gives its block back. Holders are seen
//! as the kernel sees openers: a thin whose file this process holds open is busy.
//!
//! What the fake does not do, and the VM tests do: run out of space (a file write never
//! fails, so a fill is only tested with a byte limit here), metadata, filesystems on
//! thins, fault layers, reboots. Those fail as unsupported. Errors can be
//! injected per operation ([`FakePool::fail_next`]) to drive the runner's error paths.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use nix::errno::Errno;
use thinbench_schema::ids::{Ident, ThinId};
use thinbench_schema::record::{PoolMode, PoolUsage};
use thinbench_schema::units::{Bytes, ChunkSize, DataBlocks, MetaBlocks};

use super::error::BackendError;
use super::pool::{pick_thin_id, PoolBackend, StatusReader, ThinDev};
use super::{dm, thin_tools};

/// An operation whose next call can be made to fail ([`FakePool::fail_next`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FakeOp {
    /// `create_thin`.
    CreateThin,
    /// `snapshot`.
    Snapshot,
    /// `deactivate_thin`.
    Deactivate,
    /// `delete_inactive_thin` (and the delete half of `delete_thin`).
    Delete,
    /// `grow_data`.
    GrowData,
    /// `status` (and status readers).
    Status,
}

/// Where one chunk of a thin lives.
#[derive(Debug, Clone, Copy)]
struct Mapped {
    block: u64,
    /// Hash of the chunk's bytes when last scanned: a change on a shared block is a write.
    hash: u64,
}

#[derive(Debug)]
struct FakeThin {
    file: PathBuf,
    id: ThinId,
    size: Bytes,
    map: BTreeMap<u64, Mapped>,
    /// The "dm device" is up (cleared by deactivation, at once or at the last close).
    active: bool,
    /// A deferred remove is pending (the file was open when it was asked for).
    deferred: bool,
}

impl FakeThin {
    /// The last close ends a deferred remove, as the kernel's does (seen when asked).
    fn settle_deferred(&mut self) {
        if self.active && self.deferred && !held_open(&self.file) {
            self.active = false;
            self.deferred = false;
        }
    }
}

#[derive(Debug)]
struct FakeState {
    chunk: Bytes,
    data_total: u64,
    meta_total: u64,
    thins: BTreeMap<Ident, FakeThin>,
    /// Mappings per data block (more than one: shared by snapshots).
    refs: BTreeMap<u64, u32>,
    transaction_id: u64,
    error_if_no_space: bool,
    /// The pool's `ignore_discard`: discards fail with EOPNOTSUPP, as the kernel's do.
    ignore_discard: bool,
    fail: BTreeMap<FakeOp, Errno>,
}

/// The fake pool (see the module doc).
pub struct FakePool {
    state: Arc<Mutex<FakeState>>,
    /// The same thins as `state`, as the runner sees them (`thin()` lends references).
    thins: BTreeMap<Ident, ThinDev>,
    dir: PathBuf,
    dm_name: String,
    torn_down: bool,
}

fn lock(s: &Mutex<FakeState>) -> MutexGuard<'_, FakeState> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

fn io_err(what: &str, path: &Path, source: std::io::Error) -> BackendError {
    BackendError::Io {
        what: what.into(),
        path: path.to_owned(),
        source,
    }
}

fn errno(op: &str, device: &str, e: Errno, why: &str) -> BackendError {
    BackendError::Errno {
        op: op.into(),
        device: device.into(),
        errno: e,
        why: why.into(),
    }
}

/// The data extents of `f` as `[start, end)` byte ranges (`SEEK_DATA`/`SEEK_HOLE`).
fn data_extents(f: &File, len: u64) -> std::io::Result<Vec<(u64, u64)>> {
    let fd = f.as_raw_fd();
    let mut out = Vec::new();
    let mut at = 0i64;
    while (at as u64) < len {
        // SAFETY: lseek on a file descriptor we own; no memory is touched.
        let start = unsafe { libc::lseek(fd, at, libc::SEEK_DATA) };
        if start < 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::ENXIO) {
                break; // no data after `at`
            }
            return Err(e);
        }
        // SAFETY: as above.
        let end = unsafe { libc::lseek(fd, start, libc::SEEK_HOLE) };
        if end < 0 {
            return Err(std::io::Error::last_os_error());
        }
        out.push((start as u64, end as u64));
        at = end;
    }
    Ok(out)
}

fn chunk_hash(f: &mut File, chunk: Bytes, c: u64, buf: &mut [u8]) -> std::io::Result<u64> {
    f.seek(SeekFrom::Start(c * chunk.0))?;
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    buf[..n].hash(&mut h);
    Ok(h.finish())
}

impl FakeState {
    fn take_failure(&mut self, op: FakeOp, device: &str) -> Result<(), BackendError> {
        match self.fail.remove(&op) {
            Some(e) => Err(errno(&format!("{op:?}"), device, e, "injected by the test")),
            None => Ok(()),
        }
    }

    fn used(&self) -> u64 {
        self.refs.len() as u64
    }

    fn free_block(&self) -> u64 {
        (0..).find(|b| !self.refs.contains_key(b)).unwrap_or(0)
    }

    fn unref(&mut self, block: u64) {
        if let Some(r) = self.refs.get_mut(&block) {
            *r -= 1;
            if *r == 0 {
                self.refs.remove(&block);
            }
        }
    }

    /// Bring every thin's map up to date with its file (see the module doc).
    fn scan(&mut self) -> Result<(), BackendError> {
        let chunk = self.chunk;
        let mut buf = vec![0u8; chunk.0 as usize];
        let names: Vec<Ident> = self.thins.keys().cloned().collect();
        for name in names {
            let (path, size) = {
                let t = &self.thins[&name];
                (t.file.clone(), t.size)
            };
            let mut f = File::open(&path).map_err(|e| io_err("opening", &path, e))?;
            let mut with_data = BTreeSet::new();
            for (s, e) in data_extents(&f, size.0).map_err(|e| io_err("scanning", &path, e))? {
                with_data.extend(s / chunk.0..e.div_ceil(chunk.0));
            }
            let mapped: Vec<(u64, Mapped)> = self.thins[&name]
                .map
                .iter()
                .map(|(c, m)| (*c, *m))
                .collect();
            // Holes where blocks were: discarded, the block goes back.
            for (c, m) in &mapped {
                if !with_data.contains(c) {
                    self.thins.get_mut(&name).map(|t| t.map.remove(c));
                    self.unref(m.block);
                }
            }
            for c in with_data {
                let h = chunk_hash(&mut f, chunk, c, &mut buf)
                    .map_err(|e| io_err("reading", &path, e))?;
                let old = self.thins[&name].map.get(&c).copied();
                let block = match old {
                    None => Some(self.free_block()),
                    Some(m) if m.hash != h && self.refs.get(&m.block) > Some(&1) => {
                        self.unref(m.block);
                        Some(self.free_block())
                    }
                    Some(_) => None,
                };
                let t = self
                    .thins
                    .get_mut(&name)
                    .ok_or(BackendError::NoSuchThin(name.to_string()))?;
                match block {
                    Some(b) => {
                        t.map.insert(c, Mapped { block: b, hash: h });
                        *self.refs.entry(b).or_insert(0) += 1;
                    }
                    None => {
                        if let Some(m) = t.map.get_mut(&c) {
                            m.hash = h;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn status(&mut self, device: &str) -> Result<PoolUsage, BackendError> {
        self.take_failure(FakeOp::Status, device)?;
        self.scan()?;
        let used = self.used();
        let mapped: usize = self.thins.values().map(|t| t.map.len()).sum();
        Ok(PoolUsage {
            transaction_id: self.transaction_id,
            data_used: DataBlocks(used),
            data_total: DataBlocks(self.data_total),
            // Not a model of dm-thin's btrees: a superblock and space maps, one block per
            // thin, one per 128 mappings; enough for figures to move.
            meta_used: MetaBlocks(
                (2 + self.thins.len() as u64 + mapped as u64 / 128).min(self.meta_total),
            ),
            meta_total: MetaBlocks(self.meta_total),
            mode: if used >= self.data_total {
                PoolMode::OutOfDataSpace
            } else {
                PoolMode::Rw
            },
            needs_check: false,
            error_if_no_space: Some(self.error_if_no_space),
        })
    }
}

/// Whether this process holds `path` open (how the fake sees a thin's openers).
fn held_open(path: &Path) -> bool {
    let Ok(fds) = std::fs::read_dir("/proc/self/fd") else {
        return false;
    };
    fds.flatten()
        .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|p| p == path))
}

/// Copies `from`'s data extents into a new sparse file `to` (holes stay holes).
fn sparse_copy(from: &Path, to: &Path, len: Bytes) -> std::io::Result<()> {
    let mut src = File::open(from)?;
    let mut dst = File::create_new(to)?;
    dst.set_len(len.0)?;
    let mut buf = vec![0u8; 1 << 16];
    for (s, e) in data_extents(&src, len.0)? {
        src.seek(SeekFrom::Start(s))?;
        dst.seek(SeekFrom::Start(s))?;
        let mut left = e - s;
        while left > 0 {
            let n = left.min(buf.len() as u64) as usize;
            src.read_exact(&mut buf[..n])?;
            dst.write_all(&buf[..n])?;
            left -= n as u64;
        }
    }
    Ok(())
}

impl FakePool {
    /// A pool of `data_blocks` chunks of `chunk` in `dir` (created; removed at teardown).
    pub fn new(
        dir: &Path,
        name: &str,
        chunk: ChunkSize,
        data_blocks: DataBlocks,
        error_if_no_space: bool,
    ) -> Result<FakePool, BackendError> {
        std::fs::create_dir_all(dir).map_err(|e| io_err("creating", dir, e))?;
        Ok(FakePool {
            state: Arc::new(Mutex::new(FakeState {
                chunk: chunk.bytes(),
                data_total: data_blocks.0,
                meta_total: 1024,
                thins: BTreeMap::new(),
                refs: BTreeMap::new(),
                transaction_id: 0,
                error_if_no_space,
                ignore_discard: false,
                fail: BTreeMap::new(),
            })),
            thins: BTreeMap::new(),
            dir: dir.to_owned(),
            dm_name: format!("fake-{name}-pool"),
            torn_down: false,
        })
    }

    /// The next call of `op` fails with `e` (once).
    pub fn fail_next(&self, op: FakeOp, e: Errno) {
        lock(&self.state).fail.insert(op, e);
    }

    /// The pool's `ignore_discard` feature: discards are refused (EOPNOTSUPP).
    pub fn set_ignore_discard(&self, on: bool) {
        lock(&self.state).ignore_discard = on;
    }

    /// A handle that injects failures while the runner owns the pool.
    pub fn injector(&self) -> FakeInjector {
        FakeInjector(self.state.clone())
    }

    /// The data block each mapped chunk of `thin` lives in (for tests of sharing).
    pub fn mapping(&self, thin: &Ident) -> Option<BTreeMap<u64, u64>> {
        let mut s = lock(&self.state);
        s.scan().ok()?;
        let t = s.thins.get(thin)?;
        Some(t.map.iter().map(|(c, m)| (*c, m.block)).collect())
    }

    fn pick_id(&self, id: Option<ThinId>) -> Result<ThinId, BackendError> {
        // As dm-thin's `create_thin` message does, an id in use is refused.
        if let Some(i) = id.filter(|i| self.thins.values().any(|t| t.id == *i)) {
            let why = format!("thin id {} is in use", i.get());
            return Err(errno("create_thin", &self.dm_name, Errno::EEXIST, &why));
        }
        pick_thin_id(&self.thins, id)
    }

    fn add_thin(&mut self, name: &Ident, id: ThinId, size: Bytes, file: PathBuf) -> ThinDev {
        let minor = 1000 + id.get();
        let t = ThinDev {
            name: name.clone(),
            id,
            size,
            dm: dm::DmDev {
                name: format!("fake-{name}"),
                major: 253,
                minor,
            },
            file: Some(file.clone()),
        };
        let mut s = lock(&self.state);
        s.transaction_id += 1;
        s.thins.insert(
            name.clone(),
            FakeThin {
                file,
                id,
                size,
                map: BTreeMap::new(),
                active: true,
                deferred: false,
            },
        );
        drop(s);
        self.thins.insert(name.clone(), t.clone());
        t
    }

    fn known(&self, name: &Ident) -> Result<&ThinDev, BackendError> {
        self.thins
            .get(name)
            .ok_or_else(|| BackendError::NoSuchThin(name.to_string()))
    }
}

/// Injects failures into a [`FakePool`] the runner owns (see [`FakePool::fail_next`]).
#[derive(Clone)]
pub struct FakeInjector(Arc<Mutex<FakeState>>);

impl FakeInjector {
    /// The next call of `op` fails with `e` (once).
    pub fn fail_next(&self, op: FakeOp, e: Errno) {
        lock(&self.0).fail.insert(op, e);
    }
}

struct FakeStatusReader {
    state: Arc<Mutex<FakeState>>,
    device: String,
}

impl StatusReader for FakeStatusReader {
    fn read(&mut self) -> Result<PoolUsage, BackendError> {
        lock(&self.state).status(&self.device)
    }
}

impl PoolBackend for FakePool {
    fn pool_dm_name(&self) -> &str {
        &self.dm_name
    }

    fn status(&self) -> Result<PoolUsage, BackendError> {
        lock(&self.state).status(&self.dm_name)
    }

    /// No block devices: the fake's IO is not measured (absent, never zeros).
    fn io_counters(&self) -> Result<Option<super::iostat::PoolIo>, BackendError> {
        Ok(None)
    }

    fn status_reader(&self) -> Box<dyn StatusReader> {
        Box::new(FakeStatusReader {
            state: self.state.clone(),
            device: self.dm_name.clone(),
        })
    }

    fn create_thin(
        &mut self,
        name: &Ident,
        id: Option<ThinId>,
        size: Bytes,
    ) -> Result<ThinDev, BackendError> {
        lock(&self.state).take_failure(FakeOp::CreateThin, &self.dm_name)?;
        let id = self.pick_id(id)?;
        let file = self.dir.join(format!("{name}.thin"));
        let f = File::create_new(&file).map_err(|e| io_err("creating", &file, e))?;
        f.set_len(size.0).map_err(|e| io_err("sizing", &file, e))?;
        Ok(self.add_thin(name, id, size, file))
    }

    fn snapshot(
        &mut self,
        name: &Ident,
        origin: &Ident,
        id: Option<ThinId>,
    ) -> Result<ThinDev, BackendError> {
        lock(&self.state).take_failure(FakeOp::Snapshot, &self.dm_name)?;
        let o = self.known(origin)?.clone();
        let id = self.pick_id(id)?;
        let file = self.dir.join(format!("{name}.thin"));
        // The origin's current bytes are what the snapshot shares: scan them first.
        let mut s = lock(&self.state);
        s.scan()?;
        let from = o.file.clone().unwrap_or_default();
        sparse_copy(&from, &file, o.size).map_err(|e| io_err("copying into", &file, e))?;
        let map = s
            .thins
            .get(origin)
            .map(|t| t.map.clone())
            .unwrap_or_default();
        for m in map.values() {
            *s.refs.entry(m.block).or_insert(0) += 1;
        }
        drop(s);
        let t = self.add_thin(name, id, o.size, file);
        if let Some(ft) = lock(&self.state).thins.get_mut(name) {
            ft.map = map;
        }
        Ok(t)
    }

    fn create_thin_external(
        &mut self,
        _name: &Ident,
        _id: Option<ThinId>,
        _size: Bytes,
        _origin: &super::dm::DmDev,
    ) -> Result<ThinDev, BackendError> {
        Err(BackendError::Unsupported(
            "the fake pool's thins are files, with no external origin: a VM test's to prove".into(),
        ))
    }

    fn delete_thin(&mut self, name: &Ident) -> Result<(), BackendError> {
        if lock(&self.state).thins.get(name).is_some_and(|t| t.active) {
            self.deactivate_thin(name, false)?;
        }
        self.delete_inactive_thin(name)
    }

    fn thin(&self, name: &Ident) -> Option<&ThinDev> {
        self.thins.get(name)
    }

    fn discard(&mut self, name: &Ident, offset: Bytes, len: Bytes) -> Result<(), BackendError> {
        let t = self.known(name)?.clone();
        let (chunk, ignore) = {
            let s = lock(&self.state);
            (s.chunk, s.ignore_discard)
        };
        if ignore {
            let why = "the pool has ignore_discard";
            return Err(errno("BLKDISCARD", &t.dm.name, Errno::EOPNOTSUPP, why));
        }
        let file = t
            .file
            .as_deref()
            .ok_or(BackendError::NoSuchThin(name.to_string()))?;
        super::discard::punch_chunks(file, t.size, chunk, offset, len)
    }

    fn deactivate_thin(&mut self, name: &Ident, deferred: bool) -> Result<(), BackendError> {
        let t = self.known(name)?.clone();
        let mut s = lock(&self.state);
        s.take_failure(FakeOp::Deactivate, &t.dm.name)?;
        let ft = s
            .thins
            .get_mut(name)
            .ok_or_else(|| BackendError::NoSuchThin(name.to_string()))?;
        if !ft.active {
            return Err(errno("remove", &t.dm.name, Errno::ENXIO, "no such device"));
        }
        if held_open(&ft.file) {
            if !deferred {
                return Err(errno(
                    "remove",
                    &t.dm.name,
                    Errno::EBUSY,
                    "the device is open",
                ));
            }
            ft.deferred = true;
        } else {
            ft.active = false;
        }
        Ok(())
    }

    fn deferred_pending(&self, name: &Ident) -> Result<Option<bool>, BackendError> {
        let mut s = lock(&self.state);
        let ft = s
            .thins
            .get_mut(name)
            .ok_or_else(|| BackendError::NoSuchThin(name.to_string()))?;
        ft.settle_deferred();
        Ok(ft.active.then_some(ft.deferred))
    }

    fn activate_thin(
        &mut self,
        name: &Ident,
        id: ThinId,
        size: Bytes,
        read_only: bool,
    ) -> Result<ThinDev, BackendError> {
        let t = self.known(name)?.clone();
        if read_only || id != t.id || size != t.size {
            return Err(BackendError::Unsupported(
                "the fake pool activates a thin as it was: its own id and size, writable".into(),
            ));
        }
        let mut s = lock(&self.state);
        let ft = s
            .thins
            .get_mut(name)
            .ok_or_else(|| BackendError::NoSuchThin(name.to_string()))?;
        ft.settle_deferred();
        if ft.active {
            return Err(errno(
                "create",
                &t.dm.name,
                Errno::EBUSY,
                "the device exists",
            ));
        }
        ft.active = true;
        Ok(t)
    }

    fn suspend_device(&self, name: &str, _flush: bool) -> Result<(), BackendError> {
        Err(BackendError::Unsupported(format!(
            "suspending {name}: the fake pool has no dm devices"
        )))
    }

    fn resume_device(&self, name: &str) -> Result<(), BackendError> {
        Err(BackendError::Unsupported(format!(
            "resuming {name}: the fake pool has no dm devices"
        )))
    }

    fn pool_message(&mut self, text: &str) -> Result<(), BackendError> {
        Err(BackendError::Unsupported(format!(
            "the pool message `{text}` needs a kernel pool (the fake pool has no metadata)"
        )))
    }

    fn delete_inactive_thin(&mut self, name: &Ident) -> Result<(), BackendError> {
        let t = self.known(name)?.clone();
        let mut s = lock(&self.state);
        s.take_failure(FakeOp::Delete, &t.dm.name)?;
        if s.thins.get_mut(name).is_some_and(|ft| {
            ft.settle_deferred();
            ft.active
        }) {
            return Err(errno(
                "delete",
                &t.dm.name,
                Errno::EBUSY,
                "the thin's device is still active",
            ));
        }
        s.scan()?;
        if let Some(ft) = s.thins.remove(name) {
            for m in ft.map.values() {
                s.unref(m.block);
            }
            s.transaction_id += 1;
            let _ = std::fs::remove_file(&ft.file);
        }
        drop(s);
        self.thins.remove(name);
        Ok(())
    }

    fn grow_data(&mut self, by: Bytes) -> Result<(), BackendError> {
        let mut s = lock(&self.state);
        s.take_failure(FakeOp::GrowData, &self.dm_name)?;
        s.data_total += by.0 / s.chunk.0;
        Ok(())
    }

    fn metadata_device(&self) -> Option<PathBuf> {
        None
    }

    /// The fake has no table: the settings a reload changes are kept (the no-space
    /// policy shows in its status); what needs the kernel to act (`read_only`: failing
    /// writes; `ignore_discard`, `chunk_size`: the kernel's refusals) is unsupported.
    fn reload(
        &mut self,
        change: &crate::spec::ReloadSpec,
    ) -> Result<super::table::PoolTable, BackendError> {
        if change.read_only.is_some() || change.ignore_discard.is_some() || change.chunk.is_some() {
            return Err(BackendError::Unsupported(
                "the fake pool has no kernel to make read-only or to refuse a table".into(),
            ));
        }
        let mut s = lock(&self.state);
        if let Some(n) = change.no_space {
            s.error_if_no_space = n == crate::spec::NoSpacePolicy::Error;
        }
        let now: Vec<String> = if s.error_if_no_space {
            vec!["error_if_no_space".into()]
        } else {
            Vec::new()
        };
        Ok(super::table::PoolTable {
            metadata_dev: "fake".into(),
            data_dev: "fake".into(),
            block_sectors: s.chunk.0 / 512,
            low_water_mark: 0,
            features: change.features(&now),
        })
    }

    /// Grows the fake's data or metadata blocks; a shrink is refused with dm-thin's
    /// EINVAL ("pool target too small").
    fn resize(
        &mut self,
        r: &crate::spec::ResizeSpec,
    ) -> Result<super::resize::Resized, BackendError> {
        let mut s = lock(&self.state);
        let (unit, total) = match r.device {
            crate::spec::ResizeDevice::Data => (s.chunk.0, s.data_total),
            crate::spec::ResizeDevice::Metadata => (4096, s.meta_total),
        };
        let before = Bytes(total * unit);
        let after = r.amount.target(before);
        if after < before {
            let why = format!("{} is below the pool's {}", after.human(), before.human());
            return Err(errno("resize", &self.dm_name, Errno::EINVAL, &why));
        }
        if r.device == crate::spec::ResizeDevice::Data {
            s.take_failure(FakeOp::GrowData, &self.dm_name)?;
            s.data_total = after.0 / unit;
        } else {
            s.meta_total = after.0 / unit;
        }
        Ok(super::resize::Resized {
            before,
            after: Bytes(after.0 / unit * unit),
            commands: vec![format!(
                "fake: {} {} → {}",
                r.device.as_str(),
                before.human(),
                after.human()
            )],
        })
    }

    /// The fake's own block map in `thin_ls`'s shape: what the accounting model is
    /// cross-checked against, as a real pool's metadata is.
    fn thin_ls(&self) -> Result<Vec<thin_tools::ThinLsRow>, BackendError> {
        let mut s = lock(&self.state);
        s.scan()?;
        let mut rows: Vec<thin_tools::ThinLsRow> = s
            .thins
            .values()
            .map(|t| {
                let exclusive = t
                    .map
                    .values()
                    .filter(|m| s.refs.get(&m.block) == Some(&1))
                    .count() as u64;
                thin_tools::ThinLsRow {
                    dev: u64::from(t.id.get()),
                    mapped: t.map.len() as u64,
                    exclusive,
                    shared: t.map.len() as u64 - exclusive,
                }
            })
            .collect();
        rows.sort_by_key(|r| r.dev);
        Ok(rows)
    }

    fn construction(&self) -> Vec<String> {
        let s = lock(&self.state);
        vec![format!(
            "fake pool: {} data blocks of {} bytes, thins as sparse files in {}",
            s.data_total,
            s.chunk.0,
            self.dir.display()
        )]
    }

    fn device(&self) -> String {
        format!("{} (fake, no kernel)", self.dm_name)
    }

    fn teardown(&mut self) -> Vec<String> {
        if std::mem::replace(&mut self.torn_down, true) {
            return Vec::new();
        }
        let mut errs = Vec::new();
        let files: Vec<PathBuf> = lock(&self.state)
            .thins
            .values()
            .map(|t| t.file.clone())
            .collect();
        for f in files {
            if let Err(e) = std::fs::remove_file(&f) {
                errs.push(format!("removing {}: {e}", f.display()));
            }
        }
        lock(&self.state).thins.clear();
        self.thins.clear();
        if let Err(e) = std::fs::remove_dir(&self.dir) {
            errs.push(format!("removing {}: {e}", self.dir.display()));
        }
        errs
    }
}

impl Drop for FakePool {
    fn drop(&mut self) {
        let _ = self.teardown();
    }
}

#[cfg(test)]
#[path = "fake_tests.rs"]
mod tests;
