//! How text becomes search terms: the analysis of the search index vaultc writes, which the
//! default theme's `search.js` repeats on every query (the two must agree term for term).
//!
//! Words are split at white space and `-`, put in NFC and lower case. A run of CJK characters
//! (Chinese, Japanese and Korean are written without spaces between words) is cut into
//! overlapping pairs, as Lucene's CJK analyzer does, so any word inside a sentence is found;
//! a lone CJK character is its own term. Every other piece is trimmed of what is neither a
//! letter nor a digit, in any script, loses the English stop words, and is stemmed (Porter)
//! when it is ASCII. elasticlunr's own English pipeline trims with ASCII classes, in Rust and
//! in JavaScript alike, so a word in any other script was dropped whole: no Chinese, Russian
//! or Greek word could be searched.

use elasticlunr::pipeline::{FnWrapper, Pipeline, PipelineFn};
use elasticlunr::Language;
use unicode_normalization::UnicodeNormalization as _;

/// The pipeline name of the Unicode trimmer (`search.js` registers a function by that name).
pub const TRIMMER: &str = "vaultc-trimmer";
/// The pipeline name of the stemmer that stems ASCII terms only (`search.js` has it too).
pub const STEMMER: &str = "vaultc-stemmer";

/// The analysis as an elasticlunr language: its tokenizer splits and pairs, its pipeline
/// trims, drops stop words and stems.
pub struct SearchLanguage;

impl Language for SearchLanguage {
    fn name(&self) -> String {
        "vaultc".into()
    }

    fn code(&self) -> String {
        "vaultc".into()
    }

    fn tokenize(&self, text: &str) -> Vec<String> {
        let mut tokens = Vec::new();
        for word in words(text) {
            pieces(&folded(word), |piece| tokens.push(piece.to_string()));
        }
        tokens
    }

    fn make_pipeline(&self) -> Pipeline {
        // elasticlunr's English pipeline is [trimmer, stopWordFilter, stemmer].
        let mut english = elasticlunr::lang::English::new().make_pipeline().queue;
        let stemmer = english
            .pop()
            .expect("the English pipeline ends with its stemmer");
        let stop_words = english.pop().expect("and has a stop word filter before it");
        Pipeline {
            queue: vec![
                Box::new(FnWrapper(TRIMMER.into(), trim)),
                stop_words,
                Box::new(AsciiStemmer(stemmer)),
            ],
        }
    }
}

/// The words of `text`, as elasticlunr splits them (white space and `-`).
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| c.is_whitespace() || c == '-')
        .filter(|w| !w.is_empty())
}

/// A word in NFC and lower case (`search.js`: `normalize('NFC')`, `toLowerCase()`).
pub fn folded(word: &str) -> String {
    if word.is_ascii() {
        word.to_ascii_lowercase()
    } else {
        word.nfc().collect::<String>().to_lowercase()
    }
}

/// The tokens of one folded word: each run of CJK characters as its overlapping pairs (a lone
/// character alone), every other run as it is (the pipeline trims it).
pub fn pieces(word: &str, mut emit: impl FnMut(&str)) {
    if word.is_ascii() {
        emit(word);
        return;
    }
    // Walk the characters: a pair ends at each CJK character that follows another; a CJK
    // character alone (between other characters) is its own term; other runs go whole.
    let mut other_start: Option<usize> = None; // start of the current run of other characters
    let mut previous_cjk: Option<usize> = None; // start of the last character, when CJK
    let mut run_len = 0; // CJK characters in the current run
    for (i, c) in word.char_indices() {
        if is_cjk(c) {
            if let Some(start) = other_start.take() {
                emit(&word[start..i]);
            }
            if let Some(p) = previous_cjk {
                emit(&word[p..i + c.len_utf8()]);
            }
            previous_cjk = Some(i);
            run_len += 1;
        } else {
            if run_len == 1 {
                emit(&word[previous_cjk.expect("a CJK run")..i]);
            }
            previous_cjk = None;
            run_len = 0;
            other_start.get_or_insert(i);
        }
    }
    if let Some(start) = other_start {
        emit(&word[start..]);
    } else if run_len == 1 {
        emit(&word[previous_cjk.expect("a CJK run")..]);
    }
}

/// Whether `c` belongs to a script written without spaces between words, whose runs are cut
/// into pairs: Han ideographs, kana, Hangul (the ranges `search.js` tests too).
pub fn is_cjk(c: char) -> bool {
    matches!(
        u32::from(c),
        0x1100..=0x11FF        // Hangul Jamo
            | 0x3005..=0x3007  // 々 〆 〇
            | 0x3040..=0x309F  // Hiragana
            | 0x30A0..=0x30FF  // Katakana
            | 0x3130..=0x318F  // Hangul Compatibility Jamo
            | 0x31F0..=0x31FF  // Katakana Phonetic Extensions
            | 0x3400..=0x4DBF  // CJK Unified Ideographs Extension A
            | 0x4E00..=0x9FFF  // CJK Unified Ideographs
            | 0xA960..=0xA97F  // Hangul Jamo Extended-A
            | 0xAC00..=0xD7FF  // Hangul Syllables, Jamo Extended-B
            | 0xF900..=0xFAFF  // CJK Compatibility Ideographs
            | 0xFF66..=0xFF9F  // Halfwidth Katakana
            | 0x20000..=0x3FFFF // Ideographs of planes 2 and 3
    )
}

/// Trims what is neither a letter nor a digit (Unicode `Alphabetic` or `N*`) nor `_` from both
/// ends (`search.js`: `[^\p{Alphabetic}\p{N}_]`).
fn trim(token: String) -> Option<String> {
    let kept = |c: char| c.is_alphanumeric() || c == '_';
    let trimmed = token.trim_matches(|c: char| !kept(c));
    Some(if trimmed.len() == token.len() {
        token
    } else {
        trimmed.to_string()
    })
}

/// elasticlunr's English (Porter) stemmer, for ASCII terms only: it works on bytes, and
/// `search.js`'s on UTF-16, so on other letters the two could disagree.
struct AsciiStemmer(Box<dyn PipelineFn>);

impl PipelineFn for AsciiStemmer {
    fn name(&self) -> String {
        STEMMER.into()
    }

    fn filter(&self, token: String) -> Option<String> {
        if token.is_ascii() {
            self.0.filter(token)
        } else {
            Some(token)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(text: &str) -> Vec<String> {
        let lang = SearchLanguage;
        lang.make_pipeline().run(lang.tokenize(text))
    }

    #[test]
    fn cjk_runs_become_overlapping_pairs() {
        assert_eq!(terms("多模態模型"), ["多模", "模態", "態模", "模型"]);
        assert_eq!(terms("龍"), ["龍"]);
        // Punctuation between runs is its own piece, trimmed away.
        assert_eq!(
            terms("（視覺問答）、語言"),
            ["視覺", "覺問", "問答", "語言"]
        );
        // Kana and Hangul too; Latin letters beside them stay a word.
        assert_eq!(terms("カタカナ"), ["カタ", "タカ", "カナ"]);
        assert_eq!(terms("한국어"), ["한국", "국어"]);
        assert_eq!(terms("GPT的能力"), ["gpt", "的能", "能力"]);
    }

    #[test]
    fn other_scripts_are_kept_and_english_is_stemmed() {
        assert_eq!(terms("Привет, мир!"), ["привет", "мир"]);
        assert_eq!(terms("«Ελληνικά»"), ["ελληνικά"]);
        // NFC: a decomposed é is the same word as a composed one.
        assert_eq!(terms("cafe\u{301} CAFÉ"), ["café", "café"]);
        // English as elasticlunr's pipeline makes it: stop words out, Porter stems.
        assert_eq!(terms("The running models"), ["run", "model"]);
        assert_eq!(terms("-- ... !"), Vec::<String>::new());
        assert_eq!(terms("a_b v1.2"), ["a_b", "v1.2"]);
    }

    /// The cases `search.js` is held to as well (`tests/browser/site.test.mjs`).
    #[test]
    fn the_shared_cases_give_their_terms() {
        let cases: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/search-terms.json")).unwrap();
        let cases = cases["cases"].as_array().unwrap();
        assert!(cases.len() > 10);
        for case in cases {
            let text = case["text"].as_str().unwrap();
            let expected: Vec<&str> = case["terms"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap())
                .collect();
            assert_eq!(terms(text), expected, "{text:?}");
        }
    }

    #[test]
    fn ascii_text_gets_the_terms_of_elasticlunrs_english_analysis() {
        let english = elasticlunr::lang::English::new();
        let pipeline = english.make_pipeline();
        for text in [
            "The quick brown foxes, jumping over lazy dogs.",
            "Contrastive pre-training (CLIP) aligns image/text pairs: 400M of them!",
            "v1.2.3 a_b __init__ x86-64 \"quoted\" 'single' [[link|label]] #tag",
        ] {
            assert_eq!(terms(text), pipeline.run(english.tokenize(text)), "{text}");
        }
    }
}
