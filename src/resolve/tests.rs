//! Resolution tests: a vault from inline `path => text` pairs, links checked by name.

use super::*;
use crate::discover::{AttachmentFile, SourceFile};
use crate::source::VaultPath;

fn vault(files: &[(&str, &str)]) -> Vault {
    let mut notes = Vec::new();
    let mut attachments = Vec::new();
    let mut sorted = files.to_vec();
    sorted.sort();
    for (path, text) in sorted {
        let path = VaultPath::new(path).unwrap();
        if path.is_markdown() {
            notes.push(
                crate::parse::note(SourceFile {
                    path,
                    text: text.to_string(),
                    is_template: false,
                })
                .0,
            );
        } else {
            attachments.push(AttachmentFile {
                disk_path: path.as_str().into(),
                path,
            });
        }
    }
    Vault {
        notes,
        attachments,
        other_sources: Vec::new(),
    }
}

/// Where the first link of note `from` goes: a path, or "MISSING", plus the fragment state.
fn target_of(v: &Vault, from: &str, options: ResolveOptions) -> (String, FragmentTarget, usize) {
    let id = NoteId(
        v.notes
            .iter()
            .position(|n| n.path.as_str() == from)
            .unwrap() as u32,
    );
    let r = resolve(v, options);
    let link = r.get(id, 0);
    let path = match &link.target {
        LinkTarget::Note { id, .. } => v.note(*id).path.to_string(),
        LinkTarget::Attachment(a) => v.attachment(*a).path.to_string(),
        LinkTarget::Missing { .. } => "MISSING".into(),
    };
    let fragment = match &link.target {
        LinkTarget::Note { fragment, .. } => fragment.clone(),
        _ => FragmentTarget::None,
    };
    (path, fragment, link.ambiguous.matched as usize)
}

fn check(files: &[(&str, &str)], from: &str, expect: &str) {
    let v = vault(files);
    assert_eq!(
        target_of(&v, from, ResolveOptions::default()).0,
        expect,
        "from {from}"
    );
}

#[test]
fn a_note_wins_over_a_file_without_extension_at_its_path() {
    let files = [
        ("src.md", "[[c]]"),
        ("c.md", ""),
        ("c", ""),
        ("d.md", "[[c.md]]"),
        ("e.md", "![[LICENSE]]"),
        ("LICENSE", ""),
    ];
    check(&files, "src.md", "c.md");
    check(&files, "d.md", "c.md");
    // Alone, the file without extension is what the name reaches.
    check(&files, "e.md", "LICENSE");
}

#[test]
fn exact_path_wins_over_sibling() {
    check(
        &[
            ("a/src.md", "[[b/Note]]"),
            ("a/b/Note.md", ""),
            ("b/Note.md", ""),
        ],
        "a/src.md",
        "b/Note.md",
    );
}

#[test]
fn same_folder_then_shortest_then_lexicographic() {
    let files = [
        ("x/src.md", "[[Note]]"),
        ("x/Note.md", ""),
        ("a/Note.md", ""),
        ("zz/deeper/Note.md", ""),
    ];
    check(&files, "x/src.md", "x/Note.md");
    let files = [
        ("src.md", "[[Note]]"),
        ("zzzz/Note.md", ""),
        ("a/b/Note.md", ""),
    ];
    check(&files, "src.md", "a/b/Note.md");
    let files = [("src.md", "[[Note]]"), ("b/Note.md", ""), ("a/Note.md", "")];
    let v = vault(&files);
    assert_eq!(
        target_of(&v, "src.md", ResolveOptions::default()),
        ("a/Note.md".into(), FragmentTarget::None, 2)
    );
}

#[test]
fn ancestor_folder_gives_no_preference() {
    check(
        &[
            ("a/b/src.md", "[[Note]]"),
            ("a/Note.md", ""),
            ("c/Note.md", ""),
        ],
        "a/b/src.md",
        "a/Note.md",
    );
    check(
        &[
            ("a/b/src.md", "[[Note]]"),
            ("aa/Note.md", ""),
            ("c/Note.md", ""),
        ],
        "a/b/src.md",
        "c/Note.md",
    );
}

#[test]
fn case_nfc_and_md_extension() {
    check(&[("src.md", "[[LOG]]"), ("Log.md", "")], "src.md", "Log.md");
    check(
        &[("src.md", "[[Ext.MD]]"), ("Ext.md", "")],
        "src.md",
        "Ext.md",
    );
    check(
        &[("src.md", "[[Cafe\u{301}]]"), ("Caf\u{e9}.md", "")],
        "src.md",
        "Caf\u{e9}.md",
    );
    check(
        &[("src.md", "[[Note.1]]"), ("Note.1.md", "")],
        "src.md",
        "Note.1.md",
    );
}

#[test]
fn attachments_need_their_extension() {
    check(
        &[("src.md", "[[pic]]"), ("pic.png", "")],
        "src.md",
        "MISSING",
    );
    check(
        &[("src.md", "[[pic.png]]"), ("img/pic.png", "")],
        "src.md",
        "img/pic.png",
    );
}

#[test]
fn relative_paths_and_escapes() {
    check(
        &[("a/src.md", "[[../b/Note]]"), ("b/Note.md", "")],
        "a/src.md",
        "b/Note.md",
    );
    check(
        &[
            ("a/src.md", "[[./Note]]"),
            ("a/Note.md", ""),
            ("Note.md", ""),
        ],
        "a/src.md",
        "a/Note.md",
    );
    check(
        &[("a/src.md", "[[../../Note]]"), ("Note.md", "")],
        "a/src.md",
        "MISSING",
    );
    // Markdown links are URLs: `..` above the root stays at the root.
    check(
        &[("a/src.md", "![x](../../img/p.png)"), ("img/p.png", "")],
        "a/src.md",
        "img/p.png",
    );
}

#[test]
fn aliases_resolve_only_when_asked() {
    let v = vault(&[
        ("src.md", "[[AL]]"),
        ("Note.md", "---\naliases: [AL]\n---\n"),
    ]);
    assert_eq!(
        target_of(&v, "src.md", ResolveOptions::default()).0,
        "MISSING"
    );
    let opts = ResolveOptions {
        resolve_aliases: true,
    };
    assert_eq!(target_of(&v, "src.md", opts).0, "Note.md");
}

#[test]
fn urls_and_caret_names_are_notes() {
    check(
        &[("src.md", "[[https://example.com]]")],
        "src.md",
        "MISSING",
    );
    check(
        &[("src.md", "[[^id]]"), ("n.md", "para ^id")],
        "src.md",
        "MISSING",
    );
}

#[test]
fn fragments_headings_chains_and_blocks() {
    let target =
        "# Top\n## Links: [internal]\n### Deep\n## Other\n### Deep\npara ^blk\n## `code`\n";
    let frag = |link: &str| {
        let v = vault(&[("src.md", link), ("T.md", target)]);
        target_of(&v, "src.md", ResolveOptions::default()).1
    };
    assert_eq!(frag("[[T#links  internal]]"), FragmentTarget::Heading(1));
    assert_eq!(frag("[[T#Other#Deep]]"), FragmentTarget::Heading(4));
    assert_eq!(
        frag("[[T#Top#Links: [internal]#Deep]]"),
        FragmentTarget::Heading(2)
    );
    assert_eq!(
        frag("[[T#Nope#Deep]]"),
        FragmentTarget::Heading(2),
        "chain falls back to last part"
    );
    assert_eq!(frag("[[T#Missing]]"), FragmentTarget::Missing);
    assert_eq!(frag("[[T#^BLK]]"), FragmentTarget::Block(0));
    assert_eq!(frag("[[T#^nope]]"), FragmentTarget::Missing);
    assert_eq!(frag("[[T#`code`]]"), FragmentTarget::Heading(5));
    assert_eq!(frag("[[T#code]]"), FragmentTarget::Heading(5));
}

#[test]
fn self_links() {
    let v = vault(&[("src.md", "[[#H]]\n# H\n")]);
    assert_eq!(
        target_of(&v, "src.md", ResolveOptions::default()),
        ("src.md".into(), FragmentTarget::Heading(0), 0)
    );
}

#[test]
fn resolving_again_after_edits_equals_resolving_from_scratch() {
    let options = ResolveOptions::default();
    let before = vault(&[
        ("X.md", "# Old heading\n\nText ^blk\n"),
        (
            "Y.md",
            "[[X#Old heading]] [[X#^blk]] [[Z]] [[pic.png]] [[Nowhere]]\n",
        ),
        ("Z.md", "[[X]] [[Y#Missing]]\n"),
        ("pic.png", ""),
    ]);
    // X's heading and block change; Y and Z keep their texts.
    let after = vault(&[
        ("X.md", "# New heading\n\nText ^other [[Y]]\n"),
        (
            "Y.md",
            "[[X#Old heading]] [[X#^blk]] [[Z]] [[pic.png]] [[Nowhere]]\n",
        ),
        ("Z.md", "[[X]] [[Y#Missing]]\n"),
        ("pic.png", ""),
    ]);
    let unchanged = [false, true, true];
    let names = IndexedNames::of(&before);
    let again = resolve_again(
        &after,
        options,
        resolve(&before, options),
        &names,
        &unchanged,
    );
    let fresh = resolve(&after, options);
    assert_eq!(again.links, fresh.links);
    // The point of the test: Y's links into X changed state although Y did not change.
    let old = resolve(&before, options);
    assert_ne!(old.links[1][..2], fresh.links[1][..2]);
}

/// [`resolve_again`] from `before` to `after`, where a note is unchanged when `before` had it
/// with the same text; checked against [`resolve`] with and without alias resolution.
fn assert_resolves_again(before: &[(&str, &str)], after: &[(&str, &str)]) {
    let (old, new) = (vault(before), vault(after));
    let unchanged: Vec<bool> = new
        .notes
        .iter()
        .map(|n| before.contains(&(n.path.as_str(), n.text.as_str())))
        .collect();
    for resolve_aliases in [false, true] {
        let options = ResolveOptions { resolve_aliases };
        let again = resolve_again(
            &new,
            options,
            resolve(&old, options),
            &IndexedNames::of(&old),
            &unchanged,
        );
        let fresh = resolve(&new, options);
        assert_eq!(
            again.links, fresh.links,
            "aliases resolved: {resolve_aliases}"
        );
        assert_eq!(
            again.index, fresh.index,
            "aliases resolved: {resolve_aliases}"
        );
    }
}

#[test]
fn resolving_again_after_files_come_and_go_equals_resolving_from_scratch() {
    let base: &[(&str, &str)] = &[
        (
            "a/Note.md",
            "[[Other]] [[Note]] [[Gone]] [[b/Note]] [[pic.png]] [[Solo|s]]",
        ),
        (
            "a/Other.md",
            "[[Note#H]] [[./Note.md]] [[../Solo]] [[Nickname]] [[Wanted]]",
        ),
        (
            "b/Note.md",
            "# H\n[[Note]] [[note.md]] [[Pic.png]] [[Later]] [[x/]]",
        ),
        ("Gone.md", "---\naliases: [Nickname]\n---\n[[Solo]]"),
        ("Solo.md", "[[#Top]] [[Gone#^b]] [[Z]] [[z.md]]\n# Top"),
        ("Z.md", "[[a/Note]] [[Other]]"),
        ("pic.png", ""),
    ];
    let without = |gone: &str| -> Vec<(&str, &str)> {
        base.iter().copied().filter(|(p, _)| *p != gone).collect()
    };
    let with = |extra: &[(&'static str, &'static str)]| -> Vec<(&str, &str)> {
        base.iter().chain(extra).copied().collect()
    };
    // A note removed: links to it become wanted; an ambiguity among two goes.
    assert_resolves_again(base, &without("Gone.md"));
    assert_resolves_again(base, &without("b/Note.md"));
    // A note added: wanted links find it, a name becomes ambiguous, ids after it move.
    assert_resolves_again(base, &with(&[("Later.md", "[[Z]]")]));
    assert_resolves_again(base, &with(&[("c/Other.md", "x")]));
    assert_resolves_again(base, &with(&[("0 first.md", "[[Solo]]")]));
    assert_resolves_again(base, &with(&[("Wanted.md", "---\naliases: [Nick]\n---\n")]));
    // A folder sibling added wins over a shorter path elsewhere.
    assert_resolves_again(base, &with(&[("b/Solo.md", "")]));
    // A file whose name others have, sorting before them: it takes its place in their lists.
    assert_resolves_again(base, &with(&[("A/Solo.md", ""), ("A/pic.png", "")]));
    // A note renamed (gone and come back under another name), with its text.
    let renamed: Vec<(&str, &str)> = base
        .iter()
        .map(|&(p, t)| if p == "Z.md" { ("y/Z2.md", t) } else { (p, t) })
        .collect();
    assert_resolves_again(base, &renamed);
    // Attachments come and go; a note's alias changes.
    assert_resolves_again(base, &without("pic.png"));
    assert_resolves_again(base, &with(&[("b/pic.png", ""), ("Later.pdf", "")]));
    let realiased: Vec<(&str, &str)> = base
        .iter()
        .map(|&(p, t)| {
            if p == "Gone.md" {
                (p, "---\naliases: [Wanted]\n---\n[[Solo]]")
            } else {
                (p, t)
            }
        })
        .collect();
    assert_resolves_again(base, &realiased);
    // Everything at once, and back.
    let mut all = renamed.clone();
    all.retain(|(p, _)| *p != "pic.png" && *p != "b/Note.md");
    all.extend([("Later.md", "[[Note]]"), ("b/Solo.md", "[[Later]]")]);
    assert_resolves_again(base, &all);
    assert_resolves_again(&all, base);
}

/// A name many files share keeps its first [`CANDIDATES_KEPT`] candidates in resolution order
/// (the sibling first, then by path length, letter case, path) and counts the rest; the
/// winner and the rule are those a sort of every candidate gives.
#[test]
fn names_shared_by_many_files_keep_the_first_candidates() {
    let mut files: Vec<(String, String)> = (0..40)
        .map(|i| (format!("f{i:02}/index.md"), String::new()))
        .collect();
    files.push(("deep/er/index.md".into(), String::new()));
    files.push(("F07/Index.md".into(), String::new()));
    files.push(("root.md".into(), "[[index]]".into()));
    files.push(("zzz/a.md".into(), "[[index]]".into()));
    files.push(("zzz/index.md".into(), String::new()));
    files.push(("f39/b.md".into(), "[[Index]]".into()));
    let pairs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let v = vault(&pairs);
    let r = resolve(&v, ResolveOptions::default());
    let candidates = |from: &str| {
        let id = NoteId(
            v.notes
                .iter()
                .position(|n| n.path.as_str() == from)
                .unwrap() as u32,
        );
        let c = r.get(id, 0).ambiguous.clone();
        let shown: Vec<&str> = c
            .shown
            .iter()
            .map(|f| match f {
                FileRef::Note(n) => v.note(*n).path.as_str(),
                FileRef::Attachment(a) => v.attachment(*a).path.as_str(),
            })
            .collect();
        (shown, c.matched, c.rule)
    };
    let (shown, matched, rule) = candidates("root.md");
    assert_eq!(matched, 43);
    assert_eq!(rule, TieBreak::PathOrder);
    assert_eq!(
        shown,
        [
            "f00/index.md",
            "f01/index.md",
            "f02/index.md",
            "f03/index.md",
            "f04/index.md",
            "f05/index.md",
            "f06/index.md",
            "f07/index.md",
            "f08/index.md",
            "f09/index.md"
        ]
    );
    // The sibling sorts last, and still wins.
    let (shown, _, rule) = candidates("zzz/a.md");
    assert_eq!(rule, TieBreak::SameFolder);
    assert_eq!(shown[0], "zzz/index.md");
    assert_eq!(
        shown[1..4],
        ["f00/index.md", "f01/index.md", "f02/index.md"]
    );
    assert_eq!(shown.len(), CANDIDATES_KEPT);
    // An exact spelling sorts first among paths of one length.
    let (shown, _, rule) = candidates("f39/b.md");
    assert_eq!((shown[0], rule), ("f39/index.md", TieBreak::SameFolder));
    assert_eq!(shown[1], "F07/Index.md");
}

#[test]
fn kept_rankings_of_shared_names_equal_ranking_each_link() {
    // Random vaults where a few names are shared by many files in nested folders, in several
    // letter cases, as notes and as attachments; every link's ranking through `SharedName`
    // must equal `rank` over the same files, from every folder (siblings or none).
    let mut rng = crate::source::xorshift(0x5eed_cafe);
    for round in 0..30 {
        let names = ["index", "Index", "INDEX", "readme", "a"];
        let folders = ["", "x", "x/y", "x/y/z", "w", "w/x", "q", "Q"];
        let mut files: Vec<(String, String)> = Vec::new();
        let count = 2 + rng(60);
        for i in 0..count {
            let folder = folders[rng(folders.len())];
            let name = names[rng(names.len())];
            let ext = [".md", ".md", ".md", ".png", ""][rng(5)];
            let leaf = format!("{name}{ext}");
            let path = match (folder, i % 3) {
                ("", _) => leaf,
                (f, 0) => format!("{f}/{leaf}"),
                (f, _) => format!("{f}/f{i}/{leaf}"),
            };
            // Letter-case twins in one folder too (the sibling rule needs the first of them).
            if !files.iter().any(|(p, _)| *p == path) {
                files.push((path, String::new()));
            }
        }
        for folder in folders {
            let from = if folder.is_empty() {
                "from.md".to_string()
            } else {
                format!("{folder}/from.md")
            };
            files.push((from, String::new()));
        }
        let pairs: Vec<(&str, &str)> = files
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_str()))
            .collect();
        let v = vault(&pairs);
        let index = NameIndex::new(&v);
        for spelling in [
            "index", "Index", "INDEX", "index.md", "readme", "a", "A.png",
        ] {
            let found = with_folded(spelling, |f| index.suffix_parts(f));
            if found[0].len() + found[1].len() < 2 {
                continue;
            }
            let shared = SharedName::new(&v, found, spelling);
            for folder in folders.iter().chain(&["x/y/z/none"]) {
                assert_eq!(
                    shared.rank(&v, folder),
                    rank(&v, found, spelling, folder),
                    "round {round}, [[{spelling}]] from {folder:?}"
                );
            }
        }
    }
}
