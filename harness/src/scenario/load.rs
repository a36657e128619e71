//! Reading a scenario: file → text → TOML tree → raw tables → validated [`ScenarioSpec`], with
//! every problem turned into a positioned [`ScenarioError`].

use super::validate::{check_format_version, validate, Grants};
use crate::scenario::error::{Diagnostic, LineIndex, ScenarioError, ScenarioErrors};
use crate::scenario::raw::RawScenario;
use crate::spec::ScenarioSpec;
use std::path::Path;
use thinbench_schema::toml_tree;

/// Reads, parses and validates the scenario file at `path`, granting it nothing beyond
/// its own directory (see [`load_scenario_granted`]).
pub fn load_scenario(path: &Path) -> Result<ScenarioSpec, ScenarioErrors> {
    load_scenario_granted(path, &Grants::default())
}

/// Reads, parses and validates the scenario file at `path` with what the command line
/// `grants` it.
///
/// Errors name `path` as given. A file that cannot be read (not a regular file, a kernel
/// file, over [`untrusted::limit::INPUT_TOML`]), or is not UTF-8, gives a single error;
/// otherwise every mistake found is reported, in file order.
pub fn load_scenario_granted(path: &Path, grants: &Grants) -> Result<ScenarioSpec, ScenarioErrors> {
    let text = toml_tree::read_input(path, "scenario files are UTF-8 TOML").map_err(single)?;
    load_scenario_str_granted(path, &text, grants)
}

/// Parses and validates scenario `text`; errors name `path_for_messages`, which is also
/// the plan's `source` and gives the default scenario name (its file stem).
pub fn load_scenario_str(
    path_for_messages: &Path,
    text: &str,
) -> Result<ScenarioSpec, ScenarioErrors> {
    load_scenario_str_granted(path_for_messages, text, &Grants::default())
}

/// [`load_scenario_str`] with what the command line `grants`.
pub fn load_scenario_str_granted(
    path_for_messages: &Path,
    text: &str,
    grants: &Grants,
) -> Result<ScenarioSpec, ScenarioErrors> {
    let index = LineIndex::new(text);
    let fail = |diags: Vec<Diagnostic>| ScenarioErrors {
        errors: index.errors(path_for_messages, diags),
    };
    let tree = toml_tree::parse(text, "scenario files").map_err(|d| fail(vec![d]))?;
    if looks_like_plan(&tree) {
        return Err(fail(vec![Diagnostic::new(
            0..0,
            "this is a plan file (it has a [pool] table or [[image]] tables), not a scenario",
        )
        .with_hint(
            "plan with it: `thinbench plan FILE` (docs/plan-format.md); scenarios (docs/scenario-format.md) go to `run` and `validate`",
        )]));
    }
    let mut diags = Vec::new();
    let raw = RawScenario::from_tree(&tree, &mut diags);
    if let Some(e) = check_format_version(&raw) {
        return Err(fail(vec![e]));
    }
    let mut warnings = Vec::new();
    let plan = validate(&raw, path_for_messages, grants, &mut diags, &mut warnings);
    match plan {
        Some(mut plan) if diags.is_empty() => {
            plan.warnings = index.errors(path_for_messages, warnings);
            Ok(plan)
        }
        _ => {
            if diags.is_empty() {
                // `validate` reports whenever it returns no plan; keep the promise of a
                // non-empty list even if that ever breaks.
                diags.push(Diagnostic::new(
                    0..0,
                    "internal error: no plan and no reason",
                ));
            }
            // File order (checks run by table, not by line), as `fail` sorts them; sorted
            // here first so that a check reached twice by one mistake reports it once.
            // Stable, so errors at one position keep the order they were found in.
            diags.sort_by_key(|d| d.span.start);
            diags.dedup();
            Err(fail(diags))
        }
    }
}

fn single(e: ScenarioError) -> ScenarioErrors {
    ScenarioErrors { errors: vec![e] }
}

/// Whether the top level of `tree` is a capacity plan's rather than a scenario's: no
/// `[[step]]` or `[[fault]]`, and the plan's `[[image]]`, `[base]` or `[timeline]` (which
/// no scenario has) or one `[pool]` table (a scenario has `[[pool]]`).
fn looks_like_plan(tree: &serde_spanned::Spanned<toml_tree::Node>) -> bool {
    let toml_tree::Node::Table(entries) = tree.get_ref() else {
        return false;
    };
    let has = |key: &str| entries.iter().any(|(k, _)| k.get_ref() == key);
    let pool_table = entries
        .iter()
        .any(|(k, v)| k.get_ref() == "pool" && matches!(v.get_ref(), toml_tree::Node::Table(_)));
    !has("step") && !has("fault") && (has("image") || has("base") || has("timeline") || pool_table)
}
