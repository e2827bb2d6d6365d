//! The default theme's note, tag and index pages (`base.html` + `note.html` / `tag.html` /
//! `index.html`) written straight from their views, byte for byte what minijinja makes of those
//! templates.
//!
//! Note pages are almost all of a site, and the template engine was about a fifth of their
//! cost (about 30 µs a page of walking the template, looking up fields and formatting); tag
//! pages list thousands of notes each, and turning every entry into template values was most
//! of theirs; the index page lists every note of the vault. When a theme overrides neither the
//! page's template nor `base.html`
//! ([`super::theme::Theme::has_default`]), those pages are written here; any override goes
//! through minijinja as before. The templates stay the reference: the test
//! `native_pages_equal_their_templates` builds several vaults with the default
//! theme and with copies of its templates (which minijinja renders) and requires equal sites,
//! so a change to a template fails it until this file follows.

use std::fmt::Write as _;

use super::context::{CanvasEntry, LinkView, NoteEntry, NoteView, SiteView, StatsView, TagView};
use super::html::write_escaped;
use super::IndexFolder;
use crate::source::FastMap;
use crate::vault::NoteId;

/// The note page of `note` on site `site`, appended to `out`.
pub fn note_page(out: &mut Vec<u8>, site: &SiteView, note: &NoteView) {
    let meta = PageMeta {
        description: note.description.filter(|d| !d.is_empty()),
        image: note.image.as_deref().filter(|i| !i.is_empty()),
    };
    // note.html's `scripts` block.
    let scripts = [
        (note.code, "highlight.min.js"),
        (note.diagrams, "mermaid.min.js"),
        (note.code || note.diagrams, "code.js"),
        (note.canvases, "canvas.js"),
    ];
    let scripts = scripts.iter().filter(|(on, _)| *on).map(|(_, name)| *name);
    write_page(
        &mut Page(out),
        site,
        "note",
        note.title,
        meta,
        scripts,
        |o| write_note_content(o, site, note),
    );
}

/// The page of tag `tag` (whose page title is `title`, `#name`) on site `site`, appended to
/// `out`.
pub fn tag_page(out: &mut Vec<u8>, site: &SiteView, title: &str, tag: &TagView) {
    write_page(
        &mut Page(out),
        site,
        "tag",
        title,
        PageMeta::default(),
        [],
        |o| write_tag_content(o, site, tag),
    );
}

/// The index page (`index.html`): the vault's counts, then every folder with its notes, each
/// note's entry made by `entry` as it is written (a big vault's index lists thousands).
pub fn index_page<'a>(
    out: &mut Vec<u8>,
    site: &SiteView,
    stats: &StatsView,
    folders: &[IndexFolder<NoteId>],
    canvases: &[Vec<CanvasEntry>],
    entry: impl Fn(NoteId) -> Option<NoteEntry<'a>>,
    sections: &mut IndexSections,
) {
    write_page(
        &mut Page(out),
        site,
        "index",
        site.title,
        PageMeta::default(),
        [],
        |o| write_index_content(o, site, stats, folders, canvases, entry, sections),
    );
}

/// The index's folder sections: those rendered before, and those of this page, by the
/// fingerprint of what each shows (a section is copied when its fingerprint is kept).
pub struct IndexSections<'k> {
    /// Whether to keep the sections of this page in `made`.
    pub keep: bool,
    /// Each folder's fingerprint, in the order of the folders.
    pub keys: &'k [u64],
    /// Sections rendered before, by fingerprint.
    pub kept: FastMap<u64, Vec<u8>>,
    /// The sections of this page, by fingerprint: what the next render may copy.
    pub made: FastMap<u64, Vec<u8>>,
}

/// A page being written: text appended to the page's buffer, as is or escaped.
struct Page<'a>(&'a mut Vec<u8>);

impl Page<'_> {
    fn push(&mut self, text: &str) {
        self.0.extend_from_slice(text.as_bytes());
    }

    /// `text` escaped as every template value is (`html::write_escaped`).
    /// `one` or `other` as the count `n` takes it, with `{n}` replaced by the number, escaped
    /// (the templates' `replace("{n}", ...)`).
    fn count(&mut self, one: &str, other: &str, n: usize) {
        let text = if n == 1 { one } else { other };
        self.esc(&text.replace("{n}", &n.to_string()));
    }

    fn esc(&mut self, text: &str) {
        // Writing to a page cannot fail.
        let _ = write_escaped(self, text);
    }
}

impl std::fmt::Write for Page<'_> {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        self.push(text);
        Ok(())
    }
}

/// What a page's `meta` block says of it.
#[derive(Clone, Copy, Default)]
struct PageMeta<'a> {
    /// Its description.
    description: Option<&'a str>,
    /// The address of its link-preview image.
    image: Option<&'a str>,
}

/// `base.html` for a page of `kind` titled `title`, with `meta` making the `meta` block,
/// `content` writing the `content` block and the `scripts` block loading `scripts` (files of
/// `static/`).
fn write_page<'s>(
    o: &mut Page,
    site: &SiteView,
    kind: &str,
    title: &str,
    meta: PageMeta,
    scripts: impl IntoIterator<Item = &'s str>,
    content: impl FnOnce(&mut Page),
) {
    let root = site.root.as_str();
    // `class="nav-x{% if page.kind ... %} active{% endif %}"`.
    let active = |on: bool| if on { " active" } else { "" };
    // base.html, up to the `meta` block.
    o.push("<!DOCTYPE html>\n<html lang=\"");
    o.esc(site.language);
    o.push("\" data-root=\"");
    o.esc(root);
    o.push(
        "\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"color-scheme\" content=\"light dark\">\n<meta name=\"generator\" content=\"",
    );
    o.esc(site.generator);
    o.push("\">\n");
    // The page's `meta` block.
    if let Some(description) = meta.description {
        o.push("<meta name=\"description\" content=\"");
        o.esc(description);
        o.push("\">\n");
        if site.canonical.is_some() {
            o.push("<meta property=\"og:description\" content=\"");
            o.esc(description);
            o.push("\">\n");
        }
    }
    if let (Some(image), Some(_)) = (meta.image, &site.canonical) {
        o.push("<meta property=\"og:image\" content=\"");
        o.esc(image);
        o.push("\">\n<meta name=\"twitter:card\" content=\"summary_large_image\">\n");
    }
    o.push("\n<title>");
    if !title.is_empty() && title != site.title {
        o.esc(title);
        o.push(" · ");
    }
    o.esc(site.title);
    o.push("</title>\n<link rel=\"stylesheet\" href=\"");
    o.esc(root);
    o.push("static/style.css\">\n");
    if let Some(stylesheet) = site.stylesheet {
        o.push("<link rel=\"stylesheet\" href=\"");
        o.esc(root);
        o.esc(stylesheet);
        o.push("\">\n");
    }
    if let Some(canonical) = &site.canonical {
        o.push("<link rel=\"canonical\" href=\"");
        o.esc(canonical);
        o.push("\">\n<meta property=\"og:site_name\" content=\"");
        o.esc(site.title);
        o.push("\">\n<meta property=\"og:title\" content=\"");
        o.esc(if title.is_empty() { site.title } else { title });
        o.push("\">\n<meta property=\"og:type\" content=\"");
        o.push(if kind == "note" { "article" } else { "website" });
        o.push("\">\n<meta property=\"og:url\" content=\"");
        o.esc(canonical);
        o.push("\">\n<link rel=\"alternate\" type=\"application/atom+xml\" title=\"");
        o.esc(site.title);
        o.push("\" href=\"");
        o.esc(root);
        o.push("feed.xml\">\n");
    }
    o.push("\n</head>\n<body class=\"page-");
    o.esc(kind);
    o.push("\" data-root=\"");
    o.esc(root);
    let words = site.strings;
    o.push("\">\n<a class=\"skip-link\" href=\"#main\">");
    o.esc(&words.skip_to_content);
    o.push(
        "</a>\n<header class=\"site-header\">\n  <div class=\"header-inner\">\n    \
         <a class=\"site-title\" href=\"",
    );
    o.esc(root);
    o.push("index.html\">");
    o.esc(site.title);
    o.push(
        "</a>\n    <div class=\"search\" role=\"search\">\n      \
         <label class=\"visually-hidden\" for=\"search-input\">",
    );
    o.esc(&words.search_label);
    o.push(
        "</label>\n      \
         <input type=\"search\" id=\"search-input\" class=\"search-input\" placeholder=\"",
    );
    o.esc(&words.search_placeholder);
    o.push(
        "\" autocomplete=\"off\" spellcheck=\"false\"\n             role=\"combobox\" \
         aria-autocomplete=\"list\" aria-expanded=\"false\" aria-controls=\"search-results\"\n             \
         data-no-results=\"",
    );
    o.esc(&words.search_no_results);
    o.push("\" data-loading=\"");
    o.esc(&words.search_loading);
    o.push("\" data-unavailable=\"");
    o.esc(&words.search_unavailable);
    o.push(
        "\">\n      <ul id=\"search-results\" class=\"search-results\" role=\"listbox\" aria-label=\"",
    );
    o.esc(&words.search_results_label);
    o.push("\" hidden></ul>\n    </div>\n    <nav class=\"site-nav\" aria-label=\"");
    o.esc(&words.site_nav_label);
    o.push("\">\n      <a class=\"nav-tags");
    o.push(active(matches!(kind, "tags" | "tag")));
    o.push("\" href=\"");
    o.esc(root);
    o.push("tags/index.html\">");
    o.esc(&words.nav_tags);
    o.push("</a>\n      <a class=\"nav-wanted");
    o.push(active(kind == "wanted"));
    o.push("\" href=\"");
    o.esc(root);
    o.push("wanted/index.html\">");
    o.esc(&words.nav_wanted);
    o.push("</a>\n      <a class=\"nav-graph");
    o.push(active(kind == "graph"));
    o.push("\" href=\"");
    o.esc(root);
    o.push("graph/index.html\">");
    o.esc(&words.nav_graph);
    o.push("</a>\n    </nav>\n  </div>\n</header>\n<main id=\"main\" class=\"main\">\n");
    content(o);
    o.push("\n</main>\n<footer class=\"site-footer\">\n  <p>");
    o.esc(site.title);
    o.push(" · ");
    o.esc(&words.generated_by);
    o.push(" <span class=\"generator\">");
    o.esc(site.generator);
    o.push("</span></p>\n</footer>\n<script src=\"");
    o.esc(root);
    o.push("static/search.js\" defer></script>\n<script src=\"");
    o.esc(root);
    o.push("static/preview.js\" defer></script>\n");
    for script in scripts {
        o.push("<script src=\"");
        o.esc(root);
        o.push("static/");
        o.push(script);
        o.push("\" defer></script>\n");
    }
    o.push("\n</body>\n</html>");
}

/// note.html's `content` block.
fn write_note_content(o: &mut Page, site: &SiteView, note: &NoteView) {
    let (root, words) = (site.root.as_str(), site.strings);
    let has_toc = note.toc.len() >= 2;
    o.push("\n<div class=\"note-layout");
    if has_toc {
        o.push(" has-toc");
    }
    o.push("\">\n<article class=\"note");
    for class in &note.cssclasses {
        o.push(" ");
        o.esc(class);
    }
    o.push("\" data-path=\"");
    o.esc(note.path);
    o.push("\">\n  <header class=\"note-header\">\n    <nav class=\"breadcrumbs\" aria-label=\"");
    o.esc(&words.breadcrumbs_label);
    o.push("\">\n      <a href=\"");
    o.esc(root);
    o.push("index.html\">");
    o.esc(&words.breadcrumb_index);
    o.push("</a>\n");
    if !note.folder.is_empty() {
        o.push("      <span class=\"sep\" aria-hidden=\"true\">/</span>\n      <a href=\"");
        o.esc(root);
        o.push("index.html#folder-");
        o.esc(note.folder);
        o.push("\">");
        o.esc(note.folder);
        o.push("</a>\n");
    }
    o.push("    </nav>\n    <h1 class=\"note-title\">");
    o.esc(note.title);
    o.push("</h1>\n");
    if !note.aliases.is_empty() {
        o.push("    <p class=\"note-aliases\">");
        o.esc(&words.also_known_as);
        o.push(" ");
        for (i, alias) in note.aliases.iter().enumerate() {
            o.push("<span class=\"alias\">");
            o.esc(alias);
            o.push("</span>");
            if i + 1 < note.aliases.len() {
                o.push(", ");
            }
        }
        o.push("</p>\n");
    }
    if let Some(description) = note.description.filter(|d| !d.is_empty()) {
        o.push("    <p class=\"note-description\">");
        o.esc(description);
        o.push("</p>\n");
    }
    o.push("    <div class=\"note-meta\">\n");
    if let Some(date) = note.date.filter(|d| !d.is_empty()) {
        o.push("      <time class=\"note-date\" datetime=\"");
        o.esc(date);
        o.push("\">");
        o.esc(date);
        o.push("</time>\n");
    }
    if !note.tags.is_empty() {
        o.push("      <ul class=\"note-tags\" aria-label=\"");
        o.esc(&words.note_tags_label);
        o.push("\">\n");
        write_tag_items(o, "        ", &note.tags);
        o.push("      </ul>\n");
    }
    o.push("    </div>\n  </header>\n");
    if has_toc {
        let min_level = note.toc.iter().map(|t| t.level).min().unwrap_or(0);
        o.push(
            "\n\n  <aside class=\"note-aside\">\n  \
             <nav class=\"toc\" aria-labelledby=\"vaultc-toc-title\">\n    <details open>\n      \
             <summary id=\"vaultc-toc-title\">",
        );
        o.esc(&words.contents);
        o.push("</summary>\n      <ol class=\"toc-list\">\n");
        for entry in &note.toc {
            let _ = write!(
                o,
                "        <li class=\"toc-item toc-depth-{}\"><a href=\"#",
                i32::from(entry.level) - i32::from(min_level)
            );
            o.esc(entry.anchor);
            o.push("\">");
            o.esc(&entry.text);
            o.push("</a></li>\n");
        }
        o.push("      </ol>\n    </details>\n  </nav>\n  </aside>\n");
    }
    o.push("\n  <div class=\"note-body\">\n");
    o.push(&note.html);
    o.push("\n  </div>\n");
    if !note.properties.is_empty() {
        o.push(
            "  <section class=\"note-properties\" aria-labelledby=\"vaultc-properties\">\n    \
             <h2 id=\"vaultc-properties\">",
        );
        o.esc(&words.properties);
        o.push("</h2>\n    <table class=\"properties\">\n      <tbody>\n");
        for prop in &note.properties {
            o.push("        <tr><th scope=\"row\">");
            o.esc(&prop.key);
            o.push("</th><td>");
            o.esc(&prop.value);
            o.push("</td></tr>\n");
        }
        o.push("      </tbody>\n    </table>\n  </section>\n");
    }
    o.push(
        "  <section class=\"backlinks\" aria-labelledby=\"vaultc-backlinks\">\n    \
         <h2 id=\"vaultc-backlinks\">",
    );
    o.esc(&words.linked_mentions);
    let _ = writeln!(
        o,
        " <span class=\"count\">{}</span></h2>",
        note.backlinks.len()
    );
    if note.backlinks.is_empty() {
        o.push("    <p class=\"empty\">");
        o.esc(&words.no_backlinks);
        o.push("</p>\n");
    } else {
        o.push("    <ul class=\"backlink-list\">\n");
        for link in &note.backlinks {
            o.push(
                "      <li class=\"backlink\">\n        \
                 <div class=\"backlink-head\"><a class=\"backlink-title\" href=\"",
            );
            o.esc(&link.url);
            o.push("\">");
            o.esc(link.title);
            o.push("</a> <span class=\"backlink-path\">");
            o.esc(link.path);
            o.push("</span></div>\n");
            if !link.contexts.is_empty() {
                o.push("        <ul class=\"backlink-contexts\">\n");
                for context in &link.contexts {
                    o.push("          <li>");
                    o.esc(context);
                    o.push("</li>\n");
                }
                o.push("        </ul>\n");
            }
            o.push("      </li>\n");
        }
        o.push("    </ul>\n");
    }
    o.push("  </section>\n  <footer class=\"note-footer\">\n    <span class=\"note-path\">");
    o.esc(note.path);
    o.push("</span>\n    <span class=\"note-outlinks\">");
    o.count(
        &words.outgoing_links_one,
        &words.outgoing_links_other,
        note.outlinks_count,
    );
    o.push("</span>\n  </footer>\n</article>\n</div>\n");
}

/// tag.html's `content` block.
fn write_tag_content(o: &mut Page, site: &SiteView, tag: &TagView) {
    let (root, words) = (site.root.as_str(), site.strings);
    o.push("\n<header class=\"page-header\">\n  <nav class=\"breadcrumbs\" aria-label=\"");
    o.esc(&words.breadcrumbs_label);
    o.push("\"><a href=\"");
    o.esc(root);
    o.push("tags/index.html\">");
    o.esc(&words.tags_title);
    o.push("</a></nav>\n  <h1><span class=\"tag tag-large\">#");
    o.esc(tag.name);
    o.push("</span></h1>\n  <p class=\"subtitle\">");
    o.count(
        &words.tag_notes_one,
        &words.tag_notes_other,
        tag.notes.len(),
    );
    o.push(" <code>#");
    o.esc(tag.name);
    o.push("</code></p>\n</header>\n");
    if !tag.children.is_empty() {
        o.push(
            "\n<section class=\"tag-children\" aria-labelledby=\"vaultc-subtags\">\n  \
             <h2 id=\"vaultc-subtags\">",
        );
        o.esc(&words.nested_tags);
        o.push("</h2>\n  <ul class=\"tag-cloud\">\n");
        write_tag_items(o, "    ", &tag.children);
        o.push("  </ul>\n</section>\n");
    }
    o.push("\n");
    if tag.notes.is_empty() {
        o.push("\n<p class=\"empty\">");
        o.esc(&words.tag_empty);
        o.push("</p>\n");
    } else {
        o.push("\n<ul class=\"note-list\">\n");
        for n in &tag.notes {
            o.push("  <li><a class=\"note-link\" href=\"");
            o.esc(&n.url);
            o.push("\">");
            o.esc(n.title);
            o.push("</a> <span class=\"note-list-path\">");
            o.esc(n.path);
            o.push("</span></li>\n");
        }
        o.push("</ul>\n");
    }
    o.push("\n");
}

/// index.html's `content` block.
fn write_index_content<'a>(
    o: &mut Page,
    site: &SiteView,
    stats: &StatsView,
    folders: &[IndexFolder<NoteId>],
    canvases: &[Vec<CanvasEntry>],
    entry: impl Fn(NoteId) -> Option<NoteEntry<'a>>,
    sections: &mut IndexSections,
) {
    let (root, words) = (site.root.as_str(), site.strings);
    // `<strong>n</strong> noun`, the noun in the form for n.
    let stat = |o: &mut Page, n: usize, one: &str, other: &str| {
        let _ = write!(o, "<strong>{n}</strong> ");
        o.esc(if n == 1 { one } else { other });
    };
    o.push("\n<header class=\"page-header\">\n  <h1>");
    o.esc(site.title);
    o.push("</h1>\n  <ul class=\"stats\" aria-label=\"");
    o.esc(&words.stats_label);
    o.push("\">\n    <li>");
    stat(
        o,
        stats.notes,
        &words.stats_notes_one,
        &words.stats_notes_other,
    );
    o.push("</li>\n    <li>");
    stat(
        o,
        stats.links,
        &words.stats_links_one,
        &words.stats_links_other,
    );
    o.push("</li>\n    <li><a href=\"");
    o.esc(root);
    o.push("tags/index.html\">");
    stat(
        o,
        stats.tags,
        &words.stats_tags_one,
        &words.stats_tags_other,
    );
    o.push("</a></li>\n    <li><a href=\"");
    o.esc(root);
    o.push("wanted/index.html\">");
    stat(o, stats.wanted, &words.stats_wanted, &words.stats_wanted);
    o.push("</a></li>\n    <li>");
    stat(
        o,
        stats.attachments,
        &words.stats_attachments_one,
        &words.stats_attachments_other,
    );
    o.push("</li>\n  </ul>\n</header>\n");
    if folders.len() > 1 {
        o.push("\n<nav class=\"folder-index\" aria-label=\"");
        o.esc(&words.folders_label);
        o.push("\">\n  <ul>\n");
        for (folder, canvases) in folders.iter().zip(canvases) {
            let (name, depth) = (folder.name, folder.depth);
            let _ = write!(
                o,
                "    <li class=\"folder-depth-{depth}\"><a href=\"#folder-"
            );
            o.esc(name);
            o.push("\">");
            o.esc(if name.is_empty() {
                &words.folder_nav_top_level
            } else {
                name
            });
            let count = folder.notes.len() + canvases.len();
            let _ = writeln!(o, "</a> <span class=\"count\">{count}</span></li>");
        }
        o.push("  </ul>\n</nav>\n");
    }
    o.push("\n<div class=\"folders\">\n");
    if folders.is_empty() {
        o.push("\n<p class=\"empty\">");
        o.esc(&words.vault_empty);
        o.push("</p>\n");
    }
    for (k, (folder, canvases)) in folders.iter().zip(canvases).enumerate() {
        let (name, depth, notes) = (folder.name, folder.depth, &folder.notes);
        let key = sections.keys[k];
        if let Some(section) = sections.kept.remove(&key) {
            o.0.extend_from_slice(&section);
            sections.made.insert(key, section);
            continue;
        }
        let start = o.0.len();
        let _ = write!(
            o,
            "\n<section class=\"folder folder-depth-{depth}\" id=\"folder-"
        );
        o.esc(name);
        o.push("\">\n  <h2 class=\"folder-name\">");
        if name.is_empty() {
            o.esc(&words.folder_top_level);
        } else {
            o.push("<span class=\"folder-icon\" aria-hidden=\"true\">▸</span> ");
            o.esc(name);
        }
        let count = notes.len() + canvases.len();
        let _ = writeln!(o, " <span class=\"count\">{count}</span></h2>");
        if !notes.is_empty() {
            o.push("  <ul class=\"note-list\">\n");
            for n in notes.iter().filter_map(|&id| entry(id)) {
                o.push("    <li>\n      <a class=\"note-link\" href=\"");
                o.esc(&n.url);
                o.push("\">");
                o.esc(n.title);
                o.push("</a>\n");
                if !n.tags.is_empty() {
                    o.push("      <span class=\"note-list-tags\">");
                    // minijinja's `unique`: the first of the tags equal when lower-cased.
                    let tags: Vec<&str> = n.tags.iter().collect();
                    // `to_lowercase` equality is `same_lowercase`, ASCII or not.
                    let first =
                        super::firsts(&tags, |a, b| same_lowercase(a, b), |t| t.to_lowercase());
                    for (i, t) in tags.iter().enumerate() {
                        if !first[i] {
                            continue;
                        }
                        if i > 0 {
                            o.push(" ");
                        }
                        o.push("<span class=\"tag\">#");
                        o.esc(t);
                        o.push("</span>");
                    }
                    o.push("</span>\n");
                }
                o.push("    </li>\n");
            }
            o.push("  </ul>\n");
        }
        if !canvases.is_empty() {
            o.push("  <ul class=\"canvas-list\">\n");
            for c in canvases {
                o.push("    <li><a class=\"canvas-entry\" href=\"");
                o.esc(&c.url);
                o.push("\">");
                o.esc(c.title);
                o.push("</a></li>\n");
            }
            o.push("  </ul>\n");
        }
        if notes.is_empty() && canvases.is_empty() {
            o.push("  <p class=\"empty\">");
            o.esc(&words.folder_empty);
            o.push("</p>\n");
        }
        o.push("</section>\n");
        if sections.keep {
            sections.made.insert(key, o.0[start..].to_vec());
        }
    }
    o.push("\n</div>\n");
}

/// Whether `a` and `b` are equal once lower-cased (as minijinja's `lower` does it), without
/// lower-casing ASCII text into new strings.
fn same_lowercase(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        a.to_lowercase() == b.to_lowercase()
    }
}

/// One `<li>` per tag, each line starting with `indent`: a note's tags and a tag's nested tags
/// are listed alike.
fn write_tag_items(o: &mut Page, indent: &str, tags: &[LinkView]) {
    for tag in tags {
        o.push(indent);
        o.push("<li><a class=\"tag\" href=\"");
        o.esc(&tag.url);
        o.push("\">#");
        o.esc(&tag.name);
        o.push("</a></li>\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A listing's tags are unique alike (the first of those equal once lower-cased) whether
    /// few (compared with the ones before) or many (a set of lower-cased forms), ASCII or
    /// not: the Kelvin sign lower-cases to `k`, `İ` to `i̇`.
    #[test]
    fn many_tags_are_made_unique_as_few_are() {
        let mut rng = crate::source::xorshift(0x7a65);
        let names = [
            "k", "K", "\u{212a}", "a", "A", "İ", "i\u{307}", "é", "É", "x/y", "X/Y",
        ];
        for len in [0, 1, 5, 16, 17, 60] {
            for _ in 0..30 {
                let tags: Vec<&str> = (0..len).map(|_| names[rng(names.len())]).collect();
                let scan: Vec<bool> = (0..tags.len())
                    .map(|i| !tags[..i].iter().any(|u| same_lowercase(u, tags[i])))
                    .collect();
                let first =
                    super::super::firsts(&tags, |a, b| same_lowercase(a, b), |t| t.to_lowercase());
                assert_eq!(first, scan, "{tags:?}");
                // An entry's tags drop a tag written again right after itself, as `dedup`.
                let uses: Vec<crate::vault::TagUse> = tags
                    .iter()
                    .map(|t| crate::vault::TagUse {
                        name: t.to_string(),
                        span: Default::default(),
                    })
                    .collect();
                let mut deduped = tags.clone();
                deduped.dedup();
                let entry = super::super::context::EntryTags(&uses);
                assert_eq!(entry.iter().collect::<Vec<_>>(), deduped);
                assert_eq!(
                    serde_json::to_value(entry).unwrap(),
                    serde_json::json!(deduped)
                );
            }
        }
    }
}
