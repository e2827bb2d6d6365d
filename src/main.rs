//! The `vaultc` binary: parse arguments, call the library, print, map the outcome to an exit
//! code (0 clean, 1 the vault has errors, 2 the command failed).

mod cli;
mod cmd;

use std::process::ExitCode;

/// mimalloc instead of glibc malloc: the build allocates many small strings on every thread,
/// and glibc's arena locking and consolidation cost about a tenth of a 10k-note build.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;

/// Turns transparent huge pages off for this process (Linux; elsewhere nothing). `check` fills
/// most of its memory once and exits: the huge pages mimalloc asks the kernel for then cost a
/// compaction and a 2 MB zeroing on each first touch, which took 3-4 s of system time in a
/// 100k-note check on the benchmark machine (3.5-3.6 s wall without them, 4.5-5.0 s with),
/// and they made one 10k check in five take twice as long. `build` and `serve` keep them: a
/// build without them measured slower at both sizes.
fn without_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and sets one flag of this process.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Build(args) => cmd::build::run(args),
        cli::Command::Serve(args) => cmd::serve::run(args),
        cli::Command::Check(args) => {
            without_huge_pages();
            cmd::check::run(args)
        }
        cli::Command::Graph(args) => cmd::graph::run(args),
        cli::Command::Explain(args) => cmd::explain::run(args),
    };
    match result {
        Ok(cmd::Outcome::Clean) => ExitCode::SUCCESS,
        Ok(cmd::Outcome::VaultErrors) => ExitCode::from(1),
        Err(err) => {
            if cmd::is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
