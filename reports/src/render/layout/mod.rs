//! Lays a [`ReportModel`] or [`Comparison`](crate::analysis::compare::Comparison) out as
//! a [`Document`]: which sections, tables and figures, in which order, with which words.
//! Pure: no I/O, no drawing. One module per section of the report (their order is
//! [`report`]'s); `builder` and `shared` hold what several sections use; `comparison`
//! lays out a run-vs-run comparison. Sections import only siblings, never this module.

mod builder;
mod comparison;
mod cow;
mod io_work;
mod kernels;
mod kinds;
mod latency;
mod metrics;
mod model_check;
mod pools;
mod runs;
mod shared;
mod space;
mod usage;
mod verdicts;
mod workloads;

use crate::model::ReportModel;
use crate::render::document::{Document, Tone};
use builder::Builder;
use shared::{status_str, timing_notes};
use thinbench_schema::record::Status;

pub(crate) use comparison::comparison;
pub(crate) use kernels::kernels;

fn report_title(m: &ReportModel) -> String {
    let mut names: Vec<&str> = m.runs.iter().map(|r| r.scenario.as_str()).collect();
    names.dedup();
    if names.is_empty() {
        "thinbench report".into()
    } else {
        format!("thinbench report: {}", names.join(", "))
    }
}

/// Lay out a report.
pub(crate) fn report(m: &ReportModel) -> Document {
    let mut b = Builder::new();
    let overall = m
        .runs
        .iter()
        .map(|r| r.status)
        .fold(Status::Passed, Status::worst);
    if m.runs.is_empty() {
        b.callout(Tone::Warn, "No runs given: nothing to report.");
    }
    for note in timing_notes(&m.runs) {
        b.callout(Tone::Warn, note);
    }
    if !m.runs.is_empty() {
        let tone = if overall == Status::Passed {
            Tone::Good
        } else {
            Tone::Bad
        };
        b.callout(
            tone,
            format!(
                "Status: {}. Expectations: {} checked, {} passed, {} failed, {} skipped.",
                status_str(overall),
                m.expectations.total,
                m.expectations.passed,
                m.expectations.failed,
                m.expectations.skipped
            ),
        );
    }
    for w in &m.warnings {
        b.callout(Tone::Warn, w.clone());
    }

    runs::runs_section(&mut b, m);
    verdicts::verdict_section(&mut b, m);
    pools::pools_section(&mut b, m);
    usage::usage_section(&mut b, m);
    workloads::workload_sections(&mut b, m);
    kinds::kind_section(&mut b, m);
    cow::cow_section(&mut b, m);
    space::space_section(&mut b, m);
    io_work::io_work_section(&mut b, m);
    model_check::model_section(&mut b, m);
    metrics::metrics_section(&mut b, m);
    b.doc("report", report_title(m))
}
