//! `vaultc lsp`: the language server, on stdin and stdout.

use super::Outcome;
use crate::cli::LspArgs;

/// Runs `lsp` until the editor ends the session (exit 0 after `shutdown`, else 1).
pub fn run(args: LspArgs) -> anyhow::Result<Outcome> {
    if let Some(vault) = &args.vault {
        super::require_vault(vault)?;
    }
    let end = vaultc::lsp::run_stdio(vaultc::lsp::LspOptions {
        vault: args.vault,
        cache: !args.no_cache,
    })?;
    // The protocol's exit codes: 0 after `shutdown`, 1 otherwise.
    Ok(match end {
        vaultc::lsp::SessionEnd::ShutDown => Outcome::Clean,
        vaultc::lsp::SessionEnd::Abandoned => Outcome::VaultErrors,
    })
}
