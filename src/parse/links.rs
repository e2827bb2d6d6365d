//! Splitting one link's source text into target, fragment and label (semantics file §1-2).

use crate::vault::Fragment;

/// File extensions Obsidian opens itself; a fragment on them is a viewer option, not a heading.
pub const ATTACHMENT_EXTENSIONS: &[&str] = &[
    "canvas", "base", "avif", "bmp", "gif", "jpeg", "jpg", "png", "svg", "webp", "flac", "m4a",
    "mp3", "ogg", "wav", "webm", "3gp", "mkv", "mov", "mp4", "ogv", "pdf",
];

/// Extensions of the images an embed shows as one (and a link-preview image can have).
pub const IMAGE_EXTENSIONS: &[&str] = &["avif", "bmp", "gif", "jpeg", "jpg", "png", "svg", "webp"];

/// The pieces of a wikilink: `target#fragment|label`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkParts {
    /// Trimmed target path (may be empty for `[[#H]]`).
    pub target: String,
    /// Parsed fragment.
    pub fragment: Option<Fragment>,
    /// Trimmed label; `None` when absent or empty (`[[x|]]` shows the target).
    pub label: Option<String>,
}

/// Splits the text between `[[` and `]]`. Returns `None` when it is not a link at all
/// (a newline in the target, or nothing but whitespace).
pub fn split_wikilink(inner: &str) -> Option<LinkParts> {
    let (target_part, label) = match inner.find('|') {
        Some(i) => {
            // `\|` (needed inside tables) is a separator too; the backslash is not part of the target.
            let target = inner[..i].strip_suffix('\\').unwrap_or(&inner[..i]);
            let label = inner[i + 1..].trim();
            (target, (!label.is_empty()).then(|| label.to_string()))
        }
        None => (inner, None),
    };
    if target_part.contains('\n') || target_part.trim().is_empty() {
        return None;
    }
    let (path, fragment) = match target_part.find('#') {
        Some(i) => (target_part[..i].trim(), Some(&target_part[i + 1..])),
        None => (target_part.trim(), None),
    };
    Some(LinkParts {
        target: path.to_string(),
        fragment: fragment.and_then(|f| parse_fragment(path, f)),
        label,
    })
}

/// Interprets the text after the first `#` for a link to `path`.
pub fn parse_fragment(path: &str, fragment: &str) -> Option<Fragment> {
    let fragment = fragment.trim();
    if fragment.is_empty() {
        return None;
    }
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_lowercase())
        .unwrap_or_default();
    if ATTACHMENT_EXTENSIONS.contains(&ext.as_str()) {
        return Some(Fragment::Viewer(fragment.to_string()));
    }
    if let Some(id) = fragment.strip_prefix('^') {
        return Some(Fragment::Block(id.trim().to_string()));
    }
    let parts: Vec<String> = fragment
        .split('#')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    (!parts.is_empty()).then_some(Fragment::Heading(parts))
}

/// Interprets a markdown link destination. Returns `None` for external URLs (any scheme,
/// `//host`) and empty destinations; percent-decodes local paths.
pub fn split_markdown_dest(dest: &str) -> Option<LinkParts> {
    let dest = dest.trim();
    if dest.is_empty() || dest.starts_with("//") || has_scheme(dest) {
        return None;
    }
    let (path, fragment) = match dest.find('#') {
        Some(i) => (&dest[..i], Some(&dest[i + 1..])),
        None => (dest, None),
    };
    let path = decode(path);
    let path = path.trim().to_string();
    let fragment = fragment.map(decode);
    if path.is_empty() && fragment.as_deref().is_none_or(|f| f.trim().is_empty()) {
        return None;
    }
    Some(LinkParts {
        fragment: fragment.and_then(|f| parse_fragment(&path, &f)),
        target: path,
        label: None,
    })
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

fn has_scheme(dest: &str) -> bool {
    match dest.find(':') {
        Some(i) if i > 0 => {
            let scheme = &dest[..i];
            scheme
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(inner: &str) -> (String, Option<Fragment>, Option<String>) {
        let p = split_wikilink(inner).expect("a link");
        (p.target, p.fragment, p.label)
    }

    #[test]
    fn label_after_first_pipe_and_escaped_pipe() {
        assert_eq!(parts("Note|a|b").2.as_deref(), Some("a|b"));
        assert_eq!(parts("Note\\|lab").0, "Note");
        assert_eq!(parts("Note\\|lab").2.as_deref(), Some("lab"));
        assert_eq!(parts("Note|").2, None);
    }

    #[test]
    fn targets_are_trimmed_and_newlines_are_not_links() {
        assert_eq!(parts(" Quick Switcher ").0, "Quick Switcher");
        assert!(split_wikilink("a\nb").is_none());
        assert!(split_wikilink("  ").is_none());
    }

    #[test]
    fn fragments_headings_chains_blocks_and_viewer_options() {
        assert_eq!(
            parts("Note#H1#H2").1,
            Some(Fragment::Heading(vec!["H1".into(), "H2".into()]))
        );
        assert_eq!(parts("#^abc-1").1, Some(Fragment::Block("abc-1".into())));
        assert_eq!(parts("#^abc-1").0, "");
        assert_eq!(
            parts("doc.pdf#page=3").1,
            Some(Fragment::Viewer("page=3".into()))
        );
        assert_eq!(parts("^id").0, "^id");
        assert_eq!(parts("^id").1, None);
    }

    #[test]
    fn markdown_destinations() {
        let p = split_markdown_dest("My%20Note.md#Some%20Heading").unwrap();
        assert_eq!(p.target, "My Note.md");
        assert_eq!(
            p.fragment,
            Some(Fragment::Heading(vec!["Some Heading".into()]))
        );
        assert!(split_markdown_dest("https://example.com/x.md").is_none());
        assert!(split_markdown_dest("mailto:a@b.c").is_none());
        assert!(split_markdown_dest("//cdn/x.png").is_none());
        assert_eq!(split_markdown_dest("#Intro").unwrap().target, "");
    }
}
