//! The keys of a plan file, table by table (docs/plan-format.md): the one description
//! the plan reader's tables are checked against (`keys_tests`: the reader's fields are
//! these keys, with these types) and `thinbench schema plan` turns into a JSON Schema.

use thinbench_schema::keys::{Key, KeySet, Ty};

const INT: Ty = Ty::Int {
    min: None,
    max: None,
};
const PERCENT_INT: Ty = Ty::Int {
    min: Some(0),
    max: Some(100),
};

/// `[pool]`: the pool the fleet lives in.
pub(crate) const POOL_KEYS: KeySet = KeySet {
    table: "[pool]",
    doc: "The thin pool the fleet lives in, as configured (what is reported about it; the recommendation does not depend on it).",
    tag: None,
    common: &[
        Key::new("data_size", Ty::Size, "The pool's data size, like \"100GiB\".").required(),
        Key::new("metadata_size", Ty::Size, "The metadata device's size (default \"2GiB\", Docker's loop-lvm)."),
        Key::new("chunk_size", Ty::Size, "The data block size, a multiple of 64KiB (default \"64KiB\")."),
        Key::new("low_water_mark", Ty::IntOrPercent, "Free data blocks that raise dm-thin's event: a block count or \"N%\" (default 32768)."),
        Key::new("min_free_space", Ty::Percent, "Docker's dm.min_free_space: new devices refused below this free share (default \"10%\")."),
        Key::new("autoextend_threshold", Ty::Int { min: Some(50), max: Some(100) }, "lvm's autoextend threshold, 50 to 100 (100: no autoextension)."),
        Key::new("autoextend_percent", PERCENT_INT, "lvm's autoextend percent, 0 to 100."),
        Key::new("max_data_size", Ty::Size, "The most autoextension may grow the data to."),
    ],
    variants: &[],
};

/// A write workload: `[[base.write]]`, `[[image.layer]]`, `[[image.container_write]]`.
pub(crate) const WRITE_KEYS: KeySet = KeySet {
    table: "[[write]]",
    doc: "A write workload ([[base.write]], [[image.layer]], [[image.container_write]]).",
    tag: None,
    common: &[
        Key::new("target", Ty::Enum(&["new", "image"]), "Where: \"new\" (fresh data, the default) or \"image\" (the image's data: copy-on-write); or give `offset`."),
        Key::new("offset", Ty::Size, "An explicit byte offset instead of `target`, like \"0\" or \"1GiB\"."),
        Key::new("bytes", Ty::Size, "How much to write (or `count` IOs)."),
        Key::new("count", Ty::Int { min: Some(1), max: None }, "How many IOs (or `bytes`)."),
        Key::new("pattern", Ty::Enum(&["sequential", "random"]), "Order of the IOs (default \"sequential\")."),
        Key::new("io_size", Ty::Size, "Bytes per IO (default \"4KiB\")."),
        Key::new("span", Ty::Size, "Length of the region the IOs land in."),
        Key::new("seed", INT, "Seed of a random pattern's offsets (default 1)."),
    ],
    variants: &[],
};

/// `[base]`: the base device every image starts from.
pub(crate) const BASE_KEYS: KeySet = KeySet {
    table: "[base]",
    doc: "The base device every image is a snapshot of (Docker's base device).",
    tag: None,
    common: &[
        Key::new(
            "size",
            Ty::Size,
            "Virtual size of every thin (Docker's dm.basesize, default \"10GiB\").",
        ),
        Key::new(
            "write",
            Ty::Tables(&WRITE_KEYS),
            "What is written to the base device (mkfs): [[base.write]] tables.",
        ),
    ],
    variants: &[],
};

/// `[image.churn]`: containers replaced on a schedule.
pub(crate) const CHURN_KEYS: KeySet = KeySet {
    table: "[image.churn]",
    doc: "Containers of the image replaced on a schedule.",
    tag: None,
    common: &[
        Key::new("every", Ty::Duration, "How often, like \"1d\" or \"6h\".").required(),
        Key::new("replace", INT, "How many containers each time.").required(),
    ],
    variants: &[],
};

/// `[[image]]`: an image, its layers and its containers.
pub(crate) const IMAGE_KEYS: KeySet = KeySet {
    table: "[[image]]",
    doc: "An image: its layers (snapshots of the base) and its containers (snapshots of the top layer).",
    tag: None,
    common: &[
        Key::new("name", Ty::Str, "The image's name.").required(),
        Key::new("containers", INT, "Containers of the image running, 0 to 2^24 (default 0)."),
        Key::new("layer", Ty::Tables(&WRITE_KEYS), "The image's layers, bottom up, each a snapshot of the one below: [[image.layer]] tables."),
        Key::new("container_write", Ty::Tables(&WRITE_KEYS), "What each container writes: [[image.container_write]] tables."),
        Key::new("churn", Ty::Table(&CHURN_KEYS), "Containers replaced on a schedule."),
    ],
    variants: &[],
};

/// `[timeline]`: how the fleet runs over time.
pub(crate) const TIMELINE_KEYS: KeySet = KeySet {
    table: "[timeline]",
    doc: "How the fleet runs over time: growth, deletion, discards.",
    tag: None,
    common: &[
        Key::new("duration", Ty::Duration, "How long the simulation runs, like \"30d\"."),
        Key::new("horizon", Ty::Duration, "How long a recommendation must hold (default: the duration)."),
        Key::new("step", Ty::Duration, "The simulation's step, like \"6h\"."),
        Key::new("write_rate", Ty::Text { pattern: "^\\s*[0-9][0-9_]*\\s*[A-Za-z]*\\s*/\\s*[A-Za-z]+\\s*$", example: "100MiB/d" }, "New data per running container, a size per time unit like \"100MiB/d\"."),
        Key::new("deleted_percent", PERCENT_INT, "Share of the new data deleted a step later, 0 to 100."),
        Key::new("fstrim", Ty::Bool, "Whether containers discard what they delete (default false, Docker's)."),
        Key::new("discard_on_delete", Ty::Bool, "Whether a thin is discarded before it is deleted (Docker's dm.blkdiscard, default true)."),
    ],
    variants: &[],
};

/// The top level of a plan file.
pub(crate) const TOP_KEYS: KeySet = KeySet {
    table: "the top level",
    doc: "A thinbench capacity plan: a fleet of images and containers on a thin pool, over a timeline (docs/plan-format.md).",
    tag: None,
    common: &[
        Key::new("format", Ty::Int { min: Some(1), max: Some(1) }, "The plan format version: 1.").required(),
        Key::new("name", Ty::Str, "The plan's name (default: the file name without .toml)."),
        Key::new("description", Ty::Str, "Free text for reports."),
        Key::new("pool", Ty::Table(&POOL_KEYS), "The thin pool.").required(),
        Key::new("base", Ty::Table(&BASE_KEYS), "The base device."),
        Key::new("image", Ty::Tables(&IMAGE_KEYS), "The images: [[image]] tables."),
        Key::new("timeline", Ty::Table(&TIMELINE_KEYS), "How the fleet runs over time."),
    ],
    variants: &[],
};

/// The keys of a plan file, table by table.
pub fn keys() -> &'static KeySet {
    &TOP_KEYS
}
