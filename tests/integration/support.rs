//! Helpers shared by the integration tests: run the `vaultc` binary as a black box, find fixture
//! vaults, and query its JSON output (`check --format json`, `graph --format json`).
//!
//! Every helper panics with a message that says what was run and what came back, so a failing
//! test explains itself without a debugger.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;
use unicode_normalization::UnicodeNormalization;

/// A `vaultc` run that takes longer than this is killed and the test fails (catches hangs,
/// e.g. on embed cycles).
pub const TIMEOUT: Duration = Duration::from_secs(180);

/// The message printed when the shared corpora are absent (see `corpora.rs`).
pub const CORPORA_SKIP: &str =
    "skipping: ../shared/corpora not found (tests over real vaults need the shared folder)";

// ---------------------------------------------------------------------------------------------
// Running the binary
// ---------------------------------------------------------------------------------------------

/// A command for the `vaultc` binary built by cargo for this test run, with a timeout and
/// colours switched off.
pub fn vaultc() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vaultc"));
    cmd.timeout(TIMEOUT);
    cmd.env("NO_COLOR", "1");
    cmd.env("CLICOLOR", "0");
    cmd.env_remove("CLICOLOR_FORCE");
    // `check` keeps its parse cache in vaultc's cache folder: the tests' goes to the target
    // folder, not the home folder of whoever runs them (on any platform).
    cmd.env("VAULTC_CACHE_DIR", test_cache_dir());
    cmd
}

/// vaultc's cache folder (`VAULTC_CACHE_DIR`) the binary is run with in tests.
pub fn test_cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("vaultc-cache")
}

/// What one run of `vaultc` produced.
#[derive(Debug)]
pub struct Run {
    pub command: String,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout and stderr together (human diagnostics may go to either).
    pub fn all_output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// A short report of this run for panic messages.
    pub fn report(&self) -> String {
        format!(
            "command: {}\nexit code: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.command,
            self.code,
            truncate(&self.stdout, 6000),
            truncate(&self.stderr, 6000)
        )
    }

    /// Fails when vaultc panicked (exit 101 or a panic message on stderr).
    pub fn assert_no_panic(&self) -> &Self {
        assert!(
            self.code != 101 && !self.stderr.contains("panicked at"),
            "vaultc panicked\n{}",
            self.report()
        );
        self
    }

    /// Fails unless the exit code is `code`.
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "unexpected exit code\n{}", self.report());
        self
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n... ({} more bytes)", &s[..end], s.len() - end)
}

/// Runs `cmd` to completion. Panics when it cannot start or is killed (timeout, signal).
pub fn run_cmd(cmd: &mut Command) -> Run {
    let command = format!("{cmd:?}");
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run vaultc ({command}): {e}"));
    let code = out.status.code().unwrap_or_else(|| {
        panic!(
            "vaultc was killed by a signal or by the {}s timeout: {command}\nstderr:\n{}",
            TIMEOUT.as_secs(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    Run {
        command,
        code,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `vaultc ARGS...`.
pub fn run<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    run_cmd(vaultc().args(args))
}

// ---------------------------------------------------------------------------------------------
// Fixtures and file trees
// ---------------------------------------------------------------------------------------------

/// `tests/fixtures/` of this package.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
}

/// The fixture vault `tests/fixtures/<name>/`; panics if it does not exist.
pub fn fixture(name: &str) -> PathBuf {
    let p = fixtures_dir().join(name);
    assert!(p.is_dir(), "fixture {} does not exist", p.display());
    p
}

/// The names of all fixture vaults, sorted.
pub fn fixture_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures_dir())
        .expect("tests/fixtures is readable")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A fixture vault that holds bytes an unlucky checkout could change (NFD file names, invalid
/// UTF-8). `files` is the authoritative content (relative path as raw bytes, file bytes). When
/// `tests/fixtures/<name>/` holds exactly those bytes it is used in place; otherwise the files
/// are written into a fresh temporary directory and that one is used.
pub struct ByteFixture {
    pub path: PathBuf,
    _tmp: Option<tempfile::TempDir>,
}

pub fn byte_fixture(name: &str, files: &[(&[u8], &[u8])]) -> ByteFixture {
    let dir = fixtures_dir().join(name);
    let on_disk_matches = files.iter().all(|(rel, bytes)| {
        let p = dir.join(path_from_bytes(rel));
        std::fs::read(&p).map(|b| b == *bytes).unwrap_or(false)
    }) && list_files(&dir).len() == files.len();
    if on_disk_matches {
        return ByteFixture {
            path: dir,
            _tmp: None,
        };
    }
    eprintln!("note: tests/fixtures/{name} differs from the expected bytes; generating it in a temporary directory");
    let tmp = tempfile::tempdir().expect("create a temporary directory");
    for (rel, bytes) in files {
        let p = tmp.path().join(path_from_bytes(rel));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap();
    }
    ByteFixture {
        path: tmp.path().to_path_buf(),
        _tmp: Some(tmp),
    }
}

#[cfg(unix)]
fn path_from_bytes(b: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(b))
}

#[cfg(not(unix))]
fn path_from_bytes(b: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8(b.to_vec()).expect("file names are UTF-8"))
}

/// Every file below `dir` (recursively, dot entries included), as paths relative to `dir`,
/// sorted.
pub fn list_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            let ft = e.file_type().unwrap();
            if ft.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Every file below `dir` with its bytes: compare two of these to compare two trees.
pub fn tree_bytes(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    list_files(dir)
        .into_iter()
        .map(|rel| {
            let bytes = std::fs::read(dir.join(&rel)).unwrap();
            (rel, bytes)
        })
        .collect()
}

/// Asserts two trees hold the same files with the same bytes, naming the first differences.
pub fn assert_same_tree(a: &Path, b: &Path) {
    let ta = tree_bytes(a);
    let tb = tree_bytes(b);
    let only_a: Vec<_> = ta.keys().filter(|k| !tb.contains_key(*k)).collect();
    let only_b: Vec<_> = tb.keys().filter(|k| !ta.contains_key(*k)).collect();
    let differ: Vec<_> = ta
        .iter()
        .filter(|(k, v)| tb.get(*k).is_some_and(|w| w != *v))
        .map(|(k, _)| k)
        .collect();
    assert!(
        only_a.is_empty() && only_b.is_empty() && differ.is_empty(),
        "trees differ\n  {}\n  {}\nonly in the first: {only_a:?}\nonly in the second: {only_b:?}\ndifferent bytes: {differ:?}",
        a.display(),
        b.display()
    );
}

/// A theme folder `dir/theme` overriding the given templates (`(name, text)`, e.g.
/// `("tag.html", "...")`); every other template comes from the default theme.
pub fn theme(dir: &Path, templates: &[(&str, &str)]) -> PathBuf {
    let theme = dir.join("theme");
    std::fs::create_dir_all(theme.join("templates")).unwrap();
    for (name, text) in templates {
        std::fs::write(theme.join("templates").join(name), text).unwrap();
    }
    theme
}

/// Copies the tree `src` into `dst` (created if missing); a symlink is copied as the same
/// link (the fixtures' links are relative, so they point into the copy).
pub fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for rel in list_files(src) {
        let (from, to) = (src.join(&rel), dst.join(&rel));
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        #[cfg(unix)]
        if from.symlink_metadata().unwrap().is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&from).unwrap(), &to).unwrap();
            continue;
        }
        std::fs::copy(&from, &to).unwrap();
    }
}

/// Vault-relative paths (with `/`) of the files vaultc should see: dot folders and dotfiles are
/// skipped, as the semantics require.
pub fn vault_files(vault: &Path) -> Vec<String> {
    list_files(vault)
        .into_iter()
        .filter(|rel| {
            !rel.components()
                .any(|c| c.as_os_str().to_string_lossy().starts_with('.'))
        })
        .map(|rel| slash_path(&rel))
        .collect()
}

/// The notes (`*.md`, any letter case) of a vault, as vault-relative paths.
pub fn vault_notes(vault: &Path) -> Vec<String> {
    vault_files(vault)
        .into_iter()
        .filter(|p| p.to_lowercase().ends_with(".md"))
        .collect()
}

/// A relative path with `/` separators.
pub fn slash_path(rel: &Path) -> String {
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// NFC form of a string: paths are compared after NFC normalisation.
pub fn nfc(s: &str) -> String {
    s.nfc().collect()
}

/// Whether two vault paths name the same file (NFC, `/` separators).
pub fn same_path(a: &str, b: &str) -> bool {
    nfc(&a.replace('\\', "/")) == nfc(&b.replace('\\', "/"))
}

// ---------------------------------------------------------------------------------------------
// check --format json
// ---------------------------------------------------------------------------------------------

/// Runs `vaultc check VAULT --format json`; returns the parsed object and the exit code.
/// Fails unless the exit code is 0 or 1 and stdout is one JSON object with `diagnostics` and
/// `summary`.
pub fn check_json(vault: &Path) -> (Value, i32) {
    let r = run_cmd(vaultc().arg("check").arg(vault).args(["--format", "json"]));
    r.assert_no_panic();
    assert!(
        r.code == 0 || r.code == 1,
        "check must exit 0 or 1 on a readable vault\n{}",
        r.report()
    );
    let v: Value = serde_json::from_str(r.stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "stdout of check --format json is not one JSON object: {e}\n{}",
            r.report()
        )
    });
    assert!(
        v["diagnostics"].is_array() && v["summary"].is_object(),
        "check json lacks `diagnostics` (array) or `summary` (object)\n{}",
        r.report()
    );
    (v, r.code)
}

/// The diagnostics of a check json object.
pub fn diags(v: &Value) -> Vec<&Value> {
    v["diagnostics"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

/// The diagnostics with the given `code`.
pub fn diags_with_code<'a>(v: &'a Value, code: &str) -> Vec<&'a Value> {
    diags(v)
        .into_iter()
        .filter(|d| d["code"].as_str() == Some(code))
        .collect()
}

/// The diagnostics reported for the vault-relative `file`.
pub fn diags_in_file<'a>(v: &'a Value, file: &str) -> Vec<&'a Value> {
    diags(v)
        .into_iter()
        .filter(|d| d["file"].as_str().is_some_and(|f| same_path(f, file)))
        .collect()
}

/// One diagnostic on one line, for messages: `file:line:col severity[code] target=.. message`.
pub fn show_diag(d: &Value) -> String {
    format!(
        "{}:{}:{} {}[{}] target={} {}",
        d["file"].as_str().unwrap_or("?"),
        d["line"],
        d["column"],
        d["severity"].as_str().unwrap_or("?"),
        d["code"].as_str().unwrap_or("?"),
        d["target"],
        d["message"].as_str().unwrap_or("")
    )
}

/// All diagnostics, one per line, for messages.
pub fn show_diags(v: &Value) -> String {
    let all: Vec<String> = diags(v).into_iter().map(show_diag).collect();
    if all.is_empty() {
        "(no diagnostics)".to_string()
    } else {
        all.join("\n")
    }
}

/// The unique diagnostic with `code` at `file:line:col`; panics otherwise.
pub fn assert_diag<'a>(v: &'a Value, code: &str, file: &str, line: u64, col: u64) -> &'a Value {
    let found: Vec<&Value> = diags_with_code(v, code)
        .into_iter()
        .filter(|d| {
            d["file"].as_str().is_some_and(|f| same_path(f, file))
                && d["line"].as_u64() == Some(line)
                && d["column"].as_u64() == Some(col)
        })
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one {code} at {file}:{line}:{col}, found {}\nall diagnostics:\n{}",
        found.len(),
        show_diags(v)
    );
    found[0]
}

/// Asserts there is no diagnostic with `code`.
pub fn assert_no_code(v: &Value, code: &str) {
    let found = diags_with_code(v, code);
    assert!(
        found.is_empty(),
        "expected no {code} diagnostic, found {}\nall diagnostics:\n{}",
        found.len(),
        show_diags(v)
    );
}

/// Asserts no diagnostic's message or target mentions `needle` (e.g. the `Missing` targets that
/// sit in code, comments, math... and must never be diagnosed).
pub fn assert_no_diag_mentions(v: &Value, needle: &str) {
    let found: Vec<String> = diags(v)
        .into_iter()
        .filter(|d| {
            d["message"].as_str().unwrap_or("").contains(needle)
                || d["target"].as_str().unwrap_or("").contains(needle)
        })
        .map(show_diag)
        .collect();
    assert!(
        found.is_empty(),
        "no diagnostic may mention {needle:?}, found:\n{}",
        found.join("\n")
    );
}

/// `summary.<key>` as a number.
pub fn summary(v: &Value, key: &str) -> u64 {
    v["summary"][key]
        .as_u64()
        .unwrap_or_else(|| panic!("summary.{key} is not a number: {}", v["summary"]))
}

// ---------------------------------------------------------------------------------------------
// graph --format json
// ---------------------------------------------------------------------------------------------

/// Runs `vaultc graph VAULT --format json` and returns the parsed object. Fails unless the exit
/// code is 0 or 1 and stdout holds `nodes` and `edges` arrays.
pub fn graph_json(vault: &Path) -> Value {
    let r = run_cmd(vaultc().arg("graph").arg(vault).args(["--format", "json"]));
    r.assert_no_panic();
    assert!(
        r.code == 0 || r.code == 1,
        "graph must exit 0 or 1 on a readable vault\n{}",
        r.report()
    );
    let v: Value = serde_json::from_str(r.stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "stdout of graph --format json is not one JSON object: {e}\n{}",
            r.report()
        )
    });
    assert!(
        v["nodes"].is_array() && v["edges"].is_array(),
        "graph json lacks `nodes` or `edges` arrays\n{}",
        r.report()
    );
    v
}

/// A graph edge with its endpoints looked up.
#[derive(Debug, Clone)]
pub struct Edge {
    pub kind: String,
    pub line: Option<u64>,
    pub source_path: Option<String>,
    pub target_path: Option<String>,
    pub target_kind: String,
    pub target_title: Option<String>,
}

impl Edge {
    pub fn show(&self) -> String {
        format!(
            "{}:{} --{}--> {} ({}, title {:?})",
            self.source_path.as_deref().unwrap_or("?"),
            self.line
                .map(|l| l.to_string())
                .unwrap_or_else(|| "-".into()),
            self.kind,
            self.target_path.as_deref().unwrap_or("<no path>"),
            self.target_kind,
            self.target_title.as_deref().unwrap_or("")
        )
    }
}

/// Nodes by id (the id's JSON text, so numbers and strings both work).
pub fn nodes_by_id(graph: &Value) -> BTreeMap<String, &Value> {
    graph["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| (n["id"].to_string(), n))
        .collect()
}

/// All nodes of the given kind.
pub fn nodes_of_kind<'a>(graph: &'a Value, kind: &str) -> Vec<&'a Value> {
    graph["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|n| n["kind"].as_str() == Some(kind))
        .collect()
}

/// The node whose `path` is `path`, if any.
pub fn node_by_path<'a>(graph: &'a Value, path: &str) -> Option<&'a Value> {
    graph["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|n| n["path"].as_str().is_some_and(|p| same_path(p, path)))
}

/// Every edge, endpoints resolved to paths.
pub fn edges(graph: &Value) -> Vec<Edge> {
    let nodes = nodes_by_id(graph);
    graph["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let s = nodes.get(&e["source"].to_string());
            let t = nodes.get(&e["target"].to_string());
            Edge {
                kind: e["kind"].as_str().unwrap_or("").to_string(),
                line: e["line"].as_u64(),
                source_path: s.and_then(|n| n["path"].as_str()).map(str::to_string),
                target_path: t.and_then(|n| n["path"].as_str()).map(str::to_string),
                target_kind: t
                    .and_then(|n| n["kind"].as_str())
                    .unwrap_or("<missing node>")
                    .to_string(),
                target_title: t.and_then(|n| n["title"].as_str()).map(str::to_string),
            }
        })
        .collect()
}

/// The edges leaving the note `source` (vault-relative path).
pub fn edges_from(graph: &Value, source: &str) -> Vec<Edge> {
    edges(graph)
        .into_iter()
        .filter(|e| {
            e.source_path
                .as_deref()
                .is_some_and(|p| same_path(p, source))
        })
        .collect()
}

/// The edges leaving `source` from `line` (1-based).
pub fn edges_at(graph: &Value, source: &str, line: u64) -> Vec<Edge> {
    edges_from(graph, source)
        .into_iter()
        .filter(|e| e.line == Some(line))
        .collect()
}

fn show_edges(es: &[Edge]) -> String {
    if es.is_empty() {
        return "(none)".to_string();
    }
    es.iter().map(Edge::show).collect::<Vec<_>>().join("\n")
}

/// The target path of the single link leaving `source` at `line`. Panics when there is no such
/// edge, when several edges there disagree, or when the target node has no path.
pub fn edge_from(graph: &Value, source: &str, line: u64) -> String {
    let here = edges_at(graph, source, line);
    let mut targets: Vec<String> = here
        .iter()
        .map(|e| e.target_path.clone().unwrap_or_default())
        .collect();
    targets.sort();
    targets.dedup();
    assert!(
        targets.len() == 1 && !targets[0].is_empty(),
        "expected one resolved edge from {source}:{line}, found:\n{}\nall edges from {source}:\n{}",
        show_edges(&here),
        show_edges(&edges_from(graph, source))
    );
    targets.pop().unwrap()
}

/// Asserts the link at `source:line` reaches the file `expected` (vault-relative path).
pub fn assert_edge(graph: &Value, source: &str, line: u64, expected: &str) {
    let got = edge_from(graph, source, line);
    assert!(
        same_path(&got, expected),
        "the link at {source}:{line} should reach {expected}, it reaches {got}\nall edges from {source}:\n{}",
        show_edges(&edges_from(graph, source))
    );
}

/// Asserts every edge leaving `source` is one of `expected` (line, target path), and each of
/// those exists.
pub fn assert_edges_exactly(graph: &Value, source: &str, expected: &[(u64, &str)]) {
    let got = edges_from(graph, source);
    let ok = got.len() == expected.len()
        && expected.iter().all(|(line, path)| {
            got.iter().any(|e| {
                e.line == Some(*line)
                    && e.target_path.as_deref().is_some_and(|p| same_path(p, path))
            })
        });
    assert!(
        ok,
        "edges from {source} should be exactly {expected:?}, found:\n{}",
        show_edges(&got)
    );
}

// ---------------------------------------------------------------------------------------------
// build
// ---------------------------------------------------------------------------------------------

/// A vault of `notes` (path, text) in a temporary folder, built into `site/` beside it (the
/// build must exit 0): the folder (kept alive by the caller), the vault and the site.
pub fn built_vault(notes: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("vault");
    for (path, text) in notes {
        let file = vault.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }
    let site = dir.path().join("site");
    build(&vault, &site).assert_code(0);
    (dir, vault, site)
}

/// Runs `vaultc build VAULT -o OUT`.
pub fn build(vault: &Path, out: &Path) -> Run {
    build_with(vault, out, &[])
}

/// Runs `vaultc build VAULT -o OUT EXTRA...`.
pub fn build_with(vault: &Path, out: &Path, extra: &[&str]) -> Run {
    let r = run_cmd(
        vaultc()
            .arg("build")
            .arg(vault)
            .arg("-o")
            .arg(out)
            .args(extra),
    );
    r.assert_no_panic();
    r
}

/// The number just before `word` in a build's summary line (`12 pages rendered`).
pub fn count_before(run: &Run, word: &str) -> usize {
    let at = run
        .stderr
        .find(word)
        .unwrap_or_else(|| panic!("no `{word}` in the summary: {}", run.report()));
    run.stderr[..at]
        .trim_end()
        .rsplit(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count before `{word}`: {}", run.report()))
}

/// `(notes parsed, notes reused from the parse cache)` from a build's summary line.
pub fn parse_counts(run: &Run) -> (usize, usize) {
    (
        count_before(run, " notes parsed"),
        count_before(run, " reused)"),
    )
}

/// A build's stderr without its summary line (which holds timings) and the parse cache's
/// notes: the diagnostics.
pub fn build_diagnostics(run: &Run) -> String {
    run.stderr
        .lines()
        // The summary and the parse cache's own notes are not diagnostics.
        .filter(|l| !l.starts_with("built ") && !l.contains("the parse cache was not"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Parses the JSON value assigned to `window.<var> =` in a JS data file of the built site.
pub fn js_assignment(js: &str, var: &str) -> Option<Value> {
    let key = format!("window.{var}");
    let mut from = 0;
    while let Some(pos) = js[from..].find(&key) {
        let after = from + pos + key.len();
        let rest = js[after..].trim_start();
        if let Some(rest) = rest.strip_prefix('=') {
            let mut it = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
            return it.next().and_then(|r| r.ok());
        }
        from = after;
    }
    None
}

/// The search documents of a built site, `{title, path, url, excerpt}` each, from every shard
/// `search-index.js` lists (`window.VAULTC_SEARCH = {shards: [...]}`; each shard pushes
/// `{index, docs}` onto `window.VAULTC_SEARCH_SHARDS`; see docs/theme-contract.md).
pub fn search_docs(out: &Path) -> Vec<Value> {
    let file = out.join("search-index.js");
    let js = std::fs::read_to_string(&file).unwrap_or_else(|e| {
        panic!(
            "cannot read {} (the theme contract puts the search manifest there): {e}\nfiles written: {:?}",
            file.display(),
            list_files(out).iter().take(50).collect::<Vec<_>>()
        )
    });
    let manifest = js_assignment(&js, "VAULTC_SEARCH").unwrap_or_else(|| {
        panic!(
            "search-index.js has no `window.VAULTC_SEARCH = {{...}}`:\n{}",
            truncate(&js, 2000)
        )
    });
    let shards = manifest["shards"]
        .as_array()
        .expect("VAULTC_SEARCH.shards is a list");
    let mut docs = Vec::new();
    for shard in shards {
        let rel = shard.as_str().expect("shard paths are strings");
        let js = std::fs::read_to_string(out.join(rel))
            .unwrap_or_else(|e| panic!("cannot read search shard {rel}: {e}"));
        let json = js
            .split_once(".push(")
            .and_then(|(_, rest)| rest.trim_end().strip_suffix(");"))
            .unwrap_or_else(|| panic!("{rel} does not push one shard: {}", truncate(&js, 500)));
        let shard: Value =
            serde_json::from_str(json).unwrap_or_else(|e| panic!("{rel} holds no JSON shard: {e}"));
        let obj = shard["docs"]
            .as_object()
            .expect("a shard's docs are an object");
        docs.extend(obj.values().cloned());
    }
    docs
}

/// The page of every published note of a built site: vault path -> page file (absolute), from
/// the search documents (url = page URL relative to the site root).
pub fn note_pages(out: &Path) -> BTreeMap<String, PathBuf> {
    let mut pages = BTreeMap::new();
    for doc in search_docs(out) {
        if let (Some(path), Some(url)) = (doc["path"].as_str(), doc["url"].as_str()) {
            let rel = url.split('#').next().unwrap_or(url).trim_start_matches('/');
            let mut page = out.join(rel);
            if url.ends_with('/') || url.is_empty() {
                page = page.join("index.html");
            }
            pages.insert(nfc(path), page);
        }
    }
    pages
}

// ---------------------------------------------------------------------------------------------
// Corpora
// ---------------------------------------------------------------------------------------------

/// `../shared/corpora/` relative to the package, or `None` (after printing the skip message)
/// when absent.
pub fn corpora_root() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("{CORPORA_SKIP}");
        None
    }
}

/// One corpus vault, or `None` (after printing the skip message) when absent.
pub fn corpus(name: &str) -> Option<PathBuf> {
    let root = corpora_root()?;
    let p = root.join(name);
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("{CORPORA_SKIP} ({name} missing)");
        None
    }
}

/// The text of `vault/file` at 1-based `line`, from 1-based character column `col` on.
pub fn text_at(vault: &Path, file: &str, line: u64, col: u64) -> String {
    let text = std::fs::read_to_string(vault.join(file)).unwrap_or_default();
    let l = text
        .split('\n')
        .nth((line.max(1) - 1) as usize)
        .unwrap_or("");
    l.chars().skip((col.max(1) - 1) as usize).collect()
}

/// A small deterministic generator (xorshift64*), so a failing sequence can be replayed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The `n`-th element of built page `page` of `site` that starts with `opening` (such as
/// `<div class="embed embed-base"`), up to the `</div>` that closes it.
pub fn nth_div(site: &Path, page: &str, opening: &str, n: usize) -> String {
    let html = std::fs::read_to_string(site.join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
    let start = html
        .match_indices(opening)
        .nth(n)
        .unwrap_or_else(|| panic!("no {opening} number {n} in {page}:\n{html}"))
        .0;
    let mut depth = 0usize;
    let mut at = start;
    loop {
        let open = html[at..].find("<div").map(|i| at + i);
        let close = html[at..]
            .find("</div>")
            .map(|i| at + i)
            .unwrap_or_else(|| panic!("unclosed {opening} in {page}"));
        match open {
            Some(open) if open < close => {
                depth += 1;
                at = open + 4;
            }
            _ => {
                depth -= 1;
                at = close + "</div>".len();
                if depth == 0 {
                    return html[start..at].to_string();
                }
            }
        }
    }
}

/// A build session over a copy of fixture `name`: each edit writes a file (a vault path and
/// its new text, made from the old) and rebuilds with the watcher reporting that file; then
/// `after(step, served site, whether the rebuild was tracked)` looks at the site, which must
/// equal a cold full build of the edited vault, diagnostics included.
pub fn session_edits(
    name: &str,
    edits: &[(&str, &dyn Fn(String) -> String)],
    mut after: impl FnMut(usize, &Path, bool),
) {
    use vaultc::build::{BuildOptions, BuildSession};
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("vault");
    copy_dir(&fixture(name), &vault);
    let root = vault.canonicalize().unwrap();
    let served = dir.path().join("served");
    // As the command line does: the vault's `vaultc.toml`, when it has one.
    let compile = vaultc::CompileOptions {
        config: vaultc::config::Config::load(&vault).unwrap(),
        ..Default::default()
    };
    let options = BuildOptions {
        output: served.clone(),
        compile: compile.clone(),
        ..BuildOptions::default()
    };
    let mut session = BuildSession::new();
    session.build(&vault, &options, None).unwrap();
    for (step, (path, change)) in edits.iter().enumerate() {
        let file = root.join(path);
        std::fs::write(&file, change(std::fs::read_to_string(&file).unwrap())).unwrap();
        let report = session
            .build(&vault, &options, Some(std::slice::from_ref(&file)))
            .unwrap();
        after(step, &served, report.tracked);
        let full = dir.path().join(format!("full-{step}"));
        let cold = vaultc::build::build(
            &vault,
            &BuildOptions {
                output: full.clone(),
                full: true,
                no_cache: true,
                compile: compile.clone(),
                ..BuildOptions::default()
            },
        )
        .unwrap();
        assert_same_tree(&served, &full);
        let listed = |r: &vaultc::build::BuildReport| -> Vec<String> {
            r.compilation
                .diagnostics
                .iter()
                .map(|d| format!("{d:?}"))
                .collect()
        };
        let session_report = session.last_build().expect("built");
        assert_eq!(listed(session_report), listed(&cold), "step {step}");
    }
}
