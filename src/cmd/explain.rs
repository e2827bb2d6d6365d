//! `vaultc explain`: the page of a diagnostic code.

use super::{print_stdout, Outcome};
use crate::cli::ExplainArgs;

/// Runs `explain`.
pub fn run(args: ExplainArgs) -> anyhow::Result<Outcome> {
    if args.list {
        print_stdout(&vaultc::diag::explain::list())?;
        return Ok(Outcome::Clean);
    }
    let name = args.code.unwrap_or_default();
    let code = vaultc::config::parse_code(&name).map_err(anyhow::Error::msg)?;
    print_stdout(vaultc::diag::explain::explanation(code))?;
    Ok(Outcome::Clean)
}
