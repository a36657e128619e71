//! The keys of the gate config, table by table: what [`super::parse`] checks unknown keys
//! against and what `thinbench schema gate` turns into a JSON Schema (docs/gate.md).

use thinbench_schema::keys::{Key, KeySet, Ty};

/// The config format this thinbench reads.
pub const CONFIG_FORMAT: i64 = 1;

const NOISE: Key = Key::new(
    "noise",
    Ty::Percent,
    "A significant change smaller than this is noise, 0% to below 1000% (default \"5%\").",
);
const MAX_CI_WIDTH: Key = Key::new(
    "max_ci_width",
    Ty::Percent,
    "No significant change and a wider interval than this: \"too noisy\" (default \"50%\").",
);
const FLOOR: Key = Key::new(
    "floor",
    Ty::NumberOrDuration,
    "Absolute change below which nothing counts: a number in the figure's unit, or a duration like \"50us\" (default 0).",
);
const MIN_SAMPLES: Key = Key::new(
    "min_samples",
    Ty::Int {
        min: Some(2),
        max: Some(10_000),
    },
    "Samples a side for a timing verdict, 2 to 10000; the Mann-Whitney test must be able to reach p < alpha (default 5).",
)
.example("5");
const EXACT: Key = Key::new(
    "exact",
    Ty::Enum(&["changed", "directional"]),
    "Exact figures: \"changed\" (any difference fails, the default) or \"directional\" (judged by the figure's direction).",
);

/// `[defaults]`: settings for every figure.
pub(crate) const DEFAULT_KEYS: KeySet = KeySet {
    table: "[defaults]",
    doc: "Settings for every figure; [[rule]]s override them for the figures they match.",
    tag: None,
    common: &[
        MIN_SAMPLES,
        Key::new(
            "alpha",
            Ty::Number { min: 0.0, max: 0.5 },
            "Significance level of the two-sided Mann-Whitney U test, above 0 and below 0.5 (default 0.05).",
        )
        .example("0.05"),
        Key::new(
            "confidence",
            Ty::Number { min: 0.5, max: 1.0 },
            "Level of the bootstrap interval of the median's relative change, above 0.5 and below 1 (default 0.95).",
        ),
        Key::new(
            "resamples",
            Ty::Int {
                min: Some(100),
                max: Some(1_000_000),
            },
            "Bootstrap resamples, 100 to 1000000 (default 2000).",
        ),
        Key::new(
            "seed",
            Ty::Int {
                min: Some(0),
                max: None,
            },
            "Bootstrap seed: same inputs, same interval (default 1).",
        ),
        NOISE,
        MAX_CI_WIDTH,
        FLOOR,
        Key::new(
            "decision",
            Ty::Enum(&["significant", "beyond-noise"]),
            "When a change counts: \"beyond-noise\" (the whole interval past the noise threshold, the default) or \"significant\" (the interval excludes 0).",
        ),
        EXACT,
        Key::new(
            "missing",
            Ty::Enum(&["fail", "ignore"]),
            "A figure the baseline has and the candidate lacks: \"fail\" (default) or \"ignore\".",
        ),
    ],
    variants: &[],
};

/// The keys of a `[[rule]]` that choose figures; the others change settings.
pub(crate) const MATCH_KEYS: &[&str] = &["figure", "case", "step", "action", "clock"];

const fn matcher(name: &'static str, doc: &'static str) -> Key {
    Key::new(name, Ty::OneOrMany, doc)
}

/// `[[rule]]`: figures chosen by glob, and what changes for them.
pub(crate) const RULE_KEYS: KeySet = KeySet {
    table: "[[rule]]",
    doc: "Settings for the figures it matches (every glob given must match); later rules win.",
    tag: None,
    common: &[
        matcher(
            "figure",
            "Figure names: a glob or an array of globs (`*` anything, `?` one character).",
        ),
        matcher(
            "case",
            "Case ids (scenario/pool): a glob or an array of globs.",
        ),
        matcher("step", "Step names: a glob or an array of globs."),
        matcher("action", "Step actions: a glob or an array of globs."),
        matcher(
            "clock",
            "The clock the timings were taken on, as the environment fingerprint names it (\"wall\", \"instructions (shift 4)\"): a glob or an array of globs.",
        ),
        Key::new(
            "kind",
            Ty::Enum(&["exact", "timing", "ignore"]),
            "Judge the figures as exact counts, as timings (statistics), or not at all.",
        ),
        Key::new(
            "better",
            Ty::Enum(&["lower", "higher", "neither"]),
            "Which direction is an improvement.",
        ),
        NOISE,
        MAX_CI_WIDTH,
        FLOOR,
        MIN_SAMPLES,
        EXACT,
    ],
    variants: &[],
};

/// The top level of the gate config.
pub(crate) const TOP_KEYS: KeySet = KeySet {
    table: "the top level",
    doc: "thinbench's CI gate config: how a candidate's runs are judged against the baseline (docs/gate.md).",
    tag: None,
    common: &[
        Key::new(
            "format",
            Ty::Int {
                min: Some(CONFIG_FORMAT),
                max: Some(CONFIG_FORMAT),
            },
            "The gate config format version: 1.",
        )
        .required(),
        Key::new("defaults", Ty::Table(&DEFAULT_KEYS), "Settings for every figure."),
        Key::new(
            "rule",
            Ty::Tables(&RULE_KEYS),
            "Overrides for the figures each matches: [[rule]] tables.",
        ),
    ],
    variants: &[],
};

/// The keys of a gate config file, table by table.
pub fn keys() -> &'static KeySet {
    &TOP_KEYS
}
