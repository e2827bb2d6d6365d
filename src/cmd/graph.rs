//! `vaultc graph`: export the concept graph.

use anyhow::Context;

use super::{print_stdout, Outcome};
use crate::cli::{GraphArgs, GraphFormat};

/// Runs `graph`. Exits 0 even when links are broken: the export itself succeeded.
pub fn run(args: GraphArgs) -> anyhow::Result<Outcome> {
    let config = super::load_config(&args.vault, &crate::cli::LintArgs::default())?;
    let options = vaultc::CompileOptions {
        config,
        ..Default::default()
    };
    let comp = vaultc::compile(&args.vault, &options)
        .with_context(|| format!("cannot read {}", args.vault.display()))?;
    let text = match args.format {
        GraphFormat::Json => vaultc::export::json(&comp),
        GraphFormat::Dot => vaultc::export::dot(&comp),
    };
    print_stdout(&text)?;
    Ok(Outcome::Clean)
}
