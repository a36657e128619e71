//! The keys of `metadata-tool`.

use thinbench_schema::keys::{Key, Ty};

/// `metadata-tool` keys.
pub(super) const METADATA_TOOL_KEYS: &[Key] = &[
    Key::new(
        "tool",
        Ty::Enum(&[
            "thin_dump",
            "thin_delta",
            "thin_ls",
            "thin_check",
            "thin_restore",
            "thin_repair",
            "thin_trim",
        ]),
        "Which of thin-provisioning-tools (required). On a metadata snapshot: thin_dump, thin_delta, thin_ls, thin_check; the tools that write (thin_restore, thin_repair, thin_trim) only on the live metadata, where they must refuse.",
    ),
    Key::new(
        "metadata",
        Ty::Enum(&["snapshot", "live", "inactive"]),
        "What it reads: a metadata snapshot of the live pool (the default; the scenario's held one, or one the step reserves), the live metadata device itself (the tools must refuse: `expect.error` is required for the tools that write), or the inactive metadata, the pool taken down for the tool and brought back up (loop-lvm; thin_restore and thin_trim need it).",
    ),
    Key::new(
        "thin",
        Ty::Str,
        "thin_delta: the right side (--thin2), an existing thin.",
    ),
    Key::new(
        "origin",
        Ty::Str,
        "thin_delta: the left side (--thin1), an existing thin, usually the snapshot's origin.",
    ),
    Key::new(
        "same_as",
        Ty::Str,
        "thin_dump: its XML must equal that of this earlier thin_dump step (by name).",
    ),
    Key::new(
        "from",
        Ty::Str,
        "thin_restore (required): the earlier thin_dump step whose XML is restored; the pool must not have changed since.",
    ),
    Key::new(
        "damage_at",
        Ty::Size,
        "With `metadata = \"inactive\"`: before the tool runs, overwrite the metadata device from this byte offset with seeded random bytes (device-mapper-test-suite writes 512 at 40960).",
    ),
    Key::new(
        "damage_bytes",
        Ty::Size,
        "How many bytes `damage_at` overwrites, 1B to 1MiB (default 512B).",
    ),
    Key::new(
        "seed",
        Ty::Int {
            min: Some(0),
            max: None,
        },
        "Seed of the damage's bytes, or of a random `generate` layout (default 1).",
    ),
    Key::new(
        "generate",
        Ty::Enum(&["linear", "random"]),
        "thin_restore (instead of `from`): metadata thinbench writes, the `thins` each fully mapped, thin after thin (\"linear\") or at seeded random blocks (\"random\"); the pool must have no thins then (loop-lvm).",
    ),
    Key::new(
        "thins",
        Ty::Array(&Ty::Str),
        "With `generate`: the names of the thins the metadata holds, device ids 0, 1, … in order (1 to 64; they are then the case's thins, with devices).",
    ),
    Key::new(
        "size",
        Ty::Size,
        "With `generate`: each thin's size, a whole number of the pool's blocks, all mapped (required).",
    ),
    Key::new(
        "repair",
        Ty::Bool,
        "thin_dump with `metadata = \"inactive\"`: `thin_dump --repair`, its XML restored onto the metadata (thin_restore) and thin_check'ed: repair through a dump.",
    ),
];
