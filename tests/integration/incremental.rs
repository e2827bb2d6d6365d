//! Incremental builds: after any sequence of edits, building over the previous site gives the
//! same bytes as building from nothing, while re-rendering only what changed. Attachments are
//! compared by size and mtime (like rsync's quick check), so the test changes their size.

use std::path::{Path, PathBuf};

use crate::support::{
    assert_same_tree, build_diagnostics, build_with as build, copy_dir, count_before, parse_counts,
    Rng, Run,
};

/// `(pages rendered, pages kept)` from the build's summary line.
fn render_counts(run: &Run) -> (usize, usize) {
    (
        count_before(run, " pages rendered"),
        count_before(run, " kept"),
    )
}

fn notes(vault: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = crate::support::list_files(vault)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .filter(|p| {
            !p.components()
                .any(|c| c.as_os_str().to_string_lossy().starts_with('.'))
        })
        .collect();
    out.sort();
    out
}

fn stem(p: &Path) -> String {
    p.file_stem().unwrap().to_string_lossy().into_owned()
}

fn wikilinks(text: &str) -> Vec<(usize, usize)> {
    // Byte ranges of `[[...]]` targets (without brackets), outside nothing fancier than text.
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find("[[") {
        let start = from + open + 2;
        let Some(close) = text[start..].find("]]") else {
            break;
        };
        let end = start + close;
        if !text[start..end].contains('\n') {
            out.push((start, end));
        }
        from = end + 2;
    }
    out
}

/// One random edit of the kinds a writer makes; returns what it did, for the failure message.
fn edit(vault: &Path, rng: &mut Rng, step: usize, broken: &mut Vec<String>) -> String {
    let all = notes(vault);
    let read = |p: &Path| std::fs::read_to_string(vault.join(p)).unwrap_or_default();
    let write = |p: &Path, text: &str| {
        std::fs::create_dir_all(vault.join(p).parent().unwrap()).unwrap();
        std::fs::write(vault.join(p), text).unwrap();
    };
    match rng.below(12) {
        0 => {
            // Add a note linking to others: plain, heading, embed, wanted; with a tag.
            let a = stem(rng.pick::<PathBuf>(&all));
            let b = stem(rng.pick::<PathBuf>(&all));
            let c = stem(rng.pick::<PathBuf>(&all));
            let folder = ["", "Added/", "concepts/"][rng.below(3)];
            let path = PathBuf::from(format!("{folder}Added note {step}.md"));
            let text = format!(
                "---\ntags: [added, step-{}]\naliases: [Alias {step}]\n---\n# Added {step}\n\nSee [[{a}]] and [[{b}|the other]] and [[Wanted {step}]].\n\n![[{c}]]\n\n## Section {step}\n\nText with #inline-{} tag. ^blk{step}\n",
                step % 3,
                step % 2
            );
            write(&path, &text);
            format!("add {}", path.display())
        }
        1 if all.len() > 5 => {
            let p = rng.pick(&all).clone();
            std::fs::remove_file(vault.join(&p)).unwrap();
            format!("delete {}", p.display())
        }
        2 => {
            let p = rng.pick(&all).clone();
            let to = PathBuf::from(format!("{}Renamed {step}.md", ["", "Moved/"][rng.below(2)]));
            let text = read(&p);
            std::fs::remove_file(vault.join(&p)).unwrap();
            write(&to, &text);
            format!("rename {} -> {}", p.display(), to.display())
        }
        3 => {
            // Edit a heading (links to it may break; backlink contexts may change).
            let p = rng.pick(&all).clone();
            let text = read(&p);
            match text
                .lines()
                .find(|l| l.starts_with("## ") || l.starts_with("# "))
            {
                Some(line) => {
                    let new = text.replacen(line, &format!("{line} v{step}"), 1);
                    write(&p, &new);
                    format!("edit heading {:?} in {}", line, p.display())
                }
                None => {
                    write(&p, &format!("{text}\n## New heading {step}\n"));
                    format!("add heading to {}", p.display())
                }
            }
        }
        4 => {
            // Break a link.
            let p = rng.pick(&all).clone();
            let text = read(&p);
            let links = wikilinks(&text);
            if links.is_empty() {
                return format!("(no link to break in {})", p.display());
            }
            let (s, e) = *rng.pick(&links);
            let target = format!("Missing {step}");
            broken.push(target.clone());
            let new = format!("{}{target}{}", &text[..s], &text[e..]);
            write(&p, &new);
            format!("break link {:?} in {}", &text[s..e], p.display())
        }
        5 if !broken.is_empty() => {
            // Fix a broken link by writing the note it wants.
            let target = broken.remove(rng.below(broken.len()));
            write(
                Path::new(&format!("{target}.md")),
                &format!(
                    "# {target}\n\nNow it exists. Back to [[{}]].\n",
                    stem(&all[0])
                ),
            );
            format!("fix by creating {target}.md")
        }
        6 => {
            // Edit body text near the end (backlink contexts of its targets may change).
            let p = rng.pick(&all).clone();
            let text = read(&p);
            write(&p, &format!("{text}\nA new paragraph from step {step}.\n"));
            format!("append to {}", p.display())
        }
        7 => {
            // Retitle or unpublish through front matter.
            let p = rng.pick(&all).clone();
            let text = read(&p);
            let body = text
                .strip_prefix("---\n")
                .and_then(|t| t.split_once("\n---\n"))
                .map_or(text.as_str(), |(_, b)| b);
            let fm = if rng.below(3) == 0 {
                "publish: false".to_string()
            } else {
                format!("title: Retitled {step}\ntags: [retitled]")
            };
            write(&p, &format!("---\n{fm}\n---\n{body}"));
            format!("front matter `{fm}` on {}", p.display())
        }
        9 => {
            // A new attachment, embedded by an existing note.
            let p = rng.pick(&all).clone();
            let name = format!("pic-{step}.png");
            let bytes: Vec<u8> = (0..(64 + step * 7))
                .map(|i| (i * 31 + step) as u8)
                .collect();
            std::fs::create_dir_all(vault.join("assets")).unwrap();
            std::fs::write(vault.join("assets").join(&name), bytes).unwrap();
            let text = read(&p);
            write(&p, &format!("{text}\n![[{name}]]\n"));
            format!("add assets/{name}, embedded in {}", p.display())
        }
        10 => {
            // Change or delete an attachment.
            let files: Vec<PathBuf> = crate::support::list_files(vault)
                .into_iter()
                .filter(|p| p.extension().is_some_and(|e| e != "md"))
                .filter(|p| {
                    !p.components()
                        .any(|c| c.as_os_str().to_string_lossy().starts_with('.'))
                })
                .collect();
            if files.is_empty() {
                return "(no attachment to change)".into();
            }
            let f = rng.pick(&files).clone();
            if rng.below(2) == 0 {
                std::fs::remove_file(vault.join(&f)).unwrap();
                format!("delete attachment {}", f.display())
            } else {
                let mut bytes = std::fs::read(vault.join(&f)).unwrap();
                bytes.extend_from_slice(format!("<!-- step {step} -->").as_bytes());
                std::fs::write(vault.join(&f), bytes).unwrap();
                format!("change attachment {}", f.display())
            }
        }
        11 => {
            // Link a note to another and tag it: the graph, backlinks and tag pages move.
            let p = rng.pick(&all).clone();
            let q = rng.pick(&all).clone();
            let tag = ["vlm", "linked", "Linked/deeper"][rng.below(3)];
            let text = read(&p);
            write(&p, &format!("{text}\nSee [[{}]] #{tag}\n", stem(&q)));
            format!("link {} to {} with #{tag}", p.display(), q.display())
        }
        _ => {
            // Touch without change: nothing may be re-rendered for it.
            let p = rng.pick(&all).clone();
            let text = read(&p);
            write(&p, &text);
            format!("rewrite {} unchanged", p.display())
        }
    }
}

/// The demo vault and a first build of it into a temporary folder (kept alive by the guard).
fn demo_site() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    let demo = demo_vault();
    build(&demo, &site, &[]).assert_code(0);
    (dir, demo, site)
}

fn demo_vault() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("vault")
}

#[test]
fn random_edits_give_the_same_site_as_a_full_build() {
    let demo = demo_vault();
    let mut total_rendered = 0;
    let mut total_pages = 0;
    for seed in [1u64, 2, 3] {
        let dir = tempfile::tempdir().unwrap();
        let vault = dir.path().join("vault");
        copy_dir(&demo, &vault);
        let inc = dir.path().join("incremental");
        let first = build(&vault, &inc, &[]);
        assert!(first.code == 0, "{}", first.report());
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mut broken = Vec::new();
        let mut history = Vec::new();
        for step in 0..12 {
            history.push(edit(&vault, &mut rng, step, &mut broken));
            let r = build(&vault, &inc, &[]);
            assert!(
                matches!(r.code, 0 | 1),
                "seed {seed}, after {history:#?}: {}",
                r.report()
            );
            assert!(r.stderr.contains("(incremental:"), "{}", r.report());
            let (rendered, kept) = render_counts(&r);
            total_rendered += rendered;
            total_pages += rendered + kept;
            // The incremental side takes every note but the edited one from the parse cache.
            let (parsed, reused) = parse_counts(&r);
            assert!(parsed <= 1, "{}: {}", history[step], r.report());
            assert_eq!(parsed + reused, notes(&vault).len(), "{}", r.report());
            // The reference is cold: a whole site, every note parsed, no cache read or written.
            let full = dir.path().join(format!("full-{step}"));
            let f = build(&vault, &full, &["--full", "--no-cache"]);
            assert_eq!(f.code, r.code, "{}\n{}", r.report(), f.report());
            assert!(f.stderr.contains("(whole site:"), "{}", f.report());
            assert_eq!(parse_counts(&f).1, 0, "{}", f.report());
            assert_eq!(
                build_diagnostics(&r),
                build_diagnostics(&f),
                "seed {seed}, after {history:#?}"
            );
            // Byte for byte, marker and manifest included; the message names the edits.
            eprintln!(
                "seed {seed} step {step}: {} ({rendered} rendered, {kept} kept)",
                history[step]
            );
            assert_same_tree(&inc, &full);
            std::fs::remove_dir_all(&full).unwrap();
        }
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("vaultc-") && n != ".incremental.vaultc-cache")
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        assert!(dir
            .path()
            .join(".incremental.vaultc-cache/parse.bin")
            .is_file());
    }
    // Incremental builds really skip work: over all steps, most pages are kept.
    assert!(
        total_rendered * 4 < total_pages,
        "{total_rendered} of {total_pages} pages rendered"
    );
}

#[test]
fn a_no_op_rebuild_renders_nothing_and_touches_nothing() {
    use std::os::unix::fs::MetadataExt;
    let (_dir, demo, site) = demo_site();
    let stamp = |p: &Path| {
        crate::support::list_files(p)
            .into_iter()
            .map(|f| {
                let m = std::fs::metadata(p.join(&f)).unwrap();
                (f, m.ino(), m.mtime(), m.mtime_nsec())
            })
            .collect::<Vec<_>>()
    };
    let before = stamp(&site);
    let r = build(&demo, &site, &[]);
    r.assert_code(0);
    assert_eq!(render_counts(&r).0, 0, "{}", r.report());
    assert!(r.stderr.contains("0 files written"), "{}", r.report());
    // The marker is rewritten (same bytes); every other file is the same inode and mtime.
    let marker = |v: &Vec<(PathBuf, u64, i64, i64)>| -> Vec<(PathBuf, u64, i64, i64)> {
        v.iter()
            .filter(|(f, ..)| f != Path::new(".vaultc-site"))
            .cloned()
            .collect()
    };
    assert_eq!(marker(&stamp(&site)), marker(&before));
}

#[test]
fn full_rebuilds_every_page() {
    let (_dir, demo, site) = demo_site();
    let r = build(&demo, &site, &["--full"]);
    r.assert_code(0);
    let (rendered, kept) = render_counts(&r);
    assert_eq!(kept, 0, "{}", r.report());
    assert!(rendered > 44, "{}", r.report());
}

#[test]
fn an_interrupted_update_is_not_trusted() {
    let (_dir, demo, site) = demo_site();
    // What a build that died while moving files into place leaves behind.
    std::fs::write(site.join(".vaultc-updating"), b"").unwrap();
    let index = site.join("index.html");
    std::fs::write(&index, b"half-updated").unwrap();
    let r = build(&demo, &site, &[]);
    r.assert_code(0);
    assert!(r.stderr.contains("(whole site:"), "{}", r.report());
    assert!(!site.join(".vaultc-updating").exists());
    assert_ne!(std::fs::read(&index).unwrap(), b"half-updated");
}

#[test]
fn a_page_missing_from_the_previous_site_is_written_again() {
    let (_dir, demo, site) = demo_site();
    let before = crate::support::tree_bytes(&site);
    // Someone deleted a page and a folder of pages from the built site by hand.
    let pages = crate::support::note_pages(&site);
    let (_, page) = pages.iter().next().unwrap();
    std::fs::remove_file(page).unwrap();
    std::fs::remove_dir_all(site.join("tags")).unwrap();
    let r = build(&demo, &site, &[]);
    r.assert_code(0);
    assert!(r.stderr.contains("(incremental:"), "{}", r.report());
    assert!(render_counts(&r).0 >= 2, "{}", r.report());
    assert_eq!(crate::support::tree_bytes(&site), before);
}

#[test]
fn an_edit_re_renders_exactly_the_pages_that_show_the_note() {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("vault");
    std::fs::create_dir_all(&vault).unwrap();
    let files = [
        ("A.md", "# A\n\nSee [[B]] and [[B#Part]].\n"),
        ("B.md", "# B\n\nBody of B.\n\n## Part\n\nMore.\n"),
        ("C.md", "# C\n\n![[B]]\n"),
        ("D.md", "# D\n\nLinks to [[E]].\n"),
        ("E.md", "# E\n\nLinks to [[D]].\n"),
    ];
    for (name, text) in files {
        std::fs::write(vault.join(name), text).unwrap();
    }
    let site = dir.path().join("site");
    build(&vault, &site, &[]).assert_code(0);
    let pages = crate::support::note_pages(&site);
    let modified = |note: &str| std::fs::metadata(&pages[note]).unwrap().modified().unwrap();
    let before: Vec<_> = ["A.md", "B.md", "C.md", "D.md", "E.md"]
        .iter()
        .map(|n| modified(n))
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(20));

    // B's body changes: B's page, C's (it embeds B) and B's search shard; not A, D or E.
    std::fs::write(
        vault.join("B.md"),
        "# B\n\nNew body of B.\n\n## Part\n\nMore.\n",
    )
    .unwrap();
    let r = build(&vault, &site, &[]);
    r.assert_code(0);
    assert_eq!(render_counts(&r).0, 3, "{}", r.report());
    let changed = |i: usize, n: &str| modified(n) != before[i];
    assert_eq!(
        ["A.md", "B.md", "C.md", "D.md", "E.md"]
            .iter()
            .enumerate()
            .map(|(i, n)| changed(i, n))
            .collect::<Vec<_>>(),
        [false, true, true, false, false]
    );

    // Renaming the heading A links to changes A's link (now to a missing heading) too.
    std::fs::write(
        vault.join("B.md"),
        "# B\n\nNew body of B.\n\n## Renamed\n\nMore.\n",
    )
    .unwrap();
    let r = build(&vault, &site, &[]);
    assert!(
        r.stderr.contains("A.md"),
        "the broken heading link is reported: {}",
        r.report()
    );
    assert!(modified("A.md") != before[0], "{}", r.report());
    assert_eq!(modified("D.md"), before[3]);
}

/// Tag pages and the index are kept by a fingerprint of what they list of each note (title,
/// path, URL, tags), not by their view: a theme that prints all of it must see every change. Each step is
/// compared byte for byte with a cold build using the same theme.
#[test]
fn list_pages_follow_the_titles_paths_and_tags_of_their_notes() {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("vault");
    std::fs::create_dir_all(vault.join("sub")).unwrap();
    std::fs::write(vault.join("Hub.md"), "# Hub\n\n[[Probe]] [[Other]]\n").unwrap();
    std::fs::write(vault.join("Other.md"), "# Other\n\n#probe/x\n").unwrap();
    std::fs::write(
        vault.join("sub/Probe.md"),
        "---\ntags: [probe/x]\n---\n# Probe\n\nText.\n",
    )
    .unwrap();
    let theme = crate::support::theme(
        dir.path(),
        &[
            (
                "tag.html",
                "{{ tag.name }}\n{% for n in tag.notes %}{{ n.title }}|{{ n.path }}|{{ n.url }}|{{ n.tags|join(',') }}\n{% endfor %}",
            ),
            (
                "index.html",
                "{% for f in folders %}{{ f.name }}/{{ f.depth }}\n{% for n in f.notes %}{{ n.title }}|{{ n.path }}|{{ n.url }}|{{ n.tags|join(',') }}\n{% endfor %}{% endfor %}",
            ),
        ],
    );
    let theme_arg = ["--theme", theme.to_str().unwrap()];
    let site = dir.path().join("site");
    build(&vault, &site, &theme_arg).assert_code(0);
    let probe = vault.join("sub/Probe.md");
    let edits: [(&str, &dyn Fn()); 6] = [
        ("retitle", &|| {
            std::fs::write(
                &probe,
                "---\ntags: [probe/x]\ntitle: Renamed\n---\n# Probe\n\nText.\n",
            )
            .unwrap()
        }),
        ("add a tag", &|| {
            std::fs::write(
                &probe,
                "---\ntags: [probe/x, extra]\ntitle: Renamed\n---\n# Probe\n\nText.\n",
            )
            .unwrap()
        }),
        ("reorder tags", &|| {
            std::fs::write(
                &probe,
                "---\ntags: [extra, probe/x]\ntitle: Renamed\n---\n# Probe\n\nText.\n",
            )
            .unwrap()
        }),
        ("move", &|| {
            std::fs::rename(&probe, vault.join("Probe.md")).unwrap();
        }),
        // The page moves, the note does not.
        ("permalink", &|| {
            std::fs::write(
                vault.join("Probe.md"),
                "---\ntags: [extra, probe/x]\ntitle: Renamed\npermalink: elsewhere/probe\n---\n# Probe\n",
            )
            .unwrap()
        }),
        // The note moves, its page does not.
        ("move under a permalink", &|| {
            std::fs::rename(vault.join("Probe.md"), &probe).unwrap();
        }),
    ];
    for (step, (what, apply)) in edits.iter().enumerate() {
        apply();
        let r = build(&vault, &site, &theme_arg);
        r.assert_code(0);
        let full = dir.path().join(format!("full-{step}"));
        let mut args = theme_arg.to_vec();
        args.extend(["--full", "--no-cache"]);
        build(&vault, &full, &args).assert_code(0);
        eprintln!("step {step}: {what}");
        assert_same_tree(&site, &full);
    }
}

/// The files of `vault` (relative) with their bytes, to tell which changed between two points.
fn snapshot(vault: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    crate::support::tree_bytes(vault)
}

/// What a file watcher reports between two snapshots: every file added, removed or changed,
/// as absolute paths under the canonical vault root.
fn watcher_paths(
    root: &Path,
    before: &std::collections::BTreeMap<PathBuf, Vec<u8>>,
    after: &std::collections::BTreeMap<PathBuf, Vec<u8>>,
) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = before
        .keys()
        .chain(after.keys())
        .filter(|k| before.get(*k) != after.get(*k))
        .map(|k| root.join(k))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The reference a session build is compared with: a whole site, every note parsed, no cache.
fn cold_full_build(vault: &Path, out: &Path) -> vaultc::build::BuildReport {
    vaultc::build::build(
        vault,
        &vaultc::build::BuildOptions {
            output: out.to_path_buf(),
            full: true,
            no_cache: true,
            ..Default::default()
        },
    )
    .unwrap()
}

/// The diagram renderer (3.5 MB) is in a site only while a note has a diagram: a session
/// writes it with the first diagram, removes it with the last, and equals a full build at each
/// step; a one-shot build over the previous site does the same.
#[test]
fn the_diagram_renderer_comes_and_goes_with_the_diagrams() {
    use vaultc::build::{BuildOptions, BuildSession};
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("vault");
    std::fs::create_dir(&vault).unwrap();
    std::fs::write(vault.join("A.md"), "# A\n\nSee [[B]].\n").unwrap();
    std::fs::write(vault.join("B.md"), "# B\n\n```rust\nfn main() {}\n```\n").unwrap();
    let root = vault.canonicalize().unwrap();
    let served = dir.path().join("served");
    let options = BuildOptions {
        output: served.clone(),
        ..BuildOptions::default()
    };
    let renderer = "static/mermaid.min.js";
    let mut session = BuildSession::new();
    session.build(&vault, &options, None).unwrap();
    assert!(!served.join(renderer).exists(), "no diagram yet");
    let diagram = "# A\n\nSee [[B]].\n\n```mermaid\ngraph TD; A-->B;\n```\n";
    for (step, (text, present)) in [(diagram, true), ("# A\n\nNo diagram.\n", false)]
        .into_iter()
        .enumerate()
    {
        std::fs::write(vault.join("A.md"), text).unwrap();
        session
            .build(&vault, &options, Some(&[root.join("A.md")]))
            .unwrap();
        assert_eq!(served.join(renderer).exists(), present, "step {step}");
        let full = dir.path().join(format!("full-{step}"));
        cold_full_build(&vault, &full);
        assert_eq!(full.join(renderer).exists(), present, "step {step}");
        assert_same_tree(&served, &full);
        // A one-shot build over the previous site (kept pages) ends the same.
        let again = dir.path().join(format!("again-{step}"));
        copy_dir(&served, &again);
        std::fs::write(
            vault.join("B.md"),
            format!("# B\n\n```rust\nfn main() {{}}\n```\n{step}\n"),
        )
        .unwrap();
        vaultc::build::build(
            &vault,
            &BuildOptions {
                output: again.clone(),
                ..BuildOptions::default()
            },
        )
        .unwrap();
        assert_eq!(again.join(renderer).exists(), present, "step {step}");
        std::fs::write(vault.join("B.md"), "# B\n\n```rust\nfn main() {}\n```\n").unwrap();
        session
            .build(&vault, &options, Some(&[root.join("B.md")]))
            .unwrap();
    }
}

#[test]
fn a_build_session_gives_the_same_site_as_a_full_build_after_random_edits() {
    use vaultc::build::{BuildOptions, BuildSession};
    let demo = demo_vault();
    for seed in [4u64, 5] {
        let dir = tempfile::tempdir().unwrap();
        let vault = dir.path().join("vault");
        copy_dir(&demo, &vault);
        let root = vault.canonicalize().unwrap();
        let served = dir.path().join("served");
        let options = BuildOptions {
            output: served.clone(),
            ..BuildOptions::default()
        };
        let mut session = BuildSession::new();
        session.build(&vault, &options, None).unwrap();
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mut broken = Vec::new();
        let mut history = Vec::new();
        for step in 0..12 {
            let before = snapshot(&vault);
            history.push(edit(&vault, &mut rng, step, &mut broken));
            let after = snapshot(&vault);
            // Every third step the watcher "misses" the change: the files' stamps must catch it.
            let changed = if step % 3 == 2 {
                Vec::new()
            } else {
                watcher_paths(&root, &before, &after)
            };
            let edited_notes = watcher_paths(&root, &before, &after)
                .iter()
                .filter(|p| p.extension().is_some_and(|e| e == "md") && p.exists())
                .count();
            let report = session.build(&vault, &options, Some(&changed)).unwrap();
            let comp = &report.compilation;
            assert!(report.in_place, "{}", history[step]);
            // Only the notes that changed are parsed; the others come from the session.
            assert_eq!(
                comp.parse.parsed, edited_notes,
                "seed {seed}, {}",
                history[step]
            );
            assert_eq!(comp.parse.parsed + comp.parse.reused, notes(&vault).len());
            let session_diagnostics: Vec<String> =
                comp.diagnostics.iter().map(|d| format!("{d:?}")).collect();
            let full = dir.path().join(format!("full-{step}"));
            let fresh = cold_full_build(&vault, &full);
            let fresh_diagnostics: Vec<String> = fresh
                .compilation
                .diagnostics
                .iter()
                .map(|d| format!("{d:?}"))
                .collect();
            assert_eq!(
                session_diagnostics, fresh_diagnostics,
                "seed {seed}, after {history:#?}"
            );
            eprintln!("seed {seed} step {step}: {}", history[step]);
            assert_same_tree(&served, &full);
            std::fs::remove_dir_all(&full).unwrap();
            // The build saw every change: no stamp is left that it did not take.
            assert_eq!(
                session.unreported_changes(),
                Vec::<PathBuf>::new(),
                "seed {seed}, {}",
                history[step]
            );
        }
        // The watcher tells of `told` alone: the build parses one note (no walk, the watcher's
        // word for the rest); the sweep then finds `untold`, the build with it (what `serve`
        // does next) parses it alone and catches up with a cold build.
        let told_then_swept = |session: &mut BuildSession, told: &[PathBuf], untold: PathBuf| {
            let what = format!("told {told:?}, untold {untold:?}");
            let report = session.build(&vault, &options, Some(told)).unwrap();
            assert_eq!(
                report.compilation.parse.parsed, 1,
                "{what}: the told change"
            );
            let unreported = session.unreported_changes();
            assert_eq!(unreported, vec![untold], "{what}: the sweep");
            let report = session.build(&vault, &options, Some(&unreported)).unwrap();
            assert_eq!(
                report.compilation.parse.parsed, 1,
                "{what}: the untold edit"
            );
            assert!(session.unreported_changes().is_empty(), "{what}");
            let full = dir.path().join("full-swept");
            cold_full_build(&vault, &full);
            assert_same_tree(&served, &full);
            std::fs::remove_dir_all(&full).unwrap();
        };
        // Two notes edited, and the watcher tells of one (a tracked rebuild).
        let all = notes(&vault);
        let (told, untold) = (&all[0], &all[all.len() - 1]);
        for p in [told, untold] {
            let mut text = std::fs::read_to_string(vault.join(p)).unwrap();
            text.push_str("\nEdited behind the watcher's back: [[Nowhere]].\n");
            std::fs::write(vault.join(p), text).unwrap();
        }
        told_then_swept(&mut session, &[root.join(told)], root.join(untold));
        // A note created, which the watcher tells of, and a note edited, which it does not:
        // the build of the whole vault needs no walk either (the new file is in a known
        // folder) and takes no stat of the other notes.
        let created = root.join(told).with_file_name("Created beside.md");
        std::fs::write(&created, "# Created beside\n\nSee [[Nowhere else]].\n").unwrap();
        let mut text = std::fs::read_to_string(vault.join(untold)).unwrap();
        text.push_str("\nEdited unseen beside a new note: [[Created beside]].\n");
        std::fs::write(vault.join(untold), text).unwrap();
        told_then_swept(&mut session, &[created], root.join(untold));
        // A heading renamed in one note changes the fragment state of a link in another note
        // whose text did not change (the resolution is reused for everything else).
        let target = all
            .iter()
            .find(|p| {
                std::fs::read_to_string(vault.join(p))
                    .unwrap()
                    .lines()
                    .any(|l| l.starts_with("## "))
            })
            .expect("a note with a second-level heading");
        let text = std::fs::read_to_string(vault.join(target)).unwrap();
        let heading = text.lines().find(|l| l.starts_with("## ")).unwrap()[3..].to_string();
        let linker = all.iter().find(|p| *p != target).unwrap();
        let mut linking = std::fs::read_to_string(vault.join(linker)).unwrap();
        linking.push_str(&format!("\nSee [[{}#{heading}]].\n", stem(target)));
        std::fs::write(vault.join(linker), linking).unwrap();
        session
            .build(&vault, &options, Some(&[root.join(linker)]))
            .unwrap();
        std::fs::write(
            vault.join(target),
            text.replacen(&format!("## {heading}"), "## A renamed heading", 1),
        )
        .unwrap();
        let report = session
            .build(&vault, &options, Some(&[root.join(target)]))
            .unwrap();
        assert_eq!(report.compilation.parse.parsed, 1);
        let full = dir.path().join("full-heading");
        let fresh = cold_full_build(&vault, &full);
        let linker_path =
            vaultc::source::VaultPath::new(&crate::support::slash_path(linker)).unwrap();
        assert!(
            fresh
                .compilation
                .diagnostics
                .iter()
                .any(|d| d.file == linker_path && d.message.contains(&heading)),
            "the link to the old heading is now broken"
        );
        assert_same_tree(&served, &full);
    }
}

/// Edits that leave every name, title and tag as it was are rebuilt by dependency tracking
/// (only the changed notes are read, only the pages that show them are looked at), and each
/// such rebuild writes the site and diagnostics a cold build gives: a section another note
/// transcludes, a block another note embeds, a whole embedded note (that a third note shows
/// through an embed of an embed), a heading and a block id that links point at (renamed, then
/// back), text only in a note others link to, text
/// around a link (its backlink context), text before a wanted link (the wanted page's line
/// numbers), text before an embed that loops (where the loop is reported), the loop broken
/// and made again, a save that
/// changes nothing, a save through an editor's temporary file, two notes at once, a note
/// edited behind the watcher's back (its stamp gives it away); and links that go elsewhere: to
/// another note, to a missing note (the wanted page, a "did you mean"), a broken link fixed,
/// the only link to a note removed and put back (an orphan, with orphan warnings on), an embed
/// pointed at another note, a note embedding itself, a link to an attachment, two notes
/// relinked at once; new titles (the index, tag pages, wanted page, backlinks and graph data
/// show them); and tags: a new one, an existing one with a new one nested under it, a tag's
/// first spelling changed, front-matter tags changed, new tags removed (their pages go). Edits
/// that touch the configuration file, a tag whose page would move another tag's page, and a
/// save after the site was deleted, build the whole vault instead, with the same result.
#[test]
fn a_session_rebuilds_content_edits_by_dependency_tracking() {
    use vaultc::build::{BuildOptions, BuildSession};
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("vault");
    copy_dir(&demo_vault(), &vault);
    std::fs::write(
        vault.join("Scratch.md"),
        "# Scratch\n\nSome words first.\n\nA link to [[Not Yet Written]] and to [[CLIP]].\n",
    )
    .unwrap();
    // Embeds the section it is in: a loop, reported where the embed is.
    std::fs::write(
        vault.join("Loop.md"),
        "# Loop\n\n## Part\n\nText, then ![[#Part]] inside its own section.\n",
    )
    .unwrap();
    // Transcludes a section that itself transcludes the glossary: an embed of an embed.
    std::fs::write(
        vault.join("Digest.md"),
        "# Digest\n\n![[Vision Language Models#Glossary]]\n",
    )
    .unwrap();
    // Not valid UTF-8: read with a problem, so it has no stamp; saves of other notes are
    // still rebuilt by tracking.
    std::fs::write(
        vault.join("Broken bytes.md"),
        b"# Broken bytes\n\nA stray \xff byte, and [[CLIP]].\n",
    )
    .unwrap();
    // Linked from Scratch alone: an orphan when that link goes.
    std::fs::write(
        vault.join("Lonely.md"),
        "# Lonely\n\nOnly Scratch links here.\n",
    )
    .unwrap();
    std::fs::write(
        vault.join("Scratch.md"),
        "# Scratch\n\nSome words first.\n\nA link to [[Not Yet Written]] and to [[CLIP]].\n\nSee [[Lonely]].\n",
    )
    .unwrap();
    // A file of the vault where a tag's page would go, once a note has that tag.
    std::fs::create_dir_all(vault.join("tags/fresh-tag")).unwrap();
    std::fs::write(vault.join("tags/fresh-tag/index.html"), "<p>kept</p>\n").unwrap();
    let root = vault.canonicalize().unwrap();
    let served = dir.path().join("served");
    // Orphan warnings on: a relinked note's backlinks decide them.
    let mut config = vaultc::config::Config::default();
    config.set_level(vaultc::diag::Code::OrphanNote, vaultc::diag::Level::Warn);
    let options = BuildOptions {
        output: served.clone(),
        compile: vaultc::CompileOptions {
            config: config.clone(),
            ..Default::default()
        },
        ..BuildOptions::default()
    };
    let cold_full_build = |out: &Path| {
        vaultc::build::build(
            &vault,
            &BuildOptions {
                output: out.to_path_buf(),
                full: true,
                no_cache: true,
                compile: vaultc::CompileOptions {
                    config: config.clone(),
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .unwrap()
    };
    let mut session = BuildSession::new();
    session.build(&vault, &options, None).unwrap();
    let edit = |rel: &str, f: &dyn Fn(&str) -> String| {
        let path = vault.join(rel);
        let text = std::fs::read_to_string(&path).unwrap();
        let new = f(&text);
        std::fs::write(&path, new).unwrap();
    };
    let families = "concepts/VLM Families.md";
    let bench = "datasets-and-benchmarks/μ-Bench.md";
    let glossary = "concepts/Glossary.md";
    let ethics = "concepts/Ethical Considerations.md";
    let contrastive = "concepts/Contrastive Learning.md";
    // (what, the notes edited, the ones reported, whether tracking must handle it)
    type Step<'a> = (&'a str, Box<dyn Fn() + 'a>, Vec<&'a str>, bool);
    let steps: Vec<Step> = vec![
        (
            "a transcluded section",
            Box::new(|| {
                edit(families, &|t| {
                    t.replacen(
                        "## The four families\n",
                        "## The four families\n\nA new opening line of the section.\n",
                        1,
                    )
                })
            }),
            vec![families],
            true,
        ),
        (
            "an embedded block",
            Box::new(|| edit(bench, &|t| t.replacen("Current VLMs", "Today's VLMs", 1))),
            vec![bench],
            true,
        ),
        (
            "a whole embedded note",
            Box::new(|| edit(glossary, &|t| format!("{t}\nOne more glossary line.\n"))),
            vec![glossary],
            true,
        ),
        (
            "a heading links point at, renamed",
            Box::new(|| {
                edit(ethics, &|t| {
                    t.replacen("## Bias Mitigation", "## Bias Mitigation Methods", 1)
                })
            }),
            vec![ethics],
            true,
        ),
        (
            "the heading renamed back",
            Box::new(|| {
                edit(ethics, &|t| {
                    t.replacen("## Bias Mitigation Methods", "## Bias Mitigation", 1)
                })
            }),
            vec![ethics],
            true,
        ),
        (
            "a block id links point at, renamed",
            Box::new(|| {
                edit(contrastive, &|t| {
                    t.replacen("^infonce-definition", "^infonce", 1)
                })
            }),
            vec![contrastive],
            true,
        ),
        (
            "the block id renamed back",
            Box::new(|| {
                edit(contrastive, &|t| {
                    t.replacen("^infonce\n", "^infonce-definition\n", 1)
                })
            }),
            vec![contrastive],
            true,
        ),
        (
            "text only, in a note other notes link to",
            Box::new(|| {
                edit(contrastive, &|t| {
                    t.replacen("InfoNCE treats", "The InfoNCE loss treats", 1)
                })
            }),
            vec![contrastive],
            true,
        ),
        (
            "text around a link and before a wanted link",
            Box::new(|| {
                edit("Scratch.md", &|t| {
                    t.replacen(
                        "Some words first.",
                        "Some words first.\n\nAnd a new paragraph.",
                        1,
                    )
                    .replacen("A link to", "Now a link to", 1)
                })
            }),
            vec!["Scratch.md"],
            true,
        ),
        (
            "text before an embed loop",
            Box::new(|| {
                edit("Loop.md", &|t| {
                    t.replacen("Text, then", "More text, then", 1)
                })
            }),
            vec!["Loop.md"],
            true,
        ),
        (
            "an embed loop broken: its embed made a link",
            Box::new(|| edit("Loop.md", &|t| t.replacen("![[#Part]]", "[[#Part]]", 1))),
            vec!["Loop.md"],
            true,
        ),
        (
            "the embed loop made again",
            Box::new(|| edit("Loop.md", &|t| t.replacen("[[#Part]]", "![[#Part]]", 1))),
            vec!["Loop.md"],
            true,
        ),
        (
            "a save that changes nothing",
            Box::new(|| edit(glossary, &|t| t.to_string())),
            vec![glossary],
            true,
        ),
        (
            "two notes at once",
            Box::new(|| {
                edit(families, &|t| format!("{t}\nClosing words.\n"));
                edit(contrastive, &|t| format!("{t}\nA closing remark.\n"));
            }),
            vec![families, contrastive],
            true,
        ),
        (
            "a note edited behind the watcher's back",
            Box::new(|| {
                edit(glossary, &|t| format!("{t}\nReported.\n"));
                edit(contrastive, &|t| format!("{t}\nNot reported.\n"));
            }),
            vec![glossary],
            true,
        ),
        (
            "a save through a temporary file that is gone again",
            Box::new(|| edit(glossary, &|t| format!("{t}\nSaved by an editor.\n"))),
            vec![glossary, "concepts/4913"],
            true,
        ),
        (
            "the configuration file, gone",
            Box::new(|| {}),
            vec!["vaultc.toml"],
            false,
        ),
        (
            "a save after the site was deleted",
            Box::new(|| {
                std::fs::remove_dir_all(&served).unwrap();
                edit(glossary, &|t| format!("{t}\nAfter the site went.\n"));
            }),
            vec![glossary],
            false,
        ),
        (
            "a new title (a first heading), in a note linking to a missing note",
            Box::new(|| {
                edit("Scratch.md", &|t| {
                    t.replacen("# Scratch", "# Scratch Pad", 1)
                })
            }),
            vec!["Scratch.md"],
            true,
        ),
        (
            "a new title (front matter), in a tagged note that others link to and embed",
            Box::new(|| {
                edit(contrastive, &|t| {
                    t.replacen(
                        "title: Contrastive Learning",
                        "title: Contrastive Pretraining",
                        1,
                    )
                })
            }),
            vec![contrastive],
            true,
        ),
        (
            "a tag no note had",
            Box::new(|| {
                edit("Scratch.md", &|t| {
                    format!("{t}\nFiled under #scratchpad.\n")
                })
            }),
            vec!["Scratch.md"],
            true,
        ),
        (
            "a tag others have, and a new tag nested under it",
            Box::new(|| {
                edit("Scratch.md", &|t| {
                    format!("{t}\nAlso #vlm and #vlm/scratch.\n")
                })
            }),
            vec!["Scratch.md"],
            true,
        ),
        (
            "the first note using a tag spells it differently",
            Box::new(|| edit("Digest.md", &|t| format!("{t}\nTagged #VLM.\n"))),
            vec!["Digest.md"],
            true,
        ),
        (
            "front-matter tags changed",
            Box::new(|| {
                edit(contrastive, &|t| {
                    t.replacen("  - vlm/contrastive\n", "  - vlm/contrast\n", 1)
                })
            }),
            vec![contrastive],
            true,
        ),
        (
            "the new tags removed (their pages go)",
            Box::new(|| {
                edit("Scratch.md", &|t| {
                    t.replacen("\nFiled under #scratchpad.\n", "", 1).replacen(
                        "\nAlso #vlm and #vlm/scratch.\n",
                        "",
                        1,
                    )
                })
            }),
            vec!["Scratch.md"],
            true,
        ),
        (
            "a tag whose page takes the folder of an existing tag's page",
            Box::new(|| edit("Scratch.md", &|t| format!("{t}\nAnd #_vlm.\n"))),
            vec!["Scratch.md"],
            false,
        ),
        (
            "a link to another note",
            Box::new(|| edit("Scratch.md", &|t| t.replacen("[[CLIP]]", "[[SigLIP]]", 1))),
            vec!["Scratch.md"],
            true,
        ),
        (
            "a link to a missing note, one letter from a note's name",
            Box::new(|| {
                edit("Scratch.md", &|t| {
                    format!("{t}\nAlso [[Contrastive Learnin]].\n")
                })
            }),
            vec!["Scratch.md"],
            true,
        ),
        (
            "a broken link fixed",
            Box::new(|| {
                edit("Scratch.md", &|t| {
                    t.replacen("[[Not Yet Written]]", "[[Glossary]]", 1)
                })
            }),
            vec!["Scratch.md"],
            true,
        ),
        (
            "the only link to a note removed",
            Box::new(|| {
                edit("Scratch.md", &|t| {
                    t.replacen("See [[Lonely]].", "See nobody.", 1)
                })
            }),
            vec!["Scratch.md"],
            true,
        ),
        (
            "the link put back",
            Box::new(|| {
                edit("Scratch.md", &|t| {
                    t.replacen("See nobody.", "See [[Lonely]].", 1)
                })
            }),
            vec!["Scratch.md"],
            true,
        ),
        (
            "an embed pointed at another note",
            Box::new(|| {
                edit("Digest.md", &|t| {
                    t.replacen("![[Vision Language Models#Glossary]]", "![[CLIP]]", 1)
                })
            }),
            vec!["Digest.md"],
            true,
        ),
        (
            "a note embedding itself, and a link to an attachment",
            Box::new(|| {
                edit("Scratch.md", &|t| {
                    format!("{t}\n![[Scratch]]\n\n![[vlm-families.svg]]\n")
                })
            }),
            vec!["Scratch.md"],
            true,
        ),
        (
            "two notes relinked at once",
            Box::new(|| {
                edit("Scratch.md", &|t| {
                    t.replacen("[[SigLIP]]", "[[Missing Too]]", 1)
                });
                edit("Digest.md", &|t| t.replacen("![[CLIP]]", "![[Lonely]]", 1));
            }),
            vec!["Scratch.md", "Digest.md"],
            true,
        ),
        (
            "a new tag whose page takes an attachment's place (the attachment moves)",
            Box::new(|| edit("Scratch.md", &|t| format!("{t}\n#fresh-tag\n"))),
            vec!["Scratch.md"],
            false,
        ),
        (
            "the tag removed (the attachment moves back)",
            Box::new(|| edit("Scratch.md", &|t| t.replacen("\n#fresh-tag\n", "", 1))),
            vec!["Scratch.md"],
            false,
        ),
    ];
    for (step, (what, apply, reported, tracked)) in steps.into_iter().enumerate() {
        let before = snapshot(&vault);
        apply();
        let after = snapshot(&vault);
        let changed: Vec<PathBuf> = reported.iter().map(|r| root.join(r)).collect();
        let report = session.build(&vault, &options, Some(&changed)).unwrap();
        assert_eq!(report.tracked, tracked, "{what}");
        // Notes edited but not reported are found by their stamps once the build is out, and
        // built next, as `serve` does; nothing else is.
        let untold: Vec<PathBuf> = watcher_paths(&root, &before, &after)
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "md") && !changed.contains(p))
            .collect();
        let unreported = session.unreported_changes();
        assert_eq!(unreported, untold, "{what}");
        if !unreported.is_empty() {
            let report = session.build(&vault, &options, Some(&unreported)).unwrap();
            assert!(report.tracked, "{what}: the untold note");
            assert!(session.unreported_changes().is_empty(), "{what}");
        }
        let report = session.last_build().expect("the build succeeded");
        let diagnostics: Vec<String> = report
            .compilation
            .diagnostics
            .iter()
            .map(|d| format!("{d:?}"))
            .collect();
        // The session's compilation is the one a cold build makes: its concept graph (nodes,
        // edges, their order) and the tag pages' nodes in the site plan.
        let graph = format!("{:?}", report.compilation.graph.graph);
        let tags = format!("{:?}", report.compilation.site.tags);
        let full = dir.path().join(format!("full-{step}"));
        let fresh = cold_full_build(&full);
        let fresh_diagnostics: Vec<String> = fresh
            .compilation
            .diagnostics
            .iter()
            .map(|d| format!("{d:?}"))
            .collect();
        assert_eq!(diagnostics, fresh_diagnostics, "{what}");
        assert!(
            graph == format!("{:?}", fresh.compilation.graph.graph),
            "{what}: the graph"
        );
        assert!(
            tags == format!("{:?}", fresh.compilation.site.tags),
            "{what}: the tags"
        );
        assert_same_tree(&served, &full);
        std::fs::remove_dir_all(&full).unwrap();
    }
}

/// Another `vaultc build` into the folder a session serves (here with a theme of its own)
/// rewrites pages the session would otherwise trust: the session's next build, tracked (a
/// text edit) or whole (a new note), sees the marker it left replaced, does not trust its
/// manifest, and writes the site a cold build writes.
#[test]
fn a_session_does_not_trust_a_site_another_build_wrote() {
    use vaultc::build::{build, BuildOptions, BuildSession};
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("vault");
    copy_dir(&demo_vault(), &vault);
    let root = vault.canonicalize().unwrap();
    let served = dir.path().join("served");
    let options = BuildOptions {
        output: served.clone(),
        ..BuildOptions::default()
    };
    let other = BuildOptions {
        output: served.clone(),
        theme: Some(crate::support::theme(
            dir.path(),
            &[("note.html", "<p>another theme: {{ page.title }}</p>\n")],
        )),
        ..BuildOptions::default()
    };
    let note = notes(&vault)[0].clone();
    for (step, whole) in [(0, false), (1, true)] {
        let mut session = BuildSession::new();
        session.build(&vault, &options, None).unwrap();
        build(&vault, &other).unwrap();
        let changed = if whole {
            let path = root.join(format!("Brand new {step}.md"));
            std::fs::write(&path, "# Brand new\n\nSee [[CLIP]].\n").unwrap();
            path
        } else {
            let path = root.join(&note);
            let mut text = std::fs::read_to_string(&path).unwrap();
            text.push_str("\nOne more line.\n");
            std::fs::write(&path, text).unwrap();
            path
        };
        let report = session.build(&vault, &options, Some(&[changed])).unwrap();
        assert!(
            !report.tracked,
            "step {step}: the other build's site is not trusted"
        );
        let full = dir.path().join(format!("full-{step}"));
        cold_full_build(&vault, &full);
        assert_same_tree(&served, &full);
    }
}
