//! `thinbench validate FILE…`: check scenarios without running anything.

use std::path::PathBuf;

use crate::exit_code;

pub fn run(
    files: Vec<PathBuf>,
    grants: &thinbench_harness::scenario::Grants,
) -> anyhow::Result<i32> {
    let mut bad = 0;
    for f in &files {
        match thinbench_harness::scenario::load_scenario_granted(f, grants) {
            Ok(p) => {
                for w in &p.warnings {
                    eprintln!("{}", w.as_warning());
                }
                println!(
                    "{}: ok — scenario {}, {} pool(s), {} step(s){}",
                    f.display(),
                    p.name,
                    p.pools.len(),
                    p.steps.len(),
                    match p.warnings.len() {
                        0 => String::new(),
                        n => format!(", {n} warning(s)"),
                    }
                )
            }
            Err(e) => {
                bad += 1;
                crate::snippet::eprint_errors(&e.errors);
            }
        }
    }
    Ok(if bad == 0 {
        exit_code::OK
    } else {
        exit_code::ERROR
    })
}
