//! `vaultc build`: build the site, print diagnostics to stderr and a one-line summary.

use anyhow::Context;
use vaultc::build::{build, BuildOptions};
use vaultc::diag::emit;

use super::{
    load_config, require_vault, site_build_options, stderr_is_terminal, use_color, Outcome,
};
use crate::cli::BuildArgs;

/// Runs `build`.
pub fn run(args: BuildArgs) -> anyhow::Result<Outcome> {
    let started = std::time::Instant::now();
    let site = &args.site;
    require_vault(&site.vault)?;
    let config = load_config(&site.vault, &args.lints)?;
    let (bar, progress) = page_counter(args.quiet);
    let options = BuildOptions {
        strict: args.strict,
        full: args.full,
        no_cache: args.no_cache,
        ..site_build_options(site, config, progress)
    };
    let report = build(&site.vault, &options)
        .with_context(|| format!("cannot build {}", site.vault.display()));
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let report = report?;
    let comp = &report.compilation;
    if args.timings {
        eprintln!("timings: {}", comp.timings.line());
    }
    match &report.cache.ignored {
        Some(e) if !e.is_missing() && !args.quiet => {
            eprintln!("note: the parse cache was not used ({e}); every note was parsed again")
        }
        _ => {}
    }
    if let Some(e) = &report.cache.save_error {
        eprintln!("warning: the parse cache was not saved: {e}");
    }
    let color = use_color(stderr_is_terminal());
    let shown: Vec<_> = if args.quiet {
        comp.diagnostics
            .iter()
            .filter(|d| d.severity == vaultc::diag::Severity::Error)
            .cloned()
            .collect()
    } else {
        comp.diagnostics.clone()
    };
    eprint!("{}", emit::human(&shown, &comp.vault, color));
    match report.written {
        Some(_) if args.quiet => {}
        _ => eprintln!("{}", built_line(&report, &site.output, started.elapsed())),
    }
    let outcome = Outcome::of(comp.has_errors());
    // The process exits next: leave the vault's memory to the OS instead of freeing it piece by
    // piece (see check).
    std::mem::forget(report);
    Ok(outcome)
}

/// The one-line summary of a build: what was rendered, written and kept, and the diagnostics.
pub fn built_line(
    report: &vaultc::build::BuildReport,
    output: &std::path::Path,
    took: std::time::Duration,
) -> String {
    let comp = &report.compilation;
    let summary = emit::summary_line(&comp.summary());
    match &report.written {
        Some(stats) if report.tracked => format!(
            "built {} pages into {} in {:.2?} (changed notes only: {} pages checked, {} rendered; {} files written; {} notes parsed, {} reused); {}",
            report.pages,
            output.display(),
            took,
            report.rendered.rendered + report.rendered.kept,
            report.rendered.rendered,
            stats.written,
            comp.parse.parsed,
            comp.parse.reused,
            summary
        ),
        Some(stats) => format!(
            "built {} pages into {} in {:.2?} ({}: {} pages rendered, {} kept; {} files written, {} unchanged, {} attachments; {} notes parsed, {} reused); {}",
            report.pages,
            output.display(),
            took,
            if report.in_place { "incremental" } else { "whole site" },
            report.rendered.rendered,
            report.rendered.kept,
            stats.written,
            stats.reused,
            stats.copied,
            comp.parse.parsed,
            comp.parse.reused,
            summary
        ),
        None => format!("not written (--strict): {summary}"),
    }
}

/// A page counter for a build, on a terminal (stderr) only: nothing in CI, when piped, or with
/// `--quiet`. Returns the bar (to clear when the build ends) and the library's callback.
pub fn page_counter(
    quiet: bool,
) -> (
    Option<indicatif::ProgressBar>,
    Option<vaultc::build::Progress>,
) {
    let bar = (!quiet && stderr_is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} rendering {pos}/{len} pages {wide_bar} {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let progress = bar.clone().map(|bar| {
        vaultc::build::Progress(std::sync::Arc::new(move |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        }))
    });
    (bar, progress)
}
