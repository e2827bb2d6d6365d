//! Obsidian Bases: a note that embeds a `.base` file shows the view in its page, selected,
//! sorted, grouped and laid out as the base says, with `this` the embedding note; a base that
//! cannot be read is an `invalid-base` warning; a session keeps such pages up to date.

use std::path::Path;

use crate::support::*;

/// The `n`-th embedded base view of a built page (0-based).
fn base_view(site: &Path, page: &str, n: usize) -> String {
    nth_div(site, page, "<div class=\"embed embed-base\"", n)
}

/// The rows of a view's table: the text of each `<tr>` in `<tbody>` (tags removed, cells
/// joined by `|`).
fn table_rows(view: &str) -> Vec<String> {
    let body = &view[view.find("</thead>").expect("a table head")..];
    body.split("<tr")
        .skip(1)
        .map(|row| {
            let cells: Vec<String> = row
                .split("<td>")
                .skip(1)
                .map(|cell| text_of(&cell[..cell.find("</td>").unwrap_or(cell.len())]))
                .collect();
            if cells.is_empty() {
                // A group's heading row.
                format!(
                    "group {}",
                    text_of(&row[row.find('>').map_or(0, |i| i + 1)..])
                )
            } else {
                cells.join("|")
            }
        })
        .collect()
}

/// Markup without its tags.
fn text_of(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.trim().trim_start_matches('>').trim().to_string()
}

fn built_fixture() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    build(&fixture("bases"), &site).assert_code(0);
    (dir, site)
}

#[test]
fn a_category_page_shows_its_base_as_a_sorted_table() {
    let (_dir, site) = built_fixture();
    let view = base_view(&site, "categories/books/index.html", 0);
    // Selected: the notes whose categories link to Books, not the template; sorted by year,
    // newest first; formulas computed per row; an unrated book shows the formula's else.
    assert_eq!(
        table_rows(&view),
        [
            "The Dispossessed|Ursula K. Le Guin|1974|50|★★★★",
            "A Wizard of Earthsea|Ursula K. Le Guin|1968|56|★★★★★",
            "Dune|Frank Herbert|1965|59|unrated",
        ],
        "{view}"
    );
    // Column titles from `properties` (displayName), else the property's name.
    assert!(
        view.contains("<th scope=\"col\">Title</th><th scope=\"col\">Author</th><th scope=\"col\">year</th><th scope=\"col\">Years old</th><th scope=\"col\">Stars</th>"),
        "{view}"
    );
    assert!(view.contains("<span class=\"count\">3</span>"), "{view}");
    // Names link to the notes' pages, relative to this page; a property link to a note that
    // does not exist is shown as a wanted name, not a dead link.
    assert!(
        view.contains("<a class=\"internal\" href=\"../../books/the-dispossessed/index.html\">The Dispossessed</a>"),
        "{view}"
    );
    assert!(
        view.contains("<a class=\"internal\" href=\"../../people/ursula-k-le-guin/index.html\">Ursula K. Le Guin</a>"),
        "{view}"
    );
    assert!(
        view.contains("<span class=\"internal wanted\">Frank Herbert</span>"),
        "{view}"
    );
    insta::assert_snapshot!("books_table", view);
}

#[test]
fn this_is_the_note_that_embeds_the_base() {
    let (_dir, site) = built_fixture();
    let view = base_view(&site, "people/ursula-k-le-guin/index.html", 0);
    // `list(author).contains(this)`: only her books, oldest first as the view sorts them.
    assert_eq!(
        table_rows(&view),
        ["A Wizard of Earthsea|1968", "The Dispossessed|1974"],
        "{view}"
    );
    assert!(
        view.contains("<span class=\"base-name\">By author</span>"),
        "{view}"
    );
}

#[test]
fn a_table_sums_up_its_columns_under_the_rows_or_atop_each_group() {
    let (_dir, site) = built_fixture();
    let totals = base_view(&site, "categories/books/index.html", 2);
    // Without groups: the rows, then one summary row in `<tfoot>`, a cell per column, empty
    // where the view sums nothing up; a built-in summary (`Average` of `note.rating` over the
    // column `rating`, `Unique`, `Range` of a formula) or the base's own (`Decades`, over
    // `values`).
    assert_eq!(
        table_rows(&totals),
        [
            "A Wizard of Earthsea|1968|5|Ursula K. Le Guin|56",
            "Dune|1965||Frank Herbert|59",
            "The Dispossessed|1974|4|Ursula K. Le Guin|50",
            "|Decades 1960, 1970|Average 4.5|Unique 2|Range 9",
        ],
        "{totals}"
    );
    assert!(
        totals.contains("</tbody><tfoot><tr class=\"base-summary\"><td></td><td><span class=\"base-summary-name\">Decades</span> <span class=\"base-summary-value\">1960, 1970</span></td>"),
        "{totals}"
    );
    // Grouped: each group's summary comes first, over that group's rows only.
    let by_decade = base_view(&site, "categories/books/index.html", 3);
    assert_eq!(
        table_rows(&by_decade),
        [
            "group 1960s",
            "|Min 1965|Filled 1",
            "Dune|1965|",
            "A Wizard of Earthsea|1968|5",
            "group 1970s",
            "|Min 1974|Filled 1",
            "The Dispossessed|1974|4",
        ],
        "{by_decade}"
    );
    assert!(!by_decade.contains("<tfoot>"), "{by_decade}");
    // A view without summaries has no summary row.
    let books = base_view(&site, "categories/books/index.html", 0);
    assert!(
        !books.contains("base-summary") && !books.contains("<tfoot"),
        "{books}"
    );
}

#[test]
fn cards_show_their_image_and_lists_their_groups() {
    let (_dir, site) = built_fixture();
    let cards = base_view(&site, "categories/books/index.html", 1);
    assert!(
        cards.contains("<div class=\"base-view base-cards\">"),
        "{cards}"
    );
    // The card's image is the attachment the `cover` property links to, copied into the site.
    assert!(
        cards.contains("<img class=\"base-card-image\" src=\"../../attachments/earthsea.png\""),
        "{cards}"
    );
    assert!(site.join("attachments/earthsea.png").is_file());
    assert_eq!(
        cards.matches("<li class=\"base-card\">").count(),
        3,
        "{cards}"
    );
    assert_eq!(
        cards.matches("<img").count(),
        1,
        "only one book has a cover: {cards}"
    );
    // The list view groups by decade, newest group first, names in order within a group.
    let html = std::fs::read_to_string(site.join("categories/books/index.html")).unwrap();
    assert!(
        !html.contains("By decade"),
        "a plain embed shows the first view only"
    );
    let (_dir2, _vault, list_site) = built_vault(&[
        (
            "Bases/Books.base",
            &std::fs::read_to_string(fixture("bases").join("Bases/Books.base")).unwrap(),
        ),
        ("Decades.md", "![[Books.base#By decade]]\n"),
        ("Books.md", "# Books\n"),
        (
            "Dune.md",
            "---\ncategories: [\"[[Books]]\"]\ndecade: 1960s\n---\n",
        ),
        (
            "Earthsea.md",
            "---\ncategories: [\"[[Books]]\"]\ndecade: 1960s\n---\n",
        ),
        (
            "Dispossessed.md",
            "---\ncategories: [\"[[Books]]\"]\ndecade: 1970s\n---\n",
        ),
    ]);
    let list = base_view(&list_site, "decades/index.html", 0);
    let order: Vec<String> = list
        .split("<p class=\"base-group\">")
        .skip(1)
        .map(text_of)
        .collect();
    assert_eq!(order, ["1970sDispossessed", "1960sDuneEarthsea"], "{list}");
}

#[test]
fn a_base_that_cannot_be_read_is_a_warning_at_its_place() {
    let vault = fixture("every-code");
    let (v, _) = check_json(&vault);
    let d = assert_diag(&v, "invalid-base", "Broken.base", 3, 29);
    assert_eq!(d["severity"], "warning", "{}", show_diag(d));
    // A base that reads and evaluates cleanly says nothing.
    let (v, code) = check_json(&fixture("bases"));
    assert_no_code(&v, "invalid-base");
    assert_eq!(code, 0, "{}", show_diags(&v));
}

#[test]
fn a_formula_that_fails_is_reported_once_with_the_file_it_failed_for() {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("vault");
    std::fs::create_dir_all(&vault).unwrap();
    std::fs::write(
        vault.join("B.base"),
        "formulas:\n  Bad: nosuchfunction(year)\nviews:\n  - type: table\n    order: [file.name, formula.Bad]\n",
    )
    .unwrap();
    std::fs::write(vault.join("A.md"), "![[B.base]]\n").unwrap();
    std::fs::write(vault.join("C.md"), "[[A]]\n").unwrap();
    let (v, _) = check_json(&vault);
    let bad = diags_with_code(&v, "invalid-base");
    assert_eq!(bad.len(), 1, "{}", show_diags(&v));
    assert_eq!(bad[0]["file"], "B.base");
    assert_eq!(bad[0]["line"], 2, "{}", show_diag(bad[0]));
    let message = bad[0]["message"].as_str().unwrap();
    assert!(message.contains("nosuchfunction"), "{message}");
    // The page still shows every row, the failing cells empty.
    let site = dir.path().join("site");
    build(&vault, &site).assert_code(0);
    let view = base_view(&site, "a/index.html", 0);
    // With no filter a base lists every file, itself included.
    assert_eq!(table_rows(&view), ["A|", "B.base|", "C|"], "{view}");
}

/// A page that shows a base changes when any note changes what the base selects: a session
/// rebuilds it and ends equal to a full build, after an edit of a listed note, of the base
/// itself, and of a note that joins the base.
#[test]
fn a_session_keeps_base_views_up_to_date() {
    let base = "Bases/Books.base";
    let edits: [(&str, &dyn Fn(String) -> String); 3] = [
        ("Books/Dune.md", &|t| t.replace("year: 1965", "year: 1999")),
        (base, &|t| {
            t.replace(
                "direction: DESC\n  - type: table",
                "direction: ASC\n  - type: table",
            )
        }),
        ("Books/Reading notes.md", &|t| {
            t.replace("[[People]]", "[[Books]]")
        }),
    ];
    let first_rows = [
        "Dune|Frank Herbert|1999",
        "A Wizard of Earthsea|Ursula K. Le Guin|1968",
        "Reading notes|||",
    ];
    session_edits("bases", &edits, |step, served, tracked| {
        // Notes are rebuilt by tracking (with every page that shows a base); a changed base
        // file builds the whole vault.
        assert_eq!(tracked, edits[step].0 != base, "step {step}");
        let rows = table_rows(&base_view(served, "categories/books/index.html", 0));
        let first = first_rows[step];
        assert!(
            rows.iter().any(|r| r.starts_with(first)),
            "step {step}: no row {first:?} in {rows:?}"
        );
    });
}

#[test]
fn views_that_read_this_differ_by_page_and_hidden_notes_stay_hidden() {
    let base = "views:\n  - type: table\n    name: Here\n    filters:\n      and:\n        - file.hasLink(this)\n    order: [file.name]\n  - type: table\n    name: All\n    order: [file.name, formula.Back]\nformulas:\n  Back: file.backlinks\n";
    // The same notes with the base as written and with it written so no narrowing applies.
    let vault_with = |base: &str| {
        built_vault(&[
            ("Links.base", base),
            (
                "A.md",
                "# Top\n\n![[Links.base]]\n\n![[Links.base#All]]\n\nBack to [[#Top]].\n",
            ),
            ("B.md", "![[Links.base]]\n\n![[Links.base#All]]\n"),
            ("C.md", "[[A]]\n"),
            ("D.md", "[[B]] [[A]]\n"),
            ("Secret.md", "---\npublish: false\n---\n[[B]]\n"),
        ])
    };
    let (_dir, _vault, site) = vault_with(base);
    let here = |page: &str| table_rows(&base_view(&site, page, 0));
    // A links to its own heading: it links to itself.
    assert_eq!(here("a/index.html"), ["A", "C", "D"]);
    assert_eq!(
        here("b/index.html"),
        ["D"],
        "the hidden note links B but is no row"
    );
    let all_a = base_view(&site, "a/index.html", 1);
    let all_b = base_view(&site, "b/index.html", 1);
    // Both pages are as deep in the site, so the same rows make the same bytes.
    assert_eq!(all_a, all_b, "one result for every page");
    // `file.hasLink(this)` looks only at the notes linking to `this`: the same rows as the
    // statement written another way, which looks at every file.
    let (_dir2, _vault2, site2) =
        vault_with(&base.replace("file.hasLink(this)", "(file.hasLink(this) && true)"));
    for page in ["a/index.html", "b/index.html"] {
        assert_eq!(
            table_rows(&base_view(&site2, page, 0)),
            here(page),
            "{page}"
        );
    }
    assert!(!all_a.contains("Secret"), "{all_a}");
    // B's backlinks are D and the hidden note: only D is named.
    let rows = table_rows(&all_a);
    assert!(rows.contains(&"B|D".to_string()), "{rows:?}");
    assert!(rows.contains(&"A|C, D".to_string()), "{rows:?}");
}

/// A ` ```base ` block in a note is a base too: the page shows its first view, with `this`
/// the note; its problems point into the note, at their line.
#[test]
fn a_base_block_in_a_note_shows_its_view() {
    let (_dir, site) = built_fixture();
    let view = base_view(&site, "books/shelf/index.html", 0);
    assert!(
        view.contains("<div class=\"base-view base-list\">"),
        "{view}"
    );
    assert!(
        view.contains(
            "<span class=\"base-name\">Linking here</span> <span class=\"count\">1</span>"
        ),
        "{view}"
    );
    assert!(
        view.contains("<li><a class=\"internal\" href=\"../../books/dune/index.html\">Dune</a><dl class=\"base-fields\"><dt>year</dt><dd>1965</dd></dl></li>"),
        "{view}"
    );
    let html = std::fs::read_to_string(site.join("books/shelf/index.html")).unwrap();
    assert!(!html.contains("hasLink"), "the YAML is not shown as code");

    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("vault");
    std::fs::create_dir_all(&vault).unwrap();
    std::fs::write(
        vault.join("Note.md"),
        "# Note\n\n```base\nfilters:\n  and:\n    - file.name.contains(\"a\"\nviews:\n  - type: table\n```\n\n```base\nviews: [\n```\n",
    )
    .unwrap();
    let (v, _) = check_json(&vault);
    let bad = diags_with_code(&v, "invalid-base");
    assert_eq!(bad.len(), 2, "{}", show_diags(&v));
    assert_eq!(
        (&bad[0]["file"], &bad[0]["line"]),
        (&"Note.md".into(), &6.into()),
        "{}",
        show_diag(bad[0])
    );
    assert!(
        bad[0]["column"].as_u64().unwrap() >= 7,
        "{}",
        show_diag(bad[0])
    );
    assert_eq!(
        (&bad[1]["file"], &bad[1]["line"]),
        (&"Note.md".into(), &12.into()),
        "{}",
        show_diag(bad[1])
    );
}

/// A card's image may be a link, a vault path or a web address; anything else shows none.
#[test]
fn a_card_image_may_be_a_link_a_path_or_a_web_address() {
    let base = "views:\n  - type: cards\n    name: Cards\n    image: pic\n    filters: 'file.ext == \"md\"'\n    sort:\n      - property: file.name\n";
    let (_dir, _vault, site) = built_vault(&[
        ("B.base", base),
        ("Cards.md", "![[B.base]]\n"),
        ("img/a.png", "not really a png"),
        ("Link.md", "---\npic: \"[[a.png]]\"\n---\n[[Cards]]\n"),
        ("Path.md", "---\npic: img/a.png\n---\n[[Cards]]\n"),
        (
            "Web.md",
            "---\npic: https://example.org/x.png\n---\n[[Cards]]\n",
        ),
        ("None.md", "---\npic: no such file\n---\n[[Cards]]\n"),
    ]);
    let view = base_view(&site, "cards/index.html", 0);
    let images: Vec<&str> = view
        .split("<img class=\"base-card-image\" src=\"")
        .skip(1)
        .map(|s| &s[..s.find('"').unwrap()])
        .collect();
    // Cards, Link, None, Path, Web: by name.
    assert_eq!(
        images,
        ["../img/a.png", "../img/a.png", "https://example.org/x.png"],
        "{view}"
    );
    assert_eq!(
        view.matches("<li class=\"base-card\">").count(),
        5,
        "{view}"
    );
}

#[test]
fn file_times_and_sizes_come_from_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("vault");
    std::fs::create_dir(&vault).unwrap();
    let files: &[(&str, &[u8], u64)] = &[
        // (path, bytes, modified: seconds since the epoch)
        (
            "Recent.base",
            b"filters:\n  and:\n    - file.mtime > date(\"2020-01-01\")\nviews:\n  - type: table\n    name: Recent\n    order: [file.name, file.mtime, file.size]\n    sort:\n      - property: file.mtime\n        direction: DESC\n",
            1_600_000_000,
        ),
        ("Home.md", b"![[Recent.base]]\n", 1_650_000_000),
        ("Old.md", b"Written long ago.\n", 1_500_000_000),
        ("Older.md", b"Written longer ago.\n", 1_000_000_000),
        ("pic.png", b"\x89PNG", 1_700_000_000),
    ];
    for (path, bytes, modified) in files {
        let file = vault.join(path);
        std::fs::write(&file, bytes).unwrap();
        let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(*modified);
        std::fs::File::options()
            .write(true)
            .open(&file)
            .and_then(|f| f.set_modified(time))
            .unwrap();
    }
    let site = dir.path().join("site");
    build(&vault, &site).assert_code(0);
    // Newest first; an attachment's size is its bytes on disk, a note's its text's.
    let base_size = files[0].1.len();
    assert_eq!(
        table_rows(&base_view(&site, "home/index.html", 0)),
        [
            "pic.png|2023-11-14 22:13:20|4".to_string(),
            "Home|2022-04-15 05:20:00|17".to_string(),
            format!("Recent.base|2020-09-13 12:26:40|{base_size}"),
        ],
    );
    // A reproducible build (`SOURCE_DATE_EPOCH`) shows no time after its clock: later
    // times are clamped to it, as reproducible builds clamp the mtimes they write.
    let clamped = dir.path().join("clamped");
    run_cmd(
        vaultc()
            .env("SOURCE_DATE_EPOCH", "1600000000")
            .args(["build", "-q", "-o"])
            .arg(&clamped)
            .arg(&vault),
    )
    .assert_code(0);
    assert_eq!(
        table_rows(&base_view(&clamped, "home/index.html", 0)),
        [
            "Home|2020-09-13 12:26:40|17".to_string(),
            format!("Recent.base|2020-09-13 12:26:40|{base_size}"),
            "pic.png|2020-09-13 12:26:40|4".to_string(),
        ],
        "equal times keep the files' order"
    );
}
