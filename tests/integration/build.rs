//! HTML snapshot tests: representative pages of `tests/fixtures/site-pages`, pinned with insta.
//! Only the `<main>` element is compared (the layout around it belongs to the theme), as mdBook
//! does. Review changes with `cargo insta review`.

use std::path::{Path, PathBuf};

use crate::support::{fixture, vaultc};

fn build_site() -> tempfile::TempDir {
    let out = tempfile::tempdir().expect("tempdir");
    let site = out.path().join("site");
    let status = vaultc()
        .args([
            "build",
            fixture("site-pages").to_str().unwrap(),
            "-o",
            site.to_str().unwrap(),
        ])
        .env("NO_COLOR", "1")
        .output()
        .expect("run vaultc");
    assert!(
        status.status.code() == Some(1),
        "a wanted link is an error: exit 1, got {:?}",
        status.status
    );
    out
}

fn main_of(site: &Path, page: &str) -> String {
    let html = std::fs::read_to_string(site.join("site").join(page))
        .unwrap_or_else(|e| panic!("{page}: {e}"));
    let start = html.find("<main").expect("a <main> element");
    let end = html.rfind("</main>").expect("</main>") + "</main>".len();
    html[start..end].to_string()
}

#[test]
fn note_page_with_every_link_form() {
    let site = build_site();
    insta::assert_snapshot!("home_main", main_of(site.path(), "home/index.html"));
}

#[test]
fn note_page_with_backlinks_and_section_embed() {
    let site = build_site();
    insta::assert_snapshot!(
        "second_main",
        main_of(site.path(), "notes/second/index.html")
    );
}

#[test]
fn index_tag_and_wanted_pages() {
    let site = build_site();
    insta::assert_snapshot!("index_main", main_of(site.path(), "index.html"));
    insta::assert_snapshot!(
        "tag_main",
        main_of(site.path(), "tags/topic/sub/index.html")
    );
    insta::assert_snapshot!("wanted_main", main_of(site.path(), "wanted/index.html"));
}

#[test]
fn alias_redirect_and_attachment_copy() {
    let site = build_site();
    let redirect =
        std::fs::read_to_string(site.path().join("site/start/index.html")).expect("alias page");
    let redirect = redirect.replace("&#x2f;", "/");
    assert!(redirect.contains("../home/index.html"), "{redirect}");
    let png = std::fs::read(site.path().join("site/media/pic.png")).expect("attachment copied");
    assert!(png.starts_with(b"\x89PNG"));
    assert!(!site.path().join("site/Hidden").exists());
}

/// A copy of `fixtures/build-basic` (so a test may edit it) and its built site, in a temporary
/// folder the returned guard keeps alive.
fn built_basic_copy() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("vault");
    crate::support::copy_dir(&fixture("build-basic"), &vault);
    let site = dir.path().join("site");
    crate::support::build(&vault, &site).assert_code(0);
    (dir, vault, site)
}

#[test]
fn a_failed_build_leaves_the_previous_site_intact() {
    let (dir, vault, site) = built_basic_copy();
    let before = crate::support::tree_bytes(&site);
    // A theme whose note template fails to render makes the command fail (exit 2)...
    // Tag pages render after every note page is in the staging folder: this fails mid-write.
    let theme = crate::support::theme(dir.path(), &[("tag.html", "{{ tag.name|no_such_filter }}")]);
    std::fs::write(vault.join("Home.md"), "# Changed\n").unwrap();
    let r = crate::support::build_with(&vault, &site, &["--theme", theme.to_str().unwrap()]);
    r.assert_code(2);
    assert!(
        r.stderr.contains("tag.html"),
        "names the template: {}",
        r.report()
    );
    // ...and leaves the old site byte for byte, with no staging folder behind.
    assert_eq!(crate::support::tree_bytes(&site), before);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("vaultc-staging") || n.contains("vaultc-old"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn strict_writes_nothing_when_the_vault_has_errors() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    let r = crate::support::build_with(&fixture("mixed-errors"), &site, &["--strict"]);
    r.assert_code(1);
    assert!(!site.exists(), "{}", r.report());
}

#[test]
fn unchanged_pages_keep_their_file_and_changed_pages_are_rewritten() {
    use std::os::unix::fs::MetadataExt;
    let (_dir, vault, site) = built_basic_copy();
    let pages = crate::support::note_pages(&site);
    let gamma = pages
        .iter()
        .find(|(n, _)| n.starts_with("Notes/Gamma"))
        .unwrap()
        .1
        .clone();
    let home = pages["Home.md"].clone();
    let meta = |p: &Path| std::fs::metadata(p).unwrap();
    let (gamma_ino, gamma_mtime) = (meta(&gamma).ino(), meta(&gamma).mtime_nsec());
    let home_ino = meta(&home).ino();
    // Edit a note nothing else depends on for its text: its page changes, others stay.
    let text = std::fs::read_to_string(vault.join("Home.md")).unwrap();
    std::fs::write(vault.join("Home.md"), format!("{text}\nOne more line.\n")).unwrap();
    let r = crate::support::build_with(&vault, &site, &[]);
    r.assert_code(0);
    assert!(r.stderr.contains("unchanged"), "{}", r.report());
    assert_eq!(
        meta(&gamma).ino(),
        gamma_ino,
        "an unchanged page is the same file"
    );
    assert_eq!(
        meta(&gamma).mtime_nsec(),
        gamma_mtime,
        "and keeps its mtime"
    );
    assert_ne!(
        meta(&home).ino(),
        home_ino,
        "the edited note's page is written anew"
    );
    assert!(std::fs::read_to_string(&home)
        .unwrap()
        .contains("One more line."));
}

/// Asserts that every HTML file of `site` says it is in `language`.
fn assert_every_page_in(site: &Path, language: &str) {
    let lang = format!("<html lang=\"{language}\"");
    for (page, html) in &html_pages(site) {
        assert!(
            html.contains(&lang),
            "{}: not {lang}: {html}",
            page.display()
        );
    }
}

/// Every HTML file of a site, by its path inside the site.
fn html_pages(site: &Path) -> Vec<(PathBuf, String)> {
    crate::support::list_files(site)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "html"))
        .map(|p| {
            let html = std::fs::read_to_string(site.join(&p)).unwrap();
            (p, html)
        })
        .collect()
}

#[test]
fn site_title_and_language_come_from_vaultc_toml_and_reach_every_page() {
    let (dir, vault, site) = built_basic_copy();
    let pages = html_pages(&site);
    assert!(
        pages.len() > 8,
        "note, index, tag, redirect, 404, graph pages: {pages:?}"
    );
    assert_every_page_in(&site, "en");
    let index = std::fs::read_to_string(site.join("index.html")).unwrap();
    assert!(
        index.contains("<title>vault</title>"),
        "the folder's name: {index}"
    );
    let full = dir.path().join("full");
    // Settings `[site] title` and `language`, then an incremental build over the previous site
    // (the settings change every page), which must equal a full one.
    let build_with_site = |title: &str, language: &str, more: &str| {
        std::fs::write(
            vault.join("vaultc.toml"),
            format!("[site]\ntitle = \"{title}\"\nlanguage = \"{language}\"\n{more}"),
        )
        .unwrap();
        crate::support::build(&vault, &site).assert_code(0);
        assert_every_page_in(&site, language);
        crate::support::build_with(&vault, &full, &["--full"]).assert_code(0);
        crate::support::assert_same_tree(&site, &full);
    };
    build_with_site("Field & notes", "zh-CN", "");
    for (page, html) in &html_pages(&site) {
        assert!(
            !html.contains(">vault<"),
            "{}: the old title stayed: {html}",
            page.display()
        );
    }
    let index = std::fs::read_to_string(site.join("index.html")).unwrap();
    assert!(
        index.contains("<title>Field &amp; notes</title>"),
        "{index}"
    );
    // The pages' words are the language's: every kind of page, and the search box's messages.
    let read = |rel: &str| std::fs::read_to_string(site.join(rel)).unwrap();
    let note = read(
        &crate::support::note_pages(&site)["Home.md"]
            .strip_prefix(&site)
            .unwrap()
            .to_string_lossy(),
    );
    for (page, words) in [
        (
            note.as_str(),
            &[
                "反向链接",
                "跳到正文",
                "data-no-results=\"没有找到“{query}”\"",
                "个出链",
            ][..],
        ),
        (&read("index.html"), &["篇笔记", "个链接"][..]),
        (&read("404.html"), &["页面不存在", "<title>未找到 · "][..]),
        (
            &read("graph/index.html"),
            &["<h1>关系图</h1>", "data-missing=\"无法加载"][..],
        ),
        (
            &read("wanted/index.html"),
            &["<h1>待写笔记</h1>", "所有链接都指向已有的笔记。"][..],
        ),
        (&read("tags/index.html"), &["<h1>标签</h1>"][..]),
    ] {
        for word in words {
            assert!(page.contains(word), "{word:?} is missing: {page}");
        }
        assert!(
            !page.contains("Linked mentions") && !page.contains("Skip to content"),
            "{page}"
        );
    }
    // The language alone changes every page too.
    build_with_site("Field & notes", "ja", "");
    // And so do the vault's own words.
    build_with_site(
        "Field & notes",
        "ja",
        "\n[site.strings]\nlinked_mentions = \"Mentions & <refs>\"\nfolder_top_level = \"Root\"\n",
    );
    assert!(read("index.html").contains("Root"));
    let note = std::fs::read_to_string(&crate::support::note_pages(&site)["Home.md"]).unwrap();
    assert!(
        note.contains(">Mentions &amp; &lt;refs&gt; <span class=\"count\">"),
        "{note}"
    );
    // A string that does not exist is a configuration error naming those that do; so is a bad
    // language tag (the error names the form); either leaves the site as it was.
    for (toml, said) in [
        (
            "[site.strings]\nbacklinks = \"x\"\n",
            ["[site.strings] backlinks", "linked_mentions"],
        ),
        (
            "[site]\nlanguage = \"Chinese\"\n",
            ["language tag", "zh-CN"],
        ),
    ] {
        std::fs::write(vault.join("vaultc.toml"), toml).unwrap();
        let r = crate::support::build(&vault, &site);
        r.assert_code(2);
        assert!(said.iter().all(|s| r.stderr.contains(s)), "{}", r.report());
        crate::support::assert_same_tree(&site, &full);
    }
}

#[test]
fn a_notes_own_html_is_published_without_scripts_handlers_or_script_urls() {
    let (_dir, _, site) = crate::support::built_vault(&[(
        "Shared.md",
        "# Shared\n\n<script>alert('block')</script>\n\nInline <img src=\"pic.png\" onerror=\"alert('img')\"> \
         and <a href=\"javascript:alert('href')\">a link</a>, <span style=\"color: red\" onclick=\"alert('span')\">red</span>.\n\n\
         <details>\n<summary>More</summary>\n\nMarkdown **inside**, and $x^2$.\n\n</details>\n",
    )]);
    let page = crate::support::note_pages(&site)["Shared.md"].clone();
    let html = std::fs::read_to_string(page).unwrap();
    let body =
        &html[html.find("<div class=\"note-body\">").unwrap()..html.find("</article>").unwrap()];
    for bad in ["alert(", "onerror", "onclick", "javascript:"] {
        assert!(!body.contains(bad), "{bad} reached the page: {body}");
    }
    for kept in [
        "<img src=\"pic.png\">",
        "<a>a link</a>",
        "<span style=\"color: red\">red</span>",
        "<details>\n<summary>More</summary>",
        "<p>Markdown <strong>inside</strong>, and <span class=\"math math-inline\"><math",
        "</details>",
    ] {
        assert!(body.contains(kept), "{kept:?} is missing: {body}");
    }
}

/// `%% comments %%` are the writer's own: no file of the site holds their text (not the page,
/// not a backlink's context, not the search index or its excerpts, not the graph).
#[test]
fn comments_are_in_no_file_of_the_site() {
    let (_dir, _, site) = crate::support::built_vault(&[
        (
            "Diary.md",
            "# Diary\n\nMet [[Friend]] today %%secretalpha%%, nice.\n\n%%\nsecretbeta [[Friend]]\n%%\n\n\
             Also %%secretgamma [[Nobody]]%% see [[Friend]] %%unclosed secretdelta",
        ),
        ("Friend.md", "# Friend\n\nA friend.\n"),
    ]);
    let friend = std::fs::read_to_string(&crate::support::note_pages(&site)["Friend.md"]).unwrap();
    // The context of each mention is there, without the comments.
    for context in ["Met Friend today , nice.", "Also see Friend"] {
        assert!(friend.contains(context), "{context:?} is missing: {friend}");
    }
    let mut files = 0;
    for file in walkdir::WalkDir::new(&site) {
        let file = file.unwrap();
        if !file.file_type().is_file() {
            continue;
        }
        files += 1;
        let bytes = std::fs::read(file.path()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for secret in [
            "secretalpha",
            "secretbeta",
            "secretgamma",
            "secretdelta",
            "Nobody",
        ] {
            assert!(
                !text.contains(secret),
                "{secret} is in {}",
                file.path().display()
            );
        }
    }
    assert!(files > 5, "{files} files");
}

/// A page loads the code highlighter only when it shows code in a language, and the diagram
/// renderer only when it shows a diagram (its own or an embedded note's); a diagram is its
/// escaped source in `<pre class="mermaid">`, readable without scripts.
#[test]
fn pages_load_the_highlighter_and_the_diagram_renderer_only_when_they_show_code_or_diagrams() {
    let (_dir, vault, site) = crate::support::built_vault(&[
        ("Code.md", "# Code\n\n```rust\nfn main() {}\n```\n"),
        ("Plain.md", "# Plain\n\n```\nno language\n```\n"),
        (
            "Diagram.md",
            "# Diagram\n\n```mermaid\ngraph TD; A-->B & C<D;\n```\n",
        ),
        ("Embeds.md", "# Embeds\n\n![[Diagram]]\n"),
    ]);
    let pages = crate::support::note_pages(&site);
    let page = |name: &str| std::fs::read_to_string(&pages[name]).unwrap();
    let scripts = |html: &str| -> Vec<String> {
        html.match_indices("<script src=\"")
            .map(|(i, _)| {
                let rest = &html[i + 13..];
                rest[..rest.find('"').unwrap()]
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    assert_eq!(
        scripts(&page("Code.md")),
        ["search.js", "preview.js", "highlight.min.js", "code.js"]
    );
    assert_eq!(scripts(&page("Plain.md")), ["search.js", "preview.js"]);
    for name in ["Diagram.md", "Embeds.md"] {
        assert_eq!(
            scripts(&page(name)),
            ["search.js", "preview.js", "mermaid.min.js", "code.js"],
            "{name}"
        );
        assert!(
            page(name).contains("<pre class=\"mermaid\">graph TD; A--&gt;B &amp; C&lt;D;\n</pre>"),
            "{name}: {}",
            page(name)
        );
    }
    for asset in ["highlight.min.js", "mermaid.min.js", "code.js"] {
        assert!(site.join("static").join(asset).is_file(), "{asset}");
    }
    // Built again from the parse cache (notes not parsed again): the same.
    std::fs::remove_dir_all(&site).unwrap();
    crate::support::build(&vault, &site).assert_code(0);
    assert!(site.join("static/mermaid.min.js").is_file());
}

/// A vault's `publish.css` at its root (Obsidian Publish's custom stylesheet) is copied and
/// linked by every page after the theme's, at each page's depth; one in a folder is not, and a
/// vault without it links nothing.
#[test]
fn the_vaults_publish_css_styles_every_page() {
    let css = "body { --accent: teal; }\n";
    let (_dir, _, site) = crate::support::built_vault(&[
        ("publish.css", css),
        ("Top.md", "# Top\n\n#topic [[Deep]]\n"),
        ("a/b/Deep.md", "# Deep\n"),
        ("a/publish.css", "body { color: red; }\n"),
    ]);
    assert_eq!(
        std::fs::read_to_string(site.join("publish.css")).unwrap(),
        css
    );
    let pages = html_pages(&site);
    assert!(pages.len() > 6, "{pages:?}");
    for (page, html) in &pages {
        if html.contains("http-equiv=\"refresh\"") {
            continue; // a redirect shows nothing
        }
        let root = "../".repeat(page.components().count() - 1);
        let theme = format!("<link rel=\"stylesheet\" href=\"{root}static/style.css\">\n");
        let own = format!("<link rel=\"stylesheet\" href=\"{root}publish.css\">\n");
        let at = html
            .find(&theme)
            .unwrap_or_else(|| panic!("{}: {html}", page.display()));
        assert!(
            html[at + theme.len()..].starts_with(&own),
            "{}: the vault's stylesheet right after the theme's: {html}",
            page.display()
        );
        assert_eq!(html.matches("stylesheet").count(), 2, "{}", page.display());
    }
    let (_dir, _, site) = crate::support::built_vault(&[("Top.md", "# Top\n")]);
    for (page, html) in &html_pages(&site) {
        assert!(!html.contains("publish.css"), "{}: {html}", page.display());
    }
}

/// With `[site] url`, every page but the 404 page names its address (`<link rel="canonical">`
/// and Open Graph tags for link previews) and `sitemap.xml` lists the index, every note page,
/// the tags page and every tag page; links between pages stay relative. The vault's own
/// `sitemap.xml` and `feed.xml` yield to the site's; a folder beyond ASCII is percent-encoded in
/// the addresses. Without a url, none of it.
#[test]
fn a_site_that_knows_its_url_names_its_pages_and_lists_them_in_a_sitemap() {
    let notes = [
        ("Home.md", "# Home\n\n#topic [[a b/Deep]]\n"),
        (
            "a b/Deep.md",
            "---\ndescription: Deep & low\naliases: [Abyss]\nupdated: 2025-02-03\n---\n# Deep\n#topic/sub\n",
        ),
        ("深/图 表.md", "# 图表\n"),
        ("sitemap.xml", "<urlset>mine</urlset>\n"),
        ("feed.xml", "<feed>mine</feed>\n"),
    ];
    // A page's folder in an address: percent-encoded UTF-8 beyond ASCII.
    let encoded = |folder: &str| -> String {
        folder
            .bytes()
            .map(|b| match b {
                b if b.is_ascii_alphanumeric() || b"-_./".contains(&b) => (b as char).to_string(),
                b => format!("%{b:02X}"),
            })
            .collect()
    };
    let mut with_url = notes.to_vec();
    with_url.push((
        "vaultc.toml",
        "[site]\nurl = \"https://example.org/notes\"\n",
    ));
    let (_dir, vault, site) = crate::support::built_vault(&with_url);
    let base = "https://example.org/notes/";
    let sitemap = std::fs::read_to_string(site.join("sitemap.xml")).unwrap();
    let listed: Vec<&str> = sitemap
        .lines()
        .filter_map(|l| {
            let l = l.strip_prefix("<url><loc>")?;
            Some(&l[..l.find("</loc>")?])
        })
        .collect();
    let mut pages: Vec<String> = crate::support::note_pages(&site)
        .values()
        .map(|page| {
            let folder = page.parent().unwrap().strip_prefix(&site).unwrap();
            format!("{base}{}/", encoded(&crate::support::slash_path(folder)))
        })
        .collect();
    pages.sort();
    let mut notes_listed: Vec<String> = listed
        .iter()
        .filter(|a| !a.contains("/tags/") && **a != base)
        .map(|a| a.to_string())
        .collect();
    notes_listed.sort();
    assert_eq!(notes_listed, pages, "{sitemap}");
    assert_eq!(listed[0], base, "the index first: {sitemap}");
    for tag in ["tags/", "tags/topic/", "tags/topic/sub/"] {
        assert!(
            listed.contains(&format!("{base}{tag}").as_str()),
            "{tag}: {sitemap}"
        );
    }
    assert_eq!(listed.len(), 1 + pages.len() + 3, "{sitemap}");
    // A note's page changed when its front matter says; no other page carries a date.
    assert_eq!(sitemap.matches("<lastmod>").count(), 1, "{sitemap}");
    assert!(
        sitemap.contains(&format!(
            "<url><loc>{base}a-b/deep/</loc><lastmod>2025-02-03</lastmod></url>\n"
        )),
        "{sitemap}"
    );
    // The vault's file is copied beside it, with a warning.
    assert_eq!(
        std::fs::read_to_string(site.join("sitemap-2.xml")).unwrap(),
        "<urlset>mine</urlset>\n"
    );
    assert_eq!(
        std::fs::read_to_string(site.join("feed-2.xml")).unwrap(),
        "<feed>mine</feed>\n"
    );
    let (v, _) = crate::support::check_json(&vault);
    crate::support::assert_diag(&v, "slug-collision", "sitemap.xml", 1, 1);
    crate::support::assert_diag(&v, "slug-collision", "feed.xml", 1, 1);
    assert!(
        listed.contains(&format!("{base}%E6%B7%B1/%E5%9B%BE-%E8%A1%A8/").as_str()),
        "a folder beyond ASCII, encoded: {sitemap}"
    );
    // Every page names its own address; the redirect of an alias and the 404 page do not.
    for (page, html) in &html_pages(&site) {
        let path = crate::support::slash_path(page);
        if path == "404.html" || html.contains("http-equiv=\"refresh\"") {
            assert!(!html.contains(base), "{path}: {html}");
            continue;
        }
        let folder = encoded(path.strip_suffix("index.html").unwrap());
        let address = format!("{base}{folder}");
        let kind = if html.contains("<body class=\"page-note\"") {
            "article"
        } else {
            "website"
        };
        for tag in [
            format!("<link rel=\"canonical\" href=\"{address}\">\n"),
            format!("<meta property=\"og:url\" content=\"{address}\">\n"),
            format!("<meta property=\"og:type\" content=\"{kind}\">\n"),
        ] {
            assert!(html.contains(&tag), "{path}: no {tag} in {html}");
        }
        assert_eq!(
            html.matches(base).count(),
            2,
            "links stay relative: {path}: {html}"
        );
    }
    let deep = std::fs::read_to_string(site.join("a-b/deep/index.html")).unwrap();
    assert!(
        deep.contains("<meta property=\"og:title\" content=\"Deep\">\n"),
        "{deep}"
    );
    assert!(
        deep.contains("<meta property=\"og:description\" content=\"Deep &amp; low\">\n"),
        "{deep}"
    );

    let (_dir, _, site) = crate::support::built_vault(&notes);
    assert!(!site.join("sitemap-2.xml").exists());
    assert_eq!(
        std::fs::read_to_string(site.join("sitemap.xml")).unwrap(),
        "<urlset>mine</urlset>\n",
        "without a url the vault's own sitemap is copied as it is"
    );
    assert!(!site.join("feed-2.xml").exists() && site.join("feed.xml").is_file());
    for (page, html) in &html_pages(&site) {
        // A redirect names its target as canonical (relative), with or without a url.
        let redirect = html.contains("http-equiv=\"refresh\"");
        assert!(
            (redirect || !html.contains("canonical")) && !html.contains("og:"),
            "{}: {html}",
            page.display()
        );
    }
}

/// With `[site] url`, `feed.xml` is an Atom feed of the published notes with a front-matter
/// date (`date`, `published`, `publishDate` or `created`; else an update date: `updated`,
/// `modified`, `lastmod`, `last-modified`), newest first (ties in path order), at most 50,
/// each with its address, its dates in UTC and its description or the start of its text; the
/// feed's date is its latest change; every page names the feed.
#[test]
fn a_site_that_knows_its_url_has_a_feed_of_its_dated_notes() {
    let mut notes: Vec<(String, String)> = vec![
        (
            "vaultc.toml".into(),
            "[site]\ntitle = \"Log & co\"\nurl = \"https://example.org/log/\"\n".into(),
        ),
        (
            "Newest.md".into(),
            "---\ndate: 2025-06-01T09:30:00+02:00\ndescription: The <newest> one\n---\n# Newest\n"
                .into(),
        ),
        (
            "Created.md".into(),
            "---\ncreated: 2025-05-15\nupdated: 2025-07-01T12:00:00Z\n---\n# Created\n".into(),
        ),
        (
            "Changed.md".into(),
            "---\nModified: 2025-05-20\n---\n# Changed\n".into(),
        ),
        (
            "Undated.md".into(),
            "---\ndate: last spring\n---\n# Undated\n".into(),
        ),
        (
            "Hidden.md".into(),
            "---\ndate: 2030-01-01\npublish: false\n---\n# Hidden\n".into(),
        ),
        (
            "b/Tie.md".into(),
            "---\ndate: 2025-05-01\n---\n# Tie B\n\nWords & more words.\n".into(),
        ),
        (
            "a/Tie.md".into(),
            "---\ndate: 2025-05-01\n---\n# Tie A\n".into(),
        ),
    ];
    for i in 0..50 {
        notes.push((
            format!("old/Day {i:02}.md"),
            format!("---\ndate: 2020-01-{:02}\n---\n# Day {i:02}\n", i % 28 + 1),
        ));
    }
    let borrowed: Vec<(&str, &str)> = notes
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let (_dir, _, site) = crate::support::built_vault(&borrowed);
    let feed = std::fs::read_to_string(site.join("feed.xml")).unwrap();
    assert!(
        feed.starts_with(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n\
             <title>Log &amp; co</title>\n<link href=\"https://example.org/log/\"/>\n\
             <link rel=\"self\" href=\"https://example.org/log/feed.xml\"/>\n\
             <id>https://example.org/log/</id>\n<updated>2025-07-01T12:00:00Z</updated>\n\
             <entry>\n<title>Newest</title>\n<link href=\"https://example.org/log/newest/\"/>\n\
             <id>https://example.org/log/newest/</id>\n<published>2025-06-01T07:30:00Z</published>\n\
             <updated>2025-06-01T07:30:00Z</updated>\n\
             <summary>The &lt;newest&gt; one</summary>\n</entry>\n"
        ),
        "{feed}"
    );
    let titles: Vec<&str> = feed
        .lines()
        .filter_map(|l| l.strip_prefix("<title>")?.strip_suffix("</title>"))
        .skip(1)
        .collect();
    assert_eq!(titles.len(), 50, "at most 50 entries: {titles:?}");
    assert_eq!(
        &titles[..5],
        ["Newest", "Changed", "Created", "Tie A", "Tie B"],
        "{titles:?}"
    );
    let entry = |title: &str| {
        let at = feed.find(&format!("<title>{title}</title>")).unwrap();
        feed[at..at + feed[at..].find("</entry>").unwrap()].to_string()
    };
    assert!(
        entry("Created").contains(
            "<published>2025-05-15T00:00:00Z</published>\n<updated>2025-07-01T12:00:00Z</updated>"
        ),
        "{feed}"
    );
    assert!(
        !entry("Changed").contains("<published>")
            && entry("Changed").contains("<updated>2025-05-20T00:00:00Z</updated>"),
        "an update date alone dates the entry: {feed}"
    );
    assert!(
        !titles.contains(&"Undated") && !titles.contains(&"Hidden"),
        "{titles:?}"
    );
    assert!(
        feed.contains("<summary>Tie B Words &amp; more words.</summary>"),
        "{feed}"
    );
    // Then the old days, newest first: the 28th of January 2020 is day 27 alone.
    assert_eq!(titles[5], "Day 27", "{titles:?}");
    let page = std::fs::read_to_string(site.join("a/tie/index.html")).unwrap();
    assert!(
        page.contains("<link rel=\"alternate\" type=\"application/atom+xml\" title=\"Log &amp; co\" href=\"../../feed.xml\">"),
        "{page}"
    );
}

/// A session keeps the sitemap and the feed as a cold build makes them: a note's new tag (a
/// tracked rebuild) adds its tag page to the list, a tag no note has any more takes its page
/// off, and a note given a date joins the feed.
#[test]
fn a_session_keeps_the_sitemap_up_to_date() {
    let edits: [(&str, &dyn Fn(String) -> String); 3] = [
        ("Other.md", &|t| t + "\n#fresh\n"),
        ("Home.md", &|t| t.replace("#start", "")),
        ("Other.md", &|t| {
            t.replace("description:", "date: 2025-01-02\ndescription:")
        }),
    ];
    let tag = |name: &str| format!("<url><loc>https://example.org/wiki/tags/{name}/</loc></url>");
    crate::support::session_edits("site-url", &edits, |step, served, tracked| {
        assert!(tracked, "step {step}");
        let sitemap = std::fs::read_to_string(served.join("sitemap.xml")).unwrap();
        assert!(sitemap.contains(&tag("fresh")), "step {step}: {sitemap}");
        assert_eq!(
            sitemap.contains(&tag("start")),
            step == 0,
            "step {step}: {sitemap}"
        );
        // A note that gets a date joins the feed, and its page in the sitemap is dated.
        assert_eq!(
            sitemap.contains("wiki/other/</loc><lastmod>2025-01-02</lastmod>"),
            step == 2,
            "step {step}: {sitemap}"
        );
        let feed = std::fs::read_to_string(served.join("feed.xml")).unwrap();
        assert_eq!(
            feed.matches("<entry>").count(),
            usize::from(step == 2),
            "step {step}: {feed}"
        );
    });
}

/// Front matter `cssclasses` become classes of the page's `<article>`, as Obsidian gives them
/// to the note's view: each value split at white space, escaped.
#[test]
fn cssclasses_are_classes_of_the_notes_article() {
    let (_dir, _, site) = crate::support::built_vault(&[
        (
            "Wide.md",
            "---\ncssclasses: [wide, \"cards dense\", 'a\"b']\n---\n# Wide\n",
        ),
        ("Plain.md", "# Plain\n"),
    ]);
    let pages = crate::support::note_pages(&site);
    let page = |name: &str| std::fs::read_to_string(&pages[name]).unwrap();
    assert!(
        page("Wide.md")
            .contains("<article class=\"note wide cards dense a&quot;b\" data-path=\"Wide.md\">"),
        "{}",
        page("Wide.md")
    );
    assert!(page("Plain.md").contains("<article class=\"note\" data-path=\"Plain.md\">"));
}

#[test]
fn an_output_folder_whose_parents_do_not_exist_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("public").join("docs").join("site");
    crate::support::build(&fixture("build-basic"), &site).assert_code(0);
    assert!(site.join("index.html").is_file());
    // The parse cache sits beside the site, in the folder that was created for it.
    assert!(dir.path().join("public/docs/.site.vaultc-cache").is_dir());
}

#[test]
fn an_unwritable_output_says_why_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("taken");
    std::fs::write(&file, "a file, not a folder").unwrap();
    let r = crate::support::build(&fixture("build-basic"), &file.join("site"));
    r.assert_code(2);
    assert!(r.stderr.contains("taken"), "names the path: {}", r.report());
    assert_eq!(
        r.stderr.matches("os error").count(),
        1,
        "the OS error is said once: {}",
        r.report()
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "a file, not a folder"
    );
}

/// A vault whose files sit where the site puts its own (`fixtures/site-collisions`): its
/// `index.html`, `graph-data.js`, `static/style.css`, an `index.html` in a note's page folder,
/// a file where a note's page folder goes, and a note in `tags/` where a tag's page would go.
/// The site keeps its own files; each attachment is copied under a numbered name, with a
/// warning, and links follow it (`[[c]]` names the note `c.md`, not the file `c`); the tag page
/// yields to the note. A build after an edit
/// updates that site in place to the bytes of a cold build.
#[test]
fn files_of_the_vault_never_overwrite_the_sites_own() {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("vault");
    crate::support::copy_dir(&fixture("site-collisions"), &vault);
    let site = dir.path().join("site");
    let run = crate::support::build(&vault, &site);
    run.assert_code(0);
    let moved = |from: &str, to: &str| {
        assert!(
            run.stderr.contains(&format!(
                "{from}:1:1: warning[slug-collision]: the site makes \"{from}\" itself; this attachment is copied to \"{to}\""
            )),
            "{from} -> {to}:\n{}",
            run.stderr
        );
        assert_eq!(
            std::fs::read(site.join(to)).unwrap(),
            std::fs::read(vault.join(from)).unwrap(),
            "{to} holds {from}"
        );
    };
    moved("index.html", "index-2.html");
    moved("graph-data.js", "graph-data-2.js");
    moved("static/style.css", "static/style-2.css");
    moved("home/index.html", "home/index-2.html");
    moved("c", "c-2");
    let read = |file: &str| std::fs::read_to_string(site.join(file)).unwrap();
    for page in [
        "index.html",
        "home/index.html",
        "c/index.html",
        "tags/x/index.html",
    ] {
        assert!(
            read(page).contains("name=\"generator\" content=\"vaultc"),
            "{page}"
        );
    }
    assert!(read("graph-data.js").contains("window."));
    assert!(
        read("static/style.css").len() > 1000,
        "the theme's style sheet"
    );
    assert!(read("tags/x/index.html").contains("The x tag"));
    let tag = read("tags/x-2/index.html");
    assert!(tag.contains("page-tag") && tag.contains("Home"), "{tag}");
    let home = read("home/index.html");
    // `[[c]]` names the note `c.md`, not the file `c` beside it (copied all the same).
    assert!(!home.contains("href=\"../c-2\""), "{home}");
    for href in [
        "../index-2.html",
        "../graph-data-2.js",
        "../static/style-2.css",
        "../home/index-2.html",
        "../c/index.html",
        "../tags/x/index.html",
        "../tags/x-2/index.html",
    ] {
        assert!(
            home.contains(&format!("href=\"{href}\"")),
            "{href} in {home}"
        );
    }

    // An edit, built in place, gives the site a cold build gives.
    let note = vault.join("Home.md");
    let text = std::fs::read_to_string(&note).unwrap();
    std::fs::write(&note, format!("{text}\nOne more line.\n")).unwrap();
    crate::support::build(&vault, &site).assert_code(0);
    let cold = dir.path().join("cold");
    crate::support::build_with(&vault, &cold, &["--full", "--no-cache"]).assert_code(0);
    crate::support::assert_same_tree(&site, &cold);
}

/// With `[site] url`, a note page names its link-preview image (`og:image`, and a large
/// Twitter card): the front matter's `image` or `cover` as Obsidian Publish reads them (an
/// address as it is; a vault path or a `[[link]]` to an image, at the copied image's address),
/// else the first image the note embeds. A vault path the vault does not have is a
/// `missing-attachment` error at the path; an address is no link. Without a url, no image.
#[test]
fn a_note_page_names_its_link_preview_image() {
    let notes = [
        (
            "Cover.md",
            "---\ntitle: Cover\ncover: \"Attachments/Cover image.png\"\n---\n![[pic.png]]\n",
        ),
        ("Linked.md", "---\nimage: \"[[pic.png]]\"\n---\n# Linked\n"),
        (
            "External.md",
            "---\nimage: https://cdn.example.com/a b.png\n---\n![[pic.png]]\n",
        ),
        (
            "Embeds.md",
            "# Embeds\n\n![[Linked]] ![[doc.pdf]] ![[pic.png]]\n",
        ),
        (
            "Missing.md",
            "---\ncover: Attachments/nope.png\n---\n# Missing\n",
        ),
        (
            "Plain.md",
            "# Plain\n\n[[pic.png]] is linked, not embedded.\n",
        ),
        (
            "Both.md",
            "---\ncover: \"[[pic.png]]\"\nimage: https://cdn.example.com/first.png\n---\n# Both\n",
        ),
        ("Attachments/Cover image.png", "png"),
        ("media/pic.png", "png"),
        ("doc.pdf", "pdf"),
    ];
    let mut with_url = notes.to_vec();
    // The missing image is an error; built as a warning here, to look at the site.
    with_url.push((
        "vaultc.toml",
        "[site]\nurl = \"https://example.org/notes\"\n\n[lints]\nmissing-attachment = \"warn\"\n",
    ));
    let (_dir, vault, site) = crate::support::built_vault(&with_url);
    let image = |page: &str| -> Option<String> {
        let html = std::fs::read_to_string(site.join(page).join("index.html")).unwrap();
        let at = html.find("<meta property=\"og:image\" content=\"")?;
        let rest = &html[at + 35..];
        let address = rest[..rest.find('"').unwrap()].to_string();
        assert!(
            rest.contains("\">\n<meta name=\"twitter:card\" content=\"summary_large_image\">"),
            "{html}"
        );
        Some(address)
    };
    let base = "https://example.org/notes/";
    assert_eq!(
        image("cover").as_deref(),
        Some(format!("{base}Attachments/Cover%20image.png").as_str()),
        "the front matter's image, not the embedded one"
    );
    let pic = format!("{base}media/pic.png");
    assert_eq!(image("linked").as_deref(), Some(pic.as_str()));
    assert_eq!(
        image("external").as_deref(),
        Some("https://cdn.example.com/a b.png")
    );
    assert_eq!(
        image("embeds").as_deref(),
        Some(pic.as_str()),
        "the first embedded image, past a note and a PDF"
    );
    assert_eq!(image("missing"), None);
    assert_eq!(image("plain"), None, "a link is not an embed");
    assert_eq!(
        image("both").as_deref(),
        Some("https://cdn.example.com/first.png"),
        "`image` before `cover`, wherever each is written"
    );
    let (v, _) = crate::support::check_json(&vault);
    let missing = crate::support::assert_diag(&v, "missing-attachment", "Missing.md", 2, 8);
    assert!(
        missing["message"].as_str().unwrap().contains("nope.png"),
        "{missing}"
    );
    assert_eq!(
        crate::support::diags_with_code(&v, "missing-attachment").len(),
        1,
        "the other values resolve, and an address is no link: {v}"
    );
    // Without a url, no page names an image.
    let mut without_url = notes.to_vec();
    without_url.push(("vaultc.toml", "[lints]\nmissing-attachment = \"warn\"\n"));
    let (_dir, _, site) = crate::support::built_vault(&without_url);
    for (page, html) in &html_pages(&site) {
        assert!(!html.contains("og:image"), "{}", page.display());
    }
}

#[test]
fn a_site_built_inside_the_vault_is_never_read_as_part_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("vault");
    crate::support::copy_dir(&fixture("build-basic"), &vault);
    let (before, _) = crate::support::check_json(&vault);
    let graph_before = crate::support::graph_json(&vault);
    // `vaultc build` run in the vault, as a user first runs it: the site goes to `./site`.
    let r = crate::support::run_cmd(crate::support::vaultc().arg("build").current_dir(&vault));
    r.assert_code(0);
    let site = vault.join("site");
    assert!(site.join("index.html").is_file(), "{}", r.report());
    assert!(site.join("pic.png").is_file(), "the attachment is copied");
    // `check` and `graph`, which have no output folder to skip, do not read the site's copies
    // of the attachments, its theme's files or its pages.
    let (after, _) = crate::support::check_json(&vault);
    assert_eq!(
        crate::support::show_diags(&after),
        crate::support::show_diags(&before)
    );
    assert_eq!(after["summary"], before["summary"]);
    let graph_after = crate::support::graph_json(&vault);
    assert_eq!(graph_after, graph_before);
    // A second build, now into another folder, publishes the vault alone: the same site.
    let elsewhere = dir.path().join("elsewhere");
    crate::support::build(&vault, &elsewhere).assert_code(0);
    crate::support::assert_same_tree(&site, &elsewhere);
    // A folder that merely looks like a site (no marker) is still read.
    std::fs::create_dir_all(vault.join("public")).unwrap();
    std::fs::write(vault.join("public/Kept.md"), "# Kept\n").unwrap();
    let (kept, _) = crate::support::check_json(&vault);
    assert_eq!(
        crate::support::summary(&kept, "notes"),
        crate::support::summary(&before, "notes") + 1
    );
}

#[test]
fn a_search_excerpt_starts_with_the_notes_words_not_its_opening_heading() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    crate::support::build(&fixture("build-basic"), &site).assert_code(0);
    let docs = crate::support::search_docs(&site);
    let home = docs
        .iter()
        .find(|d| d["path"] == "Home.md")
        .expect("Home.md is a search document");
    // `# Home` opens the note: the excerpt (shown under the title) starts with its text.
    assert_eq!(home["title"], "Home");
    assert!(
        home["excerpt"]
            .as_str()
            .unwrap()
            .starts_with("Welcome. See Concepts/Alpha and Beta > Details."),
        "{home}"
    );
}

/// `[site] theme` in `vaultc.toml` names the theme `build` uses when the command line names
/// none, relative to the vault root; a theme folder inside the vault is the site's, not notes
/// or attachments; `check` plans the site with that theme's files, so an attachment where the
/// theme puts a file gets the same warning from both; `--theme` wins over it; a theme folder
/// that is not there stops both commands with a message saying so.
#[test]
fn a_theme_named_in_the_configuration_is_built_and_checked_with() {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("vault");
    let write = |rel: &str, text: &str| {
        let path = vault.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "Home.md",
        "# Home\n\nThe [brand](static/brand.css) sheet.\n",
    );
    write("static/brand.css", "/* the vault's */\n");
    write("theme/static/brand.css", "/* the theme's */\n");
    write("theme/README.md", "# Not a note\n");
    write("vaultc.toml", "[site]\ntheme = \"theme\"\n");
    let site = dir.path().join("site");
    let run = crate::support::build(&vault, &site);
    run.assert_code(0);
    let read = |file: &str| std::fs::read_to_string(site.join(file)).unwrap();
    assert_eq!(read("static/brand.css"), "/* the theme's */\n");
    assert_eq!(read("static/brand-2.css"), "/* the vault's */\n");
    let moved = "static/brand.css:1:1: warning[slug-collision]: the site makes \"static/brand.css\" itself; this attachment is copied to \"static/brand-2.css\"";
    assert!(run.stderr.contains(moved), "{}", run.report());
    assert!(read("home/index.html").contains("href=\"../static/brand-2.css\""));
    assert!(
        !site.join("theme").exists(),
        "the theme is not copied as vault files"
    );

    let (v, code) = crate::support::check_json(&vault);
    assert_eq!(code, 0, "{}", crate::support::show_diags(&v));
    let collision = crate::support::assert_diag(&v, "slug-collision", "static/brand.css", 1, 1);
    assert!(
        collision["message"]
            .as_str()
            .unwrap()
            .contains("static/brand-2.css"),
        "{collision}"
    );
    assert_eq!(
        v["summary"]["notes"], 1,
        "the theme's README is not a note: {v}"
    );

    // The command line's theme wins.
    let other = dir.path().join("other");
    std::fs::create_dir_all(other.join("static")).unwrap();
    std::fs::write(other.join("static/brand.css"), "/* another */\n").unwrap();
    crate::support::build_with(&vault, &site, &["--theme", other.to_str().unwrap()]).assert_code(0);
    assert_eq!(read("static/brand.css"), "/* another */\n");

    // A theme that is not there is an error of the command, not a silent default theme.
    write("vaultc.toml", "[site]\ntheme = \"no-such-theme\"\n");
    let before = crate::support::tree_bytes(&site);
    for r in [
        crate::support::build(&vault, &site),
        crate::support::run(["check".as_ref(), vault.as_os_str()]),
    ] {
        r.assert_code(2);
        assert!(
            r.stderr.contains("theme not found") && r.stderr.contains("no-such-theme"),
            "{}",
            r.report()
        );
    }
    assert_eq!(crate::support::tree_bytes(&site), before);
}
