//! HTML snapshot tests: representative pages of `tests/fixtures/site-pages`, pinned with insta.
//! Only the `<main>` element is compared (the layout around it belongs to the theme), as mdBook
//! does. Review changes with `cargo insta review`.

use std::path::Path;

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
