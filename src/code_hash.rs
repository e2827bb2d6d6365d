//! Hashes of vaultc's own code, for the two stores that outlive a build: the parse cache and
//! the previous site's page fingerprints. A development build whose code changed (same version
//! number) or a dependency upgrade must not reuse what older code produced.

use xxhash_rust::xxh3::Xxh3;

/// The code that decides what `parse::note` returns. `Cargo.lock` pins the crates that parse
/// and render (pulldown-cmark, serde-saphyr, regex, unicode-normalization, minijinja,
/// elasticlunr-rs).
pub(crate) const PARSE_SOURCES: &[&str] = &[
    include_str!("parse/mod.rs"),
    include_str!("parse/body.rs"),
    include_str!("parse/math.rs"),
    include_str!("parse/raw_html.rs"),
    include_str!("parse/frontmatter.rs"),
    include_str!("parse/links.rs"),
    include_str!("parse/tags.rs"),
    include_str!("vault.rs"),
    include_str!("source.rs"),
    include_str!("slug.rs"),
    include_str!("resolve/fragments.rs"),
    include_str!("diag/mod.rs"),
    include_str!("config.rs"),
    include_str!("../Cargo.lock"),
];

/// A hash of `sources`, each with its length so that neighbours cannot run into each other,
/// and of the Unicode version of the standard library vaultc was compiled with: case folding
/// and `char` classes come from the toolchain, not from any source file or locked crate, so a
/// compiler upgrade with identical sources must not reuse what the older tables produced.
pub(crate) fn hash_sources<'a>(sources: impl IntoIterator<Item = &'a str>) -> u128 {
    let mut h = Xxh3::new();
    let (major, minor, update) = char::UNICODE_VERSION;
    h.update(&[major, minor, update]);
    for s in sources {
        h.update(&(s.len() as u64).to_le_bytes());
        h.update(s.as_bytes());
    }
    h.digest128()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::hash_sources;

    /// Asserts that every `.rs` file in `src/<folder>` is one of `sources` (they are lists of
    /// `include_str!`s kept by hand: a new file there would otherwise slip out of the hash).
    pub(crate) fn assert_folder_hashed(folder: &str, sources: &[&str]) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src")
            .join(folder);
        let mut files = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            // `tests.rs` files hold only tests, which decide no output.
            if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("tests.rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                assert!(
                    sources.contains(&text.as_str()),
                    "{} is not in the hashed sources: add it",
                    path.display()
                );
                files += 1;
            }
        }
        assert!(files > 0, "no sources in {}", dir.display());
    }

    #[test]
    fn every_parse_source_is_hashed() {
        assert_folder_hashed("parse", super::PARSE_SOURCES);
    }

    #[test]
    fn lengths_keep_sources_apart() {
        assert_ne!(hash_sources(["ab", "c"]), hash_sources(["a", "bc"]));
        assert_ne!(hash_sources(["a"]), hash_sources(["a", ""]));
        assert_eq!(hash_sources(["a", "b"]), hash_sources(["a", "b"]));
    }
}
