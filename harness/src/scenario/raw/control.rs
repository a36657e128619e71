//! The keys of the table-control steps: `message`, `suspend`, `resume`, `activate`
//! (`deactivate` takes only `thin`).

use thinbench_schema::keys::{Key, Ty};

const THIN_NAME: Key = Key::new(
    "thin",
    Ty::Str,
    "The thin device the step works on (an identifier; required).",
);

const DEVICE: Key = Key::new(
    "device",
    Ty::Str,
    "\"pool\" (the default) or the name of a thin with a device.",
);

/// `message` keys.
pub(super) const MESSAGE_KEYS: [Key; 2] = [
    Key::new(
        "text",
        Ty::Str,
        "A dm-thin pool message: create_thin, create_snap, delete, set_transaction_id, reserve_metadata_snap or release_metadata_snap with its numbers (required).",
    ),
    Key::new(
        "thin",
        Ty::Str,
        "create_thin/create_snap: the name the new thin gets (it has no device until an activate step).",
    ),
];

const POOL_RESUMES_AFTER: Key = Key::new(
    "pool_resumes_after",
    Ty::Duration,
    "A thin's suspend or resume while the pool is suspended: another thread resumes the pool after this long (100ms to 1m), and the thin's operation must have waited for it (dm-thin's internal suspend of the pool's thins).",
);

/// `suspend` keys.
pub(super) const SUSPEND_KEYS: [Key; 3] = [
    DEVICE,
    Key::new(
        "flush",
        Ty::Bool,
        "Flush before suspending (default true; false: noflush).",
    ),
    POOL_RESUMES_AFTER,
];

/// `resume` keys.
pub(super) const RESUME_KEYS: [Key; 2] = [DEVICE, POOL_RESUMES_AFTER];

/// `activate` keys.
pub(super) const ACTIVATE_KEYS: [Key; 3] = [
    THIN_NAME,
    Key::new(
        "read_only",
        Ty::Bool,
        "A read-only device: writes fail with EPERM (default false).",
    ),
    Key::new(
        "size",
        Ty::Size,
        "The device's size (default: the size it last had; required for a thin made by a message).",
    ),
];
