//! The keys of the filesystem steps (`mkfs`, `mount`, `umount`, `file`, `verify-files`,
//! `fsck`) and the reader of `verify-files`' `contents` table.

use crate::scenario::error::Diagnostic;
use serde_spanned::Spanned;
use thinbench_schema::keys::{Key, TomlKind, Ty};
use thinbench_schema::toml_tree::{table_entries, Field, Node, TableReader};

const THIN: Key = Key::new(
    "thin",
    Ty::Str,
    "The thin whose filesystem the step works on (an identifier; this or `device`).",
);
const DEVICE: Key = Key::new(
    "device",
    Ty::Str,
    "A device of the case (create-device) whose filesystem the step works on, instead of a thin.",
);

/// `mkfs` keys.
pub(super) const MKFS_KEYS: &[Key] = &[
    THIN,
    DEVICE,
    Key::new(
        "fs",
        Ty::Enum(&["xfs", "ext4"]),
        "The filesystem (default \"ext4\"; xfs needs a thin of at least 300MiB).",
    ),
    Key::new(
        "profile",
        Ty::Enum(&["docker", "defaults"]),
        "Whose mkfs options: Docker's (no discard, no lazy init; the default) or the tools' own defaults.",
    ),
];

/// `mount` keys.
pub(super) const MOUNT_KEYS: &[Key] = &[
    THIN,
    DEVICE,
    Key::new(
        "discard",
        Ty::Bool,
        "Mount with -o discard: freed blocks discarded online (default false).",
    ),
    Key::new(
        "nouuid",
        Ty::Bool,
        "xfs only: mount with -o nouuid, as a snapshot shares its origin's uuid (default true, Docker's).",
    ),
];

/// `umount` and `fsck` keys.
pub(super) const THIN_ONLY: &[Key] = &[THIN, DEVICE];

/// `file` keys.
pub(super) const FILE_KEYS: &[Key] = &[
    THIN,
    DEVICE,
    Key::new(
        "path",
        Ty::Str,
        "The file, relative to the filesystem's root (no absolute path, no `..`; required).",
    ),
    Key::new(
        "op",
        Ty::Enum(&["write", "append", "modify", "rename", "delete"]),
        "What is done to the file (required).",
    ),
    Key::new(
        "size",
        Ty::Size,
        "write, append: bytes of the stamped record, 512B to 64MiB (default 4KiB).",
    ),
    Key::new(
        "new_path",
        Ty::Str,
        "rename: the new path, relative to the filesystem's root (required).",
    ),
    Key::new(
        "fsync",
        Ty::Bool,
        "fsync the file and its directory afterwards (default true).",
    ),
    Key::new(
        "io_size",
        Ty::Size,
        "write: the file is `size / io_size` stamped records of this size, each one write (default: one record of `size`).",
    ),
    Key::new(
        "pattern",
        Ty::Enum(&["random", "sequential"]),
        "write with io_size: the records in order, or each at a random offset once (default \"sequential\").",
    ),
    Key::new(
        "seed",
        Ty::Int {
            min: None,
            max: None,
        },
        "pattern = \"random\": seed of the record order (default 1).",
    ),
    Key::new(
        "background",
        Ty::Bool,
        "write: run while the following steps run, until a `wait` step names this one (default false).",
    ),
];

/// `verify-files` keys.
pub(super) const VERIFY_FILES_KEYS: &[Key] = &[
    THIN,
    DEVICE,
    Key::new(
        "contents",
        Ty::Map(&Ty::Array(&Ty::Str)),
        "Claimed contents: { \"path\" = [\"step@thin\", …] }, the stamps of the file's records in order.",
    ),
    Key::new(
        "absent",
        Ty::Array(&Ty::Str),
        "Paths claimed absent.",
    ),
];

/// `contents = { "path" = ["stamp", …] }`.
pub(super) type RawContents = Vec<(Spanned<String>, Vec<Spanned<String>>)>;

/// Reads `contents`: a table of arrays of strings.
pub(super) fn read_contents(
    r: &mut TableReader<'_>,
    d: &mut Vec<Diagnostic>,
) -> Field<RawContents> {
    let Some((k, v)) = r.take("contents", &[TomlKind::Table]) else {
        return Field::Absent;
    };
    let Some(entries) = table_entries(v, "`contents`", d) else {
        return Field::Invalid { key: k.span() };
    };
    let mut out = Vec::with_capacity(entries.len());
    let mut ok = true;
    for (path, n) in entries {
        let Node::Array(items) = n.get_ref() else {
            d.push(Diagnostic::new(
                n.span(),
                format!(
                    "`contents.\"{}\"` must be an array of stamps like [\"write-id@base\"], not {}",
                    path.get_ref(),
                    n.get_ref().type_name()
                ),
            ));
            ok = false;
            continue;
        };
        let mut stamps = Vec::with_capacity(items.len());
        for item in items {
            match item.get_ref() {
                Node::String(s) => stamps.push(Spanned::new(item.span(), s.clone())),
                other => {
                    d.push(Diagnostic::new(
                        item.span(),
                        format!(
                            "each stamp of `contents.\"{}\"` must be a string `step@thin`, not {}",
                            path.get_ref(),
                            other.type_name()
                        ),
                    ));
                    ok = false;
                }
            }
        }
        out.push((path.clone(), stamps));
    }
    if ok {
        Field::Given {
            key: k.span(),
            value: Spanned::new(v.span(), out),
        }
    } else {
        Field::Invalid { key: k.span() }
    }
}
