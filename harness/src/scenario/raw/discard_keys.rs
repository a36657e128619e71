//! The keys of `discard` steps (`[[step]] action = "discard"`).

use thinbench_schema::keys::{Key, Ty};

/// `discard` step keys.
pub(super) const DISCARD_KEYS: &[Key] = &[
    Key::new(
        "thin",
        Ty::Str,
        "The thin device discarded (an identifier; required).",
    ),
    Key::new(
        "offset",
        Ty::Size,
        "Where the (first) discard starts, a multiple of 512 (default 0).",
    ),
    Key::new(
        "length",
        Ty::Size,
        "Bytes per discard, a multiple of 512 (default: to the thin's end; required with stride).",
    ),
    Key::new(
        "stride",
        Ty::Size,
        "One discard of `length` every `stride` bytes from `offset` (a multiple of 512, at least `length`).",
    ),
    Key::new(
        "count",
        Ty::Int {
            min: Some(1),
            max: None,
        },
        "How many discards with `stride` (default: as many as fit before the thin's end).",
    ),
    Key::new(
        "flush",
        Ty::Bool,
        "Flush the thin's device after the discards (an fsync: dm-thin commits what changed; default false).",
    ),
];
