//! The step actions format v1 knows, by name, and the names it keeps for later versions.

/// Actions format v1 knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ActionKind {
    CreateThin,
    Snapshot,
    DeleteThin,
    SmallWrite,
    CowOverwrite,
    Fill,
    DeferredRemoval,
    DeferredDeletion,
    Delete,
    MetadataFill,
    RepairMetadata,
    Reboot,
    Replay,
    Io,
    EngineVsFio,
    Wait,
    CreateDevice,
    Verify,
    Message,
    Suspend,
    Resume,
    Activate,
    Deactivate,
    Reload,
    Resize,
    Discard,
    Mkfs,
    Mount,
    Umount,
    File,
    VerifyFiles,
    Fsck,
    MetadataTool,
    DmTable,
    Idle,
}

pub(super) const ACTIONS: [(&str, ActionKind); 35] = [
    ("create-thin", ActionKind::CreateThin),
    ("snapshot", ActionKind::Snapshot),
    ("delete-thin", ActionKind::DeleteThin),
    ("small-write", ActionKind::SmallWrite),
    ("cow-overwrite", ActionKind::CowOverwrite),
    ("fill", ActionKind::Fill),
    ("deferred-removal", ActionKind::DeferredRemoval),
    ("deferred-deletion", ActionKind::DeferredDeletion),
    ("delete", ActionKind::Delete),
    ("metadata-fill", ActionKind::MetadataFill),
    ("repair-metadata", ActionKind::RepairMetadata),
    ("reboot", ActionKind::Reboot),
    ("replay", ActionKind::Replay),
    ("io", ActionKind::Io),
    ("engine-vs-fio", ActionKind::EngineVsFio),
    ("create-device", ActionKind::CreateDevice),
    ("verify", ActionKind::Verify),
    ("wait", ActionKind::Wait),
    ("message", ActionKind::Message),
    ("suspend", ActionKind::Suspend),
    ("resume", ActionKind::Resume),
    ("activate", ActionKind::Activate),
    ("deactivate", ActionKind::Deactivate),
    ("reload", ActionKind::Reload),
    ("resize", ActionKind::Resize),
    ("discard", ActionKind::Discard),
    ("mkfs", ActionKind::Mkfs),
    ("mount", ActionKind::Mount),
    ("umount", ActionKind::Umount),
    ("file", ActionKind::File),
    ("verify-files", ActionKind::VerifyFiles),
    ("fsck", ActionKind::Fsck),
    ("metadata-tool", ActionKind::MetadataTool),
    ("dm-table", ActionKind::DmTable),
    ("idle", ActionKind::Idle),
];

/// Action names kept for later versions of the format.
pub(super) const RESERVED_ACTIONS: [&str; 2] = ["fault", "fstrim"];

impl ActionKind {
    pub(super) fn name(self) -> &'static str {
        ACTIONS
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("?", |(n, _)| n)
    }
    /// What a step of this action records for expectations to read, beyond what every
    /// step has (the pool's status after it, its data block change, the kernel log, its
    /// error): the runner's `ActionOutput::workload` (IO errors, the first error, latency)
    /// and `first_touched` (chunks touched for the first time), as each action's runner
    /// sets them. `fio`: an `io` step with `engine = "fio"`.
    pub(super) fn observes(self, fio: bool) -> Observes {
        use ActionKind as A;
        let (errors, first_error, latency, chunks_touched) = match self {
            A::SmallWrite | A::Fill | A::EngineVsFio => (true, true, true, true),
            // A wait's results are its background workload's; the chunks it touched were
            // allocated over several steps, so the accounting oracle (the model, at the
            // wait) is the check of them.
            A::Wait => (true, true, true, false),
            // Thinbench's engine counts chunks; fio's report names a failed job, not an errno.
            A::Io if fio => (true, false, true, false),
            A::Io => (true, true, true, true),
            // Phase figures are summed, latencies are not.
            A::MetadataFill => (true, true, false, true),
            // cow-overwrite records its phases (and stops at a phase's first error), not a
            // workload of the step; the others run none.
            A::CowOverwrite
            | A::CreateThin
            | A::Snapshot
            | A::DeleteThin
            | A::DeferredRemoval
            | A::DeferredDeletion
            | A::Delete
            | A::RepairMetadata
            | A::Reboot
            | A::Replay
            | A::CreateDevice
            | A::Verify
            | A::Message
            | A::Suspend
            | A::Resume
            | A::Activate
            | A::Deactivate
            | A::Reload
            | A::Resize
            | A::Discard
            | A::Mkfs
            | A::Mount
            | A::Umount
            | A::File
            | A::VerifyFiles
            | A::Fsck
            | A::MetadataTool
            | A::DmTable
            | A::Idle => (false, false, false, false),
        };
        Observes {
            errors,
            first_error,
            latency,
            chunks_touched,
        }
    }
}

/// What a step's results hold for the expectations that read more than the pool's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Observes {
    /// The workload's IO error count: `errors`.
    pub(super) errors: bool,
    /// The workload's first error as an errno name: `first_error`.
    pub(super) first_error: bool,
    /// The workload's latency: `p50_at_least`.
    pub(super) latency: bool,
    /// Chunks the workload touched for the first time: `data_blocks_allocated = "chunks-touched"`.
    pub(super) chunks_touched: bool,
}

impl Observes {
    /// The `[step.expect]` keys a step with these results can check, for messages.
    pub(super) fn expectable(self) -> String {
        let mut keys = vec![if self.chunks_touched {
            "data_blocks_allocated (a number or \"chunks-touched\")"
        } else {
            "data_blocks_allocated (a number)"
        }];
        keys.extend(["mode", "needs_check", "transaction_id"]);
        for (on, key) in [
            (self.errors, "errors"),
            (self.first_error, "first_error"),
            (self.latency, "p50_at_least"),
        ] {
            if on {
                keys.push(key);
            }
        }
        keys.extend(["kernel_log", "error", "error_contains"]);
        keys.join(", ")
    }
}
