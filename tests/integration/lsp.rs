//! `vaultc lsp` as an editor runs it: the real binary, JSON-RPC over its stdin and stdout.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::test_cache_dir;

/// How long a reply or a notification may take (a compile of a small vault is milliseconds).
const WAIT: Duration = Duration::from_secs(30);

/// An editor's end of the connection.
struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: mpsc::Receiver<Value>,
    /// Notifications read while waiting for something else.
    seen: Vec<Value>,
    next_id: u64,
}

impl Client {
    /// Starts `vaultc lsp` in `vault` and makes the handshake; returns the server's
    /// capabilities too.
    fn start(vault: &Path, encodings: &[&str]) -> (Client, Value) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_vaultc"))
            .arg("lsp")
            .current_dir(vault)
            .env("VAULTC_CACHE_DIR", test_cache_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start vaultc lsp");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (send, messages) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut length = None;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(n) = line.strip_prefix("Content-Length: ") {
                        length = n.parse::<usize>().ok();
                    }
                }
                let mut body = vec![0; length.expect("a Content-Length header")];
                reader.read_exact(&mut body).unwrap();
                let message: Value = serde_json::from_slice(&body).expect("a JSON message");
                if send.send(message).is_err() {
                    return;
                }
            }
        });
        let mut client = Client {
            child,
            stdin,
            messages,
            seen: Vec::new(),
            next_id: 1,
        };
        let root = url(vault);
        let init = client.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": root,
                "workspaceFolders": [{"uri": root, "name": "vault"}],
                "capabilities": {"general": {"positionEncodings": encodings}},
            }),
        );
        client.notify("initialized", json!({}));
        (client, init)
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and waits for its reply (the whole reply: `result` or `error`).
    fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let deadline = Instant::now() + WAIT;
        loop {
            let message = self
                .messages
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|_| panic!("no reply to {method}"));
            if message["id"] == json!(id) && message.get("method").is_none() {
                return message;
            }
            self.seen.push(message);
        }
    }

    /// A request's `result`.
    fn request(&mut self, method: &str, params: Value) -> Value {
        let reply = self.call(method, params);
        assert!(reply.get("error").is_none(), "{method} failed: {reply}");
        reply["result"].clone()
    }

    /// The next diagnostics published for `file` that `wanted` accepts (earlier ones are
    /// passed over).
    fn diagnostics(&mut self, file: &Path, wanted: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let uri = url(file);
        let found = self.notification("textDocument/publishDiagnostics", |params| {
            params["uri"] == json!(uri) && wanted(params["diagnostics"].as_array().unwrap())
        });
        found["diagnostics"].as_array().unwrap().clone()
    }

    /// The parameters of the next notification `method` whose parameters `wanted` accepts
    /// (earlier ones are passed over).
    fn notification(&mut self, method: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        let matches = |m: &Value| m["method"] == method && wanted(&m["params"]);
        if let Some(i) = self.seen.iter().position(matches) {
            let found = self.seen.remove(i);
            self.seen.drain(..i);
            return found["params"].clone();
        }
        self.seen.clear();
        let deadline = Instant::now() + WAIT;
        loop {
            let message = self
                .messages
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|_| panic!("no such {method}"));
            if matches(&message) {
                return message["params"].clone();
            }
        }
    }

    /// `shutdown`, `exit`, and the exit code.
    fn stop(mut self) -> Option<i32> {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        self.exit_code()
    }

    /// Waits for the server to exit; its exit code.
    fn exit_code(&mut self) -> Option<i32> {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(Instant::now() < deadline, "vaultc lsp did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn url(path: &Path) -> String {
    url::Url::from_file_path(path.canonicalize().unwrap_or(path.to_path_buf()))
        .unwrap()
        .to_string()
}

/// An empty vault in a temporary folder (kept while the first value lives), by its canonical
/// path, which the server's URIs use.
fn temp_vault() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().canonicalize().unwrap();
    (dir, vault)
}

/// Writes `text` to the vault file `path`, making its folders.
fn write_file(vault: &Path, path: &str, text: &str) {
    let file = vault.join(path);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(file, text).unwrap();
}

fn position(line: u32, character: u32) -> Value {
    json!({"line": line, "character": character})
}

fn at(file: &Path, line: u32, character: u32) -> Value {
    json!({"textDocument": {"uri": url(file)}, "position": position(line, character)})
}

/// A session as an editor has one: the vault's diagnostics published at start, with UTF-16
/// columns (an emoji before a link counts two); go to the note, the heading and the block a
/// link names, and to a heading of the same note; a hover showing a link's section, or that
/// its note is missing; a note's outline of nested headings, and the vault's notes and headings
/// found by name; diagnostics of unsaved text as it is typed; the links into a note and
/// into one of its
/// headings; completion of names (a name two notes share completes as a path), of headings
/// and of block ids, on the editor's unsaved text; an alias link's fix as a quick fix; a note
/// created on disk clears the broken link's diagnostic, and a link broken by a save is
/// published; shutdown and exit end the server with 0.
#[cfg(unix)]
#[test]
fn an_editor_session_over_stdio() {
    let (_dir, vault) = temp_vault();
    let write = |path: &str, text: &str| write_file(&vault, path, text);
    write(
        "Target.md",
        "---\naliases: [Goal]\n---\n# Target\n\n## Usage Notes\n\nA block. ^blk\n",
    );
    write("a/Twin.md", "one\n");
    write("b/Twin.md", "two\n");
    write(
        "src.md",
        "😀 [[Missing]]\n[[Target#Usage Notes]] and [[Target#^blk]]\n[[Goal]]\n\n## Here\n[[#Here]]\n",
    );
    let src = vault.join("src.md");
    let target = vault.join("Target.md");
    let (mut client, init) = Client::start(&vault, &["utf-16"]);
    assert_eq!(init["capabilities"]["positionEncoding"], "utf-16", "{init}");
    assert_eq!(init["serverInfo"]["name"], "vaultc");

    let diags = client.diagnostics(&src, |d| !d.is_empty());
    let codes: Vec<&str> = diags.iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["broken-link", "alias-link"], "{diags:?}");
    let broken = &diags[0];
    assert_eq!(broken["range"]["start"], position(0, 3), "{broken}");
    assert_eq!(broken["range"]["end"], position(0, 14), "{broken}");
    assert_eq!(broken["severity"], 1);
    assert_eq!(broken["source"], "vaultc");
    assert!(broken["message"]
        .as_str()
        .unwrap()
        .starts_with("no note named \"Missing\""));

    // Definitions: a heading, a block, a note, the same note's heading.
    let target_uri = url(&target);
    let def = client.request("textDocument/definition", at(&src, 1, 5));
    assert_eq!(def["uri"], json!(target_uri), "{def}");
    assert_eq!(def["range"]["start"], position(5, 0), "{def}");
    let def = client.request("textDocument/definition", at(&src, 1, 30));
    assert_eq!(def["range"]["start"]["line"], 7, "{def}");
    let def = client.request("textDocument/definition", at(&src, 5, 3));
    assert_eq!(def["uri"], json!(url(&src)), "{def}");
    assert_eq!(def["range"]["start"], position(4, 0), "{def}");
    let none = client.request("textDocument/definition", at(&src, 0, 6));
    assert!(none.is_null(), "a broken link goes nowhere: {none}");

    // Hover: the section a link shows, or that it is missing.
    let shown = client.request("textDocument/hover", at(&src, 1, 5));
    let value = shown["contents"]["value"].as_str().unwrap();
    assert_eq!(
        value, "**Target** (Target.md)\n\n## Usage Notes\n\nA block. ^blk",
        "{shown}"
    );
    assert_eq!(shown["range"]["end"], position(1, 22), "{shown}");
    let missing = client.request("textDocument/hover", at(&src, 0, 6));
    let value = missing["contents"]["value"].as_str().unwrap();
    assert!(value.starts_with("**Missing**: no such note"), "{missing}");

    // References: every link into the note; on a heading, the links into it.
    let refs = client.request(
        "textDocument/references",
        json!({"textDocument": {"uri": target_uri}, "position": position(0, 0),
               "context": {"includeDeclaration": false}}),
    );
    let lines: Vec<u64> = refs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["range"]["start"]["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [1, 1], "{refs}");
    let refs = client.request(
        "textDocument/references",
        json!({"textDocument": {"uri": target_uri}, "position": position(5, 4),
               "context": {"includeDeclaration": false}}),
    );
    assert_eq!(refs.as_array().unwrap().len(), 1, "{refs}");
    assert_eq!(refs[0]["range"]["start"], position(1, 0), "{refs}");

    // The outline of a note, and the vault's notes and headings by name.
    let outline = client.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": target_uri}}),
    );
    assert_eq!(outline.as_array().unwrap().len(), 1, "{outline}");
    assert_eq!(outline[0]["name"], "Target", "{outline}");
    assert_eq!(
        outline[0]["selectionRange"]["start"],
        position(3, 0),
        "{outline}"
    );
    assert_eq!(outline[0]["range"]["end"], position(8, 0), "{outline}");
    let children = outline[0]["children"].as_array().unwrap();
    assert_eq!(children.len(), 1, "{outline}");
    assert_eq!(children[0]["name"], "Usage Notes");
    assert_eq!(children[0]["range"]["start"], position(5, 0), "{outline}");
    let found = client.request("workspace/symbol", json!({"query": "USAGE"}));
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found[0]["name"], "Usage Notes");
    assert_eq!(found[0]["containerName"], "Target");
    assert_eq!(
        found[0]["location"]["range"]["start"],
        position(5, 0),
        "{found}"
    );
    let found = client.request("workspace/symbol", json!({"query": "twin"}));
    let paths: Vec<&str> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["location"]["uri"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [url(&vault.join("a/Twin.md")), url(&vault.join("b/Twin.md"))]
    );

    // Diagnostics of unsaved text, as it is typed.
    client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": url(&src), "languageId": "markdown", "version": 1,
                                "text": "[[Targte]] or [[Target#Usage Notes]]\n"}}),
    );
    let diags = client.diagnostics(&src, |d| d.len() == 1);
    assert_eq!(diags[0]["code"], "broken-link", "{diags:?}");
    assert_eq!(diags[0]["range"]["end"], position(0, 10), "{diags:?}");
    let message = diags[0]["message"].as_str().unwrap();
    assert!(
        message.ends_with("help: did you mean \"Target\"?"),
        "{message}"
    );
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": url(&src), "version": 2},
               "contentChanges": [{"text": "[[Target#Usage Notez]]\n"}]}),
    );
    let diags = client.diagnostics(&src, |d| d.len() == 1 && d[0]["code"] == "broken-fragment");
    let message = diags[0]["message"].as_str().unwrap();
    assert!(
        message.ends_with("help: did you mean \"#Usage Notes\"?"),
        "{message}"
    );

    // Completion on unsaved text.
    let typed = "[[Tw\n[[Tar\n[[Target#us\n[[Target#^\n";
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": url(&src), "version": 3},
               "contentChanges": [{"text": typed}]}),
    );
    let labels = |client: &mut Client, line: u32, character: u32| -> Vec<String> {
        let r = client.request("textDocument/completion", at(&src, line, character));
        let items = r.get("items").unwrap_or(&r).as_array().unwrap().clone();
        items
            .iter()
            .map(|i| i["label"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(labels(&mut client, 0, 4), ["a/Twin", "b/Twin"]);
    assert_eq!(labels(&mut client, 1, 5)[0], "Target");
    let headings = labels(&mut client, 2, 11);
    assert_eq!(headings, ["Target", "Usage Notes"]);
    let r = client.request("textDocument/completion", at(&src, 2, 11));
    assert_eq!(r[1]["textEdit"]["range"]["start"], position(2, 9), "{r}");
    assert_eq!(labels(&mut client, 3, 10), ["blk"]);

    // Quick fixes are those of the text at hand: none in the typed text; once it is closed
    // unsaved, the file's own.
    let actions = |client: &mut Client| {
        client.request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": url(&src)},
                   "range": {"start": position(2, 0), "end": position(2, 0)},
                   "context": {"diagnostics": []}}),
        )
    };
    assert_eq!(actions(&mut client), json!([]));
    client.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": url(&src)}}),
    );
    let fixes = actions(&mut client);
    assert_eq!(fixes.as_array().unwrap().len(), 1, "{fixes}");
    let edit = &fixes[0]["edit"]["changes"][url(&src)][0];
    assert_eq!(edit["newText"], "[[Target|Goal]]", "{fixes}");
    assert_eq!(edit["range"]["start"], position(2, 0), "{fixes}");
    assert_eq!(fixes[0]["kind"], "quickfix");

    // Files changed on disk: the missing note created clears its link's diagnostic.
    write("Missing.md", "now here\n");
    let diags = client.diagnostics(&src, |d| d.len() == 1);
    assert_eq!(diags[0]["code"], "alias-link", "{diags:?}");
    write("src.md", "[[Gone]]\n");
    let diags = client.diagnostics(&src, |d| d.len() == 1 && d[0]["code"] == "broken-link");
    assert_eq!(diags[0]["range"]["start"], position(0, 0));

    // An unknown request is an error, not a crash.
    let reply = client.call("vaultc/unknown", json!({}));
    assert_eq!(reply["error"]["code"], -32601, "{reply}");
    assert_eq!(client.stop(), Some(0));
}

/// Renaming files in the editor (`workspace/willRenameFiles`) gets the edits that keep every
/// link to them: wikilinks, embeds, a property link and a table cell's `\|` link take the new
/// name, markdown links the new path, fragments, labels and sizes kept, a link into the same
/// note and a link through an alias (`resolve_aliases`) left alone; the edits applied and the
/// files moved, `vaultc check` finds nothing broken. A folder renamed moves the links to the notes in it: a name two notes share is
/// written as the path.
#[cfg(unix)]
#[test]
fn renaming_files_keeps_their_links() {
    let (_dir, vault) = temp_vault();
    let write = |path: &str, text: &str| write_file(&vault, path, text);
    write(
        "Target.md",
        "---\naliases: [Aim]\n---\n# Target\n\n## Usage Notes\n\nA block. ^blk\n",
    );
    write("img.png", "");
    write("a/Twin.md", "one\n");
    write("b/Other.md", "two\n");
    write("vaultc.toml", "resolve_aliases = true\n");
    let text = "---\nrelated: \"[[Target]]\"\n---\n\
                [[Target]] and [[Target#Usage Notes|u]]\n\
                ![[Target#^blk]] and ![[img.png|100]]\n\
                [t](Target.md#Usage%20Notes) and ![i](<img.png>)\n\n\
                | a | b |\n|---|---|\n| [[Target\\|x]] | y |\n\n\
                ## Here\n[[Aim]]\n[[#Here]] [[Twin]] [[a/Twin]]\n";
    write("src.md", text);
    let src = vault.join("src.md");
    // The server checks the vault before it answers its first request.
    let (mut client, _) = Client::start(&vault, &[]);
    let rename = |client: &mut Client, pairs: &[(&str, &str)]| -> String {
        let files: Vec<Value> = pairs
            .iter()
            .map(|(old, new)| json!({"oldUri": url(&vault.join(old)), "newUri": url(&vault.join(new))}))
            .collect();
        let edit = client.request("workspace/willRenameFiles", json!({"files": files}));
        let text = std::fs::read_to_string(&src).unwrap();
        let mut edits: Vec<(usize, usize, String)> = edit["changes"][url(&src)]
            .as_array()
            .unwrap_or(&Vec::new())
            .iter()
            .map(|e| {
                let offset = |p: &Value| {
                    let line = p["line"].as_u64().unwrap() as usize;
                    let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
                    start + p["character"].as_u64().unwrap() as usize
                };
                let r = &e["range"];
                (
                    offset(&r["start"]),
                    offset(&r["end"]),
                    e["newText"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        edits.sort();
        let mut out = text.clone();
        for (start, end, new) in edits.into_iter().rev() {
            out.replace_range(start..end, &new);
        }
        out
    };
    let edited = rename(
        &mut client,
        &[
            ("Target.md", "sub/Goal Post.md"),
            ("img.png", "pics/img.png"),
        ],
    );
    let expected = "---\nrelated: \"[[Goal Post]]\"\n---\n\
                    [[Goal Post]] and [[Goal Post#Usage Notes|u]]\n\
                    ![[Goal Post#^blk]] and ![[img.png|100]]\n\
                    [t](sub/Goal%20Post.md#Usage%20Notes) and ![i](<pics/img.png>)\n\n\
                    | a | b |\n|---|---|\n| [[Goal Post\\|x]] | y |\n\n\
                    ## Here\n[[Aim]]\n[[#Here]] [[Twin]] [[a/Twin]]\n";
    assert_eq!(edited, expected);
    // What the editor does next: the files move, the edits are saved.
    std::fs::create_dir_all(vault.join("sub")).unwrap();
    std::fs::create_dir_all(vault.join("pics")).unwrap();
    std::fs::rename(vault.join("Target.md"), vault.join("sub/Goal Post.md")).unwrap();
    std::fs::rename(vault.join("img.png"), vault.join("pics/img.png")).unwrap();
    std::fs::write(&src, &edited).unwrap();
    let r = crate::support::run_cmd(crate::support::vaultc().arg("check").arg(&vault));
    assert_eq!(r.code, 0, "{}", r.report());
    // A folder: its note's links follow, as a path once another note has the name (which
    // makes `[[Twin]]` ambiguous: its warning says the moves have been checked).
    write("c/Twin.md", "three\n");
    client.diagnostics(&src, |d| d.iter().any(|d| d["code"] == "ambiguous-link"));
    let edited = rename(&mut client, &[("a", "d")]);
    assert!(
        edited.ends_with("[[#Here]] [[d/Twin]] [[d/Twin]]\n"),
        "{edited}"
    );
    assert_eq!(client.stop(), Some(0));
}

/// A `vaultc.toml` that cannot be read, saved while the server runs, is shown to the editor as
/// an error and the last diagnostics stay; mended, the vault is checked with it (here: a lint
/// level that turns the broken link into a warning).
#[cfg(unix)]
#[test]
fn an_invalid_configuration_is_shown_and_mending_it_checks_again() {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().canonicalize().unwrap();
    let src = vault.join("src.md");
    std::fs::write(&src, "[[Missing]]\n").unwrap();
    let (mut client, _) = Client::start(&vault, &[]);
    let diags = client.diagnostics(&src, |d| d.len() == 1);
    assert_eq!(diags[0]["severity"], 1, "{diags:?}");
    std::fs::write(vault.join("vaultc.toml"), "[lints\n").unwrap();
    let shown = client.notification("window/showMessage", |p| p["type"] == 1);
    let message = shown["message"].as_str().unwrap();
    assert!(
        message.starts_with("vaultc cannot check the vault:"),
        "{message}"
    );
    assert!(message.contains("vaultc.toml"), "{message}");
    std::fs::write(
        vault.join("vaultc.toml"),
        "[lints]\nbroken-link = \"warn\"\n",
    )
    .unwrap();
    let diags = client.diagnostics(&src, |d| d.len() == 1 && d[0]["severity"] == 2);
    assert_eq!(diags[0]["code"], "broken-link", "{diags:?}");
    assert_eq!(client.stop(), Some(0));
}

/// An editor that sends `exit` without `shutdown` gets exit code 1, as the protocol says.
#[cfg(unix)]
#[test]
fn exit_without_shutdown_is_exit_code_1() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.md"), "text\n").unwrap();
    let (mut client, _) = Client::start(dir.path(), &[]);
    client.notify("exit", Value::Null);
    assert_eq!(client.exit_code(), Some(1));
}

/// An editor that offers UTF-8 positions gets them: columns in bytes.
#[cfg(unix)]
#[test]
fn positions_in_utf8_when_the_editor_offers_them() {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().canonicalize().unwrap();
    std::fs::write(vault.join("src.md"), "é😀 [[Missing]]\n").unwrap();
    let (mut client, init) = Client::start(&vault, &["utf-8", "utf-16"]);
    assert_eq!(init["capabilities"]["positionEncoding"], "utf-8", "{init}");
    let diags = client.diagnostics(&vault.join("src.md"), |d| !d.is_empty());
    assert_eq!(diags[0]["range"]["start"], position(0, 7), "{diags:?}");
    assert_eq!(client.stop(), Some(0));
}
