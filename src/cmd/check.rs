//! `vaultc check`: compile without rendering and report diagnostics.

use anyhow::Context;
use vaultc::diag::emit;

use super::{print_stdout, stdout_is_terminal, use_color, Outcome};
use crate::cli::{CheckArgs, CheckFormat};

/// Runs `check`.
pub fn run(args: CheckArgs) -> anyhow::Result<Outcome> {
    let comp = vaultc::compile(&args.vault, &vaultc::CompileOptions::default())
        .with_context(|| format!("cannot check {}", args.vault.display()))?;
    let summary = comp.summary();
    match args.format {
        CheckFormat::Json => print_stdout(&emit::json(&comp.diagnostics, &comp.vault, summary))?,
        CheckFormat::Human => {
            let mut text = emit::human(
                &comp.diagnostics,
                &comp.vault,
                use_color(stdout_is_terminal()),
            );
            text.push_str(&emit::summary_line(&summary));
            text.push('\n');
            print_stdout(&text)?;
        }
    }
    Ok(Outcome::of(comp.has_errors()))
}
