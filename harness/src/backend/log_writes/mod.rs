//! Reading and replaying a dm `log-writes` log, to check the crash states of a thin pool.
//!
//! The pool's metadata and data devices sit on one `log-writes` device (a linear concat
//! `[metadata | data]` under it, split again by two linears above), so one log holds
//! every write to both, in the order the kernel saw them become durable. After the run,
//! [`LogReader`] parses the log, [`LogReader::points`] picks crash points (FUA writes,
//! flushes, marks), and a [`Replayer`] rebuilds the devices on sparse files up to each
//! point, in order, for `thin_check` and for reading the flushed data back.
//!
//! # On-disk format
//!
//! As written by the kernel's `drivers/md/dm-log-writes.c` (target version 1.1.0) and
//! read by xfstests' `src/log-writes/log-writes.c`; all integers little-endian.
//!
//! - The log is a sequence of blocks of `sectorsize` bytes: the logical block size of the
//!   device under log-writes (`log_writes_ctr`: `bdev_logical_block_size(dev)`), 512 or
//!   4096 in practice, at most a page (`write_metadata` builds a block in one page).
//! - Block 0 is the superblock `{ le64 magic = 0x6a736677736872, le64 version = 1,
//!   le64 nr_entries, le32 sectorsize }`, zero-padded (`log_super`, `write_metadata`).
//! - Entry 0 starts at block 1 (`lc->next_sector = sectorsize >> 9` in `log_writes_ctr`);
//!   entry 0 is an ordinary entry, nothing special. Each entry is one header block
//!   `{ le64 sector, le64 nr_sectors, le64 flags, le64 data_len }`, zero-padded, then
//!   `nr_sectors` blocks of the written data, except for a DISCARD, which has none
//!   (`log_writes_kthread` advances `next_sector` by `nr_sectors + 1` blocks, or by 1
//!   for a discard).
//! - `sector` and `nr_sectors` count `sectorsize` blocks, not 512-byte sectors
//!   (`bio_to_dev_sectors` in `log_writes_map`), from the start of the device under
//!   log-writes (the bio's sector is used without `dm_target_offset`, so the
//!   log-writes table must be one target starting at 0).
//! - Flags: FLUSH = 1 (`REQ_PREFLUSH`), FUA = 2, DISCARD = 4, MARK = 8, METADATA = 16
//!   (`REQ_META`, a hint only). A flush with no data is an entry with `nr_sectors = 0`.
//! - A mark (`dmsetup message <lw> 0 mark <label>`) has only the MARK flag, `sector =
//!   nr_sectors = 0`, and its label in the header block right after the 32 header bytes:
//!   `data_len = strlen(label)`, the label cut to `sectorsize - 33` bytes (`log_mark`,
//!   `log_one_block`). `data_len` is 0 for every other entry the kernel writes today.
//! - Removing the device logs the writes still unflushed, then a mark
//!   `dm-log-writes-end` (`log_writes_dtr`), and waits for all log IO.
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
//!
//! # For the VM integration test
//!
//! This host has no device-mapper, so these tests run on synthetic logs in the kernel's
//! format. A VM test on a real log should check: `LogReader::open` on the log device (or
//! its backing file) after `dmsetup remove`, `block_size` equal to `blockdev --getss`
//! of the concat device; `Summary::clean_end`; the log-writes status (`<entries>
//! <highest sector>`) before removal not saying `logging_disabled` (a full log device
//! drops every later entry) and its entry count + 1 (the end mark) equal to
//! `Summary::entries`; its own marks present, in order, with their labels; replaying
//! to the last point giving files byte-identical to the metadata and data devices
//! (read through the linears above log-writes before teardown); and `thin_check`
//! passing on the metadata replayed to each sampled flush/FUA point.

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom};
use std::num::NonZeroUsize;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{fallocate, FallocateFlags};
use thinbench_schema::units::{Bytes, Sectors};

/// `WRITE_LOG_MAGIC` in dm-log-writes.c.
pub const LOG_MAGIC: u64 = 0x6a736677736872; // on disk: b"rhswfsj\0"
/// `WRITE_LOG_VERSION` in dm-log-writes.c.
pub const LOG_VERSION: u64 = 1;
/// The label of the mark the kernel logs when the log-writes device is removed.
pub const END_MARK: &str = "dm-log-writes-end";

/// `struct log_write_super`: three le64 and one le32.
const SUPER_LEN: u64 = 28;
/// `struct log_write_entry`: four le64.
const ENTRY_LEN: usize = 32;
/// Log block sizes accepted: the kernel's logical block sizes, up to a 64 KiB page.
const MIN_BLOCK: u64 = 512;
const MAX_BLOCK: u64 = 64 * 1024;
/// Replay copies through one buffer of this size, whatever the entry's length.
const COPY_BUF: usize = 1 << 20;

/// The flags of a log entry (`LOG_*_FLAG` in dm-log-writes.c).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Flags(u64);

impl Flags {
    /// The bio had `REQ_PREFLUSH`: everything logged before it is durable.
    pub const FLUSH: Flags = Flags(1);
    /// The bio had `REQ_FUA`: it was durable when it completed.
    pub const FUA: Flags = Flags(2);
    /// A discard of `nr_sectors` blocks; no data in the log.
    pub const DISCARD: Flags = Flags(4);
    /// A user mark; its label is in the header block.
    pub const MARK: Flags = Flags(8);
    /// The bio had `REQ_META` (a filesystem hint only).
    pub const METADATA: Flags = Flags(16);
    const KNOWN: u64 = 31;

    /// The raw bits.
    pub fn bits(self) -> u64 {
        self.0
    }
    /// Whether every bit of `other` is set.
    pub fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, o: Flags) -> Flags {
        Flags(self.0 | o.0)
    }
}

/// What is wrong with a log's bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Corruption {
    /// Shorter than a superblock block.
    #[error("{len} bytes: shorter than a superblock")]
    TooShort {
        /// Bytes in the log.
        len: u64,
    },
    /// Not a log-writes log.
    #[error("bad magic {found:#x} (want {LOG_MAGIC:#x})")]
    BadMagic {
        /// Magic read.
        found: u64,
    },
    /// A format version this reader does not know.
    #[error("unsupported version {found} (want {LOG_VERSION})")]
    BadVersion {
        /// Version read.
        found: u64,
    },
    /// The block size is not a power of two in 512..=65536.
    #[error("bad sectorsize {found}")]
    BadBlockSize {
        /// Size read.
        found: u32,
    },
    /// More entries claimed than blocks in the log (each entry takes at least one).
    #[error("nr_entries {nr_entries} but room for at most {max}")]
    TooManyEntries {
        /// Count in the superblock.
        nr_entries: u64,
        /// Blocks after the superblock.
        max: u64,
    },
    /// An entry's header or data runs past the end of the log.
    #[error("entry {index} at byte {offset}: needs {needed} bytes, the log has {len}")]
    Truncated {
        /// Entry index.
        index: u64,
        /// Byte offset of its header.
        offset: u64,
        /// Bytes up to the end of the entry.
        needed: u64,
        /// Bytes in the log.
        len: u64,
    },
    /// Flag bits the kernel never sets.
    #[error("entry {index}: unknown flags {flags:#x}")]
    UnknownFlags {
        /// Entry index.
        index: u64,
        /// Flags read.
        flags: u64,
    },
    /// No flags and no sectors: an unwritten block, or a misparse.
    #[error("entry {index} at byte {offset}: empty (no flags, no sectors)")]
    EmptyEntry {
        /// Entry index.
        index: u64,
        /// Byte offset of its header.
        offset: u64,
    },
    /// A mark with other flags or with sectors.
    #[error("entry {index}: mark with flags {flags:#x} and {nr_sectors} sectors")]
    BadMark {
        /// Entry index.
        index: u64,
        /// Flags read.
        flags: u64,
        /// Sectors read.
        nr_sectors: u64,
    },
    /// `data_len` larger than the entry can hold.
    #[error("entry {index}: data_len {data_len} exceeds {max}")]
    DataLen {
        /// Entry index.
        index: u64,
        /// Length read.
        data_len: u64,
        /// The most it may be.
        max: u64,
    },
    /// Non-zero bytes in a header block's padding: a misparse or a torn header.
    #[error("entry {index} at byte {offset}: header padding not zero")]
    Padding {
        /// Entry index.
        index: u64,
        /// Byte offset of its header.
        offset: u64,
    },
    /// `sector` or `nr_sectors` too large to be a byte offset.
    #[error("entry {index}: sector {sector} + {nr_sectors} overflows")]
    Overflow {
        /// Entry index.
        index: u64,
        /// Sector read.
        sector: u64,
        /// Sectors read.
        nr_sectors: u64,
    },
}

/// Log reading and replay failures.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// Reading the log or writing a target failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// On which path.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The log's bytes are not a valid log.
    #[error("log {path}: {problem}")]
    Corrupt {
        /// The log.
        path: PathBuf,
        /// What is wrong.
        problem: Corruption,
    },
    /// A replay region of zero length.
    #[error("replay region {region} ({path}) is empty")]
    EmptyRegion {
        /// Index in the list given.
        region: usize,
        /// Its file.
        path: PathBuf,
    },
    /// Two replay regions overlap.
    #[error("replay regions overlap: {a} and {b}")]
    RegionsOverlap {
        /// A region's file.
        a: PathBuf,
        /// The other's.
        b: PathBuf,
    },
    /// An entry touches bytes no region covers.
    #[error("entry {index}: bytes {offset}..{end} of the device are outside every region")]
    Unmapped {
        /// Entry index.
        index: u64,
        /// First uncovered byte.
        offset: u64,
        /// End of the entry.
        end: u64,
    },
    /// `advance_to` a point the replay has already passed.
    #[error("replay is past entry {index} (next is {next})")]
    Passed {
        /// Entry asked for.
        index: u64,
        /// Next entry to apply.
        next: u64,
    },
    /// `advance_to` an entry the log does not have.
    #[error("entry {index} is beyond the log's {nr_entries} entries")]
    BeyondLog {
        /// Entry asked for.
        index: u64,
        /// Entries in the log.
        nr_entries: u64,
    },
}

/// One log entry, without its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Position in the log, from 0.
    pub index: u64,
    /// First block written, in log blocks ([`LogReader::block_size`]).
    pub sector: u64,
    /// Blocks written or discarded (0 for a mark or an empty flush).
    pub nr_sectors: u64,
    /// Flags.
    pub flags: Flags,
    /// Byte offset on the device (`sector` in bytes).
    pub offset: Bytes,
    /// Bytes written or discarded (`nr_sectors` in bytes).
    pub len: Bytes,
    /// Where the written data starts in the log (the block after the header). Nothing is
    /// there for a discard or a mark.
    pub data_offset: Bytes,
    /// A mark's label (bytes that are not UTF-8 replaced).
    pub mark: Option<String>,
}

impl Entry {
    /// Whether the entry carries data in the log.
    pub fn has_data(&self) -> bool {
        !self.flags.contains(Flags::DISCARD) && self.nr_sectors > 0
    }
}

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
        let magic = le64(&sb[0..]);
        if magic != LOG_MAGIC {
            return Err(corrupt(Corruption::BadMagic { found: magic }));
        }
        let version = le64(&sb[8..]);
        if version != LOG_VERSION {
            return Err(corrupt(Corruption::BadVersion { found: version }));
        }
        let nr_entries = le64(&sb[16..]);
        let bs = u32::from_le_bytes([sb[24], sb[25], sb[26], sb[27]]);
        let block_size = u64::from(bs);
        if !block_size.is_power_of_two() || !(MIN_BLOCK..=MAX_BLOCK).contains(&block_size) {
            return Err(corrupt(Corruption::BadBlockSize { found: bs }));
        }
        if len < block_size {
            return Err(corrupt(Corruption::TooShort { len }));
        }
        // Checked before the scan so a huge count fails at once, not after reading.
        let max = (len - block_size) / block_size;
        if nr_entries > max {
            return Err(corrupt(Corruption::TooManyEntries { nr_entries, max }));
        }
        let mut log = LogReader {
            path,
            source,
            len,
            block_size,
            nr_entries,
            points: Vec::new(),
            summary: Summary {
                entries: nr_entries,
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

    fn read_at(&self, buf: &mut [u8], off: u64) -> Result<(), LogError> {
        self.source
            .read_exact_at(buf, off)
            .map_err(|source| LogError::Io {
                what: "read log",
                path: self.path.clone(),
                source,
            })
    }

    /// Parse the entry at `cur`, returning it and the cursor after it. Every length is
    /// checked against the log's size before it is read or used.
    fn read_entry(&self, cur: Cursor, header: &mut [u8]) -> Result<(Entry, Cursor), LogError> {
        let (index, off, bs) = (cur.index, cur.offset, self.block_size);
        let truncated = |needed| {
            self.corrupt(Corruption::Truncated {
                index,
                offset: off,
                needed,
                len: self.len,
            })
        };
        let data_offset = off.checked_add(bs).ok_or_else(|| truncated(u64::MAX))?;
        if data_offset > self.len {
            return Err(truncated(data_offset));
        }
        self.read_at(header, off)?;
        let sector = le64(&header[0..]);
        let nr_sectors = le64(&header[8..]);
        let flags = le64(&header[16..]);
        let data_len = le64(&header[24..]);
        if flags & !Flags::KNOWN != 0 {
            return Err(self.corrupt(Corruption::UnknownFlags { index, flags }));
        }
        if flags == 0 && nr_sectors == 0 {
            return Err(self.corrupt(Corruption::EmptyEntry { index, offset: off }));
        }
        let flags = Flags(flags);
        let overflow = || {
            self.corrupt(Corruption::Overflow {
                index,
                sector,
                nr_sectors,
            })
        };
        let len = nr_sectors.checked_mul(bs).ok_or_else(overflow)?;
        let offset = sector.checked_mul(bs).ok_or_else(overflow)?;
        offset.checked_add(len).ok_or_else(overflow)?;
        let discard = flags.contains(Flags::DISCARD);
        let (label_len, mark) = if flags.contains(Flags::MARK) {
            if flags != Flags::MARK || nr_sectors != 0 {
                return Err(self.corrupt(Corruption::BadMark {
                    index,
                    flags: flags.0,
                    nr_sectors,
                }));
            }
            let max = bs - ENTRY_LEN as u64;
            if data_len > max {
                return Err(self.corrupt(Corruption::DataLen {
                    index,
                    data_len,
                    max,
                }));
            }
            let label = &header[ENTRY_LEN..ENTRY_LEN + data_len as usize];
            (
                data_len as usize,
                Some(String::from_utf8_lossy(label).into_owned()),
            )
        } else {
            // Only marks carry data_len today; an old inline-data entry's data was its
            // nr_sectors blocks, so anything longer cannot be right.
            let max = if discard { 0 } else { len };
            if data_len > max {
                return Err(self.corrupt(Corruption::DataLen {
                    index,
                    data_len,
                    max,
                }));
            }
            (0, None)
        };
        if header[ENTRY_LEN + label_len..].iter().any(|&b| b != 0) {
            return Err(self.corrupt(Corruption::Padding { index, offset: off }));
        }
        let next = if discard { 0 } else { len };
        let next = data_offset
            .checked_add(next)
            .ok_or_else(|| truncated(u64::MAX))?;
        if next > self.len {
            return Err(truncated(next));
        }
        let entry = Entry {
            index,
            sector,
            nr_sectors,
            flags,
            offset: Bytes(offset),
            len: Bytes(len),
            data_offset: Bytes(data_offset),
            mark,
        };
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

fn le64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_le_bytes(a)
}

/// The next entry to read: its index and the byte offset of its header.
#[derive(Debug, Clone, Copy)]
struct Cursor {
    index: u64,
    offset: u64,
}

impl Cursor {
    fn start(block_size: u64) -> Cursor {
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

/// A range of the device under log-writes, replayed onto one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    /// First sector of the range on the device under log-writes: 512-byte sectors, as
    /// in the dm tables, whatever the log's block size.
    pub start: Sectors,
    /// Its length.
    pub len: Sectors,
    /// The target file, created (or truncated) sparse and zero-filled at `len`.
    pub file: PathBuf,
}

#[derive(Debug)]
struct Target {
    start: u64,
    end: u64,
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
}

impl<'a> Replayer<'a> {
    /// Create the target files, zero-filled and sparse, ready to apply entry 0.
    pub fn new(log: &'a LogReader, regions: Vec<Region>) -> Result<Replayer<'a>, LogError> {
        let mut targets = Vec::with_capacity(regions.len());
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
            let start = r.start.0.checked_mul(512).ok_or_else(too_big)?;
            let len = r.len.0.checked_mul(512).ok_or_else(too_big)?;
            let end = start.checked_add(len).ok_or_else(too_big)?;
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(&r.file)
                .map_err(io("create replay target"))?;
            file.set_len(len).map_err(io("size replay target"))?;
            targets.push(Target {
                start,
                end,
                path: r.file,
                file,
                punch: true,
            });
        }
        targets.sort_by_key(|t| t.start);
        if let Some(w) = targets.windows(2).find(|w| w[0].end > w[1].start) {
            return Err(LogError::RegionsOverlap {
                a: w[0].path.clone(),
                b: w[1].path.clone(),
            });
        }
        Ok(Replayer {
            log,
            targets,
            cursor: Cursor::start(log.block_size),
            header: vec![0; log.block_size as usize],
            buf: Vec::new(),
        })
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
        let nr_entries = self.log.nr_entries;
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
        match self.log.nr_entries.checked_sub(1) {
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
            let t = self
                .targets
                .iter()
                .position(|t| t.end > pos)
                .filter(|&i| self.targets[i].start <= pos)
                .ok_or(LogError::Unmapped {
                    index: e.index,
                    offset: pos,
                    end,
                })?;
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
                .write_all_at(chunk, dev_off - target.start + done)
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
        let off = dev_off - target.start;
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
mod tests;
