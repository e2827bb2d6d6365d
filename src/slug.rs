//! Readable, stable slugs for page URLs and heading anchors.
//!
//! Hand-written on purpose: the slug crates transliterate (`视觉` becomes `shi-jue`), while the
//! semantics file asks to keep letters of every script so CJK anchors stay readable.

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

/// Makes `base` unique against `taken` by appending `-2`, `-3`, ...; records the result.
pub fn unique<S: std::hash::BuildHasher>(
    base: String,
    taken: &mut std::collections::HashSet<String, S>,
) -> String {
    if taken.insert(base.clone()) {
        return base;
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|candidate| taken.insert(candidate.clone()))
        .expect("an unbounded range always yields a free name")
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
        let mut taken: std::collections::HashSet<String> = Default::default();
        assert_eq!(unique("a".into(), &mut taken), "a");
        assert_eq!(unique("a".into(), &mut taken), "a-2");
        assert_eq!(unique("a".into(), &mut taken), "a-3");
    }
}
