//! `vaultc check --fix` and `--fix --dry-run` over `fixtures/fix-seed-004/`: a real exported note
//! (`Vision Language Models.md`, seed 004) whose 22 wikilinks were escaped on export
//! (`\[\[concepts/x|Label]]`), plus one tiny note per link target, so that once the escapes are
//! removed nothing in the vault is broken.
//!
//! Every test works on a copy in a temporary folder: the fixture itself is never written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::support::*;

const NOTE: &str = "Vision Language Models.md";

/// A copy of the fixture vault whose files all carry an mtime an hour in the past, so that any
/// rewrite shows up as a changed mtime even on file systems with coarse timestamps.
fn seeded_copy() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("create a temporary directory");
    let vault = tmp.path().join("vault");
    copy_dir(&fixture("fix-seed-004"), &vault);
    let past = SystemTime::now() - Duration::from_secs(3600);
    for rel in list_files(&vault) {
        std::fs::File::options()
            .write(true)
            .open(vault.join(&rel))
            .and_then(|f| f.set_modified(past))
            .unwrap_or_else(|e| panic!("cannot age {}: {e}", rel.display()));
    }
    (tmp, vault)
}

fn mtimes(dir: &Path) -> BTreeMap<PathBuf, SystemTime> {
    list_files(dir)
        .into_iter()
        .map(|rel| {
            let t = std::fs::metadata(dir.join(&rel))
                .and_then(|m| m.modified())
                .expect("mtime");
            (rel, t)
        })
        .collect()
}

fn read(vault: &Path, rel: &str) -> String {
    std::fs::read_to_string(vault.join(rel)).unwrap_or_else(|e| panic!("cannot read {rel}: {e}"))
}

/// The text the escaped-wikilink fix should produce: in this seed every escaped link is
/// `\[\[target|Label]]` (closing brackets and the pipe unescaped), so removing the backslashes
/// of each `\[\[` is exactly the fix, and the single escaped `\[...]\(` markdown link elsewhere
/// must stay as it is.
fn expected_fixed(original: &str) -> String {
    original.replace("\\[\\[", "[[")
}

#[test]
fn fix_unescapes_the_seed_links_and_nothing_else() {
    let (_tmp, vault) = seeded_copy();
    let before_bytes = tree_bytes(&vault);
    let before_mtimes = mtimes(&vault);
    let original = read(&vault, NOTE);
    assert_eq!(original.matches("\\[\\[").count(), 22, "the seed changed?");

    let r = run_cmd(vaultc().arg("check").arg(&vault).arg("--fix"));
    r.assert_no_panic();
    assert!(
        r.code == 0,
        "after fixing nothing is broken, so check --fix should exit 0\n{}",
        r.report()
    );

    let fixed = read(&vault, NOTE);
    assert!(
        fixed.contains("### 1 [[concepts/vlm-algorithms|Algorithms]]\n")
            && fixed.contains("  - - [[concepts/nvidia-nemo|NVIDIA NeMo]]\n"),
        "escaped links were not unescaped:\n{fixed}"
    );
    assert!(!fixed.contains("\\[\\["), "an escape is left:\n{fixed}");
    assert!(
        fixed.contains("\\[Vision Language Model Prompt Engineering\n  Guide]\\("),
        "the escaped markdown link (not a wikilink) must stay escaped:\n{fixed}"
    );
    assert_eq!(
        fixed,
        expected_fixed(&original),
        "the note must differ from the original only in the escaped links"
    );

    // Every other file: same bytes, same mtime; no file added (no temporary file left behind).
    let after_bytes = tree_bytes(&vault);
    let after_mtimes = mtimes(&vault);
    assert_eq!(
        after_bytes.keys().collect::<Vec<_>>(),
        before_bytes.keys().collect::<Vec<_>>(),
        "check --fix added or removed files"
    );
    for (rel, bytes) in &before_bytes {
        if rel == Path::new(NOTE) {
            continue;
        }
        assert!(after_bytes[rel] == *bytes, "{} changed", rel.display());
        assert_eq!(
            after_mtimes[rel],
            before_mtimes[rel],
            "{} was rewritten (mtime changed) though it needed no fix",
            rel.display()
        );
    }

    let (v, code) = check_json(&vault);
    assert_no_code(&v, "escaped-wikilink");
    assert_no_code(&v, "broken-link");
    assert_eq!(code, 0, "{}", show_diags(&v));
}

#[test]
fn second_fix_changes_nothing() {
    let (_tmp, vault) = seeded_copy();
    run_cmd(vaultc().arg("check").arg(&vault).arg("--fix")).assert_no_panic();
    let bytes = tree_bytes(&vault);
    let times = mtimes(&vault);
    run_cmd(vaultc().arg("check").arg(&vault).arg("--fix"))
        .assert_no_panic()
        .assert_code(0);
    assert_eq!(tree_bytes(&vault), bytes, "a second --fix changed files");
    assert_eq!(mtimes(&vault), times, "a second --fix rewrote files");
}

#[test]
fn dry_run_prints_a_unified_diff_and_changes_nothing() {
    let (_tmp, vault) = seeded_copy();
    let before_bytes = tree_bytes(&vault);
    let before_mtimes = mtimes(&vault);

    let r = run_cmd(
        vaultc()
            .arg("check")
            .arg(&vault)
            .args(["--fix", "--dry-run"]),
    );
    r.assert_no_panic();
    assert!(
        r.code == 0 || r.code == 1,
        "check --fix --dry-run must exit 0 or 1\n{}",
        r.report()
    );
    let out = r.all_output();
    for line in [
        // A name with a space ends with a tab, as git writes it, so `patch` reads it whole.
        format!("--- a/{NOTE}\t"),
        format!("+++ b/{NOTE}\t"),
        "-### 1 \\[\\[concepts/vlm-algorithms|Algorithms]]".to_string(),
        "+### 1 [[concepts/vlm-algorithms|Algorithms]]".to_string(),
        "-  - - \\[\\[concepts/fairness-evaluation|Fairness Evaluation]]".to_string(),
        "+  - - [[concepts/fairness-evaluation|Fairness Evaluation]]".to_string(),
    ] {
        assert!(
            out.lines().any(|l| l == line),
            "the dry-run diff lacks the line {line:?}\n{}",
            r.report()
        );
    }
    assert!(
        !out.contains("--- a/concepts/"),
        "notes without fixes must not appear in the diff\n{}",
        r.report()
    );

    assert_eq!(tree_bytes(&vault), before_bytes, "--dry-run changed files");
    assert_eq!(mtimes(&vault), before_mtimes, "--dry-run touched files");
}

/// `check --fix --dry-run` on `vault` (it must exit 0), and its diff applied with `git apply`
/// to a copy of the vault at `tmp/patched`: the run and the patched copy.
fn dry_run_applied(tmp: &Path, vault: &Path) -> (Run, PathBuf) {
    let dry = run_cmd(
        vaultc()
            .arg("check")
            .arg(vault)
            .args(["--fix", "--dry-run"]),
    );
    dry.assert_no_panic().assert_code(0);
    let patched = tmp.join("patched");
    copy_dir(vault, &patched);
    let patch = tmp.join("fix.patch");
    std::fs::write(&patch, &dry.stdout).unwrap();
    let applied = std::process::Command::new("git")
        .arg("apply")
        .arg(&patch)
        .current_dir(&patched)
        .output()
        .expect("git runs");
    assert!(
        applied.status.success(),
        "git apply: {}\n{}",
        String::from_utf8_lossy(&applied.stderr),
        dry.stdout
    );
    (dry, patched)
}

/// The dry run's diff is a patch: `git apply` on a copy of the vault gives what `--fix`
/// writes, for note names with spaces, quotes, backslashes and a tab (git's header forms).
#[test]
fn the_dry_run_diff_applies_as_a_patch() {
    let tmp = tempfile::tempdir().unwrap();
    let vault = tmp.path().join("vault");
    std::fs::create_dir_all(vault.join("sub dir")).unwrap();
    std::fs::write(vault.join("sub dir/Target Note.md"), "# T\n").unwrap();
    let mut names = vec!["a b.md", "plain.md", "sub dir/c d.md"];
    if cfg!(unix) {
        names.extend(["q\"uote.md", "back\\slash.md", "tab\tname.md"]);
    }
    for name in &names {
        std::fs::write(vault.join(name), "one\n\\[\\[Target Note]] two\nthree\n").unwrap();
    }
    // A byte order mark stays, and the diff is of the file's bytes, so it applies.
    std::fs::write(
        vault.join("bom.md"),
        "\u{feff}\\[\\[Target Note]]\nsecond\n",
    )
    .unwrap();
    let (dry, patched) = dry_run_applied(tmp.path(), &vault);
    run_cmd(vaultc().arg("check").arg(&vault).arg("--fix"))
        .assert_no_panic()
        .assert_code(0);
    assert_eq!(tree_bytes(&patched), tree_bytes(&vault), "{}", dry.stdout);
    for name in &names {
        assert_eq!(
            read(&vault, name),
            "one\n[[Target Note]] two\nthree\n",
            "{name}"
        );
    }
    assert_eq!(read(&vault, "bom.md"), "\u{feff}[[Target Note]]\nsecond\n");
}

/// A dry run that cannot make its scratch copy (no temporary folder) is an error (exit 2)
/// that names the folder and `TMPDIR`, not a preview of nothing. (`TMPDIR` is the Unix
/// variable; Windows reads `TMP`.)
#[cfg(unix)]
#[test]
fn a_dry_run_without_a_temporary_folder_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let vault = tmp.path().join("vault");
    std::fs::create_dir_all(&vault).unwrap();
    std::fs::write(vault.join("Target.md"), "# T\n").unwrap();
    std::fs::write(vault.join("a.md"), "\\[\\[Target]]\n").unwrap();
    let missing = tmp.path().join("no-such-folder");
    let r = run_cmd(
        vaultc()
            .env("TMPDIR", &missing)
            .arg("check")
            .arg(&vault)
            .args(["--fix", "--dry-run"]),
    );
    r.assert_no_panic().assert_code(2);
    assert!(
        r.stderr.contains("TMPDIR") && r.stderr.contains(&*missing.to_string_lossy()),
        "{}",
        r.report()
    );
    assert_eq!(read(&vault, "a.md"), "\\[\\[Target]]\n");
}

/// Lines of a diff end at `\n` only, as `git apply` reads them: a lone `\r` (an old Mac line
/// end, or one left in a line) stays inside its line, and a last line without a newline gets
/// the `\ No newline at end of file` marker.
#[test]
fn the_dry_run_diff_keeps_lone_carriage_returns_inside_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let vault = tmp.path().join("vault");
    std::fs::create_dir_all(&vault).unwrap();
    std::fs::write(vault.join("Target.md"), "# T\n").unwrap();
    let text = "a\rb \u{200b}\n\\[\\[Target]] c\r\nd\re \\[\\[Target]]";
    std::fs::write(vault.join("cr.md"), text).unwrap();
    let (dry, patched) = dry_run_applied(tmp.path(), &vault);
    assert_eq!(
        dry.stdout,
        "--- a/cr.md\n+++ b/cr.md\n@@ -1,3 +1,3 @@\n a\rb \u{200b}\n\
         -\\[\\[Target]] c\r\n-d\re \\[\\[Target]]\n\\ No newline at end of file\n\
         +[[Target]] c\r\n+d\re [[Target]]\n\\ No newline at end of file\n"
    );
    assert_eq!(
        read(&patched, "cr.md"),
        "a\rb \u{200b}\n[[Target]] c\r\nd\re [[Target]]"
    );
}

/// `--fix` leaves check's parse cache as the fixed notes are (the next check parses nothing),
/// and `--fix --dry-run` writes no cache at all.
#[test]
fn fix_saves_the_parse_cache_of_the_fixed_notes_and_dry_run_writes_none() {
    let (tmp, vault) = seeded_copy();
    let cache = tmp.path().join("cache");
    let check = |args: &[&str]| {
        let r = run_cmd(
            vaultc()
                .env("VAULTC_CACHE_DIR", &cache)
                .arg("check")
                .arg(&vault)
                .args(args),
        );
        r.assert_no_panic();
        r
    };
    check(&["--fix", "--dry-run"]);
    assert!(!cache.exists(), "--dry-run wrote a cache");

    check(&["--fix"]);
    assert!(read(&vault, NOTE).contains("[[concepts/vlm-algorithms|Algorithms]]"));
    let after = check(&["--timings"]);
    let notes = vault_notes(&vault).len();
    assert!(
        after
            .stderr
            .contains(&format!("notes: 0 parsed, {notes} from the parse cache")),
        "{}",
        after.report()
    );
}

/// A fix can make another possible: an escaped wikilink to an alias or in the wrong letter
/// case is, once unescaped, an alias link or a case mismatch, and an edit nested in another is
/// free once that one is applied. One `--fix` goes on pass after pass until nothing fixable is
/// left (a second run changes nothing), says how many passes it took, and leaves the vault
/// clean; every pass keeps to the files asked for. A dry run shows what all the passes would
/// write (it makes them on a scratch copy in the temporary folder, which it removes), and
/// writes nothing into the vault.
#[test]
fn fix_goes_on_until_no_fix_makes_another_possible() {
    let tmp = tempfile::tempdir().unwrap();
    let vault = tmp.path().join("vault");
    std::fs::create_dir_all(&vault).unwrap();
    std::fs::write(
        vault.join("Target Note.md"),
        "---\naliases: [tn]\n---\n# Target\n",
    )
    .unwrap();
    let escaped = "See \\[\\[TARGET NOTE\\]\\] and \\[\\[tn\\]\\] and [[Target Note]].\n";
    std::fs::write(vault.join("a.md"), escaped).unwrap();
    // Not among the files asked for: no pass touches it.
    std::fs::write(vault.join("b.md"), escaped).unwrap();
    let fix = |extra: &[&str]| {
        run_cmd(
            vaultc()
                .arg("check")
                .arg(&vault)
                .args(["--fix", "--fix-case"])
                .args(extra),
        )
    };
    let a_only = vault.join("a.md").to_string_lossy().into_owned();

    let scratch = tmp.path().join("tmp");
    std::fs::create_dir_all(&scratch).unwrap();
    let dry = run_cmd(
        vaultc()
            .env("TMPDIR", &scratch)
            .arg("check")
            .arg(&vault)
            .args(["--fix", "--fix-case", "--dry-run", &a_only]),
    );
    dry.assert_no_panic().assert_code(0);
    assert_eq!(
        dry.stdout,
        "--- a/a.md\n+++ b/a.md\n@@ -1 +1 @@\n\
         -See \\[\\[TARGET NOTE\\]\\] and \\[\\[tn\\]\\] and [[Target Note]].\n\
         +See [[Target Note]] and [[Target Note|tn]] and [[Target Note]].\n",
        "the diff is what --fix writes, both passes\n{}",
        dry.report()
    );
    assert!(
        dry.stderr.contains(
            "would fix 4 problem(s) in 1 file(s) (2 passes: a fix made another possible) \
             (--dry-run: nothing written)"
        ),
        "{}",
        dry.report()
    );
    assert_eq!(read(&vault, "a.md"), escaped, "--dry-run wrote");
    assert_eq!(read(&vault, "b.md"), escaped, "--dry-run wrote");
    assert_eq!(
        std::fs::read_dir(&scratch).unwrap().count(),
        0,
        "the scratch copy is removed"
    );

    let r = fix(&[&a_only]);
    r.assert_no_panic().assert_code(0);
    assert_eq!(
        read(&vault, "a.md"),
        "See [[Target Note]] and [[Target Note|tn]] and [[Target Note]].\n"
    );
    assert_eq!(
        read(&vault, "b.md"),
        escaped,
        "a file not asked for was fixed"
    );
    assert!(
        r.all_output()
            .contains("fixed 4 problem(s) in 1 file(s) (2 passes: a fix made another possible)"),
        "{}",
        r.report()
    );
    let bytes = tree_bytes(&vault);
    fix(&[&a_only]).assert_no_panic().assert_code(0);
    assert_eq!(tree_bytes(&vault), bytes, "a second --fix changed files");
}
