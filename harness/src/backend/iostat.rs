//! The block layer's per-device IO counters (`/sys/dev/block/M:m/stat`, the kernel's
//! `Documentation/block/stat.rst`) of the two devices a thin pool's table names: what the
//! pool sent to its data and metadata devices. The line's field count grew with the
//! kernel (11 before 4.18, 15 with discards, 17 with flushes since 5.5): fields a kernel
//! lacks are `None`, never 0.

use std::fmt;
use std::path::{Path, PathBuf};

/// A block device number, as a table names it (`253:4`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DevNum {
    /// Major.
    pub major: u32,
    /// Minor.
    pub minor: u32,
}

impl DevNum {
    /// Parses `major:minor`.
    pub fn parse(s: &str) -> Option<DevNum> {
        let (ma, mi) = s.split_once(':')?;
        Some(DevNum {
            major: ma.parse().ok()?,
            minor: mi.parse().ok()?,
        })
    }

    /// Its counters' file: by number, so a device lvm renamed is still found.
    pub fn stat_path(self) -> PathBuf {
        PathBuf::from(format!("/sys/dev/block/{self}/stat"))
    }
}

impl fmt::Display for DevNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.major, self.minor)
    }
}

/// One device's counters since it appeared. Counts are completed requests (on a
/// request-based device such as a loop device, after the block layer merged bios into
/// them; `*_merged` counts the bios so merged); sectors are 512 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DiskStats {
    /// Reads completed.
    pub reads: u64,
    /// Reads merged into others.
    pub reads_merged: u64,
    /// Sectors read.
    pub read_sectors: u64,
    /// Writes completed.
    pub writes: u64,
    /// Writes merged into others.
    pub writes_merged: u64,
    /// Sectors written.
    pub write_sectors: u64,
    /// Discards completed (kernels from 4.18).
    pub discards: Option<u64>,
    /// Discards merged (kernels from 4.18).
    pub discards_merged: Option<u64>,
    /// Sectors discarded (kernels from 4.18).
    pub discard_sectors: Option<u64>,
    /// Flush requests completed (kernels from 5.5).
    pub flushes: Option<u64>,
}

/// Why a device's counters could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StatError {
    /// The file could not be read (the device is gone, or no sysfs).
    #[error("reading {path}: {source}")]
    Read {
        /// The stat file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// Fewer fields than any kernel writes.
    #[error("{path}: {found} fields, a block device's stat has at least 11")]
    TooFewFields {
        /// The stat file.
        path: PathBuf,
        /// Fields found.
        found: usize,
    },
    /// The pool's table names a device that is not `major:minor`.
    #[error("the pool's table names device `{text}`, not major:minor")]
    NotADevice {
        /// What it named.
        text: String,
    },
    /// A field that is not a count.
    #[error("{path}: field {field} ({name}) is `{text}`, not a count")]
    NotACount {
        /// The stat file.
        path: PathBuf,
        /// 1-based field number, as stat.rst numbers them.
        field: usize,
        /// What the field is.
        name: &'static str,
        /// What it held.
        text: String,
    },
}

/// stat.rst's field names, 1-based order; the ones thinbench reads are named here.
const FIELD_NAMES: [&str; 17] = [
    "read I/Os",
    "read merges",
    "read sectors",
    "read ticks",
    "write I/Os",
    "write merges",
    "write sectors",
    "write ticks",
    "in_flight",
    "io_ticks",
    "time_in_queue",
    "discard I/Os",
    "discard merges",
    "discard sectors",
    "discard ticks",
    "flush I/Os",
    "flush ticks",
];

impl DiskStats {
    /// Parses one stat line; `path` names it in errors. Fields past the 17th (a future
    /// kernel's) are ignored.
    pub fn parse(text: &str, path: &Path) -> Result<DiskStats, StatError> {
        let f: Vec<&str> = text.split_whitespace().collect();
        if f.len() < 11 {
            return Err(StatError::TooFewFields {
                path: path.to_owned(),
                found: f.len(),
            });
        }
        let get = |n: usize| -> Result<Option<u64>, StatError> {
            let Some(t) = f.get(n - 1) else {
                return Ok(None);
            };
            t.parse().map(Some).map_err(|_| StatError::NotACount {
                path: path.to_owned(),
                field: n,
                name: FIELD_NAMES[n - 1],
                text: (*t).to_owned(),
            })
        };
        // The first 11 are present (checked above).
        let must = |n: usize| get(n).map(|v| v.unwrap_or_default());
        // A discard or flush figure only with the whole group (a line cut inside the
        // discard group says nothing trustworthy about discards).
        let discards = if f.len() >= 15 {
            (get(12)?, get(13)?, get(14)?)
        } else {
            (None, None, None)
        };
        Ok(DiskStats {
            reads: must(1)?,
            reads_merged: must(2)?,
            read_sectors: must(3)?,
            writes: must(5)?,
            writes_merged: must(6)?,
            write_sectors: must(7)?,
            discards: discards.0,
            discards_merged: discards.1,
            discard_sectors: discards.2,
            flushes: if f.len() >= 17 { get(16)? } else { None },
        })
    }

    /// Reads device `dev`'s counters now.
    pub fn read(dev: DevNum) -> Result<DiskStats, StatError> {
        let path = dev.stat_path();
        let text = std::fs::read_to_string(&path).map_err(|source| StatError::Read {
            path: path.clone(),
            source,
        })?;
        DiskStats::parse(&text, &path)
    }

    /// `self - earlier`, field by field; `None` if any counter went down (the device was
    /// replaced by another with the same number) — a difference then means nothing.
    pub fn since(&self, earlier: &DiskStats) -> Option<DiskStats> {
        let d = |a: u64, b: u64| a.checked_sub(b);
        let o = |a: Option<u64>, b: Option<u64>| -> Option<Option<u64>> {
            match (a, b) {
                (Some(a), Some(b)) => a.checked_sub(b).map(Some),
                _ => Some(None),
            }
        };
        Some(DiskStats {
            reads: d(self.reads, earlier.reads)?,
            reads_merged: d(self.reads_merged, earlier.reads_merged)?,
            read_sectors: d(self.read_sectors, earlier.read_sectors)?,
            writes: d(self.writes, earlier.writes)?,
            writes_merged: d(self.writes_merged, earlier.writes_merged)?,
            write_sectors: d(self.write_sectors, earlier.write_sectors)?,
            discards: o(self.discards, earlier.discards)?,
            discards_merged: o(self.discards_merged, earlier.discards_merged)?,
            discard_sectors: o(self.discard_sectors, earlier.discard_sectors)?,
            flushes: o(self.flushes, earlier.flushes)?,
        })
    }
}

/// One of the pool's two devices, and its counters at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceIo {
    /// The device the pool's table names.
    pub dev: DevNum,
    /// A request-based (blk-mq) device, such as a loop device: only those count flushes
    /// (`REQ_OP_FLUSH` requests); a bio-based one (dm) counts an empty flush bio as a
    /// write of 0 sectors and never fills the flush field.
    pub request_based: bool,
    /// Its counters.
    pub stats: DiskStats,
}

/// The counters of a pool's data and metadata devices at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolIo {
    /// The data device.
    pub data: DeviceIo,
    /// The metadata device.
    pub metadata: DeviceIo,
}

impl PoolIo {
    /// Both devices' counters, the devices named as a `thin-pool` table's params name
    /// them (`major:minor`).
    pub fn read(data_dev: &str, metadata_dev: &str) -> Result<PoolIo, StatError> {
        let one = |s: &str| -> Result<DeviceIo, StatError> {
            let dev =
                DevNum::parse(s).ok_or_else(|| StatError::NotADevice { text: s.to_owned() })?;
            let stats = DiskStats::read(dev)?;
            let request_based = dev.stat_path().with_file_name("mq").is_dir();
            Ok(DeviceIo {
                dev,
                request_based,
                stats,
            })
        };
        Ok(PoolIo {
            data: one(data_dev)?,
            metadata: one(metadata_dev)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<DiskStats, StatError> {
        DiskStats::parse(s, Path::new("/sys/dev/block/7:0/stat"))
    }

    // Lines as the kernels print them (`%8lu` padded), one per field count.
    const K4_14: &str = "    1021      14    41234     300     5120      96    81920     900        0     1200     1500\n";
    const K5_4: &str = "    1021      14    41234     300     5120      96    81920     900        0     1200     1500       33        2     6144       10\n";
    const K6_1: &str = "    1021      14    41234     300     5120      96    81920     900        0     1200     1500       33        2     6144       10       41       12\n";

    #[test]
    fn eleven_fields_have_no_discards_or_flushes() {
        let s = parse(K4_14).unwrap();
        assert_eq!((s.reads, s.reads_merged, s.read_sectors), (1021, 14, 41234));
        assert_eq!(
            (s.writes, s.writes_merged, s.write_sectors),
            (5120, 96, 81920)
        );
        assert_eq!(
            (s.discards, s.discard_sectors, s.flushes),
            (None, None, None)
        );
    }

    #[test]
    fn fifteen_fields_add_discards_not_flushes() {
        let s = parse(K5_4).unwrap();
        assert_eq!(
            (s.discards, s.discards_merged, s.discard_sectors),
            (Some(33), Some(2), Some(6144))
        );
        assert_eq!(s.flushes, None);
        assert_eq!(s.writes, 5120);
    }

    #[test]
    fn seventeen_fields_add_flushes_and_more_are_ignored() {
        let s = parse(K6_1).unwrap();
        assert_eq!((s.discards, s.flushes), (Some(33), Some(41)));
        let longer = format!("{} 7 8", K6_1.trim_end());
        assert_eq!(parse(&longer).unwrap(), s);
    }

    #[test]
    fn a_group_cut_short_is_not_reported() {
        // 13 fields: the discard group is incomplete, so no discard figure at all.
        let cut: Vec<&str> = K6_1.split_whitespace().take(13).collect();
        let s = parse(&cut.join(" ")).unwrap();
        assert_eq!((s.discards, s.discard_sectors), (None, None));
        let cut: Vec<&str> = K6_1.split_whitespace().take(16).collect();
        assert_eq!(parse(&cut.join(" ")).unwrap().flushes, None);
    }

    #[test]
    fn bad_lines_are_typed_errors_naming_the_field() {
        match parse("1 2 3") {
            Err(StatError::TooFewFields { found: 3, .. }) => {}
            other => panic!("{other:?}"),
        }
        let bad = K6_1.replacen("5120", "5x20", 1);
        let e = parse(&bad).unwrap_err();
        assert!(matches!(e, StatError::NotACount { field: 5, .. }), "{e:?}");
        assert_eq!(
            e.to_string(),
            "/sys/dev/block/7:0/stat: field 5 (write I/Os) is `5x20`, not a count"
        );
        // A negative or a fraction is not a count either, in an optional group too.
        let bad = K6_1.replacen("6144", "-1", 1);
        assert!(matches!(
            parse(&bad),
            Err(StatError::NotACount { field: 14, .. })
        ));
        assert!(parse("").is_err());
    }

    #[test]
    fn differences_and_a_replaced_device() {
        let a = parse(K6_1).unwrap();
        let mut b = a;
        b.writes += 3;
        b.write_sectors += 24;
        b.flushes = Some(43);
        let d = b.since(&a).unwrap();
        assert_eq!((d.writes, d.write_sectors, d.flushes), (3, 24, Some(2)));
        assert_eq!((d.reads, d.discards), (0, Some(0)));
        // Counters that went down: another device with the same number.
        assert_eq!(a.since(&b), None);
        // A kernel without flushes on one side: no flush figure, the rest stands.
        let old = parse(K5_4).unwrap();
        assert_eq!(a.since(&old).unwrap().flushes, None);
    }

    #[test]
    fn device_numbers() {
        let d = DevNum::parse("253:14").unwrap();
        assert_eq!((d.major, d.minor), (253, 14));
        assert_eq!(d.stat_path(), Path::new("/sys/dev/block/253:14/stat"));
        for bad in ["253", "/dev/loop0", "a:b", "253:-1", ""] {
            assert_eq!(DevNum::parse(bad), None, "{bad}");
        }
    }
}
