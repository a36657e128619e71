//! Reading a scenario: file → text → TOML tree → raw tables → validated [`ScenarioSpec`], with
//! every problem turned into a positioned [`ScenarioError`].

use super::validate::{check_format_version, validate, Grants};
use crate::scenario::error::{Diagnostic, LineIndex, ScenarioError, ScenarioErrors};
use crate::scenario::raw::{Node, RawScenario};
use crate::spec::ScenarioSpec;
use serde_spanned::Spanned;
use std::path::Path;
use thinbench_schema::positioned::fold_lines;
use thinbench_schema::untrusted;

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
    let bytes = untrusted::read(path, untrusted::limit::INPUT_TOML).map_err(|e| {
        single(ScenarioError::whole_file(
            path,
            format!("cannot read: {}", e.reason()),
        ))
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let err = e.utf8_error();
        let valid = &e.as_bytes()[..err.valid_up_to()];
        // The prefix is valid by definition; positions count its characters.
        let prefix = std::str::from_utf8(valid).unwrap_or_default();
        let bad = e.as_bytes().get(err.valid_up_to()).copied().unwrap_or(0);
        single(
            LineIndex::new(prefix).error(
                path,
                Diagnostic::new(
                    prefix.len()..prefix.len(),
                    format!("not UTF-8 text: byte 0x{bad:02x} is not valid here"),
                )
                .with_hint("scenario files are UTF-8 TOML"),
            ),
        )
    })?;
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
    let tree: Spanned<Node> = toml::from_str(text).map_err(|e| fail(vec![toml_error(&e)]))?;
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

/// A TOML syntax error (or a value serde could not take) as a diagnostic. toml's
/// messages can run over several lines; ours are one line.
fn toml_error(e: &toml::de::Error) -> Diagnostic {
    let span = e.span().unwrap_or(0..0);
    let message = e.message();
    // A date-time reaches `Node` as a map whose key has no span (see `raw::Node`).
    if message.contains("$__toml_private_datetime") {
        return Diagnostic::new(span, "date-times are not used in scenario files")
            .with_hint("write durations and sizes as strings, like \"20m\" or \"64KiB\"");
    }
    Diagnostic::new(span, format!("invalid TOML: {}", fold_lines(message)))
}
