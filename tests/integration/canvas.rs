//! Obsidian canvases: a note that embeds a `.canvas` file shows its cards where the canvas
//! places them (text as markdown with links resolved from the canvas's folder, a note's section,
//! an image), groups behind them and the arrows between them; what cannot be shown is an
//! `invalid-canvas` warning at its place in the file; a session keeps such pages up to date.

use std::path::Path;

use crate::support::*;

/// The embedded canvas of a built page.
fn canvas_view(site: &Path, page: &str) -> String {
    nth_div(site, page, "<div class=\"embed embed-canvas\"", 0)
}

/// The opening tag of the element whose class list starts with `class`, and its content up
/// to the next card (or the end).
fn card<'a>(view: &'a str, class: &str, containing: &str) -> &'a str {
    view.match_indices(&format!("<div class=\"{class}"))
        .map(|(at, _)| {
            let rest = &view[at..];
            let end = rest[1..]
                .find("<div class=\"canvas-node")
                .map_or(rest.len(), |i| i + 1);
            &rest[..end]
        })
        .find(|c| c.contains(containing))
        .unwrap_or_else(|| panic!("no {class} card with {containing:?} in\n{view}"))
}

#[test]
fn an_embedded_canvas_shows_its_cards_in_place_with_arrows_between() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    build(&fixture("canvas"), &site).assert_code(0);
    let view = canvas_view(&site, "home/index.html");
    // The plane spans every card (from -40,-60 to 660,490) and 24 pixels around; each card
    // sits at its place relative to the plane's corner.
    assert!(
        view.contains("<div class=\"canvas-plane\" style=\"width:748px;height:598px\">"),
        "{view}"
    );
    let idea = card(&view, "canvas-node canvas-text", "Idea");
    assert!(
        idea.starts_with("<div class=\"canvas-node canvas-text canvas-color-1\" style=\"left:64px;top:84px;width:300px;height:240px\">"),
        "{idea}"
    );
    // Markdown, with wikilinks resolved from the canvas's folder (`[[Target]]` is the note
    // beside it, not the one in Notes/), a heading link to its anchor, a missing note as a
    // wanted name, web links kept, a `javascript:` link not followed, raw HTML as text.
    for expected in [
        "<h2>Idea</h2>",
        "<a class=\"internal\" href=\"../plans/target/index.html\">Target</a>",
        "<a class=\"internal\" href=\"../notes/target/index.html#part-two\">part two</a>",
        "<a class=\"internal wanted\">Nowhere</a>",
        "<a class=\"external\" href=\"https://example.com\">the web</a>",
        "<a class=\"external\" href=\"mailto:team@example.com\">team@example.com</a>",
        "&lt;b&gt;raw&lt;/b&gt;",
    ] {
        assert!(idea.contains(expected), "{expected} in {idea}");
    }
    assert!(!view.contains("javascript:"), "{view}");
    // A file card shows the note's section the subpath names, under a title linking there;
    // a hex colour is a style.
    let section = card(&view, "canvas-node canvas-file", "Part two");
    assert!(
        section.contains(
            "style=\"--canvas-color:#3366ff;left:424px;top:84px;width:260px;height:200px\""
        ),
        "{section}"
    );
    assert!(
        section.contains(
            "<a class=\"internal\" href=\"../notes/target/index.html#part-two\">Target</a>"
        ),
        "{section}"
    );
    assert!(section.contains("Shown in the card."), "{section}");
    assert!(
        !section.contains("left out of the card") && !section.contains("Not in the card"),
        "only the section: {section}"
    );
    // An image card, a card for a file the vault does not have, a web link card.
    assert!(
        card(&view, "canvas-node canvas-file", "<img").contains("<img src=\"../media/pic.png\""),
        "{view}"
    );
    assert!(
        card(&view, "canvas-node canvas-file", "not found").contains("not found: Notes/Gone.md"),
        "{view}"
    );
    assert!(
        card(&view, "canvas-node canvas-link", "jsoncanvas")
            .contains("<a class=\"external\" href=\"https://jsoncanvas.org\">"),
        "{view}"
    );
    // The group is behind the cards, its label on it; the node that could not be placed is
    // left out, and so is the arrow to it.
    let group = view
        .find("<div class=\"canvas-group canvas-color-4\"")
        .expect("group");
    let svg = view.find("<svg class=\"canvas-edges\"").expect("edges");
    let first_card = view.find("<div class=\"canvas-node").expect("cards");
    assert!(group < svg && svg < first_card, "{view}");
    assert!(view.contains("<span class=\"canvas-group-label\">Sources</span>"));
    assert!(!view.contains("no place to be"), "{view}");
    assert_eq!(
        view.matches("<path class=\"canvas-edge").count(),
        2,
        "{view}"
    );
    // right side of `idea` (364, 204) to the left side of `card` (424, 184), with an arrow;
    // a coloured edge without one.
    assert!(
        view.contains("<path class=\"canvas-edge\" d=\"M364,204 C396,204 392,184 424,184\" marker-end=\"url(#canvas-arrow-1)\"/><text class=\"canvas-edge-label\" x=\"394\" y=\"194\" text-anchor=\"middle\">details</text>"),
        "{view}"
    );
    assert!(
        view.contains(
            "<path class=\"canvas-edge canvas-color-6\" d=\"M214,324 C214,416 124,392 124,484\"/>"
        ),
        "{view}"
    );
    insta::assert_snapshot!("board", view);
}

#[test]
fn what_a_canvas_cannot_show_is_a_warning_at_its_place() {
    let (v, code) = check_json(&fixture("canvas"));
    assert_eq!(code, 0, "warnings only: {}", show_diags(&v));
    let found = diags_with_code(&v, "invalid-canvas");
    assert_eq!(found.len(), 3, "{}", show_diags(&v));
    // A text card's link to a missing note, at `[[Nowhere]]` in the JSON string; the links
    // that reach something, the web link and the `javascript:` one are not reported.
    let nowhere = assert_diag(&v, "invalid-canvas", "Plans/Board.canvas", 4, 101);
    assert_eq!(
        nowhere["message"],
        "card \"idea\" links to \"Nowhere\", which the vault does not have"
    );
    let gone = assert_diag(&v, "invalid-canvas", "Plans/Board.canvas", 7, 37);
    assert_eq!(
        gone["message"],
        "file card \"gone\" shows \"Notes/Gone.md\", which the vault does not have"
    );
    let lost = assert_diag(&v, "invalid-canvas", "Plans/Board.canvas", 9, 9);
    assert_eq!(
        lost["message"],
        "node \"lost\" is left out: `x` is not a number"
    );
}

#[test]
fn a_canvas_that_is_not_json_says_why_where_it_would_be_and_where_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("vault");
    std::fs::create_dir(&vault).unwrap();
    std::fs::write(vault.join("A.md"), "![[Bad.canvas]]\n").unwrap();
    std::fs::write(
        vault.join("Bad.canvas"),
        "{\n  \"nodes\": [\n    {\"id\": \"x\",,}\n  ]\n}\n",
    )
    .unwrap();
    let (v, _) = check_json(&vault);
    let d = assert_diag(&v, "invalid-canvas", "Bad.canvas", 3, 16);
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .starts_with("canvas is not valid JSON"),
        "{}",
        show_diag(d)
    );
    let site = dir.path().join("site");
    build(&vault, &site).assert_code(0);
    // The embed and the canvas's own page both say why there is nothing to draw; the embed
    // is titled with a link to that page.
    let why = d["message"].as_str().unwrap();
    for (page, title) in [
        (
            "a/index.html",
            "<div class=\"embed-title\"><a class=\"internal canvas\" href=\"../bad-canvas/index.html\">Bad</a></div>",
        ),
        ("bad-canvas/index.html", ""),
    ] {
        assert_eq!(
            canvas_view(&site, page),
            format!(
                "<div class=\"embed embed-canvas\" data-src=\"Bad.canvas\">{title}<div class=\"canvas-view embed-error\">{why}</div></div>"
            ),
            "{page}"
        );
    }
    // An empty file is a canvas Obsidian has not written yet: an empty frame, no warning.
    std::fs::write(vault.join("Bad.canvas"), "").unwrap();
    let (v, _) = check_json(&vault);
    assert_no_code(&v, "invalid-canvas");
    build(&vault, &site).assert_code(0);
    assert_eq!(
        canvas_view(&site, "a/index.html"),
        "<div class=\"embed embed-canvas\" data-src=\"Bad.canvas\"><div class=\"embed-title\"><a class=\"internal canvas\" href=\"../bad-canvas/index.html\">Bad</a></div><div class=\"canvas-view\"></div></div>"
    );
}

#[test]
fn a_session_keeps_canvas_cards_up_to_date() {
    let board = "Plans/Board.canvas";
    let edits: [(&str, &dyn Fn(String) -> String); 2] = [
        ("Notes/Target.md", &|t| {
            t.replace("Shown in the card.", "Edited in the note.")
        }),
        (board, &|t| t.replace("## Idea", "## Better idea")),
    ];
    let shown = ["Edited in the note.", "<h2>Better idea</h2>"];
    session_edits("canvas", &edits, |step, served, tracked| {
        // A note is rebuilt by tracking (with every page that shows a canvas); a changed
        // canvas file builds the whole vault.
        assert_eq!(tracked, edits[step].0 != board, "step {step}");
        // The canvas's own page follows as the page embedding it does.
        for page in ["home/index.html", "plans/board-canvas/index.html"] {
            let view = canvas_view(served, page);
            assert!(
                view.contains(shown[step]),
                "step {step}, {page}: {} not in {view}",
                shown[step]
            );
        }
    });
}

/// A link to a canvas (a wikilink with or without a label, a markdown link) opens the canvas's
/// page, as Obsidian opens the canvas: the canvas drawn as an embed draws it, its links made
/// from its page's folder, and a link to its JSON. Its URL is its name and `-canvas`, so a
/// note of the same name keeps its own; a note that has that URL already makes the canvas's
/// page yield, with a warning.
#[test]
fn a_link_to_a_canvas_opens_its_page() {
    let board = r#"{"nodes": [{"id": "t", "type": "text", "text": "See [[Board]].", "x": 0, "y": 0, "width": 200, "height": 80}], "edges": []}"#;
    let (_dir, _, site) = built_vault(&[
        (
            "Home.md",
            "# Home\n\n[[Board.canvas]], [[Maps/Board.canvas|the board]], [md](Maps/Board.canvas).\n",
        ),
        ("Maps/Board.canvas", board),
        ("Maps/Board.md", "# Board\n\nThe note beside the canvas.\n"),
    ]);
    let home = std::fs::read_to_string(site.join("home/index.html")).unwrap();
    for label in ["Board.canvas", "the board", "md"] {
        let link = format!(
            "<a class=\"internal canvas\" href=\"../maps/board-canvas/index.html\">{label}</a>"
        );
        assert!(home.contains(&link), "{link} not in {home}");
    }
    let page = std::fs::read_to_string(site.join("maps/board-canvas/index.html")).unwrap();
    assert!(page.contains("<body class=\"page-canvas\""), "{page}");
    assert!(page.contains("<title>Board · vault</title>"), "{page}");
    assert!(
        page.contains(
            "<a class=\"canvas-source\" href=\"../../Maps/Board.canvas\">Maps/Board.canvas</a>"
        ),
        "{page}"
    );
    let view = canvas_view(&site, "maps/board-canvas/index.html");
    assert!(
        view.contains("<a class=\"internal\" href=\"../../maps/board/index.html\">Board</a>"),
        "the card's link, from the canvas's folder and the page's depth: {view}"
    );
    assert_eq!(
        std::fs::read_to_string(site.join("Maps/Board.canvas")).unwrap(),
        board,
        "the JSON is still copied"
    );
    assert!(std::fs::read_to_string(site.join("maps/board/index.html"))
        .unwrap()
        .contains("The note beside the canvas."));
    // The search index finds the canvas by its name and its words, and opens its page.
    let docs = search_docs(&site);
    let doc = docs
        .iter()
        .find(|d| d["path"] == "Maps/Board.canvas")
        .unwrap_or_else(|| panic!("{docs:?}"));
    assert_eq!(doc["title"], "Board");
    assert_eq!(doc["url"], "maps/board-canvas/index.html");
    assert_eq!(doc["excerpt"], "See Board.");
    assert_eq!(docs.len(), 3, "two notes and the canvas: {docs:?}");
    // The graph view's node of the canvas opens its page too.
    let js = std::fs::read_to_string(site.join("graph-data.js")).unwrap();
    let graph = js_assignment(&js, "VAULTC_GRAPH").expect("graph data");
    let node = graph["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["title"] == "Maps/Board.canvas")
        .unwrap_or_else(|| panic!("{graph}"));
    assert_eq!(node["kind"], "attachment");
    assert_eq!(node["url"], "maps/board-canvas/index.html");

    // A note whose page has the canvas's URL keeps it; the canvas's page is numbered.
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("vault");
    std::fs::create_dir_all(vault.join("Maps")).unwrap();
    std::fs::write(vault.join("Maps/Board.canvas"), board).unwrap();
    std::fs::write(vault.join("Maps/Board canvas.md"), "[[Board.canvas]]\n").unwrap();
    let (v, _) = check_json(&vault);
    let moved = assert_diag(&v, "slug-collision", "Maps/Board.canvas", 1, 1);
    assert_eq!(
        moved["message"],
        "the page URL \"maps/board-canvas/\" is already taken; this canvas's page is \"maps/board-canvas-2/\""
    );
    let site = dir.path().join("site");
    build(&vault, &site);
    let note = std::fs::read_to_string(site.join("maps/board-canvas/index.html")).unwrap();
    assert!(
        note.contains("<a class=\"internal canvas\" href=\"../../maps/board-canvas-2/index.html\">Board.canvas</a>"),
        "{note}"
    );
    assert!(site.join("maps/board-canvas-2/index.html").is_file());
}

/// The index lists each canvas in its folder's section, after the notes, opening its page; a
/// folder holding canvases alone has a section too, and counts them.
#[test]
fn the_index_lists_canvases_in_their_folders() {
    let board = r#"{"nodes": [], "edges": []}"#;
    let (_dir, _, site) = built_vault(&[
        ("Home.md", "# Home\n"),
        ("Maps/Note.md", "# Note\n"),
        ("Maps/Board.canvas", board),
        ("Boards/Only & <one>.canvas", board),
    ]);
    let index = std::fs::read_to_string(site.join("index.html")).unwrap();
    let section = |id: &str| -> String {
        let at = index
            .find(&format!(
                "<section class=\"folder folder-depth-1\" id=\"folder-{id}\">"
            ))
            .unwrap_or_else(|| panic!("no section {id}: {index}"));
        index[at..at + index[at..].find("</section>").unwrap()].to_string()
    };
    let maps = section("Maps");
    assert!(
        maps.contains("<span class=\"count\">2</span></h2>"),
        "{maps}"
    );
    let notes_end = maps
        .find("<ul class=\"canvas-list\">")
        .expect("canvases listed");
    assert!(
        maps[..notes_end].contains(">Note</a>"),
        "notes first: {maps}"
    );
    assert!(
        maps[notes_end..].contains(
            "<li><a class=\"canvas-entry\" href=\"maps/board-canvas/index.html\">Board</a></li>"
        ),
        "{maps}"
    );
    let boards = section("Boards");
    assert!(
        boards.contains(
            "<li><a class=\"canvas-entry\" href=\"boards/only-one-canvas/index.html\">Only &amp; &lt;one&gt;</a></li>"
        ),
        "{boards}"
    );
    assert!(
        !boards.contains("note-list") && !boards.contains("class=\"empty\""),
        "{boards}"
    );
    assert!(
        index.contains("<a href=\"#folder-Boards\">Boards</a> <span class=\"count\">1</span>"),
        "the folder list counts the canvas: {index}"
    );
    assert!(site.join("boards/only-one-canvas/index.html").is_file());
}
