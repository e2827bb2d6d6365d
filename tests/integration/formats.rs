//! The CI formats of `check`: `--format github` (GitHub Actions workflow commands),
//! `--format sarif` (SARIF 2.1.0) and `--format gitlab` (GitLab Code Quality), checked against
//! `--format json` of the same vault, and the
//! JSON report and the SARIF log validated against their JSON Schemas: the report against
//! `docs/check-report.schema.json`, the log against the official SARIF 2.1.0 schema vendored
//! in `tests/schemas/sarif-2.1.0.json` (see `tests/schemas/README.md`).

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::*;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Runs `vaultc check . --format FORMAT` inside VAULT (so CI paths are the vault-relative ones
/// the JSON report has); fails unless it exits with `expected_code` (the exit code of
/// `--format json` on the same vault).
fn check_format(vault: &Path, format: &str, expected_code: i32) -> Run {
    let r = run_cmd(
        vaultc()
            .current_dir(vault)
            .args(["check", ".", "--format", format]),
    );
    r.assert_no_panic();
    assert_eq!(
        r.code,
        expected_code,
        "--format {format} must exit like --format json\n{}",
        r.report()
    );
    r
}

/// A JSON file of this package.
fn load_json(rel: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    let text =
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", p.display()))
}

/// A compiled JSON Schema; panics (naming the file) when the schema itself is invalid.
fn validator(rel: &str) -> jsonschema::Validator {
    jsonschema::validator_for(&load_json(rel))
        .unwrap_or_else(|e| panic!("{rel} is not a valid JSON Schema: {e}"))
}

/// Fails with every schema error when `instance` does not validate.
fn assert_valid(validator: &jsonschema::Validator, instance: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("  at {}: {e}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not validate against its schema:\n{}\n--- instance ---\n{}",
        errors.join("\n"),
        truncate_text(
            &serde_json::to_string_pretty(instance).unwrap_or_default(),
            4000
        )
    );
}

fn truncate_text(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The codes `vaultc explain --list` prints (first column, header and footer skipped).
fn listed_codes() -> Vec<String> {
    let r = run(["explain", "--list"]);
    r.assert_no_panic().assert_code(0);
    let codes: Vec<String> = r
        .stdout
        .lines()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect();
    assert!(
        !codes.is_empty(),
        "explain --list printed no code\n{}",
        r.report()
    );
    codes
}

/// The `code` enum of docs/check-report.schema.json.
fn schema_codes() -> Vec<String> {
    let schema = load_json("docs/check-report.schema.json");
    schema["$defs"]["code"]["enum"]
        .as_array()
        .expect("docs/check-report.schema.json has $defs.code.enum")
        .iter()
        .map(|c| c.as_str().expect("codes are strings").to_string())
        .collect()
}

/// Undoes GitHub's workflow-command escaping (`%25`, `%0D`, `%0A`, `%3A`, `%2C`).
fn unescape(s: &str) -> String {
    s.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
}

/// One parsed `::error ...::message` / `::warning ...::message` line.
#[derive(Debug)]
struct Command {
    kind: String,
    props: Vec<(String, String)>,
    message: String,
}

impl Command {
    fn prop(&self, key: &str) -> Option<&str> {
        self.props
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses a workflow-command line; `None` for lines that are not `::error`/`::warning`.
fn parse_command(line: &str) -> Option<Command> {
    let rest = line.strip_prefix("::")?;
    let (head, message) = rest.split_once("::")?;
    let (kind, props) = head.split_once(' ').unwrap_or((head, ""));
    if kind != "error" && kind != "warning" {
        return None;
    }
    let props = props
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_string(), unescape(v))
        })
        .collect();
    Some(Command {
        kind: kind.to_string(),
        props,
        message: unescape(message),
    })
}

/// The fixture vaults the format tests run over: every fixture, so every code and every
/// oddity (non-ASCII columns, invalid UTF-8, fixes) the suite knows is covered.
fn all_fixtures() -> Vec<PathBuf> {
    fixture_names().iter().map(|n| fixture(n)).collect()
}

// ---------------------------------------------------------------------------------------------
// --format github
// ---------------------------------------------------------------------------------------------

/// Checks the github output of one vault against its JSON report.
fn assert_github_matches_json(vault: &Path) {
    let (v, code) = check_json(vault);
    let r = check_format(vault, "github", code);
    let commands: Vec<Command> = r.stdout.lines().filter_map(parse_command).collect();
    let ds = diags(&v);
    assert_eq!(
        commands.len(),
        ds.len(),
        "one ::error/::warning line per diagnostic of the JSON report ({})\njson:\n{}\n{}",
        vault.display(),
        show_diags(&v),
        r.report()
    );
    for (c, d) in commands.iter().zip(&ds) {
        let context = || {
            format!(
                "{}\ncommand: {c:?}\njson: {}",
                vault.display(),
                show_diag(d)
            )
        };
        assert_eq!(
            Some(c.kind.as_str()),
            d["severity"].as_str(),
            "{}",
            context()
        );
        assert_eq!(c.prop("file"), d["file"].as_str(), "{}", context());
        assert_eq!(c.prop("title"), d["code"].as_str(), "{}", context());
        for (prop, key) in [
            ("line", "line"),
            ("col", "column"),
            ("endLine", "end_line"),
            ("endColumn", "end_column"),
        ] {
            assert_eq!(
                c.prop(prop).and_then(|p| p.parse::<u64>().ok()),
                d[key].as_u64(),
                "{prop} vs {key}: {}",
                context()
            );
        }
        let mut expected = d["message"].as_str().unwrap_or("").to_string();
        if let Some(help) = d["help"].as_str().filter(|h| !h.is_empty()) {
            expected.push('\n');
            expected.push_str(help);
        }
        assert_eq!(c.message, expected, "{}", context());
    }
    // Escaping: a raw newline in a message would start a new (unparsed) line.
    for line in r.stdout.lines().filter(|l| !l.trim().is_empty()) {
        assert!(
            parse_command(line).is_some() || !line.starts_with("::"),
            "malformed workflow command {line:?}"
        );
    }
}

#[test]
fn github_mixed_errors_one_line_per_diagnostic() {
    let vault = fixture("mixed-errors");
    let (v, code) = check_json(&vault);
    assert_eq!(
        code,
        1,
        "mixed-errors has a broken link\n{}",
        show_diags(&v)
    );
    let r = check_format(&vault, "github", 1);
    let lines: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("::error ") || l.starts_with("::warning "))
        .collect();
    assert_eq!(lines.len(), diags(&v).len(), "{}", r.report());
    let broken = assert_diag(&v, "broken-link", "src.md", 3, 9);
    let expected = format!(
        "::error file=src.md,line=3,col=9,endLine={},endColumn={},title=broken-link::",
        broken["end_line"], broken["end_column"]
    );
    assert!(
        lines.iter().any(|l| l.starts_with(&expected)),
        "no line starts with {expected:?}\n{}",
        r.report()
    );
    assert!(
        lines.iter().any(
            |l| l.starts_with("::warning file=src.md,") && l.contains("title=ambiguous-link::")
        ),
        "the ambiguous link is a warning\n{}",
        r.report()
    );
    assert_github_matches_json(&vault);
}

#[test]
fn github_matches_json_on_every_fixture() {
    for vault in all_fixtures() {
        assert_github_matches_json(&vault);
    }
}

#[test]
fn github_clean_vault_prints_no_annotation() {
    let clean = all_fixtures()
        .into_iter()
        .find(|f| diags(&check_json(f).0).is_empty())
        .expect("some fixture is clean");
    let r = check_format(&clean, "github", 0);
    assert!(
        !r.stdout
            .lines()
            .any(|l| l.starts_with("::error") || l.starts_with("::warning")),
        "{}",
        r.report()
    );
}

// ---------------------------------------------------------------------------------------------
// --format sarif
// ---------------------------------------------------------------------------------------------

/// Runs `--format sarif` on `vault` and checks it against the JSON report and both schemas.
fn assert_sarif_matches_json(vault: &Path, sarif_schema: &jsonschema::Validator) -> Value {
    let (v, code) = check_json(vault);
    let r = check_format(vault, "sarif", code);
    let log: Value = serde_json::from_str(r.stdout.trim())
        .unwrap_or_else(|e| panic!("--format sarif is not JSON: {e}\n{}", r.report()));
    assert_valid(sarif_schema, &log, &format!("SARIF of {}", vault.display()));

    assert_eq!(log["version"], "2.1.0");
    let runs = log["runs"].as_array().expect("runs is an array");
    assert_eq!(runs.len(), 1, "one run");
    let run = &runs[0];
    assert_eq!(run["tool"]["driver"]["name"], "vaultc");
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    let rules = run["tool"]["driver"]["rules"]
        .as_array()
        .expect("driver.rules is an array");
    let results = run["results"].as_array().expect("results is an array");
    let ds = diags(&v);
    assert_eq!(
        results.len(),
        ds.len(),
        "one result per diagnostic ({})\n{}",
        vault.display(),
        show_diags(&v)
    );
    let mut fingerprints = Vec::new();
    for (res, d) in results.iter().zip(&ds) {
        let context = || {
            format!(
                "{}\nresult: {res:#}\njson: {}",
                vault.display(),
                show_diag(d)
            )
        };
        let index = res["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(res["ruleId"], d["code"], "{}", context());
        assert_eq!(
            rules.get(index).map(|r| &r["id"]),
            Some(&res["ruleId"]),
            "{}",
            context()
        );
        assert_eq!(res["level"], d["severity"], "{}", context());
        let text = res["message"]["text"].as_str().unwrap_or("");
        assert!(
            text.starts_with(d["message"].as_str().unwrap_or("")),
            "{}",
            context()
        );
        let loc = &res["locations"][0]["physicalLocation"];
        assert_eq!(
            loc["artifactLocation"]["uriBaseId"],
            "VAULTROOT",
            "{}",
            context()
        );
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap_or("");
        let decoded = percent_encoding::percent_decode_str(uri).decode_utf8_lossy();
        assert_eq!(Some(decoded.as_ref()), d["file"].as_str(), "{}", context());
        let region = &loc["region"];
        for (sarif_key, json_key) in [
            ("startLine", "line"),
            ("startColumn", "column"),
            ("endLine", "end_line"),
            ("endColumn", "end_column"),
        ] {
            assert_eq!(region[sarif_key], d[json_key], "{sarif_key}: {}", context());
        }
        let fingerprint = res["partialFingerprints"]["vaultc/v1"]
            .as_str()
            .unwrap_or_else(|| panic!("no vaultc/v1 fingerprint: {}", context()));
        fingerprints.push(fingerprint.to_string());
        match d["fix"].as_object() {
            None => assert!(res.get("fixes").is_none(), "{}", context()),
            Some(fix) => {
                let change = &res["fixes"][0]["artifactChanges"][0];
                assert_eq!(change["artifactLocation"]["uri"], uri, "{}", context());
                let replacement = &change["replacements"][0];
                let start = fix["start"].as_u64().unwrap_or(0);
                let end = fix["end"].as_u64().unwrap_or(0);
                assert_eq!(
                    replacement["deletedRegion"]["byteOffset"].as_u64(),
                    Some(start),
                    "{}",
                    context()
                );
                assert_eq!(
                    replacement["deletedRegion"]["byteLength"].as_u64(),
                    Some(end - start),
                    "{}",
                    context()
                );
                assert_eq!(
                    replacement["insertedContent"]["text"],
                    fix["replacement"],
                    "{}",
                    context()
                );
            }
        }
    }
    let mut unique = fingerprints.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        fingerprints.len(),
        "fingerprints are unique within a run ({}): {fingerprints:?}",
        vault.display()
    );
    log
}

#[test]
fn sarif_mixed_errors_is_valid_and_matches_json() {
    let schema = validator("tests/schemas/sarif-2.1.0.json");
    let vault = fixture("mixed-errors");
    let log = assert_sarif_matches_json(&vault, &schema);
    assert_eq!(
        log["$schema"], "https://json.schemastore.org/sarif-2.1.0.json",
        "$schema"
    );
    let rule_ids: Vec<&str> = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| r["id"].as_str().unwrap_or(""))
        .collect();
    let listed = listed_codes();
    assert_eq!(
        rule_ids, listed,
        "one rule per code, in `explain --list` order"
    );
    assert_eq!(
        rule_ids,
        schema_codes(),
        "the schema's code enum lists the same codes"
    );
    assert!(
        !log["runs"][0]["results"]
            .as_array()
            .expect("results")
            .is_empty(),
        "mixed-errors has results"
    );
}

#[test]
fn sarif_matches_json_on_every_fixture() {
    let schema = validator("tests/schemas/sarif-2.1.0.json");
    for vault in all_fixtures() {
        assert_sarif_matches_json(&vault, &schema);
    }
}

#[test]
fn ci_formats_are_deterministic() {
    let vault = fixture("mixed-errors");
    for format in ["github", "sarif", "gitlab"] {
        let a = check_format(&vault, format, 1);
        let b = check_format(&vault, format, 1);
        assert_eq!(
            a.stdout, b.stdout,
            "--format {format} differs between two runs"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// --format json against docs/check-report.schema.json
// ---------------------------------------------------------------------------------------------

#[test]
fn json_report_validates_against_its_schema() {
    let schema = validator("docs/check-report.schema.json");
    let mut codes_seen = std::collections::BTreeSet::new();
    for vault in all_fixtures() {
        let (v, _) = check_json(&vault);
        assert_valid(&schema, &v, &format!("check json of {}", vault.display()));
        for d in diags(&v) {
            codes_seen.insert(d["code"].as_str().unwrap_or("").to_string());
        }
    }
    assert!(
        codes_seen.len() > 5,
        "the fixtures exercise several codes: {codes_seen:?}"
    );
}

#[test]
fn json_schema_code_enum_is_every_code() {
    assert_eq!(schema_codes(), listed_codes());
}

#[test]
fn json_schema_rejects_a_wrong_report() {
    let schema = validator("docs/check-report.schema.json");
    let (mut v, _) = check_json(&fixture("mixed-errors"));
    assert!(schema.is_valid(&v));
    v["diagnostics"][0]["code"] = Value::from("no-such-code");
    assert!(!schema.is_valid(&v), "an unknown code must not validate");
}

#[test]
fn sarif_schema_rejects_a_wrong_log() {
    // Guards the guard: the vendored schema must really be applied (draft-04, closed objects).
    let schema = validator("tests/schemas/sarif-2.1.0.json");
    let r = check_format(&fixture("mixed-errors"), "sarif", 1);
    let log: Value = serde_json::from_str(r.stdout.trim()).expect("sarif is JSON");
    assert!(schema.is_valid(&log));
    let mut bad_level = log.clone();
    bad_level["runs"][0]["results"][0]["level"] = Value::from("fatal");
    assert!(
        !schema.is_valid(&bad_level),
        "level `fatal` must not validate"
    );
    let mut unknown_key = log.clone();
    unknown_key["runs"][0]["results"][0]["lineNumber"] = Value::from(3);
    assert!(!schema.is_valid(&unknown_key), "results are closed objects");
    let mut no_version = log;
    no_version
        .as_object_mut()
        .expect("object")
        .remove("version");
    assert!(!schema.is_valid(&no_version), "version is required");
}

/// CI tools resolve paths from the repository root: `vaultc check notes` run from the root
/// names `notes/file.md` in GitHub annotations and SARIF locations.
#[test]
fn ci_paths_are_relative_to_the_current_folder() {
    let r = run_cmd(vaultc().current_dir(fixtures_dir()).args([
        "check",
        "mixed-errors",
        "--format",
        "github",
    ]));
    let first = r.stdout.lines().next().unwrap_or_default();
    assert!(
        first.contains("file=mixed-errors/src.md,"),
        "{}",
        r.report()
    );
    assert!(
        r.stdout.lines().all(|l| l.contains("file=mixed-errors/")),
        "{}",
        r.report()
    );

    let r = run_cmd(vaultc().current_dir(fixtures_dir()).args([
        "check",
        "mixed-errors",
        "--format",
        "sarif",
    ]));
    let log: Value = serde_json::from_str(&r.stdout).expect("sarif json");
    let uri = &log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
        ["uri"];
    assert_eq!(uri, "mixed-errors/src.md", "{}", r.report());

    let r = run_cmd(vaultc().current_dir(fixtures_dir()).args([
        "check",
        "mixed-errors",
        "--format",
        "gitlab",
    ]));
    let issues: Value = serde_json::from_str(&r.stdout).expect("gitlab json");
    assert_eq!(
        issues[0]["location"]["path"],
        "mixed-errors/src.md",
        "{}",
        r.report()
    );
}

// ---------------------------------------------------------------------------------------------
// --format gitlab (GitLab Code Quality) against --format json
// ---------------------------------------------------------------------------------------------

/// `--format gitlab` is one Code Quality issue per diagnostic of the JSON report, in its order:
/// the code as `check_name`, the message (with the help) as `description`, `major` for an
/// error and `minor` for a warning, the path and first line; every fingerprint is unique and
/// the same as the SARIF result's (so both stay put when lines move).
fn assert_gitlab_matches_json(vault: &Path) {
    let (v, code) = check_json(vault);
    let r = check_format(vault, "gitlab", code);
    let issues: Value = serde_json::from_str(r.stdout.trim())
        .unwrap_or_else(|e| panic!("--format gitlab is not JSON: {e}\n{}", r.report()));
    let issues = issues.as_array().expect("an array of issues");
    let ds = diags(&v);
    assert_eq!(
        issues.len(),
        ds.len(),
        "{}\n{}",
        vault.display(),
        show_diags(&v)
    );
    let sarif: Value =
        serde_json::from_str(check_format(vault, "sarif", code).stdout.trim()).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let mut seen = std::collections::HashSet::new();
    for ((issue, d), result) in issues.iter().zip(&ds).zip(results) {
        let context = || {
            format!(
                "{}\nissue: {issue:#}\njson: {}",
                vault.display(),
                show_diag(d)
            )
        };
        let mut keys: Vec<&String> = issue.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "check_name",
                "description",
                "fingerprint",
                "location",
                "severity"
            ],
            "{}",
            context()
        );
        assert_eq!(issue["check_name"], d["code"], "{}", context());
        let message = d["message"].as_str().unwrap();
        let description = issue["description"].as_str().unwrap();
        match d["help"].as_str().filter(|h| !h.is_empty()) {
            Some(help) => assert_eq!(description, format!("{message} ({help})"), "{}", context()),
            None => assert_eq!(description, message, "{}", context()),
        }
        let severity = match d["severity"].as_str().unwrap() {
            "error" => "major",
            _ => "minor",
        };
        assert_eq!(issue["severity"], severity, "{}", context());
        assert_eq!(issue["location"]["path"], d["file"], "{}", context());
        assert_eq!(
            issue["location"]["lines"]["begin"],
            d["line"],
            "{}",
            context()
        );
        let fingerprint = issue["fingerprint"].as_str().unwrap();
        assert!(
            seen.insert(fingerprint.to_string()),
            "unique: {}",
            context()
        );
        assert_eq!(
            result["partialFingerprints"]["vaultc/v1"],
            fingerprint,
            "the SARIF result's: {}",
            context()
        );
    }
}

#[test]
fn gitlab_matches_json_on_every_fixture() {
    let mut issues = 0;
    for vault in all_fixtures() {
        assert_gitlab_matches_json(&vault);
        issues += diags(&check_json(&vault).0).len();
    }
    assert!(
        issues > 50,
        "the fixtures hold findings to compare: {issues}"
    );
}

#[test]
fn gitlab_clean_vault_is_an_empty_report() {
    let r = check_format(&fixture("build-basic"), "gitlab", 0);
    assert_eq!(r.stdout, "[]\n", "{}", r.report());
}
