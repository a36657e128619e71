//! Reports: loading results, analysis, rendering. Filled in by the reports issue.
