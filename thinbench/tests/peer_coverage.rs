//! docs/peer-coverage.md is checked against the files it names: every `covered` row names a
//! scenario of `scenarios/peer/` and a step (or pool) in it, every scenario there is named
//! by some row, and the counts in the headings and tables are the rows' own.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Step and pool names of a scenario, by table: `(steps, pools)`. A line scan: `name = "…"`
/// inside a `[[step]]` or `[[pool]]` table (the files are thinbench's own; their TOML is
/// checked by the schema and validation tests).
fn names(text: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut steps, mut pools) = (BTreeSet::new(), BTreeSet::new());
    let mut table = "";
    for line in text.lines() {
        if line.starts_with("[[") {
            table = line.trim();
            continue;
        }
        if line.starts_with('[') {
            // a sub-table (`[step.expect]`) of the table before it
            continue;
        }
        if let Some(v) = line.strip_prefix("name = \"") {
            let v = v.trim_end().trim_end_matches('"').to_owned();
            match table {
                "[[step]]" => steps.insert(v),
                "[[pool]]" => pools.insert(v),
                _ => false,
            };
        }
    }
    (steps, pools)
}

#[derive(Default, Debug, PartialEq, Eq, Clone, Copy)]
struct Counts {
    covered: usize,
    missing: usize,
    out_of_scope: usize,
    ports: usize,
}

#[test]
fn peer_coverage_rows_name_real_scenarios_and_the_counts_are_the_rows() {
    let doc = std::fs::read_to_string(repo().join("docs/peer-coverage.md")).unwrap();
    let mut scenarios = BTreeMap::new();
    for e in std::fs::read_dir(repo().join("scenarios/peer")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "toml") {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            scenarios.insert(name, names(&std::fs::read_to_string(&p).unwrap()));
        }
    }
    let mut named = BTreeSet::new();
    let mut per_file: BTreeMap<(String, String), Counts> = BTreeMap::new();
    let mut rows = 0;
    for (i, line) in doc.lines().enumerate() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | suite | file | `test` | checks | status |
        if cells.len() != 7
            || !(cells[1] == "device-mapper-test-suite" || cells[1] == "dmtest-python")
        {
            continue;
        }
        if !cells[3].starts_with('`') {
            continue; // the by-file table
        }
        rows += 1;
        let at = format!("docs/peer-coverage.md:{}", i + 1);
        let status = cells[5];
        let c = per_file
            .entry((cells[1].to_owned(), cells[2].to_owned()))
            .or_default();
        let port = cells[1] == "dmtest-python" && cells[4].starts_with("port of");
        if port {
            c.ports += 1;
        }
        if let Some(rest) = status.strip_prefix("covered: scenarios/peer/") {
            let mut w = rest.split_whitespace();
            let (file, what, name) = (
                w.next().unwrap_or(""),
                w.next().unwrap_or(""),
                w.next().unwrap_or(""),
            );
            let (steps, pools) = scenarios.get(file).unwrap_or_else(|| {
                panic!(
                    "{at}: {} names scenarios/peer/{file}, which does not exist",
                    cells[3]
                )
            });
            let found = match what {
                "step" => steps.contains(name),
                "pool" => pools.contains(name),
                _ => panic!("{at}: `covered: scenarios/peer/{file}` must go on with `step NAME` or `pool NAME`, not {what:?}"),
            };
            assert!(
                found,
                "{at}: {}: scenarios/peer/{file} has no {what} named {name:?}",
                cells[3]
            );
            named.insert(file.to_owned());
            // Other scenarios the row names (the same test on another pool kind).
            for other in rest.split("scenarios/peer/").skip(1) {
                let other = other
                    .split(|c: char| c.is_whitespace() || c == ')')
                    .next()
                    .unwrap_or("");
                assert!(
                    scenarios.contains_key(other),
                    "{at}: names scenarios/peer/{other}, which does not exist"
                );
                named.insert(other.to_owned());
            }
            if !port {
                c.covered += 1;
            }
        } else if status.starts_with("missing") {
            if !port {
                c.missing += 1;
            }
        } else if status.starts_with("out of scope") {
            if !port {
                c.out_of_scope += 1;
            }
        } else {
            panic!("{at}: status {status:?} is none of covered/missing/out of scope");
        }
    }
    assert!(rows >= 250, "only {rows} test rows");
    // Every scenario of scenarios/peer/ mirrors some test the page lists.
    for file in scenarios.keys() {
        assert!(
            named.contains(file),
            "scenarios/peer/{file} is named by no row of docs/peer-coverage.md"
        );
    }
    // The headings and the by-file table say what the rows say.
    for ((suite, file), c) in &per_file {
        let n = c.covered + c.missing + c.out_of_scope;
        let mut heading = format!(
            "### {suite}: {file} ({n} counted: {} covered, {} missing, {} out of scope",
            c.covered, c.missing, c.out_of_scope
        );
        if c.ports > 0 {
            heading.push_str(&format!(
                "; {} port{} counted under the Ruby file",
                c.ports,
                if c.ports > 1 { "s" } else { "" }
            ));
        }
        heading.push(')');
        assert!(doc.lines().any(|l| l == heading), "no heading {heading:?}");
        let ports = if c.ports > 0 {
            format!(" (+{} port{})", c.ports, if c.ports > 1 { "s" } else { "" })
        } else {
            String::new()
        };
        let row = format!(
            "| {suite} | {file} | {n}{ports} | {} | {} | {} |",
            c.covered, c.missing, c.out_of_scope
        );
        assert!(doc.lines().any(|l| l == row), "no by-file row {row:?}");
    }
    let total = per_file.values().fold(Counts::default(), |a, c| Counts {
        covered: a.covered + c.covered,
        missing: a.missing + c.missing,
        out_of_scope: a.out_of_scope + c.out_of_scope,
        ports: a.ports + c.ports,
    });
    let n = total.covered + total.missing + total.out_of_scope;
    let covered = format!("| covered (a passing scenario today) | {} |", total.covered);
    assert!(
        doc.lines().any(|l| l.starts_with(&covered)),
        "the totals table does not say {covered:?} ({n} counted)"
    );
}
