//! The front half of the pipeline, shared by every command:
//! discover -> parse -> resolve -> graph -> diagnose. `check` stops here; `build` goes on to
//! render and write.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::diag::{checks, Diagnostic, Severity, Summary};
use crate::discover::{self, DiscoverOptions};
use crate::error::Result;
use crate::graph::ConceptGraph;
use crate::parse;
use crate::resolve::{self, Resolution, ResolveOptions};
use crate::vault::Vault;

/// Options of the compile stages.
#[derive(Clone, Debug, Default)]
pub struct CompileOptions {
    /// Folders never to read (the output folder).
    pub skip_dirs: Vec<PathBuf>,
    /// Resolution switches.
    pub resolve: ResolveOptions,
}

/// A compiled vault: everything the back half (render, graph export, reports) needs.
#[derive(Debug)]
pub struct Compilation {
    /// The vault folder (canonical).
    pub root: PathBuf,
    /// Parsed notes and attachments.
    pub vault: Vault,
    /// Where every link goes.
    pub resolution: Resolution,
    /// The concept graph.
    pub graph: ConceptGraph,
    /// Every diagnostic, sorted by file, position and code.
    pub diagnostics: Vec<Diagnostic>,
}

impl Compilation {
    /// Counts for the summary line and the JSON report.
    pub fn summary(&self) -> Summary {
        let errors = self
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        Summary {
            notes: self.vault.notes.len(),
            links: self.vault.link_count(),
            errors,
            warnings: self.diagnostics.len() - errors,
        }
    }

    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }
}

/// Runs discover, parse, resolve, graph and diagnose over the vault at `root`.
pub fn compile(root: &Path, options: &CompileOptions) -> Result<Compilation> {
    let discovered = discover::discover(
        root,
        &DiscoverOptions {
            skip_dirs: options.skip_dirs.clone(),
            ..DiscoverOptions::default()
        },
    )?;
    let root = root
        .canonicalize()
        .map_err(|e| crate::Error::io("reading", root, e))?;
    let mut diagnostics = discovered.diagnostics;
    let parsed: Vec<_> = discovered.notes.into_par_iter().map(parse::note).collect();
    let mut notes = Vec::with_capacity(parsed.len());
    for (note, diags) in parsed {
        notes.push(note);
        diagnostics.extend(diags);
    }
    let vault = Vault {
        notes,
        attachments: discovered.attachments,
    };
    let resolution = resolve::resolve(&vault, options.resolve);
    let graph = ConceptGraph::build(&vault, &resolution);
    diagnostics.extend(checks::link_diagnostics(&vault, &resolution, &graph));
    diagnostics.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    diagnostics.dedup();
    Ok(Compilation {
        root,
        vault,
        resolution,
        graph,
        diagnostics,
    })
}
