//! `vaultc check --fix`: apply the machine-applicable [`Fix`]es of diagnostics to note files.
//!
//! [`apply_fixes`] takes the diagnostics of a compilation and rewrites the notes they point at.
//! It is the only place vaultc writes into a vault, so it keeps these invariants:
//!
//! - **Never corrupt a file.** Spans are byte offsets into [`Note::text`], which is the file as
//!   discovery read it: a UTF-8 byte order mark is stripped and invalid UTF-8 is decoded lossily.
//!   Before editing, the file is read again and edited only when its bytes are exactly
//!   `note.text` (or the BOM followed by `note.text`; the BOM is kept). A file that changed since
//!   it was compiled, or that is not valid UTF-8, is skipped with a reason.
//! - **Edits never fight.** Per file, edits are sorted by span; identical duplicates are merged,
//!   an edit that overlaps an earlier one (or inserts at the same point as one) is skipped, and an
//!   edit whose span is out of range or not on character boundaries is skipped. The survivors are
//!   applied back to front, so earlier offsets stay valid.
//! - **Untouched means untouched.** An edit whose replacement equals the text it replaces is
//!   dropped (it is neither applied nor skipped), and a file whose text would not change is never
//!   opened for writing, so its bytes and modification time stay as they were.
//! - **Atomic writes.** The new text goes to a temporary file in the same folder
//!   (`.NAME.vaultc-fix-PID`) with the original's permissions, then `rename`s over the original,
//!   so a reader sees either the old file or the new one. A symlinked note is written through to
//!   its target (the link stays a link). On any write error the temporary file is removed and
//!   the typed [`Error`] is returned; files already written stay written. (A rename gives the file
//!   a new inode, so hard links to a fixed note are not updated.)
//! - **Dry run writes nothing.** With `dry_run`, the same checks run and [`FixReport::diff`] holds
//!   a unified diff (context 3, `a/PATH` and `b/PATH` headers) of every file that would change,
//!   in vault path order. Without it, `diff` is empty. [`fix_vault`]'s dry run makes every pass
//!   a `--fix` would make, on a scratch copy of the notes in the system's temporary folder
//!   (removed afterwards), so its diff is what `--fix` would write, fixes made possible by
//!   other fixes included; the vault itself is only read.
//!
//! Nothing here prints: the caller reports the [`FixReport`].

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use similar::TextDiff;

use crate::compile::{Compilation, CompileOptions};
use crate::diag::{Diagnostic, Fix};
use crate::error::{Error, Result};
use crate::source::VaultPath;
use crate::vault::{Note, Vault};

const BOM: &str = "\u{feff}";

/// What [`apply_fixes`] did (or, in a dry run, would do).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FixReport {
    /// Edits applied (in a dry run: edits that would be applied).
    pub edits_applied: usize,
    /// Edits not applied: overlapping another edit, out of range, or in a skipped file.
    pub edits_skipped: usize,
    /// Unified diff of every file that would change; filled only in a dry run.
    pub diff: String,
    /// Why edits or whole files were skipped, one entry per reason, in path order.
    pub skipped: Vec<(VaultPath, String)>,
    /// The files rewritten (in a dry run: that would be), in path order, each once.
    pub changed: Vec<VaultPath>,
}

impl FixReport {
    /// How many files were rewritten (in a dry run: would be).
    pub fn files_changed(&self) -> usize {
        self.changed.len()
    }
}

/// The most passes [`fix_vault`] makes. A fix can make another one possible (an escaped
/// wikilink, once its backslashes are gone, may be an alias link or differ in letter case; an
/// edit that overlapped another is free once that one is applied); ESLint's `--fix` stops after
/// ten passes too, so a fix that kept making work could never loop forever.
pub const MAX_FIX_PASSES: usize = 10;

/// How [`apply_fixes`] treats a file it changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Writes {
    /// Atomically and durably (the user's vault).
    Vault,
    /// Replaced (a new file renamed over the old), without syncing: a dry run's scratch copy,
    /// whose files may be hard links to the vault's, so none is written in place.
    Scratch,
    /// Not at all: the change goes into the report's diff.
    Diff,
}

/// What [`fix_vault`] did in all its passes.
#[derive(Debug)]
pub struct FixOutcome {
    /// Edits applied and files changed over every pass (`changed` names a file once);
    /// `skipped` and `edits_skipped` are what the last pass could not apply, which is what is
    /// left; `diff` is a dry run's, from each file's text to what every pass left of it.
    pub report: FixReport,
    /// Passes that changed files (in a dry run: would).
    pub passes: usize,
    /// The vault compiled again after the last pass that changed a file (the one given, when
    /// none did or in a dry run): what is left to report.
    pub compilation: Compilation,
}

/// Applies the fixes of the diagnostics `selected` picks in `comp`, compiles the vault at
/// `root` again and repeats while a pass changes a file and fixable diagnostics are left, up to
/// [`MAX_FIX_PASSES`], so that one `--fix` leaves nothing a second one would fix. A dry run
/// makes the same passes on a scratch copy of the notes (see the module documentation).
pub fn fix_vault(
    root: &Path,
    options: &CompileOptions,
    comp: Compilation,
    selected: impl Fn(&Diagnostic) -> bool,
    dry_run: bool,
) -> Result<FixOutcome> {
    if dry_run {
        return fix_scratch_copy(root, options, comp, selected);
    }
    let (report, passes, last) = fix_passes(root, options, &comp, selected, Writes::Vault)?;
    Ok(FixOutcome {
        report,
        passes,
        compilation: last.unwrap_or(comp),
    })
}

/// The passes of [`fix_vault`] over the folder at `root` (the vault, or a dry run's scratch
/// copy), the first from `first` (a compilation of files with the same bytes): what they did,
/// how many changed files, and the compilation after the last that did.
fn fix_passes(
    root: &Path,
    options: &CompileOptions,
    first: &Compilation,
    selected: impl Fn(&Diagnostic) -> bool,
    writes: Writes,
) -> Result<(FixReport, usize, Option<Compilation>)> {
    let mut total = FixReport::default();
    let mut passes = 0;
    let mut last: Option<Compilation> = None;
    while passes < MAX_FIX_PASSES {
        let comp = last.as_ref().unwrap_or(first);
        let fixable: Vec<Diagnostic> = comp
            .diagnostics
            .iter()
            .filter(|d| d.fix.is_some() && selected(d))
            .cloned()
            .collect();
        if fixable.is_empty() {
            total.skipped.clear();
            total.edits_skipped = 0;
            break;
        }
        let report = apply_with(root, &comp.vault, &fixable, writes)?;
        let changed_any = report.files_changed() > 0;
        total.edits_applied += report.edits_applied;
        total.edits_skipped = report.edits_skipped;
        total.skipped = report.skipped;
        total.changed.extend(report.changed);
        if !changed_any {
            break;
        }
        passes += 1;
        last = Some(crate::compile::compile(root, options)?);
    }
    total.changed.sort();
    total.changed.dedup();
    Ok((total, passes, last))
}

/// A dry run of [`fix_vault`]: its passes made on a scratch copy of the vault that `comp`
/// compiled ([`copy_for_dry_run`]), the first from `comp` itself, then the diff of each note
/// changed, from its bytes in the vault to the copy's. The copy is removed when done,
/// whatever happens.
fn fix_scratch_copy(
    root: &Path,
    options: &CompileOptions,
    comp: Compilation,
    selected: impl Fn(&Diagnostic) -> bool,
) -> Result<FixOutcome> {
    if !comp
        .diagnostics
        .iter()
        .any(|d| d.fix.is_some() && selected(d))
    {
        return Ok(FixOutcome {
            report: FixReport::default(),
            passes: 0,
            compilation: comp,
        });
    }
    // tempfile's error names the folder it tried; the temporary folder is the one to fix.
    let scratch = tempfile::Builder::new()
        .prefix("vaultc-fix-dry-run-")
        .tempdir()
        .map_err(|e| {
            Error::io(
                "making the dry run's scratch copy (TMPDIR names the folder) in",
                std::env::temp_dir(),
                std::io::Error::from(e.kind()),
            )
        })?;
    let copy = scratch.path();
    copy_for_dry_run(root, options, &comp.vault, copy)?;
    // Nothing of the vault's own folder applies to the copy: no output to skip, no cache.
    let copy_options = CompileOptions {
        skip_dirs: Vec::new(),
        parse_cache: None,
        reuse: None,
        keep_origins: false,
        ..options.clone()
    };
    // The copy holds the same bytes as the vault: its first pass works from `comp`.
    let (mut report, passes, _) =
        fix_passes(copy, &copy_options, &comp, selected, Writes::Scratch)?;
    // Each file as it is on disk (a byte order mark included), so the diff applies as a patch:
    // a note `--fix` changes is valid UTF-8.
    let text = |dir: &Path, path: &VaultPath| -> Result<String> {
        let file = dir.join(path.as_str());
        let bytes = fs::read(&file).map_err(|e| Error::io("reading", file, e))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    for path in &report.changed {
        let (before, after) = (text(root, path)?, text(copy, path)?);
        report.diff.push_str(&unified_diff(path, &before, &after));
    }
    Ok(FixOutcome {
        report,
        passes,
        compilation: comp,
    })
}

/// Writes into `copy` what a compilation of the vault at `root` reads: every note of `vault`
/// with its bytes on disk, every attachment (links only ask that it exists), and the Obsidian
/// settings files (excluded files, templates folders). A regular file is hard-linked when the
/// copy is on the vault's file system, which creates no file (making ten thousand new files
/// took a 10k-note dry run 3 s on ext4), and copied otherwise (an attachment then as an empty
/// file); a dry run's passes replace the files they change ([`Writes::Scratch`]), so they never
/// write through a link into the vault.
fn copy_for_dry_run(
    root: &Path,
    options: &CompileOptions,
    vault: &Vault,
    copy: &Path,
) -> Result<()> {
    let settings = crate::settings::settings_files(options.config.obsidian_config.as_deref());
    // Until a link fails (another file system, or links refused): then copies.
    let mut linking = true;
    let mut place = |rel: &str, contents: bool| -> Result<()> {
        let to = copy.join(rel);
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::io("writing", parent, e))?;
        }
        place_file(&root.join(rel), &to, contents, &mut linking)
            .map_err(|e| Error::io("writing", to, e))
    };
    for note in &vault.notes {
        place(note.path.as_str(), true)?;
    }
    for attachment in &vault.attachments {
        place(attachment.path.as_str(), false)?;
    }
    for file in &settings {
        if root.join(file).is_file() {
            place(file, true)?;
        }
    }
    Ok(())
}

/// Puts the regular file `from` at `to` as a hard link while `linking`; when a link fails
/// (another file system, links refused), `linking` turns off and `to` gets a copy instead:
/// of the bytes when `contents`, else an empty file. A `from` that is not a regular file (a
/// symlink) is copied; one that cannot be read now leaves nothing, as `--fix` would skip it.
fn place_file(from: &Path, to: &Path, contents: bool, linking: &mut bool) -> std::io::Result<()> {
    let regular = fs::symlink_metadata(from).is_ok_and(|m| m.file_type().is_file());
    if *linking && regular {
        match fs::hard_link(from, to) {
            Ok(()) => return Ok(()),
            Err(_) => *linking = false,
        }
    }
    match contents {
        true => match fs::read(from) {
            Ok(bytes) => fs::write(to, bytes),
            Err(_) => Ok(()),
        },
        false => fs::write(to, b""),
    }
}

/// The unified diff (context 3, `a/PATH` and `b/PATH` headers) of note `path` from `before`
/// to `after`; empty when they are equal.
fn unified_diff(path: &VaultPath, before: &str, after: &str) -> String {
    let path = path.as_str();
    // Lines end at `\n` only, as `patch` and `git apply` read them: `from_lines` also ends one
    // at a lone `\r`, and a hunk over such a line did not apply.
    let before: Vec<&str> = before.split_inclusive('\n').collect();
    let after: Vec<&str> = after.split_inclusive('\n').collect();
    TextDiff::configure()
        .newline_terminated(true)
        .diff_slices(&before, &after)
        .unified_diff()
        .context_radius(3)
        .header(&header_name("a/", path), &header_name("b/", path))
        .to_string()
}

/// A file name for a diff header as git writes one, so that `patch -p1` and `git apply` find
/// the file: a name with a space ends with a tab (else the space would end it), and one with
/// a quote, a backslash or a control character is quoted with C escapes.
fn header_name(prefix: &str, path: &str) -> String {
    if path
        .chars()
        .any(|c| c == '"' || c == '\\' || c.is_control())
    {
        let mut quoted = format!("\"{prefix}");
        for c in path.chars() {
            match c {
                '"' => quoted.push_str("\\\""),
                '\\' => quoted.push_str("\\\\"),
                '\n' => quoted.push_str("\\n"),
                '\t' => quoted.push_str("\\t"),
                c if c.is_control() => {
                    let mut bytes = [0; 4];
                    for b in c.encode_utf8(&mut bytes).bytes() {
                        quoted.push_str(&format!("\\{b:03o}"));
                    }
                }
                c => quoted.push(c),
            }
        }
        quoted.push('"');
        quoted
    } else if path.contains(' ') {
        format!("{prefix}{path}\t")
    } else {
        format!("{prefix}{path}")
    }
}

/// Applies the [`Fix`] of every diagnostic that has one to the notes of `vault` found under
/// `root` (the vault folder the compilation read). See the module documentation for the rules.
///
/// Returns an error only when reading or writing a file fails; problems with the edits or with
/// a file's content are reported in [`FixReport::skipped`].
pub fn apply_fixes(
    root: &Path,
    vault: &Vault,
    diagnostics: &[Diagnostic],
    dry_run: bool,
) -> Result<FixReport> {
    let writes = if dry_run { Writes::Diff } else { Writes::Vault };
    apply_with(root, vault, diagnostics, writes)
}

/// [`apply_fixes`], writing as `writes` says.
fn apply_with(
    root: &Path,
    vault: &Vault,
    diagnostics: &[Diagnostic],
    writes: Writes,
) -> Result<FixReport> {
    let mut by_file: BTreeMap<&VaultPath, Vec<&Fix>> = BTreeMap::new();
    for d in diagnostics {
        if let Some(fix) = &d.fix {
            by_file.entry(&d.file).or_default().push(fix);
        }
    }

    let mut report = FixReport::default();
    for (path, fixes) in by_file {
        let Some(note) = find_note(vault, path) else {
            report.edits_skipped += fixes.len();
            report
                .skipped
                .push((path.clone(), "not a note of the vault".to_string()));
            continue;
        };
        let edits = plan_edits(note, fixes, &mut report);
        if edits.is_empty() {
            continue;
        }
        fix_file(root, note, &edits, writes, &mut report)?;
    }
    Ok(report)
}

/// One edit that survived planning: a valid, non-overlapping, effective replacement.
#[derive(Debug)]
struct Edit<'a> {
    start: usize,
    end: usize,
    replacement: &'a str,
}

/// The note at `path` (notes are sorted by path).
fn find_note<'v>(vault: &'v Vault, path: &VaultPath) -> Option<&'v Note> {
    vault
        .notes
        .binary_search_by(|n| n.path.cmp(path))
        .ok()
        .and_then(|i| vault.notes.get(i))
}

/// Sorts, validates and de-overlaps the fixes of one note; records what it drops.
fn plan_edits<'a>(note: &Note, fixes: Vec<&'a Fix>, report: &mut FixReport) -> Vec<Edit<'a>> {
    let text = note.text.as_str();
    let mut candidates: Vec<Edit<'a>> = Vec::with_capacity(fixes.len());
    for fix in fixes {
        let (start, end) = (fix.span.start as usize, fix.span.end as usize);
        let Some(current) = text.get(start..end).filter(|_| start <= end) else {
            report.edits_skipped += 1;
            report.skipped.push((
                note.path.clone(),
                format!("edit at bytes {start}..{end} is outside the text or splits a character"),
            ));
            continue;
        };
        if current == fix.replacement {
            continue; // Already what the fix wants: nothing to do.
        }
        candidates.push(Edit {
            start,
            end,
            replacement: &fix.replacement,
        });
    }
    candidates
        .sort_by(|a, b| (a.start, a.end, a.replacement).cmp(&(b.start, b.end, b.replacement)));

    let mut kept: Vec<Edit<'a>> = Vec::with_capacity(candidates.len());
    for edit in candidates {
        if let Some(prev) = kept.last() {
            let same_span = prev.start == edit.start && prev.end == edit.end;
            if same_span && prev.replacement == edit.replacement {
                continue; // The same edit from two diagnostics: apply it once.
            }
            if edit.start < prev.end || same_span {
                let line = note.lines().line(edit.start as u32);
                report.edits_skipped += 1;
                report.skipped.push((
                    note.path.clone(),
                    format!(
                        "edit on line {line} (bytes {}..{}) overlaps an earlier edit",
                        edit.start, edit.end
                    ),
                ));
                continue;
            }
        }
        kept.push(edit);
    }
    kept
}

/// Checks the file on disk against the note, then writes (or diffs) the edited text.
fn fix_file(
    root: &Path,
    note: &Note,
    edits: &[Edit<'_>],
    writes: Writes,
    report: &mut FixReport,
) -> Result<()> {
    let disk = root.join(note.path.as_str());
    let mut skip = |reason: &str| {
        report.edits_skipped += edits.len();
        report.skipped.push((note.path.clone(), reason.to_string()));
    };
    // Write through symlinks to the real file, so the link itself survives.
    let real = match fs::canonicalize(&disk) {
        Ok(real) => real,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            skip("the file no longer exists");
            return Ok(());
        }
        Err(e) => return Err(Error::io("reading", disk, e)),
    };
    let bytes = match fs::read(&real) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            skip("the file no longer exists");
            return Ok(());
        }
        Err(e) => return Err(Error::io("reading", disk, e)),
    };
    let text = note.text.as_bytes();
    let has_bom = if bytes == text {
        false
    } else if bytes.len() == BOM.len() + text.len()
        && bytes.starts_with(BOM.as_bytes())
        && bytes[BOM.len()..] == *text
    {
        true
    } else if std::str::from_utf8(&bytes).is_err() {
        skip("not valid UTF-8; fixing it could change the invalid bytes");
        return Ok(());
    } else {
        skip("changed since it was read; run the command again");
        return Ok(());
    };

    // The edits are sorted and apart: the text is copied once around them (replacing each in
    // place moved the rest of the text for every edit: thousands of fixes on one line were
    // quadratic).
    let source = note.text.as_str();
    let mut new_text = String::with_capacity(source.len());
    let mut pos = 0;
    for edit in edits {
        new_text.push_str(&source[pos..edit.start]);
        new_text.push_str(edit.replacement);
        pos = edit.end;
    }
    new_text.push_str(&source[pos..]);
    if new_text == note.text {
        return Ok(()); // The edits cancel out: leave the file alone.
    }
    report.edits_applied += edits.len();
    report.changed.push(note.path.clone());

    if has_bom {
        new_text.insert_str(0, BOM);
    }
    if writes == Writes::Diff {
        // The file's own bytes on both sides (its byte order mark too), so the diff applies.
        let before = if has_bom {
            format!("{BOM}{}", note.text)
        } else {
            note.text.clone()
        };
        report
            .diff
            .push_str(&unified_diff(&note.path, &before, &new_text));
        return Ok(());
    }
    write_atomically(&real, new_text.as_bytes(), writes == Writes::Vault)
        .map_err(|e| Error::io("writing", disk, e))
}

/// Replaces `path` with `contents` through a temporary sibling file and a rename, keeping the
/// original's permissions, the new file synced to disk first when `durable`. Removes the
/// temporary file on failure.
fn write_atomically(path: &Path, contents: &[u8], durable: bool) -> std::io::Result<()> {
    let permissions = fs::metadata(path)?.permissions();
    let temp = temp_path(path)?;
    let result =
        write_temp(&temp, contents, permissions, durable).and_then(|()| fs::rename(&temp, path));
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// `.NAME.vaultc-fix-PID` next to `path`.
fn temp_path(path: &Path) -> std::io::Result<PathBuf> {
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(ErrorKind::InvalidInput, "the path has no file name"))?;
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".vaultc-fix-{}", std::process::id()));
    Ok(path.with_file_name(temp_name))
}

fn write_temp(
    temp: &Path,
    contents: &[u8],
    permissions: fs::Permissions,
    durable: bool,
) -> std::io::Result<()> {
    let mut file = match OpenOptions::new().write(true).create_new(true).open(temp) {
        Ok(file) => file,
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            // Left over by a crashed run with the same process id: replace it.
            fs::remove_file(temp)?;
            OpenOptions::new().write(true).create_new(true).open(temp)?
        }
        Err(e) => return Err(e),
    };
    file.write_all(contents)?;
    file.set_permissions(permissions)?;
    match durable {
        true => file.sync_all(),
        false => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::compile::{compile, CompileOptions};
    use crate::diag::Code;
    use crate::source::Span;

    fn vault_with(files: &[(&str, &[u8])]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        for (rel, bytes) in files {
            let p = dir.path().join(rel);
            fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            fs::write(&p, bytes).expect("write");
        }
        dir
    }

    fn read(dir: &tempfile::TempDir, rel: &str) -> String {
        fs::read_to_string(dir.path().join(rel)).expect("read")
    }

    fn mtime(dir: &tempfile::TempDir, rel: &str) -> SystemTime {
        fs::metadata(dir.path().join(rel))
            .and_then(|m| m.modified())
            .expect("mtime")
    }

    /// Sets every file's mtime into the past, so a rewrite would be visible.
    fn age(dir: &tempfile::TempDir, rels: &[&str]) {
        let past = SystemTime::now() - Duration::from_secs(3600);
        for rel in rels {
            let f = fs::File::options()
                .write(true)
                .open(dir.path().join(rel))
                .expect("open");
            f.set_modified(past).expect("set mtime");
        }
    }

    fn fix_all(dir: &tempfile::TempDir, dry_run: bool) -> FixReport {
        let comp = compile(dir.path(), &CompileOptions::default()).expect("compile");
        apply_fixes(dir.path(), &comp.vault, &comp.diagnostics, dry_run).expect("apply")
    }

    fn no_temp_files(dir: &tempfile::TempDir) {
        let leftovers: Vec<_> = walkdir::WalkDir::new(dir.path())
            .into_iter()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".vaultc-fix-"))
            .map(|e| e.path().to_path_buf())
            .collect();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    }

    #[test]
    fn escaped_wikilink_is_fixed() {
        let dir = vault_with(&[
            (
                "a.md",
                b"# A\n\nSee \\[\\[b|the B note\\]\\] and \\[\\[b]].\n",
            ),
            ("b.md", b"# B\n"),
        ]);
        let report = fix_all(&dir, false);
        assert_eq!(
            read(&dir, "a.md"),
            "# A\n\nSee [[b|the B note]] and [[b]].\n"
        );
        assert_eq!(
            (
                report.files_changed(),
                report.edits_applied,
                report.edits_skipped
            ),
            (1, 2, 0),
            "{report:?}"
        );
        assert!(report.diff.is_empty() && report.skipped.is_empty());
        no_temp_files(&dir);
        let again = compile(dir.path(), &CompileOptions::default()).expect("compile");
        assert!(!again
            .diagnostics
            .iter()
            .any(|d| d.code == Code::EscapedWikilink));
    }

    #[cfg(unix)]
    #[test]
    fn permissions_are_kept() {
        use std::os::unix::fs::PermissionsExt;
        let dir = vault_with(&[("a.md", b"\\[\\[b]]\n"), ("b.md", b"")]);
        let p = dir.path().join("a.md");
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).expect("chmod");
        fix_all(&dir, false);
        assert_eq!(read(&dir, "a.md"), "[[b]]\n");
        let mode = fs::metadata(&p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
    }

    #[test]
    fn overlapping_edits_are_skipped() {
        let dir = vault_with(&[("a.md", b"0123456789\n"), ("b.md", b"x\n")]);
        let comp = compile(dir.path(), &CompileOptions::default()).expect("compile");
        let a = comp.vault.notes[0].path.clone();
        let b = comp.vault.notes[1].path.clone();
        let edit = |file: &VaultPath, r: std::ops::Range<usize>, with: &str| {
            let mut d = Diagnostic::new(
                Code::EscapedWikilink,
                file.clone(),
                Span::new(r.clone()),
                "t",
            );
            d.fix = Some(Fix {
                span: Span::new(r),
                replacement: with.to_string(),
            });
            d
        };
        let diags = vec![
            edit(&a, 6..8, "X"),  // overlaps 2..7: skipped
            edit(&a, 2..7, "Y"),  // kept
            edit(&a, 2..7, "Y"),  // duplicate: merged
            edit(&a, 9..9, "+"),  // insertion: kept
            edit(&a, 9..9, "-"),  // second insertion at the same point: skipped
            edit(&a, 0..1, "0"),  // no-op: dropped
            edit(&a, 0..99, "!"), // out of range: skipped
            edit(&b, 0..1, "y"),  // another file: kept
        ];
        let report = apply_fixes(dir.path(), &comp.vault, &diags, false).expect("apply");
        assert_eq!(read(&dir, "a.md"), "01Y78+9\n");
        assert_eq!(read(&dir, "b.md"), "y\n");
        assert_eq!(
            (
                report.files_changed(),
                report.edits_applied,
                report.edits_skipped
            ),
            (2, 3, 3),
            "{report:?}"
        );
        assert_eq!(report.skipped.len(), 3);
        assert!(report.skipped.iter().all(|(p, _)| *p == a));
        assert!(report
            .skipped
            .iter()
            .any(|(_, why)| why.contains("overlaps")));
        assert!(report
            .skipped
            .iter()
            .any(|(_, why)| why.contains("outside")));
    }

    #[test]
    fn file_changed_after_compile_is_skipped() {
        let dir = vault_with(&[("a.md", b"\\[\\[b]]\n"), ("b.md", b"\\[\\[a]]\n")]);
        let comp = compile(dir.path(), &CompileOptions::default()).expect("compile");
        fs::write(dir.path().join("a.md"), "edited meanwhile \\[\\[b]]\n").expect("write");
        let report = apply_fixes(dir.path(), &comp.vault, &comp.diagnostics, false).expect("apply");
        assert_eq!(read(&dir, "a.md"), "edited meanwhile \\[\\[b]]\n");
        assert_eq!(read(&dir, "b.md"), "[[a]]\n");
        assert_eq!(
            (
                report.files_changed(),
                report.edits_applied,
                report.edits_skipped
            ),
            (1, 1, 1)
        );
        assert_eq!(report.skipped.len(), 1);
        assert_eq!(report.skipped[0].0.as_str(), "a.md");
        assert!(report.skipped[0].1.contains("changed since it was read"));
    }

    #[test]
    fn invalid_utf8_file_is_skipped() {
        let dir = vault_with(&[("a.md", b"\\[\\[b]] \xff\n"), ("b.md", b"")]);
        let report = fix_all(&dir, false);
        assert_eq!(
            fs::read(dir.path().join("a.md")).expect("read"),
            b"\\[\\[b]] \xff\n"
        );
        assert_eq!((report.files_changed(), report.edits_skipped), (0, 1));
        assert!(report.skipped[0].1.contains("not valid UTF-8"));
    }

    /// A file is linked while links work; once one fails (here: the name is taken) the rest
    /// are copied, an attachment as an empty file; a symlink is copied, never linked.
    #[test]
    fn scratch_files_are_linked_until_a_link_fails_then_copied() {
        let dir = tempfile::tempdir().unwrap();
        let (from, to) = (dir.path().join("vault"), dir.path().join("copy"));
        fs::create_dir_all(&from).unwrap();
        fs::create_dir_all(&to).unwrap();
        for name in ["a.md", "b.md", "c.png"] {
            fs::write(from.join(name), format!("{name} bytes")).unwrap();
        }
        let mut linking = true;
        place_file(&from.join("a.md"), &to.join("a.md"), true, &mut linking).unwrap();
        assert!(linking);
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let (x, y) = (
                fs::metadata(from.join("a.md")).unwrap(),
                fs::metadata(to.join("a.md")).unwrap(),
            );
            assert_eq!((x.ino(), x.nlink()), (y.ino(), 2), "a hard link");
        }
        fs::write(to.join("b.md"), "taken").unwrap();
        place_file(&from.join("b.md"), &to.join("b.md"), true, &mut linking).unwrap();
        assert!(!linking, "a failed link turns linking off");
        assert_eq!(fs::read_to_string(to.join("b.md")).unwrap(), "b.md bytes");
        place_file(&from.join("c.png"), &to.join("c.png"), false, &mut linking).unwrap();
        assert_eq!(fs::read(to.join("c.png")).unwrap(), b"");
        // Copies are files of their own: writing one leaves the vault's alone.
        fs::write(to.join("b.md"), "changed").unwrap();
        assert_eq!(fs::read_to_string(from.join("b.md")).unwrap(), "b.md bytes");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(from.join("a.md"), from.join("l.md")).unwrap();
            let mut linking = true;
            place_file(&from.join("l.md"), &to.join("l.md"), true, &mut linking).unwrap();
            let meta = fs::symlink_metadata(to.join("l.md")).unwrap();
            assert!(
                meta.file_type().is_file() && linking,
                "a symlink is copied as a file"
            );
        }
        place_file(
            &from.join("gone.md"),
            &to.join("gone.md"),
            true,
            &mut linking,
        )
        .unwrap();
        assert!(!to.join("gone.md").exists());
    }

    #[test]
    fn diff_headers_name_files_as_git_does() {
        assert_eq!(header_name("a/", "plain.md"), "a/plain.md");
        assert_eq!(header_name("a/", "with space.md"), "a/with space.md\t");
        assert_eq!(header_name("b/", "q\"uote.md"), "\"b/q\\\"uote.md\"");
        assert_eq!(
            header_name("a/", "back\\slash.md"),
            "\"a/back\\\\slash.md\""
        );
        assert_eq!(header_name("a/", "tab\tx y.md"), "\"a/tab\\tx y.md\"");
        assert_eq!(header_name("a/", "bell\u{7}.md"), "\"a/bell\\007.md\"");
        assert_eq!(header_name("a/", "视觉 模型.md"), "a/视觉 模型.md\t");
    }

    #[test]
    fn dry_run_writes_nothing_and_returns_a_diff() {
        let dir = vault_with(&[
            ("a.md", b"one\ntwo\n\\[\\[b]]\nthree\n"),
            ("b.md", b"\\[\\[a|A]]\n"),
        ]);
        age(&dir, &["a.md", "b.md"]);
        let before = (mtime(&dir, "a.md"), mtime(&dir, "b.md"));
        let report = fix_all(&dir, true);
        assert_eq!(read(&dir, "a.md"), "one\ntwo\n\\[\\[b]]\nthree\n");
        assert_eq!(read(&dir, "b.md"), "\\[\\[a|A]]\n");
        assert_eq!(before, (mtime(&dir, "a.md"), mtime(&dir, "b.md")));
        assert_eq!((report.files_changed(), report.edits_applied), (2, 2));
        assert_eq!(
            report.diff,
            "--- a/a.md\n+++ b/a.md\n@@ -1,4 +1,4 @@\n one\n two\n-\\[\\[b]]\n+[[b]]\n three\n\
             --- a/b.md\n+++ b/b.md\n@@ -1 +1 @@\n-\\[\\[a|A]]\n+[[a|A]]\n"
        );
        no_temp_files(&dir);
    }

    #[test]
    fn bom_is_kept() {
        let dir = vault_with(&[
            ("a.md", "\u{feff}# A\n\\[\\[b]]\n".as_bytes()),
            ("b.md", b""),
        ]);
        // A dry run diffs the file's bytes, the mark included, so the diff applies to it.
        let dry = fix_all(&dir, true);
        assert_eq!(
            dry.diff,
            "--- a/a.md\n+++ b/a.md\n@@ -1,2 +1,2 @@\n \u{feff}# A\n-\\[\\[b]]\n+[[b]]\n"
        );
        let report = fix_all(&dir, false);
        assert_eq!(report.edits_applied, 1, "{report:?}");
        assert_eq!(
            fs::read(dir.path().join("a.md")).expect("read"),
            "\u{feff}# A\n[[b]]\n".as_bytes()
        );
    }

    #[test]
    fn untouched_files_keep_their_mtime() {
        let dir = vault_with(&[
            ("a.md", b"\\[\\[b]]\n"),
            ("b.md", b"[[a]]\n"),
            ("c.md", b"[[missing]]\n"),
        ]);
        age(&dir, &["a.md", "b.md", "c.md"]);
        let before = (mtime(&dir, "b.md"), mtime(&dir, "c.md"));
        let a_before = mtime(&dir, "a.md");
        let report = fix_all(&dir, false);
        assert_eq!(report.files_changed(), 1);
        assert_eq!(before, (mtime(&dir, "b.md"), mtime(&dir, "c.md")));
        assert_ne!(a_before, mtime(&dir, "a.md"));
    }

    #[test]
    fn no_op_fixes_leave_the_file_alone() {
        let dir = vault_with(&[("a.md", b"[[b]]\n"), ("b.md", b"")]);
        age(&dir, &["a.md"]);
        let before = mtime(&dir, "a.md");
        let comp = compile(dir.path(), &CompileOptions::default()).expect("compile");
        let mut d = Diagnostic::new(
            Code::EscapedWikilink,
            comp.vault.notes[0].path.clone(),
            Span::new(0..5),
            "t",
        );
        d.fix = Some(Fix {
            span: Span::new(0..5),
            replacement: "[[b]]".to_string(),
        });
        let report = apply_fixes(dir.path(), &comp.vault, &[d], false).expect("apply");
        assert_eq!(report, FixReport::default());
        assert_eq!(before, mtime(&dir, "a.md"));
    }

    #[cfg(unix)]
    #[test]
    fn symlinked_note_stays_a_symlink() {
        let dir = vault_with(&[("real/a.md", b"\\[\\[b]]\n"), ("b.md", b"")]);
        // Outside the vault's walk: a dot folder holds the real file, the vault sees the link.
        let hidden = dir.path().join(".store");
        fs::create_dir_all(&hidden).expect("mkdir");
        fs::rename(dir.path().join("real/a.md"), hidden.join("a.md")).expect("move");
        std::os::unix::fs::symlink(hidden.join("a.md"), dir.path().join("real/a.md"))
            .expect("symlink");
        let report = fix_all(&dir, false);
        assert_eq!(report.files_changed(), 1, "{report:?}");
        let link = dir.path().join("real/a.md");
        assert!(fs::symlink_metadata(&link)
            .expect("meta")
            .file_type()
            .is_symlink());
        assert_eq!(
            fs::read_to_string(hidden.join("a.md")).expect("read"),
            "[[b]]\n"
        );
    }

    #[test]
    fn failed_write_leaves_no_temp_file() {
        // Renaming a file over a non-empty folder fails after the temporary file was written.
        let dir = vault_with(&[("a.md/inner.md", b"x\n")]);
        let err = write_atomically(&dir.path().join("a.md"), b"y", true).expect_err("must fail");
        assert_ne!(err.kind(), ErrorKind::NotFound);
        no_temp_files(&dir);
        assert_eq!(read(&dir, "a.md/inner.md"), "x\n");
    }
}
