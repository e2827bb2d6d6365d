//! The raw HTML of a note, made safe to publish: a vault may come from anyone (a shared or
//! downloaded vault, a pull request to a team wiki), and its HTML lands in pages next to the
//! site's own scripts. Obsidian's reading view sanitises it too (DOMPurify); vaultc keeps what
//! notes use HTML for (layout, `<details>`, colour, `<img>`, video `<iframe>`s) and drops
//! scripts, event handlers, `javascript:` URLs, styles that load things, and elements that
//! change the page itself (`<base>`, `<meta>`, `<link>`, forms).
//!
//! html5ever's tokenizer reads the HTML exactly as a browser would (attributes, entities,
//! raw text of `<script>`); each tag is then kept with its allowed attributes, or dropped.
//! Tags are filtered one by one, never balanced: a `<details>` opened in one HTML block and
//! closed in another, around markdown, stays as the note wrote it.

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

use crate::render::html::escape;

/// Elements dropped with everything inside them.
const DROPPED_WITH_CONTENT: &[&str] = &[
    "applet",
    "frameset",
    "noembed",
    "noframes",
    "noscript",
    "object",
    "plaintext",
    "script",
    "style",
    "template",
    "title",
    "xmp",
];

/// Elements a note's HTML keeps (with the attributes [`attribute_allowed`] lets through),
/// sorted; any other tag is dropped and its content kept.
const ELEMENTS: &[&str] = &[
    "a",
    "abbr",
    "acronym",
    "address",
    "article",
    "aside",
    "audio",
    "b",
    "bdi",
    "bdo",
    "big",
    "blockquote",
    "br",
    "caption",
    "center",
    "cite",
    "code",
    "col",
    "colgroup",
    "data",
    "dd",
    "del",
    "details",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "font",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "hr",
    "i",
    "iframe",
    "img",
    "input",
    "ins",
    "kbd",
    "label",
    "li",
    "main",
    "mark",
    "meter",
    "nav",
    "ol",
    "p",
    "picture",
    "pre",
    "progress",
    "q",
    "rp",
    "rt",
    "ruby",
    "s",
    "samp",
    "section",
    "small",
    "source",
    "span",
    "strike",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "textarea",
    "tfoot",
    "th",
    "thead",
    "time",
    "tr",
    "track",
    "tt",
    "u",
    "ul",
    "var",
    "video",
    "wbr",
];

/// Which tags and attributes a [`filter`] keeps.
pub struct Policy {
    /// The elements kept, sorted.
    pub elements: &'static [&'static str],
    /// Whether attribute `key="value"` may stay on element `element` (`element`, `key`,
    /// `value`).
    pub attribute_allowed: fn(&str, &str, &str) -> bool,
    /// Whether any other tag, or an attribute not allowed, refuses the whole input (the
    /// filter gives `None`) rather than being dropped (a tag's content kept).
    pub refuse_others: bool,
}

/// What a note's own HTML may keep: layout, not behaviour.
pub const NOTE_HTML: Policy = Policy {
    elements: ELEMENTS,
    attribute_allowed,
    refuse_others: false,
};

/// The raw HTML `html` (one HTML block, or one inline piece) with only what is safe kept.
pub fn sanitize(html: &str) -> String {
    filter(html, &NOTE_HTML).expect("the note policy drops tags, it never refuses")
}

/// `html` read as a browser reads it and written again with what `policy` keeps: text
/// escaped, kept tags with their allowed attributes (values escaped), no comments; `None` when
/// the policy refuses a tag.
pub fn filter(html: &str, policy: &Policy) -> Option<String> {
    let sink = Filter {
        policy,
        out: RefCell::default(),
        dropping: RefCell::default(),
        refused: std::cell::Cell::new(false),
    };
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    // The filter never asks the tokenizer to stop for a script, so it runs to the end.
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    let sink = tokenizer.sink;
    (!sink.refused.get()).then(|| sink.out.into_inner())
}

/// The token sink: writes what it keeps as it goes.
struct Filter<'p> {
    policy: &'p Policy,
    out: RefCell<String>,
    /// The element being dropped with its content, until its end tag.
    dropping: RefCell<Option<String>>,
    /// A tag the policy refuses was met.
    refused: std::cell::Cell<bool>,
}

impl TokenSink for Filter<'_> {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let mut out = self.out.borrow_mut();
        let mut dropping = self.dropping.borrow_mut();
        match token {
            Token::TagToken(tag) => {
                let name: &str = &tag.name;
                if let Some(dropped) = dropping.as_deref() {
                    if tag.kind == TagKind::EndTag && name == dropped {
                        *dropping = None;
                    }
                    return TokenSinkResult::Continue;
                }
                let kept = self.policy.elements.binary_search(&name).is_ok();
                if !kept && self.policy.refuse_others {
                    self.refused.set(true);
                    return TokenSinkResult::Continue;
                }
                if tag.kind == TagKind::StartTag && DROPPED_WITH_CONTENT.contains(&name) {
                    if name == "plaintext" {
                        *dropping = Some(name.to_string());
                        return TokenSinkResult::Plaintext;
                    }
                    if !tag.self_closing {
                        *dropping = Some(name.to_string());
                    }
                } else if kept
                    && !write_tag(&mut out, &tag, self.policy.attribute_allowed)
                    && self.policy.refuse_others
                {
                    self.refused.set(true);
                }
                // The content of these elements is text to the browser, whatever it holds.
                if tag.kind == TagKind::StartTag && !tag.self_closing {
                    let raw = match name {
                        "script" => Some(RawKind::ScriptData),
                        "style" | "xmp" | "iframe" | "noembed" | "noframes" | "noscript" => {
                            Some(RawKind::Rawtext)
                        }
                        "textarea" | "title" => Some(RawKind::Rcdata),
                        _ => None,
                    };
                    if let Some(raw) = raw {
                        return TokenSinkResult::RawData(raw);
                    }
                }
            }
            Token::CharacterTokens(text) if dropping.is_none() => out.push_str(&escape(&text)),
            // Comments, doctypes, NUL characters and parse errors show nothing.
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

/// `<name attr="value"...>` or `</name>`, with the allowed attributes, values escaped;
/// whether every attribute was allowed.
fn write_tag(out: &mut String, tag: &Tag, attribute_allowed: fn(&str, &str, &str) -> bool) -> bool {
    let name: &str = &tag.name;
    out.push('<');
    if tag.kind == TagKind::EndTag {
        out.push('/');
        out.push_str(name);
        out.push('>');
        return true;
    }
    let mut all = true;
    out.push_str(name);
    for attribute in &tag.attrs {
        if !attribute.name.ns.is_empty() {
            all = false;
            continue;
        }
        let key: &str = &attribute.name.local;
        let value: &str = &attribute.value;
        if attribute_allowed(name, key, value) {
            out.push(' ');
            out.push_str(key);
            out.push_str("=\"");
            out.push_str(&escape(value));
            out.push('"');
        } else {
            all = false;
        }
    }
    if tag.self_closing {
        out.push_str(" /");
    }
    out.push('>');
    all
}

/// Whether attribute `key="value"` may stay on element `element`.
fn attribute_allowed(element: &str, key: &str, value: &str) -> bool {
    match key {
        "class" | "id" | "title" | "lang" | "dir" | "role" | "hidden" | "translate" => true,
        _ if key.starts_with("aria-") || key.starts_with("data-") => true,
        "style" => safe_style(value),
        "href" => {
            matches!(element, "a")
                && safe_url(value, &["http", "https", "mailto", "tel", "obsidian"])
        }
        "src" => {
            matches!(
                element,
                "img" | "iframe" | "video" | "audio" | "source" | "track"
            ) && (safe_url(value, &["http", "https"]) || element == "img" && is_data_image(value))
        }
        "poster" => element == "video" && safe_url(value, &["http", "https"]),
        "cite" => {
            matches!(element, "blockquote" | "q" | "del" | "ins")
                && safe_url(value, &["http", "https"])
        }
        _ => matches!(
            (element, key),
            ("a", "target" | "rel" | "name" | "hreflang")
                | ("img", "alt" | "width" | "height" | "loading" | "decoding")
                | (
                    "iframe",
                    "width"
                        | "height"
                        | "allow"
                        | "allowfullscreen"
                        | "frameborder"
                        | "loading"
                        | "referrerpolicy"
                        | "sandbox"
                )
                | (
                    "video" | "audio",
                    "controls" | "width" | "height" | "loop" | "muted" | "preload" | "playsinline"
                )
                | ("source", "type" | "media")
                | ("track", "kind" | "srclang" | "label" | "default")
                | (
                    "td" | "th",
                    "colspan" | "rowspan" | "align" | "valign" | "headers" | "scope"
                )
                | ("col" | "colgroup", "span" | "width")
                | (
                    "table",
                    "border" | "cellpadding" | "cellspacing" | "width" | "align"
                )
                | (
                    "p" | "div" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "tr",
                    "align"
                )
                | ("ol", "start" | "reversed" | "type")
                | ("ul", "type")
                | ("li", "value")
                | ("details", "open")
                | ("time" | "del" | "ins", "datetime")
                | ("data" | "meter" | "progress", "value")
                | ("meter", "min" | "max" | "low" | "high" | "optimum")
                | ("progress", "max")
                | ("font", "color" | "size" | "face")
                | ("label", "for")
                | ("input", "type" | "checked" | "disabled" | "value")
                | ("textarea", "rows" | "cols" | "readonly" | "disabled")
        ),
    }
}

/// A relative URL, or one of `schemes` (what a browser would see: white space and control
/// characters inside the scheme do not hide it).
fn safe_url(value: &str, schemes: &[&str]) -> bool {
    let squeezed: String = value
        .chars()
        .filter(|c| !c.is_ascii_whitespace() && !c.is_control())
        .collect::<String>()
        .to_ascii_lowercase();
    match squeezed.find([':', '/', '?', '#']) {
        Some(at) if squeezed.as_bytes()[at] == b':' => schemes.contains(&&squeezed[..at]),
        _ => true,
    }
}

/// An inline raster image (`data:image/png;base64,...`), which notes pasted from the web hold.
fn is_data_image(value: &str) -> bool {
    let v = value.trim_start().to_ascii_lowercase();
    ["png", "gif", "jpeg", "jpg", "webp", "avif", "bmp"]
        .iter()
        .any(|t| {
            v.starts_with(&format!("data:image/{t};")) || v.starts_with(&format!("data:image/{t},"))
        })
}

/// A `style` attribute that only styles: nothing that loads a URL, runs script, or hides
/// such a thing behind escapes or comments.
fn safe_style(value: &str) -> bool {
    let v = value.to_ascii_lowercase();
    ![
        "url(",
        "image(",
        "image-set(",
        "expression",
        "javascript:",
        "@import",
        "behavior",
        "binding",
        "\\",
        "/*",
    ]
    .iter()
    .any(|bad| v.contains(bad))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_lists_are_sorted_for_binary_search() {
        assert!(ELEMENTS.is_sorted());
    }

    #[test]
    fn what_notes_use_html_for_stays_as_written() {
        for html in [
            "<div class=\"x\">\nraw html\n</div>\n",
            "<details>",
            "</details>",
            "<summary>More</summary>",
            "<span style=\"color: red\">red</span>",
            "<font color=\"blue\">b</font> <center>c</center> <kbd>Ctrl</kbd> <br> <br />",
            "<img src=\"pics/a.png\" width=\"300\" alt=\"A\">",
            "<img src=\"data:image/png;base64,iVBORw0KGgo=\">",
            "<a href=\"https://example.com/x?y=1#z\" target=\"_blank\">x</a>",
            "<a href=\"obsidian://open?vault=v\">o</a> <a href=\"#h\">h</a> <a href=\"mailto:a@b.c\">m</a>",
            "<iframe width=\"560\" height=\"315\" src=\"https://www.youtube.com/embed/xyz\" allowfullscreen></iframe>",
            "<table><tr><td colspan=\"2\">a &amp; b &lt; c</td></tr></table>",
        ] {
            assert_eq!(sanitize(html), html.replace("allowfullscreen>", "allowfullscreen=\"\">"), "{html}");
        }
    }

    #[test]
    fn scripts_handlers_and_dangerous_urls_are_dropped() {
        let cases = [
            ("<script>alert(1)</script>after", "after"),
            ("<SCRIPT>if (a < b) { x('</div>') }</SCRIPT>ok", "ok"),
            ("<style>body { display: none }</style>", ""),
            ("<img src=x onerror=\"alert(1)\">", "<img src=\"x\">"),
            ("<a href=\"javascript:alert(1)\">j</a>", "<a>j</a>"),
            ("<a href=\" java\nscript:alert(1)\">j</a>", "<a>j</a>"),
            ("<a href=\"JaVaScRiPt&colon;alert(1)\">j</a>", "<a>j</a>"),
            (
                "<iframe src=\"javascript:alert(1)\"></iframe>",
                "<iframe></iframe>",
            ),
            (
                "<div onclick=\"alert(1)\" onmouseover=x>d</div>",
                "<div>d</div>",
            ),
            (
                "<span style=\"background: url(https://t.example/p)\">s</span>",
                "<span>s</span>",
            ),
            (
                "<span style=\"x: expr\\65 ssion(alert(1))\">s</span>",
                "<span>s</span>",
            ),
            (
                "<base href=\"https://evil.example/\"><meta http-equiv=\"refresh\" content=\"0\">",
                "",
            ),
            (
                "<link rel=stylesheet href=x><form action=x><input type=checkbox checked></form>",
                "<input type=\"checkbox\" checked=\"\">",
            ),
            (
                "<svg><script>alert(1)</script><circle onload=alert(1) /></svg>t",
                "t",
            ),
            ("<!-- hidden --><object data=x>fallback</object>", ""),
            ("<img src=\"data:image/svg+xml;base64,PHN2Zz4=\">", "<img>"),
            ("<unknown-tag x=1>kept text</unknown-tag>", "kept text"),
            ("<plaintext><b>everything after</b>", ""),
        ];
        for (html, safe) in cases {
            assert_eq!(sanitize(html), safe, "{html}");
        }
    }

    #[test]
    fn broken_html_never_escapes_into_markup() {
        for html in [
            "<",
            "<a",
            "<a href=\"x",
            "<div <script>",
            "</",
            "<!--",
            "&",
            "<<>>",
            "<img src=x onerror=alert(1)//",
        ] {
            let out = sanitize(html);
            assert!(
                !out.contains("onerror") && !out.contains("<script"),
                "{html:?}: {out}"
            );
        }
    }
}
