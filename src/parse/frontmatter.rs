//! Front matter: the YAML between `---` lines at the very top of a note.
//!
//! Parsed with serde-saphyr into a generic JSON value (see ARCHITECTURE.md for the choice).
//! Invalid YAML is an `invalid-front-matter` diagnostic at the line the parser names; the note
//! keeps its body. Quoted `[[links]]` in property values become [`LinkKind::Property`] links.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use crate::diag::{Code, Diagnostic};
use crate::parse::links::split_wikilink;
use crate::source::{LineIndex, Span, VaultPath};
use crate::vault::{FrontMatter, Link, LinkKind, TagUse};

/// Finds the front matter: returns the YAML's byte range and where the body starts.
pub fn split(text: &str) -> Option<(Range<usize>, usize)> {
    let first_end = text.find('\n')?;
    if text[..first_end].trim_end() != "---" {
        return None;
    }
    let yaml_start = first_end + 1;
    let mut pos = yaml_start;
    while pos <= text.len() {
        let end = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
        let line = text[pos..end].trim_end();
        if line == "---" || line == "..." {
            return Some((yaml_start..pos, (end + 1).min(text.len())));
        }
        if end == text.len() {
            break;
        }
        pos = end + 1;
    }
    None
}

/// What the front matter contributed to a note.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Recognised keys.
    pub front_matter: FrontMatter,
    /// Tags from `tags` / `tag`.
    pub tags: Vec<TagUse>,
    /// Quoted `[[links]]` in property values.
    pub links: Vec<Link>,
    /// Invalid YAML, deprecated keys.
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses the YAML in `text[yaml]`.
pub fn parse(path: &VaultPath, text: &str, yaml: Range<usize>, is_template: bool) -> Parsed {
    let mut out = Parsed {
        front_matter: FrontMatter {
            publish: true,
            ..FrontMatter::default()
        },
        ..Parsed::default()
    };
    let source = &text[yaml.clone()];
    if source.trim().is_empty() {
        return out;
    }
    let neutralised;
    let source = if is_template && (source.contains("{{") || source.contains("<%")) {
        neutralised = neutralise_placeholders(source);
        neutralised.as_str()
    } else {
        source
    };
    let parsed = match simple_yaml(source) {
        Some(map) => Ok(Value::Object(map)),
        None => serde_saphyr::from_str(source),
    };
    let value: Value = match parsed {
        Ok(v) => v,
        Err(err) => {
            let location = err.location();
            let yaml_line = location.map_or(1, |l| l.line().max(1)) as u32;
            let yaml_column = location.map_or(1, |l| l.column().max(1)) as usize;
            // Only broken YAML needs line numbers: index the lines here, not for every note.
            let lines = LineIndex::new(text);
            let first_line = lines.line(yaml.start as u32);
            let range = lines.line_range(text, first_line + yaml_line - 1);
            // Point at the column the parser names (it counts characters from 1).
            let line_text = &text[range.clone()];
            let start = range.start
                + line_text
                    .char_indices()
                    .nth(yaml_column - 1)
                    .map_or(line_text.len(), |(i, _)| i);
            let message = err.to_string();
            let message = message.lines().next().unwrap_or("invalid YAML");
            let message = YAML_LOCATION.replace(message, "");
            out.diagnostics.push(
                Diagnostic::new(
                    Code::InvalidFrontMatter,
                    path.clone(),
                    Span::new(start.min(range.end)..range.end),
                    format!("front matter is not valid YAML: {message}"),
                )
                .with_help(
                    "the note is still read; its properties are ignored until the YAML is fixed",
                ),
            );
            // Never publish a note its author hid, even when the rest of the YAML is broken.
            out.front_matter.publish = !HIDDEN.is_match(source);
            out.front_matter.draft = DRAFT.is_match(source);
            return out;
        }
    };
    let Value::Object(map) = value else {
        out.diagnostics.push(Diagnostic::new(
            Code::InvalidFrontMatter,
            path.clone(),
            Span::new(yaml.start..yaml.start),
            "front matter must be a mapping of keys to values",
        ));
        return out;
    };
    let key_span = |key: &str| -> Span {
        let mut offset = yaml.start;
        for line in source.split_inclusive('\n') {
            if line
                .strip_prefix(key)
                .is_some_and(|r| r.trim_start().starts_with(':'))
            {
                return Span::new(offset..offset + line.trim_end().len());
            }
            offset += line.len();
        }
        Span::new(yaml.start..yaml.start)
    };
    let fm = &mut out.front_matter;
    for (key, value) in &map {
        match key.as_str() {
            "title" => fm.title = scalar(value),
            "aliases" | "alias" => {
                if key == "aliases" && !value.is_array() && !value.is_null() {
                    out.diagnostics.push(
                        Diagnostic::new(
                            Code::DeprecatedProperty,
                            path.clone(),
                            key_span(key),
                            "`aliases` should be a list; a single value is read as a one-item list",
                        )
                        .with_help("write `aliases: [Name]` or one `- Name` item per line"),
                    );
                }
                fm.aliases.extend(strings(value));
            }
            "cssclasses" | "cssclass" => fm.cssclasses.extend(strings(value)),
            "tags" | "tag" => {
                let span = key_span(key);
                out.tags.extend(strings(value).into_iter().flat_map(|t| {
                    t.split([',', ' '])
                        .map(|t| t.trim().trim_start_matches('#').to_string())
                        .filter(|t| !t.is_empty())
                        .map(|name| TagUse { name, span })
                        .collect::<Vec<_>>()
                }));
            }
            "publish" => fm.publish = value.as_bool().unwrap_or(true),
            "draft" => fm.draft = value.as_bool().unwrap_or(false),
            "permalink" => fm.permalink = scalar(value),
            "description" | "summary" => {
                if fm.description.is_none() {
                    fm.description = scalar(value);
                }
            }
            "date" => fm.date = scalar(value),
            "vaultc" => {
                let allow = value.get("allow").map(strings).unwrap_or_default();
                let unknown_key = value
                    .as_object()
                    .and_then(|m| m.keys().find(|k| k.as_str() != "allow"));
                if let Some(k) = unknown_key {
                    out.diagnostics.push(Diagnostic::new(
                        Code::InvalidFrontMatter,
                        path.clone(),
                        key_span(key),
                        format!(
                            "unknown key `vaultc.{k}`; the only key is `allow` (a list of codes)"
                        ),
                    ));
                }
                for name in allow {
                    match crate::config::parse_code(&name) {
                        Ok(code) => fm.allow.push(code),
                        Err(message) => out.diagnostics.push(Diagnostic::new(
                            Code::InvalidFrontMatter,
                            path.clone(),
                            key_span(key),
                            format!("vaultc.allow: {message}"),
                        )),
                    }
                }
            }
            _ => fm.extra.push((key.clone(), value.clone())),
        }
        if matches!(key.as_str(), "tag" | "alias" | "cssclass") {
            out.diagnostics.push(
                Diagnostic::new(
                    Code::DeprecatedProperty,
                    path.clone(),
                    key_span(key),
                    format!("`{key}` is deprecated; Obsidian reads `{key}` only for compatibility"),
                )
                .with_help(format!("rename the key to `{}`", plural(key))),
            );
        }
    }
    out.links = property_links(&map, text, yaml.clone());
    // The link-preview image Obsidian Publish reads: a vault path there is a link to the
    // image (an address is used as it is, and a `[[link]]` is a property link already).
    for key in PREVIEW_IMAGE_KEYS {
        if let Some(Value::String(value)) = map.get(key) {
            out.links
                .extend(preview_image_link(value, key_span(key), text));
        }
    }
    out
}

/// The front-matter keys naming a page's link-preview image, as Obsidian Publish reads them
/// (`image` and `cover` mean the same; the first present wins).
pub const PREVIEW_IMAGE_KEYS: [&str; 2] = ["image", "cover"];

/// The link a preview image's vault path makes (`cover: "Attachments/Cover image.png"`), at
/// the path as written on the key's `line`: only a path to an image, not an address or a
/// value that holds a `[[link]]`.
fn preview_image_link(value: &str, line: Span, text: &str) -> Option<Link> {
    let path = value.trim();
    let extension = path.rsplit_once('.')?.1.to_ascii_lowercase();
    if path.contains("[[")
        || path.contains("://")
        || !super::links::IMAGE_EXTENSIONS.contains(&extension.as_str())
    {
        return None;
    }
    let line_text = text.get(line.range())?;
    let colon = line_text.find(':')?;
    let at = line.start as usize + colon + line_text[colon..].find(path)?;
    Some(Link {
        kind: LinkKind::Property,
        target: path.trim_start_matches('/').to_string(),
        fragment: None,
        label: None,
        span: Span::new(at..at + path.len()),
    })
}

/// A fast path for the plain YAML most front matter is: `key: value` lines at column 0, block
/// sequences (`- item`, one indent per sequence) and one-line flow sequences (`key: [a, b]`)
/// of scalars that are unambiguous: quoted
/// strings without escapes, words (letters first, then letters, digits, spaces, `-_/.`) that
/// are no YAML boolean or null, decimal integers without a leading zero, `YYYY-MM-DD` dates
/// (strings) and empty values (null). Returns exactly the map serde-saphyr would, or `None`
/// (anything else, duplicate keys, tabs, `\r`, comments) so the caller asks serde-saphyr.
fn simple_yaml(source: &str) -> Option<serde_json::Map<String, Value>> {
    if source.contains(['\r', '\t']) {
        return None;
    }
    let mut map = serde_json::Map::new();
    let mut lines = source.split('\n').peekable();
    while let Some(line) = lines.next() {
        if line.trim_start_matches(' ').is_empty() {
            continue;
        }
        let (key, rest) = line.split_once(':')?;
        if !is_simple_key(key) {
            return None;
        }
        let value = if rest.trim_matches(' ').is_empty() {
            let mut items = Vec::new();
            let mut indent = None;
            while let Some(&next) = lines.peek() {
                let trimmed = next.trim_start_matches(' ');
                if trimmed.is_empty() {
                    lines.next();
                    continue;
                }
                let at = next.len() - trimmed.len();
                let Some(item) = trimmed.strip_prefix("- ") else {
                    if at == 0 {
                        break;
                    }
                    return None;
                };
                if *indent.get_or_insert(at) != at {
                    return None;
                }
                items.push(simple_scalar(item.trim_matches(' '))?);
                lines.next();
            }
            if indent.is_some() {
                Value::Array(items)
            } else {
                Value::Null
            }
        } else {
            let value = rest.strip_prefix(' ')?.trim_matches(' ');
            match value.strip_prefix('[') {
                Some(flow) => simple_flow_sequence(flow.strip_suffix(']')?)?,
                None => simple_scalar(value)?,
            }
        };
        if map.insert(key.to_string(), value).is_some() {
            return None;
        }
    }
    Some(map)
}

/// The inside of a one-line flow sequence `[a, "b"]` of [`simple_scalar`]s (`[]` is empty).
fn simple_flow_sequence(inner: &str) -> Option<Value> {
    if inner.trim_matches(' ').is_empty() {
        return Some(Value::Array(Vec::new()));
    }
    inner
        .split(',')
        .map(|item| simple_scalar(item.trim_matches(' ')))
        .collect::<Option<Vec<_>>>()
        .map(Value::Array)
}

/// Words YAML (1.1 or 1.2) may read as something other than a string, in any case.
const YAML_WORDS: [&str; 12] = [
    "true", "false", "yes", "no", "y", "n", "on", "off", "null", "nan", "inf", "infinity",
];

fn is_simple_key(key: &str) -> bool {
    key.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && !YAML_WORDS.iter().any(|w| key.eq_ignore_ascii_case(w))
}

/// One scalar of [`simple_yaml`] (already trimmed), or `None` if it is not one of its forms.
fn simple_scalar(s: &str) -> Option<Value> {
    let quoted = |q: char| {
        let inner = s.strip_prefix(q)?.strip_suffix(q)?;
        let plain = !inner.contains(['"', '\'', '\\']) && !inner.chars().any(char::is_control);
        plain.then(|| Value::String(inner.to_string()))
    };
    let bytes = s.as_bytes();
    match bytes.first()? {
        b'"' => quoted('"'),
        b'\'' => quoted('\''),
        b'0'..=b'9' => {
            if bytes.iter().all(u8::is_ascii_digit) {
                let canonical = bytes.len() <= 15 && (bytes.len() == 1 || bytes[0] != b'0');
                let n = s.parse::<u64>().ok().filter(|_| canonical)?;
                Some(Value::from(n))
            } else {
                let date = bytes.len() == 10
                    && bytes.iter().enumerate().all(|(i, b)| match i {
                        4 | 7 => *b == b'-',
                        _ => b.is_ascii_digit(),
                    });
                date.then(|| Value::String(s.to_string()))
            }
        }
        _ => {
            let word = s.chars().next().is_some_and(char::is_alphabetic)
                && s.chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '/' | '.'))
                && !YAML_WORDS.iter().any(|w| s.eq_ignore_ascii_case(w));
            word.then(|| Value::String(s.to_string()))
        }
    }
}

static PLACEHOLDER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\{\{[^{}\n]*\}\}|<%[^\n]*?%>").expect("valid regex"));

/// Template placeholders (`{{date}}`, Templater's `<% tp.date.now() %>`) become quoted strings
/// of the same byte length, so the YAML parses and line numbers stay true.
fn neutralise_placeholders(source: &str) -> String {
    PLACEHOLDER
        .replace_all(source, |c: &regex::Captures| {
            let n = c[0].len();
            format!("\"{}\"", "_".repeat(n.saturating_sub(2)))
        })
        .into_owned()
}

fn plural(key: &str) -> &'static str {
    match key {
        "tag" => "tags",
        "alias" => "aliases",
        _ => "cssclasses",
    }
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().filter_map(scalar).collect(),
        other => scalar(other).into_iter().collect(),
    }
}

static YAML_LOCATION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(error: )?line \d+ column \d+: ").expect("valid regex"));
static HIDDEN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^publish:\s*(false|no|off)\s*$").expect("valid regex"));
static DRAFT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^draft:\s*(true|yes|on)\s*$").expect("valid regex"));

static WIKILINK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\[\[([^\[\]\n]+?)\]\]").expect("valid regex"));

/// Every link the strings `values` hold (as matched in each).
fn held_links<'a>(values: &[&'a str]) -> crate::source::FastSet<&'a str> {
    values
        .iter()
        .flat_map(|v| WIKILINK.find_iter(v).map(|m| m.as_str()))
        .collect()
}

/// Links written inside string property values. Positions come from the raw YAML text; a raw
/// occurrence counts only if some parsed string value contains it (so an unquoted `[[x]]`,
/// which YAML reads as a nested list, is not a link, as in Obsidian).
fn property_links(
    map: &serde_json::Map<String, Value>,
    text: &str,
    yaml: Range<usize>,
) -> Vec<Link> {
    let mut values = Vec::new();
    fn collect<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::String(s) if s.contains("[[") => out.push(s),
            Value::Array(items) => items.iter().for_each(|i| collect(i, out)),
            Value::Object(m) => m.values().for_each(|i| collect(i, out)),
            _ => {}
        }
    }
    map.values().for_each(|v| collect(v, &mut values));
    if values.is_empty() {
        return Vec::new();
    }
    // The links the values hold, in a set: the pattern allows no bracket inside a link, so a
    // raw link occurs in a value exactly when matching the value finds it (looking through
    // every value for each raw link made front matter of thousands of links quadratic).
    let held = held_links(&values);
    let source = &text[yaml.clone()];
    WIKILINK
        .captures_iter(source)
        .filter(|c| held.contains(&c[0]))
        .filter_map(|c| {
            let whole = c.get(0)?;
            let parts = split_wikilink(&c[1])?;
            Some(Link {
                kind: LinkKind::Property,
                target: parts.target,
                fragment: parts.fragment,
                label: parts.label,
                span: Span::new(yaml.start + whole.start()..yaml.start + whole.end()),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Parsed {
        let (yaml, _) = split(text).expect("front matter");
        let path = VaultPath::new("n.md").unwrap();
        parse(&path, text, yaml, false)
    }

    /// A link matched in the raw YAML is in the set of links the values hold exactly when
    /// some value contains it, brackets, newlines and all.
    #[test]
    fn links_held_by_values_are_those_some_value_contains() {
        let mut rng = crate::source::xorshift(0x1ab5);
        let pieces = [
            "[", "]", "[[", "]]", "a", "b c", "|", "#", "\n", "[[a]]", "[[b c]]",
        ];
        for _ in 0..2000 {
            let mut random =
                |n: usize| -> String { (0..n).map(|_| pieces[rng(pieces.len())]).collect() };
            let values: Vec<String> = (0..3).map(|_| random(6)).collect();
            let source = format!("{}{}{}", random(4), values.join(""), random(8));
            let values: Vec<&str> = values.iter().map(String::as_str).collect();
            let held = held_links(&values);
            for m in WIKILINK.find_iter(&source) {
                let x = m.as_str();
                assert_eq!(
                    held.contains(x),
                    values.iter().any(|v| v.contains(x)),
                    "{x:?} in {values:?}"
                );
            }
        }
    }

    #[test]
    fn template_placeholders_parse_in_templates_only() {
        let text = "---\ncreated: {{date}}\ntags: [a]\n---\n";
        let (yaml, _) = split(text).unwrap();
        let path = VaultPath::new("Templates/t.md").unwrap();
        assert!(parse(&path, text, yaml.clone(), true)
            .diagnostics
            .is_empty());
        assert_eq!(parse(&path, text, yaml, false).diagnostics.len(), 1);
    }

    /// The fast path gives exactly serde-saphyr's map (key order included) on generated YAML
    /// built from pieces near its edges, and declines often enough to be tested both ways.
    #[test]
    fn simple_yaml_agrees_with_serde_saphyr() {
        const KEYS: &[&str] = &[
            "title", "tags", "a-b", "x_1", "on", "Yes", "date", "n", "k", "related", "#c", " k",
        ];
        const SCALARS: &[&str] = &[
            "word",
            "two words",
            "研究/视觉",
            "a-b_c/d.e",
            "Yes",
            "off",
            "NULL",
            "Nan",
            "y",
            "~",
            "0",
            "7",
            "007",
            "42",
            "123456789012345",
            "1234567890123456",
            "1_000",
            "0x1f",
            "-1",
            "1.5",
            "2024-10-24",
            "2024-1-24",
            "\"[[Note A]]\"",
            "\"a \\\" b\"",
            "'it''s'",
            "'q'",
            "\"\"",
            "\"x # y\"",
            "a # c",
            "a: b",
            "[a, b]",
            "&x",
            "*x",
            "|",
            "e1",
            "naïve",
            "a  b",
            "\"tab\tx\"",
            "",
            "[]",
            "[ ]",
            "[a,b]",
            "[ a , 'q' ]",
            "[a, [b]]",
            "[a,]",
            "[\"a, b\"]",
            "[Yes, 007]",
            "[x, 2024-10-24, 5]",
            "[[x]]",
            "[a] # c",
            "[a, b",
            "[a,, b]",
            "[,]",
        ];
        let mut next = crate::source::xorshift(0x2545_f491_4f6c_dd1d);
        let (mut fast, mut total) = (0, 0);
        for _ in 0..20_000 {
            let mut doc = String::new();
            for _ in 0..1 + next(4) {
                doc.push_str(KEYS[next(KEYS.len())]);
                doc.push(':');
                if next(2) == 0 {
                    doc.push_str(&" ".repeat(1 + next(2) * next(2)));
                    doc.push_str(SCALARS[next(SCALARS.len())]);
                    doc.push_str(&" ".repeat(next(2)));
                    doc.push('\n');
                } else {
                    doc.push_str(if next(4) == 0 { " \n" } else { "\n" });
                    let indent = next(4);
                    for _ in 0..next(4) {
                        let at = if next(8) == 0 { next(4) } else { indent };
                        doc.push_str(&" ".repeat(at));
                        doc.push_str(["- ", "-  ", "-", "- - "][next(8).min(3) * next(2)]);
                        doc.push_str(SCALARS[next(SCALARS.len())]);
                        doc.push_str(if next(6) == 0 { "\n\n" } else { "\n" });
                    }
                }
            }
            total += 1;
            let Some(map) = simple_yaml(&doc) else {
                continue;
            };
            fast += 1;
            let saphyr: Value = serde_saphyr::from_str(&doc)
                .unwrap_or_else(|e| panic!("fast path accepted invalid YAML {doc:?}: {e}"));
            let Value::Object(expected) = saphyr else {
                panic!("fast path read a mapping in {doc:?}, serde-saphyr {saphyr:?}");
            };
            let pairs = |m: &serde_json::Map<String, Value>| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(pairs(&map), pairs(&expected), "{doc:?}");
        }
        assert!(
            fast > total / 20 && fast < total,
            "{fast} of {total} took the fast path"
        );
    }

    #[test]
    fn split_finds_closing_line() {
        let text = "---\na: 1\n---\nbody";
        let (yaml, body) = split(text).unwrap();
        assert_eq!(&text[yaml], "a: 1\n");
        assert_eq!(&text[body..], "body");
        assert!(split("---\nno end").is_none());
        assert!(split("text\n---\n").is_none());
    }

    #[test]
    fn keys_tags_aliases_and_property_links() {
        let p = run("---\ntitle: T\naliases: [A, B]\ntags: [x, '#y/z']\nrelated: \"[[Note#H|l]]\"\nup: [[Bare]]\ncustom: 3\n---\n");
        assert_eq!(p.front_matter.title.as_deref(), Some("T"));
        assert_eq!(p.front_matter.aliases, vec!["A", "B"]);
        let tags: Vec<_> = p.tags.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(tags, vec!["x", "y/z"]);
        assert_eq!(
            p.links.len(),
            1,
            "unquoted [[Bare]] is a YAML list, not a link"
        );
        assert_eq!(p.links[0].target, "Note");
        assert_eq!(p.front_matter.extra.len(), 3);
        assert!(p.diagnostics.is_empty());
    }

    #[test]
    fn invalid_yaml_reports_the_line() {
        let text = "---\ntitle: ok\nbad: [unclosed\nmore: x\n---\nbody\n";
        let p = run(text);
        assert_eq!(p.diagnostics.len(), 1);
        let d = &p.diagnostics[0];
        assert_eq!(d.code, Code::InvalidFrontMatter);
        let line = LineIndex::new(text).line(d.span.start);
        assert!((3..=5).contains(&line), "line {line}");
    }

    #[test]
    fn broken_yaml_still_hides_unpublished_notes() {
        let p = run("---\npublish: false\ntitle: [unclosed\n---\nbody\n");
        assert_eq!(p.diagnostics.len(), 1);
        assert!(!p.front_matter.publish);
        assert!(
            !p.diagnostics[0].message.contains("line 1 column"),
            "{}",
            p.diagnostics[0].message
        );
        assert!(run("---\ndraft: true\nx: [\n---\n").front_matter.draft);
    }

    #[test]
    fn deprecated_singular_keys_warn() {
        let p = run("---\ntag: a\nalias: b\n---\n");
        assert_eq!(p.diagnostics.len(), 2);
        assert!(p
            .diagnostics
            .iter()
            .all(|d| d.code == Code::DeprecatedProperty));
        assert_eq!(p.tags[0].name, "a");
        assert_eq!(p.front_matter.aliases, vec!["b"]);
    }
}
