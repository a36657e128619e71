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

/// `suspend` keys.
pub(super) const SUSPEND_KEYS: [Key; 2] = [
    DEVICE,
    Key::new(
        "flush",
        Ty::Bool,
        "Flush before suspending (default true; false: noflush).",
    ),
];

/// `resume` keys.
pub(super) const RESUME_KEYS: [Key; 1] = [DEVICE];

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
