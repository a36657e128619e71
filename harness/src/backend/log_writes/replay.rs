//! Replaying a log onto files: the devices' state at a crash point.

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{fallocate, FallocateFlags};
use thinbench_schema::units::Sectors;

use super::error::LogError;
use super::format::{Entry, Flags};
use super::reader::{Cursor, LogReader, Point};

/// Replay copies through one buffer of this size, whatever the entry's length.
const COPY_BUF: usize = 1 << 20;

/// A range of the device under log-writes, replayed onto a file at an offset.
///
/// A loop-lvm pool's log covers `[metadata | data]`, one region each at offset 0. A
/// direct-lvm pool's log covers its whole PV: each LV segment of `_tmeta` and `_tdata` is
/// a region, at its offset in the LV, and several regions share one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    /// First sector of the range on the device under log-writes: 512-byte sectors, as
    /// in the dm tables, whatever the log's block size.
    pub start: Sectors,
    /// Its length.
    pub len: Sectors,
    /// The target file, created (or truncated) sparse and zero-filled to the end of its
    /// last region.
    pub file: PathBuf,
    /// Where in the file the range starts.
    pub at: Sectors,
}

#[derive(Debug)]
struct Target {
    start: u64,
    end: u64,
    /// Byte offset in the file of `start`.
    at: u64,
    path: PathBuf,
    file: File,
    /// Cleared when the filesystem cannot punch holes; zeros are written instead.
    punch: bool,
}

/// Applies a log's entries, in order, onto target files split by device ranges.
///
/// A DISCARD punches a hole in the target (zeros are written where holes are not
/// supported): the harness's devices are loop devices on sparse files, and a loop
/// device discards by punching a hole in its backing file, so the discarded range read
/// zeros on the original device too; holes also keep the targets sparse. (A real disk
/// may return old data after a discard; that state is not replayed.)
#[derive(Debug)]
pub struct Replayer<'a> {
    log: &'a LogReader,
    targets: Vec<Target>,
    cursor: Cursor,
    header: Vec<u8>,
    buf: Vec<u8>,
    /// Sectors written outside every region, when those are allowed.
    skipped: Option<u64>,
}

impl<'a> Replayer<'a> {
    /// Create the target files, zero-filled and sparse, ready to apply entry 0.
    pub fn new(log: &'a LogReader, regions: Vec<Region>) -> Result<Replayer<'a>, LogError> {
        let mut targets: Vec<Target> = Vec::with_capacity(regions.len());
        // The length each file needs, set once every region is known.
        let mut lens: Vec<(PathBuf, u64)> = Vec::new();
        for (i, r) in regions.into_iter().enumerate() {
            if r.len.0 == 0 {
                return Err(LogError::EmptyRegion {
                    region: i,
                    path: r.file,
                });
            }
            let io = |what| {
                let path = r.file.clone();
                move |source| LogError::Io { what, path, source }
            };
            let too_big =
                || io("size replay target")(std::io::Error::other("region beyond 2^64 bytes"));
            let bytes = |s: Sectors| s.0.checked_mul(512).ok_or_else(too_big);
            let (start, len, at) = (bytes(r.start)?, bytes(r.len)?, bytes(r.at)?);
            let end = start.checked_add(len).ok_or_else(too_big)?;
            let file_end = at.checked_add(len).ok_or_else(too_big)?;
            let file = match targets.iter().find(|t| t.path == r.file) {
                Some(t) => t.file.try_clone().map_err(io("open replay target"))?,
                None => OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .open(&r.file)
                    .map_err(io("create replay target"))?,
            };
            match lens.iter_mut().find(|(p, _)| *p == r.file) {
                Some((_, l)) => *l = (*l).max(file_end),
                None => lens.push((r.file.clone(), file_end)),
            }
            targets.push(Target {
                start,
                end,
                at,
                path: r.file,
                file,
                punch: true,
            });
        }
        for (path, len) in &lens {
            if let Some(t) = targets.iter().find(|t| t.path == *path) {
                t.file.set_len(*len).map_err(|source| LogError::Io {
                    what: "size replay target",
                    path: path.clone(),
                    source,
                })?;
            }
        }
        // Two ranges of one file must not overlap either, or one would hide the other.
        let mut in_files: Vec<(&Path, u64, u64)> = targets
            .iter()
            .map(|t| (t.path.as_path(), t.at, t.at + (t.end - t.start)))
            .collect();
        in_files.sort();
        if let Some(w) = in_files
            .windows(2)
            .find(|w| w[0].0 == w[1].0 && w[0].2 > w[1].1)
        {
            return Err(LogError::RegionsOverlap {
                a: w[0].0.to_owned(),
                b: w[1].0.to_owned(),
            });
        }
        targets.sort_by_key(|t| t.start);
        if let Some(w) = targets.windows(2).find(|w| w[0].end > w[1].start) {
            return Err(LogError::RegionsOverlap {
                a: w[0].path.clone(),
                b: w[1].path.clone(),
            });
        }
        let block_size = log.block_size().0;
        Ok(Replayer {
            log,
            targets,
            cursor: Cursor::start(block_size),
            header: vec![0; block_size as usize],
            buf: Vec::new(),
            skipped: None,
        })
    }

    /// Let entries write outside every region, and count them instead of failing: a log
    /// under a whole PV holds lvm's label and metadata writes and other LVs' too.
    pub fn skipping_unmapped(mut self) -> Self {
        self.skipped = Some(0);
        self
    }

    /// Sectors written outside every region so far (`skipping_unmapped` only).
    pub fn skipped_sectors(&self) -> u64 {
        self.skipped.unwrap_or(0)
    }

    /// The next entry to apply (all before it are applied).
    pub fn next_index(&self) -> u64 {
        self.cursor.index
    }

    /// Apply entries up to and including the point's.
    pub fn advance_to(&mut self, point: &Point) -> Result<(), LogError> {
        self.advance_to_entry(point.index)
    }

    /// Apply entries up to and including `index`.
    pub fn advance_to_entry(&mut self, index: u64) -> Result<(), LogError> {
        let nr_entries = self.log.nr_entries();
        if index >= nr_entries {
            return Err(LogError::BeyondLog { index, nr_entries });
        }
        if index < self.cursor.index {
            return Err(LogError::Passed {
                index,
                next: self.cursor.index,
            });
        }
        while self.cursor.index <= index {
            let (e, next) = self.log.read_entry(self.cursor, &mut self.header)?;
            self.apply(&e)?;
            self.cursor = next;
        }
        Ok(())
    }

    /// Apply every entry.
    pub fn finish(&mut self) -> Result<(), LogError> {
        match self.log.nr_entries().checked_sub(1) {
            Some(last) if self.cursor.index <= last => self.advance_to_entry(last),
            _ => Ok(()),
        }
    }

    fn apply(&mut self, e: &Entry) -> Result<(), LogError> {
        if e.mark.is_some() || e.len.0 == 0 {
            return Ok(());
        }
        let discard = e.flags.contains(Flags::DISCARD);
        let (start, end) = (e.offset.0, e.offset.0 + e.len.0);
        let mut pos = start;
        while pos < end {
            // Sorted and disjoint, so the first region ending after pos is the only
            // candidate.
            let next = self.targets.iter().position(|t| t.end > pos);
            let Some(t) = next.filter(|&i| self.targets[i].start <= pos) else {
                let Some(skipped) = self.skipped.as_mut() else {
                    return Err(LogError::Unmapped {
                        index: e.index,
                        offset: pos,
                        end,
                    });
                };
                // Up to the next region, or the entry's end.
                let gap_end = next.map_or(end, |i| end.min(self.targets[i].start));
                *skipped += (gap_end - pos).div_ceil(512);
                pos = gap_end;
                continue;
            };
            let piece_end = end.min(self.targets[t].end);
            if discard {
                self.discard(t, pos, piece_end - pos)?;
            } else {
                let log_off = e.data_offset.0 + (pos - start);
                self.copy(t, log_off, pos, piece_end - pos)?;
            }
            pos = piece_end;
        }
        Ok(())
    }

    /// Copy `len` bytes at `log_off` in the log to device byte `dev_off` (in target `t`).
    fn copy(&mut self, t: usize, log_off: u64, dev_off: u64, len: u64) -> Result<(), LogError> {
        if self.buf.len() < COPY_BUF {
            self.buf.resize(COPY_BUF, 0);
        }
        let target = &self.targets[t];
        let mut done = 0;
        while done < len {
            let n = (len - done).min(COPY_BUF as u64) as usize;
            let chunk = &mut self.buf[..n];
            self.log.read_at(chunk, log_off + done)?;
            target
                .file
                .write_all_at(chunk, dev_off - target.start + target.at + done)
                .map_err(|source| LogError::Io {
                    what: "write replay target",
                    path: target.path.clone(),
                    source,
                })?;
            done += n as u64;
        }
        Ok(())
    }

    fn discard(&mut self, t: usize, dev_off: u64, len: u64) -> Result<(), LogError> {
        let target = &mut self.targets[t];
        let off = dev_off - target.start + target.at;
        let io = |path: &Path, source| LogError::Io {
            what: "discard in replay target",
            path: path.to_owned(),
            source,
        };
        if target.punch {
            let mode = FallocateFlags::FALLOC_FL_PUNCH_HOLE | FallocateFlags::FALLOC_FL_KEEP_SIZE;
            // Both fit in i64: the range lies inside a size set_len accepted.
            match fallocate(target.file.as_raw_fd(), mode, off as i64, len as i64) {
                Ok(()) => return Ok(()),
                Err(Errno::EOPNOTSUPP) => target.punch = false,
                Err(e) => return Err(io(&target.path, e.into())),
            }
        }
        if self.buf.len() < COPY_BUF {
            self.buf.resize(COPY_BUF, 0);
        }
        self.buf.fill(0);
        let mut done = 0;
        while done < len {
            let n = (len - done).min(COPY_BUF as u64) as usize;
            target
                .file
                .write_all_at(&self.buf[..n], off + done)
                .map_err(|e| io(&target.path, e))?;
            done += n as u64;
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "replay_tests.rs"]
mod tests;
