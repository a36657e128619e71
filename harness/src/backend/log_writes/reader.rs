//! Reading a log: its entries in order, counts over them, and the crash points.
//!
//! # What is trusted
//!
//! Only the first `nr_entries` entries, and the superblock's count is rewritten only
//! after a FUA or a MARK entry (`log_writes_kthread`: `super = flags & (FUA | MARK)`), with
//! no wait for the entries' own data IO. So a log read while the device is live counts
//! only up to the last FUA or mark, and the newest counted entry may lack its data;
//! entries past `nr_entries` are ignored even when present (the log device is not
//! cleared, so stale entries of an older run may follow). Read the log only after
//! `dmsetup remove` of the log-writes device: then [`Summary::clean_end`] holds (the last
//! entry is the `dm-log-writes-end` mark). A log whose counted entries do not parse is
//! an error, never silently shortened.
//!
//! # Crash states
//!
//! log-writes logs a plain write only once a later flush has completed, placing it just
//! before that flush entry, and logs a FUA write when it completes; discards are ordered
//! like plain writes. So a prefix of the log ending at a flush, a FUA write or a mark is
//! a state the devices could have been in after a power cut. (States cut inside a run of
//! writes before a flush, with any subset of them durable, are possible too; they are
//! not points here.)

use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::num::NonZeroUsize;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use thinbench_schema::units::Bytes;

use super::error::LogError;
use super::format::{self, Corruption, Entry, Flags, END_MARK, SUPER_LEN};

/// Why a point is a crash state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PointKind {
    /// A flush completed.
    Flush,
    /// A FUA write completed.
    Fua,
    /// A write with both `REQ_PREFLUSH` and `REQ_FUA` completed.
    FlushFua,
    /// A user mark.
    Mark {
        /// Its label.
        label: String,
    },
}

/// The state after applying entries `0..=index`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Point {
    /// Last entry applied.
    pub index: u64,
    /// Why it is a point.
    pub kind: PointKind,
}

/// Which points [`LogReader::points`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Select {
    /// Every flush, FUA and mark.
    All,
    /// `n` of them spread evenly over the list, always with the last; all if there are
    /// no more than `n`.
    Sampled(NonZeroUsize),
}

/// Counts over the trusted entries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Entries (the superblock's `nr_entries`).
    pub entries: u64,
    /// Entries with data.
    pub writes: u64,
    /// Entries with FLUSH.
    pub flushes: u64,
    /// Entries with FUA.
    pub fuas: u64,
    /// Marks, the end mark included.
    pub marks: u64,
    /// Discards.
    pub discards: u64,
    /// Entries with the METADATA hint.
    pub metadata: u64,
    /// Data bytes written.
    pub bytes_written: Bytes,
    /// Bytes discarded.
    pub bytes_discarded: Bytes,
    /// The last entry is the kernel's `dm-log-writes-end` mark: the log was read after
    /// the device was removed, so nothing is missing.
    pub clean_end: bool,
}

/// The log's bytes: a file or block device, or memory (tests and fuzzing).
#[derive(Debug)]
enum Source {
    File(File),
    Memory(Vec<u8>),
}

impl Source {
    /// Callers bound `off + buf.len()` by the log's length first.
    fn read_exact_at(&self, buf: &mut [u8], off: u64) -> std::io::Result<()> {
        match self {
            Source::File(f) => f.read_exact_at(buf, off),
            Source::Memory(m) => {
                let start = usize::try_from(off).map_err(std::io::Error::other)?;
                let src = start
                    .checked_add(buf.len())
                    .and_then(|end| m.get(start..end))
                    .ok_or(std::io::ErrorKind::UnexpectedEof)?;
                buf.copy_from_slice(src);
                Ok(())
            }
        }
    }
}

/// A parsed, validated log. Opening reads every trusted entry's header once (not its
/// data), so later iteration and replay fail only on IO errors.
#[derive(Debug)]
pub struct LogReader {
    path: PathBuf,
    source: Source,
    len: u64,
    block_size: u64,
    nr_entries: u64,
    points: Vec<Point>,
    summary: Summary,
}

impl LogReader {
    /// Open a log on a file or block device.
    pub fn open(path: &Path) -> Result<LogReader, LogError> {
        let io = |what| {
            move |source| LogError::Io {
                what,
                path: path.to_owned(),
                source,
            }
        };
        let mut f = File::open(path).map_err(io("open log"))?;
        // Seeking to the end sizes block devices too (their metadata length is 0).
        let len = f.seek(SeekFrom::End(0)).map_err(io("size log"))?;
        LogReader::new(path.to_owned(), Source::File(f), len)
    }

    /// A log held in memory.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<LogReader, LogError> {
        let len = bytes.len() as u64;
        LogReader::new(PathBuf::from("<memory>"), Source::Memory(bytes), len)
    }

    fn new(path: PathBuf, source: Source, len: u64) -> Result<LogReader, LogError> {
        let corrupt = |problem| LogError::Corrupt {
            path: path.clone(),
            problem,
        };
        if len < SUPER_LEN {
            return Err(corrupt(Corruption::TooShort { len }));
        }
        let mut sb = [0u8; SUPER_LEN as usize];
        source
            .read_exact_at(&mut sb, 0)
            .map_err(|source| LogError::Io {
                what: "read superblock of",
                path: path.clone(),
                source,
            })?;
        let sup = format::decode_super(&sb, len).map_err(corrupt)?;
        let mut log = LogReader {
            path,
            source,
            len,
            block_size: sup.block_size,
            nr_entries: sup.nr_entries,
            points: Vec::new(),
            summary: Summary {
                entries: sup.nr_entries,
                ..Summary::default()
            },
        };
        log.scan()?;
        Ok(log)
    }

    /// Validate every trusted entry; gather points and counts.
    fn scan(&mut self) -> Result<(), LogError> {
        let mut s = self.summary;
        let mut points = Vec::new();
        let mut last_mark = None;
        for e in self.entries() {
            let e = e?;
            let f = e.flags;
            s.flushes += u64::from(f.contains(Flags::FLUSH));
            s.fuas += u64::from(f.contains(Flags::FUA));
            s.metadata += u64::from(f.contains(Flags::METADATA));
            if f.contains(Flags::DISCARD) {
                s.discards += 1;
                s.bytes_discarded += e.len;
            } else if e.has_data() {
                s.writes += 1;
                s.bytes_written += e.len;
            }
            last_mark = e.mark.clone();
            let kind = match e.mark {
                Some(label) => {
                    s.marks += 1;
                    Some(PointKind::Mark { label })
                }
                None => match (f.contains(Flags::FLUSH), f.contains(Flags::FUA)) {
                    (true, true) => Some(PointKind::FlushFua),
                    (true, false) => Some(PointKind::Flush),
                    (false, true) => Some(PointKind::Fua),
                    (false, false) => None,
                },
            };
            if let Some(kind) = kind {
                points.push(Point {
                    index: e.index,
                    kind,
                });
            }
        }
        s.clean_end = last_mark.as_deref() == Some(END_MARK);
        self.summary = s;
        self.points = points;
        Ok(())
    }

    /// The log's path (`<memory>` for [`from_bytes`](Self::from_bytes)).
    pub fn path(&self) -> &Path {
        &self.path
    }
    /// The log block size: the unit of [`Entry::sector`] and [`Entry::nr_sectors`].
    pub fn block_size(&self) -> Bytes {
        Bytes(self.block_size)
    }
    /// Trusted entries (the superblock's `nr_entries`).
    pub fn nr_entries(&self) -> u64 {
        self.nr_entries
    }
    /// Counts over the entries.
    pub fn summary(&self) -> Summary {
        self.summary
    }

    /// The entries in log order, headers only.
    pub fn entries(&self) -> Entries<'_> {
        Entries {
            log: self,
            cursor: Cursor::start(self.block_size),
            header: vec![0; self.block_size as usize],
            failed: false,
        }
    }

    /// Crash points: every flush, FUA and mark, or a sample of them.
    pub fn points(&self, select: Select) -> Vec<Point> {
        match select {
            Select::All => self.points.clone(),
            Select::Sampled(n) => sample(&self.points, n.get()),
        }
    }

    fn corrupt(&self, problem: Corruption) -> LogError {
        LogError::Corrupt {
            path: self.path.clone(),
            problem,
        }
    }

    /// Read `buf.len()` bytes at `off`; the replay reads entries' data through this.
    pub fn read_at(&self, buf: &mut [u8], off: u64) -> Result<(), LogError> {
        self.source
            .read_exact_at(buf, off)
            .map_err(|source| LogError::Io {
                what: "read log",
                path: self.path.clone(),
                source,
            })
    }

    /// Parse the entry at `cur` into `header` (one block), returning it and the cursor
    /// after it. The header's place is checked against the log's size before it is read.
    pub(super) fn read_entry(
        &self,
        cur: Cursor,
        header: &mut [u8],
    ) -> Result<(Entry, Cursor), LogError> {
        let (index, off) = (cur.index, cur.offset);
        format::data_offset(index, off, self.block_size, self.len).map_err(|p| self.corrupt(p))?;
        self.read_at(header, off)?;
        let (entry, next) =
            format::decode_entry(header, index, off, self.len).map_err(|p| self.corrupt(p))?;
        Ok((
            entry,
            Cursor {
                index: index + 1,
                offset: next,
            },
        ))
    }
}

/// `n` of `points`, evenly spread, the last always included.
fn sample(points: &[Point], n: usize) -> Vec<Point> {
    let count = points.len();
    if n >= count {
        return points.to_vec();
    }
    // The k-th pick ends the k-th of n equal slices: strictly increasing since
    // count / n >= 1, and the n-th is the last point.
    (1..=n).map(|k| points[k * count / n - 1].clone()).collect()
}

/// The next entry to read: its index and the byte offset of its header.
#[derive(Debug, Clone, Copy)]
pub(super) struct Cursor {
    pub(super) index: u64,
    offset: u64,
}

impl Cursor {
    /// Entry 0, in the block after the superblock.
    pub(super) fn start(block_size: u64) -> Cursor {
        Cursor {
            index: 0,
            offset: block_size,
        }
    }
}

/// Iterator over a log's entries; stops after the first error.
#[derive(Debug)]
pub struct Entries<'a> {
    log: &'a LogReader,
    cursor: Cursor,
    header: Vec<u8>,
    failed: bool,
}

impl Iterator for Entries<'_> {
    type Item = Result<Entry, LogError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.cursor.index >= self.log.nr_entries {
            return None;
        }
        match self.log.read_entry(self.cursor, &mut self.header) {
            Ok((e, next)) => {
                self.cursor = next;
                Some(Ok(e))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
#[path = "reader_tests.rs"]
mod tests;
