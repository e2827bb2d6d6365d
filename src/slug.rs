//! Readable, stable slugs for page URLs and heading anchors.
//!
//! Hand-written on purpose: the slug crates transliterate (`视觉` becomes `shi-jue`), while the
//! semantics file asks to keep letters of every script so CJK anchors stay readable.

use crate::source::{FastMap, FastSet};

/// Lower-cases `text`, keeps letters, digits and marks of any script, turns whitespace, `-`, `_`
/// and `.` into single `-`, drops other punctuation. Returns `""` when nothing is left.
pub fn slugify(text: &str) -> String {
    if text.is_ascii() {
        slugify_ascii(text.as_bytes())
    } else {
        slugify_chars(text)
    }
}

/// [`slugify`] for any text, char by char.
fn slugify_chars(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut dash = false;
    for c in text.chars() {
        if c.is_alphanumeric() || is_mark(c) {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.extend(c.to_lowercase());
        } else if c.is_whitespace() || matches!(c, '-' | '_' | '.' | '/') {
            dash = true;
        }
    }
    out
}

/// [`slugify`] for ASCII text, byte by byte (the same rules: no ASCII character is a mark).
fn slugify_ascii(text: &[u8]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut dash = false;
    for &b in text {
        if b.is_ascii_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(b.to_ascii_lowercase() as char);
        } else if (b as char).is_whitespace() || matches!(b, b'-' | b'_' | b'.' | b'/') {
            dash = true;
        }
    }
    out
}

/// Combining marks (accents in NFD text, Devanagari vowel signs) belong to the letter before.
fn is_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x0900..=0x097F | 0x3099..=0x309A)
}

/// The names handed out so far, for making the next one unique: `base`, else `base-2`,
/// `base-3`, ... Each base remembers the last number it reached: names are never given back,
/// so every number below it is still taken, and a heading repeated 20,000 times in one note
/// (or a permalink shared by thousands of notes) costs a lookup each, not a count from 2
/// (that took 41 s).
#[derive(Debug, Default)]
pub struct UniqueNames {
    /// Every name handed out or reserved.
    taken: FastSet<String>,
    /// The next number to try after each base that was taken.
    next: FastMap<String, u32>,
}

impl UniqueNames {
    /// Names that are taken before any is handed out.
    pub fn with_taken(names: impl IntoIterator<Item = String>) -> UniqueNames {
        UniqueNames {
            taken: names.into_iter().collect(),
            next: FastMap::default(),
        }
    }

    /// Takes `name` if it is free; whether it was.
    pub fn insert(&mut self, name: String) -> bool {
        self.taken.insert(name)
    }

    /// `base` if it is free, else `base-N` for the smallest free `N` from 2; taken from now on.
    pub fn unique(&mut self, base: String) -> String {
        if self.taken.insert(base.clone()) {
            return base;
        }
        let n = self.next.entry(base.clone()).or_insert(2);
        loop {
            let candidate = format!("{base}-{n}");
            *n += 1;
            if self.taken.insert(candidate.clone()) {
                return candidate;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_keep_cjk_and_drop_punctuation() {
        assert_eq!(
            slugify("Vision Transformer (ViT)"),
            "vision-transformer-vit"
        );
        assert_eq!(slugify("多模態模型 概述"), "多模態模型-概述");
        assert_eq!(slugify("  What's new?  "), "whats-new");
        assert_eq!(slugify("a__b..c"), "a-b-c");
        assert_eq!(slugify("!!!"), "");
    }

    /// The ASCII fast path equals the general path on generated ASCII text.
    #[test]
    fn ascii_fast_path_matches_general_path() {
        for text in crate::source::ascii_samples(0x9e37_79b9_7f4a_7c15, 20_000) {
            assert_eq!(
                super::slugify_ascii(text.as_bytes()),
                super::slugify_chars(&text),
                "{text:?}"
            );
        }
    }

    #[test]
    fn unique_appends_counters_in_order() {
        let mut names = UniqueNames::with_taken(["b-2".to_string()]);
        assert_eq!(names.unique("a".into()), "a");
        assert_eq!(names.unique("a".into()), "a-2");
        assert!(names.insert("a-3".into()));
        assert!(!names.insert("a".into()));
        assert_eq!(names.unique("a".into()), "a-4");
        assert_eq!(names.unique("a-2".into()), "a-2-2");
        assert_eq!(names.unique("b".into()), "b");
        assert_eq!(names.unique("b".into()), "b-3");
        // Whatever was handed out, each name is the smallest free one, as counting from 2
        // every time would give.
        let mut slow: std::collections::HashSet<String> = Default::default();
        let mut fast = UniqueNames::default();
        for i in 0..500 {
            let base = ["x", "x-2", "y", "x-3-2"][i % 4].to_string();
            let expected = if slow.insert(base.clone()) {
                base.clone()
            } else {
                (2..)
                    .map(|n| format!("{base}-{n}"))
                    .find(|c| slow.insert(c.clone()))
                    .unwrap()
            };
            assert_eq!(fast.unique(base), expected);
        }
    }
}
