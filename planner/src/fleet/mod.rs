//! The plan format (`docs/plan-format.md`): TOML read into raw tables with positions
//! (serde, `deny_unknown_fields`, spanned values), then validated into a [`Fleet`] with
//! every mistake collected and reported as `FILE:LINE:COL: error: ...` plus a hint, like
//! scenario files.
//!
//! A TOML syntax error, an unknown key or a value of the wrong TOML type stops parsing at
//! the first one (serde stops there); every check after parsing reports all it finds.

mod keys;

pub use keys::keys;

use std::fmt;
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use serde_spanned::Spanned;
use thinbench_schema::positioned::{fold_lines, Diagnostic, LineIndex, Positioned};
use thinbench_schema::units::{Bytes, ChunkSize};

// ---------------------------------------------------------------------------------------
// Errors

/// One mistake in a plan file: `FILE:LINE:COL: error: MESSAGE` (+ `\n  hint: HINT`);
/// line and column 1-based, the column in characters; line 0 for the file as a whole.
/// The shape every thinbench input file's errors share: see [`Positioned`].
pub type PlanError = Positioned;

/// Every mistake found in one plan file, in file order; never empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", Positioned::display_list(&self.errors))]
pub struct PlanErrors {
    /// The errors.
    pub errors: Vec<PlanError>,
}

// ---------------------------------------------------------------------------------------
// Raw tables

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlan {
    format: Spanned<i64>,
    name: Option<Spanned<String>>,
    description: Option<String>,
    pool: Spanned<RawPool>,
    base: Option<RawBase>,
    #[serde(default)]
    image: Vec<Spanned<RawImage>>,
    timeline: Option<RawTimeline>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPool {
    data_size: Spanned<String>,
    metadata_size: Option<Spanned<String>>,
    chunk_size: Option<Spanned<String>>,
    low_water_mark: Option<Spanned<RawBlocksOrPct>>,
    min_free_space: Option<Spanned<String>>,
    autoextend_threshold: Option<Spanned<i64>>,
    autoextend_percent: Option<Spanned<i64>>,
    max_data_size: Option<Spanned<String>>,
}

/// An integer block count or an `"N%"` string. (A two-variant enum read by hand, not
/// `serde(untagged)`, so the error names both forms.)
#[derive(Debug)]
enum RawBlocksOrPct {
    Blocks(i64),
    Text(String),
}

impl<'de> Deserialize<'de> for RawBlocksOrPct {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = RawBlocksOrPct;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer of data blocks or a string \"N%\"")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(RawBlocksOrPct::Blocks(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(RawBlocksOrPct::Text(v.to_owned()))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBase {
    size: Option<Spanned<String>>,
    #[serde(default)]
    write: Vec<Spanned<RawWrite>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawImage {
    name: Spanned<String>,
    containers: Option<Spanned<i64>>,
    #[serde(default)]
    layer: Vec<Spanned<RawWrite>>,
    #[serde(default)]
    container_write: Vec<Spanned<RawWrite>>,
    churn: Option<RawChurn>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWrite {
    target: Option<Spanned<String>>,
    offset: Option<Spanned<String>>,
    bytes: Option<Spanned<String>>,
    count: Option<Spanned<i64>>,
    pattern: Option<Spanned<String>>,
    io_size: Option<Spanned<String>>,
    span: Option<Spanned<String>>,
    seed: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChurn {
    every: Spanned<String>,
    replace: Spanned<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTimeline {
    duration: Option<Spanned<String>>,
    horizon: Option<Spanned<String>>,
    step: Option<Spanned<String>>,
    write_rate: Option<Spanned<String>>,
    deleted_percent: Option<Spanned<i64>>,
    fstrim: Option<bool>,
    discard_on_delete: Option<bool>,
}

// ---------------------------------------------------------------------------------------
// The validated fleet

/// Where a write goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "offset")]
pub enum Target {
    /// New data: a region starting where this device's lineage has written nothing yet
    /// (after everything written by it and its origins).
    New,
    /// Data of the image below: the region its layers (and the base) wrote, so the
    /// writes break sharing (copy-on-write).
    Image,
    /// An explicit byte offset.
    At(Bytes),
}

/// Order of the IOs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pattern {
    /// Consecutive IOs from the region's start.
    Sequential,
    /// Uniformly random IO-aligned offsets in the region, with replacement, from a seed
    /// (the same stream thinbench's `small-write` issues).
    Random {
        /// PRNG seed.
        seed: u64,
    },
}

/// How much a write does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Amount {
    /// Bytes (a multiple of the IO size).
    Bytes(Bytes),
    /// IOs.
    Count(u64),
}

/// One write workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct WriteSpec {
    /// Where.
    pub target: Target,
    /// How much.
    pub amount: Amount,
    /// In what order.
    pub pattern: Pattern,
    /// Bytes per IO.
    pub io_size: Bytes,
    /// Length of the region; `None`: as much as the IOs cover (new, explicit offset) or
    /// the image's written extent (image).
    pub span: Option<Bytes>,
}

impl WriteSpec {
    /// IOs issued.
    pub fn ios(&self) -> u64 {
        match self.amount {
            Amount::Bytes(b) => b.0.div_ceil(self.io_size.0),
            Amount::Count(n) => n,
        }
    }
    /// Bytes written.
    pub fn bytes(&self) -> Bytes {
        Bytes(self.ios() * self.io_size.0)
    }
}

/// A low water mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LowWater {
    /// Data blocks.
    Blocks(u64),
    /// Percent of the pool's data blocks.
    Percent(u8),
}

/// The pool.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FleetPool {
    /// Data device size.
    pub data_size: Bytes,
    /// Metadata device size.
    pub metadata_size: Bytes,
    /// Chunk (data block) size.
    pub chunk: ChunkSize,
    /// dm-thin's low water mark.
    pub low_water_mark: LowWater,
    /// Docker's `dm.min_free_space`, percent (0 = off).
    pub min_free_space_pct: u8,
    /// lvm's `thin_pool_autoextend_threshold` (100 = off).
    pub autoextend_threshold: u8,
    /// lvm's `thin_pool_autoextend_percent`.
    pub autoextend_percent: u8,
    /// How far autoextension may grow the data (the VG's room); `None`: thresholds are
    /// reported, the pool is not grown.
    pub max_data_size: Option<Bytes>,
}

/// Containers replaced periodically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Churn {
    /// Period, seconds.
    pub every_s: u64,
    /// Oldest containers deleted and as many new ones started, each period.
    pub replace: u64,
}

/// An image and its containers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImageSpec {
    /// Name.
    pub name: String,
    /// Layers, bottom up: each a snapshot of the one below, then its writes.
    pub layers: Vec<WriteSpec>,
    /// Containers started at time 0.
    pub containers: u64,
    /// What each container writes when it starts.
    pub container_writes: Vec<WriteSpec>,
    /// Periodic replacement.
    pub churn: Option<Churn>,
}

/// Life over time.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Timeline {
    /// Length of the simulated period, seconds.
    pub duration_s: u64,
    /// How far ahead a recommendation must hold, seconds (default: `duration_s`).
    pub horizon_s: u64,
    /// Step, seconds.
    pub step_s: u64,
    /// New data each running container writes per day (sequential, appended).
    pub write_rate_per_day: Bytes,
    /// Percent of that growth deleted inside the containers one step later.
    pub deleted_percent: u8,
    /// Whether deleted data is discarded (fstrim / `discard` mount): whole chunks return.
    pub fstrim: bool,
    /// Whether a thin is discarded before it is deleted (Docker's BLKDISCARD).
    pub discard_on_delete: bool,
}

/// A validated plan.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Fleet {
    /// Plan name.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// The pool.
    pub pool: FleetPool,
    /// Every thin's virtual size (Docker's `dm.basesize`).
    pub thin_size: Bytes,
    /// Writes to the base device (e.g. its filesystem).
    pub base_writes: Vec<WriteSpec>,
    /// Images.
    pub images: Vec<ImageSpec>,
    /// Life over time.
    pub timeline: Timeline,
}

// ---------------------------------------------------------------------------------------
// Loading

/// Reads and validates the plan at `path`.
pub fn load_fleet(path: &Path) -> Result<Fleet, PlanErrors> {
    use thinbench_schema::untrusted;
    let text =
        untrusted::read_text(path, untrusted::limit::INPUT_TOML).map_err(|e| PlanErrors {
            errors: vec![PlanError::whole_file(
                path,
                format!("cannot read: {}", e.reason()),
            )],
        })?;
    load_fleet_str(path, &text)
}

/// Validates plan `text`; errors name `path`, whose stem is the default name.
pub fn load_fleet_str(path: &Path, text: &str) -> Result<Fleet, PlanErrors> {
    let index = LineIndex::new(text);
    let fail = |diags: Vec<Diagnostic>| PlanErrors {
        errors: index.errors(path, diags),
    };
    let raw: RawPlan = toml::from_str(text).map_err(|e| {
        fail(vec![Diagnostic::new(
            e.span().unwrap_or(0..0),
            fold_lines(e.message()),
        )
        .with_hint("the plan format is in docs/plan-format.md")])
    })?;
    let mut v = Validator { diags: Vec::new() };
    let fleet = v.plan(raw, path);
    if v.diags.is_empty() {
        Ok(fleet.expect("no diagnostics means a fleet"))
    } else {
        Err(fail(v.diags))
    }
}

struct Validator {
    diags: Vec<Diagnostic>,
}

const DAY: u64 = 86_400;

/// Most IOs in one random write: the simulation draws every offset of one (16 bytes
/// each), so more would take gigabytes and minutes. 2^26 IOs of 4KiB is 256GiB.
pub const MAX_RANDOM_IOS: u64 = 1 << 26;

impl Validator {
    fn err(&mut self, span: Range<usize>, message: impl Into<String>, hint: Option<&str>) {
        let d = Diagnostic::new(span, message);
        self.diags.push(match hint {
            Some(h) => d.with_hint(h),
            None => d,
        });
    }

    fn size(&mut self, s: &Spanned<String>, what: &str) -> Option<Bytes> {
        match Bytes::parse_human(s.get_ref()) {
            Ok(b) => Some(b),
            Err(m) => {
                self.err(
                    s.span(),
                    format!("invalid `{what}`: {m}"),
                    Some("sizes are an integer with a unit, like \"64KiB\" or \"100GiB\""),
                );
                None
            }
        }
    }

    fn pct(&mut self, s: &Spanned<String>, what: &str, max: u8) -> Option<u8> {
        let t = s.get_ref().trim();
        match t
            .strip_suffix('%')
            .and_then(|n| n.trim().parse::<u8>().ok())
        {
            Some(p) if p <= max => Some(p),
            _ => {
                self.err(
                    s.span(),
                    format!("invalid `{what}`: `{t}`"),
                    Some(&format!("a percentage \"N%\" from 0% to {max}%")),
                );
                None
            }
        }
    }

    fn int(&mut self, s: &Spanned<i64>, what: &str, lo: i64, hi: i64) -> Option<u64> {
        let v = *s.get_ref();
        if v < lo || v > hi {
            self.err(
                s.span(),
                format!("`{what}` = {v} is out of range"),
                Some(&format!("{lo} to {hi}")),
            );
            None
        } else {
            Some(v as u64)
        }
    }

    fn duration(&mut self, s: &Spanned<String>, what: &str) -> Option<u64> {
        match parse_duration(s.get_ref()) {
            Some(d) if d > 0 => Some(d),
            _ => {
                self.err(
                    s.span(),
                    format!("invalid `{what}`: `{}`", s.get_ref()),
                    Some("a whole number with a unit: s, m, h, d or w, like \"90d\" or \"6h\""),
                );
                None
            }
        }
    }

    fn plan(&mut self, r: RawPlan, path: &Path) -> Option<Fleet> {
        if *r.format.get_ref() != 1 {
            self.err(
                r.format.span(),
                format!("unsupported plan format {}", r.format.get_ref()),
                Some("this thinbench reads format = 1"),
            );
            return None;
        }
        let name = match &r.name {
            Some(n) => n.get_ref().clone(),
            None => path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "plan".into()),
        };
        let pool = self.pool(&r.pool);
        let (thin_size, base_writes) = match &r.base {
            Some(b) => {
                let size = match &b.size {
                    Some(s) => self.size(s, "base.size"),
                    None => Some(Bytes(10 * Bytes::GIB)),
                };
                let writes = self.writes(&b.write, "base.write");
                (size, writes)
            }
            None => (Some(Bytes(10 * Bytes::GIB)), Some(Vec::new())),
        };
        if r.image.is_empty() {
            self.err(
                r.pool.span(),
                "no [[image]]: a plan needs at least one image",
                Some("add [[image]] with name, containers and [[image.layer]] tables"),
            );
        }
        let mut images = Vec::new();
        let mut names: Vec<String> = Vec::new();
        for im in &r.image {
            let span = im.span();
            let im = im.get_ref();
            let n = im.name.get_ref().clone();
            if names.contains(&n) {
                self.err(
                    im.name.span(),
                    format!("image `{n}` is defined twice"),
                    None,
                );
            }
            names.push(n.clone());
            let containers = match &im.containers {
                Some(c) => self.int(c, "containers", 0, 1 << 24),
                None => Some(0),
            };
            if im.layer.is_empty() {
                self.err(
                    span.clone(),
                    format!("image `{n}` has no [[image.layer]]"),
                    Some("each layer is a table with at least `bytes` or `count`"),
                );
            }
            let layers = self.writes(&im.layer, "image.layer");
            let cw = self.writes(&im.container_write, "image.container_write");
            let churn = im.churn.as_ref().and_then(|c| {
                let every = self.duration(&c.every, "churn.every");
                let replace = self.int(&c.replace, "churn.replace", 0, 1 << 24);
                Some(Churn {
                    every_s: every?,
                    replace: replace?,
                })
            });
            if let (Some(ch), Some(c)) = (&churn, containers) {
                if ch.replace > c {
                    if let Some(rc) = &im.churn {
                        self.err(
                            rc.replace.span(),
                            format!(
                                "churn replaces {} containers but image `{n}` has {c}",
                                ch.replace
                            ),
                            None,
                        );
                    }
                }
            }
            images.push(ImageSpec {
                name: n,
                layers: layers.unwrap_or_default(),
                containers: containers.unwrap_or(0),
                container_writes: cw.unwrap_or_default(),
                churn,
            });
        }
        let tl = self.timeline(r.timeline.as_ref());
        let fleet = Fleet {
            name,
            description: r.description.clone(),
            pool: pool?,
            thin_size: thin_size?,
            base_writes: base_writes?,
            images,
            timeline: tl?,
        };
        self.extents(&fleet, &r);
        if self.diags.is_empty() {
            Some(fleet)
        } else {
            None
        }
    }

    /// Every write must stay inside a thin: walk the lineages as the simulation will.
    fn extents(&mut self, f: &Fleet, r: &RawPlan) {
        let base_hw = match lineage_end(f, &f.base_writes, Bytes(0), Bytes(0)) {
            Ok(h) => h,
            Err(m) => {
                let span = r.pool.span();
                self.err(span, format!("base writes: {m}"), None);
                return;
            }
        };
        for (im, raw) in f.images.iter().zip(&r.image) {
            let img_hw = match lineage_end(f, &im.layers, base_hw, base_hw) {
                Ok(h) => h,
                Err(m) => {
                    self.err(raw.span(), format!("image `{}` layers: {m}", im.name), None);
                    continue;
                }
            };
            if let Err(m) = lineage_end(f, &im.container_writes, img_hw, img_hw) {
                self.err(
                    raw.span(),
                    format!("image `{}` container writes: {m}", im.name),
                    Some("raise [base] size (Docker's dm.basesize) or write less"),
                );
            }
        }
    }

    fn pool(&mut self, p: &Spanned<RawPool>) -> Option<FleetPool> {
        let sp = p.span();
        let p = p.get_ref();
        let data = self.size(&p.data_size, "data_size");
        let meta = match &p.metadata_size {
            Some(s) => self.size(s, "metadata_size"),
            None => Some(Bytes(2 * Bytes::GIB)),
        };
        let chunk = match &p.chunk_size {
            Some(s) => self
                .size(s, "chunk_size")
                .and_then(|b| match ChunkSize::new(b) {
                    Ok(c) => Some(c),
                    Err(m) => {
                        self.err(s.span(), m, Some("64KiB to 1GiB, a multiple of 64KiB"));
                        None
                    }
                }),
            None => ChunkSize::new(Bytes(64 * Bytes::KIB)).ok(),
        };
        if let (Some(d), Some(c)) = (data, chunk) {
            if d.0 < c.bytes().0 {
                self.err(
                    p.data_size.span(),
                    "data_size is smaller than one chunk",
                    None,
                );
            }
        }
        if let Some(m) = meta {
            if m.0 < 2 * Bytes::MIB || m.0 > 16 * Bytes::GIB {
                let span = p.metadata_size.as_ref().map(|s| s.span()).unwrap_or(sp);
                self.err(
                    span,
                    format!("metadata_size {} is outside 2MiB..16GiB", m.human()),
                    Some("dm-thin uses at most 16GiB of metadata"),
                );
            }
        }
        let lwm = match &p.low_water_mark {
            None => Some(LowWater::Blocks(32768)),
            Some(s) => match s.get_ref() {
                RawBlocksOrPct::Blocks(b) if *b >= 0 => Some(LowWater::Blocks(*b as u64)),
                RawBlocksOrPct::Text(t) => self
                    .pct(&Spanned::new(s.span(), t.clone()), "low_water_mark", 100)
                    .map(LowWater::Percent),
                RawBlocksOrPct::Blocks(_) => {
                    self.err(s.span(), "low_water_mark is negative", None);
                    None
                }
            },
        };
        let mfs = match &p.min_free_space {
            Some(s) => self.pct(s, "min_free_space", 99),
            None => Some(10),
        };
        let th = match &p.autoextend_threshold {
            Some(s) => self.int(s, "autoextend_threshold", 50, 100),
            None => Some(80),
        };
        let ap = match &p.autoextend_percent {
            Some(s) => self.int(s, "autoextend_percent", 0, 100),
            None => Some(20),
        };
        let max = match &p.max_data_size {
            Some(s) => self.size(s, "max_data_size").map(Some),
            None => Some(None),
        };
        Some(FleetPool {
            data_size: data?,
            metadata_size: meta?,
            chunk: chunk?,
            low_water_mark: lwm?,
            min_free_space_pct: mfs?,
            autoextend_threshold: th? as u8,
            autoextend_percent: ap? as u8,
            max_data_size: max?,
        })
    }

    fn timeline(&mut self, t: Option<&RawTimeline>) -> Option<Timeline> {
        let Some(t) = t else {
            return Some(Timeline {
                duration_s: 30 * DAY,
                horizon_s: 30 * DAY,
                step_s: DAY,
                write_rate_per_day: Bytes(0),
                deleted_percent: 0,
                fstrim: false,
                discard_on_delete: true,
            });
        };
        let dur = match &t.duration {
            Some(d) => self.duration(d, "duration"),
            None => Some(30 * DAY),
        };
        let horizon = match &t.horizon {
            Some(h) => self.duration(h, "horizon"),
            None => dur,
        };
        let step = match &t.step {
            Some(d) => self.duration(d, "step"),
            None => Some(DAY),
        };
        if let (Some(d), Some(s), Some(sp)) = (dur, step, &t.step) {
            if s > d || d / s > 100_000 {
                self.err(
                    sp.span(),
                    format!(
                        "{} steps: step must divide the duration into 1 to 100000",
                        d / s
                    ),
                    None,
                );
            }
        }
        let rate = match &t.write_rate {
            None => Some(Bytes(0)),
            Some(r) => match parse_rate(r.get_ref()) {
                Some(b) => Some(b),
                None => {
                    self.err(
                        r.span(),
                        format!("invalid `write_rate`: `{}`", r.get_ref()),
                        Some("a size per unit of time, like \"500MiB/d\" or \"10MiB/h\""),
                    );
                    None
                }
            },
        };
        let del = match &t.deleted_percent {
            Some(p) => self.int(p, "deleted_percent", 0, 100),
            None => Some(0),
        };
        Some(Timeline {
            duration_s: dur?,
            horizon_s: horizon?,
            step_s: step?,
            write_rate_per_day: rate?,
            deleted_percent: del? as u8,
            fstrim: t.fstrim.unwrap_or(false),
            discard_on_delete: t.discard_on_delete.unwrap_or(true),
        })
    }

    fn writes(&mut self, ws: &[Spanned<RawWrite>], what: &str) -> Option<Vec<WriteSpec>> {
        let mut out = Vec::new();
        let mut ok = true;
        for w in ws {
            match self.write(w, what) {
                Some(s) => out.push(s),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn write(&mut self, w: &Spanned<RawWrite>, what: &str) -> Option<WriteSpec> {
        let span = w.span();
        let w = w.get_ref();
        let io = match &w.io_size {
            Some(s) => self.size(s, "io_size").and_then(|b| {
                if b.0 == 0 || !b.0.is_multiple_of(512) || b.0 > 16 * Bytes::MIB {
                    self.err(
                        s.span(),
                        "io_size must be 512B..16MiB, a multiple of 512",
                        None,
                    );
                    None
                } else {
                    Some(b)
                }
            }),
            None => Some(Bytes(4 * Bytes::KIB)),
        };
        let target = match (&w.target, &w.offset) {
            (Some(t), None) => match t.get_ref().as_str() {
                "new" => Some(Target::New),
                "image" => Some(Target::Image),
                other => {
                    self.err(
                        t.span(),
                        format!("unknown target `{other}`"),
                        Some("\"new\" (fresh data) or \"image\" (overwrite the image's data: copy-on-write), or give `offset`"),
                    );
                    None
                }
            },
            (None, Some(o)) => self.size(o, "offset").map(Target::At),
            (None, None) => Some(Target::New),
            (Some(t), Some(_)) => {
                self.err(t.span(), "`target` and `offset` together", Some("use one"));
                None
            }
        };
        let amount = match (&w.bytes, &w.count) {
            (Some(b), None) => self.size(b, "bytes").and_then(|b| {
                if b.0 == 0 {
                    self.err(span.clone(), "bytes must be > 0", None);
                    None
                } else {
                    Some(Amount::Bytes(b))
                }
            }),
            (None, Some(c)) => self.int(c, "count", 1, i64::MAX).map(Amount::Count),
            _ => {
                self.err(
                    span.clone(),
                    format!("a {what} needs exactly one of `bytes` and `count`"),
                    None,
                );
                None
            }
        };
        let pattern = match w.pattern.as_ref().map(|p| (p.span(), p.get_ref().as_str())) {
            None | Some((_, "sequential")) => {
                if let Some(s) = &w.seed {
                    self.err(s.span(), "`seed` with a sequential pattern", None);
                }
                Some(Pattern::Sequential)
            }
            Some((_, "random")) => Some(Pattern::Random {
                seed: w.seed.as_ref().map(|s| *s.get_ref() as u64).unwrap_or(1),
            }),
            Some((sp, other)) => {
                self.err(
                    sp,
                    format!("unknown pattern `{other}`"),
                    Some("\"sequential\" or \"random\""),
                );
                None
            }
        };
        let span_b = match &w.span {
            Some(s) => self.size(s, "span").map(Some),
            None => Some(None),
        };
        let (io, target) = (io?, target?);
        if let Target::At(o) = target {
            if !o.0.is_multiple_of(io.0) {
                if let Some(os) = &w.offset {
                    self.err(os.span(), "offset must be a multiple of io_size", None);
                }
                return None;
            }
        }
        if let (Some(Some(s)), Some(sp)) = (span_b, &w.span) {
            if s.0 < io.0 || !s.0.is_multiple_of(io.0) {
                self.err(
                    sp.span(),
                    "span must be a multiple of io_size, ≥ one IO",
                    None,
                );
                return None;
            }
        }
        if let (Some(Amount::Bytes(b)), Some(bs)) = (amount, &w.bytes) {
            if !b.0.is_multiple_of(io.0) {
                self.err(bs.span(), "bytes must be a multiple of io_size", None);
                return None;
            }
        }
        if let (Some(Amount::Count(n)), Some(cs)) = (amount, &w.count) {
            if n.checked_mul(io.0).is_none() {
                self.err(
                    cs.span(),
                    format!(
                        "count = {n} IOs of {} overflows 64 bits of bytes",
                        io.human()
                    ),
                    Some("write less: the region a write covers must fit in its thin"),
                );
                return None;
            }
        }
        let ios = match amount {
            Some(Amount::Bytes(b)) => b.0 / io.0,
            Some(Amount::Count(n)) => n,
            None => 0,
        };
        if let (Some(Pattern::Random { .. }), true) = (pattern, ios > MAX_RANDOM_IOS) {
            let at = match (&w.count, &w.bytes) {
                (Some(c), _) => c.span(),
                (None, Some(b)) => b.span(),
                (None, None) => span.clone(),
            };
            self.err(
                at,
                format!("a random write of {ios} IOs: at most {MAX_RANDOM_IOS}"),
                Some("the planner simulates every IO of a random write; use larger IOs or a sequential pattern"),
            );
            return None;
        }
        Some(WriteSpec {
            target,
            amount: amount?,
            pattern: pattern?,
            io_size: io,
            span: span_b?,
        })
    }
}

/// Where a write's region is, given the end of its device's lineage (`hw`: first byte
/// nothing has been written at) and the end of the image's data (`image_end`).
/// Returns (offset, span); `Err` if it leaves the thin.
pub fn region(
    w: &WriteSpec,
    thin_size: Bytes,
    hw: Bytes,
    image_end: Bytes,
) -> Result<(Bytes, Bytes), String> {
    let io = w.io_size.0;
    let past = |off: u64, span: u64| {
        format!(
            "region {}..{} is past the thin's end ({})",
            Bytes(off).human(),
            off.checked_add(span)
                .map_or_else(|| "2^64".to_owned(), |e| Bytes(e).human()),
            thin_size.human()
        )
    };
    let bytes = w.ios().checked_mul(io);
    let (off, default_span) = match w.target {
        Target::New => (hw.0.div_ceil(io).checked_mul(io), bytes),
        Target::Image => (Some(0), Some((image_end.0 / io * io).max(io))),
        Target::At(o) => (Some(o.0), bytes),
    };
    let off = off.ok_or_else(|| past(hw.0, io))?;
    let span = w
        .span
        .map(|s| s.0)
        .or(default_span)
        .ok_or_else(|| past(off, u64::MAX))?
        .max(io);
    if off.checked_add(span).is_none_or(|end| end > thin_size.0) {
        return Err(past(off, span));
    }
    Ok((Bytes(off), Bytes(span)))
}

/// A lineage's end after a write at `[o, o+s)`: only new data moves it (overwrites and
/// writes at explicit offsets land among what is there).
pub fn advance(w: &WriteSpec, hw: Bytes, o: Bytes, s: Bytes) -> Bytes {
    match w.target {
        Target::New => hw.max(Bytes(o.0 + s.0)),
        Target::Image | Target::At(_) => hw,
    }
}

/// The lineage end after `writes`, starting from `hw`.
fn lineage_end(
    f: &Fleet,
    writes: &[WriteSpec],
    mut hw: Bytes,
    image_end: Bytes,
) -> Result<Bytes, String> {
    for w in writes {
        let (o, s) = region(w, f.thin_size, hw, image_end)?;
        hw = advance(w, hw, o, s);
    }
    Ok(hw)
}

/// `"90d"`, `"6h"`, `"30m"`, `"45s"`, `"2w"` → seconds.
pub fn parse_duration(s: &str) -> Option<u64> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit())?;
    let (n, u) = t.split_at(split);
    let n: u64 = n.parse().ok()?;
    let m = match u.trim() {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => DAY,
        "w" => 7 * DAY,
        _ => return None,
    };
    n.checked_mul(m)
}

/// `"500MiB/d"` → bytes per day.
pub fn parse_rate(s: &str) -> Option<Bytes> {
    let (size, per) = s.split_once('/')?;
    let b = Bytes::parse_human(size).ok()?;
    let per = parse_duration(&format!("1{}", per.trim()))?;
    Some(Bytes(
        (u128::from(b.0) * u128::from(DAY) / u128::from(per)) as u64,
    ))
}

#[cfg(test)]
mod keys_tests;
#[cfg(test)]
mod tests;
