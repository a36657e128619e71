//! What a step does to a pool as the walk tracks it: the effects the checkers return,
//! one per step, applied in order by the walk.

use crate::errors::Kind;
use crate::scenario::raw::Span;
use crate::scenario::Diagnostic;
use serde_spanned::Spanned;
use thinbench_schema::record::PoolKind;
use thinbench_schema::units::Bytes;

/// A step's effect on a pool's set of thins.
pub(in crate::scenario::validate) enum Effect {
    Create {
        thin: Option<Spanned<String>>,
        size: Option<Bytes>,
        id: Option<Spanned<u32>>,
    },
    Snapshot {
        thin: Option<Spanned<String>>,
        origin: Option<Spanned<String>>,
        id: Option<Spanned<u32>>,
    },
    Delete {
        thin: Option<Spanned<String>>,
    },
    Write {
        thin: Option<Spanned<String>>,
        region: Option<Region>,
    },
    /// Thins the step makes that later steps cannot name (metadata-fill's snapshots: how
    /// many it takes depends on the pool), with the most it can make.
    Unnamed {
        thins: Vec<Spanned<String>>,
    },
    /// Settings that must fit the pool's chunk.
    ChunkFit(ChunkRule),
    /// Discards of an existing thin, which must fit in it unless the step expects the
    /// kernel's EINVAL; `at` is where a range past the end is reported.
    Discard {
        thin: Option<Spanned<String>>,
        at: Span,
        spec: Option<crate::spec::DiscardSpec>,
    },
    /// Thins an expectation names (`mapped`): they must exist after the step.
    Exists(Vec<Spanned<String>>),
    /// Several effects in order (a fill that deletes a thin to recover).
    Many(Vec<Effect>),
    /// A background step's thin: written until the step's `wait`, touched by no other
    /// step meanwhile.
    Background {
        thin: Spanned<String>,
    },
    /// The end of a background step.
    Wait {
        step: Spanned<String>,
    },
    /// A thin read (it must exist, and no background step write it meanwhile).
    Read {
        thin: Spanned<String>,
    },
    /// A new device of the case (`create-device`), of `size` when valid, over the
    /// thins `over`, the device `over_device` or the pool's device (`over_pool`); over
    /// none of them, scratch files.
    CreateDevice {
        device: Spanned<String>,
        size: Option<Bytes>,
        over: Vec<Spanned<String>>,
        over_device: Option<Spanned<String>>,
        over_pool: bool,
    },
    /// IO to a device of the case (`io` with `device`); `writes`: it replaces the
    /// device's stamped content.
    DeviceIo {
        device: Spanned<String>,
        region: Option<Region>,
        writes: bool,
    },
    /// A step naming a device of the case; as an external origin, loop-lvm only.
    UseDevice {
        device: Spanned<String>,
        external_origin: bool,
    },
    /// A pool message (walked in `walk/control.rs`).
    Message(MessageEffect),
    /// The pool taken down and brought back (`walk/control.rs`): no case device may hold
    /// it (a device made over its thins or its device), nor, for a reboot, a held
    /// metadata snapshot (the reboot's checks reserve their own).
    PoolDown {
        at: Span,
        what: &'static str,
        reboot: bool,
    },
    /// Generated metadata restored (`walk/control.rs`): the pool must have no thins, and
    /// these are its thins after, each of `size`.
    Generated {
        thins: Vec<Spanned<String>>,
        size: Option<Bytes>,
        at: Span,
    },
    /// `suspend` (`on`) or `resume` of the pool (`thin: None`) or a thin;
    /// `pool_resumes`: the pool is resumed from another thread meanwhile.
    Suspend {
        thin: Option<Spanned<String>>,
        on: bool,
        at: Span,
        pool_resumes: bool,
    },
    /// `activate`: a device for a thin without one, of `size` (`None`: its last size).
    Activate {
        thin: Option<Spanned<String>>,
        size: Option<Bytes>,
        at: Span,
    },
    /// `deactivate`: the thin keeps its blocks, loses its device.
    Deactivate {
        thin: Option<Spanned<String>>,
    },
    /// On pools of `kind` the backend cannot do the step and fails it with `fails_as`:
    /// `why` is reported unless the step expects that failure.
    NotOn {
        kind: PoolKind,
        why: Diagnostic,
        fails_as: Kind,
    },
    /// A filesystem step on a thin (walked in `walk/fs.rs`).
    Fs {
        thin: Spanned<String>,
        op: FsEffect,
    },
    /// A filesystem step on a device of the case (walked in `walk/fs_device.rs`).
    FsDevice {
        device: Spanned<String>,
        op: FsEffect,
    },
    /// A background `file` write of `path` on a mounted thin: background writes of other
    /// files of the same filesystem may run beside it (`walk/background.rs`).
    BackgroundFile {
        thin: Spanned<String>,
        path: Option<String>,
    },
    /// `await_mode` given at `at`: a background step must be in flight to change the
    /// pool's mode.
    AwaitMode {
        at: Span,
    },
    /// Unknown or invalid action: nothing to track.
    Nothing,
}

/// What a filesystem step needs and leaves (`walk/fs.rs`).
pub(in crate::scenario::validate) enum FsEffect {
    /// `mkfs`: the thin must exist, have a device and not be mounted; it then has `fs`.
    Mkfs { fs: crate::spec::FsKind },
    /// The thin must exist (an invalid `fs`: nothing more is known).
    Exists,
    /// `mount`: a filesystem, not mounted; `nouuid` given at `nouuid_at` (xfs only).
    Mount { nouuid_at: Option<Span> },
    /// `umount`: mounted.
    Umount,
    /// `file`, `verify-files`: mounted.
    Mounted,
    /// `fsck`: a filesystem, not mounted.
    Unmounted,
}

/// A `message` step as the walk sees it.
pub(in crate::scenario::validate) struct MessageEffect {
    pub(in crate::scenario::validate) message: crate::spec::PoolMessage,
    /// Where the message's text is.
    pub(in crate::scenario::validate) at: Span,
    /// The name its new thin gets: `thin` as written, else `#<id>` (no step can name it).
    pub(in crate::scenario::validate) name: Option<Spanned<String>>,
}

/// Step settings that depend on the pool's chunk size, positioned where the step gives
/// them (its table when it does not).
pub(in crate::scenario::validate) enum ChunkRule {
    /// cow-overwrite: the origin's region in whole chunks from a chunk boundary, half of
    /// it written sub-chunk and half in whole chunks; one sub-chunk IO per chunk.
    Cow {
        offset: Spanned<Bytes>,
        region: Spanned<Bytes>,
        io_size: Spanned<Bytes>,
    },
    /// metadata-fill: one IO maps one chunk.
    DividesChunk { io_size: Spanned<Bytes> },
}

/// Where a write workload writes, to check against the thin's size.
pub(in crate::scenario::validate) struct Region {
    pub(in crate::scenario::validate) io_size: Bytes,
    pub(in crate::scenario::validate) offset: Spanned<Bytes>,
    pub(in crate::scenario::validate) span: Option<Spanned<Bytes>>,
}
