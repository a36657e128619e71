//! The on-disk format of a dm-log-writes log, and the checks that decode its blocks.
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
//! Decoding here is on bytes already read: the reader does the IO and bounds every read
//! by the log's length first, so these checks see whole blocks and only the log's length.

use thinbench_schema::units::Bytes;

/// `WRITE_LOG_MAGIC` in dm-log-writes.c.
pub const LOG_MAGIC: u64 = 0x6a736677736872; // on disk: b"rhswfsj\0"
/// `WRITE_LOG_VERSION` in dm-log-writes.c.
pub const LOG_VERSION: u64 = 1;
/// The label of the mark the kernel logs when the log-writes device is removed.
pub const END_MARK: &str = "dm-log-writes-end";

/// `struct log_write_super`: three le64 and one le32.
pub(super) const SUPER_LEN: u64 = 28;
/// `struct log_write_entry`: four le64.
pub(super) const ENTRY_LEN: usize = 32;
/// Log block sizes accepted: the kernel's logical block sizes, up to a 64 KiB page.
const MIN_BLOCK: u64 = 512;
const MAX_BLOCK: u64 = 64 * 1024;

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

/// One log entry, without its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Position in the log, from 0.
    pub index: u64,
    /// First block written, in log blocks (the superblock's `sectorsize`).
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

/// What the superblock says, checked against the log's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Super {
    /// The log block size in bytes.
    pub(super) block_size: u64,
    /// Trusted entries.
    pub(super) nr_entries: u64,
}

/// Decode the superblock's first [`SUPER_LEN`] bytes of a log `len` bytes long.
pub(super) fn decode_super(sb: &[u8; SUPER_LEN as usize], len: u64) -> Result<Super, Corruption> {
    let magic = le64(&sb[0..]);
    if magic != LOG_MAGIC {
        return Err(Corruption::BadMagic { found: magic });
    }
    let version = le64(&sb[8..]);
    if version != LOG_VERSION {
        return Err(Corruption::BadVersion { found: version });
    }
    let nr_entries = le64(&sb[16..]);
    let bs = u32::from_le_bytes([sb[24], sb[25], sb[26], sb[27]]);
    let block_size = u64::from(bs);
    if !block_size.is_power_of_two() || !(MIN_BLOCK..=MAX_BLOCK).contains(&block_size) {
        return Err(Corruption::BadBlockSize { found: bs });
    }
    if len < block_size {
        return Err(Corruption::TooShort { len });
    }
    // Checked before the scan so a huge count fails at once, not after reading.
    let max = (len - block_size) / block_size;
    if nr_entries > max {
        return Err(Corruption::TooManyEntries { nr_entries, max });
    }
    Ok(Super {
        block_size,
        nr_entries,
    })
}

/// Where entry `index`'s data starts, its header being at byte `offset` of a log `len`
/// bytes long in `block_size` blocks: checked to lie inside the log before the header
/// is read.
pub(super) fn data_offset(
    index: u64,
    offset: u64,
    block_size: u64,
    len: u64,
) -> Result<u64, Corruption> {
    let truncated = |needed| Corruption::Truncated {
        index,
        offset,
        needed,
        len,
    };
    let data_offset = offset
        .checked_add(block_size)
        .ok_or_else(|| truncated(u64::MAX))?;
    if data_offset > len {
        return Err(truncated(data_offset));
    }
    Ok(data_offset)
}

/// Decode entry `index`'s header block (`header`, one log block) read at byte `off` of a
/// log `log_len` bytes long; returns the entry and the byte offset of the next header.
/// Every length is checked against the log's size before it is used.
pub(super) fn decode_entry(
    header: &[u8],
    index: u64,
    off: u64,
    log_len: u64,
) -> Result<(Entry, u64), Corruption> {
    let bs = header.len() as u64;
    let truncated = |needed| Corruption::Truncated {
        index,
        offset: off,
        needed,
        len: log_len,
    };
    let data_offset = data_offset(index, off, bs, log_len)?;
    let sector = le64(&header[0..]);
    let nr_sectors = le64(&header[8..]);
    let flags = le64(&header[16..]);
    let data_len = le64(&header[24..]);
    if flags & !Flags::KNOWN != 0 {
        return Err(Corruption::UnknownFlags { index, flags });
    }
    if flags == 0 && nr_sectors == 0 {
        return Err(Corruption::EmptyEntry { index, offset: off });
    }
    let flags = Flags(flags);
    let overflow = || Corruption::Overflow {
        index,
        sector,
        nr_sectors,
    };
    let len = nr_sectors.checked_mul(bs).ok_or_else(overflow)?;
    let offset = sector.checked_mul(bs).ok_or_else(overflow)?;
    offset.checked_add(len).ok_or_else(overflow)?;
    let discard = flags.contains(Flags::DISCARD);
    let (label_len, mark) = if flags.contains(Flags::MARK) {
        if flags != Flags::MARK || nr_sectors != 0 {
            return Err(Corruption::BadMark {
                index,
                flags: flags.0,
                nr_sectors,
            });
        }
        let max = bs - ENTRY_LEN as u64;
        if data_len > max {
            return Err(Corruption::DataLen {
                index,
                data_len,
                max,
            });
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
            return Err(Corruption::DataLen {
                index,
                data_len,
                max,
            });
        }
        (0, None)
    };
    if header[ENTRY_LEN + label_len..].iter().any(|&b| b != 0) {
        return Err(Corruption::Padding { index, offset: off });
    }
    let next = if discard { 0 } else { len };
    let next = data_offset
        .checked_add(next)
        .ok_or_else(|| truncated(u64::MAX))?;
    if next > log_len {
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
    Ok((entry, next))
}

fn le64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_le_bytes(a)
}

#[cfg(test)]
#[path = "format_tests.rs"]
mod tests;
