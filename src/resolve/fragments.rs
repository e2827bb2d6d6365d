//! Heading and block fragments (semantics file §4).

use crate::vault::{Heading, Note};

/// Normalises heading text and fragments alike: `# | ^ : % [ ] \` become spaces, whitespace
/// collapses, case folds.
pub fn normalize_heading(text: &str) -> String {
    if text.is_ascii() {
        normalize_ascii(text.as_bytes())
    } else {
        normalize_chars(text)
    }
}

/// [`normalize_heading`] for any text, char by char, then case-folded.
fn normalize_chars(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        let c = match c {
            '#' | '|' | '^' | ':' | '%' | '[' | ']' | '\\' => ' ',
            c => c,
        };
        if c.is_whitespace() {
            space = !out.is_empty();
        } else {
            if space {
                out.push(' ');
                space = false;
            }
            out.push(c);
        }
    }
    crate::source::fold_name(&out)
}

/// [`normalize_heading`] for ASCII text, byte by byte (lower-casing as it goes).
fn normalize_ascii(text: &[u8]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for &b in text {
        let b = match b {
            b'#' | b'|' | b'^' | b':' | b'%' | b'[' | b']' | b'\\' => b' ',
            b => b,
        };
        if (b as char).is_whitespace() {
            space = !out.is_empty();
        } else {
            if space {
                out.push(' ');
                space = false;
            }
            out.push(b.to_ascii_lowercase() as char);
        }
    }
    out
}

/// Finds the heading a chain `H1#H2#...` names: each component inside the previous one's
/// section; if the chain does not match, the last component anywhere.
pub fn find_heading(note: &Note, chain: &[String]) -> Option<usize> {
    let wanted: Vec<String> = chain.iter().map(|c| normalize_heading(c)).collect();
    let headings = &note.headings;
    // Obsidian compares with the heading as written (`` `id` ``); readers also write the text
    // as shown (`id`): accept either.
    if let Some(found) = find_chain(headings, &wanted) {
        return Some(found);
    }
    let last = wanted.last()?;
    headings.iter().position(|h| h.keys.contains(last))
}

/// A heading's source without `#` markers or a setext underline.
pub fn raw_heading_text(raw: &str) -> &str {
    let first_line = raw.lines().next().unwrap_or("").trim();
    if first_line.starts_with('#') {
        first_line
            .trim_start_matches('#')
            .trim_end_matches('#')
            .trim()
    } else {
        first_line
    }
}

fn find_chain(headings: &[Heading], wanted: &[String]) -> Option<usize> {
    let (mut from, mut to) = (0, headings.len());
    let mut found = None;
    for part in wanted {
        let i = (from..to).find(|&i| headings[i].keys.contains(part))?;
        let level = headings[i].level;
        let end = (i + 1..to)
            .find(|&j| headings[j].level <= level)
            .unwrap_or(to);
        found = Some(i);
        (from, to) = (i + 1, end);
    }
    found
}

/// Finds a block id, case-insensitively.
pub fn find_block(note: &Note, id: &str) -> Option<usize> {
    note.blocks
        .iter()
        .position(|b| b.id.eq_ignore_ascii_case(id))
}

/// The byte range a heading's section covers: from the heading to the next heading of the same
/// or a higher level.
pub fn section_span(note: &Note, heading: usize) -> crate::source::Span {
    let h = &note.headings[heading];
    let end = note.headings[heading + 1..]
        .iter()
        .find(|n| n.level <= h.level)
        .map_or(note.text.len() as u32, |n| n.span.start);
    crate::source::Span {
        start: h.span.start,
        end,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_maps_punctuation_and_case() {
        assert_eq!(
            normalize_heading("Links: [internal]"),
            normalize_heading("links  internal ")
        );
        assert_eq!(normalize_heading("A|B^C"), "a b c");
    }

    /// The ASCII fast path equals the general path (chars, then fold) on generated ASCII text.
    #[test]
    fn ascii_fast_path_matches_general_path() {
        for text in crate::source::ascii_samples(0x2545_f491_4f6c_dd1d, 20_000) {
            assert_eq!(
                super::normalize_ascii(text.as_bytes()),
                super::normalize_chars(&text),
                "{text:?}"
            );
        }
    }
}
