//! Reading `ci/gate.toml`: text → TOML document with spans (toml_edit) → validated
//! [`GateConfig`]. Parse, then validate every key, collecting every mistake with its
//! position before giving up, so a user fixes the file in one pass.

use std::ops::Range;
use std::path::Path;

use thinbench_schema::keys::KeySet;
use thinbench_schema::positioned::fold_lines;
use thinbench_schema::record::Better;
use toml_edit::{ImDocument, Item, Key, TableLike, Value};

use super::error::{suggest, ConfigErrors, Diagnostic, LineIndex};
use super::keys::{CONFIG_FORMAT, DEFAULT_KEYS, MATCH_KEYS, RULE_KEYS, TOP_KEYS};
use super::model::{
    ExactPolicy, Floor, GateConfig, Glob, Globs, KindOverride, Matcher, MissingPolicy, Overrides,
    Ratio, Rule, Settings,
};
use crate::stats::smallest_p;
use crate::verdict::Decision;

/// The keys of a `[[rule]]` that change settings (the rest choose figures).
fn set_keys() -> Vec<&'static str> {
    let all = RULE_KEYS.all();
    all.into_iter()
        .filter(|k| !MATCH_KEYS.contains(k))
        .collect()
}

/// Read and validate the config at `path`.
pub fn load_config(path: &Path) -> Result<GateConfig, ConfigErrors> {
    let text = thinbench_schema::toml_tree::read_input(path, "the gate config is UTF-8 TOML")
        .map_err(|e| ConfigErrors { errors: vec![e] })?;
    parse_config(path, &text)
}

/// Validate config `text`; errors name `path`.
pub fn parse_config(path: &Path, text: &str) -> Result<GateConfig, ConfigErrors> {
    let index = LineIndex::new(text);
    let fail = |diags: Vec<Diagnostic>| ConfigErrors {
        errors: index.errors(path, diags),
    };
    let doc = ImDocument::parse(text.to_owned()).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        let msg = fold_lines(e.message());
        fail(vec![Diagnostic::new(span, format!("invalid TOML: {msg}"))])
    })?;
    let mut r = Reader {
        index: &index,
        diags: Vec::new(),
    };
    let cfg = r.config(doc.as_table(), path);
    if r.diags.is_empty() {
        Ok(cfg)
    } else {
        Err(fail(r.diags))
    }
}

struct Reader<'t> {
    index: &'t LineIndex<'t>,
    diags: Vec<Diagnostic>,
}

fn key_span(k: &Key, item: &Item) -> Range<usize> {
    k.span().or_else(|| item.span()).unwrap_or(0..0)
}

fn item_span(k: &Key, item: &Item) -> Range<usize> {
    item.span().or_else(|| k.span()).unwrap_or(0..0)
}

impl Reader<'_> {
    fn err(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// Report keys of `t` that `keys` does not describe, with a suggestion.
    fn unknown_keys(&mut self, t: &dyn TableLike, keys: &KeySet) {
        let (known, table) = (keys.all(), keys.table);
        for (k, item) in t.iter() {
            if known.contains(&k) {
                continue;
            }
            let span = t
                .get_key_value(k)
                .map(|(key, it)| key_span(key, it))
                .or_else(|| item.span())
                .unwrap_or(0..0);
            // As scenario and plan files say it: the likely key, then every valid one.
            let valid = format!("valid keys in {table}: {}", known.join(", "));
            let hint = match suggest(k, &known) {
                Some(s) => format!("did you mean `{s}`? {valid}"),
                None => valid,
            };
            self.err(
                Diagnostic::new(span, format!("unknown key `{k}` in {table}")).with_hint(hint),
            );
        }
    }

    fn config(&mut self, top: &toml_edit::Table, path: &Path) -> GateConfig {
        self.unknown_keys(top, &TOP_KEYS);
        match top.get_key_value("format") {
            None => self.err(
                Diagnostic::new(0..0, "missing `format`")
                    .with_hint(format!("start the file with `format = {CONFIG_FORMAT}`")),
            ),
            Some((k, item)) => match item.as_integer() {
                Some(CONFIG_FORMAT) => {}
                Some(n) => self.err(
                    Diagnostic::new(item_span(k, item), format!("format {n} is not known"))
                        .with_hint(format!(
                            "this thinbench reads gate config format {CONFIG_FORMAT}"
                        )),
                ),
                None => self.err(Diagnostic::new(
                    item_span(k, item),
                    "`format` must be an integer",
                )),
            },
        }
        let mut defaults = Settings::default();
        if let Some((k, item)) = top.get_key_value("defaults") {
            match item.as_table_like() {
                Some(t) => self.defaults(t, &mut defaults),
                None => self.err(Diagnostic::new(
                    item_span(k, item),
                    "`defaults` must be a table: [defaults]",
                )),
            }
        }
        let mut rules = Vec::new();
        if let Some((k, item)) = top.get_key_value("rule") {
            match item {
                Item::ArrayOfTables(aot) => {
                    for t in aot.iter() {
                        let span = t.span().unwrap_or_else(|| key_span(k, item));
                        if let Some(r) = self.rule(t, span, &defaults) {
                            rules.push(r);
                        }
                    }
                }
                _ => self.err(
                    Diagnostic::new(item_span(k, item), "`rule` must be an array of tables")
                        .with_hint("write each rule as a [[rule]] table"),
                ),
            }
        }
        GateConfig {
            source: Some(path.to_path_buf()),
            defaults,
            rules,
        }
    }

    fn defaults(&mut self, t: &dyn TableLike, d: &mut Settings) {
        self.unknown_keys(t, &DEFAULT_KEYS);
        for (name, _) in t.iter() {
            let Some((k, item)) = t.get_key_value(name) else {
                continue;
            };
            let span = item_span(k, item);
            match name {
                "min_samples" => {
                    if let Some(n) = self.min_samples(item, span.clone(), None) {
                        d.min_samples = n;
                    }
                }
                "alpha" => {
                    if let Some(a) = self.float_in(item, span, "alpha", 0.0, 0.5, false) {
                        d.alpha = a;
                    }
                }
                "confidence" => {
                    if let Some(c) = self.float_in(item, span, "confidence", 0.5, 1.0, false) {
                        d.confidence = c;
                    }
                }
                "resamples" => match item.as_integer() {
                    Some(n) if (100..=1_000_000).contains(&n) => d.resamples = n as u32,
                    Some(n) => self.err(
                        Diagnostic::new(span, format!("resamples = {n} is out of range"))
                            .with_hint("use 100 to 1000000 (2000 is plenty for a 95 % interval)"),
                    ),
                    None => self.err(Diagnostic::new(span, "`resamples` must be an integer")),
                },
                "seed" => match item.as_integer() {
                    Some(n) if n >= 0 => d.seed = n as u64,
                    _ => self.err(Diagnostic::new(
                        span,
                        "`seed` must be a non-negative integer",
                    )),
                },
                "noise" => {
                    if let Some(r) = self.ratio(item, span, "noise", false) {
                        d.noise = r;
                    }
                }
                "max_ci_width" => {
                    if let Some(r) = self.ratio(item, span, "max_ci_width", true) {
                        d.max_ci_width = r;
                    }
                }
                "floor" => {
                    if let Some(f) = self.floor(item, span) {
                        d.floor = f;
                    }
                }
                "decision" => match item.as_str() {
                    Some("significant") => d.decision = Decision::Significant,
                    Some("beyond-noise") => d.decision = Decision::BeyondNoise,
                    _ => self.err(
                        Diagnostic::new(span, "`decision` must be \"significant\" or \"beyond-noise\"")
                            .with_hint("\"beyond-noise\": the whole interval past the noise threshold (fewer false alarms, less power)"),
                    ),
                },
                "exact" => {
                    if let Some(e) = self.exact(item, span) {
                        d.exact = e;
                    }
                }
                "missing" => match item.as_str() {
                    Some("fail") => d.missing = MissingPolicy::Fail,
                    Some("ignore") => d.missing = MissingPolicy::Ignore,
                    _ => self.err(
                        Diagnostic::new(span, "`missing` must be \"fail\" or \"ignore\"")
                            .with_hint("what a figure in the baseline but not in the candidate means"),
                    ),
                },
                _ => {}
            }
        }
        // Checked once both are known: min_samples may come before alpha in the file.
        if let Some((k, item)) = t.get_key_value("min_samples") {
            self.reachable(d.min_samples, d.alpha, item_span(k, item));
        } else if let Some((k, item)) = t.get_key_value("alpha") {
            self.reachable(d.min_samples, d.alpha, item_span(k, item));
        }
    }

    /// A test that can never reach significance would make every timing verdict
    /// "unchanged" or "too noisy": refuse the setting instead of a silent blind spot.
    fn reachable(&mut self, n: usize, alpha: f64, span: Range<usize>) -> bool {
        if n >= 2 && smallest_p(n, n) >= alpha {
            let need = (2..=50).find(|&m| smallest_p(m, m) < alpha).unwrap_or(50);
            self.err(
                Diagnostic::new(
                    span,
                    format!(
                        "with {n} samples a side the Mann-Whitney test can never reach p < {alpha} \
                         (smallest possible p = {:.3}): no regression could ever be detected",
                        smallest_p(n, n)
                    ),
                )
                .with_hint(format!("use min_samples = {need} or more")),
            );
            return false;
        }
        true
    }

    fn min_samples(
        &mut self,
        item: &Item,
        span: Range<usize>,
        alpha: Option<f64>,
    ) -> Option<usize> {
        match item.as_integer() {
            Some(n) if (2..=10_000).contains(&n) => {
                let n = n as usize;
                match alpha {
                    Some(a) if !self.reachable(n, a, span) => None,
                    _ => Some(n),
                }
            }
            Some(n) => {
                self.err(
                    Diagnostic::new(span, format!("min_samples = {n} is out of range"))
                        .with_hint("a median and its interval need at least 2 samples a side; 5 is the default"),
                );
                None
            }
            None => {
                self.err(Diagnostic::new(span, "`min_samples` must be an integer"));
                None
            }
        }
    }

    fn float_in(
        &mut self,
        item: &Item,
        span: Range<usize>,
        name: &str,
        lo: f64,
        hi: f64,
        hi_inclusive: bool,
    ) -> Option<f64> {
        let v = item
            .as_float()
            .or_else(|| item.as_integer().map(|i| i as f64));
        match v {
            Some(x) if x > lo && (x < hi || (hi_inclusive && x == hi)) => Some(x),
            Some(x) => {
                self.err(Diagnostic::new(
                    span,
                    format!("{name} = {x} must lie between {lo} and {hi}"),
                ));
                None
            }
            None => {
                self.err(Diagnostic::new(span, format!("`{name}` must be a number")));
                None
            }
        }
    }

    fn ratio(
        &mut self,
        item: &Item,
        span: Range<usize>,
        name: &str,
        nonzero: bool,
    ) -> Option<Ratio> {
        let parsed = item.as_str().and_then(|s| {
            let n = s.trim().strip_suffix('%')?.trim();
            n.parse::<f64>().ok().filter(|x| x.is_finite())
        });
        match parsed {
            Some(p) if (0.0..1000.0).contains(&p) && !(nonzero && p == 0.0) => {
                Some(Ratio(p / 100.0))
            }
            Some(p) => {
                self.err(
                    Diagnostic::new(span, format!("{name} = {p}% is out of range")).with_hint(
                        if nonzero {
                            "use a percentage above 0%"
                        } else {
                            "use a percentage from 0% to below 1000%"
                        },
                    ),
                );
                None
            }
            None => {
                self.err(
                    Diagnostic::new(span, format!("`{name}` must be a percentage string"))
                        .with_hint(format!("write it like {name} = \"5%\"")),
                );
                None
            }
        }
    }

    fn floor(&mut self, item: &Item, span: Range<usize>) -> Option<Floor> {
        if let Some(x) = item
            .as_float()
            .or_else(|| item.as_integer().map(|i| i as f64))
        {
            if x >= 0.0 && x.is_finite() {
                return Some(Floor::Value(x));
            }
            self.err(Diagnostic::new(span, "`floor` must not be negative"));
            return None;
        }
        if let Some(s) = item.as_str() {
            match thinbench_schema::grammar::parse_duration(s) {
                Ok(d) => return Some(Floor::Duration(d)),
                Err(e) => {
                    self.err(e.diagnostic(span, "floor"));
                    return None;
                }
            }
        }
        self.err(
            Diagnostic::new(
                span,
                "`floor` must be a number (in the figure's unit) or a duration",
            )
            .with_hint("like floor = 3 (blocks, IOPS, …) or floor = \"50us\" (ns, us, ms, s)"),
        );
        None
    }

    fn exact(&mut self, item: &Item, span: Range<usize>) -> Option<ExactPolicy> {
        match item.as_str() {
            Some("changed") => Some(ExactPolicy::Changed),
            Some("directional") => Some(ExactPolicy::Directional),
            _ => {
                self.err(
                    Diagnostic::new(span, "`exact` must be \"changed\" or \"directional\"")
                        .with_hint("\"changed\": any difference fails; \"directional\": judged by the figure's direction"),
                );
                None
            }
        }
    }

    /// A glob, or an array of globs (any matches).
    fn globs(&mut self, item: &Item, span: Range<usize>, name: &str) -> Option<Globs> {
        let one = |v: &Value| {
            v.as_str()
                .filter(|s| !s.is_empty())
                .map(|s| Glob(s.to_owned()))
        };
        let parsed = match item.as_value() {
            Some(Value::Array(a)) if !a.is_empty() => {
                a.iter().map(one).collect::<Option<Vec<Glob>>>()
            }
            Some(v) => one(v).map(|g| vec![g]),
            None => None,
        };
        if parsed.is_none() {
            self.err(
                Diagnostic::new(
                    span,
                    format!("`{name}` must be a glob or an array of globs"),
                )
                .with_hint("non-empty strings: `*` matches anything, `?` one character"),
            );
        }
        parsed.map(Globs)
    }

    fn rule(
        &mut self,
        t: &toml_edit::Table,
        span: Range<usize>,
        defaults: &Settings,
    ) -> Option<Rule> {
        self.unknown_keys(t, &RULE_KEYS);
        let before = self.diags.len();
        let mut matcher = Matcher::default();
        let mut set = Overrides::default();
        let mut any_match = false;
        let mut any_set = false;
        for (name, _) in t.iter() {
            let Some((k, item)) = t.get_key_value(name) else {
                continue;
            };
            let vspan = item_span(k, item);
            any_match |= MATCH_KEYS.contains(&name);
            any_set |= !MATCH_KEYS.contains(&name) && RULE_KEYS.key(name).is_some();
            match name {
                "figure" => matcher.figure = self.globs(item, vspan, name),
                "case" => matcher.case = self.globs(item, vspan, name),
                "step" => matcher.step = self.globs(item, vspan, name),
                "action" => matcher.action = self.globs(item, vspan, name),
                "clock" => matcher.clock = self.globs(item, vspan, name),
                "kind" => {
                    set.kind = match item.as_str() {
                        Some("exact") => Some(KindOverride::Exact),
                        Some("timing") => Some(KindOverride::Timing),
                        Some("ignore") => Some(KindOverride::Ignore),
                        _ => {
                            self.err(Diagnostic::new(
                                vspan,
                                "`kind` must be \"exact\", \"timing\" or \"ignore\"",
                            ));
                            None
                        }
                    }
                }
                "better" => {
                    set.better = match item.as_str() {
                        Some("lower") => Some(Better::Lower),
                        Some("higher") => Some(Better::Higher),
                        Some("neither") => Some(Better::Neither),
                        _ => {
                            self.err(Diagnostic::new(
                                vspan,
                                "`better` must be \"lower\", \"higher\" or \"neither\"",
                            ));
                            None
                        }
                    }
                }
                "noise" => set.noise = self.ratio(item, vspan, name, false),
                "max_ci_width" => set.max_ci_width = self.ratio(item, vspan, name, true),
                "floor" => set.floor = self.floor(item, vspan),
                "min_samples" => {
                    set.min_samples = self.min_samples(item, vspan, Some(defaults.alpha))
                }
                "exact" => set.exact = self.exact(item, vspan),
                _ => {}
            }
        }
        if !any_match {
            self.err(
                Diagnostic::new(span.clone(), "this rule matches every figure")
                    .with_hint("give figure, case, step or action (globs); settings for every figure go in [defaults]"),
            );
        }
        if !any_set {
            self.err(
                Diagnostic::new(span.clone(), "this rule changes nothing")
                    .with_hint(format!("set one of: {}", set_keys().join(", "))),
            );
        }
        if self.diags.len() > before {
            return None;
        }
        let (line, col) = self.index.position(span.start);
        Some(Rule {
            line,
            col,
            matcher,
            set,
        })
    }
}
