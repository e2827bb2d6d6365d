//! The Obsidian settings discovery reads from the vault's `.obsidian/` folder: the excluded
//! files (`userIgnoreFilters` of `app.json`) and the templates folders (the core Templates
//! plugin's and Templater's). A settings file that is not valid JSON, or a setting vaultc
//! cannot use, is an `invalid-settings` warning: Obsidian would not apply it either, or
//! would apply it where vaultc cannot, and either way the user should know the vault
//! vaultc sees is not the one they configured.

use std::path::Path;

use crate::diag::{Code, Diagnostic};
use crate::source::{Span, VaultPath};
use crate::vault::OtherSource;

/// The folder at the vault root Obsidian keeps the vault's settings in, unless the user set
/// another with Obsidian's "Override config folder" (then `obsidian_config` in `vaultc.toml`
/// names it).
pub const DEFAULT_CONFIG_FOLDER: &str = ".obsidian";

/// The Obsidian settings files discovery reads, within the config folder (a dot-folder it
/// otherwise skips): the excluded files and the two template-folder settings.
pub const SETTINGS_FILES: [&str; 3] = [
    "app.json",
    "templates.json",
    "plugins/templater-obsidian/data.json",
];

/// The vault paths of the settings files (in [`SETTINGS_FILES`] order) in the config folder
/// `configured` (`obsidian_config` in `vaultc.toml`), else [`DEFAULT_CONFIG_FOLDER`].
pub fn settings_files(configured: Option<&str>) -> [String; 3] {
    let folder = configured.unwrap_or(DEFAULT_CONFIG_FOLDER);
    SETTINGS_FILES.map(|name| format!("{folder}/{name}"))
}

/// Whether `rel` (relative to the vault) is a settings file of a config folder: one of
/// [`SETTINGS_FILES`] in a dot-folder at the vault root. Any dot-folder, so that a watcher
/// and a session, which do not know the configured one, report a change to it (a change to
/// the same file of another folder costs a walk, nothing more).
pub fn is_settings_file(rel: &Path) -> bool {
    let mut parts = rel.components();
    let folder_is_hidden = parts.next().is_some_and(|c| {
        let name = c.as_os_str().to_string_lossy();
        name.starts_with('.') && name != "." && name != ".."
    });
    folder_is_hidden
        && SETTINGS_FILES
            .iter()
            .any(|f| parts.as_path() == Path::new(f))
}

/// What the settings files say about which files make up the vault.
#[derive(Debug, Default)]
pub struct ObsidianSettings {
    /// Obsidian's "Excluded files".
    pub excluded: ExcludedFiles,
    /// Folders holding templates, each as a vault path prefix ending in `/`.
    pub template_folders: Vec<String>,
    /// What could not be used, as `invalid-settings` warnings on the settings file.
    pub diagnostics: Vec<Diagnostic>,
    /// The texts of the settings files the diagnostics point into, sorted by path.
    pub sources: Vec<OtherSource>,
}

impl ObsidianSettings {
    /// Reads the settings files in the config folder of the vault at `root`: `configured`
    /// (`obsidian_config` in `vaultc.toml`), else [`DEFAULT_CONFIG_FOLDER`]. A missing file is
    /// no setting; a configured folder that is missing is a warning on `vaultc.toml`, since
    /// a misspelt name would silently drop the excluded files.
    pub fn read(root: &Path, configured: Option<&str>) -> ObsidianSettings {
        let mut settings = ObsidianSettings::default();
        if let Some(folder) = configured.filter(|f| !root.join(f).is_dir()) {
            settings.missing_folder(root, folder);
        }
        let mut texts = Vec::new();
        let [app_file, templates_file, templater_file] = settings_files(configured);
        let read = |file: &str, settings: &mut ObsidianSettings| {
            read_json(root, file, &mut settings.diagnostics, &mut settings.sources)
        };
        if let Some((app, text)) = read(&app_file, &mut settings) {
            settings.excluded = ExcludedFiles::from_setting(
                &app["userIgnoreFilters"],
                &settings_path(&app_file),
                &text,
                &mut settings.diagnostics,
            );
            texts.push((app_file, text));
        }
        for (file, key) in [
            (templates_file, "folder"),
            (templater_file, "templates_folder"),
        ] {
            let Some((value, text)) = read(&file, &mut settings) else {
                continue;
            };
            match &value[key] {
                serde_json::Value::String(folder) => {
                    let folder = folder.trim_matches('/');
                    if !folder.is_empty() {
                        settings.template_folders.push(format!("{folder}/"));
                    }
                }
                serde_json::Value::Null => {}
                other => settings.diagnostics.push(invalid(
                    &settings_path(&file),
                    key_span(&text, key),
                    format!(
                        "`{key}` should be a folder name, not {}; the templates folder it names is not known, so its notes are checked as notes",
                        kind(other)
                    ),
                    None,
                )),
            }
            texts.push((file, text));
        }
        // Kept for the files a diagnostic points into (at most three small files).
        for (file, text) in texts {
            if settings.diagnostics.iter().any(|d| d.file.as_str() == file) {
                settings.sources.push(OtherSource {
                    path: settings_path(&file),
                    text,
                });
            }
        }
        settings.sources.sort_by(|a, b| a.path.cmp(&b.path));
        settings
    }

    /// Reports that the configured config folder `folder` is not a folder of the vault, at
    /// its `obsidian_config` line of `vaultc.toml`.
    fn missing_folder(&mut self, root: &Path, folder: &str) {
        let file = settings_path(crate::config::FILE_NAME);
        let text = std::fs::read_to_string(root.join(crate::config::FILE_NAME)).unwrap_or_default();
        let at = toml_key_span(&text, &["obsidian_config", "obsidian-config"]);
        self.diagnostics.push(invalid(
            &file,
            at,
            format!("`obsidian_config` names the folder `{folder}`, which the vault does not have, so no Obsidian settings are read (its excluded files are not left out)"),
            Some("name the dot-folder at the vault root that holds this vault's `app.json`, or remove the key to read `.obsidian`".into()),
        ));
        if !text.is_empty() {
            self.sources.push(OtherSource { path: file, text });
        }
    }
}

/// Obsidian's "Excluded files" (`userIgnoreFilters`): each entry is a path prefix
/// (`Archive/`), or a regular expression between slashes (`/\.excalidraw/`) searched for
/// anywhere in the path; both ignore letter case. These are the rules Obsidian applies.
#[derive(Debug, Default)]
pub struct ExcludedFiles {
    /// The plain entries, lower-cased: a path is excluded when its lower-cased form starts
    /// with one. Looked up by the path's first bytes, one lookup per length some entry has,
    /// so thousands of entries cost a few lookups a path.
    prefixes: crate::source::FastSet<String>,
    /// The byte lengths of `prefixes`, ascending.
    prefix_lengths: Vec<usize>,
    /// The usable `/…/` entries, compiled together (case-insensitive). Kept apart from the
    /// prefixes: a set of thousands of literals beside one class (`\d`) made the regex
    /// crate's literal extraction quadratic (5,000 prefixes and 500 patterns: 3.3 s).
    patterns: Option<regex::RegexSet>,
}

impl ExcludedFiles {
    /// Excluded files from the entries given (`/…/` a pattern, else a prefix), each at its
    /// place in `file`; an entry that cannot be used is reported there and left out.
    pub fn new(
        entries: &[(&str, Span)],
        file: &VaultPath,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> Self {
        let mut patterns = Vec::new();
        let mut prefixes = crate::source::FastSet::default();
        let mut capped = false;
        for &(entry, span) in entries {
            if entry.is_empty() {
                continue;
            }
            let is_pattern = entry.len() > 2 && entry.starts_with('/') && entry.ends_with('/');
            if is_pattern && patterns.len() == MAX_PATTERNS {
                // Reported once, at the first pattern left out; prefixes after it still apply.
                if !capped {
                    capped = true;
                    diagnostics.push(invalid(
                        file,
                        span,
                        format!("more than {MAX_PATTERNS} excluded-files patterns: `{entry}` and the patterns after it are left out, so the files they would exclude are part of the vault"),
                        Some("exclude those files with `exclude` globs in vaultc.toml, which take any number".into()),
                    ));
                }
                continue;
            }
            let pattern = if is_pattern {
                let inner = &entry[1..entry.len() - 1];
                match regex::RegexBuilder::new(inner)
                    .case_insensitive(true)
                    .size_limit(PATTERN_SIZE_LIMIT)
                    .build()
                {
                    Ok(_) => format!("(?i:{inner})"),
                    Err(err) => {
                        diagnostics.push(invalid(
                            file,
                            span,
                            format!(
                                "the excluded-files pattern `{entry}` is not a regular expression vaultc can use ({}); files it would exclude are part of the vault",
                                regex_error(&err)
                            ),
                            Some("look-around and back-references are not supported; write the pattern without them, or exclude the files with `exclude` globs in vaultc.toml".into()),
                        ));
                        continue;
                    }
                }
            } else {
                if entry.starts_with('/') {
                    // Obsidian compares the entry with paths that never start with `/`.
                    diagnostics.push(invalid(
                        file,
                        span,
                        format!("the excluded-files entry `{entry}` starts with `/`, which no vault path does, so it excludes nothing"),
                        Some(format!(
                            "write `{}` to exclude that path, or `{entry}/` for a regular expression",
                            entry.trim_start_matches('/')
                        )),
                    ));
                }
                prefixes.insert(entry.to_lowercase());
                continue;
            };
            patterns.push(pattern);
        }
        let mut prefix_lengths: Vec<usize> = prefixes.iter().map(String::len).collect();
        prefix_lengths.sort_unstable();
        prefix_lengths.dedup();
        let excluded = ExcludedFiles {
            prefixes,
            prefix_lengths,
            patterns: None,
        };
        if patterns.is_empty() {
            return excluded;
        }
        // Each pattern compiled alone above; together they still may outgrow the limit.
        match regex::RegexSetBuilder::new(&patterns)
            .size_limit(PATTERNS_SIZE_LIMIT)
            .build()
        {
            Ok(set) => ExcludedFiles {
                patterns: Some(set),
                ..excluded
            },
            Err(err) => {
                diagnostics.push(invalid(
                    file,
                    entries.first().map_or_else(Span::default, |e| e.1),
                    format!(
                        "the excluded-files patterns (`/…/`) cannot be used together ({}); none of them excludes a file",
                        regex_error(&err)
                    ),
                    None,
                ));
                excluded
            }
        }
    }

    /// Excluded files from the `userIgnoreFilters` value of `file` (a list of strings),
    /// whose `text` places the entries for their diagnostics.
    fn from_setting(
        value: &serde_json::Value,
        file: &VaultPath,
        text: &str,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> Self {
        let key = key_span(text, "userIgnoreFilters");
        let items = match value {
            serde_json::Value::Null => return ExcludedFiles::default(),
            serde_json::Value::Array(items) => items,
            other => {
                diagnostics.push(invalid(
                    file,
                    key,
                    format!(
                        "`userIgnoreFilters` should be a list of strings, not {}; no file is excluded",
                        kind(other)
                    ),
                    None,
                ));
                return ExcludedFiles::default();
            }
        };
        // Each entry's place: its JSON text, searched for after the one before (an entry
        // written with other escapes than serde_json's is placed at the key).
        let mut from = key.end as usize;
        let mut entries = Vec::with_capacity(items.len());
        for item in items {
            let written = serde_json::to_string(item).unwrap_or_default();
            let span = match text.get(from..).and_then(|rest| rest.find(&written)) {
                Some(at) => {
                    from += at + written.len();
                    Span::new(from - written.len()..from)
                }
                None => key,
            };
            match item.as_str() {
                Some(entry) => entries.push((entry, span)),
                None => diagnostics.push(invalid(
                    file,
                    span,
                    format!(
                        "an excluded-files entry should be a string, not {}; it is left out",
                        kind(item)
                    ),
                    None,
                )),
            }
        }
        ExcludedFiles::new(&entries, file, diagnostics)
    }

    /// Whether Obsidian leaves the file at `path` out of the vault.
    pub fn excludes(&self, path: &str) -> bool {
        if !self.prefixes.is_empty() {
            let lower = path.to_lowercase();
            let excluded = self
                .prefix_lengths
                .iter()
                .take_while(|&&len| len <= lower.len())
                .any(|&len| lower.is_char_boundary(len) && self.prefixes.contains(&lower[..len]));
            if excluded {
                return true;
            }
        }
        self.patterns.as_ref().is_some_and(|set| set.is_match(path))
    }
}

/// The most memory one compiled excluded-files pattern may take: a pattern that needs more
/// (`/(a{1000}){1000}/`) is reported instead of compiled.
const PATTERN_SIZE_LIMIT: usize = 1 << 20;

/// The most memory the compiled set of every pattern may take.
const PATTERNS_SIZE_LIMIT: usize = 32 << 20;

/// The most `/…/` entries applied. A set of many thousands of patterns takes the regex crate
/// seconds to build (16,000 literals: 6 s, and superlinear), and nobody writes hundreds; the
/// entries past it are reported, and `exclude` globs take any number.
pub const MAX_PATTERNS: usize = 256;

/// The settings file at `file` (relative to `root`) as JSON, with its text; `None` when it
/// is missing or not valid JSON (then reported, and its text kept in `sources`).
fn read_json(
    root: &Path,
    file: &str,
    diagnostics: &mut Vec<Diagnostic>,
    sources: &mut Vec<OtherSource>,
) -> Option<(serde_json::Value, String)> {
    let path = settings_path(file);
    let bytes = match std::fs::read(root.join(file)) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return None,
        // A folder of that name, a permission: Obsidian could not read it either.
        Err(err) => {
            diagnostics.push(invalid(
                &path,
                Span::default(),
                format!("cannot read: {err}; {}", consequence(file)),
                None,
            ));
            return None;
        }
    };
    let text = String::from_utf8_lossy(&bytes).into_owned();
    match serde_json::from_slice(&bytes) {
        Ok(value) => Some((value, text)),
        Err(err) => {
            let at = offset_of(&text, err.line(), err.column());
            diagnostics.push(invalid(
                &path,
                Span::new(at..at),
                format!("not valid JSON: {}; {}", json_error(&err), consequence(file)),
                Some("Obsidian rewrites this file when the setting is changed in its Settings window; or fix the JSON by hand".into()),
            ));
            sources.push(OtherSource { path, text });
            None
        }
    }
}

/// The byte offset of serde_json's 1-based `line` and `column` (a byte count) in `text`,
/// at a character boundary.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let at = (start + column.saturating_sub(1)).min(text.len());
    crate::source::floor_char_boundary(text, at)
}

/// Where one of `keys` is set in the TOML `text`: the key at the start of a line, before its
/// `=` (a comment or a value that mentions it is not the key); the whole file when no line
/// sets it.
fn toml_key_span(text: &str, keys: &[&str]) -> Span {
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let indent = line.len() - line.trim_start().len();
        let rest = &line[indent..];
        for key in keys {
            let sets = rest
                .strip_prefix(key)
                .is_some_and(|after| after.trim_start().starts_with('='));
            if sets {
                let at = start + indent;
                return Span::new(at..at + key.len());
            }
        }
        start += line.len();
    }
    Span::default()
}

/// Where `"key"` is written in `text` (the whole file when it is not found).
fn key_span(text: &str, key: &str) -> Span {
    let quoted = format!("\"{key}\"");
    text.find(&quoted)
        .map_or_else(Span::default, |at| Span::new(at..at + quoted.len()))
}

/// What is lost when the settings file `file` cannot be used.
fn consequence(file: &str) -> &'static str {
    if Path::new(file).ends_with(SETTINGS_FILES[0]) {
        "its excluded files (`userIgnoreFilters`) are not left out"
    } else {
        "the templates folder it names is not known, so its notes are checked as notes"
    }
}

/// serde_json's message without its trailing position (given separately).
fn json_error(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// The last line of a regex error (the one that says what is wrong; the lines above
/// repeat the pattern with a caret).
fn regex_error(err: &regex::Error) -> String {
    let text = err.to_string();
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("invalid pattern")
        .trim()
        .trim_start_matches("error: ")
        .to_string()
}

/// `a string`, `a number`, ...: what a JSON value is, for messages.
fn kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

/// The vault path of a settings file (its names are all valid vault paths).
fn settings_path(file: &str) -> VaultPath {
    VaultPath::new(file).expect("settings file names are vault paths")
}

/// An `invalid-settings` warning at `span` of `file`.
fn invalid(file: &VaultPath, span: Span, message: String, help: Option<String>) -> Diagnostic {
    let d = Diagnostic::new(Code::InvalidSettings, file.clone(), span, message);
    match help {
        Some(help) => d.with_help(help),
        None => d,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excluded(entries: &[&str]) -> (ExcludedFiles, Vec<Diagnostic>) {
        let mut diagnostics = Vec::new();
        let file = settings_path(".obsidian/app.json");
        (
            ExcludedFiles::new(
                &entries
                    .iter()
                    .map(|e| (*e, Span::default()))
                    .collect::<Vec<_>>(),
                &file,
                &mut diagnostics,
            ),
            diagnostics,
        )
    }

    /// A plain entry is a prefix of the path, in any letter case; it is not a glob and not
    /// a pattern (`.` and `*` are themselves).
    #[test]
    fn a_plain_entry_is_a_prefix_in_any_letter_case() {
        let (filters, diagnostics) = excluded(&["Archive/", "notes/draft.", "a*b"]);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert!(filters.excludes("Archive/Old.md"));
        assert!(filters.excludes("archive/old.md"));
        assert!(filters.excludes("ARCHIVE/deep/x.png"));
        assert!(
            !filters.excludes("Notes/Archive/Old.md"),
            "a prefix, not a substring"
        );
        assert!(
            !filters.excludes("Archived.md"),
            "`Archive/` ends at its slash"
        );
        assert!(filters.excludes("notes/draft.md"));
        assert!(
            !filters.excludes("notes/draftxmd"),
            "`.` is a dot, not any character"
        );
        assert!(filters.excludes("a*b.md"));
        assert!(!filters.excludes("axxb.md"), "`*` is a star, not a glob");
    }

    /// The prefixes, looked up by the lengths entries have, exclude what comparing the
    /// path with each entry excludes: nested and overlapping entries, letter case beyond
    /// ASCII, paths shorter than an entry and cut inside a character.
    #[test]
    fn prefix_lookups_equal_comparing_each_entry() {
        let entries = ["a", "ab/", "Ü/", "über/x", "日本/", "b/c/d/", "zz"];
        let (filters, diagnostics) = excluded(&entries);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let mut rng = crate::source::xorshift(0x0b5e_551d);
        let parts = [
            "a", "ab", "b", "c", "d", "Ü", "ü", "über", "x", "日本", "日", "z", "zz", "Z",
        ];
        for _ in 0..2000 {
            let path = (0..1 + rng(4))
                .map(|_| parts[rng(parts.len())])
                .collect::<Vec<_>>()
                .join("/");
            let lower = path.to_lowercase();
            let scan = entries.iter().any(|e| lower.starts_with(&e.to_lowercase()));
            assert_eq!(filters.excludes(&path), scan, "{path}");
        }
    }

    /// `/…/` is a regular expression searched anywhere in the path, ignoring case.
    #[test]
    fn an_entry_between_slashes_is_a_pattern_found_anywhere() {
        let (filters, diagnostics) = excluded(&[r"/\.excalidraw\.md$/", "/^daily/2023-/"]);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert!(filters.excludes("Drawings/Plan.excalidraw.md"));
        assert!(filters.excludes("x/Y.EXCALIDRAW.MD"));
        assert!(!filters.excludes("Plan.excalidraw.md.bak"));
        assert!(filters.excludes("Daily/2023-01-01.md"));
        assert!(
            !filters.excludes("old/daily/2023-01-01.md"),
            "`^` anchors at the path's start"
        );
        assert!(!filters.excludes("Daily/2024-01-01.md"));
    }

    /// Past [`MAX_PATTERNS`] patterns, the rest are reported once and left out; prefixes
    /// after them still apply.
    #[test]
    fn patterns_past_the_limit_are_reported_once() {
        let mut entries: Vec<String> = (0..MAX_PATTERNS + 5).map(|i| format!("/^p{i}x/")).collect();
        entries.push("late/".into());
        let entries: Vec<&str> = entries.iter().map(String::as_str).collect();
        let (filters, diagnostics) = excluded(&entries);
        assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
        assert!(diagnostics[0].message.starts_with(&format!(
            "more than {MAX_PATTERNS} excluded-files patterns: `/^p{MAX_PATTERNS}x/`"
        )));
        assert!(filters.excludes(&format!("p{}x.md", MAX_PATTERNS - 1)));
        assert!(!filters.excludes(&format!("p{MAX_PATTERNS}x.md")));
        assert!(filters.excludes("late/x.md"));
    }

    /// An entry vaultc cannot use is reported and left out; the others still apply.
    #[test]
    fn unusable_entries_are_reported_and_the_rest_apply() {
        let (filters, diagnostics) = excluded(&["/(?<=a)b/", "/Leading", "/(/", "Keep/", "", "//"]);
        let messages: Vec<&str> = diagnostics.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(diagnostics.len(), 4, "{messages:#?}");
        assert!(diagnostics
            .iter()
            .all(|d| d.code == Code::InvalidSettings && d.file.as_str() == ".obsidian/app.json"));
        assert!(messages[0].contains("`/(?<=a)b/`"), "{}", messages[0]);
        assert!(
            messages[1].contains("`/Leading` starts with `/`"),
            "{}",
            messages[1]
        );
        assert_eq!(
            diagnostics[1].help.as_deref(),
            Some("write `Leading` to exclude that path, or `/Leading/` for a regular expression")
        );
        assert!(messages[2].contains("`/(/`"), "{}", messages[2]);
        assert!(
            messages[3].contains("`//` starts with `/`"),
            "{}",
            messages[3]
        );
        assert!(filters.excludes("Keep/x.md"));
        assert!(
            !filters.excludes("Leading/x.md"),
            "Obsidian's prefix `/Leading` matches nothing"
        );
        assert!(!filters.excludes("ab.md"));
        assert!(
            !filters.excludes("x.md"),
            "`//` is the empty prefix `//`, not everything"
        );
    }

    fn read_settings(files: &[(&str, &str)]) -> ObsidianSettings {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        ObsidianSettings::read(dir.path(), None)
    }

    /// Settings files that are not JSON, or settings of the wrong kind, are warnings that
    /// say where and what is lost; the settings that can be read still apply.
    #[test]
    fn settings_files_vaultc_cannot_use_are_reported() {
        let settings = read_settings(&[
            (
                ".obsidian/app.json",
                "{\n  \"userIgnoreFilters\": [\"Archive/\",]\n}",
            ),
            (".obsidian/templates.json", "{\"folder\": 3}"),
            (
                ".obsidian/plugins/templater-obsidian/data.json",
                "{\"templates_folder\": \"/Tpl/\"}",
            ),
        ]);
        assert_eq!(settings.template_folders, ["Tpl/"]);
        assert!(!settings.excluded.excludes("Archive/x.md"));
        let d: Vec<(&str, &str, Span)> = settings
            .diagnostics
            .iter()
            .map(|d| (d.file.as_str(), d.message.as_str(), d.span))
            .collect();
        assert_eq!(d.len(), 2, "{d:#?}");
        assert_eq!(d[0].0, ".obsidian/app.json");
        assert_eq!(
            d[0].1,
            "not valid JSON: trailing comma; its excluded files (`userIgnoreFilters`) are not left out"
        );
        // At serde_json's line 2, column 36: the `]` after the comma.
        let app = "{\n  \"userIgnoreFilters\": [\"Archive/\",]\n}";
        assert_eq!(
            d[0].2,
            Span::new(app.find(",]").unwrap() + 1..app.find(",]").unwrap() + 1)
        );
        assert_eq!(d[1].0, ".obsidian/templates.json");
        assert!(
            d[1].1
                .starts_with("`folder` should be a folder name, not a number"),
            "{}",
            d[1].1
        );
        assert_eq!(d[1].2, Span::new(1..9), "at `\"folder\"`");
        // Both texts are kept for the diagnostics' lines and snippets; the clean one is not.
        let kept: Vec<&str> = settings.sources.iter().map(|s| s.path.as_str()).collect();
        assert_eq!(kept, [".obsidian/app.json", ".obsidian/templates.json"]);
    }

    /// Each unusable excluded-files entry is placed at its own text, the same text twice at
    /// each of its places in turn.
    #[test]
    fn unusable_entries_are_placed_where_they_are_written() {
        let text = "{\"userIgnoreFilters\": [\"ok/\", \"/x\", 5, \"/x\"]}";
        let settings = read_settings(&[(".obsidian/app.json", text)]);
        let mut placed: Vec<(u32, &str)> = settings
            .diagnostics
            .iter()
            .map(|d| (d.span.start, &text[d.span.range()]))
            .collect();
        placed.sort();
        let spans: Vec<&str> = placed.iter().map(|p| p.1).collect();
        assert_eq!(spans, ["\"/x\"", "5", "\"/x\""]);
        assert!(
            placed[0].0 < placed[1].0 && placed[1].0 < placed[2].0,
            "{placed:?}"
        );
    }

    /// `userIgnoreFilters` of the wrong kind, or holding something other than strings.
    #[test]
    fn ignore_filters_of_the_wrong_kind_are_reported() {
        let settings =
            read_settings(&[(".obsidian/app.json", r#"{"userIgnoreFilters": "Archive/"}"#)]);
        assert_eq!(settings.diagnostics.len(), 1);
        assert!(settings.diagnostics[0]
            .message
            .starts_with("`userIgnoreFilters` should be a list of strings, not a string"));
        let settings = read_settings(&[(
            ".obsidian/app.json",
            r#"{"userIgnoreFilters": ["A/", 7, "B/"]}"#,
        )]);
        assert_eq!(settings.diagnostics.len(), 1);
        assert!(settings.diagnostics[0].message.contains("not a number"));
        assert!(settings.excluded.excludes("A/x.md") && settings.excluded.excludes("b/y.md"));
        // No settings at all, or settings without the key: nothing to say.
        assert!(read_settings(&[]).diagnostics.is_empty());
        assert!(read_settings(&[(".obsidian/app.json", "{}")])
            .diagnostics
            .is_empty());
    }

    /// With Obsidian's "Override config folder" (`.obsidian.desktop`), the settings are read
    /// from that folder, and the default one's are not; diagnostics name the file read.
    #[test]
    fn settings_come_from_the_configured_folder() {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in [
            (".obsidian/app.json", r#"{"userIgnoreFilters": ["Old/"]}"#),
            (
                ".obsidian.desktop/app.json",
                r#"{"userIgnoreFilters": ["Drafts/", "/Private"]}"#,
            ),
            (".obsidian.desktop/templates.json", r#"{"folder": "Tpl"}"#),
        ] {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let settings = ObsidianSettings::read(dir.path(), Some(".obsidian.desktop"));
        assert!(settings.excluded.excludes("Drafts/a.md"));
        assert!(!settings.excluded.excludes("Old/a.md"));
        assert_eq!(settings.template_folders, ["Tpl/"]);
        assert_eq!(settings.diagnostics.len(), 1, "{:?}", settings.diagnostics);
        assert_eq!(
            settings.diagnostics[0].file.as_str(),
            ".obsidian.desktop/app.json"
        );
        let sources: Vec<&str> = settings.sources.iter().map(|s| s.path.as_str()).collect();
        assert_eq!(sources, [".obsidian.desktop/app.json"]);
        let default = ObsidianSettings::read(dir.path(), None);
        assert!(default.excluded.excludes("Old/a.md") && !default.excluded.excludes("Drafts/a.md"));
    }

    #[test]
    fn the_config_key_is_found_where_it_is_set() {
        let keys = ["obsidian_config", "obsidian-config"];
        let text = "# obsidian_config = \".old\"\nexclude = [\"obsidian_config\"]\n  obsidian-config = \".x\"\n";
        let at = text.find("obsidian-config =").unwrap();
        assert_eq!(toml_key_span(text, &keys), Span::new(at..at + 15));
        assert_eq!(toml_key_span("exclude = []\n", &keys), Span::default());
    }

    #[test]
    fn settings_files_are_known_in_any_config_folder() {
        for yes in [
            ".obsidian/app.json",
            ".obsidian.desktop/templates.json",
            ".obsidian-mobile/plugins/templater-obsidian/data.json",
        ] {
            assert!(is_settings_file(Path::new(yes)), "{yes}");
        }
        for no in [
            "app.json",
            "notes/.obsidian/app.json",
            ".obsidian/workspace.json",
            ".obsidian/plugins/other/data.json",
            "obsidian/app.json",
            ".obsidian",
        ] {
            assert!(!is_settings_file(Path::new(no)), "{no}");
        }
    }
}
