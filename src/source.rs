//! Leaf types shared by every stage: vault-relative paths, byte spans, and line/column lookup.
//!
//! Everything downstream speaks in [`VaultPath`]s (always `/`-separated, NFC-normalised) and
//! [`Span`]s (byte offsets into a note's text); line and column numbers are computed only when a
//! diagnostic is printed, through [`LineIndex`].

use std::fmt;
use std::ops::Range;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// A path relative to the vault root: `/`-separated, NFC-normalised, never starting with `/`
/// and never containing `.` or `..` components.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct VaultPath(String);

impl VaultPath {
    /// Builds a vault path from `/`-separated components, normalising to NFC.
    /// Returns `None` for an empty path or one with `.`/`..`/empty components.
    pub fn new(path: &str) -> Option<VaultPath> {
        // ASCII text, and text the quick check finds normalised already, is its own NFC.
        let nfc: String = if path.is_ascii()
            || unicode_normalization::is_nfc_quick(path.chars())
                == unicode_normalization::IsNormalized::Yes
        {
            path.to_string()
        } else {
            path.nfc().collect()
        };
        if nfc.is_empty()
            || nfc
                .split('/')
                .any(|c| c.is_empty() || c == "." || c == "..")
        {
            return None;
        }
        Some(VaultPath(nfc))
    }

    /// The path as a `/`-separated string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The folder part (`""` at the vault root).
    pub fn folder(&self) -> &str {
        self.0.rsplit_once('/').map_or("", |(dir, _)| dir)
    }

    /// The last component, with its extension.
    pub fn file_name(&self) -> &str {
        self.0.rsplit_once('/').map_or(&self.0, |(_, name)| name)
    }

    /// The last component without its extension (`Note` for `a/Note.md`).
    pub fn stem(&self) -> &str {
        let name = self.file_name();
        match name.rfind('.') {
            Some(i) if i > 0 => &name[..i],
            _ => name,
        }
    }

    /// The lower-cased extension without the dot (`""` when there is none).
    pub fn extension(&self) -> String {
        let name = self.file_name();
        match name.rfind('.') {
            Some(i) if i > 0 => name[i + 1..].to_lowercase(),
            _ => String::new(),
        }
    }

    /// Whether this is a markdown note (`.md`, any case).
    pub fn is_markdown(&self) -> bool {
        self.extension() == "md"
    }
}

impl fmt::Display for VaultPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A hash map with a fast, fixed-seed hasher (foldhash) for internal lookup tables keyed by
/// names and ids. Nothing may depend on its iteration order.
pub type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::FixedState>;

/// The set counterpart of [`FastMap`].
pub type FastSet<K> = std::collections::HashSet<K, foldhash::fast::FixedState>;

/// The largest character boundary of `text` at or before byte `at` (`str::floor_char_boundary`,
/// stable only from Rust 1.91): where to cut a text to at most `at` bytes.
pub fn floor_char_boundary(text: &str, at: usize) -> usize {
    if at >= text.len() {
        return text.len();
    }
    (0..=at)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0)
}

/// The smallest character boundary of `text` at or after byte `at`.
pub fn ceil_char_boundary(text: &str, at: usize) -> usize {
    (at..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len())
}

/// The key names are compared by: NFC-normalised and lower-cased (Unicode case folding is
/// approximated by `to_lowercase`, as Obsidian does).
pub fn fold_name(name: &str) -> String {
    let mut folded = String::with_capacity(name.len());
    fold_name_into(&mut folded, name);
    folded
}

/// [`fold_name`] written into `out` (cleared first), for the hot loops that fold a name only to
/// look it up: once `out` has grown, folding allocates nothing.
pub fn fold_name_into(out: &mut String, name: &str) {
    out.clear();
    if name.is_ascii() {
        out.push_str(name);
        out.make_ascii_lowercase();
    } else {
        out.extend(name.nfc().flat_map(char::to_lowercase));
    }
}

/// Calls `f` with `name` folded ([`fold_name`]) in a buffer of the thread's: for lookups on
/// hot paths (per link, per tag use), which then allocate nothing.
pub fn with_folded<R>(name: &str, f: impl FnOnce(&str) -> R) -> R {
    thread_local! {
        static FOLDED: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    FOLDED.with(|folded| {
        // Taken out while `f` runs, so a nested call (none today) gets a buffer of its own.
        let mut buffer = std::mem::take(&mut *folded.borrow_mut());
        fold_name_into(&mut buffer, name);
        let result = f(&buffer);
        *folded.borrow_mut() = buffer;
        result
    })
}

/// A half-open byte range `start..end` into one note's text.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Span {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// A span from a `usize` range (notes are capped well below 4 GiB by discovery).
    pub fn new(range: Range<usize>) -> Span {
        Span {
            start: range.start as u32,
            end: range.end as u32,
        }
    }

    /// The span as a `usize` range for slicing.
    pub fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }

    /// Whether `other` lies entirely inside this span.
    pub fn contains(self, other: Span) -> bool {
        self.start <= other.start && other.end <= self.end
    }
}

/// Maps byte offsets of one text to 1-based line and column (in characters).
#[derive(Clone, Debug)]
pub struct LineIndex {
    starts: Vec<u32>,
    /// In lines longer than [`LineIndex::MARK_STEP`] bytes, a mark about every that many
    /// bytes: (byte offset, characters from its line's start). A column is counted from the
    /// last mark before it, so thousands of diagnostics on one long line (an exported note)
    /// do not each count the line from its start.
    marks: Vec<(u32, u32)>,
}

impl LineIndex {
    /// Bytes between two marks of a long line.
    const MARK_STEP: usize = 4096;

    /// Indexes the line starts of `text`.
    pub fn new(text: &str) -> LineIndex {
        // Counted first so the vector is allocated once at its exact size: an index, once made,
        // is kept with its note, and counting is much cheaper than growing and over-allocating.
        let lines = memchr::memchr_iter(b'\n', text.as_bytes()).count();
        let mut starts = Vec::with_capacity(lines + 1);
        starts.push(0);
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i as u32 + 1));
        let mut marks = Vec::new();
        let ends = starts
            .iter()
            .skip(1)
            .map(|&s| s as usize)
            .chain([text.len()]);
        for (&start, end) in starts.iter().zip(ends) {
            let (mut at, mut chars) = (start as usize, 0);
            while end - at > Self::MARK_STEP {
                let mut next = at + Self::MARK_STEP;
                while !text.is_char_boundary(next) {
                    next -= 1;
                }
                chars += text[at..next].chars().count();
                marks.push((next as u32, chars as u32));
                at = next;
            }
        }
        LineIndex { starts, marks }
    }

    /// 1-based line of a byte offset.
    pub fn line(&self, offset: u32) -> u32 {
        self.starts.partition_point(|&s| s <= offset) as u32
    }

    /// 1-based (line, column); the column counts characters, not bytes.
    pub fn line_col(&self, text: &str, offset: u32) -> (u32, u32) {
        let line = self.line(offset);
        let start = self.starts[line as usize - 1] as usize;
        let end = (offset as usize).min(text.len());
        let (from, before) = match end - start > Self::MARK_STEP {
            // The last mark at or before `end` is in this line: the line has one past its
            // start, and every mark after the line's start belongs to it or a later line.
            true => {
                let i = self.marks.partition_point(|&(at, _)| at as usize <= end);
                self.marks
                    .get(i.wrapping_sub(1))
                    .filter(|&&(at, _)| at as usize > start)
                    .map_or((start, 0), |&(at, chars)| (at as usize, chars as usize))
            }
            false => (start, 0),
        };
        let col = text
            .get(from..end)
            .map_or(end - start, |s| before + s.chars().count());
        (line, col as u32 + 1)
    }

    /// Byte range of a 1-based line, without its line terminator.
    pub fn line_range(&self, text: &str, line: u32) -> Range<usize> {
        let i = (line.max(1) - 1) as usize;
        let start = self.starts.get(i).map_or(text.len(), |&s| s as usize);
        let mut end = self.starts.get(i + 1).map_or(text.len(), |&s| s as usize);
        while end > start && matches!(text.as_bytes()[end - 1], b'\n' | b'\r') {
            end -= 1;
        }
        start..end
    }
}

/// A seeded xorshift generator for tests: each call gives a number below its argument.
#[cfg(test)]
pub(crate) fn xorshift(mut seed: u64) -> impl FnMut(usize) -> usize {
    move |n| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    }
}

/// `count` pseudo-random ASCII strings (controls and punctuation included, 0-23 bytes) from
/// `seed`: inputs for tests that hold an ASCII fast path against its general path.
#[cfg(test)]
pub(crate) fn ascii_samples(mut seed: u64, count: usize) -> impl Iterator<Item = String> {
    (0..count).map(move |_| {
        let len = seed % 24;
        (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed % 128) as u8 as char
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The boundaries are the nearest ones a scan finds, at every offset of texts of 1-4
    /// byte characters, past the end included.
    #[test]
    fn char_boundaries_are_the_nearest_ones() {
        let text = "aé链😀b链é";
        for at in 0..=text.len() + 2 {
            let floor = (0..=at.min(text.len()))
                .rev()
                .find(|&i| text.is_char_boundary(i))
                .unwrap();
            assert_eq!(floor_char_boundary(text, at), floor, "{at}");
            let ceil = (at..=text.len())
                .find(|&i| text.is_char_boundary(i))
                .unwrap_or(text.len());
            assert_eq!(ceil_char_boundary(text, at), ceil, "{at}");
        }
        assert_eq!(floor_char_boundary("", 5), 0);
        assert_eq!(ceil_char_boundary("", 0), 0);
    }

    #[test]
    fn vault_path_rejects_escapes_and_normalises() {
        assert!(VaultPath::new("a/../b.md").is_none());
        assert!(VaultPath::new("./b.md").is_none());
        assert!(VaultPath::new("").is_none());
        let nfd = "Cafe\u{301}.md";
        assert_eq!(VaultPath::new(nfd).unwrap().as_str(), "Caf\u{e9}.md");
        let p = VaultPath::new("dir/sub/Note.1.md").unwrap();
        assert_eq!(
            (p.folder(), p.stem(), p.extension().as_str()),
            ("dir/sub", "Note.1", "md")
        );
    }

    /// Columns counted from a long line's marks equal columns counted from the line's start,
    /// at every offset (mid-character ones included) of texts mixing short and long lines of
    /// one- to four-byte characters.
    #[test]
    fn columns_from_marks_equal_columns_from_line_starts() {
        let mut rng = xorshift(0x11ae);
        let pieces = ["a", "é", "中", "😀", " ", "[[x]]", "\r"];
        for round in 0..12 {
            let mut text = String::new();
            for _ in 0..1 + rng(5) {
                let len = [0, 10, 4095, 4096, 4097, 9000, 30000][rng(7)];
                let line_start = text.len();
                while text.len() - line_start < len {
                    text.push_str(pieces[rng(pieces.len())]);
                }
                text.push('\n');
            }
            let index = LineIndex::new(&text);
            let naive = |offset: usize| {
                let end = offset.min(text.len());
                let before = &text.as_bytes()[..end];
                let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
                let start = before
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |i| i + 1);
                let col = text
                    .get(start..end)
                    .map_or(end - start, |s| s.chars().count());
                (line as u32, col as u32 + 1)
            };
            for offset in (0..=text.len() + 2).step_by(1 + rng(7)) {
                assert_eq!(
                    index.line_col(&text, offset as u32),
                    naive(offset),
                    "round {round}, offset {offset}"
                );
            }
        }
    }

    /// The fast paths of `VaultPath::new` (ASCII, quick NFC check) give what full NFC gives.
    #[test]
    fn vault_path_fast_paths_match_full_normalisation() {
        let unicode = [
            "Caf\u{e9}.md",
            "Cafe\u{301}.md",
            "\u{c5}ngstr\u{f6}m/\u{212b}.md",
            "\u{1100}\u{1161}.md",
            "\u{95a}/\u{f73}.md",
            "\u{4e2d}\u{6587}/\u{7b14}\u{8bb0}.md",
        ];
        let samples = ascii_samples(7, 500)
            .map(|s| s.replace('/', "_"))
            .chain(unicode.iter().map(|s| s.to_string()));
        for s in samples {
            let full: String = s.nfc().collect();
            let expected = (!full.is_empty()).then_some(full);
            assert_eq!(
                VaultPath::new(&s).map(|p| p.as_str().to_string()),
                expected.filter(|_| !s.split('/').any(|c| c.is_empty() || c == "." || c == "..")),
                "{s:?}"
            );
        }
    }

    #[test]
    fn line_col_counts_characters() {
        let text = "ab\n视觉 [[x]]\n";
        let idx = LineIndex::new(text);
        let off = text.find("[[").unwrap() as u32;
        assert_eq!(idx.line_col(text, off), (2, 4));
        assert_eq!(&text[idx.line_range(text, 2)], "视觉 [[x]]");
        assert_eq!(idx.line_col(text, 0), (1, 1));
    }

    #[test]
    fn fold_name_is_case_and_normalisation_insensitive() {
        assert_eq!(fold_name("LOG"), fold_name("log"));
        assert_eq!(fold_name("Cafe\u{301}"), fold_name("CAF\u{c9}"));
    }
}
