//! Command-line arguments (clap derive): one struct per subcommand.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Compile an Obsidian-style vault: check its links, export its graph, build a wiki.
#[derive(Debug, Parser)]
#[command(name = "vaultc", version, propagate_version = true, about, long_about = None, after_help = EXIT_CODES)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

const EXIT_CODES: &str =
    "Exit codes: 0 clean (warnings allowed), 1 the vault has errors, 2 the command failed.";

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build the static wiki: one page per note, backlinks, tags, search and graph.
    #[command(after_help = EXIT_CODES)]
    Build(BuildArgs),
    /// Check every link of the vault and report problems like a compiler.
    #[command(after_help = EXIT_CODES)]
    Check(CheckArgs),
    /// Export the concept graph (notes, attachments, wanted notes, tags).
    #[command(after_help = EXIT_CODES)]
    Graph(GraphArgs),
}

/// `vaultc build`.
#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// The vault folder.
    #[arg(default_value = ".")]
    pub vault: PathBuf,
    /// Where to write the site (replaced atomically; must not contain the vault).
    #[arg(short, long, default_value = "site")]
    pub output: PathBuf,
    /// A theme folder whose templates/ and static/ files override the default theme.
    #[arg(long, value_name = "DIR")]
    pub theme: Option<PathBuf>,
    /// Do not write the site when the vault has errors.
    #[arg(long)]
    pub strict: bool,
    /// Publish notes marked `draft: true`.
    #[arg(long)]
    pub drafts: bool,
    /// Print nothing but errors.
    #[arg(short, long)]
    pub quiet: bool,
}

/// `vaultc check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The vault folder.
    #[arg(default_value = ".")]
    pub vault: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
    pub format: CheckFormat,
}

/// Formats of `vaultc check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// Compiler-style messages with source snippets.
    Human,
    /// One JSON object with `diagnostics` and `summary`.
    Json,
}

/// `vaultc graph`.
#[derive(Debug, clap::Args)]
pub struct GraphArgs {
    /// The vault folder.
    #[arg(default_value = ".")]
    pub vault: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Json)]
    pub format: GraphFormat,
}

/// Formats of `vaultc graph`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// `{"nodes": [...], "edges": [...]}`.
    Json,
    /// Graphviz DOT.
    Dot,
}
