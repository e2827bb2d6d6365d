//! Hostile vaults: whatever the notes hold, every command finishes without a panic and with a
//! vault outcome (exit 0 or 1, never 2), and a site updated in place equals a cold build.
//! The vaults are generated from a seed out of the pieces that trouble parsers and planners:
//! unbalanced brackets, fences, comments and math; links of every form with odd targets,
//! fragments and labels; CR, NUL, BOM, combining marks and CJK; broken and hostile YAML;
//! permalinks and aliases that climb or collide; names with punctuation, case and
//! normalisation twins; notes in the vault's own `tags/` folder; attachments where the site
//! puts its own files; a note that is not UTF-8 and notes of deep nesting and long lines.

use std::path::{Path, PathBuf};

use crate::support::{assert_same_tree, build_with, list_files, run_cmd, slash_path, vaultc, Rng};

const NAME_PARTS: &[&str] = &[
    "a", "Note", "b c", "ü", "é", "e\u{301}", "链接", "日本", "x.y", "..", "-", "_", "%20", "#",
    "^", "|", "[", "]", "(", ")", "!", "&", "'", "Ω", "A", "index", "tags", "wanted", "static",
    "search", "graph",
];

const FOLDERS: &[&str] = &[
    "",
    "",
    "sub/",
    "Sub/",
    "sub/deep/",
    "ü/",
    "a b/",
    "tags/",
    "x.md/",
];

const HEADINGS: &[&str] = &[
    "Intro", "A b", "ü", "链接", "#", "x^y", "a|b", "", "[[x]]", "`c`",
];

const FRONT_MATTER: &[&str] = &[
    "",
    "---\ntags: [a, b]\n---\n",
    "---\naliases: [x, \"[[y]]\"]\n---\n",
    "---\ntags: 5\naliases: 7\n---\n",
    "---\n: :\n---\n",
    "---\na: &a [*a]\n---\n",
    "---\nkey: [unclosed\n---\n",
    "---\npermalink: ../../../etc\n---\n",
    "---\npermalink: tags/a\n---\n",
    "---\npermalink: \"\"\n---\n",
    "---\npublish: false\n---\n",
    "---\ntitle: [1, 2]\n---\n",
    "---\nrelated: \"[[a]]\"\nup: \"[[tags/a#Intro]]\"\n---\n",
    "---\n\t- x\n---\n",
    "---\ntags:\n  - \"#x\"\n  - a b\n  -\n---\n",
    "---\n---\n",
    "---\n",
    "---\n{\"tags\": [\"j\"], \"aliases\": [\"index\"]}\n---\n",
];

/// A link target: a note of the vault (as named, in another case, climbing, relative) or
/// something made of name parts.
fn target(rng: &mut Rng, names: &[String]) -> String {
    match rng.below(5) {
        0 | 1 => rng.pick(names).clone(),
        2 => rng.pick(names).to_uppercase(),
        3 => format!("{}{}", "../".repeat(1 + rng.below(3)), rng.pick(names)),
        _ => (0..rng.below(3)).map(|_| *rng.pick(NAME_PARTS)).collect(),
    }
}

fn fragment(rng: &mut Rng) -> String {
    match rng.below(7) {
        0 | 1 => String::new(),
        2 => format!("#{}", rng.pick(HEADINGS)),
        3 => format!("#{}#{}", rng.pick(HEADINGS), rng.pick(HEADINGS)),
        4 => format!("#^{}", rng.pick(&["b1", "b2", "", "^", "ü"])),
        5 => "#".into(),
        _ => "#^".into(),
    }
}

/// How a markdown link's destination may spell a space.
const SPACES: &[&str] = &["%20", " ", "%2"];

fn token(rng: &mut Rng, names: &[String]) -> String {
    const PLAIN: &[&str] = &[
        " ",
        "\n",
        "\n\n",
        "#tag",
        "#a/b/c",
        "#ü-x",
        "#1",
        "#",
        "^b1",
        " ^b2\n",
        "`",
        "```\n",
        "~~~",
        "$",
        "$$\n",
        "%%",
        "<!--",
        "-->",
        "<div>",
        "</div>",
        "[[",
        "]]",
        "[",
        "]",
        "|",
        "\\",
        "![[",
        "> ",
        "> [!note]\n> ",
        "- ",
        "1. ",
        "\t",
        "---\n",
        "[^1]",
        "[^1]: f\n",
        "\r\n",
        "\r",
        "e\u{301}",
        "链接",
        "😀",
        "\u{200b}",
        "\u{feff}",
        "\0",
        "&#0;",
        "<script>",
        "*",
        "==",
        "- [ ] ",
        "https://a.b/c",
        "| a | b |\n|---|---|\n| [[x\\|y]] | z |\n",
        "Setext\n===\n",
    ];
    match rng.below(6) {
        0 => {
            let mut link = target(rng, names) + &fragment(rng);
            if rng.below(3) == 0 {
                link.push('|');
                const LABELS: &[&str] = &["label", "", "a|b", "\\|", "[[", "ü", "x\ny"];
                link.push_str(rng.pick::<&str>(LABELS));
            }
            let bang = if rng.below(3) == 0 { "!" } else { "" };
            format!("{bang}[[{link}]]")
        }
        1 => format!(
            "[{}]({}{}{})",
            rng.pick(&["x", "", "[a]"]),
            target(rng, names).replace(' ', rng.pick::<&str>(SPACES)),
            rng.pick(&["", ".md", ".png", ".canvas"]),
            rng.pick(&["", "#h", "#^b1", " \"title\""]),
        ),
        2 => format!(
            "\n{} {}\n",
            "#".repeat(1 + rng.below(6)),
            rng.pick(HEADINGS)
        ),
        _ => rng.pick(PLAIN).to_string(),
    }
}

/// Writes a hostile vault of `n` notes into `vault`.
fn hostile_vault(vault: &Path, seed: u64, n: usize) {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut names: Vec<String> = (0..n)
        .map(|i| {
            let stem: String = (0..1 + rng.below(3))
                .map(|_| *rng.pick(NAME_PARTS))
                .collect();
            let stem = if matches!(stem.trim(), "" | "." | "..") {
                format!("n{i}")
            } else {
                stem
            };
            format!("{}{stem}", rng.pick(FOLDERS))
        })
        .collect();
    names.sort();
    names.dedup();
    for name in &names {
        let path = vault.join(format!("{name}.md"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut text = rng.pick(FRONT_MATTER).to_string();
        for _ in 0..rng.below(120) {
            text.push_str(&token(&mut rng, &names));
        }
        std::fs::write(&path, text).unwrap();
    }
    let extra: &[(&str, &[u8])] = &[
        ("Not UTF-8.md", b"# Bytes\n\n[[a]] \xff\xfe [[Note#\xc3]]\n"),
        ("index.html", b"<p>the vault's own</p>\n"),
        ("graph-data.js", b"// the vault's own\n"),
        ("static/style.css", b"/* the vault's own */\n"),
        ("tags/a/index.html", b"<p>where a tag page goes</p>\n"),
        ("att/x.png", b"\x89PNG"),
        ("att/a b.pdf", b"%PDF"),
    ];
    for (path, bytes) in extra {
        let path = vault.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    let deep = format!(
        "{}{}{}\n{}\n",
        "[".repeat(5000),
        "]".repeat(5000),
        "> ".repeat(2000),
        "- ".repeat(2000)
    );
    std::fs::write(vault.join("Deep.md"), deep).unwrap();
    let long = format!("# Long\n\n{}\n", "word [[a]] ![[Deep#^b1]] ".repeat(1500));
    std::fs::write(vault.join("Long.md"), long).unwrap();
}

/// Runs `vaultc ARGS` and asserts it finished with a vault outcome: no panic, exit 0 or 1.
fn vault_outcome(args: &[&str], what: &str) -> crate::support::Run {
    let run = run_cmd(vaultc().args(args).env("NO_COLOR", "1"));
    run.assert_no_panic();
    assert!(
        matches!(run.code, 0 | 1),
        "{what}: vaultc {args:?} exited {:?}\n{}",
        run.code,
        run.report()
    );
    run
}

#[test]
fn hostile_vaults_get_diagnostics_and_sites_never_a_crash() {
    for seed in 1..=3u64 {
        let dir = tempfile::tempdir().unwrap();
        let vault = dir.path().join("vault");
        hostile_vault(&vault, seed, 40);
        let v = vault.to_str().unwrap();
        let what = format!("seed {seed}");
        let json = vault_outcome(&["check", v, "--no-cache", "--format", "json"], &what);
        let report: serde_json::Value = serde_json::from_str(&json.stdout)
            .unwrap_or_else(|e| panic!("{what}: check --format json is not JSON: {e}"));
        assert!(
            report["summary"]["notes"].as_u64().unwrap() >= 20,
            "{what}: {}",
            report["summary"]
        );
        for format in ["human", "github", "sarif"] {
            vault_outcome(&["check", v, "--no-cache", "--format", format], &what);
        }
        for format in ["json", "dot"] {
            vault_outcome(&["graph", v, "--format", format], &what);
        }
        let site = dir.path().join("site");
        vault_outcome(&["build", v, "-o", site.to_str().unwrap()], &what);
        // The site's own files stay the site's.
        let index = std::fs::read_to_string(site.join("index.html")).unwrap();
        assert!(index.contains("name=\"generator\""), "{what}");
        assert_eq!(
            std::fs::read(site.join("index-2.html")).unwrap(),
            b"<p>the vault's own</p>\n"
        );
        // Machine fixes, then an edit, built over the site, equal a cold build.
        vault_outcome(&["check", v, "--no-cache", "--fix", "--fix-case"], &what);
        let note = vault.join("Long.md");
        let mut text = std::fs::read_to_string(&note).unwrap();
        text.push_str("\n#tag [[tags/a]] ![[index.html]] %% open");
        std::fs::write(&note, text).unwrap();
        vault_outcome(&["build", v, "-o", site.to_str().unwrap()], &what);
        let cold = dir.path().join("cold");
        let run = build_with(&vault, &cold, &["--full", "--no-cache"]);
        assert!(matches!(run.code, 0 | 1), "{what}: {}", run.report());
        assert_same_tree(&site, &cold);
    }
}

/// Every name a page's folder comes from can be longer than a file system allows (255 bytes a
/// name): a long tag (Latin and CJK), a tag nested thousands of levels, a long alias, a
/// permalink of thousands of parts, a note whose lower-case name takes more bytes than its own
/// (`İ` is 2 bytes, `i̇` 3). The build writes every page under a shortened folder and links
/// them, where it used to stop with "File name too long" and no site.
#[test]
fn names_longer_than_the_file_system_allows_get_shortened_page_folders() {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("vault");
    std::fs::create_dir_all(&vault).unwrap();
    let long_tag = "tag".repeat(100);
    let cjk_tag = "这是一个非常长的标签".repeat(12);
    let nested = vec!["ab"; 2000].join("/");
    let permalink: Vec<String> = (0..3000).map(|i| format!("p{i}")).collect();
    let files = [
        (
            "a.md".to_string(),
            format!(
                "#{long_tag} #{long_tag}x #{cjk_tag} #{nested}\n\n[[b]] [[{}]]\n",
                "İ".repeat(125)
            ),
        ),
        (
            "b.md".to_string(),
            format!(
                "---\npermalink: {}\naliases: [\"{}\"]\n---\n[[a]]\n",
                permalink.join("/"),
                "别名".repeat(60)
            ),
        ),
        (format!("{}.md", "İ".repeat(125)), "[[a]]\n".to_string()),
    ];
    for (name, text) in &files {
        std::fs::write(vault.join(name), text).unwrap();
    }
    let site = dir.path().join("site");
    let run = build_with(&vault, &site, &[]);
    assert_eq!(run.code, 0, "{}", run.report());
    // Relative to the site.
    let pages: Vec<PathBuf> = list_files(&site)
        .into_iter()
        .filter(|p| p.ends_with("index.html"))
        .collect();
    for rel in &pages {
        assert!(
            rel.as_os_str().len() <= 1024 + 256,
            "{} bytes: {}",
            rel.as_os_str().len(),
            rel.display()
        );
        for part in rel.components() {
            assert!(part.as_os_str().len() <= 210, "{}", rel.display());
        }
    }
    // The two tags alike in their first 200 bytes get two pages; the note page links each.
    let tag_pages: Vec<String> = pages
        .iter()
        .filter_map(|p| p.strip_prefix("tags").ok())
        .map(|p| slash_path(p.parent().unwrap()))
        .filter(|p| !p.is_empty())
        .collect();
    let long = &long_tag[..200];
    assert!(tag_pages.contains(&long.to_string()), "{tag_pages:?}");
    assert!(tag_pages.contains(&format!("{long}-2")), "{tag_pages:?}");
    let a = std::fs::read_to_string(site.join("a/index.html")).unwrap();
    assert!(
        a.contains(&format!("tags/{long}/index.html")),
        "no link to the tag page"
    );
    assert!(
        a.contains(&format!("tags/{long}-2/index.html")),
        "no link to the second tag page"
    );
    // The note that asked for a permalink of 3,000 parts has a page under its first parts, and
    // the note linking it reaches it.
    let b_page = pages
        .iter()
        .find(|p| p.starts_with("p0/p1/p2"))
        .expect("the permalink's page");
    let b_rel = slash_path(b_page);
    assert!(
        a.contains(&format!("href=\"../{b_rel}\"")),
        "a does not link {b_rel}"
    );
    // The note with the long name has a page, linked from a.
    assert!(pages.iter().any(|p| p.to_string_lossy().contains("i̇i̇i̇")));
}

/// Attachments whose names already use the file system's 255 bytes, and that must be numbered
/// (a letter-case twin; a name the site uses itself, as a folder), still build: the numbered
/// name is cut to fit, the embeds show the copied files, and no file is lost.
#[test]
fn attachments_at_the_file_name_limit_can_still_be_numbered() {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("vault");
    std::fs::create_dir_all(vault.join("static")).unwrap();
    let lower = format!("{}.png", "a".repeat(251));
    let upper = lower.to_uppercase().replace(".PNG", ".png");
    let wide = format!("{}.svg", "图".repeat(83));
    std::fs::write(vault.join(&lower), b"lower").unwrap();
    std::fs::write(vault.join(&upper), b"upper").unwrap();
    std::fs::write(vault.join(&wide), b"<svg/>").unwrap();
    // `graph` is the folder of the site's graph page: the attachment gets a numbered name.
    std::fs::write(vault.join("graph"), b"not a folder").unwrap();
    std::fs::write(
        vault.join("note.md"),
        format!("![[{lower}]] ![[{upper}]] ![[{wide}]]\n"),
    )
    .unwrap();
    let site = dir.path().join("site");
    let run = build_with(&vault, &site, &[]);
    assert_eq!(run.code, 0, "{}", run.report());
    let files = list_files(&site);
    for rel in &files {
        for part in rel.components() {
            assert!(part.as_os_str().len() <= 255, "{}", rel.display());
        }
    }
    // Every attachment was copied once, with its bytes.
    let mut copied: Vec<Vec<u8>> = files
        .iter()
        .filter(|rel| rel.components().count() == 1)
        .map(|rel| std::fs::read(site.join(rel)).unwrap())
        .filter(|bytes| [&b"lower"[..], b"upper", b"<svg/>", b"not a folder"].contains(&&bytes[..]))
        .collect();
    copied.sort();
    assert_eq!(
        copied,
        [&b"<svg/>"[..], b"lower", b"not a folder", b"upper"],
        "{files:?}"
    );
    // The twin that sorts second (lower case) is the one numbered, cut to 255 bytes.
    let numbered = format!("{}-2.png", "a".repeat(249));
    assert_eq!(std::fs::read(site.join(&numbered)).unwrap(), b"lower");
    let page = std::fs::read_to_string(site.join("note/index.html")).unwrap();
    assert!(page.contains(&format!("src=\"../{numbered}\"")), "{page}");
    assert!(page.contains(&format!("src=\"../{upper}\"")), "{page}");
    assert!(
        run.report()
            .contains("has the same path apart from letter case"),
        "{}",
        run.report()
    );
    assert_eq!(
        std::fs::read(site.join("graph-2")).unwrap(),
        b"not a folder"
    );
}

/// A vault one did not write may hold a symlink to a folder elsewhere on the disk: `build`
/// follows it as Obsidian does (its files are copied into the site), and with
/// `--no-external-symlinks` it does not, and says so; a link to the output folder is never
/// followed, so a build never copies the site it replaces into itself.
#[cfg(unix)]
#[test]
fn symlinks_out_of_the_vault_are_followed_unless_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, secrets, site) = (
        dir.path().join("vault"),
        dir.path().join("secrets"),
        dir.path().join("site"),
    );
    std::fs::create_dir_all(&vault).unwrap();
    std::fs::create_dir_all(&secrets).unwrap();
    std::fs::write(vault.join("note.md"), "# Note\n").unwrap();
    std::fs::write(secrets.join("id_key"), "secret bytes").unwrap();
    std::os::unix::fs::symlink("../secrets", vault.join("leak")).unwrap();
    let copied = |site: &Path| site.join("leak/id_key").exists();
    assert_eq!(build_with(&vault, &site, &[]).code, 0);
    std::os::unix::fs::symlink("../site", vault.join("old-site")).unwrap();
    for round in 0..2 {
        // Each build runs over the site before it, which `old-site` leads to.
        let run = build_with(&vault, &site, &[]);
        assert_eq!(run.code, 0, "{}", run.report());
        assert!(copied(&site), "round {round}: followed as Obsidian does");
        assert!(
            run.stderr
                .contains("old-site:1:1: warning[ignored-symlink]"),
            "{}",
            run.report()
        );
        assert!(
            !list_files(&site).iter().any(|f| f.starts_with("old-site")),
            "round {round}: the site is never copied into itself"
        );
    }
    let refused = dir.path().join("refused");
    let run = build_with(&vault, &refused, &["--no-external-symlinks"]);
    assert_eq!(run.code, 0, "{}", run.report());
    assert!(!copied(&refused), "{:?}", list_files(&refused));
    assert!(
        run.stderr.contains(
            "leak:1:1: warning[ignored-symlink]: symbolic link ignored: it leads out of the vault, and --no-external-symlinks is set"
        ),
        "{}",
        run.report()
    );
}
