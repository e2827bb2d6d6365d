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
fn a_canvas_that_is_not_json_shows_nothing_and_says_where() {
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
    let view = canvas_view(&site, "a/index.html");
    assert_eq!(
        view,
        "<div class=\"embed embed-canvas\" data-src=\"Bad.canvas\"><div class=\"canvas-view\"></div></div>"
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
        let view = canvas_view(served, "home/index.html");
        assert!(
            view.contains(shown[step]),
            "step {step}: {} not in {view}",
            shown[step]
        );
    });
}
