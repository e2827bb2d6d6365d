//! Parser tests: one note text in, links/headings/blocks/tags out.

use super::*;
use crate::source::VaultPath;
use crate::vault::{Fragment, LinkKind};

fn parse(text: &str) -> (Note, Vec<Diagnostic>) {
    note(SourceFile {
        path: VaultPath::new("dir/n.md").unwrap(),
        text: text.to_string(),
        is_template: false,
    })
}

fn targets(text: &str) -> Vec<String> {
    parse(text)
        .0
        .links
        .iter()
        .map(|l| l.target.clone())
        .collect()
}

#[test]
fn wikilink_forms_and_spans() {
    let text =
        "a [[One]] b [[Two|label]] ![[img.png|100x20]] [[#Local]] [[Three#H1#H2]] [[Four#^blk]]";
    let (n, diags) = parse(text);
    assert!(diags.is_empty(), "{diags:?}");
    let l = &n.links;
    assert_eq!(l.len(), 6);
    assert_eq!(&text[l[0].span.range()], "[[One]]");
    assert_eq!(
        (l[1].target.as_str(), l[1].label.as_deref()),
        ("Two", Some("label"))
    );
    assert_eq!(l[2].kind, LinkKind::Embed);
    assert_eq!(&text[l[2].span.range()], "![[img.png|100x20]]");
    assert_eq!(l[3].target, "");
    assert_eq!(l[3].fragment, Some(Fragment::Heading(vec!["Local".into()])));
    assert_eq!(
        l[4].fragment,
        Some(Fragment::Heading(vec!["H1".into(), "H2".into()]))
    );
    assert_eq!(l[5].fragment, Some(Fragment::Block("blk".into())));
}

#[test]
fn code_math_html_and_comments_hold_no_links() {
    let text = "`[[a]]`\n\n```\n[[b]]\n```\n\n    [[c]]\n\n$[[d]]$\n\n<div>\n[[e]]\n</div>\n\n%% [[f]] %% [[real]]\n\n%%\n[[g]]\n%%\n";
    assert_eq!(targets(text), vec!["real"]);
}

#[test]
fn a_comment_at_line_start_does_not_indent_the_rest() {
    assert_eq!(targets("%% hidden %% [[shown]]\n"), vec!["shown"]);
    let (n, _) = parse("text %% #hidden [[no]] %% #shown\n");
    assert_eq!(n.tags.len(), 1);
    assert!(n.links.is_empty());
}

#[test]
fn comment_markers_inside_code_do_not_open_comments() {
    let text = "`%%` [[one]] ```%%``` [[two]]\n";
    assert_eq!(targets(text), vec!["one", "two"]);
    assert!(comment_ranges(text, 0).is_empty());
}

#[test]
fn unclosed_comment_runs_to_the_end() {
    assert_eq!(targets("[[a]] %% [[b]]\n\n[[c]]"), vec!["a"]);
}

#[test]
fn escaped_pipe_in_table_and_empty_label() {
    let text = "| a | b |\n|---|---|\n| [[Note\\|lab]] | c |\n\n[[x|]]\n";
    let (n, _) = parse(text);
    assert_eq!(n.links[0].target, "Note");
    assert_eq!(n.links[0].label.as_deref(), Some("lab"));
    assert_eq!(n.links[1].label, None);
}

#[test]
fn newline_targets_and_empty_links_are_not_links() {
    let (n, diags) = parse("[[a\nb]] and [[]] and [[ ]]");
    assert!(n.links.is_empty());
    let codes: Vec<_> = diags.iter().map(|d| d.code).collect();
    assert_eq!(codes, vec![Code::EmptyLink, Code::EmptyLink]);
}

#[test]
fn escaped_wikilinks_get_a_fix() {
    let text = "### 1 \\[\\[concepts/x|Algorithms]]\n`\\[\\[in code]]`\n";
    let (n, diags) = parse(text);
    assert!(n.links.is_empty());
    assert_eq!(diags.len(), 1);
    let fix = diags[0].fix.as_ref().unwrap();
    assert_eq!(&text[fix.span.range()], "\\[\\[concepts/x|Algorithms]]");
    assert_eq!(fix.replacement, "[[concepts/x|Algorithms]]");
}

#[test]
fn markdown_links_local_only() {
    let text = "[a](My%20Note.md#Head) [b](<Other Note.md>) [c](https://x.y/z.md) ![i](pics/a.png) [d](#Local)";
    let (n, _) = parse(text);
    let got: Vec<_> = n
        .links
        .iter()
        .map(|l| (l.kind, l.target.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (LinkKind::Markdown, "My Note"),
            (LinkKind::Markdown, "Other Note.md"),
            (LinkKind::Embed, "pics/a.png"),
            (LinkKind::Markdown, ""),
        ]
        .into_iter()
        .map(|(k, t)| (k, if t == "My Note" { "My Note.md" } else { t }))
        .collect::<Vec<_>>()
    );
}

#[test]
fn headings_get_unique_readable_anchors() {
    let (n, _) = parse("# Title\n## Intro\n## Intro\n## 多模態 模型\nSetext\n---\n");
    let anchors: Vec<_> = n.headings.iter().map(|h| h.anchor.as_str()).collect();
    assert_eq!(
        anchors,
        vec!["title", "intro", "intro-2", "多模態-模型", "setext"]
    );
    assert_eq!(n.title, "Title");
}

#[test]
fn title_prefers_front_matter_then_h1_then_file_name() {
    assert_eq!(parse("---\ntitle: FM\n---\n# H1\n").0.title, "FM");
    assert_eq!(parse("## not h1\n").0.title, "n");
    // A first H1's highlight marks are not part of the title; its heading keeps them (links
    // to it are matched against what was written).
    let (n, _) = parse("# A ==marked== word\n");
    assert_eq!(n.title, "A marked word");
    assert_eq!(n.headings[0].text, "A ==marked== word");
}

#[test]
fn block_ids_on_paragraphs_items_and_after_lists() {
    let text = "Para one ^p1\n\n- item ^i1\n- two\n\n^list1\n\n![[img.png]]^img\n";
    let (n, _) = parse(text);
    let ids: Vec<_> = n.blocks.iter().map(|b| b.id.as_str()).collect();
    assert_eq!(ids, vec!["p1", "i1", "list1", "img"]);
    assert_eq!(&text[n.blocks[0].span.range()].trim(), &"Para one ^p1");
    assert!(text[n.blocks[1].span.range()].starts_with("- item"));
    assert!(
        text[n.blocks[2].span.range()].starts_with("- item"),
        "lone ^id names the list before"
    );
    assert_eq!(&text[n.blocks[0].marker.range()], " ^p1");
}

#[test]
fn tags_inline_and_front_matter() {
    let (n, _) = parse("---\ntags: [a, b/c]\n---\ntext #d and `#code` [[x#notatag]]\n");
    let names: Vec<_> = n.tags.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, vec!["a", "b/c", "d"]);
}

#[test]
fn front_matter_is_masked_and_links_are_property_links() {
    let text = "---\nrelated: \"[[A]]\"\n---\n[[B]]\n";
    let (n, _) = parse(text);
    let kinds: Vec<_> = n
        .links
        .iter()
        .map(|l| (l.kind, l.target.as_str()))
        .collect();
    assert_eq!(
        kinds,
        vec![(LinkKind::Property, "A"), (LinkKind::Wiki, "B")]
    );
}

#[test]
fn front_matter_and_comments_keep_offsets() {
    let text = "---\na: 1\n---\nx %% c %% y";
    let (n, _) = parse(text);
    assert_eq!(n.body_start, 13);
    assert_eq!(comment_ranges(text, 13), vec![15..22]);
}

/// The sweeps that find the ranges around block ids answer as scans of every range do, for
/// ranges in any order (nested, overlapping, equal, empty) and rising offsets.
#[test]
fn block_id_sweeps_equal_scans() {
    let mut rng = crate::source::xorshift(0xb10c);
    for round in 0..200 {
        let ranges: Vec<Range<usize>> = (0..rng(40))
            .map(|_| {
                let start = rng(100);
                start..start + rng(30)
            })
            .collect();
        let mut innermost = Holding::new(&ranges, |r| r.end - r.start);
        let mut first = Holding::new(&ranges, |_| 0);
        let mut ending = EndingBy::new(&ranges);
        let mut at = 0;
        while at < 140 {
            let smallest = ranges
                .iter()
                .filter(|r| r.start <= at && at < r.end)
                .min_by_key(|r| r.end - r.start);
            let own = ranges.iter().find(|r| r.start <= at && at < r.end);
            let before = ranges.iter().rev().find(|r| r.end <= at);
            assert_eq!(
                innermost.first_holding(at),
                smallest,
                "round {round} at {at}"
            );
            assert_eq!(first.first_holding(at), own, "round {round} at {at}");
            assert_eq!(ending.last_ending_by(at), before, "round {round} at {at}");
            at += rng(4);
        }
    }
}

/// A note of thousands of block ids gets the same blocks as short notes of each do.
#[test]
fn many_block_ids_each_name_their_own_block() {
    let mut text = String::new();
    for i in 0..3000 {
        text.push_str(&format!("- item {i} ^i{i}\n"));
    }
    text.push_str("\n| a |\n|---|\n| b |\n\n^table\n\npara ^p\n");
    let (n, diags) = parse(&text);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(n.blocks.len(), 3002);
    for (i, b) in n.blocks[..3000].iter().enumerate() {
        assert_eq!(b.id, format!("i{i}"));
        assert_eq!(text[b.span.range()].trim_end(), format!("- item {i} ^i{i}"));
    }
    assert!(text[n.blocks[3000].span.range()].starts_with("| a |"));
    assert_eq!(&text[n.blocks[3001].span.range()], "para ^p\n");
}

/// A block id in a nested list item names that item, not the items around it: the smallest
/// paragraph or item holding the id.
#[test]
fn a_block_id_names_its_innermost_item() {
    let text = "- outer\n  - middle\n    - inner ^in\n  - after ^af\n- last\n\n> quote ^q\n";
    let (n, _) = parse(text);
    let named = |id: &str| {
        let b = n.blocks.iter().find(|b| b.id == id).unwrap();
        text[b.span.range()].trim_end().to_string()
    };
    assert_eq!(named("in"), "- inner ^in");
    assert_eq!(named("af"), "- after ^af");
    assert_eq!(named("q"), "quote ^q");
}
