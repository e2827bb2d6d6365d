//! Heading and block fragments (semantics file §4).

use crate::source::FastMap;
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

/// Notes with more headings or blocks than this get a [`FragmentIndex`]; fewer are scanned.
const INDEXED_FROM: usize = 16;

/// A note's headings and blocks by key, so that the links into a long note (a glossary of
/// thousands of headings) do not each scan it: 100,000 links into a note of 5,000 headings
/// and blocks took a second to resolve. Made on the note's first fragment lookup
/// ([`Note::fragments`]) when it has more than `INDEXED_FROM` of either.
#[derive(Debug, Default)]
pub struct FragmentIndex {
    /// Positions of the headings with each key, ascending.
    headings: FastMap<String, Vec<u32>>,
    /// Each heading's section end: the position of the next heading of the same or a higher
    /// level, or the heading count.
    section_ends: Vec<u32>,
    /// The first block with each id, in ASCII lower case.
    blocks: FastMap<String, u32>,
}

impl FragmentIndex {
    fn new(note: &Note) -> FragmentIndex {
        let mut headings: FastMap<String, Vec<u32>> = FastMap::default();
        for (i, h) in note.headings.iter().enumerate() {
            for (k, key) in h.keys.iter().enumerate() {
                if k == 0 || *key != h.keys[0] {
                    headings.entry(key.clone()).or_default().push(i as u32);
                }
            }
        }
        let count = note.headings.len() as u32;
        let mut section_ends = vec![count; note.headings.len()];
        // Headings still open, innermost last: a heading closes every open one of its level
        // or deeper.
        let mut open: Vec<usize> = Vec::new();
        for (i, h) in note.headings.iter().enumerate() {
            while let Some(&j) = open.last() {
                if note.headings[j].level < h.level {
                    break;
                }
                section_ends[j] = i as u32;
                open.pop();
            }
            open.push(i);
        }
        let mut blocks: FastMap<String, u32> = FastMap::default();
        for (i, b) in note.blocks.iter().enumerate() {
            blocks.entry(b.id.to_ascii_lowercase()).or_insert(i as u32);
        }
        FragmentIndex {
            headings,
            section_ends,
            blocks,
        }
    }
}

/// The note's [`FragmentIndex`], when it has enough headings or blocks to want one.
fn index_of(note: &Note) -> Option<&FragmentIndex> {
    (note.headings.len() > INDEXED_FROM || note.blocks.len() > INDEXED_FROM)
        .then(|| note.fragments.get_or_init(|| FragmentIndex::new(note)))
}

/// Finds the heading a chain `H1#H2#...` names: each component inside the previous one's
/// section; if the chain does not match, the last component anywhere.
pub fn find_heading(note: &Note, chain: &[String]) -> Option<usize> {
    let wanted: Vec<String> = chain.iter().map(|c| normalize_heading(c)).collect();
    let headings = &note.headings;
    let index = index_of(note);
    // Obsidian compares with the heading as written (`` `id` ``); readers also write the text
    // as shown (`id`): accept either.
    let found = match index {
        Some(index) => find_chain_indexed(index, &wanted),
        None => find_chain(headings, &wanted),
    };
    if found.is_some() {
        return found;
    }
    let last = wanted.last()?;
    match index {
        Some(index) => index.headings.get(last).map(|at| at[0] as usize),
        None => headings.iter().position(|h| h.keys.contains(last)),
    }
}

/// [`find_chain`] through an index: the first heading with each key inside the previous one's
/// section is a binary search, and the section's end is looked up.
fn find_chain_indexed(index: &FragmentIndex, wanted: &[String]) -> Option<usize> {
    let (mut from, mut to) = (0u32, index.section_ends.len() as u32);
    let mut found = None;
    for part in wanted {
        let at = index.headings.get(part)?;
        let i = at[at.partition_point(|&p| p < from)..]
            .first()
            .copied()
            .filter(|&i| i < to)?;
        found = Some(i as usize);
        (from, to) = (i + 1, index.section_ends[i as usize].min(to));
    }
    found
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
    match index_of(note) {
        Some(index) => index
            .blocks
            .get(&id.to_ascii_lowercase())
            .map(|&i| i as usize),
        None => note
            .blocks
            .iter()
            .position(|b| b.id.eq_ignore_ascii_case(id)),
    }
}

/// The byte range a heading's section covers: from the heading to the next heading of the same
/// or a higher level.
pub fn section_span(note: &Note, heading: usize) -> crate::source::Span {
    let h = &note.headings[heading];
    let next = match index_of(note) {
        Some(index) => note.headings.get(index.section_ends[heading] as usize),
        None => note.headings[heading + 1..]
            .iter()
            .find(|n| n.level <= h.level),
    };
    let end = next.map_or(note.text.len() as u32, |n| n.span.start);
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

    /// Lookups through a note's [`FragmentIndex`] find what scanning its headings and blocks
    /// finds: chains inside sections, the fallback to the last part anywhere, repeated and
    /// missing keys, block ids in any letter case.
    #[test]
    fn indexed_lookups_equal_scans() {
        let words = ["Alpha", "beta", "Beta", "gamma", "Ü b", "`x`"];
        let ids = ["a1", "A1", "b-2", "c"];
        let mut next = crate::source::xorshift(0x9e37_79b9_7f4a_7c15);
        let mut checked = 0;
        for _ in 0..20 {
            let mut text = String::new();
            for _ in 0..60 {
                let level = 1 + next(4);
                let word = words[next(words.len())];
                text.push_str(&format!(
                    "{} {word}\n\ntext ^{}\n\n",
                    "#".repeat(level),
                    ids[next(4)]
                ));
            }
            let note = crate::parse::note(crate::discover::SourceFile {
                path: crate::source::VaultPath::new("n.md").unwrap(),
                text,
                is_template: false,
            })
            .0;
            assert!(index_of(&note).is_some());
            for _ in 0..200 {
                let chain: Vec<String> = (0..1 + next(3))
                    .map(|_| match next(8) {
                        0 => "missing".to_string(),
                        _ => words[next(words.len())].to_string(),
                    })
                    .collect();
                let wanted: Vec<String> = chain.iter().map(|c| normalize_heading(c)).collect();
                let scanned = find_chain(&note.headings, &wanted).or_else(|| {
                    let last = wanted.last()?;
                    note.headings.iter().position(|h| h.keys.contains(last))
                });
                assert_eq!(find_heading(&note, &chain), scanned, "{chain:?}");
                if let Some(h) = scanned {
                    let level = note.headings[h].level;
                    let end = note.headings[h + 1..]
                        .iter()
                        .find(|n| n.level <= level)
                        .map_or(note.text.len() as u32, |n| n.span.start);
                    assert_eq!(section_span(&note, h).end, end, "{chain:?}");
                }
                checked += usize::from(scanned.is_some() && chain.len() > 1);
                let id = ["a1", "A1", "B-2", "c", "d"][next(5)];
                let scanned = note
                    .blocks
                    .iter()
                    .position(|b| b.id.eq_ignore_ascii_case(id));
                assert_eq!(find_block(&note, id), scanned, "^{id}");
            }
        }
        assert!(checked > 500, "only {checked} chains found");
    }
}
