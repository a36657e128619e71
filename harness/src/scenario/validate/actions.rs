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
}

pub(super) const ACTIONS: [(&str, ActionKind); 15] = [
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
];

/// Action names kept for later versions of the format.
pub(super) const RESERVED_ACTIONS: [&str; 5] = ["fault", "mkfs", "mount", "fstrim", "discard"];

impl ActionKind {
    pub(super) fn name(self) -> &'static str {
        ACTIONS
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("?", |(n, _)| n)
    }
    /// Whether the step runs a workload (and so has IO errors and touched chunks).
    pub(super) fn is_workload(self) -> bool {
        matches!(
            self,
            ActionKind::SmallWrite
                | ActionKind::CowOverwrite
                | ActionKind::Fill
                | ActionKind::MetadataFill
                | ActionKind::Io
                | ActionKind::EngineVsFio
        )
    }
}
