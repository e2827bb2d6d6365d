//! The command line contract: help and version, exit codes (0 clean, 1 vault errors, 2 the
//! command failed), the human diagnostic format, and `build` output (pages, refusal to write
//! over the vault, determinism).

use std::path::Path;

use regex::Regex;

use crate::support::*;

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn strip_ansi(s: &str) -> String {
    Regex::new(r"\x1b\[[0-9;]*[A-Za-z]")
        .unwrap()
        .replace_all(s, "")
        .into_owned()
}

// ---------------------------------------------------------------------------------------------
// --help and --version
// ---------------------------------------------------------------------------------------------

#[test]
fn help_lists_subcommands() {
    let r = run(["--help"]);
    r.assert_code(0);
    for sub in ["check", "build", "serve", "graph", "lsp", "explain"] {
        assert!(
            r.stdout.contains(sub),
            "--help should list `{sub}`\n{}",
            r.report()
        );
    }
}

#[test]
fn help_check_mentions_options() {
    let r = run(["check", "--help"]);
    r.assert_code(0);
    assert!(r.stdout.contains("--format"), "{}", r.report());
}

#[test]
fn help_build_mentions_options() {
    let r = run(["build", "--help"]);
    r.assert_code(0);
    assert!(r.stdout.contains("-o"), "{}", r.report());
    assert!(r.stdout.contains("--strict"), "{}", r.report());
}

#[test]
fn help_graph_mentions_options() {
    let r = run(["graph", "--help"]);
    r.assert_code(0);
    assert!(r.stdout.contains("--format"), "{}", r.report());
}

#[test]
fn help_lsp_mentions_options() {
    let r = run(["lsp", "--help"]);
    r.assert_code(0);
    assert!(r.stdout.contains("--no-cache"), "{}", r.report());
    assert!(r.stdout.contains("workspace folder"), "{}", r.report());
}

#[test]
fn version_on_every_command() {
    for args in [
        vec!["--version"],
        vec!["check", "--version"],
        vec!["build", "--version"],
        vec!["graph", "--version"],
        vec!["lsp", "--version"],
    ] {
        let r = run(&args);
        r.assert_code(0);
        assert!(
            r.stdout.contains(VERSION),
            "`vaultc {}` should print {VERSION}\n{}",
            args.join(" "),
            r.report()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Exit code 2: the command itself failed
// ---------------------------------------------------------------------------------------------

#[test]
fn nonexistent_vault_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("no-such-vault");
    let out = tmp.path().join("out");
    for r in [
        run_cmd(vaultc().arg("check").arg(&missing)),
        run_cmd(
            vaultc()
                .arg("check")
                .arg(&missing)
                .args(["--format", "json"]),
        ),
        run_cmd(vaultc().arg("build").arg(&missing).arg("-o").arg(&out)),
        run_cmd(
            vaultc()
                .arg("graph")
                .arg(&missing)
                .args(["--format", "json"]),
        ),
    ] {
        r.assert_no_panic().assert_code(2);
        assert!(
            !r.stderr.trim().is_empty(),
            "say why on stderr\n{}",
            r.report()
        );
    }
    assert!(!out.exists(), "no output for a missing vault");
}

#[test]
fn vault_that_is_a_file_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("note.md");
    std::fs::write(&file, "# Not a folder\n").unwrap();
    run_cmd(vaultc().arg("check").arg(&file))
        .assert_no_panic()
        .assert_code(2);
}

#[test]
fn unknown_flag_exits_2() {
    let vault = fixture("build-basic");
    for sub in ["check", "build", "graph"] {
        run_cmd(vaultc().arg(sub).arg(&vault).arg("--no-such-flag"))
            .assert_no_panic()
            .assert_code(2);
    }
    run(["--no-such-flag"]).assert_code(2);
    run(["no-such-subcommand"]).assert_code(2);
}

#[test]
fn bad_format_value_exits_2() {
    let vault = fixture("build-basic");
    run_cmd(vaultc().arg("check").arg(&vault).args(["--format", "xml"]))
        .assert_no_panic()
        .assert_code(2);
    run_cmd(vaultc().arg("graph").arg(&vault).args(["--format", "xml"]))
        .assert_no_panic()
        .assert_code(2);
}

// ---------------------------------------------------------------------------------------------
// check: exit codes and the human format
// ---------------------------------------------------------------------------------------------

#[test]
fn check_clean_vault_exits_0() {
    run_cmd(vaultc().arg("check").arg(fixture("build-basic")))
        .assert_no_panic()
        .assert_code(0);
}

#[test]
fn check_warnings_only_exits_0() {
    run_cmd(vaultc().arg("check").arg(fixture("fragment-missing")))
        .assert_no_panic()
        .assert_code(0);
}

/// `path:line:col: error[code]: message`, then the source line, then a caret line whose first
/// `^` sits under the link's first character; a summary line at the end.
#[test]
fn check_human_format_on_mixed_errors() {
    let r = run_cmd(vaultc().arg("check").arg(fixture("mixed-errors")));
    r.assert_no_panic().assert_code(1);
    let out = strip_ansi(&r.all_output());
    let lines: Vec<&str> = out.lines().collect();

    let headers = [
        (r"src\.md:3:9: error\[broken-link\]: \S", "[[Nowhere]]"),
        (
            r"src\.md:4:18: warning\[broken-fragment\]: \S",
            "[[Target#No such heading]]",
        ),
        (r"src\.md:5:12: warning\[ambiguous-link\]: \S", "[[Dup]]"),
    ];
    for (pattern, link) in headers {
        let re = Regex::new(&format!(r"^(?:.*[/\\])?{pattern}")).unwrap();
        let at = lines
            .iter()
            .position(|l| re.is_match(l.trim_start()))
            .unwrap_or_else(|| panic!("no line matching `{pattern}`\n{}", r.report()));
        let src = (at + 1..lines.len().min(at + 8))
            .find(|&i| lines[i].contains(link))
            .unwrap_or_else(|| {
                panic!(
                    "the source line with {link} should follow the header\n{}",
                    r.report()
                )
            });
        let caret = (src + 1..lines.len().min(src + 4))
            .find(|&i| lines[i].contains('^'))
            .unwrap_or_else(|| {
                panic!("a caret line should follow the source line\n{}", r.report())
            });
        let link_col = lines[src][..lines[src].find(link).unwrap()].chars().count();
        let caret_col = lines[caret][..lines[caret].find('^').unwrap()]
            .chars()
            .count();
        assert_eq!(
            caret_col, link_col,
            "the caret should start under `{link}`:\n{}\n{}",
            lines[src], lines[caret]
        );
    }
    assert!(
        lines
            .iter()
            .any(|l| l.contains("1 error") && l.contains("2 warning")),
        "a summary line like `1 error, 2 warnings`\n{}",
        r.report()
    );
}

/// Without VAULT, the current directory is the vault.
#[test]
fn check_defaults_to_current_dir() {
    let vault = fixture("mixed-errors");
    let r = run_cmd(
        vaultc()
            .current_dir(&vault)
            .args(["check", "--format", "json"]),
    );
    r.assert_no_panic().assert_code(1);
    let v: serde_json::Value = serde_json::from_str(r.stdout.trim())
        .unwrap_or_else(|e| panic!("not JSON: {e}\n{}", r.report()));
    let (expected, _) = check_json(&vault);
    assert_eq!(v["diagnostics"], expected["diagnostics"]);
}

// ---------------------------------------------------------------------------------------------
// graph
// ---------------------------------------------------------------------------------------------

#[test]
fn graph_dot_is_a_digraph() {
    let r = run_cmd(
        vaultc()
            .arg("graph")
            .arg(fixture("build-basic"))
            .args(["--format", "dot"]),
    );
    r.assert_no_panic().assert_code(0);
    let out = r.stdout.trim();
    assert!(
        out.starts_with("digraph") || out.starts_with("strict digraph"),
        "{}",
        r.report()
    );
    assert!(out.ends_with('}') && out.contains("->"), "{}", r.report());
}

#[test]
fn graph_json_kinds_on_build_basic() {
    let g = graph_json(&fixture("build-basic"));
    assert_eq!(nodes_of_kind(&g, "note").len(), 4, "{g:#}");
    assert!(node_by_path(&g, "pic.png").is_some_and(|n| n["kind"] == "attachment"));
    let line3: Vec<String> = edges_at(&g, "Home.md", 3)
        .into_iter()
        .filter_map(|e| e.target_path)
        .collect();
    for want in ["Concepts/Alpha.md", "Concepts/Beta.md"] {
        assert!(
            line3.iter().any(|p| same_path(p, want)),
            "Home.md:3 links {want}: {line3:?}"
        );
    }
    let embed = edges_at(&g, "Home.md", 5);
    assert!(
        embed
            .iter()
            .any(|e| e.kind == "embed" && e.target_path.as_deref() == Some("pic.png")),
        "{embed:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// build
// ---------------------------------------------------------------------------------------------

/// `build -o DIR` writes `index.html` and one page per note.
#[test]
fn build_writes_index_and_a_page_per_note() {
    let vault = fixture("build-basic");
    let out = tempfile::tempdir().unwrap();
    let r = build(&vault, out.path());
    r.assert_code(0);
    assert!(out.path().join("index.html").is_file(), "{}", r.report());
    let pages = note_pages(out.path());
    for note in vault_notes(&vault) {
        let page = pages
            .get(&nfc(&note))
            .unwrap_or_else(|| panic!("no page for {note}: {pages:?}"));
        assert!(
            page.is_file(),
            "page of {note} not written: {}",
            page.display()
        );
    }
}

/// A broken link is an error for build too (exit 1).
#[test]
fn build_with_broken_link_exits_1() {
    let out = tempfile::tempdir().unwrap();
    build(&fixture("mixed-errors"), out.path()).assert_code(1);
}

fn snapshot_vault(dir: &Path) -> std::collections::BTreeMap<std::path::PathBuf, Vec<u8>> {
    tree_bytes(dir)
}

/// `-o` equal to the vault, or a folder containing the vault, is refused with exit 2 and
/// nothing is written.
#[test]
fn build_refuses_output_over_the_vault() {
    let tmp = tempfile::tempdir().unwrap();
    let vault = tmp.path().join("vault");
    copy_dir(&fixture("build-basic"), &vault);
    let before = snapshot_vault(tmp.path());
    for out in [vault.clone(), tmp.path().to_path_buf()] {
        let r = build(&vault, &out);
        r.assert_code(2);
        assert!(!r.stderr.trim().is_empty(), "say why\n{}", r.report());
        assert_eq!(
            snapshot_vault(tmp.path()),
            before,
            "build -o {} changed files\n{}",
            out.display(),
            r.report()
        );
    }
    // The same through a relative path that names the vault.
    let r = run_cmd(vaultc().current_dir(&vault).args(["build", ".", "-o", "."]));
    r.assert_no_panic().assert_code(2);
    assert_eq!(snapshot_vault(tmp.path()), before, "{}", r.report());
}

/// An output path that cannot be created (under a regular file) is exit 2.
#[test]
fn build_output_not_writable_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("file.txt");
    std::fs::write(&file, "x").unwrap();
    build(&fixture("build-basic"), &file.join("out")).assert_code(2);
}

/// Two builds of the same vault are byte-identical.
#[test]
fn build_is_deterministic() {
    let vault = fixture("build-basic");
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    build(&vault, a.path()).assert_code(0);
    build(&vault, b.path()).assert_code(0);
    assert!(a.path().join("index.html").is_file(), "no site written");
    assert_same_tree(a.path(), b.path());
}

/// The number of rayon threads does not change the output.
#[test]
fn build_same_with_one_or_two_threads() {
    let vault = fixture("build-basic");
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    run_cmd(
        vaultc()
            .env("RAYON_NUM_THREADS", "1")
            .arg("build")
            .arg(&vault)
            .arg("-o")
            .arg(a.path()),
    )
    .assert_no_panic()
    .assert_code(0);
    run_cmd(
        vaultc()
            .env("RAYON_NUM_THREADS", "2")
            .arg("build")
            .arg(&vault)
            .arg("-o")
            .arg(b.path()),
    )
    .assert_no_panic()
    .assert_code(0);
    assert!(a.path().join("index.html").is_file(), "no site written");
    assert_same_tree(a.path(), b.path());
}

/// An output folder inside the vault is skipped when the vault is read: building twice into
/// `vault/_site` gives the same site (the copied attachments do not become ambiguous
/// candidates, the generated files are not notes).
#[test]
fn build_output_inside_vault_is_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let vault = tmp.path().join("vault");
    copy_dir(&fixture("build-basic"), &vault);
    let site = vault.join("_site");
    build(&vault, &site).assert_code(0);
    assert!(site.join("index.html").is_file(), "no site written");
    let first = tmp.path().join("first");
    copy_dir(&site, &first);
    let r = build(&vault, &site);
    r.assert_code(0);
    assert!(
        !r.all_output().contains("ambiguous"),
        "the output folder was read as part of the vault\n{}",
        r.report()
    );
    assert_same_tree(&first, &site);
}

/// `check --watch` checks, then again after each save: a link broken in an editor is reported
/// at once, its fix clears it, an invalid `vaultc.toml` is an error it waits out (not the end
/// of the watch), and every check prints its JSON object (one per line, for an editor's
/// plugin). `--fix` cannot be combined with it.
#[test]
fn check_watch_checks_again_after_every_save() {
    use std::io::BufRead;
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("vault");
    std::fs::create_dir_all(&vault).unwrap();
    std::fs::write(vault.join("A.md"), "# A\n\nSee [[B]].\n").unwrap();
    std::fs::write(vault.join("B.md"), "# B\n").unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_vaultc"))
        .args(["check", "--watch", "--format", "json"])
        .arg(&vault)
        .env("VAULTC_CACHE_DIR", test_cache_dir())
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let (out, err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let mut child = Kill(child);
    let lines = |stream: Box<dyn std::io::Read + Send>| {
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stream)
                .lines()
                .map_while(Result::ok)
            {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        rx
    };
    let (checks, status) = (lines(Box::new(out)), lines(Box::new(err)));
    let mut said = Vec::new();
    // The next line of `rx` containing `needle`.
    let mut next = |rx: &std::sync::mpsc::Receiver<String>, needle: &str| -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(line) => said.push(line),
                Err(_) => panic!("no line with {needle:?}; before it: {said:#?}"),
            }
        }
    };
    let errors = |line: &str| -> (u64, Vec<String>) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let codes = diags(&v)
            .iter()
            .map(|d| d["code"].as_str().unwrap().to_string())
            .collect();
        (v["summary"]["errors"].as_u64().unwrap(), codes)
    };
    assert_eq!(errors(&next(&checks, "\"summary\"")), (0, vec![]));
    next(&status, "watching");
    std::fs::write(vault.join("A.md"), "# A\n\nSee [[C]].\n").unwrap();
    next(&status, "A.md changed");
    assert_eq!(
        errors(&next(&checks, "\"summary\"")),
        (1, vec!["broken-link".to_string()])
    );
    next(&status, "watching");
    std::fs::write(vault.join("vaultc.toml"), "bad = [\n").unwrap();
    next(&status, "vaultc.toml changed");
    next(&status, "TOML parse error");
    next(&status, "watching");
    std::fs::remove_file(vault.join("vaultc.toml")).unwrap();
    next(&status, "watching");
    std::fs::write(vault.join("C.md"), "# C\n").unwrap();
    let (clean, codes) = loop {
        // The removal of the configuration is checked first (still one error), then C.md.
        let (n, codes) = errors(&next(&checks, "\"summary\""));
        if n == 0 {
            break (n, codes);
        }
    };
    assert_eq!((clean, codes), (0, vec![]));

    // Ctrl-C is the normal way to stop it.
    next(&status, "watching");
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let code = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status.code();
        }
        assert!(Instant::now() < deadline, "check --watch did not stop");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(code, Some(0), "Ctrl-C is a normal stop");

    let r = run(["check", "--watch", "--fix"]);
    r.assert_code(2);
    assert!(r.stderr.contains("--fix"), "{}", r.report());
}
