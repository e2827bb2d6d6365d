//! `vaultc serve`: build, serve the site on localhost, rebuild on every save and reload the
//! open pages. Prints the first build's diagnostics, then one line per rebuild with the
//! diagnostics of the files that changed.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Context;
use vaultc::build::{BuildReport, BuildSession};
use vaultc::diag::{emit, Severity};
use vaultc::serve::{SiteServer, VaultWatcher};
use vaultc::source::VaultPath;

use super::build::{built_line, page_counter};
use super::{load_config, site_build_options, stderr_is_terminal, use_color, Outcome};
use crate::cli::ServeArgs;

/// How long the watcher waits for a burst of events (an editor's save: write, rename, chmod) to
/// end before it reports them.
const DEBOUNCE: Duration = Duration::from_millis(10);

/// Runs `serve` until it is stopped.
pub fn run(args: ServeArgs) -> anyhow::Result<Outcome> {
    let site = &args.site;
    super::require_vault(&site.vault)?;
    let out = vaultc::output::absolute(&site.output)?;
    let vault = site
        .vault
        .canonicalize()
        .with_context(|| format!("cannot read {}", site.vault.display()))?;
    let mut ignore = vec![out.clone()];
    ignore.extend(vaultc::cache::cache_dir(&out));
    // The theme the first build uses (the command line's, else the configuration's); a theme
    // folder the configuration names later is read, but not watched, until serve restarts.
    let config = load_config(&site.vault, &args.lints)?;
    let theme = site_build_options(site, config, None).theme_dir(&site.vault);
    vaultc::render::theme::require_folder(theme.as_deref())?;
    // Watch before the first build, so a save during it is not missed.
    let mut watcher = VaultWatcher::start(&vault, theme.as_slice(), ignore, DEBOUNCE)?;
    if site.no_external_symlinks {
        watcher = watcher.without_external_symlinks();
    }
    let color = use_color(stderr_is_terminal());

    // Ctrl-C between builds stops at once; during a build, once it has finished, so no
    // staging folder is left beside the site.
    let building = std::sync::Arc::new(std::sync::Mutex::new(()));
    {
        let building = std::sync::Arc::clone(&building);
        ctrlc::set_handler(move || {
            eprintln!("stopping (after the build in progress, if any)");
            let _idle = building.lock();
            std::process::exit(0);
        })
        .context("cannot handle Ctrl-C")?;
    }
    let mut session = BuildSession::new();
    let started = Instant::now();
    let first_build = building.lock().unwrap_or_else(|e| e.into_inner());
    // The first build renders every page: a counter on a terminal. Rebuilds are short.
    let (bar, progress) = page_counter(args.quiet);
    let report = rebuild(&args, &mut session, None, progress);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let report = report.with_context(|| format!("cannot build {}", site.vault.display()))?;
    print_diagnostics(&args, report, None, color);
    eprintln!("{}", built_line(report, &site.output, started.elapsed()));
    drop(first_build);

    let server = SiteServer::start(&out, SocketAddr::new(args.bind, args.port))?;
    eprintln!(
        "serving {} at http://{}/ ; rebuilding on every save, Ctrl-C stops",
        site.output.display(),
        server.addr()
    );
    // Note files changed with no event (found once the build before was out): built next.
    let mut unreported: Vec<std::path::PathBuf> = Vec::new();
    loop {
        let paths = if unreported.is_empty() {
            watcher.next_change()?.paths
        } else {
            std::mem::take(&mut unreported)
        };
        if paths.is_empty() {
            continue;
        }
        let started = Instant::now();
        let _building = building.lock().unwrap_or_else(|e| e.into_inner());
        match rebuild(&args, &mut session, Some(&paths), None) {
            Ok(report) => {
                let changed: Vec<VaultPath> = paths
                    .iter()
                    .filter_map(|p| p.strip_prefix(&vault).ok())
                    .filter_map(|p| VaultPath::new(&p.to_string_lossy()))
                    .collect();
                if args.timings {
                    eprintln!("timings: {}", report.compilation.timings.line());
                }
                print_diagnostics(&args, report, Some(&changed), color);
                // Open pages are told first, so a page fetched once the line is out carries
                // the new generation.
                server.reload();
                eprintln!("{}", built_line(report, &site.output, started.elapsed()));
                // The watcher is not trusted alone; the sweep over every note file's stamp is
                // made now, after the pages are out, rather than before each rebuild.
                unreported = session.unreported_changes();
            }
            // The previous site stays served; the next save tries again.
            Err(e) => eprintln!("error: cannot rebuild {}: {e:#}", site.vault.display()),
        }
    }
}

/// One build with the configuration as it is now (`vaultc.toml` may have changed), reusing
/// the notes of the session's previous build that are not under a `changed` path.
fn rebuild<'s>(
    args: &ServeArgs,
    session: &'s mut BuildSession,
    changed: Option<&[std::path::PathBuf]>,
    progress: Option<vaultc::build::Progress>,
) -> anyhow::Result<&'s BuildReport> {
    let config = load_config(&args.site.vault, &args.lints)?;
    let options = site_build_options(&args.site, config, progress);
    Ok(session.build(&args.site.vault, &options, changed)?)
}

/// The diagnostics worth printing: all of them after the first build, those of the changed
/// files after a rebuild (the summary line counts the rest); only errors with `--quiet`.
fn print_diagnostics(
    args: &ServeArgs,
    report: &BuildReport,
    changed: Option<&[VaultPath]>,
    color: bool,
) {
    let comp = &report.compilation;
    let shown: Vec<_> = comp
        .diagnostics
        .iter()
        .filter(|d| !args.quiet || d.severity == Severity::Error)
        .filter(|d| changed.is_none_or(|files| files.contains(&d.file)))
        .cloned()
        .collect();
    if !shown.is_empty() {
        eprint!("{}", emit::human(&shown, &comp.vault, color));
    }
}
