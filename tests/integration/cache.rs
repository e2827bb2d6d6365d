//! The parse cache (`.SITE.vaultc-cache/parse.bin` beside the output folder): a warm build
//! parses only the notes that changed, gives the same site and diagnostics as a cold one, and
//! goes on as if there were no cache when the file is damaged or was written by another vaultc.

use std::path::{Path, PathBuf};

use crate::support::{
    assert_same_tree, build_diagnostics, build_with as build, copy_dir, fixture, list_files,
    parse_counts, tree_bytes,
};

fn cache_file(site: &Path) -> PathBuf {
    let name = site.file_name().unwrap().to_string_lossy();
    site.with_file_name(format!(".{name}.vaultc-cache"))
        .join("parse.bin")
}

/// A copy of a fixture vault in a temporary folder, so a test may edit it.
fn vault_copy(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("vault");
    copy_dir(&fixture(name), &vault);
    (dir, vault)
}

fn note_count(vault: &Path) -> usize {
    crate::support::vault_notes(vault).len()
}

#[test]
fn a_warm_build_parses_only_the_notes_that_changed() {
    let (dir, vault) = vault_copy("build-basic");
    let notes = note_count(&vault);
    assert!(notes >= 3);
    let site = dir.path().join("site");
    let cold = build(&vault, &site, &[]);
    cold.assert_code(0);
    assert_eq!(parse_counts(&cold), (notes, 0), "{}", cold.report());
    let cache = cache_file(&site);
    assert!(cache.is_file(), "{}", cold.report());

    // Nothing changed: nothing is parsed, and the cache file is not rewritten.
    let stamp = |p: &Path| {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(p).unwrap();
        (m.ino(), m.mtime(), m.mtime_nsec())
    };
    let before = stamp(&cache);
    let warm = build(&vault, &site, &[]);
    warm.assert_code(0);
    assert_eq!(parse_counts(&warm), (0, notes), "{}", warm.report());
    assert_eq!(stamp(&cache), before, "a no-op build rewrote the cache");

    // One note changed: it alone is parsed, and the cache is updated for the next build.
    std::fs::write(
        vault.join("Home.md"),
        "# Home\n\nNow linking [[Nowhere]].\n",
    )
    .unwrap();
    let edited = build(&vault, &site, &[]);
    assert_eq!(edited.code, 1, "{}", edited.report());
    assert_eq!(parse_counts(&edited), (1, notes - 1), "{}", edited.report());
    assert!(edited.stderr.contains("Nowhere"), "{}", edited.report());
    let again = build(&vault, &site, &[]);
    assert_eq!(parse_counts(&again), (0, notes), "{}", again.report());
    assert_eq!(
        build_diagnostics(&again),
        build_diagnostics(&edited),
        "a cached note keeps its diagnostics"
    );
    // A whole site rendered from cached parses alone is the one a cold build gives.
    let cold_site = dir.path().join("cold");
    build(&vault, &cold_site, &["--no-cache"]);
    std::fs::remove_dir_all(&site).unwrap();
    let warm = build(&vault, &site, &[]);
    assert!(warm.stderr.contains("(whole site:"), "{}", warm.report());
    assert_eq!(parse_counts(&warm), (0, notes), "{}", warm.report());
    assert_same_tree(&site, &cold_site);

    // A deleted note leaves the cache: the file shrinks.
    let size = std::fs::metadata(&cache).unwrap().len();
    std::fs::remove_file(vault.join("Home.md")).unwrap();
    let fewer = build(&vault, &site, &[]);
    assert_eq!(parse_counts(&fewer), (0, notes - 1), "{}", fewer.report());
    assert!(std::fs::metadata(&cache).unwrap().len() < size);
}

#[test]
fn full_parses_everything_and_leaves_a_fresh_cache() {
    let (dir, vault) = vault_copy("build-basic");
    let notes = note_count(&vault);
    let site = dir.path().join("site");
    build(&vault, &site, &[]).assert_code(0);
    let full = build(&vault, &site, &["--full"]);
    full.assert_code(0);
    assert_eq!(parse_counts(&full), (notes, 0), "{}", full.report());
    // Even over a damaged cache, and the next build trusts what `--full` wrote.
    std::fs::write(cache_file(&site), b"damaged").unwrap();
    let full = build(&vault, &site, &["--full"]);
    assert_eq!(parse_counts(&full), (notes, 0), "{}", full.report());
    let warm = build(&vault, &site, &[]);
    assert_eq!(parse_counts(&warm), (0, notes), "{}", warm.report());
}

/// Ways a cache file can be wrong; each must be ignored, never trusted or fatal.
fn damages(bytes: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let mut out = vec![
        ("empty", Vec::new()),
        ("not a cache", b"<html>hello</html>".to_vec()),
        ("truncated to half", bytes[..bytes.len() / 2].to_vec()),
        ("last byte cut", bytes[..bytes.len() - 1].to_vec()),
    ];
    let mut flipped = bytes.to_vec();
    let mid = flipped.len() * 3 / 4;
    flipped[mid] ^= 0x01;
    out.push(("a record byte flipped", flipped));
    let mut magic = bytes.to_vec();
    magic[0] ^= 0x01;
    out.push(("wrong magic", magic));
    // The header: magic (8 bytes), format version (u32), vaultc version (u16 length, bytes).
    let mut format = bytes.to_vec();
    format[8] = format[8].wrapping_add(1);
    out.push(("another format version", format));
    let mut version = bytes.to_vec();
    version[14] = b'9';
    out.push(("another vaultc version", version));
    let mut longer = bytes.to_vec();
    longer.extend_from_slice(b"trailing");
    out.push(("trailing bytes", longer));
    out
}

#[test]
fn a_damaged_or_foreign_cache_is_ignored() {
    let (dir, vault) = vault_copy("every-code");
    let notes = note_count(&vault);
    let site = dir.path().join("site");
    let first = build(&vault, &site, &[]);
    assert_eq!(first.code, 1, "{}", first.report());
    // A first build has no cache to use, which is no news.
    assert!(
        !first.stderr.contains("parse cache was not used"),
        "{}",
        first.report()
    );
    let good = std::fs::read(cache_file(&site)).unwrap();
    // The reference: the same vault built cold, with no cache at all.
    let cold_site = dir.path().join("cold");
    let cold = build(&vault, &cold_site, &["--no-cache"]);
    for (what, bytes) in damages(&good) {
        std::fs::write(cache_file(&site), &bytes).unwrap();
        let r = build(&vault, &site, &["--full"]);
        assert_eq!(r.code, cold.code, "{what}: {}", r.report());
        // `--full` does not read it; an ordinary build must not trust it either.
        std::fs::write(cache_file(&site), &bytes).unwrap();
        let r = build(&vault, &site, &[]);
        assert_eq!(r.code, cold.code, "{what}: {}", r.report());
        assert_eq!(parse_counts(&r), (notes, 0), "{what}: {}", r.report());
        assert!(
            r.stderr.contains("note: the parse cache was not used ("),
            "{what}: {}",
            r.report()
        );
        assert_eq!(build_diagnostics(&r), build_diagnostics(&cold), "{what}");
        assert_same_tree(&site, &cold_site);
        // The damaged file was replaced by a good one.
        assert_eq!(std::fs::read(cache_file(&site)).unwrap(), good, "{what}");
    }
    // A folder where the file should be: not read, not written, and the build still succeeds.
    std::fs::remove_file(cache_file(&site)).unwrap();
    std::fs::create_dir_all(cache_file(&site).join("x")).unwrap();
    let r = build(&vault, &site, &[]);
    assert_eq!(r.code, cold.code, "{}", r.report());
    assert!(
        r.stderr.contains("parse cache was not saved"),
        "{}",
        r.report()
    );
    assert_same_tree(&site, &cold_site);
}

#[test]
fn diagnostics_are_the_same_with_a_warm_and_a_cold_cache() {
    // every-code: parse diagnostics (escaped and empty links, duplicate block ids, deprecated
    // keys, broken YAML, invalid UTF-8) and per-note `allow`; -W shows the allowed-by-default ones.
    for lints in [
        &[][..],
        &["-W", "duplicate-heading-anchor", "-W", "orphan-note"][..],
    ] {
        let (dir, vault) = vault_copy("every-code");
        let cold = build(
            &vault,
            &dir.path().join("cold"),
            &[&["--no-cache"], lints].concat(),
        );
        let warm_site = dir.path().join("warm");
        // The first build writes the cache, the second takes every note from it.
        build(&vault, &warm_site, lints);
        let warm = build(&vault, &warm_site, lints);
        assert_eq!(parse_counts(&warm).0, 0, "{}", warm.report());
        assert_eq!(warm.code, cold.code, "{}", warm.report());
        let diags = build_diagnostics(&cold);
        assert!(diags.contains("escaped-wikilink"), "{diags}");
        assert!(diags.contains("duplicate-block-id"), "{diags}");
        assert!(diags.contains("invalid-front-matter"), "{diags}");
        assert_eq!(build_diagnostics(&warm), diags);
    }
}

#[test]
fn no_cache_writes_no_cache_and_the_cache_never_goes_inside_the_output() {
    let (dir, vault) = vault_copy("build-basic");
    let notes = note_count(&vault);
    let site = dir.path().join("site");
    let entries = || -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let r = build(&vault, &site, &["--no-cache"]);
    r.assert_code(0);
    assert_eq!(parse_counts(&r), (notes, 0));
    assert_eq!(entries(), ["site", "vault"], "{}", r.report());
    build(&vault, &site, &["--no-cache"]).assert_code(0);
    assert_eq!(entries(), ["site", "vault"]);

    build(&vault, &site, &[]).assert_code(0);
    assert_eq!(entries(), [".site.vaultc-cache", "site", "vault"]);
    let cache_dir = dir.path().join(".site.vaultc-cache");
    assert_eq!(
        std::fs::read_to_string(cache_dir.join(".gitignore"))
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>(),
        ["*"]
    );
    let cached = tree_bytes(&cache_dir);
    for f in list_files(&site) {
        let f = f.to_string_lossy();
        assert!(
            !f.contains("vaultc-cache") && !f.ends_with("parse.bin"),
            "{f}"
        );
    }
    // `--no-cache` neither reads an existing cache nor touches it.
    let r = build(&vault, &site, &["--no-cache"]);
    assert_eq!(parse_counts(&r), (notes, 0), "{}", r.report());
    std::fs::write(vault.join("New.md"), "# New\n").unwrap();
    build(&vault, &site, &["--no-cache"]).assert_code(0);
    assert_eq!(tree_bytes(&cache_dir), cached);
    // The cache of a site inside the vault is a dot-folder there, never read as notes.
    let inner = vault.join("public");
    build(&vault, &inner, &[]).assert_code(0);
    let r = build(&vault, &inner, &[]);
    r.assert_code(0);
    assert!(vault.join(".public.vaultc-cache/parse.bin").is_file());
    assert_eq!(parse_counts(&r), (0, notes + 1), "{}", r.report());
}

/// `(notes parsed, notes taken from the parse cache)` from `check --timings`.
fn check_counts(run: &crate::support::Run) -> (usize, usize) {
    let line = run
        .stderr
        .lines()
        .find(|l| l.starts_with("notes: "))
        .unwrap_or_else(|| panic!("no parse counts: {}", run.report()));
    let numbers: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    (numbers[0], numbers[1])
}

#[test]
fn check_keeps_a_parse_cache_outside_the_vault_that_changes_nothing_but_speed() {
    use crate::support::{run_cmd, vaultc};
    let (dir, vault) = vault_copy("mixed-errors");
    let notes = note_count(&vault);
    let home = dir.path().join("cache-home");
    let check = |vault: &Path, extra: &[&str]| {
        let r = run_cmd(
            vaultc()
                .env("VAULTC_CACHE_DIR", &home)
                .arg("check")
                .arg(vault)
                .args(["--format", "json", "--timings"])
                .args(extra),
        );
        r.assert_no_panic();
        r
    };
    let before = tree_bytes(&vault);
    let cold = check(&vault, &[]);
    assert_eq!(check_counts(&cold), (notes, 0), "{}", cold.report());
    // The cache is one folder in the user's cache folder; the vault is left as it was.
    let caches = list_files(&home.join("check"));
    assert!(
        caches.iter().any(|p| p.ends_with("parse.bin")),
        "{caches:?} {}",
        cold.report()
    );
    assert_eq!(tree_bytes(&vault), before, "check wrote into the vault");
    let warm = check(&vault, &[]);
    assert_eq!(check_counts(&warm), (0, notes), "{}", warm.report());
    assert_eq!(warm.stdout, cold.stdout, "a cached check reports the same");
    assert_eq!(warm.code, cold.code);

    // One note changed: it alone is parsed, and what it says now is reported.
    std::fs::write(
        vault.join("Fresh.md"),
        "# Fresh\n\nA new link to [[Nowhere at all]].\n",
    )
    .unwrap();
    let edited = check(&vault, &[]);
    assert_eq!(check_counts(&edited), (1, notes), "{}", edited.report());
    assert!(
        edited.stdout.contains("Nowhere at all"),
        "{}",
        edited.stdout
    );

    // `--no-cache` neither reads the cache (every note is parsed) nor writes it.
    let cache_before = tree_bytes(&home);
    let uncached = check(&vault, &["--no-cache"]);
    assert_eq!(
        check_counts(&uncached),
        (notes + 1, 0),
        "{}",
        uncached.report()
    );
    assert_eq!(
        tree_bytes(&home),
        cache_before,
        "--no-cache wrote the cache"
    );
    assert_eq!(uncached.stdout, edited.stdout);

    // Another vault (the same notes in another folder) has a cache of its own.
    let (other_dir, other) = vault_copy("mixed-errors");
    std::fs::copy(vault.join("Fresh.md"), other.join("Fresh.md")).unwrap();
    let separate = check(&other, &[]);
    assert_eq!(
        check_counts(&separate),
        (notes + 1, 0),
        "{}",
        separate.report()
    );
    let all = list_files(&home.join("check"));
    assert_eq!(
        all.iter().filter(|p| p.ends_with("parse.bin")).count(),
        2,
        "{all:?}"
    );
    let json = |s: &str| {
        s.replace(&*other.to_string_lossy(), "")
            .replace(&*vault.to_string_lossy(), "")
    };
    assert_eq!(json(&separate.stdout), json(&edited.stdout));
    drop(other_dir);

    // A damaged cache is not trusted: everything is parsed again and the file replaced.
    let file = home
        .join("check")
        .join(caches.iter().find(|p| p.ends_with("parse.bin")).unwrap());
    std::fs::write(&file, b"not a cache at all").unwrap();
    let damaged = check(&vault, &[]);
    assert_eq!(
        check_counts(&damaged),
        (notes + 1, 0),
        "{}",
        damaged.report()
    );
    assert_eq!(damaged.stdout, edited.stdout);
    assert_eq!(check_counts(&check(&vault, &[])), (0, notes + 1));
}
