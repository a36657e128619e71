//! The validated plan: what a scenario file means once every value is checked and every
//! default applied. Nothing here can hold an invalid value; the runner never re-validates.

use std::path::PathBuf;
use std::time::Duration;
use thinbench_schema::ids::{Ident, ThinId};
use thinbench_schema::record::{PoolKind, PoolMode, TimingClock};
use thinbench_schema::units::{Bytes, ChunkSize};

use super::fault::FaultSpec;
pub use super::fs::FsKind;
pub use super::table::{LowWaterMark, NoSpacePolicy};
use super::table::{ReloadSpec, ResizeSpec};

/// A whole scenario, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioSpec {
    /// Scenario name (defaults to the file stem).
    pub name: Ident,
    /// Free text.
    pub description: Option<String>,
    /// File it came from.
    pub source: PathBuf,
    /// Wall-clock limit for the whole run; past it the run is ended as incomplete.
    pub timeout: Duration,
    /// How often each case's sampler reads its pool's status.
    pub sample_interval: Duration,
    /// What will run, but not as the file seems to say (`validate` and `run` print them).
    pub warnings: Vec<thinbench_schema::positioned::Positioned>,
    /// Pools; every case runs the step list against one of them.
    pub pools: Vec<PoolSpec>,
    /// Steps in order.
    pub steps: Vec<StepSpec>,
    /// `clock`: the clock the scenario asks its VM to run on (`None`: not said, the
    /// wall clock unless the command line says otherwise; the command line wins).
    pub clock: Option<TimingClock>,
    /// `kernels`: the Debian kernels the scenario asks to run on, one boot each (empty:
    /// not said; the command line's `--kernel` wins).
    pub kernels: Vec<super::kernel::KernelRequest>,
}

/// The VM's memory, MiB: what RAM-backed pools are sized against at validation.
pub const GUEST_MEMORY_MIB: u32 = 2048;

/// How often a case's sampler reads its pool's status unless the scenario says
/// (`sample_interval`).
pub const DEFAULT_SAMPLE_INTERVAL: Duration = Duration::from_millis(250);

/// One pool to build.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolSpec {
    /// Name used by steps and reports.
    pub name: Ident,
    /// Kind and kind-specific settings.
    pub kind: PoolKindSpec,
    /// Data block size.
    pub chunk: ChunkSize,
    /// Low water mark in data blocks (Docker: 32768, capped to the pool's blocks).
    pub low_water_mark: LowWaterMark,
    /// Zero new blocks on partial writes. Docker: off (`skip_block_zeroing`).
    pub block_zeroing: bool,
    /// Pass discards down to the data device. Kernel default: on.
    pub discard_passdown: bool,
    /// `ignore_discard`: the pool takes no discards at all (its thins refuse them with
    /// EOPNOTSUPP). Default off.
    pub ignore_discard: bool,
    /// What the pool does when data space runs out.
    pub no_space: NoSpacePolicy,
    /// `dm_thin_pool` module's `no_space_timeout` to set for the run (`None`: leave it).
    /// It is global to the kernel, so the runner restores the old value afterwards.
    pub no_space_timeout: Option<Duration>,
    /// Docker's `dm.min_free_space`: a snapshot is refused when free data or metadata
    /// space is below this percentage (checked at snapshot creation only). Default 10;
    /// 0 turns it off.
    pub min_free_space: u8,
    /// Fault layers stacked under the pool's devices (`[[fault]]` tables naming it), in
    /// file order: the first is nearest the backing device.
    pub faults: Vec<FaultSpec>,
    /// Where the pool's data and metadata live (`backing`).
    pub backing: Backing,
    /// `expect_error`: the construction must fail so (loop-lvm).
    pub refusal: Option<super::control::PoolRefusal>,
}

/// `backing`: a disk (the default), or guest memory so that a measured window does no
/// IO to any disk (loop-lvm: its files on a tmpfs; direct-lvm: a brd ram disk as PV).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backing {
    /// loop-lvm's files on the work dir's filesystem; direct-lvm's PV a disk.
    #[default]
    Disk,
    /// In memory.
    Ram,
}

impl Backing {
    /// `disk` or `ram`, as in the scenario file.
    pub fn as_str(self) -> &'static str {
        match self {
            Backing::Disk => "disk",
            Backing::Ram => "ram",
        }
    }
}

impl PoolSpec {
    /// Bytes of memory a RAM-backed pool may take when full (loop-lvm: both files;
    /// direct-lvm: the ram disk); `None` for a disk-backed pool.
    pub fn ram_bytes(&self) -> Option<Bytes> {
        if self.backing != Backing::Ram {
            return None;
        }
        Some(match &self.kind {
            PoolKindSpec::LoopLvm(l) => Bytes(l.data_size.0 + l.metadata_size.0),
            PoolKindSpec::DirectLvm(d) => match d.device {
                DeviceSpec::Ram { size }
                | DeviceSpec::Auto { size }
                | DeviceSpec::LoopBacked { size } => size,
                DeviceSpec::Path(_) => Bytes(0),
            },
        })
    }
}

impl ScenarioSpec {
    /// Whether every pool is RAM-backed: then the run needs no disk at all (in the VM its
    /// work dir is on a tmpfs too, and the work disk is left untouched).
    pub fn all_ram_backed(&self) -> bool {
        !self.pools.is_empty() && self.pools.iter().all(|p| p.backing == Backing::Ram)
    }
}

/// Pool kind with its own settings.
#[derive(Debug, Clone, PartialEq)]
pub enum PoolKindSpec {
    /// Docker's loop-lvm.
    LoopLvm(LoopLvmSpec),
    /// Docker's direct-lvm.
    DirectLvm(DirectLvmSpec),
}

impl PoolKindSpec {
    /// The schema kind.
    pub fn kind(&self) -> PoolKind {
        match self {
            PoolKindSpec::LoopLvm(_) => PoolKind::LoopLvm,
            PoolKindSpec::DirectLvm(_) => PoolKind::DirectLvm,
        }
    }
}

/// loop-lvm: sparse files on loop devices.
#[derive(Debug, Clone, PartialEq)]
pub struct LoopLvmSpec {
    /// Apparent size of the sparse data file (= the pool's data size).
    pub data_size: Bytes,
    /// Apparent size of the sparse metadata file.
    pub metadata_size: Bytes,
    /// Directory for the files, relative to the run's work dir unless absolute.
    /// `None`: the run's work dir (in the VM, a filesystem on its own virtual disk).
    pub dir: Option<PathBuf>,
    /// The pool's data device is a thin of a loop-lvm pool built below it.
    pub stacked: Option<StackSpec>,
    /// The pool's data device is a dm `striped` target over several files
    /// (`data_stripes`).
    pub data_stripes: Option<DataStripes>,
}

/// A loop-lvm pool's striped data device: `stripes` sparse files of `data_size /
/// stripes` each on loop devices, a dm `striped` target of `stripe` bytes a chunk over
/// them (`data_size` a multiple of `stripes × stripe`: validation says so).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataStripes {
    /// Files striped over, 2 to 8.
    pub stripes: u32,
    /// Bytes of one file before the next (dm-stripe's chunk).
    pub stripe: Bytes,
}

/// Pools below a loop-lvm pool (`stacked_levels`): each level a loop-lvm pool of the
/// upper pool's chunk size with one thin the size of the upper pool's data device, which
/// is the level above's data device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StackSpec {
    /// Levels below, 1 to 3.
    pub levels: u8,
    /// The lower pools' `discard_passdown`.
    pub discard_passdown: bool,
    /// The lower pools' `ignore_discard`.
    pub ignore_discard: bool,
}

/// direct-lvm: Docker's lvm2 recipe on a block device.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectLvmSpec {
    /// Which device becomes the PV.
    pub device: DeviceSpec,
    /// `lvcreate -l N%VG` for the data LV. Docker: 95.
    pub thinpool_percent: u8,
    /// `lvcreate -l N%VG` for the metadata LV. Docker: 1.
    pub metadata_percent: u8,
    /// `lvcreate -L SIZE` for the metadata LV instead of the percentage (lvm rounds it
    /// up to whole extents); `None`: Docker's percentage.
    pub metadata_size: Option<Bytes>,
    /// `vgcreate -s`: the VG's extent size, lvm's allocation unit. Docker: lvm's 4MiB.
    pub extent_size: Bytes,
    /// `thin_pool_autoextend_threshold`. Docker: 80.
    pub autoextend_threshold: u8,
    /// `thin_pool_autoextend_percent`. Docker: 20.
    pub autoextend_percent: u8,
    /// A second PV of this size added to the VG once the pool is made (Docker's way to
    /// give a direct-lvm pool room to grow: attach a device, `vgextend`); loop-backed, in
    /// the run's work directory. `None`: the pool's device only.
    pub vgextend_size: Option<Bytes>,
}

/// The PV's device for direct-lvm.
#[derive(Debug, Clone, PartialEq)]
pub enum DeviceSpec {
    /// In a VM: a scratch virtual disk of this size made for the run. On a host this is
    /// refused (there is no disk to make) unless `LoopBacked` is asked for.
    Auto {
        /// Size of the scratch disk.
        size: Bytes,
    },
    /// A sparse file on a loop device standing in for a disk, asked for explicitly;
    /// reports label the pool "direct-lvm (loop-backed PV)".
    LoopBacked {
        /// Size of the sparse file.
        size: Bytes,
    },
    /// A real block device, used as is (device safety checks apply).
    Path(PathBuf),
    /// `backing = "ram"`: a brd ram disk of this size made for the run.
    Ram {
        /// Size of the ram disk.
        size: Bytes,
    },
}

/// One step of the scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct StepSpec {
    /// 0-based position.
    pub index: usize,
    /// Name (given, or `step<index>-<action>` such as `step0-create-thin`).
    pub name: Ident,
    /// Pools it runs on; `None` = every pool.
    pub pools: Option<Vec<Ident>>,
    /// What it does.
    pub action: Action,
    /// What must hold afterwards (in addition to the action's built-in checks).
    pub expect: Vec<Expect>,
    /// The step starts once the pool reports this mode (`await_mode`): IO a background
    /// step has in flight got it there (a full pool holding a filesystem's writes).
    pub await_mode: Option<thinbench_schema::record::PoolMode>,
}

impl StepSpec {
    /// Whether this step runs on `pool`.
    pub fn applies_to(&self, pool: &Ident) -> bool {
        self.pools.as_ref().is_none_or(|p| p.contains(pool))
    }
}

/// Step actions. Later issues add variants; the scenario format reserves their names.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// `create-thin`: a new thin device of `size` virtual bytes.
    CreateThin {
        /// Name the other steps use.
        thin: Ident,
        /// Explicit dm thin id; `None`: the next free id.
        id: Option<ThinId>,
        /// Virtual size. Docker's base device: 10GiB.
        size: Bytes,
        /// A device of the case (`create-device`) whose blocks the thin reads where it
        /// has none of its own (dm-thin's external origin).
        external_origin: Option<Ident>,
    },
    /// `snapshot`: an internal snapshot of `origin` named `thin`.
    Snapshot {
        /// New device's name.
        thin: Ident,
        /// Origin's name.
        origin: Ident,
        /// Explicit dm thin id; `None`: the next free id.
        id: Option<ThinId>,
    },
    /// `delete-thin`: deactivate and delete via the pool's `delete` message.
    DeleteThin {
        /// Which.
        thin: Ident,
    },
    /// `small-write`: O_DIRECT writes.
    SmallWrite(SmallWriteSpec),
    /// `cow-overwrite`: write an origin, snapshot it (a chain), overwrite both sides.
    CowOverwrite(CowSpec),
    /// `fill`: write until the pool runs out of data space; optionally recover.
    Fill(FillSpec),
    /// `deferred-removal`: remove a busy thin with `DM_DEFERRED_REMOVE`.
    DeferredRemoval(DeferredSpec),
    /// `deferred-deletion`: Docker's userspace deferred deletion with a retry worker.
    DeferredDeletion(DeferredSpec),
    /// `delete`: files deleted on a filesystem on a thin, and whether the space comes back.
    Delete(DeleteSpec),
    /// `metadata-fill`: map an origin densely, then snapshot it and unshare its b-tree
    /// leaves until the pool runs out of metadata space.
    MetadataFill(MetadataFillSpec),
    /// `repair-metadata`: the offline repair of a pool out of metadata space.
    RepairMetadata(RepairMetadataSpec),
    /// `reboot`: the pool goes down with its faults in force (a power cut's view),
    /// the faults end, and it comes back from the same backing devices.
    Reboot(RebootSpec),
    /// `replay`: the pool's `log-writes` log replayed onto scratch copies, each chosen
    /// point checked.
    Replay(ReplaySpec),
    /// `io`: fio-shaped IO on a thin, by thinbench's engine or by fio.
    Io(IoSpec),
    /// `engine-vs-fio`: the peer benchmark, thinbench's engine and fio alternating on
    /// one thin.
    EngineVsFio(PeerSpec),
    /// `create-device`: a device of the case other than a thin (its own scratch file on
    /// a loop device under a dm target), its every sector written with stamps.
    CreateDevice(CaseDeviceSpec),
    /// `verify`: every write the case knows of reads back from a thin, or a device.
    Verify {
        /// What is read.
        target: VerifyTarget,
    },
    /// `wait`: the end of a background step (`background = true`), whose results and
    /// oracles are this step's.
    Wait {
        /// The background step waited for.
        step: Ident,
    },
    /// `message`: a dm-thin pool message.
    Message(super::control::MessageSpec),
    /// `suspend`: a dm suspend of the pool or a thin (`flush` false: noflush).
    Suspend {
        /// Which device.
        device: super::control::ControlDevice,
        /// Flush before suspending (false: noflush, lockfs skipped).
        flush: bool,
        /// A thin's suspend while the pool is suspended: the pool is resumed from another
        /// thread after this long, and the thin's suspend must have waited for it.
        pool_resumes_after: Option<std::time::Duration>,
    },
    /// `resume`: resume the pool or a thin.
    Resume {
        /// Which device.
        device: super::control::ControlDevice,
        /// As `Suspend`'s: a thin's resume that waits for the pool's.
        pool_resumes_after: Option<std::time::Duration>,
    },
    /// `activate`: a dm device for a thin the pool has and no device shows.
    Activate(super::control::ActivateSpec),
    /// `deactivate`: remove a thin's dm device (the thin stays in the pool).
    Deactivate {
        /// Which.
        thin: Ident,
    },
    /// `reload`: the pool's table loaded again with changed features (suspend, load,
    /// resume).
    Reload(ReloadSpec),
    /// `resize`: the data or metadata device grown (or a refused shrink), live or with
    /// the pool down.
    Resize(ResizeSpec),
    /// `discard`: BLKDISCARD of byte ranges of a thin.
    Discard(super::discard::DiscardSpec),
    /// `mkfs`: a filesystem on a thin.
    Mkfs(super::fs::MkfsSpec),
    /// `mount`: a thin's filesystem mounted under the case's scratch directory.
    Mount(super::fs::MountSpec),
    /// `umount`: a mounted thin's filesystem unmounted.
    Umount {
        /// Which.
        on: super::fs::FsTarget,
    },
    /// `file`: one operation on a file of a mounted thin, with stamped content.
    File(super::fs::FileSpec),
    /// `verify-files`: a mounted thin's files checked against the case's file model.
    VerifyFiles(super::fs::VerifyFilesSpec),
    /// `fsck`: a read-only check of an unmounted thin's filesystem.
    Fsck {
        /// Which.
        on: super::fs::FsTarget,
    },
    /// `metadata-tool`: one of thin-provisioning-tools on the pool's metadata.
    MetadataTool(super::tool::MetadataToolSpec),
    /// `dm-table`: a hand-written table loaded into a device, or made a device of its own.
    DmTable(super::dm_table::DmTableSpec),
    /// `idle`: nothing for a while (what the pool does on its own: its periodic commit).
    Idle {
        /// How long.
        hold: std::time::Duration,
    },
}

impl Action {
    /// The action's name as written in scenarios.
    pub fn name(&self) -> &'static str {
        match self {
            Action::CreateThin { .. } => "create-thin",
            Action::Snapshot { .. } => "snapshot",
            Action::DeleteThin { .. } => "delete-thin",
            Action::SmallWrite(_) => "small-write",
            Action::CowOverwrite(_) => "cow-overwrite",
            Action::Fill(_) => "fill",
            Action::DeferredRemoval(_) => "deferred-removal",
            Action::DeferredDeletion(_) => "deferred-deletion",
            Action::Delete(_) => "delete",
            Action::MetadataFill(_) => "metadata-fill",
            Action::RepairMetadata(_) => "repair-metadata",
            Action::Reboot(_) => "reboot",
            Action::Replay(_) => "replay",
            Action::Io(_) => "io",
            Action::EngineVsFio(_) => "engine-vs-fio",
            Action::Wait { .. } => "wait",
            Action::CreateDevice(_) => "create-device",
            Action::Verify { .. } => "verify",
            Action::Message(_) => "message",
            Action::Suspend { .. } => "suspend",
            Action::Resume { .. } => "resume",
            Action::Activate(_) => "activate",
            Action::Deactivate { .. } => "deactivate",
            Action::Reload(_) => "reload",
            Action::Resize(_) => "resize",
            Action::Discard(_) => "discard",
            Action::Mkfs(_) => "mkfs",
            Action::Mount(_) => "mount",
            Action::Umount { .. } => "umount",
            Action::File(_) => "file",
            Action::VerifyFiles(_) => "verify-files",
            Action::Fsck { .. } => "fsck",
            Action::MetadataTool(_) => "metadata-tool",
            Action::DmTable(_) => "dm-table",
            Action::Idle { .. } => "idle",
        }
    }
}

/// A device of a case other than its pool and thins (`create-device`).
#[derive(Debug, Clone, PartialEq)]
pub struct CaseDeviceSpec {
    /// Name later steps use (`external_origin`, `verify`).
    pub name: Ident,
    /// Its dm target.
    pub kind: CaseDeviceKind,
    /// Its size.
    pub size: Bytes,
    /// The thins it is made over (`over`), in table order; empty: scratch files.
    pub over: Vec<Ident>,
    /// The device of the case it is made over (`over_device`; linear).
    pub over_device: Option<Ident>,
    /// Made over the pool's own device (`over_pool`; linear, read only).
    pub over_pool: bool,
}

/// The dm target of a case device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseDeviceKind {
    /// `linear` over a loop device of a sparse scratch file.
    Linear,
    /// `striped` over `stripes` loop devices of sparse scratch files, `stripe` bytes
    /// to a stripe (a baseline of the peer's striped tests).
    Striped {
        /// How many devices it stripes over (2 to 8).
        stripes: u32,
        /// Bytes of one device before the next (dm-stripe's chunk).
        stripe: Bytes,
    },
}

/// What a `verify` step reads back.
#[derive(Debug, Clone, PartialEq)]
pub enum VerifyTarget {
    /// A thin: every acknowledged write, and its external origin's content where it
    /// wrote nothing.
    Thin(Ident),
    /// A case device: its stamped content.
    Device(Ident),
}

/// Offsets pattern of a write workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessPattern {
    /// Consecutive IOs from the start of the region.
    Sequential,
    /// Uniformly random aligned offsets in the region, reproducible from the seed.
    Random {
        /// PRNG seed.
        seed: u64,
    },
    /// Sequential, one IO every `stride` IO slots from the start of the region (a
    /// sub-chunk IO per chunk when `stride` is the chunk over the IO size: each chunk
    /// mapped once, in order, with a small fraction of the bytes).
    Strided {
        /// IO slots from one IO's start to the next's (≥ 2; 1 is `Sequential`).
        stride: u64,
    },
}

/// How much a workload does: the workloads' own type, so a plan says it in the words the
/// generator runs on.
pub use thinbench_workloads::offsets::Limit;

/// `small-write` settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SmallWriteSpec {
    /// Target thin.
    pub thin: Ident,
    /// Bytes per IO; a multiple of 512. Default 4KiB.
    pub io_size: Bytes,
    /// Offset pattern. Default random, seed 1.
    pub pattern: AccessPattern,
    /// Amount.
    pub limit: Limit,
    /// Start of the region written, bytes; a multiple of `io_size`.
    pub offset: Bytes,
    /// Length of the region; `None` = to the end of the thin device.
    pub span: Option<Bytes>,
    /// Runs while the following steps run, until a `wait` step names it.
    pub background: bool,
    /// Spin this long inside each write's timed window: the gate self-validation's
    /// slowdown of known cost (zero: none).
    pub busy_wait_per_io: Duration,
}

/// `cow-overwrite` settings. The step writes `region` of `origin` with whole chunks, takes
/// a chain of `depth` snapshots (`<step>-1` of the origin, `<step>-2` of that, … — image
/// layers, then a container on top, as Docker stacked them), then overwrites: in the top
/// snapshot one sub-chunk IO per chunk of the first half (the copy path), again at another
/// offset of the same chunks (no allocation), whole chunks of the second half (no copy);
/// then sub-chunk IOs in the origin's first half (CoW on the origin side). Every other
/// side of each snapshot relation is verified unchanged, byte for byte.
#[derive(Debug, Clone, PartialEq)]
pub struct CowSpec {
    /// Thin written and snapshotted (must exist).
    pub origin: Ident,
    /// Snapshot chain depth, 1..=16.
    pub depth: u32,
    /// Start of the region; a multiple of the chunk size.
    pub offset: Bytes,
    /// Length of the region; a multiple of two chunks.
    pub region: Bytes,
    /// Sub-chunk IO size (< chunk). Default 4KiB.
    pub io_size: Bytes,
}

/// How a `fill` step gets the pool out of space again.
#[derive(Debug, Clone, PartialEq)]
pub enum Recover {
    /// Leave the pool full.
    None,
    /// Grow the data device by this much (loop-lvm: file + loop capacity + pool reload;
    /// direct-lvm: `lvextend`). Applied `after` the pool went out of space.
    Grow {
        /// Growth.
        by: Bytes,
    },
    /// Delete this thin (its exclusive blocks come back).
    DeleteThin {
        /// Thin to delete.
        thin: Ident,
    },
}

/// `fill` settings: sequential whole writes on `thin` until an error or `bytes`.
#[derive(Debug, Clone, PartialEq)]
pub struct FillSpec {
    /// Thin to fill; its virtual size should exceed the pool's free space.
    pub thin: Ident,
    /// IO size. Default 256KiB.
    pub io_size: Bytes,
    /// Stop after this many bytes even without an error. Default: the thin's size.
    pub bytes: Option<Bytes>,
    /// Recovery, if any.
    pub recover: Recover,
    /// How long the pool stays out of space before recovery is applied (queue policy:
    /// how long IO is held at least). Default 2s.
    pub hold: Duration,
    /// Expect the first error (ENOSPC) within this long of the pool running out.
    pub error_within: Option<Duration>,
    /// direct-lvm: apply lvm's autoextend policy (`lvextend --use-policies`) from the
    /// harness's monitor when usage crosses the profile's threshold (dmeventd does this on
    /// a machine with monitoring; the VM has none). Default false.
    pub autoextend: bool,
}

/// `metadata-fill` settings.
#[derive(Debug, Clone, PartialEq)]
pub struct MetadataFillSpec {
    /// The origin: one IO per chunk over `[0, span)`, then snapshots of it.
    pub thin: Ident,
    /// IO size (at most a chunk: one IO maps one chunk). Default 4KiB.
    pub io_size: Bytes,
    /// Region of the origin mapped. Default 512MiB.
    pub span: Bytes,
    /// Chunks between two writes in each snapshot. Default 64 (a dm-thin leaf maps at
    /// most 252 chunks, so every leaf of a densely mapped origin gets written).
    pub stride: u64,
    /// The most snapshots taken before giving up. Default 32.
    pub snapshots: u32,
}

/// `io` settings.
#[derive(Debug, Clone, PartialEq)]
pub struct IoSpec {
    /// What the IO goes to.
    pub target: IoTarget,
    /// Who runs the IO, and what IO.
    pub engine: IoEngineSpec,
}

/// What an `io` step's IO goes to.
#[derive(Debug, Clone, PartialEq)]
pub enum IoTarget {
    /// A thin of the pool (the model learns its writes).
    Thin(Ident),
    /// A device of the case (`create-device`): a baseline beside the thins; its writes
    /// replace the device's stamped content.
    Device(Ident),
    /// A file of the mounted filesystem on a thin or a device of the case (`path`;
    /// fio only): fio lays it out and removes it after, the file model unchanged.
    File {
        /// The filesystem's thin or device.
        on: super::fs::FsTarget,
        /// The file, relative to the filesystem's root.
        path: String,
    },
}

/// The engine of an `io` step and what it runs.
#[derive(Debug, Clone, PartialEq)]
pub enum IoEngineSpec {
    /// thinbench's engine (io_uring, else the synchronous one).
    Thinbench(IoShape),
    /// fio, with a job generated from the same keys thinbench's engine takes.
    FioShape(IoShape),
    /// fio, with the scenario's own job (checked: it names no file; the step's thin is
    /// given on fio's command line).
    FioJob {
        /// The job text.
        text: String,
        /// Where it came from (`job` inline, or the file `job_file` named).
        file: Option<PathBuf>,
    },
}

/// What an `io` step does, engine aside.
#[derive(Debug, Clone, PartialEq)]
pub struct IoShape {
    /// Direction and order (fio's `rw`).
    pub rw: thinbench_workloads::fio::FioRw,
    /// Bytes per IO. Default 4KiB.
    pub io_size: Bytes,
    /// IOs in flight per job. Default 1.
    pub queue_depth: u32,
    /// Jobs (threads, each its own ring and slice of the region). Default 1.
    pub jobs: u32,
    /// Region start; a multiple of `io_size`.
    pub offset: Bytes,
    /// Region length; `None`: to the end of the thin.
    pub span: Option<Bytes>,
    /// How long.
    pub length: IoLength,
    /// Seed of random offsets (thinbench's engine; fio draws its own).
    pub seed: u64,
}

/// How long an `io` step runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoLength {
    /// Each job runs this long.
    Runtime(Duration),
    /// This many IOs in all.
    Count(u64),
}

/// `engine-vs-fio` settings: four cases (4KiB random write QD1 and QD32, 64KiB
/// sequential write QD8, 4KiB random read QD32), each run `rounds` times by thinbench's
/// engine and by fio, alternating, over a region written in full first; then the cost of
/// status sampling (thinbench's engine, sampling on and off, alternating).
#[derive(Debug, Clone, PartialEq)]
pub struct PeerSpec {
    /// Thin to run on (must exist).
    pub thin: Ident,
    /// Region, from offset 0. Default 64MiB.
    pub span: Bytes,
    /// Length of each run. Default 2s.
    pub runtime: Duration,
    /// A B pairs per case. Default 2.
    pub rounds: u32,
    /// Measure the cost of status sampling too. Default true.
    pub sampling_cost: bool,
}

/// `repair-metadata` settings.
#[derive(Debug, Clone, PartialEq)]
pub struct RepairMetadataSpec {
    /// How much the metadata device grows. Default 4MiB (one lvm extent).
    pub grow_by: Bytes,
}

/// `reboot` settings.
#[derive(Debug, Clone, PartialEq)]
pub struct RebootSpec {
    /// Run `thin_repair` when `thin_check` finds the metadata damaged (otherwise that is
    /// the step's failure).
    pub repair: bool,
}

/// Which replay points a `replay` step checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayPoints {
    /// Every FUA write and mark.
    All,
    /// This many, evenly spread, the last always among them.
    Sampled(u32),
}

/// `replay` settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplaySpec {
    /// Points to check.
    pub points: ReplayPoints,
}

/// What keeps a thin busy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    /// An open file descriptor.
    Fd,
    /// An ext4 filesystem (Docker's options) mounted here.
    Mount,
    /// An ext4 filesystem mounted in another mount namespace (a leaked mount).
    MountNamespace,
}

/// `deferred-removal` / `deferred-deletion` settings.
#[derive(Debug, Clone, PartialEq)]
pub struct DeferredSpec {
    /// The thin to remove; must not share blocks with a snapshot or origin when the
    /// holder makes a filesystem (the model cannot place mkfs's IO).
    pub thin: Ident,
    /// What holds it.
    pub holder: Holder,
    /// How long the holder keeps it after the removal/deletion was asked for. Default 2s.
    pub hold: Duration,
    /// Deletion: the worker's retry interval. Default 1s (Docker: 30s).
    pub retry_interval: Duration,
}

/// How a `delete` step tries to give the deleted files' space back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteMethod {
    /// `rm`, `sync`, `umount`: nothing is discarded (the classic complaint).
    None,
    /// `rm`, `sync`, `fstrim`.
    Fstrim,
    /// Mounted with `-o discard`: the filesystem discards as it frees.
    DiscardMount,
    /// Docker's delete-time discard: `rm`, `umount`, BLKDISCARD over the whole thin,
    /// then the thin is deleted.
    Blkdiscard,
}

impl DeleteMethod {
    /// As written in scenarios.
    pub fn as_str(self) -> &'static str {
        match self {
            DeleteMethod::None => "none",
            DeleteMethod::Fstrim => "fstrim",
            DeleteMethod::DiscardMount => "discard-mount",
            DeleteMethod::Blkdiscard => "blkdiscard",
        }
    }
}

/// `delete` settings: a filesystem on `thin`, `files` bytes of 1MiB files written, an
/// optional snapshot, the files deleted, space given back by `method`.
#[derive(Debug, Clone, PartialEq)]
pub struct DeleteSpec {
    /// The thin the filesystem goes on (must exist; it is reformatted).
    pub thin: Ident,
    /// Filesystem. Default xfs.
    pub fs: FsKind,
    /// Total bytes of files, written as 1MiB files with fsync; a multiple of 1MiB.
    /// Default 32MiB.
    pub files: Bytes,
    /// Snapshot the thin (named `<step>-snap`) after writing, before deleting: the
    /// blocks it shares must not come back. Default false.
    pub snapshot: bool,
    /// How the space is given back. Default fstrim.
    pub method: DeleteMethod,
}

/// A scenario expectation checked after a step.
#[derive(Debug, Clone, PartialEq)]
pub enum Expect {
    /// Data blocks the pool allocated during the step.
    DataBlocksAllocated(BlockCount),
    /// Pool mode after the step.
    Mode(PoolMode),
    /// Workload IO errors during the step.
    Errors(u64),
    /// The first workload error, as an errno name (`ENOSPC`, `EIO`).
    FirstError(String),
    /// The step fails with an error containing this text (a refusal that must happen);
    /// the step then counts as passed.
    ErrorContains(String),
    /// The step fails with an error of this kind (errno, `refused`, `unsupported`): the
    /// machine-checkable form of a refusal; with `ErrorContains`, both must hold.
    Error(crate::errors::Kind),
    /// The pool's `needs_check` flag after the step.
    NeedsCheck(bool),
    /// The workload's median IO latency is at least this (a slow device's effect).
    P50AtLeast(Duration),
    /// A kernel log line during the step contains this text.
    KernelLog(String),
    /// Data blocks the pool right below allocated during the step (`stacked_levels`;
    /// negative: freed, as discards passed down free them).
    LowerDataBlocksAllocated(i64),
    /// The pool's transaction id after the step (its status).
    TransactionId(u64),
    /// Data blocks each named thin maps after the step, as the kernel reports them.
    Mapped(Vec<(Ident, u64)>),
    /// Bytes the pool discarded on its data device during the step (block-layer counters).
    DataDiscardBytes(Bytes),
    /// Whether the metadata device took a write during the step: a commit (block-layer
    /// counters; outside the oracles' own reads, which come after the step's window).
    MetadataWritten(bool),
}

/// An expected block count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockCount {
    /// Exactly this many (negative: the step freed blocks).
    Exact(i64),
    /// What the workload counted as distinct chunks first touched (the built-in oracle).
    ChunksTouched,
}
