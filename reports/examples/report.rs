//! Render a report from run directories: `cargo run -p thinbench-reports --example report
//! -- OUT_DIR RUN_DIR...`, or compare two: `... --example report -- --compare OUT A B`.
//! A developer's tool; `thinbench report` is the user's.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let compare = args.first().is_some_and(|a| a == "--compare");
    if compare {
        args.remove(0);
    }
    if args.len() < 2 {
        eprintln!("usage: report [--compare] OUT_DIR RUN_DIR...");
        std::process::exit(2);
    }
    let out = PathBuf::from(&args[0]);
    let runs = args[1..]
        .iter()
        .map(|d| thinbench_reports::load_run(d.as_ref()))
        .collect::<Result<Vec<_>, _>>()?;
    let files = if compare {
        let c = thinbench_reports::compare(&runs[0], &runs[1]);
        thinbench_reports::write_comparison(&c, &out)?
    } else {
        thinbench_reports::write_report(&thinbench_reports::build_model(&runs), &out)?
    };
    println!("{}\n{}", files.html.display(), files.markdown.display());
    for p in files.pngs.iter().chain(&files.csv) {
        println!("{}", p.display());
    }
    Ok(())
}
