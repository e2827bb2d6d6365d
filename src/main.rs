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

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Build(args) => cmd::build::run(args),
        cli::Command::Serve(args) => cmd::serve::run(args),
        cli::Command::Check(args) => cmd::check::run(args),
        cli::Command::Graph(args) => cmd::graph::run(args),
        cli::Command::Explain(args) => cmd::explain::run(args),
        cli::Command::Lsp(args) => cmd::lsp::run(args),
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
