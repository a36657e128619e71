//! `thinbench schema scenario|plan|gate`: the JSON Schema of a file format, generated
//! from the key descriptions its reader checks against (`thinbench_schema::keys`), for
//! editors (docs/editors.md). The committed copies under `docs/schemas/` are this
//! output; a test fails when they differ.

use std::path::PathBuf;

use anyhow::Context;
use thinbench_schema::json_schema;
use thinbench_schema::keys::KeySet;

use crate::exit_code;

/// `thinbench schema`'s arguments.
#[derive(Debug, clap::Args)]
pub struct SchemaArgs {
    /// Which file format.
    #[arg(value_enum)]
    pub format: Format,
    /// Write the schema to this file instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

/// The file formats with a schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Scenario files (scenarios/*.toml, docs/scenario-format.md).
    Scenario,
    /// Capacity plans (plans/*.toml, docs/plan-format.md).
    Plan,
    /// The CI gate config (ci/gate.toml, docs/gate.md).
    Gate,
}

impl Format {
    /// The top-level table of the format.
    fn keys(self) -> &'static KeySet {
        match self {
            Format::Scenario => thinbench_harness::scenario::keys(),
            Format::Plan => thinbench_planner::fleet::keys(),
            Format::Gate => thinbench_gate::config::keys(),
        }
    }

    fn title(self) -> &'static str {
        match self {
            Format::Scenario => "thinbench scenario (format 1)",
            Format::Plan => "thinbench capacity plan (format 1)",
            Format::Gate => "thinbench gate config (format 1)",
        }
    }

    /// The schema's text: pretty JSON with a final newline.
    pub fn schema(self) -> String {
        json_schema::generate(self.title(), self.keys())
    }
}

/// Print (or write) the schema.
pub fn run(a: SchemaArgs) -> anyhow::Result<i32> {
    let text = a.format.schema();
    match &a.output {
        Some(path) => std::fs::write(path, &text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(exit_code::OK)
}
