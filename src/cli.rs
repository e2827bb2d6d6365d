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

const SERVE_EXIT: &str = "Runs until stopped. Exit codes: 0 after Ctrl-C (once the build in \
progress, if any, has finished), 2 when it cannot start (the vault or output folder is unusable, \
the port is taken) or the watcher dies.";

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build the static wiki: one page per note, backlinks, tags, search and graph.
    #[command(after_help = EXIT_CODES)]
    Build(BuildArgs),
    /// Build the wiki, serve it on localhost, and rebuild it (and reload open pages) on every
    /// save.
    #[command(after_help = SERVE_EXIT)]
    Serve(ServeArgs),
    /// Check every link of the vault and report problems like a compiler.
    #[command(after_help = EXIT_CODES)]
    Check(CheckArgs),
    /// Export the concept graph (notes, attachments, wanted notes, tags).
    #[command(after_help = EXIT_CODES)]
    Graph(GraphArgs),
    /// Explain a diagnostic code, with an example (like `rustc --explain`).
    Explain(ExplainArgs),
    /// Run a language server on stdin/stdout for editors (VS Code, Neovim, Helix, ...):
    /// diagnostics as you type and after every save, go to definition, hover, backlinks as
    /// references, completion of names, headings and block ids in `[[`, quick fixes, outline,
    /// links kept when the editor renames files.
    Lsp(LspArgs),
}

/// Lint levels on the command line; they override `vaultc.toml`'s `[lints]`.
#[derive(Debug, Default, clap::Args)]
pub struct LintArgs {
    /// Do not report CODE (repeatable).
    #[arg(short = 'A', long = "allow", value_name = "CODE")]
    pub allow: Vec<String>,
    /// Report CODE as a warning (repeatable).
    #[arg(short = 'W', long = "warn", value_name = "CODE")]
    pub warn: Vec<String>,
    /// Report CODE as an error (repeatable); `--deny warnings` turns every warning into an error.
    #[arg(short = 'D', long = "deny", value_name = "CODE")]
    pub deny: Vec<String>,
}

/// What `build` and `serve` both take: one set of arguments, so the two build the same site.
#[derive(Debug, clap::Args)]
pub struct SiteArgs {
    /// The vault folder.
    #[arg(default_value = ".")]
    pub vault: PathBuf,
    /// Where to write the site (replaced atomically; must not contain the vault).
    #[arg(short, long, default_value = "site")]
    pub output: PathBuf,
    /// A theme folder whose templates/ and static/ files override the default theme (`serve`
    /// watches it too).
    #[arg(long, value_name = "DIR")]
    pub theme: Option<PathBuf>,
    /// Publish notes marked `draft: true`.
    #[arg(long)]
    pub drafts: bool,
    /// Follow no symbolic link that leads out of the vault (each is an `ignored-symlink`
    /// warning): for building a vault you did not write, where a link to a folder of secrets
    /// would otherwise be copied into the site.
    #[arg(long)]
    pub no_external_symlinks: bool,
}

/// `vaultc build`.
#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// The vault, the output folder, the theme, drafts.
    #[command(flatten)]
    pub site: SiteArgs,
    /// Do not write the site when the vault has errors.
    #[arg(long)]
    pub strict: bool,
    /// Render every page and replace the whole site, instead of re-rendering only the pages
    /// whose inputs changed since the previous build into the same folder.
    #[arg(long)]
    pub full: bool,
    /// Neither read nor write the parse cache (`.DIR.vaultc-cache/` beside the output folder,
    /// which lets a rebuild skip parsing the notes that did not change).
    #[arg(long)]
    pub no_cache: bool,
    /// Print nothing but errors.
    #[arg(short, long)]
    pub quiet: bool,
    /// Print the wall time of each pipeline stage to stderr.
    #[arg(long)]
    pub timings: bool,
    /// Lint levels.
    #[command(flatten)]
    pub lints: LintArgs,
}

/// `vaultc serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The vault, the output folder, the theme, drafts (all watched but the output).
    #[command(flatten)]
    pub site: SiteArgs,
    /// The address to listen on (`0.0.0.0` to let other machines in).
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
    /// The port (0 picks a free one; the address is printed).
    #[arg(short, long, default_value_t = 8000)]
    pub port: u16,
    /// Print only the address, errors and one line per rebuild.
    #[arg(short, long)]
    pub quiet: bool,
    /// Print the wall time of each pipeline stage of every build to stderr.
    #[arg(long)]
    pub timings: bool,
    /// Lint levels.
    #[command(flatten)]
    pub lints: LintArgs,
}

/// `vaultc check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The vault folder.
    #[arg(default_value = ".")]
    pub vault: PathBuf,
    /// Report only diagnostics in these files (the whole vault is still resolved); for
    /// pre-commit hooks that pass the staged files.
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
    pub format: CheckFormat,
    /// Apply machine-applicable fixes (escaped wikilinks, alias links, headings linked by a
    /// GitHub-style anchor) in place.
    #[arg(long)]
    pub fix: bool,
    /// With --fix: also fix links whose letter case differs from the target's.
    #[arg(long, requires = "fix")]
    pub fix_case: bool,
    /// With --fix: print what --fix would write, every pass of it, as a unified diff, and
    /// write nothing into the vault (the passes run on a scratch copy in the temporary folder).
    #[arg(long, requires = "fix")]
    pub dry_run: bool,
    /// Neither read nor write the parse cache (kept in the user's cache folder, e.g.
    /// `~/.cache/vaultc/check/`, it lets the next check skip parsing the notes that did not
    /// change).
    #[arg(long)]
    pub no_cache: bool,
    /// Print the wall time of each pipeline stage to stderr.
    #[arg(long)]
    pub timings: bool,
    /// Check again after every save into the vault (or its configured theme), until stopped
    /// with Ctrl-C: the diagnostics of each check are printed in the chosen format, and a line
    /// on stderr says what changed. For writing notes in any editor; not with --fix.
    #[arg(long, conflicts_with = "fix")]
    pub watch: bool,
    /// Lint levels.
    #[command(flatten)]
    pub lints: LintArgs,
}

/// `vaultc lsp`.
#[derive(Debug, clap::Args)]
pub struct LspArgs {
    /// The vault folder [default: the editor's workspace folder]
    pub vault: Option<PathBuf>,
    /// Neither read nor write `check`'s parse cache.
    #[arg(long)]
    pub no_cache: bool,
}

/// `vaultc explain`.
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The code to explain, e.g. `broken-link`.
    #[arg(required_unless_present = "list")]
    pub code: Option<String>,
    /// List every code with its default level.
    #[arg(long)]
    pub list: bool,
}

/// Formats of `vaultc check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// Compiler-style messages with source snippets.
    Human,
    /// One JSON object with `diagnostics` and `summary`.
    Json,
    /// GitHub Actions workflow commands (`::error file=...`).
    Github,
    /// SARIF 2.1.0 for code-scanning upload.
    Sarif,
    /// GitLab Code Quality report (`artifacts: reports: codequality:`).
    Gitlab,
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
