//! Diagnostics for CI systems: GitHub Actions workflow commands ([`github`]), SARIF 2.1.0
//! for code-scanning upload ([`sarif`]) and GitLab's Code Quality report ([`gitlab`]).
//!
//! All take their positions from [`emit::locate`], so lines and columns (1-based,
//! columns in characters) are exactly those of the JSON report. Neither function prints: they
//! return the whole output as a string, and the output is deterministic (same diagnostics, same
//! bytes), which keeps SARIF fingerprints and annotations stable from run to run.
//!
//! [`emit::locate`]: crate::diag::emit::locate

use std::collections::HashMap;
use std::fmt::Write as _;

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use serde_json::{json, Value};

use crate::diag::emit::{locate, Located};
use crate::diag::{Code, Diagnostic, Level, Severity};
use crate::vault::Vault;

/// The `$schema` of the SARIF log.
pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The SARIF version written.
pub const SARIF_VERSION: &str = "2.1.0";

/// The `uriBaseId` every artifact location is relative to: the vault folder.
pub const SARIF_URI_BASE_ID: &str = "VAULTROOT";

/// The `uriBaseId` of [`sarif_with_prefix`] with a prefix: the repository root.
pub const SARIF_REPO_BASE_ID: &str = "REPOROOT";

/// The key of the fingerprint in `partialFingerprints`; the `/v1` changes when the recipe does.
pub const FINGERPRINT_KEY: &str = "vaultc/v1";

/// Project page written as the tool's `informationUri`.
pub const INFORMATION_URI: &str = "https://github.com/vaultc/vaultc";

// ---------------------------------------------------------------------------------------------
// GitHub Actions
// ---------------------------------------------------------------------------------------------

/// GitHub Actions workflow commands, one line per diagnostic:
/// `::error file=PATH,line=L,col=C,endLine=EL,endColumn=EC,title=CODE::MESSAGE`
/// (`::warning` for warnings). Paths are vault-relative; see [`github_with_prefix`] when the
/// vault is not the repository root.
pub fn github(diagnostics: &[Diagnostic], vault: &Vault) -> String {
    github_with_prefix(diagnostics, vault, "")
}

/// Like [`github`], with `prefix` (the vault folder relative to the repository root, e.g.
/// `notes`) put before every path so the annotations land on the right file. An empty prefix
/// or `.` leaves paths as they are; `\` separators and a leading `./` are accepted.
pub fn github_with_prefix(diagnostics: &[Diagnostic], vault: &Vault, prefix: &str) -> String {
    let prefix = normalise_prefix(prefix);
    let mut out = String::new();
    for d in diagnostics {
        let at = locate(d, vault);
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let path = if prefix.is_empty() {
            at.file.to_string()
        } else {
            format!("{prefix}/{}", at.file)
        };
        let mut message = escape_data(at.message);
        if let Some(help) = at.help.filter(|h| !h.is_empty()) {
            message.push_str("%0A");
            message.push_str(&escape_data(help));
        }
        let _ = writeln!(
            out,
            "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{message}",
            escape_property(&path),
            at.line,
            at.column,
            at.end_line,
            at.end_column,
            escape_property(d.code.as_str()),
        );
    }
    out
}

/// `prefix` with `/` separators, without a leading `./` or trailing `/` (`""` for `.`).
fn normalise_prefix(prefix: &str) -> String {
    let slashed = prefix.replace('\\', "/");
    let parts: Vec<&str> = slashed
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let absolute = slashed.starts_with('/');
    let joined = parts.join("/");
    if absolute && !joined.is_empty() {
        format!("/{joined}")
    } else {
        joined
    }
}

/// Escapes the data (message) of a workflow command: `%`, `\r` and `\n`.
pub fn escape_data(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            _ => out.push(c),
        }
    }
    out
}

/// Escapes a property value of a workflow command: as [`escape_data`], plus `:` and `,`.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

// ---------------------------------------------------------------------------------------------
// SARIF
// ---------------------------------------------------------------------------------------------

/// Bytes percent-encoded in a SARIF artifact URI path segment: controls, space, the characters
/// RFC 3986 does not allow in a path, `%` itself, and `:` (a relative reference whose first
/// segment holds a colon would read as a scheme). Non-ASCII is always encoded (as UTF-8).
const URI_SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b':')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// A vault path as a relative URI reference: each `/`-separated segment percent-encoded.
pub fn artifact_uri(path: &str) -> String {
    path.split('/')
        .map(|segment| utf8_percent_encode(segment, URI_SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

/// A code name in UpperCamelCase (`broken-link` -> `BrokenLink`), the SARIF rule `name`.
pub fn upper_camel_case(name: &str) -> String {
    name.split('-')
        .flat_map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .into_iter()
                .flat_map(char::to_uppercase)
                .chain(chars)
        })
        .collect()
}

/// The SARIF `level` of a configured lint level.
fn level_name(level: Level) -> &'static str {
    match level {
        Level::Allow => "none",
        Level::Warn => "warning",
        Level::Deny => "error",
    }
}

/// The SARIF `level` of a reported diagnostic.
fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// The rule descriptor of one code.
fn rule(code: Code) -> Value {
    json!({
        "id": code.as_str(),
        "name": upper_camel_case(code.as_str()),
        "shortDescription": { "text": code.summary() },
        "fullDescription": { "text": code.summary() },
        "help": {
            "text": format!("Run `vaultc explain {code}` for what this means and how to fix it."),
        },
        "defaultConfiguration": { "level": level_name(code.default_level()) },
    })
}

/// The text of the line a diagnostic starts on, trimmed (`""` when the file is not a note).
fn line_text<'a>(d: &Diagnostic, at: &Located<'_>, vault: &'a Vault) -> &'a str {
    vault
        .notes
        .binary_search_by(|n| n.path.cmp(&d.file))
        .ok()
        .and_then(|i| {
            let note = &vault.notes[i];
            note.text.get(note.lines().line_range(&note.text, at.line))
        })
        .map_or("", str::trim)
}

/// The hash part of a result's fingerprint: xxh3-64 (stable across versions and platforms) over code, file, target (or message when
/// there is no target) and the trimmed text of the line, as 16 hex digits. It does not depend on
/// the line number, so an alert survives lines inserted above it.
pub fn fingerprint_hash(
    code: Code,
    file: &str,
    target_or_message: &str,
    line_text: &str,
) -> String {
    // Streamed: the digest of the parts joined, without copying a long line for each of its
    // diagnostics.
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    for part in [code.as_str(), file, target_or_message, line_text] {
        hasher.update(part.as_bytes());
        hasher.update(&[0]);
    }
    format!("{:016x}", hasher.digest())
}

/// What artifact URIs are relative to.
struct Base<'a> {
    /// The `uriBaseId`.
    id: &'static str,
    /// Put before every vault path (`""` or a folder without trailing `/`).
    prefix: &'a str,
    /// The description of the base in `originalUriBaseIds`.
    description: String,
}

impl Base<'_> {
    /// The artifact location of a vault path.
    fn location(&self, path: &str) -> Value {
        let uri = if self.prefix.is_empty() {
            artifact_uri(path)
        } else {
            artifact_uri(&format!("{}/{path}", self.prefix))
        };
        json!({ "uri": uri, "uriBaseId": self.id })
    }
}

/// SARIF 2.1.0 (pretty JSON, one run): one rule per [`Code`] in [`Code::ALL`] order, one result
/// per diagnostic with its region (1-based, columns in code points), a `vaultc/v1` partial
/// fingerprint (`HASH:N`, N counting results with the same hash from 1, so two identical
/// problems on one line stay two alerts) and, when the diagnostic has a machine fix, a SARIF
/// `fix` with the byte range to replace. Artifact URIs are relative to `VAULTROOT`, the vault
/// folder.
pub fn sarif(diagnostics: &[Diagnostic], vault: &Vault) -> String {
    sarif_with_prefix(diagnostics, vault, "")
}

/// Like [`sarif`], with `prefix` (the vault folder relative to the repository root) put before
/// every artifact URI, for consumers such as GitHub code scanning that resolve relative URIs
/// against the repository root and ignore `uriBaseId`. With a non-empty prefix the URIs are
/// relative to [`SARIF_REPO_BASE_ID`] (the repository root) instead of `VAULTROOT`. An empty
/// prefix or `.` gives exactly [`sarif`]'s output.
pub fn sarif_with_prefix(diagnostics: &[Diagnostic], vault: &Vault, prefix: &str) -> String {
    let prefix = normalise_prefix(prefix);
    let prefix = prefix.trim_start_matches('/');
    let base = if prefix.is_empty() {
        Base {
            id: SARIF_URI_BASE_ID,
            prefix: "",
            description: "The vault folder given to vaultc check".to_string(),
        }
    } else {
        Base {
            id: SARIF_REPO_BASE_ID,
            prefix,
            description: format!("The repository root; the vault is its folder {prefix}"),
        }
    };
    let rules: Vec<Value> = Code::ALL.iter().map(|&c| rule(c)).collect();
    let results: Vec<Value> = fingerprints(diagnostics, vault)
        .map(|(d, at, fingerprint)| result(d, &at, &base, fingerprint))
        .collect();
    let log = json!({
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {
                "driver": {
                    "name": "vaultc",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": INFORMATION_URI,
                    "rules": rules,
                }
            },
            "originalUriBaseIds": {
                base.id: { "description": { "text": base.description } }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    // `{:#}` is serde_json's infallible pretty printer (same output as `to_string_pretty`).
    format!("{log:#}\n")
}

/// The fingerprint of each diagnostic, in order: [`fingerprint_hash`] and, after a `:`, how
/// many diagnostics before it had the same hash plus one, so two identical problems on one
/// line stay two findings.
fn fingerprints<'a>(
    diagnostics: &'a [Diagnostic],
    vault: &'a Vault,
) -> impl Iterator<Item = (&'a Diagnostic, Located<'a>, String)> + 'a {
    // Only looked up, never iterated: the output order stays that of `diagnostics`.
    let mut seen: HashMap<String, u32> = HashMap::new();
    diagnostics.iter().map(move |d| {
        let at = locate(d, vault);
        let hash = fingerprint_hash(
            d.code,
            at.file,
            at.target.unwrap_or(at.message),
            line_text(d, &at, vault),
        );
        let occurrence = seen.entry(hash.clone()).or_insert(0);
        *occurrence += 1;
        let fingerprint = format!("{hash}:{occurrence}");
        (d, at, fingerprint)
    })
}

// ---------------------------------------------------------------------------------------------
// GitLab Code Quality
// ---------------------------------------------------------------------------------------------

/// GitLab's Code Quality report (`artifacts: reports: codequality:`, a subset of the Code
/// Climate spec), pretty JSON: one issue per diagnostic with its `description` (message and
/// help), `check_name` (the code), `fingerprint` (as SARIF's, unique per finding and stable
/// when lines move), `severity` (`major` for an error, `minor` for a warning, so errors rank
/// first in a merge request) and `location` (path and first line). Paths are vault-relative;
/// see [`gitlab_with_prefix`] when the vault is not the repository root.
pub fn gitlab(diagnostics: &[Diagnostic], vault: &Vault) -> String {
    gitlab_with_prefix(diagnostics, vault, "")
}

/// Like [`gitlab`], with `prefix` (the vault folder relative to the repository root) put
/// before every path, as GitLab finds files from the repository root.
pub fn gitlab_with_prefix(diagnostics: &[Diagnostic], vault: &Vault, prefix: &str) -> String {
    let prefix = normalise_prefix(prefix);
    let prefix = prefix.trim_start_matches('/');
    let issues: Vec<Value> = fingerprints(diagnostics, vault)
        .map(|(d, at, fingerprint)| {
            let description = match at.help.filter(|h| !h.is_empty()) {
                Some(help) => format!("{} ({help})", at.message),
                None => at.message.to_string(),
            };
            let path = match prefix {
                "" => at.file.to_string(),
                prefix => format!("{prefix}/{}", at.file),
            };
            json!({
                "description": description,
                "check_name": d.code.as_str(),
                "fingerprint": fingerprint,
                "severity": match d.severity {
                    Severity::Error => "major",
                    Severity::Warning => "minor",
                },
                "location": { "path": path, "lines": { "begin": at.line } },
            })
        })
        .collect();
    format!("{:#}\n", Value::Array(issues))
}

/// One SARIF result.
fn result(d: &Diagnostic, at: &Located<'_>, base: &Base<'_>, fingerprint: String) -> Value {
    let text = match at.help.filter(|h| !h.is_empty()) {
        Some(help) => format!("{} {help}", at.message),
        None => at.message.to_string(),
    };
    let mut result = serde_json::Map::new();
    result.insert("ruleId".into(), json!(d.code.as_str()));
    if let Some(index) = Code::ALL.iter().position(|&c| c == d.code) {
        result.insert("ruleIndex".into(), json!(index));
    }
    result.insert("level".into(), json!(severity_name(d.severity)));
    result.insert("message".into(), json!({ "text": text }));
    result.insert(
        "locations".into(),
        json!([{
            "physicalLocation": {
                "artifactLocation": base.location(at.file),
                "region": {
                    "startLine": at.line,
                    "startColumn": at.column,
                    "endLine": at.end_line,
                    "endColumn": at.end_column,
                }
            }
        }]),
    );
    result.insert(
        "partialFingerprints".into(),
        json!({ FINGERPRINT_KEY: fingerprint }),
    );
    if let Some(fix) = &at.fix {
        let description = match at.help.filter(|h| !h.is_empty()) {
            Some(help) => help.to_string(),
            None => format!("Replace with `{}`", fix.replacement),
        };
        result.insert(
            "fixes".into(),
            json!([{
                "description": { "text": description },
                "artifactChanges": [{
                    "artifactLocation": base.location(fix.file),
                    "replacements": [{
                        "deletedRegion": {
                            "byteOffset": fix.start,
                            "byteLength": fix.end.saturating_sub(fix.start),
                        },
                        "insertedContent": { "text": fix.replacement },
                    }],
                }],
            }]),
        );
    }
    Value::Object(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Fix;
    use crate::discover::SourceFile;
    use crate::source::{Span, VaultPath};

    /// A vault of notes from `(path, text)` pairs, sorted by path like the real one.
    fn vault(files: &[(&str, &str)]) -> Vault {
        let mut sorted = files.to_vec();
        sorted.sort();
        let notes = sorted
            .into_iter()
            .map(|(path, text)| {
                crate::parse::note(SourceFile {
                    path: VaultPath::new(path).unwrap(),
                    text: text.to_string(),
                    is_template: false,
                })
                .0
            })
            .collect();
        Vault {
            notes,
            attachments: Vec::new(),
            other_sources: Vec::new(),
        }
    }

    /// A diagnostic on the first occurrence of `needle` in `text`.
    fn diag_at(code: Code, file: &str, text: &str, needle: &str, message: &str) -> Diagnostic {
        let start = text.find(needle).unwrap();
        Diagnostic::new(
            code,
            VaultPath::new(file).unwrap(),
            Span::new(start..start + needle.len()),
            message,
        )
    }

    const SRC: &str = "# Mixed\n\nvisión: [[Nowhere]] and [[Nowhere]]\n\\[\\[Target]]\n";

    fn sample() -> (Vault, Vec<Diagnostic>) {
        let v = vault(&[("dir/a b,c:d.md", SRC), ("Target.md", "# Target\n")]);
        let broken = diag_at(
            Code::BrokenLink,
            "dir/a b,c:d.md",
            SRC,
            "[[Nowhere]]",
            "no note named \"Nowhere\" (100%)",
        )
        .with_target("Nowhere")
        .with_help("did you mean \"Now\nhere\"?");
        let second_start = SRC.rfind("[[Nowhere]]").unwrap();
        let mut broken2 = broken.clone();
        broken2.span = Span::new(second_start..second_start + "[[Nowhere]]".len());
        let mut escaped = diag_at(
            Code::EscapedWikilink,
            "dir/a b,c:d.md",
            SRC,
            "\\[\\[Target]]",
            "escaped wikilink",
        )
        .with_help("remove the backslashes");
        let start = SRC.find("\\[\\[").unwrap();
        escaped.fix = Some(Fix {
            span: Span::new(start..start + "\\[\\[Target]]".len()),
            replacement: "[[Target]]".into(),
        });
        let mut diags = vec![broken, broken2, escaped];
        diags.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        (v, diags)
    }

    #[test]
    fn escaping_follows_github_rules() {
        assert_eq!(escape_data("a%b\r\nc:d,e"), "a%25b%0D%0Ac:d,e");
        assert_eq!(escape_property("a%b\r\nc:d,e"), "a%25b%0D%0Ac%3Ad%2Ce");
    }

    #[test]
    fn github_prints_one_command_per_diagnostic() {
        let (v, diags) = sample();
        let out = github(&diags, &v);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 3, "{out}");
        assert_eq!(
            lines[0],
            "::error file=dir/a b%2Cc%3Ad.md,line=3,col=9,endLine=3,endColumn=20,\
             title=broken-link::no note named \"Nowhere\" (100%25)%0Adid you mean \"Now%0Ahere\"?"
        );
        assert!(lines[1].starts_with("::error file=dir/a b%2Cc%3Ad.md,line=3,col=25,"));
        assert_eq!(
            lines[2],
            "::warning file=dir/a b%2Cc%3Ad.md,line=4,col=1,endLine=4,endColumn=13,\
             title=escaped-wikilink::escaped wikilink%0Aremove the backslashes"
        );
        assert!(out.ends_with('\n'));
        assert_eq!(github(&[], &v), "");
    }

    #[test]
    fn github_prefix_is_normalised() {
        let (v, diags) = sample();
        for (prefix, expect) in [
            ("notes", "file=notes/dir/a b"),
            ("./notes/", "file=notes/dir/a b"),
            ("notes\\sub", "file=notes/sub/dir/a b"),
            (".", "file=dir/a b"),
            ("", "file=dir/a b"),
        ] {
            let out = github_with_prefix(&diags, &v, prefix);
            assert!(out.lines().all(|l| l.contains(expect)), "{prefix:?}: {out}");
        }
    }

    #[test]
    fn sarif_has_one_rule_per_code() {
        let (v, diags) = sample();
        let log: Value = serde_json::from_str(&sarif(&diags, &v)).unwrap();
        assert_eq!(log["$schema"], SARIF_SCHEMA);
        assert_eq!(log["version"], "2.1.0");
        assert_eq!(log["runs"].as_array().unwrap().len(), 1);
        let run = &log["runs"][0];
        assert_eq!(run["columnKind"], "unicodeCodePoints");
        assert!(run["originalUriBaseIds"]["VAULTROOT"]["description"]["text"].is_string());
        let driver = &run["tool"]["driver"];
        assert_eq!(driver["name"], "vaultc");
        assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
        let rules = driver["rules"].as_array().unwrap();
        assert_eq!(rules.len(), Code::ALL.len());
        for (rule, code) in rules.iter().zip(Code::ALL) {
            assert_eq!(rule["id"], code.as_str());
            assert_eq!(rule["shortDescription"]["text"], code.summary());
            assert!(rule["help"]["text"]
                .as_str()
                .unwrap()
                .contains(&format!("vaultc explain {code}")));
        }
        assert_eq!(rules[0]["name"], "BrokenLink");
        assert_eq!(rules[0]["defaultConfiguration"]["level"], "error");
        let orphan = Code::ALL
            .iter()
            .position(|&c| c == Code::OrphanNote)
            .unwrap();
        assert_eq!(rules[orphan]["name"], "OrphanNote");
        assert_eq!(rules[orphan]["defaultConfiguration"]["level"], "none");
        let fragment = Code::ALL
            .iter()
            .position(|&c| c == Code::BrokenFragment)
            .unwrap();
        assert_eq!(rules[fragment]["defaultConfiguration"]["level"], "warning");
    }

    #[test]
    fn sarif_results_carry_location_fingerprint_and_fix() {
        let (v, diags) = sample();
        let out = sarif(&diags, &v);
        assert_eq!(out, sarif(&diags, &v), "output is deterministic");
        let log: Value = serde_json::from_str(&out).unwrap();
        let results = log["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), 3);

        let r = &results[0];
        assert_eq!(r["ruleId"], "broken-link");
        assert_eq!(r["ruleIndex"], 0);
        assert_eq!(r["level"], "error");
        assert_eq!(
            r["message"]["text"],
            "no note named \"Nowhere\" (100%) did you mean \"Now\nhere\"?"
        );
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "dir/a%20b,c%3Ad.md");
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "VAULTROOT");
        // "visión: " is 8 characters but 9 bytes: columns count code points.
        assert_eq!(
            loc["region"],
            json!({"startLine": 3, "startColumn": 9, "endLine": 3, "endColumn": 20})
        );
        assert!(r.get("fixes").is_none());

        let fp0 = r["partialFingerprints"]["vaultc/v1"].as_str().unwrap();
        let fp1 = results[1]["partialFingerprints"]["vaultc/v1"]
            .as_str()
            .unwrap();
        let (hash0, n0) = fp0.split_once(':').unwrap();
        let (hash1, n1) = fp1.split_once(':').unwrap();
        assert_eq!(hash0.len(), 16);
        assert!(hash0.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!((hash0, n0, n1), (hash1, "1", "2"), "same line, same target");
        assert_eq!(
            hash0,
            fingerprint_hash(
                Code::BrokenLink,
                "dir/a b,c:d.md",
                "Nowhere",
                "visión: [[Nowhere]] and [[Nowhere]]"
            )
        );

        let e = &results[2];
        assert_eq!(e["ruleId"], "escaped-wikilink");
        let index = Code::ALL
            .iter()
            .position(|&c| c == Code::EscapedWikilink)
            .unwrap();
        assert_eq!(e["ruleIndex"], index);
        assert_eq!(e["level"], "warning");
        let fix = &e["fixes"][0];
        assert_eq!(fix["description"]["text"], "remove the backslashes");
        let change = &fix["artifactChanges"][0];
        assert_eq!(change["artifactLocation"]["uri"], "dir/a%20b,c%3Ad.md");
        let replacement = &change["replacements"][0];
        let start = SRC.find("\\[\\[").unwrap();
        assert_eq!(
            replacement["deletedRegion"],
            json!({"byteOffset": start, "byteLength": "\\[\\[Target]]".len()})
        );
        assert_eq!(replacement["insertedContent"]["text"], "[[Target]]");
        let offset = replacement["deletedRegion"]["byteOffset"].as_u64().unwrap() as usize;
        let length = replacement["deletedRegion"]["byteLength"].as_u64().unwrap() as usize;
        assert_eq!(&SRC[offset..offset + length], "\\[\\[Target]]");
    }

    #[test]
    fn sarif_prefix_moves_uris_to_the_repository_root() {
        let (v, diags) = sample();
        assert_eq!(sarif_with_prefix(&diags, &v, "./"), sarif(&diags, &v));
        let log: Value = serde_json::from_str(&sarif_with_prefix(&diags, &v, "my notes/")).unwrap();
        let run = &log["runs"][0];
        assert!(run["originalUriBaseIds"]["VAULTROOT"].is_null());
        assert!(run["originalUriBaseIds"]["REPOROOT"]["description"]["text"]
            .as_str()
            .unwrap()
            .contains("my notes"));
        let location = &run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(
            location,
            &json!({"uri": "my%20notes/dir/a%20b,c%3Ad.md", "uriBaseId": "REPOROOT"})
        );
        let change = &run["results"][2]["fixes"][0]["artifactChanges"][0]["artifactLocation"];
        assert_eq!(change, location);
        // The fingerprint is about the vault, not where it sits in the repository.
        let plain: Value = serde_json::from_str(&sarif(&diags, &v)).unwrap();
        assert_eq!(
            plain["runs"][0]["results"][0]["partialFingerprints"],
            run["results"][0]["partialFingerprints"]
        );
    }

    #[test]
    fn fingerprints_ignore_line_numbers() {
        let a = fingerprint_hash(Code::BrokenLink, "a.md", "X", "see [[X]]");
        let b = fingerprint_hash(Code::BrokenLink, "a.md", "X", "see [[X]]");
        assert_eq!(a, b);
        assert_ne!(
            a,
            fingerprint_hash(Code::BrokenLink, "b.md", "X", "see [[X]]")
        );
        assert_ne!(
            a,
            fingerprint_hash(Code::AliasLink, "a.md", "X", "see [[X]]")
        );
        // Field boundaries matter: ("ab", "c") is not ("a", "bc").
        assert_ne!(
            fingerprint_hash(Code::BrokenLink, "ab", "c", ""),
            fingerprint_hash(Code::BrokenLink, "a", "bc", "")
        );
    }

    #[test]
    fn artifact_uris_are_percent_encoded() {
        assert_eq!(artifact_uri("a/b.md"), "a/b.md");
        assert_eq!(artifact_uri("My Notes/C#.md"), "My%20Notes/C%23.md");
        assert_eq!(artifact_uri("视觉.md"), "%E8%A7%86%E8%A7%89.md");
        assert_eq!(artifact_uri("50%.md"), "50%25.md");
        assert_eq!(
            upper_camel_case("duplicate-heading-anchor"),
            "DuplicateHeadingAnchor"
        );
    }

    #[test]
    fn whole_file_diagnostics_point_at_line_one() {
        let v = vault(&[("a.md", "")]);
        let d = Diagnostic::new(
            Code::OrphanNote,
            VaultPath::new("a.md").unwrap(),
            Span::default(),
            "no note links here",
        );
        let log: Value = serde_json::from_str(&sarif(std::slice::from_ref(&d), &v)).unwrap();
        assert_eq!(
            log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"],
            json!({"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 1})
        );
        assert_eq!(
            github(&[d], &v),
            "::warning file=a.md,line=1,col=1,endLine=1,endColumn=1,title=orphan-note::no note links here\n"
        );
    }
}
