//! Size units as newtypes, so bytes, sectors and blocks never mix silently.
//!
//! Sizes in scenario files and reports are human strings (`"512MiB"`, read by
//! [`crate::grammar`]); on disk in results they are plain integers of the named unit.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// Bytes in a 512-byte sector, the unit of every dm table.
pub const SECTOR_SIZE: u64 = 512;
/// Bytes in a dm-thin metadata block.
pub const META_BLOCK_SIZE: u64 = 4096;

macro_rules! unit {
    ($(#[$doc:meta])* $name:ident, $suffix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl Add for $name {
            type Output = $name;
            fn add(self, o: $name) -> $name { $name(self.0 + o.0) }
        }
        impl AddAssign for $name {
            fn add_assign(&mut self, o: $name) { self.0 += o.0 }
        }
        impl Sub for $name {
            type Output = $name;
            fn sub(self, o: $name) -> $name { $name(self.0 - o.0) }
        }
        impl $name {
            /// Subtraction that stops at zero.
            pub fn saturating_sub(self, o: $name) -> $name { $name(self.0.saturating_sub(o.0)) }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}{}", self.0, $suffix)
            }
        }
    };
}

unit!(
    /// A count of bytes.
    Bytes, " B");
unit!(
    /// A count of 512-byte sectors.
    Sectors, " sectors");
unit!(
    /// A count of pool data blocks (chunks); their size is the pool's chunk size.
    DataBlocks, " data blocks");
unit!(
    /// A count of 4 KiB metadata blocks.
    MetaBlocks, " metadata blocks");

impl Bytes {
    /// One KiB.
    pub const KIB: u64 = 1 << 10;
    /// One MiB.
    pub const MIB: u64 = 1 << 20;
    /// One GiB.
    pub const GIB: u64 = 1 << 30;

    /// Whole sectors in this many bytes (rounded down).
    pub fn sectors(self) -> Sectors {
        Sectors(self.0 / SECTOR_SIZE)
    }
    /// Whether this is a whole number of sectors.
    pub fn is_sector_aligned(self) -> bool {
        self.0.is_multiple_of(SECTOR_SIZE)
    }
    /// The shortest exact human form (`"64KiB"`, `"1536MiB"`, `"1000B"`).
    pub fn human(self) -> String {
        const UNITS: [(&str, u32); 6] = [
            ("EiB", 60),
            ("PiB", 50),
            ("TiB", 40),
            ("GiB", 30),
            ("MiB", 20),
            ("KiB", 10),
        ];
        for (name, shift) in UNITS {
            let m = 1u64 << shift;
            if self.0 >= m && self.0.is_multiple_of(m) {
                return format!("{}{}", self.0 / m, name);
            }
        }
        format!("{}B", self.0)
    }
    /// Approximate human form with one decimal (`"1.5 GiB"`), for reports.
    pub fn approx(self) -> String {
        const UNITS: [(&str, u32); 5] = [
            ("PiB", 50),
            ("TiB", 40),
            ("GiB", 30),
            ("MiB", 20),
            ("KiB", 10),
        ];
        for (name, shift) in UNITS {
            let m = (1u64 << shift) as f64;
            if self.0 as f64 >= m {
                return format!("{:.1} {}", self.0 as f64 / m, name);
            }
        }
        format!("{} B", self.0)
    }
}

impl Sectors {
    /// The same length in bytes.
    pub fn bytes(self) -> Bytes {
        Bytes(self.0 * SECTOR_SIZE)
    }
}

impl MetaBlocks {
    /// The same length in bytes.
    pub fn bytes(self) -> Bytes {
        Bytes(self.0 * META_BLOCK_SIZE)
    }
}

/// A pool's data block (chunk) size; always a multiple of 64 KiB (128 sectors) and within
/// dm-thin's bounds, which the constructor enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "u64", into = "u64")]
pub struct ChunkSize(Sectors);

impl ChunkSize {
    /// Smallest chunk dm-thin accepts: 64 KiB.
    pub const MIN: Sectors = Sectors(128);
    /// Largest chunk dm-thin accepts: 1 GiB.
    pub const MAX: Sectors = Sectors(2_097_152);

    /// A chunk size, if dm-thin would accept it.
    pub fn new(bytes: Bytes) -> Result<ChunkSize, String> {
        if !bytes.0.is_multiple_of(64 * 1024) || bytes.0 == 0 {
            return Err(format!(
                "chunk size {} is not a multiple of 64KiB (dm-thin needs a multiple of 128 sectors)",
                bytes.human()
            ));
        }
        let s = bytes.sectors();
        if s > Self::MAX {
            return Err(format!(
                "chunk size {} exceeds dm-thin's maximum of 1GiB",
                bytes.human()
            ));
        }
        Ok(ChunkSize(s))
    }
    /// Size in sectors (what a pool table takes).
    pub fn sectors(self) -> Sectors {
        self.0
    }
    /// Size in bytes.
    pub fn bytes(self) -> Bytes {
        self.0.bytes()
    }
    /// Data blocks needed to hold `b` bytes (rounded up).
    pub fn blocks_for(self, b: Bytes) -> DataBlocks {
        DataBlocks(b.0.div_ceil(self.bytes().0))
    }
    /// Whole data blocks in `b` bytes (rounded down).
    pub fn whole_blocks_in(self, b: Bytes) -> DataBlocks {
        DataBlocks(b.0 / self.bytes().0)
    }
    /// Bytes occupied by `n` data blocks.
    pub fn bytes_of(self, n: DataBlocks) -> Bytes {
        Bytes(n.0 * self.bytes().0)
    }
}

impl TryFrom<u64> for ChunkSize {
    type Error = String;
    fn try_from(bytes: u64) -> Result<Self, String> {
        ChunkSize::new(Bytes(bytes))
    }
}
impl From<ChunkSize> for u64 {
    fn from(c: ChunkSize) -> u64 {
        c.bytes().0
    }
}
impl fmt::Display for ChunkSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.bytes().human())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_round_trips() {
        for s in ["64KiB", "512KiB", "1536MiB", "100GiB", "1000B"] {
            assert_eq!(crate::grammar::parse_size(s).unwrap().human(), s);
        }
    }

    #[test]
    fn chunk_size_bounds() {
        assert!(ChunkSize::new(Bytes(64 << 10)).is_ok());
        assert!(ChunkSize::new(Bytes(96 << 10))
            .unwrap_err()
            .contains("multiple of 64KiB"));
        assert!(ChunkSize::new(Bytes(2 << 30)).is_err());
        let c = ChunkSize::new(Bytes(512 << 10)).unwrap();
        assert_eq!(c.sectors(), Sectors(1024));
        assert_eq!(c.blocks_for(Bytes(1)), DataBlocks(1));
        assert_eq!(c.whole_blocks_in(Bytes(1 << 20)), DataBlocks(2));
    }
}
