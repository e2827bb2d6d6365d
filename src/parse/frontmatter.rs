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
pub fn parse(
    path: &VaultPath,
    text: &str,
    yaml: Range<usize>,
    lines: &LineIndex,
    is_template: bool,
) -> Parsed {
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
    let value: Value = match serde_saphyr::from_str(source) {
        Ok(v) => v,
        Err(err) => {
            let location = err.location();
            let yaml_line = location.map_or(1, |l| l.line().max(1)) as u32;
            let yaml_column = location.map_or(1, |l| l.column().max(1)) as usize;
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
    out.links = property_links(&map, text, yaml);
    out
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
    let source = &text[yaml.clone()];
    WIKILINK
        .captures_iter(source)
        .filter(|c| values.iter().any(|v| v.contains(&c[0])))
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
        parse(&path, text, yaml, &LineIndex::new(text), false)
    }

    #[test]
    fn template_placeholders_parse_in_templates_only() {
        let text = "---\ncreated: {{date}}\ntags: [a]\n---\n";
        let (yaml, _) = split(text).unwrap();
        let path = VaultPath::new("Templates/t.md").unwrap();
        let lines = LineIndex::new(text);
        assert!(parse(&path, text, yaml.clone(), &lines, true)
            .diagnostics
            .is_empty());
        assert_eq!(parse(&path, text, yaml, &lines, false).diagnostics.len(), 1);
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
