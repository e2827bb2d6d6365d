//! Configuration: `vaultc.toml` at the vault root plus command-line overrides, validated once
//! into a [`Config`] the stages read. Unknown keys and codes are errors that name the valid ones.
//!
//! ```toml
//! exclude = ["Templates/**", "drafts/*.md"]   # globs over vault paths, never read
//! resolve_aliases = false                     # [[Alias]] reaches the note declaring it
//! obsidian_config = ".obsidian.desktop"       # Obsidian's "Override config folder"
//!
//! [site]                                      # what the built wiki says about itself
//! title = "Field notes"                       # default: the vault folder's name
//! language = "zh-CN"                          # the pages' `lang` and words; default "en"
//!
//! [site.strings]                              # any word of the pages, in your words
//! linked_mentions = "Backlinks"
//!
//! [lints]                                     # allow | warn | deny per code
//! orphan-note = "warn"
//! case-mismatch = "deny"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::diag::{Code, Diagnostic, Level};
use crate::error::{Error, Result};

/// The file name vaultc reads at the vault root.
pub const FILE_NAME: &str = "vaultc.toml";

/// `vaultc.toml` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ConfigFile {
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default, alias = "resolve_aliases")]
    resolve_aliases: bool,
    #[serde(default)]
    lints: BTreeMap<String, String>,
    #[serde(default, alias = "obsidian_config")]
    obsidian_config: Option<String>,
    #[serde(default)]
    site: SiteFile,
}

/// The `[site]` table as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SiteFile {
    title: Option<String>,
    language: Option<String>,
    url: Option<String>,
    theme: Option<String>,
    #[serde(default)]
    strings: BTreeMap<String, String>,
}

/// Validated configuration.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Vault paths matching these globs are not part of the vault.
    pub exclude: Option<globset::GlobSet>,
    /// The exclude globs as written (for messages).
    pub exclude_patterns: Vec<String>,
    /// Resolve `[[Alias]]` through front-matter aliases.
    pub resolve_aliases: bool,
    /// Levels per code (codes not listed keep their default).
    pub lints: BTreeMap<Code, Level>,
    /// `--deny warnings`: every warning becomes an error.
    pub deny_warnings: bool,
    /// The dot-folder at the vault root Obsidian's settings are read from, when not
    /// `.obsidian` (Obsidian's "Override config folder", which is set per device, so the
    /// vault cannot tell vaultc).
    pub obsidian_config: Option<String>,
    /// The `[site]` table: what the built wiki says about itself.
    pub site: SiteConfig,
}

/// What the built wiki says about itself (`[site]` in `vaultc.toml`); `None` keeps the
/// default, which [`crate::render::SiteMeta`] decides.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SiteConfig {
    /// The site's title, shown in every page's header and `<title>`.
    pub title: Option<String>,
    /// The language of the notes, as a BCP 47 tag (`en`, `zh-CN`): every page's `lang`,
    /// which screen readers speak by and browsers pick fonts by (Chinese and Japanese
    /// share code points but not glyphs).
    pub language: Option<String>,
    /// `[site.strings]`: words of the pages that replace the language's own (keys of
    /// [`crate::render::strings::UiStrings`]).
    pub strings: BTreeMap<String, String>,
    /// Where the site is published (`https://example.org/wiki/`, always ending in `/`): pages
    /// then name their address for search engines and link previews, and the build writes
    /// `sitemap.xml`. Links between pages stay relative.
    pub url: Option<String>,
    /// The theme folder, as written (relative to the vault root unless absolute): what
    /// `build` and `serve` use when the command line names none, and whose files `check`
    /// plans the site with. See [`Config::theme_dir`].
    pub theme: Option<PathBuf>,
}

impl Config {
    /// Reads `vaultc.toml` from the vault root, or the defaults when there is none.
    pub fn load(vault: &Path) -> Result<Config> {
        let path = vault.join(FILE_NAME);
        match std::fs::read_to_string(&path) {
            Ok(text) => Config::parse(&text).map_err(|message| Error::Config { path, message }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(Error::io("reading", path, e)),
        }
    }

    /// Parses and validates the text of a `vaultc.toml`.
    pub fn parse(text: &str) -> std::result::Result<Config, String> {
        let file: ConfigFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut config = Config {
            resolve_aliases: file.resolve_aliases,
            ..Config::default()
        };
        for (name, level) in &file.lints {
            let code = parse_code(name)?;
            let level = Level::from_name(level)
                .ok_or_else(|| format!("[lints] {name} = \"{level}\": the level must be \"allow\", \"warn\" or \"deny\""))?;
            config.lints.insert(code, level);
        }
        config.set_exclude(file.exclude)?;
        if let Some(folder) = file.obsidian_config {
            config.obsidian_config = Some(config_folder(folder)?);
        }
        config.site = SiteConfig {
            title: file.site.title.map(site_title).transpose()?,
            language: file.site.language.map(language_tag).transpose()?,
            strings: site_strings(file.site.strings)?,
            url: file.site.url.map(site_url).transpose()?,
            theme: file.site.theme.map(theme_folder).transpose()?,
        };
        Ok(config)
    }

    /// The configured theme folder of the vault at `vault` (`[site] theme`, relative to the
    /// vault root), if any.
    pub fn theme_dir(&self, vault: &Path) -> Option<PathBuf> {
        self.site.theme.as_ref().map(|t| vault.join(t))
    }

    /// Sets the exclude globs.
    pub fn set_exclude(&mut self, patterns: Vec<String>) -> std::result::Result<(), String> {
        if patterns.is_empty() {
            return Ok(());
        }
        let mut builder = globset::GlobSetBuilder::new();
        for p in &patterns {
            let glob = globset::GlobBuilder::new(p)
                .literal_separator(true)
                .build()
                .map_err(|e| format!("exclude = \"{p}\": {e}"))?;
            builder.add(glob);
        }
        self.exclude = Some(builder.build().map_err(|e| e.to_string())?);
        self.exclude_patterns = patterns;
        Ok(())
    }

    /// Sets a code's level (command-line `-A/-W/-D` after the file).
    pub fn set_level(&mut self, code: Code, level: Level) {
        self.lints.insert(code, level);
    }

    /// The level of a code after configuration.
    pub fn level(&self, code: Code) -> Level {
        let level = self
            .lints
            .get(&code)
            .copied()
            .unwrap_or_else(|| code.default_level());
        if self.deny_warnings && level == Level::Warn {
            Level::Deny
        } else {
            level
        }
    }

    /// Whether a vault path is excluded.
    pub fn is_excluded(&self, path: &str) -> bool {
        self.exclude.as_ref().is_some_and(|g| g.is_match(path))
    }

    /// Applies levels to diagnostics: drops allowed ones, sets the severity of the rest.
    pub fn apply_levels(&self, diagnostics: &mut Vec<Diagnostic>) {
        diagnostics.retain_mut(|d| match self.level(d.code).severity() {
            Some(severity) => {
                d.severity = severity;
                true
            }
            None => false,
        });
    }
}

/// Checks `obsidian_config`: one dot-folder at the vault root, as Obsidian's override names
/// one (`.obsidian.desktop`); anything else would make vaultc read settings from a folder it
/// also reads notes from, or from outside the vault.
fn config_folder(folder: String) -> std::result::Result<String, String> {
    let one_name = !folder.contains(['/', '\\']) && folder != "." && folder != "..";
    if one_name && folder.len() > 1 && folder.starts_with('.') {
        Ok(folder)
    } else {
        Err(format!(
            "obsidian_config = \"{folder}\": name the folder at the vault root that Obsidian keeps this vault's settings in, a name starting with a dot like \".obsidian.desktop\" (Settings, Files and links, \"Override config folder\")"
        ))
    }
}

/// Checks `[site] title`: something to show (surrounding white space is dropped).
fn site_title(title: String) -> std::result::Result<String, String> {
    let trimmed = title.trim();
    if trimmed.is_empty() {
        return Err(
            "[site] title = \"\": give the site a title, or leave the key out to use the vault folder's name".into(),
        );
    }
    Ok(trimmed.to_string())
}

/// Checks the keys of `[site.strings]`: each must name a string of the pages.
fn site_strings(
    strings: BTreeMap<String, String>,
) -> std::result::Result<BTreeMap<String, String>, String> {
    let keys = crate::render::strings::UiStrings::KEYS;
    match strings.keys().find(|k| !keys.contains(&k.as_str())) {
        Some(key) => Err(format!(
            "[site.strings] {key}: no such string; the strings are: {}",
            keys.join(", ")
        )),
        None => Ok(strings),
    }
}

/// Checks `[site] language`: a language tag of the form BCP 47 gives (a two- or three-letter
/// language, then subtags of up to eight letters or digits, joined by `-`), as `lang`
/// attributes take; a language's name (`english`) or `en_US` is refused with the form.
fn language_tag(tag: String) -> std::result::Result<String, String> {
    let mut subtags = tag.split('-');
    let language = subtags.next().unwrap_or_default();
    let well_formed = (2..=3).contains(&language.len())
        && language.bytes().all(|b| b.is_ascii_alphabetic())
        && subtags
            .all(|s| (1..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()));
    if well_formed {
        Ok(tag)
    } else {
        Err(format!(
            "[site] language = \"{tag}\": write a language tag such as \"en\", \"de\", \"zh-CN\" or \"pt-BR\" (BCP 47: the language's two- or three-letter code, then region or script subtags joined by `-`)"
        ))
    }
}

/// Checks `[site] theme`: a folder named, kept as written (it is found from the vault root
/// when the vault is known: [`Config::theme_dir`]).
fn theme_folder(text: String) -> std::result::Result<PathBuf, String> {
    if text.trim().is_empty() {
        return Err("[site] theme = \"\": name the theme folder, such as \"../my-theme\" (relative to the vault root) or an absolute path".to_string());
    }
    Ok(PathBuf::from(text))
}

/// Checks `[site] url`: an absolute `http`/`https` address with a host and no query or
/// fragment, which every page's address is made from; a trailing `/` is added, since the
/// pages are under it.
fn site_url(text: String) -> std::result::Result<String, String> {
    let refused = |why: &str| {
        format!(
            "[site] url = \"{text}\": {why}; write the address the site is published at, such as \"https://example.org/\" or \"https://example.org/notes/\""
        )
    };
    let mut url = url::Url::parse(text.trim()).map_err(|e| refused(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(refused("not an http(s) address with a host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(refused("pages cannot be under an address with `?` or `#`"));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url.into())
}

/// Parses a code name, or explains which names exist.
pub fn parse_code(name: &str) -> std::result::Result<Code, String> {
    Code::from_name(name).ok_or_else(|| {
        let known: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        let hint = crate::diag::closest(name, known.iter().copied())
            .map(|c| format!(" (did you mean `{c}`?)"))
            .unwrap_or_default();
        format!(
            "unknown lint `{name}`{hint}; the codes are: {}",
            known.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_levels_excludes_and_aliases() {
        let c = Config::parse("exclude = [\"Templates/**\"]\nresolve_aliases = true\n[lints]\norphan-note = \"warn\"\nbroken-link = \"allow\"\n").unwrap();
        assert!(c.resolve_aliases);
        assert_eq!(c.level(Code::OrphanNote), Level::Warn);
        assert_eq!(c.level(Code::BrokenLink), Level::Allow);
        assert_eq!(c.level(Code::CaseMismatch), Level::Allow);
        assert!(c.is_excluded("Templates/a/b.md"));
        assert!(!c.is_excluded("Notes/Templates.md"));
    }

    #[test]
    fn unknown_keys_codes_and_levels_say_what_is_valid() {
        let e = Config::parse("exlude = []").unwrap_err();
        assert!(e.contains("exlude") && e.contains("exclude"), "{e}");
        let e = Config::parse("[lints]\nbroken-lnk = \"deny\"").unwrap_err();
        assert!(e.contains("did you mean `broken-link`"), "{e}");
        let e = Config::parse("[lints]\nbroken-link = \"error\"").unwrap_err();
        assert!(e.contains("allow"), "{e}");
    }

    #[test]
    fn site_title_and_language_are_read_and_checked() {
        let c = Config::parse("[site]\ntitle = \"  Field notes \"\nlanguage = \"zh-Hans-CN\"\n")
            .unwrap();
        assert_eq!(c.site.title.as_deref(), Some("Field notes"));
        assert_eq!(c.site.language.as_deref(), Some("zh-Hans-CN"));
        assert_eq!(Config::parse("").unwrap().site, SiteConfig::default());
        for bad in [
            "english",
            "en_US",
            "e",
            "en-",
            "-en",
            "en-toolongsubtag",
            "en US",
            "1a",
        ] {
            let e = Config::parse(&format!("[site]\nlanguage = \"{bad}\"\n")).unwrap_err();
            assert!(e.contains("language tag") && e.contains(bad), "{bad}: {e}");
        }
        let e = Config::parse("[site]\ntitle = \" \"\n").unwrap_err();
        assert!(e.contains("[site] title"), "{e}");
        let e = Config::parse("[site]\nlang = \"en\"\n").unwrap_err();
        assert!(e.contains("lang") && e.contains("language"), "{e}");
    }

    /// `[site] theme` is kept as written and found from the vault root (or where it says,
    /// when absolute); an empty one is refused.
    #[test]
    fn site_theme_is_a_folder_from_the_vault_root() {
        let config = Config::parse("[site]\ntheme = \"../themes/mine\"\n").unwrap();
        assert_eq!(
            config.theme_dir(Path::new("/notes/vault")),
            Some(PathBuf::from("/notes/vault/../themes/mine"))
        );
        let config = Config::parse("[site]\ntheme = \"/srv/theme\"\n").unwrap();
        assert_eq!(
            config.theme_dir(Path::new("/notes/vault")),
            Some(PathBuf::from("/srv/theme"))
        );
        assert_eq!(Config::parse("").unwrap().theme_dir(Path::new("v")), None);
        let err = Config::parse("[site]\ntheme = \" \"\n").unwrap_err();
        assert!(err.contains("name the theme folder"), "{err}");
    }

    #[test]
    fn site_url_is_an_http_address_the_pages_are_under() {
        let url = |text: &str| Config::parse(&format!("[site]\nurl = \"{text}\"\n"));
        assert_eq!(Config::parse("").unwrap().site.url, None);
        for (written, kept) in [
            ("https://example.org", "https://example.org/"),
            ("https://example.org/notes", "https://example.org/notes/"),
            ("http://Example.org/a b/", "http://example.org/a%20b/"),
            (" https://example.org/wiki/ ", "https://example.org/wiki/"),
        ] {
            assert_eq!(
                url(written).unwrap().site.url.as_deref(),
                Some(kept),
                "{written}"
            );
        }
        for refused in [
            "example.org",
            "/notes/",
            "ftp://example.org/",
            "file:///home/me/site/",
            "https://example.org/?page=1",
            "https://example.org/#top",
        ] {
            let e = url(refused).unwrap_err();
            assert!(
                e.starts_with(&format!("[site] url = \"{refused}\": "))
                    && e.contains("https://example.org/"),
                "{refused}: {e}"
            );
        }
    }

    #[test]
    fn deny_warnings_promotes_warnings_only() {
        let c = Config {
            deny_warnings: true,
            ..Config::default()
        };
        assert_eq!(c.level(Code::BrokenFragment), Level::Deny);
        assert_eq!(c.level(Code::OrphanNote), Level::Allow);
    }
}
