//! The plan format (`docs/plan-format.md`): TOML read into raw tables with positions
//! (`raw`, on the spanned tree the scenario reader uses), then validated into a
//! [`Fleet`]. Every mistake in the file is collected, unknown keys and wrong types as
//! much as bad values, and reported as `FILE:LINE:COL: error: ...` plus a hint, like
//! scenario files; sizes and durations are the one grammar of
//! `thinbench_schema::grammar`.

mod raw;

mod keys;

pub use keys::keys;

use std::ops::Range;
use std::path::Path;

use raw::{RawImage, RawPlan, RawPool, RawTimeline, RawWrite};
use serde_spanned::Spanned;
use thinbench_schema::grammar;
use thinbench_schema::positioned::{suggest, Diagnostic, LineIndex, Positioned};
use thinbench_schema::toml_tree::{self, IntOrText};
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

// ---------------------------------------------------------------------------------------// Loading

/// Reads and validates the plan at `path`. A file that cannot be read, or is not UTF-8,
/// gives one error (positioned at the first byte that is not UTF-8).
pub fn load_fleet(path: &Path) -> Result<Fleet, PlanErrors> {
    let text = toml_tree::read_input(path, "plan files are UTF-8 TOML (docs/plan-format.md)")
        .map_err(|e| PlanErrors { errors: vec![e] })?;
    load_fleet_str(path, &text)
}

/// Validates plan `text`; errors name `path`, whose stem is the default name. Every
/// mistake is reported, in file order: unknown keys (with a did-you-mean and the valid
/// keys), wrong types, missing keys, bad values and their bounds.
pub fn load_fleet_str(path: &Path, text: &str) -> Result<Fleet, PlanErrors> {
    let index = LineIndex::new(text);
    let fail = |mut diags: Vec<Diagnostic>| {
        diags.sort_by_key(|d| d.span.start);
        diags.dedup();
        PlanErrors {
            errors: index.errors(path, diags),
        }
    };
    let tree = toml_tree::parse(text, "plan files").map_err(|d| {
        fail(vec![
            d.with_hint("the plan format is in docs/plan-format.md")
        ])
    })?;
    if raw::looks_like_scenario(&tree) {
        return Err(fail(vec![Diagnostic::new(
            0..0,
            "this is a scenario file (it has [[pool]] or [[step]] tables), not a plan",
        )
        .with_hint(
            "run it with `thinbench run FILE` or check it with `thinbench validate FILE`; plans (docs/plan-format.md) go to `thinbench plan`",
        )]));
    }
    let mut diags = Vec::new();
    let raw = RawPlan::from_tree(&tree, &mut diags);
    let mut v = Validator { diags };
    let fleet = v.plan(&raw, path);
    match fleet {
        Some(f) if v.diags.is_empty() => Ok(f),
        _ if v.diags.is_empty() => Err(fail(vec![Diagnostic::new(
            0..0,
            "internal error: no plan and no reason",
        )])),
        _ => Err(fail(v.diags)),
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

    /// A size in the one grammar (`thinbench_schema::grammar`): a string, or an integer
    /// of bytes.
    fn size(&mut self, s: &Spanned<IntOrText>, what: &str) -> Option<Bytes> {
        match s.get_ref() {
            IntOrText::Int(i) => match u64::try_from(*i) {
                Ok(b) => Some(Bytes(b)),
                Err(_) => {
                    self.err(
                        s.span(),
                        format!("`{what}` must not be negative, not {i}"),
                        Some(grammar::SIZE_HINT),
                    );
                    None
                }
            },
            IntOrText::Text(t) => match grammar::parse_size(t) {
                Ok(b) => Some(b),
                Err(e) => {
                    self.diags.push(e.diagnostic(s.span(), what));
                    None
                }
            },
        }
    }

    fn pct(&mut self, s: &Spanned<String>, what: &str, max: u8) -> Option<u8> {
        let t = s.get_ref().trim();
        let n = t
            .strip_suffix('%')
            .and_then(|n| n.trim().parse::<u64>().ok());
        match n {
            Some(p) if p <= u64::from(max) => Some(p as u8),
            Some(p) => {
                self.err(
                    s.span(),
                    format!("`{what}` must be 0% to {max}%, not {p}%"),
                    Some(&format!("a percentage \"N%\" from 0% to {max}%")),
                );
                None
            }
            None => {
                self.err(
                    s.span(),
                    format!("invalid `{what}`: `{t}` is not a percentage"),
                    Some(&format!(
                        "a whole percentage \"N%\" from 0% to {max}%, like \"10%\""
                    )),
                );
                None
            }
        }
    }

    fn int(&mut self, s: &Spanned<i64>, what: &str, lo: i64, hi: i64) -> Option<u64> {
        let v = *s.get_ref();
        if v < lo || v > hi {
            let bound = if hi == i64::MAX {
                format!("at least {lo}")
            } else {
                format!("{lo} to {hi}")
            };
            self.err(s.span(), format!("`{what}` must be {bound}, not {v}"), None);
            None
        } else {
            Some(v as u64)
        }
    }

    /// A duration in whole seconds, above zero.
    fn duration(&mut self, s: &Spanned<String>, what: &str) -> Option<u64> {
        match grammar::parse_duration(s.get_ref()) {
            Err(e) => {
                self.diags.push(e.diagnostic(s.span(), what));
                None
            }
            Ok(d) if d.is_zero() => {
                self.err(
                    s.span(),
                    format!("`{what}` must be above zero, not `{}`", s.get_ref()),
                    Some("the planner steps in whole seconds: at least \"1s\", like \"6h\" or \"1d\""),
                );
                None
            }
            Ok(d) if d.subsec_nanos() != 0 => {
                self.err(
                    s.span(),
                    format!(
                        "`{what}` must be whole seconds, not {}",
                        grammar::format_duration(d)
                    ),
                    Some("the planner steps in whole seconds: at least \"1s\""),
                );
                None
            }
            Ok(d) => Some(d.as_secs()),
        }
    }

    fn plan(&mut self, r: &RawPlan, path: &Path) -> Option<Fleet> {
        if let Some(f) = &r.format {
            if *f.get_ref() != 1 {
                self.err(
                    f.span(),
                    format!("unsupported plan format {}", f.get_ref()),
                    Some("this thinbench reads format = 1"),
                );
                return None;
            }
        }
        let name = match &r.name {
            Some(n) => n.get_ref().clone(),
            None => path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "plan".into()),
        };
        let pool = r.pool.as_ref().and_then(|p| self.pool(p));
        let (thin_size, base_writes) = match &r.base {
            Some(b) => {
                let size = match &b.size {
                    Some(s) => self.size(s, "base.size"),
                    None => Some(Bytes(10 * Bytes::GIB)),
                };
                let writes = self.writes(&b.write, "base.write");
                (size, writes.filter(|_| b.writes_ok))
            }
            None => (Some(Bytes(10 * Bytes::GIB)), Some(Vec::new())),
        };
        if r.image.is_empty() {
            let at = r
                .pool
                .as_ref()
                .map_or(r.span.start..r.span.start, |p| p.span.clone());
            self.err(
                at,
                "no [[image]]: a plan needs at least one image",
                Some("add [[image]] with name, containers and [[image.layer]] tables"),
            );
        }
        let mut images = Vec::new();
        let mut names: Vec<String> = Vec::new();
        for im in &r.image {
            if let Some(i) = self.image(im, &mut names) {
                images.push(i);
            }
        }
        let tl = self.timeline(r.timeline.as_ref());
        let fleet = Fleet {
            name,
            description: r.description.as_ref().map(|d| d.get_ref().clone()),
            pool: pool?,
            thin_size: thin_size?,
            base_writes: base_writes?,
            images,
            timeline: tl?,
        };
        if fleet.images.len() != r.image.len() || !self.diags.is_empty() {
            return None;
        }
        self.extents(&fleet, r);
        if self.diags.is_empty() {
            Some(fleet)
        } else {
            None
        }
    }

    fn image(&mut self, im: &RawImage, names: &mut Vec<String>) -> Option<ImageSpec> {
        let span = im.span.clone();
        let n = im.name.as_ref().map(|n| n.get_ref().clone());
        if let (Some(n), Some(ns)) = (&n, &im.name) {
            if names.contains(n) {
                self.err(
                    ns.span(),
                    format!("image `{n}` is defined twice"),
                    Some("image names are unique"),
                );
            }
            names.push(n.clone());
        }
        let shown = n.clone().unwrap_or_else(|| "?".into());
        let containers = match &im.containers {
            Some(c) => self.int(c, "containers", 0, 1 << 24),
            None => Some(0),
        };
        if im.layer.is_empty() {
            self.err(
                span.clone(),
                format!("image `{shown}` has no [[image.layer]]"),
                Some("each layer is a table with at least `bytes` or `count`"),
            );
        }
        let layers = self.writes(&im.layer, "image.layer");
        let cw = self.writes(&im.container_write, "image.container_write");
        let churn = im.churn.as_ref().and_then(|c| {
            let every = c
                .every
                .as_ref()
                .and_then(|e| self.duration(e, "churn.every"));
            let replace = c
                .replace
                .as_ref()
                .and_then(|r| self.int(r, "churn.replace", 0, 1 << 24));
            Some(Churn {
                every_s: every?,
                replace: replace?,
            })
        });
        if let (Some(ch), Some(c)) = (&churn, containers) {
            if ch.replace > c {
                if let Some(rc) = im.churn.as_ref().and_then(|c| c.replace.as_ref()) {
                    self.err(
                        rc.span(),
                        format!(
                            "churn replaces {} containers but image `{shown}` has {c}",
                            ch.replace
                        ),
                        Some("`replace` is at most the image's `containers`"),
                    );
                }
            }
        }
        if im.churn.is_some() && churn.is_none() {
            return None;
        }
        Some(ImageSpec {
            name: n?,
            layers: layers.filter(|_| im.writes_ok)?,
            containers: containers?,
            container_writes: cw?,
            churn,
        })
    }

    /// Every write must stay inside a thin: walk the lineages as the simulation will.
    fn extents(&mut self, f: &Fleet, r: &RawPlan) {
        let base_hw = match lineage_end(f, &f.base_writes, Bytes(0), Bytes(0)) {
            Ok(h) => h,
            Err(m) => {
                let span = r.pool.as_ref().map_or(0..0, |p| p.span.clone());
                self.err(span, format!("base writes: {m}"), None);
                return;
            }
        };
        for (im, raw) in f.images.iter().zip(&r.image) {
            let img_hw = match lineage_end(f, &im.layers, base_hw, base_hw) {
                Ok(h) => h,
                Err(m) => {
                    self.err(
                        raw.span.clone(),
                        format!("image `{}` layers: {m}", im.name),
                        None,
                    );
                    continue;
                }
            };
            if let Err(m) = lineage_end(f, &im.container_writes, img_hw, img_hw) {
                self.err(
                    raw.span.clone(),
                    format!("image `{}` container writes: {m}", im.name),
                    Some("raise [base] size (Docker's dm.basesize) or write less"),
                );
            }
        }
    }

    fn pool(&mut self, p: &RawPool) -> Option<FleetPool> {
        let sp = p.span.clone();
        let data = p.data_size.as_ref().and_then(|s| self.size(s, "data_size"));
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
        if let (Some(d), Some(c), Some(ds)) = (data, chunk, &p.data_size) {
            if d.0 < c.bytes().0 {
                self.err(
                    ds.span(),
                    format!(
                        "`data_size` must be at least one chunk ({}), not {}",
                        c.bytes().human(),
                        d.human()
                    ),
                    None,
                );
            }
        }
        if let Some(m) = meta {
            if m.0 < 2 * Bytes::MIB || m.0 > 16 * Bytes::GIB {
                let span = p.metadata_size.as_ref().map(|s| s.span()).unwrap_or(sp);
                self.err(
                    span,
                    format!("`metadata_size` must be 2MiB to 16GiB, not {}", m.human()),
                    Some("dm-thin uses at most 16GiB of metadata"),
                );
            }
        }
        let lwm = match &p.low_water_mark {
            None => Some(LowWater::Blocks(32768)),
            Some(s) => match s.get_ref() {
                IntOrText::Int(b) if *b >= 0 => Some(LowWater::Blocks(*b as u64)),
                IntOrText::Text(t) => self
                    .pct(&Spanned::new(s.span(), t.clone()), "low_water_mark", 100)
                    .map(LowWater::Percent),
                IntOrText::Int(b) => {
                    self.err(
                        s.span(),
                        format!("`low_water_mark` must not be negative, not {b}"),
                        Some("a count of data blocks (0 or more) or a percentage like \"10%\""),
                    );
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
                    Some("a step at most the duration, and at least 1/100000 of it"),
                );
            }
        }
        let rate = match &t.write_rate {
            None => Some(Bytes(0)),
            Some(r) => match grammar::parse_rate(r.get_ref()) {
                Ok((b, per)) => Some(per_day(b, per)),
                Err(e) => {
                    self.diags.push(e.diagnostic(r.span(), "write_rate"));
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
            fstrim: t.fstrim.as_ref().is_some_and(|b| *b.get_ref()),
            discard_on_delete: t.discard_on_delete.as_ref().is_none_or(|b| *b.get_ref()),
        })
    }

    fn writes(&mut self, ws: &[RawWrite], what: &str) -> Option<Vec<WriteSpec>> {
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

    fn write(&mut self, w: &RawWrite, what: &str) -> Option<WriteSpec> {
        let span = w.span.clone();
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
                    let mut hint = String::new();
                    if let Some(s) = suggest(other, &["new", "image"]) {
                        hint.push_str(&format!("did you mean \"{s}\"? "));
                    }
                    hint.push_str("\"new\" (fresh data) or \"image\" (overwrite the image's data: copy-on-write), or give `offset`");
                    self.err(t.span(), format!("unknown target `{other}`"), Some(&hint));
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
            // One of them, of the wrong type: reported already.
            (None, None) if w.amount_keys == 1 => None,
            _ => {
                self.err(
                    span.clone(),
                    format!("each {what} needs exactly one of `bytes` and `count`"),
                    Some("`bytes = \"64MiB\"` (a multiple of io_size) or `count = 100` (IOs)"),
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
                let hint = match suggest(other, &["sequential", "random"]) {
                    Some(s) => {
                        format!("did you mean \"{s}\"? patterns: \"sequential\" or \"random\"")
                    }
                    None => "\"sequential\" or \"random\"".to_owned(),
                };
                self.err(sp, format!("unknown pattern `{other}`"), Some(&hint));
                None
            }
        };
        let span_b = match &w.span_ {
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
        if let (Some(Some(s)), Some(sp)) = (span_b, &w.span_) {
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

/// `b` bytes per `per` as bytes per day (rounded down).
fn per_day(b: Bytes, per: std::time::Duration) -> Bytes {
    let per_ns = per.as_nanos().max(1);
    let day_ns = u128::from(DAY) * 1_000_000_000;
    Bytes(u64::try_from(u128::from(b.0) * day_ns / per_ns).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod keys_tests;
#[cfg(test)]
mod tests;
