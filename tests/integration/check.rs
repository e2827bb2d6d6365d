//! One test per fixture vault in `tests/fixtures/`, named after the rule of
//! /work/shared/design/obsidian-semantics.md it pins down. Each test runs the binary
//! (`check --format json`, `graph --format json`, sometimes `build`) and states the expectation
//! here, not in a file next to the fixture.
//!
//! Resolution rules are checked twice: no `broken-link` diagnostic, and the graph edge leaving
//! the link's line reaches the right file.

use regex::Regex;
use serde_json::Value;

use crate::support::*;

/// Asserts the check exit code, printing all diagnostics on failure.
fn assert_exit(v: &Value, code: i32, expected: i32) {
    assert_eq!(
        code,
        expected,
        "check exit code; diagnostics:\n{}",
        show_diags(v)
    );
}

/// Asserts `d.target` equals `target`.
fn assert_target(d: &Value, target: &str) {
    assert_eq!(
        d["target"].as_str(),
        Some(target),
        "target of {}",
        show_diag(d)
    );
}

// ---------------------------------------------------------------------------------------------
// Whole-suite invariants over every fixture
// ---------------------------------------------------------------------------------------------

/// `check --format json` has the documented shape on every fixture: fields and types, 1-based
/// positions, relative `/` paths (of the vault's files, or its Obsidian settings files), sorted by (file, line, column), a summary that counts the
/// diagnostics, and exit 1 exactly when there are errors.
#[test]
fn check_json_shape_on_every_fixture() {
    let mut failures = Vec::new();
    for name in fixture_names() {
        let vault = fixture(&name);
        let (v, code) = check_json(&vault);
        let files = vault_files(&vault);
        let mut prev: Option<(String, u64, u64)> = None;
        let (mut errors, mut warnings) = (0u64, 0u64);
        for d in diags(&v) {
            let shown = show_diag(d);
            let mut bad = |why: &str| failures.push(format!("{name}: {why}: {shown}"));
            if d["code"].as_str().is_none_or(str::is_empty) {
                bad("code is not a non-empty string");
            }
            match d["severity"].as_str() {
                Some("error") => errors += 1,
                Some("warning") => warnings += 1,
                _ => bad("severity is neither \"error\" nor \"warning\""),
            }
            let file = d["file"].as_str().unwrap_or("");
            if file.is_empty() || file.starts_with('/') || file.contains('\\') {
                bad("file is not a vault-relative path with / separators");
            } else if !(files.iter().any(|f| same_path(f, file))
                // `invalid-settings` is reported on the Obsidian settings file itself.
                || (file.starts_with(".obsidian/") && vault.join(file).is_file()))
            {
                bad("file is not a file of the vault or an Obsidian settings file");
            }
            let line = d["line"].as_u64().unwrap_or(0);
            let col = d["column"].as_u64().unwrap_or(0);
            if line == 0 || col == 0 {
                bad("line and column must be integers >= 1");
            }
            if d["message"].as_str().is_none_or(str::is_empty) {
                bad("message is not a non-empty string");
            }
            if !(d["target"].is_string() || d.get("target").is_some_and(Value::is_null)) {
                bad("target must be present, a string or null");
            }
            let key = (file.to_string(), line, col);
            if let Some(p) = &prev {
                if *p > key {
                    bad("diagnostics are not sorted by (file, line, column)");
                }
            }
            prev = Some(key);
        }
        for key in ["notes", "links", "errors", "warnings"] {
            if !v["summary"][key].is_u64() {
                failures.push(format!("{name}: summary.{key} is not a number"));
            }
        }
        if v["summary"]["errors"].as_u64() != Some(errors) {
            failures.push(format!(
                "{name}: summary.errors = {} but {errors} error diagnostics",
                v["summary"]["errors"]
            ));
        }
        if v["summary"]["warnings"].as_u64() != Some(warnings) {
            failures.push(format!(
                "{name}: summary.warnings = {} but {warnings} warning diagnostics",
                v["summary"]["warnings"]
            ));
        }
        if (code == 1) != (errors > 0) {
            failures.push(format!(
                "{name}: exit code {code} with {errors} errors (1 iff errors)"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `graph --format json` is consistent on every fixture: unique node ids, every edge endpoint is
/// a node, note nodes are notes of the vault (never dot-folder files) and every readable note
/// is a node.
#[test]
fn graph_json_shape_on_every_fixture() {
    let mut failures = Vec::new();
    for name in fixture_names() {
        let vault = fixture(&name);
        let g = graph_json(&vault);
        let nodes = g["nodes"].as_array().unwrap();
        let ids = nodes_by_id(&g);
        if ids.len() != nodes.len() {
            failures.push(format!("{name}: node ids are not unique"));
        }
        for n in nodes {
            if n.get("id").is_none() || !n["kind"].is_string() {
                failures.push(format!("{name}: node without id or kind: {n}"));
            }
        }
        for e in g["edges"].as_array().unwrap() {
            for end in ["source", "target"] {
                if !ids.contains_key(&e[end].to_string()) {
                    failures.push(format!("{name}: edge {end} is not a node id: {e}"));
                }
            }
            if !e["kind"].is_string() {
                failures.push(format!("{name}: edge without kind: {e}"));
            }
        }
        let notes = vault_notes(&vault);
        let note_nodes: Vec<String> = nodes_of_kind(&g, "note")
            .iter()
            .filter_map(|n| n["path"].as_str().map(str::to_string))
            .collect();
        for p in &note_nodes {
            if !notes.iter().any(|n| same_path(n, p)) {
                failures.push(format!(
                    "{name}: note node {p:?} is not a note of the vault"
                ));
            }
        }
        // Fixtures where some *.md legitimately is not a node (ignored, unreadable, hidden).
        if !["user-ignore-filters", "invalid-utf8", "publish-hidden"].contains(&name.as_str()) {
            for n in &notes {
                if !note_nodes.iter().any(|p| same_path(n, p)) {
                    failures.push(format!("{name}: note {n:?} has no node"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// 3. Name resolution
// ---------------------------------------------------------------------------------------------

/// Rule 3: an exact vault path wins, even over a sibling of the linking note.
#[test]
fn resolve_exact_path_wins() {
    let vault = fixture("resolve-exact-path-wins");
    let (v, code) = check_json(&vault);
    assert_no_code(&v, "broken-link");
    assert_no_code(&v, "ambiguous-link");
    assert_exit(&v, code, 0);
    let g = graph_json(&vault);
    assert_edge(&g, "sub/src.md", 3, "Note.md");
    assert_edge(&g, "sub/src.md", 4, "sub/Note.md");
}

/// Rule 4a: among several suffix matches, the one in the linking note's own folder wins; an
/// ancestor folder gives no preference (then 4b: same length, lexicographic).
#[test]
fn resolve_same_folder_tiebreak() {
    let vault = fixture("resolve-same-folder-tiebreak");
    let (v, code) = check_json(&vault);
    assert_no_code(&v, "broken-link");
    assert_exit(&v, code, 0);
    let g = graph_json(&vault);
    assert_edge(&g, "x/intro.md", 1, "x/Topic.md");
    assert_edge(&g, "y/intro.md", 1, "y/Topic.md");
    assert_edge(&g, "y/deep/child.md", 1, "x/Topic.md");
}

/// Rule 4b: the shortest path string wins (`a/b/Note.md` beats `zzzz/Note.md`), with an
/// ambiguous-link warning naming the candidates.
#[test]
fn resolve_shortest_path_tiebreak() {
    let vault = fixture("resolve-shortest-path-tiebreak");
    let (v, code) = check_json(&vault);
    assert_no_code(&v, "broken-link");
    let d = assert_diag(&v, "ambiguous-link", "src.md", 1, 5);
    assert_eq!(d["severity"], "warning", "{}", show_diag(d));
    let msg = d["message"].as_str().unwrap_or("");
    for cand in ["a/b/Note", "zzzz/Note"] {
        assert!(msg.contains(cand), "message should name {cand}: {msg}");
    }
    assert_exit(&v, code, 0);
    let g = graph_json(&vault);
    assert_edge(&g, "src.md", 1, "a/b/Note.md");
}

/// Rule 4b: equal lengths fall back to lexicographic order; the warning names every candidate.
#[test]
fn resolve_lexicographic_tiebreak() {
    let vault = fixture("resolve-lexicographic-tiebreak");
    let (v, code) = check_json(&vault);
    assert_no_code(&v, "broken-link");
    let d = assert_diag(&v, "ambiguous-link", "src.md", 1, 5);
    assert_eq!(d["severity"], "warning", "{}", show_diag(d));
    let msg = d["message"].as_str().unwrap_or("");
    for cand in ["a/Note", "b/Note", "c/Note"] {
        assert!(msg.contains(cand), "message should name {cand}: {msg}");
    }
    assert_exit(&v, code, 0);
    let g = graph_json(&vault);
    assert_edge(&g, "src.md", 1, "a/Note.md");
}

/// Rule 2: `./` and `../` are relative to the linking note's folder, never the vault root.
#[test]
fn resolve_relative_path() {
    let vault = fixture("resolve-relative-path");
    let (v, code) = check_json(&vault);
    assert_no_code(&v, "broken-link");
    assert_exit(&v, code, 0);
    let g = graph_json(&vault);
    assert_edge(&g, "dir/sub/src.md", 1, "dir/sub/Sibling.md");
    assert_edge(&g, "dir/sub/src.md", 2, "dir/Other.md");
}

/// Rule 2: `[[../../outside]]` climbing above the vault root is broken, even though
/// `outside.md` exists on disk next to the vault (the fixture's vault is its `vault/` folder).
#[test]
fn resolve_relative_escape() {
    let vault = fixture("resolve-relative-escape").join("vault");
    assert!(vault.join("../outside.md").is_file(), "fixture layout");
    let (v, code) = check_json(&vault);
    let d = assert_diag(&v, "broken-link", "sub/src.md", 1, 9);
    assert_target(d, "../../outside");
    assert_eq!(d["severity"], "error");
    assert_exit(&v, code, 1);
    let g = graph_json(&vault);
    for e in edges_at(&g, "sub/src.md", 1) {
        assert!(
            e.target_kind != "note" && e.target_kind != "attachment",
            "the escaping link must not reach a file: {}",
            e.show()
        );
    }
    for n in g["nodes"].as_array().unwrap() {
        let p = n["path"].as_str().unwrap_or("");
        assert!(
            !(p.contains("outside") || p.contains("..")),
            "no node may be a file outside the vault: {n}"
        );
    }
}

/// Names are case-insensitive: `[[LOG]]`, `[[log]]` reach `Log.md`, `[[Ext.MD]]` reaches
/// `Ext.md`, folders too.
#[test]
fn resolve_case_insensitive() {
    let vault = fixture("resolve-case-insensitive");
    let (v, code) = check_json(&vault);
    assert_no_code(&v, "broken-link");
    assert_exit(&v, code, 0);
    let g = graph_json(&vault);
    assert_edge(&g, "src.md", 1, "Log.md");
    assert_edge(&g, "src.md", 2, "Log.md");
    assert_edge(&g, "src.md", 3, "Ext.md");
    assert_edge(&g, "src.md", 4, "Folder/Deep.md");
    assert_edge(&g, "src.md", 5, "\u{e9}cole.md"); // [[ÉCOLE]]: non-ASCII case folding
}

/// A relative link never falls back to suffix matching: `[[./Other]]` from `dir/sub/` is broken
/// although `Other.md` and `dir/Other.md` exist.
#[test]
fn resolve_relative_no_fallback() {
    let vault = fixture("resolve-relative-no-fallback");
    let (v, code) = check_json(&vault);
    assert_target(
        assert_diag(&v, "broken-link", "dir/sub/src.md", 1, 1),
        "./Other",
    );
    assert_eq!(
        diags_with_code(&v, "broken-link").len(),
        1,
        "{}",
        show_diags(&v)
    );
    assert_exit(&v, code, 1);
    let g = graph_json(&vault);
    assert_edge(&g, "dir/sub/src.md", 2, "dir/Other.md");
}

/// `[[folder/Note]]` is also a path suffix of a deeper note, matched at a `/` boundary only
/// (`[[older/Note]]` does not match `deep/folder/Note.md`).
#[test]
fn resolve_path_suffix() {
    let vault = fixture("resolve-path-suffix");
    let (v, code) = check_json(&vault);
    assert_target(assert_diag(&v, "broken-link", "src.md", 2, 1), "older/Note");
    assert_eq!(
        diags_with_code(&v, "broken-link").len(),
        1,
        "{}",
        show_diags(&v)
    );
    assert_exit(&v, code, 1);
    let g = graph_json(&vault);
    assert_edge(&g, "src.md", 1, "deep/folder/Note.md");
    assert_edge(&g, "src.md", 3, "deep/folder/Note.md");
}

/// The bytes of the resolve-nfc fixture: `Café.md` named in NFD, `Zoë.md` named in NFC;
/// `src.md` links the first in NFC and the second in NFD.
const NFC_FILES: &[(&[u8], &[u8])] = &[
    ("Cafe\u{301}.md".as_bytes(), "# Café\n".as_bytes()),
    ("Zo\u{eb}.md".as_bytes(), "# Zoë\n".as_bytes()),
    (
        "src.md".as_bytes(),
        "[[Caf\u{e9}]]\n[[Zoe\u{308}]]\n".as_bytes(),
    ),
];

/// Names are compared after NFC normalisation: an NFD file name linked in NFC, and the reverse.
#[test]
fn resolve_nfc() {
    let fx = byte_fixture("resolve-nfc", NFC_FILES);
    let (v, code) = check_json(&fx.path);
    assert_no_code(&v, "broken-link");
    assert_exit(&v, code, 0);
    let g = graph_json(&fx.path);
    assert_edge(&g, "src.md", 1, "Caf\u{e9}.md");
    assert_edge(&g, "src.md", 2, "Zo\u{eb}.md");
}

/// `.md` is optional in a link: `[[Note]]` and `[[Note.md]]` are the same note.
#[test]
fn resolve_md_extension_optional() {
    let vault = fixture("resolve-md-extension-optional");
    let (v, code) = check_json(&vault);
    assert_no_code(&v, "broken-link");
    assert_exit(&v, code, 0);
    let g = graph_json(&vault);
    assert_edge(&g, "src.md", 1, "Note.md");
    assert_edge(&g, "src.md", 2, "Note.md");
    assert_edge(&g, "src.md", 3, "Folder/Page.md");
    assert_edge(&g, "src.md", 4, "Folder/Page.md");
}

/// `.md` is appended only when absent: `[[Note.1]]` is `Note.1.md` (not `Note.md`).
#[test]
fn resolve_dotted_name() {
    let vault = fixture("resolve-dotted-name");
    let (v, code) = check_json(&vault);
    assert_no_code(&v, "broken-link");
    assert_exit(&v, code, 0);
    let g = graph_json(&vault);
    assert_edge(&g, "src.md", 1, "Note.1.md");
    assert_edge(&g, "src.md", 2, "v1.2 release.md");
    assert_edge(&g, "src.md", 3, "Note.1.md");
}

/// Non-markdown targets must carry their extension: `[[Figure 1.png]]` resolves (also as an
/// embed), `[[Figure 1]]` is broken.
#[test]
fn attachment_needs_extension() {
    let vault = fixture("attachment-needs-extension");
    let (v, code) = check_json(&vault);
    let d = assert_diag(&v, "broken-link", "src.md", 3, 1);
    assert_target(d, "Figure 1");
    assert_eq!(
        diags_with_code(&v, "broken-link").len(),
        1,
        "{}",
        show_diags(&v)
    );
    assert_exit(&v, code, 1);
    let g = graph_json(&vault);
    assert_edge(&g, "src.md", 1, "img/Figure 1.png");
    assert_edge(&g, "src.md", 2, "img/Figure 1.png");
    let embed = edges_at(&g, "src.md", 2);
    assert!(
        embed
            .iter()
            .all(|e| e.kind == "embed" && e.target_kind == "attachment"),
        "line 2 is an embed of an attachment: {embed:?}"
    );
    let link = edges_at(&g, "src.md", 1);
    assert!(
        link.iter()
            .all(|e| e.kind == "link" && e.target_kind == "attachment"),
        "line 1 is a link to an attachment: {link:?}"
    );
}

/// Aliases are not link targets by default: `[[AL]]` is broken although `Note.md` has the
/// alias `AL`.
#[test]
fn alias_not_target() {
    let vault = fixture("alias-not-target");
    let (v, code) = check_json(&vault);
    // Aliases are not link targets (as in Obsidian): `alias-link` says so and offers the fix.
    let first = assert_diag(&v, "alias-link", "src.md", 1, 8);
    assert_target(first, "AL");
    assert_eq!(
        first["fix"]["replacement"],
        "[[Note|AL]]",
        "{}",
        show_diag(first)
    );
    assert_target(assert_diag(&v, "alias-link", "src.md", 2, 8), "Other Name");
    assert_no_code(&v, "broken-link");
    // Still unresolved in Obsidian, so an error by default, like a broken link.
    assert_exit(&v, code, 1);
    let g = graph_json(&vault);
    assert_edge(&g, "src.md", 3, "Note.md");
    for line in [1, 2] {
        for e in edges_at(&g, "src.md", line) {
            assert_ne!(
                e.target_kind,
                "note",
                "an alias must not resolve: {}",
                e.show()
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Parsing details
// ---------------------------------------------------------------------------------------------

/// The label starts after the FIRST `|`: `[[Note|a|b]]` is a link to Note labelled `a|b`.
#[test]
fn label_first_pipe() {
    let vault = fixture("label-first-pipe");
    let (v, code) = check_json(&vault);
    assert_no_code(&v, "broken-link");
    assert_no_code(&v, "broken-fragment");
    assert_exit(&v, code, 0);
    let g = graph_json(&vault);
    assert_edge(&g, "src.md", 1, "Note.md");
    assert_edge(&g, "src.md", 2, "Note.md");
}

/// `[[Note\|label]]` in a table cell (and outside tables) links Note; no stray `\` is left on
/// the target or the fragment.
#[test]
fn escaped_pipe_in_table() {
    let vault = fixture("escaped-pipe-in-table");
    let (v, code) = check_json(&vault);
    assert_no_code(&v, "broken-link");
    assert_no_code(&v, "broken-fragment");
    assert_exit(&v, code, 0);
    let g = graph_json(&vault);
    assert_edge(&g, "src.md", 3, "Note.md");
    assert_edge(&g, "src.md", 4, "Note.md");
    assert_edge(&g, "src.md", 6, "Note.md");
}

/// The target is trimmed: `[[ Note ]]`, `[[Quick Switcher ]]` resolve.
#[test]
fn target_trimmed() {
    let vault = fixture("target-trimmed");
    let (v, code) = check_json(&vault);
    assert_no_code(&v, "broken-link");
    assert_exit(&v, code, 0);
    let g = graph_json(&vault);
    assert_edge(&g, "src.md", 1, "Note.md");
    assert_edge(&g, "src.md", 2, "Quick Switcher.md");
    assert_edge(&g, "src.md", 3, "Note.md");
}

/// `[[Note|]]`: an empty label shows the target; the link resolves and the page shows `Note`
/// as the link text, not the raw `[[Note|]]`.
#[test]
fn empty_label() {
    let vault = fixture("empty-label");
    let (v, code) = check_json(&vault);
    assert_no_code(&v, "broken-link");
    assert_exit(&v, code, 0);
    let g = graph_json(&vault);
    assert_edge(&g, "src.md", 1, "Note.md");

    let out = tempfile::tempdir().unwrap();
    build(&vault, out.path()).assert_code(0);
    let pages = note_pages(out.path());
    let page = pages
        .get("src.md")
        .unwrap_or_else(|| panic!("no page for src.md: {pages:?}"));
    let html = std::fs::read_to_string(page).unwrap();
    let link = Regex::new(r"<a\b[^>]*>\s*Note\s*</a>").unwrap();
    assert!(
        link.is_match(&html),
        "the page of src.md should hold a link whose text is `Note`:\n{html}"
    );
    assert!(
        !html.contains("|]]"),
        "raw `[[Note|]]` leaked into the page:\n{html}"
    );
}

/// A target containing a newline is not a link.
#[test]
fn newline_in_target() {
    let vault = fixture("newline-in-target");
    let (v, code) = check_json(&vault);
    assert_no_diag_mentions(&v, "Missing");
    assert_no_code(&v, "broken-link");
    assert_exit(&v, code, 0);
    let g = graph_json(&vault);
    assert_edges_exactly(&g, "src.md", &[(4, "Note.md")]);
}

/// `[[]]` and `[[ ]]` are not broken links (they may get a lint of their own) and not edges.
#[test]
fn empty_target() {
    let vault = fixture("empty-target");
    let (v, _code) = check_json(&vault);
    assert_no_code(&v, "broken-link");
    let g = graph_json(&vault);
    assert_edges_exactly(&g, "src.md", &[(3, "Note.md")]);
}

/// A single `]` does not end a target: `[[Sq]uare]]` targets `Sq]uare`.
#[test]
fn bracket_in_target() {
    let vault = fixture("bracket-in-target");
    let (v, code) = check_json(&vault);
    assert_no_code(&v, "broken-link");
    assert_exit(&v, code, 0);
    let g = graph_json(&vault);
    assert_edge(&g, "src.md", 1, "Sq]uare.md");
}

/// Nested `[[a [[B]] c]]` links only `B`.
#[test]
fn nested_wikilink() {
    let vault = fixture("nested-wikilink");
    let (v, code) = check_json(&vault);
    assert_no_code(&v, "broken-link");
    assert_exit(&v, code, 0);
    let g = graph_json(&vault);
    assert_edges_exactly(&g, "src.md", &[(1, "B.md")]);
}

/// Links inside headings, callouts (title and body), nested lists, emphasis and footnotes are
/// ordinary links.
#[test]
fn links_in_containers() {
    let vault = fixture("links-in-containers");
    let (v, code) = check_json(&vault);
    assert_no_code(&v, "broken-link");
    assert_no_code(&v, "broken-fragment");
    assert_exit(&v, code, 0);
    let g = graph_json(&vault);
    for line in [1, 3, 4, 6, 7, 9, 13] {
        assert_edge(&g, "src.md", line, "Note.md");
    }
}

/// Near misses of the "not a link" rules are links: `%%` inside code spans opens no comment,
/// `$5 ... $10` is not math, inline HTML (not an HTML block) keeps its links, `.md` plus a
/// heading resolves, and a code span earlier on the line changes nothing.
#[test]
fn near_miss_still_links() {
    let vault = fixture("near-miss-still-links");
    let (v, code) = check_json(&vault);
    assert_no_code(&v, "broken-link");
    assert_no_code(&v, "broken-fragment");
    assert_exit(&v, code, 0);
    let g = graph_json(&vault);
    for line in 1..=5 {
        assert_edge(&g, "src.md", line, "Note.md");
    }
}

/// The shared check of the "never a link" fixtures: every `Missing*` target sits in a construct
/// that is not a link; the only edge of `src.md` is the real `[[Note]]` on `real_line`.
fn assert_only_real_link(name: &str, real_line: u64) {
    let vault = fixture(name);
    let (v, code) = check_json(&vault);
    assert_no_diag_mentions(&v, "Missing");
    assert_no_code(&v, "broken-link");
    assert_no_code(&v, "escaped-wikilink");
    assert_exit(&v, code, 0);
    let g = graph_json(&vault);
    assert_edges_exactly(&g, "src.md", &[(real_line, "Note.md")]);
}

/// Code spans (single and double backticks) hold no links or embeds.
#[test]
fn code_spans_not_links() {
    assert_only_real_link("code-spans-not-links", 4);
}

/// Fenced (``` and ~~~) and indented code hold no links, embeds or escaped-wikilink lints.
#[test]
fn fenced_code_not_links() {
    assert_only_real_link("fenced-code-not-links", 12);
}

/// HTML blocks (`<div>`, comments, `<details>`) hold no links.
#[test]
fn html_block_not_links() {
    assert_only_real_link("html-block-not-links", 11);
}

/// Inline `$..$` and display `$$..$$` math hold no links.
#[test]
fn math_not_links() {
    assert_only_real_link("math-not-links", 7);
}

/// `%% comments %%`, inline, as a block, and spanning lines, hold no links.
#[test]
fn comments_not_links() {
    assert_only_real_link("comments-not-links", 11);
}

/// `\[\[concepts/x|Label]]` is not a link but gets an escaped-wikilink warning at its first
/// character (the `\`; the first `[` is tolerated too); inside a code span it is left alone.
#[test]
fn escaped_wikilink() {
    let vault = fixture("escaped-wikilink");
    let (v, code) = check_json(&vault);
    let found = diags_with_code(&v, "escaped-wikilink");
    assert_eq!(
        found.len(),
        1,
        "one escaped-wikilink expected (line 1 only)\n{}",
        show_diags(&v)
    );
    let d = found[0];
    assert_eq!(d["file"], "src.md", "{}", show_diag(d));
    assert_eq!(d["line"], 1, "{}", show_diag(d));
    // The span (and the fix's byte range) starts at the first backslash.
    assert_eq!(d["column"], 11, "column of `\\[\\[`: {}", show_diag(d));
    assert_eq!(d["severity"], "warning", "{}", show_diag(d));
    assert_no_code(&v, "broken-link");
    assert_exit(&v, code, 0);
    let g = graph_json(&vault);
    assert_edges_exactly(&g, "src.md", &[]);
}

/// `[[https://example.com]]` is an unresolved note, not an external link.
#[test]
fn url_in_wikilink() {
    let vault = fixture("url-in-wikilink");
    let (v, code) = check_json(&vault);
    let d = assert_diag(&v, "broken-link", "src.md", 1, 7);
    assert_target(d, "https://example.com");
    assert_eq!(
        diags_with_code(&v, "broken-link").len(),
        1,
        "{}",
        show_diags(&v)
    );
    assert_exit(&v, code, 1);
    let g = graph_json(&vault);
    let es = edges_at(&g, "src.md", 1);
    assert!(
        !es.is_empty() && es.iter().all(|e| e.target_kind == "wanted"),
        "`[[https://example.com]]` should be an edge to a wanted node: {es:?}"
    );
}

/// `[[^id]]` is a note named `^id` (broken), not a block link; `[[Note#^id]]` is the block link.
#[test]
fn caret_target_not_block() {
    let vault = fixture("caret-target-not-block");
    let (v, code) = check_json(&vault);
    assert_target(assert_diag(&v, "broken-link", "src.md", 1, 1), "^id");
    assert_eq!(
        diags_with_code(&v, "broken-link").len(),
        1,
        "{}",
        show_diags(&v)
    );
    assert_no_code(&v, "broken-fragment");
    assert_exit(&v, code, 1);
    let g = graph_json(&vault);
    assert_edge(&g, "src.md", 2, "Note.md");
}

// ---------------------------------------------------------------------------------------------
// 4. Fragments
// ---------------------------------------------------------------------------------------------

/// Heading fragments match exactly, case-insensitively, setext headings too, and after mapping
/// `# | ^ : % [ ] \` to spaces and collapsing whitespace.
#[test]
fn fragment_heading() {
    let vault = fixture("fragment-heading");
    let (v, code) = check_json(&vault);
    assert_no_code(&v, "broken-fragment");
    assert_no_code(&v, "broken-link");
    assert_exit(&v, code, 0);
    let g = graph_json(&vault);
    for line in 1..=5 {
        assert_edge(&g, "src.md", line, "Note.md");
    }
}

/// `#H1#H2` means H2 inside H1's section; otherwise fall back to the last component; a last
/// component found nowhere is a broken fragment.
#[test]
fn fragment_heading_chain() {
    let vault = fixture("fragment-heading-chain");
    let (v, code) = check_json(&vault);
    let found = diags_with_code(&v, "broken-fragment");
    assert_eq!(found.len(), 1, "only line 5 is broken\n{}", show_diags(&v));
    assert_diag(&v, "broken-fragment", "src.md", 5, 1);
    assert_no_code(&v, "broken-link");
    assert_exit(&v, code, 0);
    let g = graph_json(&vault);
    for line in 1..=5 {
        assert_edge(&g, "src.md", line, "Note.md");
    }
}

/// Block ids: trailing ` ^id` on a paragraph, and `^id` on its own line after a list, a quote
/// and a table; `[[#^id]]` in the same note.
#[test]
fn fragment_block() {
    let vault = fixture("fragment-block");
    let (v, code) = check_json(&vault);
    assert_no_code(&v, "broken-fragment");
    assert_no_code(&v, "broken-link");
    assert_exit(&v, code, 0);
    let g = graph_json(&vault);
    for line in 1..=4 {
        assert_edge(&g, "src.md", line, "Note.md");
    }
    assert_edge(&g, "src.md", 5, "src.md");
    assert_edge(&g, "src.md", 9, "Note.md"); // block id after a callout
    assert_edge(&g, "src.md", 10, "Note.md"); // trailing id on a list item
}

/// A missing heading or block is a `broken-fragment` warning; the note link itself is not
/// broken, so the exit code is 0 and the edge still reaches the note.
#[test]
fn fragment_missing() {
    let vault = fixture("fragment-missing");
    let (v, code) = check_json(&vault);
    for line in [1, 2] {
        let d = assert_diag(&v, "broken-fragment", "src.md", line, 1);
        assert_eq!(d["severity"], "warning", "{}", show_diag(d));
        assert_target(d, "Note");
    }
    assert_eq!(
        diags_with_code(&v, "broken-fragment").len(),
        2,
        "{}",
        show_diags(&v)
    );
    assert_no_code(&v, "broken-link");
    assert_exit(&v, code, 0);
    let g = graph_json(&vault);
    for line in 1..=3 {
        assert_edge(&g, "src.md", line, "Note.md");
    }
}

/// `#` in a file name (`C# basics.md`, from an editor that allows it) cannot be linked with a
/// wikilink: `[[C# basics]]` asks for a note `C` (Obsidian reads a heading), which is broken;
/// the help names the file and gives the markdown link that reaches it, fragment kept, and
/// that link resolves. A broken link that names no such file gets no such help.
#[test]
fn hash_in_file_name() {
    let vault = fixture("hash-in-file-name");
    let (v, code) = check_json(&vault);
    let cases = [
        (
            1,
            "C",
            "\"C# basics.md\" has \"#\" in its name",
            "[C# basics](C%23%20basics.md)",
        ),
        (
            2,
            "C",
            "\"C# basics.md\" has \"#\" in its name",
            "[C# basics](C%23%20basics.md#Types)",
        ),
        (
            3,
            "Diagram",
            "\"Diagram #2.png\" has \"#\" in its name",
            "![Diagram #2.png](Diagram%20%232.png)",
        ),
    ];
    for (line, target, why, link) in cases {
        let d = assert_diag(&v, "broken-link", "src.md", line, 1);
        assert_target(d, target);
        let help = d["help"].as_str().unwrap_or_default();
        assert!(help.starts_with(why), "{}", show_diag(d));
        assert!(
            help.ends_with(&format!("link it as {link}")),
            "{}",
            show_diag(d)
        );
    }
    let d = assert_diag(&v, "broken-link", "src.md", 6, 1);
    assert!(
        !d["help"]
            .as_str()
            .unwrap_or_default()
            .contains("in its name"),
        "{}",
        show_diag(d)
    );
    assert_eq!(
        diags_with_code(&v, "broken-link").len(),
        4,
        "{}",
        show_diags(&v)
    );
    assert_exit(&v, code, 1);
    let g = graph_json(&vault);
    assert_edge(&g, "src.md", 4, "C# basics.md");
    assert_edge(&g, "src.md", 5, "Diagram #2.png");
}

/// `|` in a file name, the same way: `[[x|y]]` is `x` labelled `y`, even in a table cell as
/// `[[x\|y]]`; the help gives the markdown link with the label and heading written. (Made at
/// run time: a checkout on Windows cannot hold the name.)
#[cfg(unix)]
#[test]
fn pipe_in_file_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x|y.md"), "# X\n\n## Some head\n").unwrap();
    let table = "| a | b |\n|---|---|\n| [[x\\|y#Some head\\|shown]] | c |\n";
    std::fs::write(dir.path().join("src.md"), format!("[[x|y]]\n\n{table}")).unwrap();
    let (v, _) = check_json(dir.path());
    let cases = [
        (1, 1, "[x|y](x%7Cy.md)"),
        (5, 3, "[shown](x%7Cy.md#Some%20head)"),
    ];
    for (line, col, link) in cases {
        let d = assert_diag(&v, "broken-link", "src.md", line, col);
        assert_target(d, "x");
        let help = d["help"].as_str().unwrap_or_default();
        assert!(
            help.starts_with("\"x|y.md\" has \"|\" in its name"),
            "{}",
            show_diag(d)
        );
        assert!(
            help.ends_with(&format!("link it as {link}")),
            "{}",
            show_diag(d)
        );
    }
}

/// A heading linked by its GitHub-style anchor (`#getting-started`, as notes written for
/// GitHub or VS Code do) is a broken fragment to Obsidian, which finds headings by their text;
/// when the anchor names exactly one heading, the help says so and a fix writes the text
/// (percent-encoded in a markdown link, title kept; in a property and an embed too; a repeated
/// heading's numbered anchor, `#notes-1`, names the second).
/// `check --fix` applies them, and the fixed links resolve; an anchor that names no heading
/// only gets a "did you mean", written as its link writes it.
#[test]
fn fragment_github_anchor() {
    let vault = fixture("fragment-github-anchor");
    let (v, code) = check_json(&vault);
    let fixed = [
        (
            2,
            11,
            "#getting-started",
            "#Getting Started",
            "[[Guide#Getting Started]]",
        ),
        (
            4,
            1,
            "#getting-started",
            "#Getting%20Started",
            "[start](sub/Guide.md#Getting%20Started)",
        ),
        (
            5,
            1,
            "#version-12-beta",
            "#Version%201.2%20%28beta%29",
            "[beta](sub/Guide.md#Version%201.2%20%28beta%29 \"Beta\")",
        ),
        (
            6,
            1,
            "#version-1-2-beta",
            "#Version 1.2 (beta)",
            "[[Guide#Version 1.2 (beta)|beta]]",
        ),
        (
            7,
            1,
            "#Getting-Started",
            "#Getting Started",
            "![[Guide#Getting Started]]",
        ),
        // GitHub numbers a repeated anchor: the second "notes" is `notes-1`.
        (8, 1, "#notes-1", "#Notes!", "[[Guide#Notes!]]"),
    ];
    for (line, col, anchor, text, replacement) in fixed {
        let d = assert_diag(&v, "broken-fragment", "src.md", line, col);
        let help = d["help"].as_str().unwrap_or_default();
        assert!(
            help.starts_with(&format!("\"{anchor}\" is an anchor as GitHub writes it")),
            "{}",
            show_diag(d)
        );
        assert!(
            help.ends_with(&format!("write \"{text}\"")),
            "{}",
            show_diag(d)
        );
        assert_eq!(d["fix"]["replacement"], replacement, "{}", show_diag(d));
    }
    let near = assert_diag(&v, "broken-fragment", "src.md", 10, 1);
    assert_eq!(near["help"], "did you mean \"#Getting%20Started\"?");
    assert!(near["fix"].is_null(), "{}", show_diag(near));
    assert_eq!(
        diags_with_code(&v, "broken-fragment").len(),
        7,
        "{}",
        show_diags(&v)
    );
    assert_exit(&v, code, 0);

    let dir = tempfile::tempdir().unwrap();
    copy_dir(&vault, dir.path());
    let r = run_cmd(vaultc().arg("check").arg(dir.path()).arg("--fix"));
    r.assert_no_panic();
    let text = std::fs::read_to_string(dir.path().join("src.md")).unwrap();
    for (.., replacement) in fixed {
        assert!(text.contains(replacement), "{replacement} not in\n{text}");
    }
    let (v, _) = check_json(dir.path());
    let left: Vec<u64> = diags_with_code(&v, "broken-fragment")
        .iter()
        .map(|d| d["line"].as_u64().unwrap())
        .collect();
    assert_eq!(left, [10], "{}", show_diags(&v));
    let g = graph_json(dir.path());
    for line in [2, 4, 5, 6, 7, 8] {
        assert_edge(&g, "src.md", line, "sub/Guide.md");
    }
}

/// `[[#Heading]]` and `[[#^id]]` point into the same note (a self-link); a missing one is a
/// broken fragment.
#[test]
fn self_fragment() {
    let vault = fixture("self-fragment");
    let (v, code) = check_json(&vault);
    let d = assert_diag(&v, "broken-fragment", "src.md", 9, 9);
    assert_eq!(d["severity"], "warning", "{}", show_diag(d));
    assert_eq!(
        diags_with_code(&v, "broken-fragment").len(),
        1,
        "{}",
        show_diags(&v)
    );
    assert_no_code(&v, "broken-link");
    assert_exit(&v, code, 0);
    let g = graph_json(&vault);
    assert_edge(&g, "src.md", 3, "src.md");
    assert_edge(&g, "src.md", 5, "src.md");
}

// ---------------------------------------------------------------------------------------------
// 1. Link forms: embeds and markdown links
// ---------------------------------------------------------------------------------------------

/// Embeds of a note, a heading section, a block, an image with sizes, a PDF with `#page=3` and
/// `#height=400` (PDF options, not headings).
#[test]
fn embeds() {
    let vault = fixture("embeds");
    let (v, code) = check_json(&vault);
    assert_no_code(&v, "broken-link");
    assert_no_code(&v, "broken-fragment");
    assert_exit(&v, code, 0);
    let g = graph_json(&vault);
    let expected = [
        (1, "Note.md"),
        (3, "Note.md"),
        (5, "Note.md"),
        (7, "img.png"),
        (9, "img.png"),
        (11, "doc.pdf"),
        (13, "doc.pdf"),
    ];
    for (line, path) in expected {
        assert_edge(&g, "src.md", line, path);
        for e in edges_at(&g, "src.md", line) {
            assert_eq!(e.kind, "embed", "{}", e.show());
        }
    }
}

/// Audio, video, canvas and base embeds (`#View` on a base is a view, not a heading).
#[test]
fn embeds_media() {
    let vault = fixture("embeds-media");
    let (v, code) = check_json(&vault);
    assert_no_code(&v, "broken-link");
    assert_no_code(&v, "broken-fragment");
    assert_exit(&v, code, 0);
    let g = graph_json(&vault);
    for (line, path) in [(1, "a.mp3"), (3, "v.mp4"), (5, "x.canvas"), (7, "x.base")] {
        assert_edge(&g, "src.md", line, path);
        for e in edges_at(&g, "src.md", line) {
            assert_eq!(e.kind, "embed", "{}", e.show());
        }
    }
}

/// `a` embeds `b` embeds `a`, `c` embeds itself: check and build terminate without a crash
/// and every note still gets a page.
#[test]
fn embed_cycle() {
    let vault = fixture("embed-cycle");
    let (v, code) = check_json(&vault);
    assert_no_code(&v, "broken-link");
    // Loops are warnings: `a -> b -> a` on both notes, `c` embedding itself.
    assert_diag(&v, "embed-cycle", "a.md", 3, 1);
    assert_diag(&v, "embed-cycle", "b.md", 3, 1);
    assert_diag(&v, "self-embed", "c.md", 3, 1);
    assert_exit(&v, code, 0);
    let out = tempfile::tempdir().unwrap();
    let r = build(&vault, out.path());
    assert_eq!(r.code, 0, "build exit code\n{}", r.report());
    assert!(
        out.path().join("index.html").is_file(),
        "no index.html\n{}",
        r.report()
    );
    let pages = note_pages(out.path());
    for note in ["a.md", "b.md", "c.md"] {
        let page = pages
            .get(note)
            .unwrap_or_else(|| panic!("no page for {note}: {pages:?}"));
        assert!(page.is_file(), "page of {note} missing: {}", page.display());
        let html = std::fs::read_to_string(page).unwrap();
        assert!(
            html.contains("embed-error"),
            "the cycle in {note} is shown as `embed embed-error` (theme contract)"
        );
    }
}

/// Markdown links to notes are percent-decoded, `<...>` destinations accepted, then resolved
/// like wikilinks (heading included); an external URL is not diagnosed; a missing note is.
#[test]
fn markdown_link_to_note() {
    let vault = fixture("markdown-link-to-note");
    let (v, code) = check_json(&vault);
    assert_no_code(&v, "broken-fragment");
    let d = assert_diag(&v, "broken-link", "src.md", 5, 1);
    assert!(
        d["target"].as_str().unwrap_or("").contains("Missing"),
        "{}",
        show_diag(d)
    );
    assert_eq!(
        diags_with_code(&v, "broken-link").len(),
        1,
        "{}",
        show_diags(&v)
    );
    assert!(
        diags(&v).iter().all(|d| d["line"] != 4),
        "the external link on line 4 is not diagnosed\n{}",
        show_diags(&v)
    );
    assert_exit(&v, code, 1);
    let g = graph_json(&vault);
    assert_edge(&g, "src.md", 1, "My Note.md");
    assert_edge(&g, "src.md", 2, "My Note.md");
    assert_edge(&g, "src.md", 3, "sub/Other Note.md");
}

// ---------------------------------------------------------------------------------------------
// 5. Tags and front matter
// ---------------------------------------------------------------------------------------------

/// Quoted wikilinks in front-matter properties (scalar and list items) are graph edges of kind
/// `property`.
#[test]
fn front_matter_links() {
    let vault = fixture("front-matter-links");
    let (v, code) = check_json(&vault);
    assert_no_code(&v, "broken-link");
    assert_exit(&v, code, 0);
    let g = graph_json(&vault);
    let props: Vec<Edge> = edges_from(&g, "src.md")
        .into_iter()
        .filter(|e| e.kind == "property")
        .collect();
    let mut targets: Vec<String> = props
        .iter()
        .map(|e| nfc(e.target_path.as_deref().unwrap_or("<none>")))
        .collect();
    targets.sort();
    assert_eq!(
        targets,
        ["Note.md", "Other.md", "Third.md"],
        "property edges from src.md: {props:?}"
    );
}

/// A quoted property link to a missing note is a broken link at its position in the front
/// matter (scalar and list item); the good one is still a property edge.
#[test]
fn front_matter_broken_link() {
    let vault = fixture("front-matter-broken-link");
    let (v, code) = check_json(&vault);
    assert_target(assert_diag(&v, "broken-link", "src.md", 2, 11), "Nowhere");
    assert_target(assert_diag(&v, "broken-link", "src.md", 5, 6), "Gone");
    assert_eq!(
        diags_with_code(&v, "broken-link").len(),
        2,
        "{}",
        show_diags(&v)
    );
    assert_exit(&v, code, 1);
    let g = graph_json(&vault);
    let props: Vec<Edge> = edges_from(&g, "src.md")
        .into_iter()
        .filter(|e| e.kind == "property" && e.target_kind == "note")
        .collect();
    assert!(
        props.len() == 1
            && props[0]
                .target_path
                .as_deref()
                .is_some_and(|p| same_path(p, "Note.md")),
        "one resolved property edge to Note.md: {props:?}"
    );
}

/// Broken YAML is an `invalid-front-matter` error on the line of the YAML error (line 3 of the
/// file); the note still exists and links to it resolve.
#[test]
fn front_matter_invalid() {
    let vault = fixture("front-matter-invalid");
    let (v, code) = check_json(&vault);
    let found = diags_with_code(&v, "invalid-front-matter");
    assert_eq!(found.len(), 1, "{}", show_diags(&v));
    let d = found[0];
    assert_eq!(d["file"], "bad.md", "{}", show_diag(d));
    assert_eq!(
        d["line"],
        3,
        "the YAML error is on line 3: {}",
        show_diag(d)
    );
    assert_eq!(d["severity"], "error", "{}", show_diag(d));
    assert_no_code(&v, "broken-link");
    assert_exit(&v, code, 1);
    let g = graph_json(&vault);
    assert_edge(&g, "src.md", 1, "bad.md");
}

/// JSON front matter is accepted.
#[test]
fn front_matter_json() {
    let vault = fixture("front-matter-json");
    let (v, code) = check_json(&vault);
    assert_no_code(&v, "invalid-front-matter");
    assert_no_code(&v, "broken-link");
    assert_exit(&v, code, 0);
    let g = graph_json(&vault);
    assert_edge(&g, "src.md", 1, "Note.md");
}

/// A scalar `aliases` and the deprecated singular `tag`/`alias`/`cssclass` are accepted with a
/// warning, never an error.
#[test]
fn front_matter_lenient() {
    let vault = fixture("front-matter-lenient");
    let (v, code) = check_json(&vault);
    assert_no_code(&v, "invalid-front-matter");
    assert_eq!(summary(&v, "errors"), 0, "{}", show_diags(&v));
    for file in ["scalar.md", "singular.md"] {
        assert!(
            diags_in_file(&v, file)
                .iter()
                .any(|d| d["severity"] == "warning"),
            "{file} should get a warning\n{}",
            show_diags(&v)
        );
    }
    assert_exit(&v, code, 0);
}

/// Inline tags, nested tags, front-matter tags; `#1984`, code and mid-word `#` are not tags;
/// tags are case-insensitive and shown with the first casing seen. Checked through tag nodes
/// of `graph --format json`.
#[test]
fn tags() {
    let vault = fixture("tags");
    let (v, code) = check_json(&vault);
    assert_exit(&v, code, 0);
    let g = graph_json(&vault);
    let tag_nodes = nodes_of_kind(&g, "tag");
    assert!(!tag_nodes.is_empty(), "the graph has tag nodes");
    let name_of = |n: &Value| -> String {
        let raw = n["title"]
            .as_str()
            .or_else(|| n["id"].as_str())
            .unwrap_or("")
            .to_string();
        let raw = raw.strip_prefix("tag:").unwrap_or(&raw);
        raw.trim_start_matches('#').to_string()
    };
    let names: Vec<String> = tag_nodes.iter().map(|n| name_of(n)).collect();
    let lower: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
    for want in ["alpha", "nested/tag", "beta", "project/sub"] {
        assert!(
            lower.iter().any(|n| n == want),
            "tag {want} missing: {names:?}"
        );
    }
    for not in ["1984", "code", "word", "heading", "note"] {
        assert!(
            !lower.iter().any(|n| n == not),
            "{not} is not a tag: {names:?}"
        );
    }
    let alpha: Vec<&String> = names
        .iter()
        .filter(|n| n.to_lowercase() == "alpha")
        .collect();
    assert_eq!(
        alpha,
        [&"alpha".to_string()],
        "one tag, first casing: {names:?}"
    );
}

/// `publish: false` and `draft: true` notes get no page, and their text appears nowhere in
/// the site.
#[test]
fn publish_hidden() {
    let vault = fixture("publish-hidden");
    let out = tempfile::tempdir().unwrap();
    let r = build(&vault, out.path());
    r.assert_code(0);
    let pages = note_pages(out.path());
    for shown in ["Visible.md", "Public.md"] {
        assert!(pages.contains_key(shown), "{shown} needs a page: {pages:?}");
    }
    for hidden in ["Private.md", "Draft.md"] {
        assert!(!pages.contains_key(hidden), "{hidden} must not have a page");
    }
    let mut seen_visible = false;
    for (rel, bytes) in tree_bytes(out.path()) {
        let text = String::from_utf8_lossy(&bytes);
        seen_visible |= text.contains("VISIBLE-BODY-MARKER");
        for marker in ["PRIVATE-BODY-MARKER", "DRAFT-BODY-MARKER"] {
            assert!(
                !text.contains(marker),
                "hidden text {marker} leaked into {}",
                rel.display()
            );
        }
    }
    assert!(seen_visible, "the visible note's text is in no output file");
}

// ---------------------------------------------------------------------------------------------
// 6. What a vault is; unreadable files
// ---------------------------------------------------------------------------------------------

/// The bytes of the invalid-utf8 fixture (`bad.md` holds Latin-1 and stray bytes).
const INVALID_UTF8_FILES: &[(&[u8], &[u8])] = &[
    (b"bad.md", b"# Bad\n\nLatin-1 caf\xe9 and \xff\xfe.\n"),
    (b"good.md", b"# Good\n\n[[other]]\n"),
    (b"other.md", b"# Other\n"),
];

/// A note that is not UTF-8 is an `unreadable-file` error; the rest of the vault is still
/// checked.
#[test]
fn invalid_utf8() {
    let fx = byte_fixture("invalid-utf8", INVALID_UTF8_FILES);
    let (v, code) = check_json(&fx.path);
    let found = diags_with_code(&v, "unreadable-file");
    assert_eq!(found.len(), 1, "{}", show_diags(&v));
    assert_eq!(found[0]["file"], "bad.md", "{}", show_diag(found[0]));
    assert_eq!(found[0]["severity"], "error", "{}", show_diag(found[0]));
    assert!(
        diags_in_file(&v, "good.md").is_empty(),
        "{}",
        show_diags(&v)
    );
    assert_exit(&v, code, 1);
    let g = graph_json(&fx.path);
    assert_edge(&g, "good.md", 3, "other.md");
}

/// `.obsidian/`, `.trash/` and dotfiles are not part of the vault: not notes, not targets, not
/// checked.
#[test]
fn skip_dot_folders() {
    let vault = fixture("skip-dot-folders");
    let (v, code) = check_json(&vault);
    assert_target(assert_diag(&v, "broken-link", "src.md", 2, 1), "Deleted");
    assert_eq!(
        diags_with_code(&v, "broken-link").len(),
        1,
        "{}",
        show_diags(&v)
    );
    for d in diags(&v) {
        let f = d["file"].as_str().unwrap_or("");
        assert!(
            !f.split('/').any(|c| c.starts_with('.')),
            "dot files are not checked: {}",
            show_diag(d)
        );
    }
    assert_eq!(
        summary(&v, "notes"),
        2,
        "only src.md and Visible.md are notes"
    );
    assert_exit(&v, code, 1);
    let g = graph_json(&vault);
    for n in g["nodes"].as_array().unwrap() {
        let p = n["path"].as_str().unwrap_or("");
        assert!(
            !p.split('/').any(|c| c.starts_with('.')),
            "no node for a dot file: {n}"
        );
    }
    assert_edge(&g, "src.md", 1, "Visible.md");
}

/// `userIgnoreFilters` of `.obsidian/app.json` are skipped like dot folders: a plain entry is
/// a path prefix (`Archive/`), one between slashes a pattern (`/\.excalidraw\.md$/`).
#[test]
fn user_ignore_filters() {
    let vault = fixture("user-ignore-filters");
    let (v, code) = check_json(&vault);
    for excluded in ["Archive/Old.md", "Sketch.excalidraw.md"] {
        assert!(
            diags_in_file(&v, excluded).is_empty(),
            "{excluded} is excluded\n{}",
            show_diags(&v)
        );
    }
    assert_no_code(&v, "broken-link");
    assert_no_code(&v, "invalid-settings");
    assert_eq!(summary(&v, "notes"), 2, "only Note.md and src.md are notes");
    assert_exit(&v, code, 0);
}

// ---------------------------------------------------------------------------------------------
// Positions and the combined case
// ---------------------------------------------------------------------------------------------

/// Columns count Unicode scalar values, not bytes or display width: CJK, an emoji before an
/// embed's `!`, a tab, and a combining accent (two scalar values).
#[test]
fn column_counts_chars() {
    let vault = fixture("column-counts-chars");
    let (v, code) = check_json(&vault);
    // A missing image is `missing-attachment`; the others are missing notes.
    let expected = [
        (1, 5, "broken-link", "Nowhere"),
        (2, 3, "missing-attachment", "Gone.png"),
        (3, 7, "broken-link", "Also Missing"),
        (4, 4, "broken-link", "Combo"),
    ];
    for (line, col, kind, target) in expected {
        assert_target(assert_diag(&v, kind, "src.md", line, col), target);
    }
    assert_eq!(
        diags_with_code(&v, "broken-link").len(),
        3,
        "{}",
        show_diags(&v)
    );
    assert_exit(&v, code, 1);
}

/// One broken link, one missing heading, one ambiguous name: exit 1 and exactly those three
/// diagnostics, in order, at the right positions.
#[test]
fn mixed_errors() {
    let vault = fixture("mixed-errors");
    let (v, code) = check_json(&vault);
    let got: Vec<(String, u64, u64, String, String, Option<String>)> = diags(&v)
        .into_iter()
        .map(|d| {
            (
                d["file"].as_str().unwrap_or("").to_string(),
                d["line"].as_u64().unwrap_or(0),
                d["column"].as_u64().unwrap_or(0),
                d["code"].as_str().unwrap_or("").to_string(),
                d["severity"].as_str().unwrap_or("").to_string(),
                d["target"].as_str().map(str::to_string),
            )
        })
        .collect();
    let expected: Vec<(String, u64, u64, String, String, Option<String>)> = [
        ("src.md", 3, 9, "broken-link", "error", "Nowhere"),
        ("src.md", 4, 18, "broken-fragment", "warning", "Target"),
        ("src.md", 5, 12, "ambiguous-link", "warning", "Dup"),
    ]
    .iter()
    .map(|(f, l, c, code, sev, t)| {
        (
            f.to_string(),
            *l,
            *c,
            code.to_string(),
            sev.to_string(),
            Some(t.to_string()),
        )
    })
    .collect();
    assert_eq!(got, expected, "all diagnostics:\n{}", show_diags(&v));
    let amb = diags_with_code(&v, "ambiguous-link")[0]["message"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        amb.contains("a/Dup") && amb.contains("b/Dup"),
        "the ambiguous-link message names the candidates: {amb}"
    );
    assert_eq!(summary(&v, "errors"), 1);
    assert_eq!(summary(&v, "warnings"), 2);
    assert_eq!(summary(&v, "notes"), 4);
    assert_eq!(summary(&v, "links"), 3);
    assert_exit(&v, code, 1);
    let g = graph_json(&vault);
    assert_edge(&g, "src.md", 4, "Target.md");
    assert_edge(&g, "src.md", 5, "a/Dup.md");
    let broken = edges_at(&g, "src.md", 3);
    assert!(
        !broken.is_empty() && broken.iter().all(|e| e.target_kind == "wanted"),
        "the broken link is an edge to a wanted node: {broken:?}"
    );
}
