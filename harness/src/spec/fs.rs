//! The filesystem steps' validated settings: `mkfs`, `mount`, `umount`, `file`,
//! `verify-files` and `fsck` on any thin (snapshots included) or a device of the case.

use thinbench_schema::ids::Ident;
use thinbench_schema::units::Bytes;

/// What a filesystem step's filesystem is on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FsTarget {
    /// A thin (`thin`).
    Thin(Ident),
    /// A device of the case (`device`, made by `create-device`).
    Device(Ident),
}

impl FsTarget {
    /// The thin's or device's name.
    pub fn name(&self) -> &Ident {
        match self {
            FsTarget::Thin(n) | FsTarget::Device(n) => n,
        }
    }

    /// The thin, if it is one.
    pub fn thin(&self) -> Option<&Ident> {
        match self {
            FsTarget::Thin(n) => Some(n),
            FsTarget::Device(_) => None,
        }
    }
}

impl std::fmt::Display for FsTarget {
    /// `thin x` or `device x`, as messages name it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FsTarget::Thin(n) => write!(f, "thin {n}"),
            FsTarget::Device(n) => write!(f, "device {n}"),
        }
    }
}

/// Whose mkfs options: the tools' own defaults, or Docker's devicemapper driver's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MkfsProfile {
    /// `mkfs.ext4 -q -F` / `mkfs.xfs -q -f`: lazy inode-table init and a discard of
    /// the whole device at mkfs, as the tools do by default.
    Defaults,
    /// Docker's: `mkfs.ext4 -E nodiscard,lazy_itable_init=0,lazy_journal_init=0`,
    /// `mkfs.xfs -K` (no discard at mkfs).
    Docker,
}

impl MkfsProfile {
    /// As written in scenarios.
    pub fn as_str(self) -> &'static str {
        match self {
            MkfsProfile::Defaults => "defaults",
            MkfsProfile::Docker => "docker",
        }
    }
}

/// `mkfs`: a filesystem on a thin (which must not be mounted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MkfsSpec {
    /// The thin or device.
    pub on: FsTarget,
    /// The filesystem.
    pub fs: FsKind,
    /// Whose options.
    pub profile: MkfsProfile,
}

/// `mount`: the thin's filesystem mounted at thinbench's own mount point, under the
/// case's scratch directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountSpec {
    /// The thin or device.
    pub on: FsTarget,
    /// `-o discard`: online discard of freed blocks.
    pub discard: bool,
    /// `-o nouuid` (xfs only): a snapshot shares its origin's uuid. `None`: as Docker
    /// does, on for xfs.
    pub nouuid: Option<bool>,
}

/// What a `file` step does to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileOp {
    /// Create or truncate, and write one stamped record of `size` bytes.
    Write {
        /// Bytes written.
        size: Bytes,
    },
    /// Append one stamped record of `size` bytes.
    Append {
        /// Bytes appended.
        size: Bytes,
    },
    /// Overwrite the file's first record in place with a new stamped record of the
    /// same length (the size stays).
    Modify,
    /// Rename to `to` (inside the filesystem).
    Rename {
        /// The new path.
        to: String,
    },
    /// Unlink.
    Delete,
}

impl FileOp {
    /// As written in scenarios (`op`).
    pub fn name(&self) -> &'static str {
        match self {
            FileOp::Write { .. } => "write",
            FileOp::Append { .. } => "append",
            FileOp::Modify => "modify",
            FileOp::Rename { .. } => "rename",
            FileOp::Delete => "delete",
        }
    }
}

/// `file`: one operation on one file of a mounted thin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSpec {
    /// The (mounted) thin or device.
    pub on: FsTarget,
    /// The file, relative to the filesystem's root: no absolute path, no `..`, no
    /// empty or `.` component (checked at validation; symlinks at run time).
    pub path: String,
    /// What is done.
    pub op: FileOp,
    /// `fsync` the file (and its directory) after the operation. Default true.
    pub fsync: bool,
    /// A `write` of many records (`io_size`), in order or at random offsets; `None`:
    /// one record of the whole size.
    pub layout: Option<FileLayout>,
    /// Runs while the following steps run, until a `wait` names it (`write` only).
    pub background: bool,
}

/// A `write` made of `record`-byte stamped records (dt's sequential and random IO, at
/// file level): `size / record` of them, each written once, in `order`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileLayout {
    /// Bytes of each record (each one write).
    pub record: Bytes,
    /// The order the records are written in.
    pub order: FileOrder,
}

/// The order of a layout's record writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileOrder {
    /// From the file's start to its end.
    Sequential,
    /// A permutation of the record slots, reproducible from the seed: every slot
    /// written once, at a random offset of the file.
    Random {
        /// PRNG seed.
        seed: u64,
    },
}

/// `verify-files`: every file of a mounted thin read back and checked against the
/// case's file model, plus the scenario's own claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyFilesSpec {
    /// The (mounted) thin or device.
    pub on: FsTarget,
    /// Claimed contents: path → the stamps of its records in order (`step@thin`).
    pub contents: Vec<(String, Vec<String>)>,
    /// Claimed absent paths.
    pub absent: Vec<String>,
}

/// The filesystem a `delete` step makes on its thin, as Docker made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsKind {
    /// `mkfs.xfs -K` (no discard at mkfs). Needs a thin of at least 300MB.
    Xfs,
    /// `mkfs.ext4 -E nodiscard,lazy_itable_init=0,lazy_journal_init=0`.
    Ext4,
}

impl FsKind {
    /// As written in scenarios (and to `mount -t`).
    pub fn as_str(self) -> &'static str {
        match self {
            FsKind::Xfs => "xfs",
            FsKind::Ext4 => "ext4",
        }
    }
}
