//! `thinbench cleanup`: remove what killed runs left, and nothing else.

use crate::exit_code;

pub fn run(dry_run: bool, all: bool) -> anyhow::Result<i32> {
    let found = thinbench_harness::cleanup::find(all);
    if found.is_empty() {
        println!("cleanup: nothing left by thinbench runs");
        return Ok(exit_code::OK);
    }
    for f in &found {
        println!("found: {f}");
    }
    if dry_run {
        return Ok(exit_code::OK);
    }
    let (ok, bad) = thinbench_harness::cleanup::remove(&found);
    for r in &ok {
        println!("removed: {r}");
    }
    for b in &bad {
        eprintln!("cleanup: could not remove {b}");
    }
    let left = thinbench_harness::cleanup::find(all);
    println!(
        "cleanup: removed {}, failed {}, left {}",
        ok.len(),
        bad.len(),
        left.len()
    );
    Ok(if bad.is_empty() && left.is_empty() {
        exit_code::OK
    } else {
        exit_code::FAILED
    })
}
