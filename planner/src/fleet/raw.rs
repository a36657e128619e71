//! Plan files as written: one struct per TOML table, read from the spanned tree of
//! `thinbench_schema::toml_tree` (the scenario reader's), so that every unknown key (with
//! a did-you-mean and the valid keys), wrong TOML type and missing required key in the
//! file is reported at once, each at its position. Nothing is interpreted here beyond
//! TOML types; units, bounds and defaults are the validator's (`fleet/mod.rs`).

use serde_spanned::Spanned;
use thinbench_schema::keys::TomlKind;
use thinbench_schema::positioned::{suggest, Diagnostic};
use thinbench_schema::toml_tree::{
    array_of_tables, table_entries, Field, IntOrText, Node, Span, TableReader,
};

use super::keys::{
    BASE_KEYS, CHURN_KEYS, IMAGE_KEYS, POOL_KEYS, TIMELINE_KEYS, TOP_KEYS, WRITE_KEYS,
};

/// One key and its value in a table.
type Entry = (Spanned<String>, Spanned<Node>);

/// A value given with the right type, or `None` (absent, or of the wrong type and
/// already reported).
pub(super) type Opt<T> = Option<Spanned<T>>;

fn opt<T>(f: Field<T>) -> Opt<T> {
    match f {
        Field::Given { value, .. } => Some(value),
        Field::Absent | Field::Invalid { .. } => None,
    }
}

/// A required key: its value, or `None` after reporting it missing at `table` (a key of
/// the wrong type was reported already, and so was a misspelling of it among `entries`,
/// whose did-you-mean names it).
fn required<T>(
    f: Field<T>,
    key: &str,
    (table, entries): (&Span, &[Entry]),
    what: &str,
    d: &mut Vec<Diagnostic>,
) -> Opt<T> {
    let misspelt = entries
        .iter()
        .any(|(k, _)| k.get_ref() != key && suggest(k.get_ref(), &[key]).is_some());
    if let (Field::Absent, false) = (&f, misspelt) {
        d.push(
            Diagnostic::new(table.clone(), format!("missing `{key}` in {what}")).with_hint(
                format!("add `{key} = …`: docs/plan-format.md lists the keys"),
            ),
        );
    }
    opt(f)
}

const STR: &str = "a string";
const INT: &str = "an integer";
const DURATION: &str = "a duration string like \"1d\" or \"6h\"";
const PCT: &str = "a percentage string like \"10%\"";

/// The whole file.
#[derive(Debug)]
pub(super) struct RawPlan {
    /// Where the document starts (for file-level errors).
    pub span: Span,
    pub format: Opt<i64>,
    pub name: Opt<String>,
    pub description: Opt<String>,
    pub pool: Option<RawPool>,
    pub base: Option<RawBase>,
    pub image: Vec<RawImage>,
    pub timeline: Option<RawTimeline>,
}

#[derive(Debug)]
pub(super) struct RawPool {
    pub span: Span,
    pub data_size: Opt<IntOrText>,
    pub metadata_size: Opt<IntOrText>,
    pub chunk_size: Opt<IntOrText>,
    pub low_water_mark: Opt<IntOrText>,
    pub min_free_space: Opt<String>,
    pub autoextend_threshold: Opt<i64>,
    pub autoextend_percent: Opt<i64>,
    pub max_data_size: Opt<IntOrText>,
}

#[derive(Debug)]
pub(super) struct RawBase {
    pub size: Opt<IntOrText>,
    pub write: Vec<RawWrite>,
    /// Whether every `[[base.write]]` was a table (a bad one is reported).
    pub writes_ok: bool,
}

#[derive(Debug)]
pub(super) struct RawImage {
    pub span: Span,
    pub name: Opt<String>,
    pub containers: Opt<i64>,
    pub layer: Vec<RawWrite>,
    pub container_write: Vec<RawWrite>,
    pub writes_ok: bool,
    pub churn: Option<RawChurn>,
}

#[derive(Debug)]
pub(super) struct RawWrite {
    pub span: Span,
    pub target: Opt<String>,
    pub offset: Opt<IntOrText>,
    pub bytes: Opt<IntOrText>,
    pub count: Opt<i64>,
    pub pattern: Opt<String>,
    pub io_size: Opt<IntOrText>,
    pub span_: Opt<IntOrText>,
    pub seed: Opt<i64>,
    /// How many of `bytes` and `count` the table has, of any type (one of the wrong
    /// type was reported already).
    pub amount_keys: usize,
}

#[derive(Debug)]
pub(super) struct RawChurn {
    pub every: Opt<String>,
    pub replace: Opt<i64>,
}

#[derive(Debug)]
pub(super) struct RawTimeline {
    pub duration: Opt<String>,
    pub horizon: Opt<String>,
    pub step: Opt<String>,
    pub write_rate: Opt<String>,
    pub deleted_percent: Opt<i64>,
    pub fstrim: Opt<bool>,
    pub discard_on_delete: Opt<bool>,
}

/// A sub-table (`[pool]`, `[image.churn]`) read with `read`, or reported as not a table.
fn table<T>(
    r: &mut TableReader<'_>,
    key: &str,
    d: &mut Vec<Diagnostic>,
    read: impl FnOnce(&Spanned<Node>, &[(Spanned<String>, Spanned<Node>)], &mut Vec<Diagnostic>) -> T,
) -> (Option<T>, bool) {
    let Some((k, v)) = r.take(key, &[TomlKind::Table]) else {
        return (None, false);
    };
    if let Node::Array(_) = v.get_ref() {
        d.push(
            Diagnostic::new(
                k.span(),
                format!("`{key}` must be a table, not an array of tables"),
            )
            .with_hint(format!("write `[{key}]` once, not `[[{key}]]`")),
        );
        return (None, true);
    }
    match table_entries(v, &format!("`{key}`"), d) {
        Some(entries) => (Some(read(v, entries, d)), true),
        None => (None, true),
    }
}

/// An array of tables, with whether every element was a table.
fn tables<T>(
    r: &mut TableReader<'_>,
    key: &str,
    d: &mut Vec<Diagnostic>,
    read: impl Fn(&Spanned<Node>, &[(Spanned<String>, Spanned<Node>)], &mut Vec<Diagnostic>) -> T,
) -> (Vec<T>, bool) {
    let before = d.len();
    match array_of_tables(r, key, d, read) {
        Field::Given { value, .. } => (value.into_inner(), d.len() == before),
        Field::Absent => (Vec::new(), true),
        Field::Invalid { .. } => (Vec::new(), false),
    }
}

impl RawPlan {
    /// Reads the document tree; type errors, unknown and missing keys go to `d`.
    pub fn from_tree(root: &Spanned<Node>, d: &mut Vec<Diagnostic>) -> RawPlan {
        let entries: &[(Spanned<String>, Spanned<Node>)] = match root.get_ref() {
            Node::Table(e) => e,
            // A TOML document is always a table.
            _ => &[],
        };
        let top = 0..0;
        let mut r = TableReader::new(&TOP_KEYS, entries);
        let format = r.integer("format", "an integer (the format version, 1)", d);
        let format = required(format, "format", (&top, entries), "the plan", d);
        let name = opt(r.string("name", STR, d));
        let description = opt(r.string("description", STR, d));
        let (pool, present) = table(&mut r, "pool", d, RawPool::read);
        if !present {
            d.push(
                Diagnostic::new(top.clone(), "missing [pool]: a plan needs a pool")
                    .with_hint("add [pool] with at least data_size = \"100GiB\""),
            );
        }
        let (base, _) = table(&mut r, "base", d, RawBase::read);
        let (image, _) = tables(&mut r, "image", d, RawImage::read);
        let (timeline, _) = table(&mut r, "timeline", d, RawTimeline::read);
        r.finish(d);
        RawPlan {
            span: root.span(),
            format,
            name,
            description,
            pool,
            base,
            image,
            timeline,
        }
    }
}

impl RawPool {
    fn read(
        v: &Spanned<Node>,
        entries: &[(Spanned<String>, Spanned<Node>)],
        d: &mut Vec<Diagnostic>,
    ) -> RawPool {
        let mut r = TableReader::new(&POOL_KEYS, entries);
        let span = v.span();
        let data_size = r.size("data_size", d);
        let p = RawPool {
            data_size: required(data_size, "data_size", (&span, entries), "[pool]", d),
            metadata_size: opt(r.size("metadata_size", d)),
            chunk_size: opt(r.size("chunk_size", d)),
            low_water_mark: opt(r.int_or_text(
                "low_water_mark",
                "an integer of data blocks or a percentage string like \"10%\"",
                d,
            )),
            min_free_space: opt(r.string("min_free_space", PCT, d)),
            autoextend_threshold: opt(r.integer("autoextend_threshold", INT, d)),
            autoextend_percent: opt(r.integer("autoextend_percent", INT, d)),
            max_data_size: opt(r.size("max_data_size", d)),
            span,
        };
        r.finish(d);
        p
    }
}

impl RawBase {
    fn read(
        _: &Spanned<Node>,
        entries: &[(Spanned<String>, Spanned<Node>)],
        d: &mut Vec<Diagnostic>,
    ) -> RawBase {
        let mut r = TableReader::new(&BASE_KEYS, entries);
        let size = opt(r.size("size", d));
        let (write, writes_ok) = tables(&mut r, "write", d, RawWrite::read);
        r.finish(d);
        RawBase {
            size,
            write,
            writes_ok,
        }
    }
}

impl RawImage {
    fn read(
        v: &Spanned<Node>,
        entries: &[(Spanned<String>, Spanned<Node>)],
        d: &mut Vec<Diagnostic>,
    ) -> RawImage {
        let mut r = TableReader::new(&IMAGE_KEYS, entries);
        let span = v.span();
        let name = r.string("name", STR, d);
        let name = required(name, "name", (&span, entries), "[[image]]", d);
        let containers = opt(r.integer("containers", INT, d));
        let (layer, ok1) = tables(&mut r, "layer", d, RawWrite::read);
        let (container_write, ok2) = tables(&mut r, "container_write", d, RawWrite::read);
        let (churn, _) = table(&mut r, "churn", d, RawChurn::read);
        r.finish(d);
        RawImage {
            span,
            name,
            containers,
            layer,
            container_write,
            writes_ok: ok1 && ok2,
            churn,
        }
    }
}

impl RawWrite {
    fn read(
        v: &Spanned<Node>,
        entries: &[(Spanned<String>, Spanned<Node>)],
        d: &mut Vec<Diagnostic>,
    ) -> RawWrite {
        let amount_keys = entries
            .iter()
            .filter(|(k, _)| matches!(k.get_ref().as_str(), "bytes" | "count"))
            .count();
        let mut r = TableReader::new(&WRITE_KEYS, entries);
        let w = RawWrite {
            amount_keys,
            span: v.span(),
            target: opt(r.string("target", "\"new\" or \"image\"", d)),
            offset: opt(r.size("offset", d)),
            bytes: opt(r.size("bytes", d)),
            count: opt(r.integer("count", INT, d)),
            pattern: opt(r.string("pattern", "\"sequential\" or \"random\"", d)),
            io_size: opt(r.size("io_size", d)),
            span_: opt(r.size("span", d)),
            seed: opt(r.integer("seed", INT, d)),
        };
        r.finish(d);
        w
    }
}

impl RawChurn {
    fn read(
        v: &Spanned<Node>,
        entries: &[(Spanned<String>, Spanned<Node>)],
        d: &mut Vec<Diagnostic>,
    ) -> RawChurn {
        let mut r = TableReader::new(&CHURN_KEYS, entries);
        let span = v.span();
        let every = r.string("every", DURATION, d);
        let replace = r.integer("replace", INT, d);
        let c = RawChurn {
            every: required(every, "every", (&span, entries), "[image.churn]", d),
            replace: required(replace, "replace", (&span, entries), "[image.churn]", d),
        };
        r.finish(d);
        c
    }
}

impl RawTimeline {
    fn read(
        _: &Spanned<Node>,
        entries: &[(Spanned<String>, Spanned<Node>)],
        d: &mut Vec<Diagnostic>,
    ) -> RawTimeline {
        let mut r = TableReader::new(&TIMELINE_KEYS, entries);
        let t = RawTimeline {
            duration: opt(r.string("duration", DURATION, d)),
            horizon: opt(r.string("horizon", DURATION, d)),
            step: opt(r.string("step", DURATION, d)),
            write_rate: opt(r.string("write_rate", "a rate string like \"500MiB/d\"", d)),
            deleted_percent: opt(r.integer("deleted_percent", INT, d)),
            fstrim: opt(r.boolean("fstrim", d)),
            discard_on_delete: opt(r.boolean("discard_on_delete", d)),
        };
        r.finish(d);
        t
    }
}

/// Whether the top level of `root` is a scenario's rather than a plan's: `[[step]]` or
/// `[[fault]]` tables, or `[[pool]]` as an array of tables without a plan's `[[image]]`
/// (a plan has one `[pool]`).
pub(super) fn looks_like_scenario(root: &Spanned<Node>) -> bool {
    let Node::Table(entries) = root.get_ref() else {
        return false;
    };
    let has = |key: &str| entries.iter().any(|(k, _)| k.get_ref() == key);
    let pool_array = entries
        .iter()
        .any(|(k, v)| k.get_ref() == "pool" && matches!(v.get_ref(), Node::Array(_)));
    has("step") || has("fault") || (pool_array && !has("image"))
}
