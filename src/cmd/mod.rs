//! Glue between the CLI and the library: run a command, print its output, decide the outcome.

pub mod build;
pub mod check;
pub mod explain;
pub mod graph;
pub mod lsp;
pub mod serve;

use std::io::{IsTerminal, Write};

/// How a command that ran to the end went.
pub enum Outcome {
    /// No errors (warnings allowed): exit 0.
    Clean,
    /// The vault has errors: exit 1.
    VaultErrors,
}

impl Outcome {
    /// The outcome for a compilation.
    pub fn of(has_errors: bool) -> Outcome {
        if has_errors {
            Outcome::VaultErrors
        } else {
            Outcome::Clean
        }
    }
}

/// The configuration: `vaultc.toml` at the vault root, then the command line's lint levels.
pub fn load_config(
    vault: &std::path::Path,
    lints: &crate::cli::LintArgs,
) -> anyhow::Result<vaultc::config::Config> {
    use vaultc::config::{parse_code, Config};
    use vaultc::diag::Level;
    let mut config = Config::load(vault)?;
    let levels = [
        (&lints.allow, Level::Allow),
        (&lints.warn, Level::Warn),
        (&lints.deny, Level::Deny),
    ];
    for (names, level) in levels {
        for name in names {
            if name == "warnings" && level == Level::Deny {
                config.deny_warnings = true;
                continue;
            }
            let code = parse_code(name).map_err(|m| anyhow::anyhow!("command line: {m}"))?;
            config.set_level(code, level);
        }
    }
    Ok(config)
}

/// Fails with the CLI's message when `vault` is not a folder (before anything is read).
pub fn require_vault(vault: &std::path::Path) -> anyhow::Result<()> {
    if !vault.is_dir() {
        anyhow::bail!(
            "vault not found: {} is not a readable folder",
            vault.display()
        );
    }
    Ok(())
}

/// The build options `build` and `serve` share, from their common arguments.
pub fn site_build_options(
    site: &crate::cli::SiteArgs,
    config: vaultc::config::Config,
    progress: Option<vaultc::build::Progress>,
) -> vaultc::build::BuildOptions {
    vaultc::build::BuildOptions {
        progress,
        output: site.output.clone(),
        theme: site.theme.clone(),
        compile: vaultc::CompileOptions {
            config,
            include_drafts: site.drafts,
            no_external_symlinks: site.no_external_symlinks,
            ..Default::default()
        },
        ..Default::default()
    }
}

/// Whether colours are wanted on this stream (a terminal, and `NO_COLOR` unset).
pub fn use_color(stream_is_terminal: bool) -> bool {
    stream_is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Writes to stdout; a closed pipe (`vaultc check | head`) is not an error worth a message.
pub fn print_stdout(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// Whether stdout is a terminal.
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// Whether stderr is a terminal.
pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

/// True when the error is a broken pipe on output.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
