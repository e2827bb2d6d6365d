//! `$inline$` and `$$display$$` math as MathML, which browsers lay out themselves: no script,
//! no network, and the page works from `file://` as every other page does. Obsidian renders
//! the same TeX with MathJax; pulldown-latex writes MathML Core from it.
//!
//! The TeX comes from the note, so it is bounded before it reaches the renderer: a formula
//! that defines macros (whose expansions can double with each definition), is longer than
//! [`MAX_TEX_BYTES`], or makes more than [`MAX_EVENTS`] events is shown as its source, as it
//! was before math was rendered; so is one the renderer panics on.

use pulldown_latex::config::{DisplayMode, RenderConfig};
use pulldown_latex::{push_mathml, Parser, Storage};

use super::raw_html::{self, Policy};
use crate::render::html::escape;

/// Longest formula rendered, in bytes (a page of dense TeX is a few kilobytes).
pub const MAX_TEX_BYTES: usize = 16 * 1024;

/// Most parser events one formula may make (a formula of [`MAX_TEX_BYTES`] makes far fewer).
pub const MAX_EVENTS: usize = 100_000;

/// TeX commands that define macros: their expansions are not bounded by the formula's length.
const DEFINITIONS: &[&str] = &[
    "\\def",
    "\\gdef",
    "\\edef",
    "\\xdef",
    "\\let",
    "\\newcommand",
    "\\renewcommand",
    "\\providecommand",
    "\\DeclareMathOperator",
];

/// The HTML of one formula: `<span class="math math-inline">` (or `math-display`) around its
/// MathML, with the TeX kept as the formula's annotation; its escaped source when it is not
/// rendered (see the module).
pub fn math_html(tex: &str, display: bool) -> String {
    let class = if display {
        "math math-display"
    } else {
        "math math-inline"
    };
    let mut out = format!("<span class=\"{class}\">");
    match mathml(tex, display) {
        Some(mathml) => out.push_str(&mathml),
        None => out.push_str(&escape(tex)),
    }
    out.push_str("</span>");
    out
}

/// The MathML of `tex`, or `None` when it is not rendered.
fn mathml(tex: &str, display: bool) -> Option<String> {
    if tex.len() > MAX_TEX_BYTES || DEFINITIONS.iter().any(|d| tex.contains(d)) {
        return None;
    }
    let config = RenderConfig {
        display_mode: if display {
            DisplayMode::Block
        } else {
            DisplayMode::Inline
        },
        ..RenderConfig::default()
    };
    std::panic::catch_unwind(|| {
        let storage = Storage::new();
        let mut events = 0usize;
        let mut too_many = false;
        let parser = Parser::new(tex, &storage).take_while(|_| {
            events += 1;
            too_many = events > MAX_EVENTS;
            !too_many
        });
        let mut out = String::with_capacity(tex.len() * 8 + 64);
        push_mathml(&mut out, parser, config).ok()?;
        (!too_many).then_some(out)
    })
    .ok()
    .flatten()
    .and_then(|raw| checked(&raw, tex))
}

/// MathML elements the renderer writes, sorted; any other tag in its output came from the TeX
/// (`\operatorname{<img ...>}` is copied as it is) and the formula is not rendered.
const ELEMENTS: &[&str] = &[
    "annotation",
    "math",
    "menclose",
    "merror",
    "mfrac",
    "mi",
    "mmultiscripts",
    "mn",
    "mo",
    "mover",
    "mpadded",
    "mphantom",
    "mprescripts",
    "mroot",
    "mrow",
    "ms",
    "mspace",
    "msqrt",
    "mstyle",
    "msub",
    "msubsup",
    "msup",
    "mtable",
    "mtd",
    "mtext",
    "mtr",
    "munder",
    "munderover",
    "none",
    "semantics",
];

/// MathML attributes the renderer writes (no event handlers, no URLs).
const ATTRIBUTES: &[&str] = &[
    "accent",
    "accentunder",
    "class",
    "columnalign",
    "columnlines",
    "columnspacing",
    "columnspan",
    "depth",
    "display",
    "displaystyle",
    "fence",
    "form",
    "frame",
    "height",
    "largeop",
    "linethickness",
    "lspace",
    "mathbackground",
    "mathcolor",
    "mathsize",
    "mathvariant",
    "maxsize",
    "minsize",
    "movablelimits",
    "notation",
    "rowalign",
    "rowlines",
    "rowspacing",
    "rowspan",
    "rspace",
    "scriptlevel",
    "separator",
    "stretchy",
    "style",
    "symmetric",
    "voffset",
    "width",
];

/// The MathML a note may get from the renderer: its elements with its attributes; any other
/// tag refuses the formula.
const MATHML: Policy = Policy {
    elements: ELEMENTS,
    attribute_allowed: mathml_attribute,
    refuse_others: true,
};

/// Whether the renderer's attribute `key="value"` may stay: one of [`ATTRIBUTES`], with
/// nothing in its value that loads or hides something.
fn mathml_attribute(_element: &str, key: &str, value: &str) -> bool {
    let value = value.to_ascii_lowercase();
    ATTRIBUTES.contains(&key)
        && !value.contains("url")
        && !value.contains("expression")
        && !value.contains('\\')
}

/// The renderer's output made safe to put in a page, with `tex` as its annotation: read as
/// a browser reads it ([`raw_html::filter`]), it may hold only [`ELEMENTS`] with
/// [`ATTRIBUTES`] (else `None`: the formula came with markup of its own); a `<`, `>` or `&`
/// of an operator, which the renderer leaves raw (`<mo><</mo>`), is text and escaped.
fn checked(raw: &str, tex: &str) -> Option<String> {
    let out = raw_html::filter(raw, &MATHML)?;
    // `<math ...>` CONTENT `</math>`: the content and the TeX go into `<semantics>`.
    let open_end = out.find('>')? + 1;
    let content_end = out.rfind("</math>")?;
    if !out.starts_with("<math") || content_end < open_end {
        return None;
    }
    let mut html = String::with_capacity(out.len() + tex.len() + 80);
    html.push_str(&out[..open_end]);
    // `<semantics>` shows its first child only: the content is one `<mrow>`.
    html.push_str("<semantics><mrow>");
    html.push_str(&out[open_end..content_end]);
    html.push_str("</mrow><annotation encoding=\"application/x-tex\">");
    html.push_str(&escape(tex));
    html.push_str("</annotation></semantics></math>");
    Some(html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mathml_element_list_is_sorted_for_binary_search() {
        assert!(ELEMENTS.is_sorted());
    }

    #[test]
    fn formulas_become_mathml_with_their_tex_kept() {
        let inline = math_html("x^2 < y", false);
        assert!(
            inline.starts_with("<span class=\"math math-inline\"><math"),
            "{inline}"
        );
        assert!(inline.contains("<msup>"), "{inline}");
        assert!(!inline.contains("display=\"block\""), "{inline}");
        // The source is escaped in its annotation.
        assert!(inline.contains("x^2 &lt; y</annotation>"), "{inline}");
        let display = math_html("\\frac{a}{b} \\sum_{i=1}^{N} i", true);
        assert!(
            display.starts_with("<span class=\"math math-display\"><math display=\"block\""),
            "{display}"
        );
        assert!(
            display.contains("<mfrac>") && display.ends_with("</math></span>"),
            "{display}"
        );
    }

    #[test]
    fn unbounded_or_unknown_tex_is_shown_as_its_source_or_an_error() {
        // Macro definitions can double their expansion with every line: not rendered.
        let bomb = "\\def\\a{xx}\\def\\b{\\a\\a}\\def\\c{\\b\\b} \\c & <";
        assert_eq!(
            math_html(bomb, false),
            "<span class=\"math math-inline\">\\def\\a{xx}\\def\\b{\\a\\a}\\def\\c{\\b\\b} \\c &amp; &lt;</span>"
        );
        let long = "x+".repeat(MAX_TEX_BYTES);
        assert!(!math_html(&long, true).contains("<math"));
        // An unknown command is the renderer's error, inside the formula: the page still shows it.
        let unknown = math_html("\\nosuchcommand{x}", false);
        assert!(
            unknown.contains("<math") && unknown.contains("merror"),
            "{unknown}"
        );
        // Markup in the TeX, which the renderer copies into its output, is refused whole.
        for hostile in [
            "\\operatorname{<img src=x onerror=alert(1)>}",
            "\\operatorname{<mi onclick=\"alert(1)\">}",
            "\\operatorname{</math><script>alert(1)</script>}",
        ] {
            let html = math_html(hostile, false);
            assert!(
                !html.contains("<math") && !html.contains("<img") && !html.contains("<script"),
                "{html}"
            );
            assert!(html.contains("&lt;"), "{html}");
        }
        // Operators the renderer leaves raw are escaped.
        let lt = math_html("a<b>c \\char38", false);
        assert!(
            lt.contains("<mo>&lt;</mo>") && lt.contains("<mo>&gt;</mo>"),
            "{lt}"
        );
        // Nothing at all, or only braces, still makes balanced markup.
        for tex in ["", "{", "}", "\\", "{{{{{{{{", "\\frac", "^_^"] {
            let html = math_html(tex, false);
            assert!(html.ends_with("</span>"), "{tex:?}: {html}");
        }
    }
}
