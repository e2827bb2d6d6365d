//! The default theme's note and tag pages (`base.html` + `note.html` / `tag.html`) written
//! straight from their views, byte for byte what minijinja makes of those templates.
//!
//! Note pages are almost all of a site, and the template engine was about a fifth of their
//! cost (about 30 µs a page of walking the template, looking up fields and formatting); tag
//! pages list thousands of notes each, and turning every entry into template values was most
//! of theirs. When a theme overrides neither the page's template nor `base.html`
//! ([`super::theme::Theme::has_default`]), those pages are written here; any override goes
//! through minijinja as before. The templates stay the reference: the test
//! `default_note_and_tag_pages_equal_their_templates` renders every such page of several vaults
//! both ways and requires equal bytes, so a change to a template fails it until this file
//! follows.

use std::fmt::Write as _;

use super::context::{LinkView, NoteView, SiteView, TagView};
use super::html::push_escaped;

/// The note page of `note` on site `site`, appended to `out`.
pub fn note_page(out: &mut Vec<u8>, site: &SiteView, note: &NoteView) {
    append_text(out, |o| {
        let meta = note.description.filter(|d| !d.is_empty());
        write_page(o, site, "note", note.title, meta, |o| {
            write_note_content(o, &site.root, note)
        })
    });
}

/// The page of tag `tag` (whose page title is `title`, `#name`) on site `site`, appended to
/// `out`.
pub fn tag_page(out: &mut Vec<u8>, site: &SiteView, title: &str, tag: &TagView) {
    append_text(out, |o| {
        write_page(o, site, "tag", title, None, |o| {
            write_tag_content(o, &site.root, tag)
        })
    });
}

/// Runs `write` on `out` as text, in `out`'s own allocation (pages render into one reused
/// buffer per thread, which holds only what was written as text before).
fn append_text(out: &mut Vec<u8>, write: impl FnOnce(&mut String)) {
    match String::from_utf8(std::mem::take(out)) {
        Ok(mut text) => {
            write(&mut text);
            *out = text.into_bytes();
        }
        Err(not_text) => {
            let mut bytes = not_text.into_bytes();
            let mut page = String::new();
            write(&mut page);
            bytes.extend_from_slice(page.as_bytes());
            *out = bytes;
        }
    }
}

/// `base.html` for a page of `kind` titled `title`, with `meta` as the description of the
/// `meta` block and `content` writing the `content` block.
fn write_page(
    o: &mut String,
    site: &SiteView,
    kind: &str,
    title: &str,
    meta: Option<&str>,
    content: impl FnOnce(&mut String),
) {
    let root = site.root.as_str();
    let esc = |o: &mut String, s: &str| push_escaped(o, s);
    // `class="nav-x{% if page.kind ... %} active{% endif %}"`.
    let active = |on: bool| if on { " active" } else { "" };
    // base.html, up to the `meta` block.
    o.push_str("<!DOCTYPE html>\n<html lang=\"en\" data-root=\"");
    esc(o, root);
    o.push_str(
        "\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"color-scheme\" content=\"light dark\">\n<meta name=\"generator\" content=\"",
    );
    esc(o, site.generator);
    o.push_str("\">\n");
    // The page's `meta` block.
    if let Some(description) = meta {
        o.push_str("<meta name=\"description\" content=\"");
        esc(o, description);
        o.push_str("\">\n");
    }
    o.push_str("\n<title>");
    if !title.is_empty() && title != site.title {
        esc(o, title);
        o.push_str(" · ");
    }
    esc(o, site.title);
    o.push_str("</title>\n<link rel=\"stylesheet\" href=\"");
    esc(o, root);
    o.push_str("static/style.css\">\n\n</head>\n<body class=\"page-");
    esc(o, kind);
    o.push_str("\" data-root=\"");
    esc(o, root);
    o.push_str(
        "\">\n<a class=\"skip-link\" href=\"#main\">Skip to content</a>\n\
         <header class=\"site-header\">\n  <div class=\"header-inner\">\n    \
         <a class=\"site-title\" href=\"",
    );
    esc(o, root);
    o.push_str("index.html\">");
    esc(o, site.title);
    o.push_str(
        "</a>\n    <div class=\"search\" role=\"search\">\n      \
         <label class=\"visually-hidden\" for=\"search-input\">Search notes</label>\n      \
         <input type=\"search\" id=\"search-input\" class=\"search-input\" placeholder=\"Search…  /\" \
         autocomplete=\"off\" spellcheck=\"false\"\n             role=\"combobox\" \
         aria-autocomplete=\"list\" aria-expanded=\"false\" aria-controls=\"search-results\">\n      \
         <ul id=\"search-results\" class=\"search-results\" role=\"listbox\" \
         aria-label=\"Search results\" hidden></ul>\n    </div>\n    \
         <nav class=\"site-nav\" aria-label=\"Site\">\n      <a class=\"nav-tags",
    );
    o.push_str(active(matches!(kind, "tags" | "tag")));
    o.push_str("\" href=\"");
    esc(o, root);
    o.push_str("tags/index.html\">Tags</a>\n      <a class=\"nav-wanted");
    o.push_str(active(kind == "wanted"));
    o.push_str("\" href=\"");
    esc(o, root);
    o.push_str("wanted/index.html\">Wanted</a>\n      <a class=\"nav-graph");
    o.push_str(active(kind == "graph"));
    o.push_str("\" href=\"");
    esc(o, root);
    o.push_str(
        "graph/index.html\">Graph</a>\n    </nav>\n  </div>\n</header>\n\
         <main id=\"main\" class=\"main\">\n",
    );
    content(o);
    o.push_str("\n</main>\n<footer class=\"site-footer\">\n  <p>");
    esc(o, site.title);
    o.push_str(" · generated by <span class=\"generator\">");
    esc(o, site.generator);
    o.push_str("</span></p>\n</footer>\n<script src=\"");
    esc(o, root);
    o.push_str("static/search.js\" defer></script>\n\n</body>\n</html>");
}

/// note.html's `content` block.
fn write_note_content(o: &mut String, root: &str, note: &NoteView) {
    let esc = |o: &mut String, s: &str| push_escaped(o, s);
    let has_toc = note.toc.len() >= 2;
    o.push_str("\n<div class=\"note-layout");
    if has_toc {
        o.push_str(" has-toc");
    }
    o.push_str("\">\n<article class=\"note\" data-path=\"");
    esc(o, note.path);
    o.push_str(
        "\">\n  <header class=\"note-header\">\n    \
         <nav class=\"breadcrumbs\" aria-label=\"Breadcrumbs\">\n      <a href=\"",
    );
    esc(o, root);
    o.push_str("index.html\">Index</a>\n");
    if !note.folder.is_empty() {
        o.push_str("      <span class=\"sep\" aria-hidden=\"true\">/</span>\n      <a href=\"");
        esc(o, root);
        o.push_str("index.html#folder-");
        esc(o, note.folder);
        o.push_str("\">");
        esc(o, note.folder);
        o.push_str("</a>\n");
    }
    o.push_str("    </nav>\n    <h1 class=\"note-title\">");
    esc(o, note.title);
    o.push_str("</h1>\n");
    if !note.aliases.is_empty() {
        o.push_str("    <p class=\"note-aliases\">Also known as ");
        for (i, alias) in note.aliases.iter().enumerate() {
            o.push_str("<span class=\"alias\">");
            esc(o, alias);
            o.push_str("</span>");
            if i + 1 < note.aliases.len() {
                o.push_str(", ");
            }
        }
        o.push_str("</p>\n");
    }
    if let Some(description) = note.description.filter(|d| !d.is_empty()) {
        o.push_str("    <p class=\"note-description\">");
        esc(o, description);
        o.push_str("</p>\n");
    }
    o.push_str("    <div class=\"note-meta\">\n");
    if let Some(date) = note.date.filter(|d| !d.is_empty()) {
        o.push_str("      <time class=\"note-date\" datetime=\"");
        esc(o, date);
        o.push_str("\">");
        esc(o, date);
        o.push_str("</time>\n");
    }
    if !note.tags.is_empty() {
        o.push_str("      <ul class=\"note-tags\" aria-label=\"Tags\">\n");
        write_tag_items(o, "        ", &note.tags);
        o.push_str("      </ul>\n");
    }
    o.push_str("    </div>\n  </header>\n");
    if has_toc {
        let min_level = note.toc.iter().map(|t| t.level).min().unwrap_or(0);
        o.push_str(
            "\n\n  <aside class=\"note-aside\">\n  \
             <nav class=\"toc\" aria-labelledby=\"vaultc-toc-title\">\n    <details open>\n      \
             <summary id=\"vaultc-toc-title\">Contents</summary>\n      <ol class=\"toc-list\">\n",
        );
        for entry in &note.toc {
            // Writing to a String cannot fail.
            let _ = write!(
                o,
                "        <li class=\"toc-item toc-depth-{}\"><a href=\"#",
                i32::from(entry.level) - i32::from(min_level)
            );
            esc(o, entry.anchor);
            o.push_str("\">");
            esc(o, entry.text);
            o.push_str("</a></li>\n");
        }
        o.push_str("      </ol>\n    </details>\n  </nav>\n  </aside>\n");
    }
    o.push_str("\n  <div class=\"note-body\">\n");
    o.push_str(&note.html);
    o.push_str("\n  </div>\n");
    if !note.properties.is_empty() {
        o.push_str(
            "  <section class=\"note-properties\" aria-labelledby=\"vaultc-properties\">\n    \
             <h2 id=\"vaultc-properties\">Properties</h2>\n    \
             <table class=\"properties\">\n      <tbody>\n",
        );
        for prop in &note.properties {
            o.push_str("        <tr><th scope=\"row\">");
            esc(o, &prop.key);
            o.push_str("</th><td>");
            esc(o, &prop.value);
            o.push_str("</td></tr>\n");
        }
        o.push_str("      </tbody>\n    </table>\n  </section>\n");
    }
    let _ = write!(
        o,
        "  <section class=\"backlinks\" aria-labelledby=\"vaultc-backlinks\">\n    \
         <h2 id=\"vaultc-backlinks\">Linked mentions <span class=\"count\">{}</span></h2>\n",
        note.backlinks.len()
    );
    if note.backlinks.is_empty() {
        o.push_str("    <p class=\"empty\">No other note links here yet.</p>\n");
    } else {
        o.push_str("    <ul class=\"backlink-list\">\n");
        for link in &note.backlinks {
            o.push_str(
                "      <li class=\"backlink\">\n        \
                 <div class=\"backlink-head\"><a class=\"backlink-title\" href=\"",
            );
            esc(o, &link.url);
            o.push_str("\">");
            esc(o, link.title);
            o.push_str("</a> <span class=\"backlink-path\">");
            esc(o, link.path);
            o.push_str("</span></div>\n");
            if !link.contexts.is_empty() {
                o.push_str("        <ul class=\"backlink-contexts\">\n");
                for context in &link.contexts {
                    o.push_str("          <li>");
                    esc(o, context);
                    o.push_str("</li>\n");
                }
                o.push_str("        </ul>\n");
            }
            o.push_str("      </li>\n");
        }
        o.push_str("    </ul>\n");
    }
    o.push_str("  </section>\n  <footer class=\"note-footer\">\n    <span class=\"note-path\">");
    esc(o, note.path);
    let _ = write!(
        o,
        "</span>\n    <span class=\"note-outlinks\">{} outgoing link{}</span>\n  \
         </footer>\n</article>\n</div>\n",
        note.outlinks_count,
        if note.outlinks_count == 1 { "" } else { "s" }
    );
}

/// tag.html's `content` block.
fn write_tag_content(o: &mut String, root: &str, tag: &TagView) {
    let esc = |o: &mut String, s: &str| push_escaped(o, s);
    o.push_str(
        "\n<header class=\"page-header\">\n  \
         <nav class=\"breadcrumbs\" aria-label=\"Breadcrumbs\"><a href=\"",
    );
    esc(o, root);
    o.push_str("tags/index.html\">Tags</a></nav>\n  <h1><span class=\"tag tag-large\">#");
    esc(o, tag.name);
    let _ = write!(
        o,
        "</span></h1>\n  <p class=\"subtitle\">{} note{} tagged <code>#",
        tag.notes.len(),
        if tag.notes.len() == 1 { "" } else { "s" }
    );
    esc(o, tag.name);
    o.push_str("</code></p>\n</header>\n");
    if !tag.children.is_empty() {
        o.push_str(
            "\n<section class=\"tag-children\" aria-labelledby=\"vaultc-subtags\">\n  \
             <h2 id=\"vaultc-subtags\">Nested tags</h2>\n  <ul class=\"tag-cloud\">\n",
        );
        write_tag_items(o, "    ", &tag.children);
        o.push_str("  </ul>\n</section>\n");
    }
    o.push('\n');
    if tag.notes.is_empty() {
        o.push_str(
            "\n<p class=\"empty\">No note carries this exact tag; see the nested tags above.</p>\n",
        );
    } else {
        o.push_str("\n<ul class=\"note-list\">\n");
        for n in &tag.notes {
            o.push_str("  <li><a class=\"note-link\" href=\"");
            esc(o, &n.url);
            o.push_str("\">");
            esc(o, n.title);
            o.push_str("</a> <span class=\"note-list-path\">");
            esc(o, n.path);
            o.push_str("</span></li>\n");
        }
        o.push_str("</ul>\n");
    }
    o.push('\n');
}

/// One `<li>` per tag, each line starting with `indent`: a note's tags and a tag's nested tags
/// are listed alike.
fn write_tag_items(o: &mut String, indent: &str, tags: &[LinkView]) {
    for tag in tags {
        o.push_str(indent);
        o.push_str("<li><a class=\"tag\" href=\"");
        push_escaped(o, &tag.url);
        o.push_str("\">#");
        push_escaped(o, &tag.name);
        o.push_str("</a></li>\n");
    }
}
