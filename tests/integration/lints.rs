//! Issue-3 lints and configuration: one case of every code at its exact position, levels from
//! `vaultc.toml` and the command line, per-note suppression, FILES filtering, `explain`.

use std::path::Path;

use serde_json::Value;

use crate::support::*;

fn check(vault: &Path, extra: &[&str]) -> (Value, i32) {
    let mut args = vec![
        "check".to_string(),
        vault.to_str().unwrap().to_string(),
        "--format".into(),
        "json".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let run = run(&args);
    run.assert_no_panic();
    let v: Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("json: {e}\n{}", run.report()));
    (v, run.code)
}

#[test]
fn every_code_at_its_position() {
    let vault = fixture("every-code");
    let (v, code) = check(&vault, &[]);
    assert_eq!(code, 1, "{}", show_diags(&v));
    assert_diag(&v, "broken-link", "Main.md", 6, 10);
    assert_diag(&v, "broken-fragment", "Main.md", 7, 19);
    assert_diag(&v, "ambiguous-link", "Main.md", 8, 14);
    assert_diag(&v, "missing-attachment", "Main.md", 9, 19);
    assert_diag(&v, "alias-link", "Main.md", 10, 15);
    assert_diag(&v, "case-mismatch", "Main.md", 11, 17);
    assert_diag(&v, "escaped-wikilink", "Main.md", 12, 12);
    assert_diag(&v, "empty-link", "Main.md", 13, 10);
    assert_diag(&v, "deprecated-property", "Target.md", 3, 1);
    assert_diag(&v, "duplicate-block-id", "Target.md", 8, 13);
    assert_diag(&v, "duplicate-heading-anchor", "Target.md", 12, 1);
    assert_diag(&v, "self-embed", "Target.md", 14, 1);
    assert_diag(&v, "embed-cycle", "Cycle1.md", 1, 1);
    assert_diag(&v, "embed-cycle", "Cycle2.md", 1, 1);
    assert_diag(&v, "slug-collision", "Slug-one.md", 1, 1);
    assert_diag(&v, "orphan-note", "Orphan.md", 1, 1);
    assert_diag(&v, "unreadable-file", "Bad-utf8.md", 1, 1);
    assert_diag(&v, "invalid-settings", ".obsidian/app.json", 2, 36);
    assert_diag(&v, "ignored-symlink", "a-again", 1, 1);
    assert_diag(&v, "invalid-canvas", "Broken.canvas", 3, 41);
    assert_diag(&v, "unused-attachment", "Unused.png", 1, 1);
    let yaml = diags_with_code(&v, "invalid-front-matter");
    assert_eq!(yaml.len(), 1, "{}", show_diags(&v));
    assert_eq!(yaml[0]["file"], "Broken-yaml.md");
    assert!(
        (2..=3).contains(&yaml[0]["line"].as_u64().unwrap()),
        "{}",
        show_diag(yaml[0])
    );
    // Every code of the table is exercised by this fixture.
    let listed = run(["explain", "--list"]);
    let codes: Vec<&str> = listed
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| w.contains('-'))
        .collect();
    assert!(codes.len() >= 19, "explain --list: {}", listed.stdout);
    for c in codes {
        assert!(
            !diags_with_code(&v, c).is_empty(),
            "no `{c}` diagnostic in every-code:\n{}",
            show_diags(&v)
        );
    }
}

#[test]
fn fixes_are_machine_applicable() {
    let (v, _) = check(&fixture("every-code"), &[]);
    let text = std::fs::read_to_string(fixture("every-code").join("Main.md")).unwrap();
    let fix_of = |code: &str| {
        let d = diags_with_code(&v, code)[0];
        let f = &d["fix"];
        let (s, e) = (
            f["start"].as_u64().unwrap() as usize,
            f["end"].as_u64().unwrap() as usize,
        );
        (
            text[s..e].to_string(),
            f["replacement"].as_str().unwrap().to_string(),
        )
    };
    assert_eq!(
        fix_of("escaped-wikilink"),
        ("\\[\\[Target|label]]".into(), "[[Target|label]]".into())
    );
    assert_eq!(
        fix_of("alias-link"),
        ("[[Alt name]]".into(), "[[Target|Alt name]]".into())
    );
    assert_eq!(fix_of("case-mismatch"), ("target".into(), "Target".into()));
}

#[test]
fn per_note_allow_suppresses_only_that_note() {
    let (v, _) = check(&fixture("every-code"), &[]);
    assert!(
        diags_in_file(&v, "Suppressed.md")
            .iter()
            .all(|d| d["code"] != "broken-link"),
        "{}",
        show_diags(&v)
    );
}

#[test]
fn command_line_levels_override_the_file() {
    let vault = fixture("every-code");
    let (v, _) = check(&vault, &["-A", "orphan-note", "-D", "ambiguous-link"]);
    assert_no_code(&v, "orphan-note");
    assert_eq!(
        diags_with_code(&v, "ambiguous-link")[0]["severity"],
        "error"
    );
    // --deny warnings promotes every warning.
    let (v, _) = check(&vault, &["--deny", "warnings"]);
    assert!(
        diags(&v).iter().all(|d| d["severity"] == "error"),
        "{}",
        show_diags(&v)
    );
    // Allowing every error leaves exit 0.
    let (v, code) = check(
        &vault,
        &[
            "-A",
            "broken-link",
            "-A",
            "missing-attachment",
            "-A",
            "alias-link",
            "-A",
            "invalid-front-matter",
            "-A",
            "unreadable-file",
        ],
    );
    assert_eq!(code, 0, "{}", show_diags(&v));
}

#[test]
fn warnings_alone_exit_zero_unless_denied() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.md"), "[[b#missing]]\n").unwrap();
    std::fs::write(dir.path().join("b.md"), "# B\n").unwrap();
    assert_eq!(check(dir.path(), &[]).1, 0);
    assert_eq!(check(dir.path(), &["--deny", "warnings"]).1, 1);
    assert_eq!(check(dir.path(), &["-D", "broken-fragment"]).1, 1);
}

#[test]
fn unknown_config_keys_and_codes_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.md"), "x\n").unwrap();
    std::fs::write(dir.path().join("vaultc.toml"), "exlude = []\n").unwrap();
    let r = run(["check", dir.path().to_str().unwrap()]);
    r.assert_code(2);
    assert!(
        r.stderr.contains("exlude") && r.stderr.contains("exclude"),
        "{}",
        r.report()
    );

    std::fs::write(
        dir.path().join("vaultc.toml"),
        "[lints]\nbroken-lnk = \"deny\"\n",
    )
    .unwrap();
    let r = run(["check", dir.path().to_str().unwrap()]);
    r.assert_code(2);
    assert!(
        r.stderr.contains("did you mean `broken-link`"),
        "{}",
        r.report()
    );

    std::fs::remove_file(dir.path().join("vaultc.toml")).unwrap();
    let r = run(["check", dir.path().to_str().unwrap(), "-A", "no-such-code"]);
    r.assert_code(2);
    assert!(
        r.stderr.contains("no-such-code") && r.stderr.contains("broken-link"),
        "{}",
        r.report()
    );
}

#[test]
fn exclude_globs_and_alias_resolution_from_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("Templates")).unwrap();
    std::fs::write(dir.path().join("Templates/t.md"), "[[Nowhere]]\n").unwrap();
    std::fs::write(dir.path().join("a.md"), "[[AL]]\n").unwrap();
    std::fs::write(dir.path().join("b.md"), "---\naliases: [AL]\n---\n").unwrap();
    let (v, code) = check(dir.path(), &[]);
    assert_eq!(
        code,
        1,
        "without config the template's link is broken: {}",
        show_diags(&v)
    );
    std::fs::write(
        dir.path().join("vaultc.toml"),
        "exclude = [\"Templates/**\"]\nresolve_aliases = true\n",
    )
    .unwrap();
    let (v, code) = check(dir.path(), &[]);
    assert_eq!(code, 0, "{}", show_diags(&v));
    assert_eq!(summary(&v, "notes"), 2);
    assert_no_code(&v, "alias-link");
}

/// Obsidian's "Override config folder": with `obsidian_config` the excluded files come from
/// that folder (here `.obsidian.desktop/app.json`, excluding `Templates/`); without it vaultc
/// reads `.obsidian/`, which this vault does not have, so the template's broken link counts.
/// A value that is not one dot-folder name is a configuration error (exit 2).
#[test]
fn obsidian_settings_from_an_overridden_config_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("Templates")).unwrap();
    std::fs::create_dir_all(dir.path().join(".obsidian.desktop")).unwrap();
    std::fs::write(dir.path().join("Templates/t.md"), "[[Nowhere]]\n").unwrap();
    std::fs::write(dir.path().join("a.md"), "# A\n").unwrap();
    std::fs::write(
        dir.path().join(".obsidian.desktop/app.json"),
        "{\"userIgnoreFilters\": [\"Templates/\", \"/Private\"]}",
    )
    .unwrap();
    let (v, code) = check(dir.path(), &[]);
    assert_eq!(code, 1, "{}", show_diags(&v));
    assert_eq!(summary(&v, "notes"), 2);
    std::fs::write(
        dir.path().join("vaultc.toml"),
        "obsidian_config = \".obsidian.desktop\"\n",
    )
    .unwrap();
    let (v, code) = check(dir.path(), &[]);
    assert_eq!(code, 0, "{}", show_diags(&v));
    assert_eq!(summary(&v, "notes"), 1);
    // The settings file's own problems are reported in the file that was read.
    let d = assert_diag(&v, "invalid-settings", ".obsidian.desktop/app.json", 1, 38);
    assert!(show_diag(d).contains("/Private"), "{}", show_diag(d));
    // A misspelt folder: nothing is read, and the warning says so on `vaultc.toml`.
    std::fs::write(
        dir.path().join("vaultc.toml"),
        "resolve_aliases = false\nobsidian_config = \".obsidian.dektop\"\n",
    )
    .unwrap();
    let (v, code) = check(dir.path(), &[]);
    assert_eq!(
        code,
        1,
        "the template's link counts again: {}",
        show_diags(&v)
    );
    let d = assert_diag(&v, "invalid-settings", "vaultc.toml", 2, 1);
    assert!(
        show_diag(d).contains("`.obsidian.dektop`"),
        "{}",
        show_diag(d)
    );
    for bad in ["obsidian", ".obsidian/sub", "..", "../elsewhere", "."] {
        std::fs::write(
            dir.path().join("vaultc.toml"),
            format!("obsidian_config = \"{bad}\"\n"),
        )
        .unwrap();
        let r = run(["check", dir.path().to_str().unwrap()]);
        r.assert_code(2);
        assert!(
            r.stderr.contains(&format!("obsidian_config = \"{bad}\""))
                && r.stderr.contains("starting with a dot"),
            "{}",
            r.report()
        );
    }
}

#[test]
fn files_limit_what_is_reported_not_what_is_resolved() {
    let vault = fixture("every-code");
    let (v, _) = check(&vault, &["Target.md"]);
    assert!(
        diags(&v).iter().all(|d| d["file"] == "Target.md"),
        "{}",
        show_diags(&v)
    );
    assert!(!diags(&v).is_empty());
    // Main.md links resolve against the whole vault even when only it is reported.
    let (v, _) = check(&vault, &[vault.join("Main.md").to_str().unwrap()]);
    assert!(diags(&v).iter().all(|d| d["file"] == "Main.md"));
    assert_no_code(&v, "orphan-note");
    assert_eq!(diags_with_code(&v, "ambiguous-link").len(), 1);
}

#[test]
fn explain_prints_a_page_and_rejects_unknown_codes() {
    let r = run(["explain", "broken-link"]);
    r.assert_code(0);
    assert!(r.stdout.starts_with("# broken-link"), "{}", r.report());
    assert!(r.stdout.contains("```"), "an example: {}", r.report());
    let r = run(["explain", "broken-lnk"]);
    r.assert_code(2);
    assert!(
        r.stderr.contains("did you mean `broken-link`"),
        "{}",
        r.report()
    );
}

/// `unused-attachment` (allowed by default): with it on, exactly the attachments no note links
/// to, embeds or names in a property and no canvas shows are reported, at 1:1 of the file; an
/// embed, a property link, a canvas's file card and a text card's embed all count as uses;
/// canvases, bases and the root `publish.css` are never reported.
#[test]
fn unused_attachments_are_reported_when_asked_for() {
    let fixture = crate::support::fixture("unused-attachments");
    let (v, code) = check(&fixture, &[]);
    assert_eq!(code, 0, "warnings only: {v}");
    let files: Vec<&str> = crate::support::diags_with_code(&v, "unused-attachment")
        .iter()
        .map(|d| {
            assert_eq!(
                (d["line"].as_u64(), d["column"].as_u64()),
                (Some(1), Some(1))
            );
            assert_eq!(d["severity"], "warning");
            d["file"].as_str().unwrap()
        })
        .collect();
    assert_eq!(files, ["doc.pdf", "img/old scan.png"], "{v}");
    // As an error on the command line; and not computed when allowed, as by default.
    let (v, code) = check(&fixture, &["-D", "unused-attachment"]);
    assert_eq!(code, 1, "{v}");
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("vault");
    crate::support::copy_dir(&fixture, &vault);
    std::fs::remove_file(vault.join("vaultc.toml")).unwrap();
    let (v, _) = check(&vault, &[]);
    assert_no_code(&v, "unused-attachment");
}

/// Under `vaultc serve`, an edit that drops a note's last embed of an image makes it unused,
/// and one that embeds an unused file makes it used, as a cold build says.
#[test]
fn a_session_keeps_unused_attachments_up_to_date() {
    let edits: [(&str, &dyn Fn(String) -> String); 2] = [
        ("Note.md", &|t| t.replace("![[used.png]] and ", "")),
        ("Note.md", &|t| t + "\n![[doc.pdf]]\n"),
    ];
    crate::support::session_edits("unused-attachments", &edits, |step, _, tracked| {
        assert!(tracked, "step {step}");
    });
}
