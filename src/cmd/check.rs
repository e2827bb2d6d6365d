//! `vaultc check`: compile without rendering, report diagnostics, optionally apply fixes.

use std::path::Path;

use anyhow::Context;
use vaultc::diag::{emit, Code, Diagnostic, Severity, Summary};
use vaultc::source::VaultPath;

use super::{load_config, print_stdout, stdout_is_terminal, use_color, Outcome};
use crate::cli::{CheckArgs, CheckFormat};

/// How long the watcher of `--watch` waits for a burst of events (an editor's save) to end.
const DEBOUNCE: std::time::Duration = std::time::Duration::from_millis(50);

/// Runs `check`.
pub fn run(args: CheckArgs) -> anyhow::Result<Outcome> {
    super::require_vault(&args.vault)?;
    if args.watch {
        return watch(&args);
    }
    check_once(&args)
}

/// `check --watch`: checks, then again after every change to the vault, until Ctrl-C (exit
/// 0) or until the watcher dies (exit 2). A check that cannot run (an invalid `vaultc.toml`
/// being edited) is reported and waited out like a vault with errors.
fn watch(args: &CheckArgs) -> anyhow::Result<Outcome> {
    let vault = args
        .vault
        .canonicalize()
        .with_context(|| format!("cannot read {}", args.vault.display()))?;
    let theme = load_config(&args.vault, &args.lints)
        .ok()
        .and_then(|config| config.theme_dir(&args.vault))
        .filter(|dir| dir.is_dir());
    let watcher =
        vaultc::serve::VaultWatcher::start(&vault, theme.as_slice(), Vec::new(), DEBOUNCE)?;
    // Ctrl-C between checks stops at once; during one, once it is over, so the parse cache
    // is never left half-written.
    let checking = std::sync::Arc::new(std::sync::Mutex::new(()));
    {
        let checking = std::sync::Arc::clone(&checking);
        ctrlc::set_handler(move || {
            let _idle = checking.lock();
            std::process::exit(0);
        })
        .context("cannot handle Ctrl-C")?;
    }
    loop {
        {
            let _busy = checking.lock().unwrap_or_else(|e| e.into_inner());
            if let Err(e) = check_once(args) {
                eprintln!("error: {e:#}");
            }
        }
        eprintln!(
            "watching {} for changes; Ctrl-C stops",
            args.vault.display()
        );
        let changes = watcher.next_change()?;
        let changed = match changes.paths.as_slice() {
            [one] => one
                .strip_prefix(&vault)
                .unwrap_or(one)
                .display()
                .to_string(),
            many => format!("{} files", many.len()),
        };
        eprintln!("{changed} changed: checking again");
    }
}

/// One check of the vault: compile, fix if asked, print the diagnostics.
fn check_once(args: &CheckArgs) -> anyhow::Result<Outcome> {
    let mut config = load_config(&args.vault, &args.lints)?;
    // Asking to fix letter case means wanting to see case mismatches.
    if args.fix_case && config.level(Code::CaseMismatch) == vaultc::diag::Level::Allow {
        config.set_level(Code::CaseMismatch, vaultc::diag::Level::Warn);
    }
    // The vault's parse cache: notes whose text it holds are not parsed again. `--dry-run`
    // writes nothing at all, the cache included.
    let cache_dir = (!args.no_cache && !args.dry_run)
        .then(|| vaultc::cache::check_cache_dir(&args.vault))
        .flatten();
    let load_started = std::time::Instant::now();
    // Absent, stale or damaged, it is replaced without a word: it is the user's cache, not
    // the vault's, and only speed depends on it.
    let parse_cache = cache_dir
        .as_deref()
        .map(|dir| std::sync::Arc::new(vaultc::cache::ParseCache::load_or_empty(dir).0));
    let load_time = load_started.elapsed();
    let options = vaultc::CompileOptions {
        config,
        parse_cache,
        ..Default::default()
    };
    let mut comp = vaultc::compile(&args.vault, &options)
        .with_context(|| format!("cannot check {}", args.vault.display()))?;
    if args.timings {
        if options.parse_cache.is_some() {
            comp.timings.stages.insert(0, ("cache-load", load_time));
        }
        eprintln!("timings: {}", comp.timings.line());
        eprintln!(
            "notes: {} parsed, {} from the parse cache",
            comp.parse.parsed, comp.parse.reused
        );
    }
    let only = only_files(&comp.root, &args.files)?;

    if args.fix {
        let codes = |d: &Diagnostic| match d.code {
            Code::EscapedWikilink | Code::AliasLink | Code::BrokenFragment => true,
            Code::CaseMismatch => args.fix_case,
            _ => false,
        };
        let wanted =
            |d: &Diagnostic| codes(d) && only.as_ref().is_none_or(|files| files.contains(&d.file));
        let root = comp.root.clone();
        let fixed = vaultc::fix::fix_vault(&root, &options, comp, wanted, args.dry_run)?;
        comp = fixed.compilation;
        let report = fixed.report;
        if args.dry_run {
            print_stdout(&report.diff)?;
        }
        let (not_fixed, fixed_word, done) = match args.dry_run {
            true => (
                "would not fix",
                "would fix",
                " (--dry-run: nothing written)",
            ),
            false => ("not fixed", "fixed", ""),
        };
        for (path, why) in &report.skipped {
            eprintln!("warning: {not_fixed}: {path}: {why}");
        }
        let passes = if fixed.passes > 1 {
            format!(" ({} passes: a fix made another possible)", fixed.passes)
        } else {
            String::new()
        };
        eprintln!(
            "{fixed_word} {} problem(s) in {} file(s){passes}{done}",
            report.edits_applied,
            report.files_changed()
        );
        if args.dry_run {
            return Ok(Outcome::Clean);
        }
    }
    // The next cache, from the notes as they are now, is saved while the diagnostics are
    // reported.
    let saving = comp
        .cache_update
        .take()
        .zip(cache_dir)
        .map(|(update, dir)| std::thread::spawn(move || update.save(&dir)));
    let shown = filter(&comp.diagnostics, &only);
    let outcome = report_and_outcome(args, &comp.vault, shown, &comp);
    if let Some(saving) = saving {
        // A cache that cannot be written (an unwritable cache folder) only makes the next
        // check slower.
        if let Ok(Err(e)) = saving.join() {
            eprintln!("warning: the parse cache was not saved: {e:#} (--no-cache skips it)");
        }
    }
    // The process exits next: leave the vault's memory to the OS instead of freeing its many
    // small allocations one by one (tens of milliseconds on a large vault). A watch checks
    // again, so it frees it.
    if !args.watch {
        std::mem::forget(comp);
    }
    outcome
}

fn filter(diagnostics: &[Diagnostic], only: &Option<Vec<VaultPath>>) -> Vec<Diagnostic> {
    diagnostics
        .iter()
        .filter(|d| only.as_ref().is_none_or(|files| files.contains(&d.file)))
        .cloned()
        .collect()
}

fn report_and_outcome(
    args: &CheckArgs,
    vault: &vaultc::vault::Vault,
    shown: Vec<Diagnostic>,
    comp: &vaultc::Compilation,
) -> anyhow::Result<Outcome> {
    let errors = shown
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let summary = Summary {
        errors,
        warnings: shown.len() - errors,
        ..comp.summary()
    };
    match args.format {
        // A watch prints a report per check: one per line.
        CheckFormat::Json if args.watch => print_stdout(&emit::json_line(&shown, vault, summary))?,
        CheckFormat::Json => print_stdout(&emit::json(&shown, vault, summary))?,
        // CI tools resolve paths from the repository root (the current folder), so a vault in
        // a sub-folder needs its path in front of every file.
        CheckFormat::Github => {
            let prefix = repo_prefix(&args.vault);
            print_stdout(&vaultc::diag::ci::github_with_prefix(
                &shown, vault, &prefix,
            ))?
        }
        CheckFormat::Sarif => {
            let prefix = repo_prefix(&args.vault);
            print_stdout(&vaultc::diag::ci::sarif_with_prefix(&shown, vault, &prefix))?
        }
        CheckFormat::Gitlab => {
            let prefix = repo_prefix(&args.vault);
            print_stdout(&vaultc::diag::ci::gitlab_with_prefix(
                &shown, vault, &prefix,
            ))?
        }
        CheckFormat::Human => {
            let mut text = emit::human(&shown, vault, use_color(stdout_is_terminal()));
            text.push_str(&emit::summary_line(&summary));
            text.push('\n');
            print_stdout(&text)?;
        }
    }
    Ok(Outcome::of(errors > 0))
}

/// The vault folder as seen from the current folder (`notes` for `vaultc check notes`), so CI
/// annotations name repository paths; `""` when the vault is the current folder or outside it.
fn repo_prefix(vault: &Path) -> String {
    let (Ok(cwd), Ok(abs)) = (
        std::env::current_dir().and_then(|d| d.canonicalize()),
        vault.canonicalize(),
    ) else {
        return String::new();
    };
    abs.strip_prefix(&cwd)
        .map(|rel| {
            rel.components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/")
        })
        .unwrap_or_default()
}

/// The FILES arguments as vault paths (relative to the current folder or to the vault).
fn only_files(root: &Path, files: &[std::path::PathBuf]) -> anyhow::Result<Option<Vec<VaultPath>>> {
    if files.is_empty() {
        return Ok(None);
    }
    let mut out = Vec::new();
    for file in files {
        let rel = match file.canonicalize() {
            Ok(abs) => abs
                .strip_prefix(root)
                .map(|r| r.to_path_buf())
                .map_err(|_| {
                    anyhow::anyhow!(
                        "{} is not inside the vault {}",
                        file.display(),
                        root.display()
                    )
                })?,
            Err(_) => file.clone(),
        };
        let text = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        match VaultPath::new(&text) {
            Some(p) => out.push(p),
            None => anyhow::bail!("{} is not a file of the vault", file.display()),
        }
    }
    Ok(Some(out))
}
