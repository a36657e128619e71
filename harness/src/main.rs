//! `thinbench`: parse the command line, dispatch to one library call per subcommand, turn
//! errors into messages and documented exit codes (see `cli::exit_code`).

use clap::Parser;

fn main() {
    // Die quietly on a closed pipe (`thinbench report … | head`) as command-line tools do,
    // instead of panicking in println!.
    // SAFETY: restoring a signal's default disposition before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = thinbench_harness::cli::Cli::parse();
    match thinbench_harness::cli::dispatch(cli) {
        Ok(code) => std::process::exit(code),
        Err(err) => {
            eprintln!("thinbench: error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            std::process::exit(thinbench_harness::cli::exit_code::ERROR);
        }
    }
}
