//! `vaultc lsp`: the vault as a language server, for writing notes in any editor that speaks
//! the Language Server Protocol (VS Code, Neovim, Helix, Zed, Emacs, Kate, ...).
//!
//! It compiles the vault as `check` does (same configuration, same parse cache) when it
//! starts and again after every change to the vault's files (a save in the editor or
//! anywhere else, seen by the same watcher as `serve`), and publishes every file's
//! diagnostics; an open document is checked again as it is typed (its parse and its links,
//! against the last compile's names). On the text of the open documents, saved or not, it
//! answers: go to the note, heading or block a link names (definition), a preview of it
//! (hover), the links into a note, heading or block (references, from the last compile),
//! completion of names, headings and block ids inside `[[`, `check --fix`'s fixes as quick
//! fixes (code actions), the note's headings as its outline (document symbols), the
//! vault's notes and headings by name (workspace symbols), and the edits that keep links to
//! files and folders the editor renames (`workspace/willRenameFiles`).
//!
//! Links are resolved by [`crate::resolve`] against the last compile's name index, and the
//! document at hand is parsed by [`crate::parse`], so the editor and `vaultc check` never
//! disagree about what a link is or where it goes.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types as lsp;
use lsp_types::notification::Notification as _;
use lsp_types::request::Request as _;
use lsp_types::Url;

use crate::compile::{Compilation, CompileOptions};
use crate::diag::{Diagnostic, Severity};
use crate::discover::SourceFile;
use crate::error::{Error, Result};
use crate::resolve::{self, FragmentTarget, LinkTarget, ResolveOptions};
use crate::source::{fold_name, LineIndex, VaultPath};
use crate::vault::{Fragment, Note, NoteId};

/// How long the watcher waits for a burst of events (an editor's save) to end.
const DEBOUNCE: Duration = Duration::from_millis(50);

/// The most completion items sent at once; the list is marked incomplete past it, so the
/// editor asks again as more of the name is typed.
const MAX_COMPLETIONS: usize = 200;

/// How `vaultc lsp` is started.
#[derive(Clone, Debug, Default)]
pub struct LspOptions {
    /// The vault folder; `None`: the editor's workspace folder (else its root, else the
    /// current folder).
    pub vault: Option<PathBuf>,
    /// Keep `check`'s parse cache (in the user's cache folder) up to date and use it.
    pub cache: bool,
}

/// How a session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionEnd {
    /// The editor sent `shutdown`, then `exit`.
    ShutDown,
    /// The editor sent `exit` without `shutdown`, or closed the connection: the protocol
    /// asks for exit code 1.
    Abandoned,
}

/// Serves the protocol on standard input and output until the editor ends the session.
pub fn run_stdio(options: LspOptions) -> Result<SessionEnd> {
    let (connection, io_threads) = Connection::stdio();
    let end = run(connection, options)?;
    // The reader thread ends with standard input; an editor that sent `exit` closes it.
    if end == SessionEnd::ShutDown {
        io_threads
            .join()
            .map_err(|e| Error::Lsp(format!("the connection to the editor failed: {e}")))?;
    }
    Ok(end)
}

/// Serves the protocol on `connection` until the editor sends `shutdown` and `exit` (or
/// goes away).
pub fn run(connection: Connection, options: LspOptions) -> Result<SessionEnd> {
    let protocol = |e: lsp_server::ProtocolError| Error::Lsp(e.to_string());
    let (id, params) = connection.initialize_start().map_err(protocol)?;
    let params: lsp::InitializeParams = serde_json::from_value(params)
        .map_err(|e| Error::Lsp(format!("the editor's `initialize` is not valid: {e}")))?;
    let encoding = Encoding::negotiate(&params);
    let root = options
        .vault
        .clone()
        .or_else(|| workspace_root(&params))
        .unwrap_or_else(|| PathBuf::from("."));
    let root = root
        .canonicalize()
        .ok()
        .filter(|r| r.is_dir())
        .ok_or(Error::VaultNotFound { path: root })?;
    let result = lsp::InitializeResult {
        capabilities: capabilities(encoding),
        server_info: Some(lsp::ServerInfo {
            name: "vaultc".into(),
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
    };
    let result = serde_json::to_value(result).map_err(|e| Error::Lsp(e.to_string()))?;
    connection.initialize_finish(id, result).map_err(protocol)?;

    // One queue for the editor's messages and the watcher's news, so the loop waits on one.
    let (events, queue) = mpsc::channel();
    {
        let events = events.clone();
        let receiver = connection.receiver.clone();
        std::thread::spawn(move || {
            for message in receiver {
                if events.send(Event::Message(message)).is_err() {
                    break;
                }
            }
            let _ = events.send(Event::Disconnected);
        });
    }
    let theme = crate::config::Config::load(&root)
        .ok()
        .and_then(|config| config.theme_dir(&root))
        .filter(|dir| dir.is_dir());
    let watcher = crate::serve::VaultWatcher::start(&root, theme.as_slice(), Vec::new(), DEBOUNCE);
    let watching = watcher.is_ok();
    match watcher {
        Ok(watcher) => {
            std::thread::spawn(move || loop {
                let event = match watcher.next_change() {
                    Ok(_) => Event::Changed,
                    Err(e) => Event::WatchFailed(e.to_string()),
                };
                let failed = matches!(event, Event::WatchFailed(_));
                if events.send(event).is_err() || failed {
                    break;
                }
            });
        }
        Err(e) => show_message(
            &connection,
            lsp::MessageType::WARNING,
            format!("vaultc: {e}; diagnostics are updated on save only"),
        ),
    }

    let mut server = Server {
        connection: &connection,
        root,
        cache: options.cache,
        encoding,
        compilation: None,
        resolve: ResolveOptions::default(),
        config: crate::config::Config::default(),
        live: HashMap::new(),
        names: None,
        open: HashMap::new(),
        published: std::collections::BTreeSet::new(),
        watching,
    };
    // Compiles run on this thread, between messages: never while a request waits.
    server.compile();
    // After `shutdown` only `exit` is expected; an `exit` without it is an error (exit code 1,
    // as the protocol says).
    let mut shut_down = false;
    loop {
        let Ok(event) = queue.recv() else {
            return Ok(SessionEnd::Abandoned);
        };
        // Everything already waiting is handled before compiling again, so a burst of
        // saves (or a save and the watcher's news of it) makes one compile.
        let mut stale = false;
        let mut next = Some(event);
        while let Some(event) = next.take() {
            match event {
                Event::Message(Message::Request(request)) => {
                    if shut_down {
                        let response = Response::new_err(
                            request.id,
                            ErrorCode::InvalidRequest as i32,
                            "the server is shut down".into(),
                        );
                        let _ = connection.sender.send(Message::Response(response));
                    } else if request.method == lsp::request::Shutdown::METHOD {
                        shut_down = true;
                        let _ = connection
                            .sender
                            .send(Response::new_ok(request.id, ()).into());
                    } else {
                        server.answer(request);
                    }
                }
                Event::Message(Message::Notification(note)) => {
                    if note.method == lsp::notification::Exit::METHOD {
                        return Ok(match shut_down {
                            true => SessionEnd::ShutDown,
                            false => SessionEnd::Abandoned,
                        });
                    }
                    if !shut_down {
                        stale |= server.notified(note);
                    }
                }
                Event::Message(Message::Response(_)) => {}
                Event::Changed => stale = true,
                Event::WatchFailed(message) => {
                    server.watching = false;
                    show_message(
                        &connection,
                        lsp::MessageType::WARNING,
                        format!("vaultc: {message}; diagnostics are updated on save only"),
                    );
                }
                Event::Disconnected => return Ok(SessionEnd::Abandoned),
            }
            next = queue.try_recv().ok();
        }
        if stale && !shut_down {
            server.compile();
        }
    }
}

/// What the server's loop waits for.
enum Event {
    /// A message from the editor.
    Message(Message),
    /// Files of the vault changed on disk.
    Changed,
    /// The watcher stopped; compiles now follow saves only.
    WatchFailed(String),
    /// The editor closed the connection.
    Disconnected,
}

/// The workspace folder the editor opened (the first), else its root.
fn workspace_root(params: &lsp::InitializeParams) -> Option<PathBuf> {
    let folder = params
        .workspace_folders
        .as_ref()
        .and_then(|folders| folders.first())
        .and_then(|f| f.uri.to_file_path().ok());
    #[allow(deprecated)] // `root_uri` is what older editors send.
    folder.or_else(|| params.root_uri.as_ref()?.to_file_path().ok())
}

/// What the server can do, as the editor is told.
fn capabilities(encoding: Encoding) -> lsp::ServerCapabilities {
    lsp::ServerCapabilities {
        position_encoding: Some(encoding.kind()),
        text_document_sync: Some(lsp::TextDocumentSyncCapability::Options(
            lsp::TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(lsp::TextDocumentSyncKind::FULL),
                save: Some(lsp::TextDocumentSyncSaveOptions::Supported(true)),
                ..Default::default()
            },
        )),
        definition_provider: Some(lsp::OneOf::Left(true)),
        hover_provider: Some(lsp::HoverProviderCapability::Simple(true)),
        document_symbol_provider: Some(lsp::OneOf::Left(true)),
        workspace_symbol_provider: Some(lsp::OneOf::Left(true)),
        references_provider: Some(lsp::OneOf::Left(true)),
        completion_provider: Some(lsp::CompletionOptions {
            trigger_characters: Some(vec!["[".into(), "#".into(), "^".into()]),
            ..Default::default()
        }),
        code_action_provider: Some(lsp::CodeActionProviderCapability::Simple(true)),
        // Renaming a file or folder in the editor asks for the edits that keep links to it.
        workspace: Some(lsp::WorkspaceServerCapabilities {
            workspace_folders: None,
            file_operations: Some(lsp::WorkspaceFileOperationsServerCapabilities {
                will_rename: Some(lsp::FileOperationRegistrationOptions {
                    filters: vec![lsp::FileOperationFilter {
                        scheme: Some("file".into()),
                        pattern: lsp::FileOperationPattern {
                            glob: "**/*".into(),
                            matches: None,
                            options: None,
                        },
                    }],
                }),
                ..Default::default()
            }),
        }),
        ..Default::default()
    }
}

/// How positions count characters within a line: UTF-16 code units (the protocol's default)
/// or bytes, when the editor offers UTF-8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encoding {
    Utf8,
    Utf16,
}

impl Encoding {
    /// UTF-8 when the editor can take it (no conversion), else UTF-16.
    fn negotiate(params: &lsp::InitializeParams) -> Encoding {
        let offered = params
            .capabilities
            .general
            .as_ref()
            .and_then(|g| g.position_encodings.as_ref());
        match offered {
            Some(kinds) if kinds.contains(&lsp::PositionEncodingKind::UTF8) => Encoding::Utf8,
            _ => Encoding::Utf16,
        }
    }

    fn kind(self) -> lsp::PositionEncodingKind {
        match self {
            Encoding::Utf8 => lsp::PositionEncodingKind::UTF8,
            Encoding::Utf16 => lsp::PositionEncodingKind::UTF16,
        }
    }
}

/// A text with its line index, for turning byte offsets into positions and back.
struct Text<'a> {
    text: &'a str,
    lines: std::borrow::Cow<'a, LineIndex>,
    encoding: Encoding,
}

impl<'a> Text<'a> {
    fn new(text: &'a str, encoding: Encoding) -> Text<'a> {
        Text {
            text,
            lines: std::borrow::Cow::Owned(LineIndex::new(text)),
            encoding,
        }
    }

    /// The position of byte `offset` (clamped to the text, and back to a character start).
    fn position(&self, offset: usize) -> lsp::Position {
        let offset = crate::source::floor_char_boundary(self.text, offset.min(self.text.len()));
        let line = self.lines.line(offset as u32);
        let start = self.lines.line_range(self.text, line).start.min(offset);
        let before = &self.text[start..offset];
        let character = match self.encoding {
            Encoding::Utf8 => before.len(),
            Encoding::Utf16 => before.encode_utf16().count(),
        };
        lsp::Position::new(line - 1, character as u32)
    }

    /// The byte offset of `position`: past the end of its line, the line's end; past the
    /// last line, the text's end.
    fn offset(&self, position: lsp::Position) -> usize {
        let line = self.lines.line_range(self.text, position.line + 1);
        let mut units = 0;
        for (i, c) in self.text[line.clone()].char_indices() {
            if units >= position.character as usize {
                return line.start + i;
            }
            units += match self.encoding {
                Encoding::Utf8 => c.len_utf8(),
                Encoding::Utf16 => c.len_utf16(),
            };
        }
        line.end
    }

    fn range(&self, span: std::ops::Range<usize>) -> lsp::Range {
        lsp::Range::new(self.position(span.start), self.position(span.end))
    }
}

/// A name the completion of `[[` offers: what it inserts, and the file it names.
struct CompletionName {
    /// The link text Obsidian writes: the name alone when no other file has it, else the path.
    insert: String,
    /// `insert` folded, for matching what was typed.
    folded: String,
    /// The vault path.
    path: String,
    /// A note (else an attachment).
    note: bool,
}

/// The server's state between messages.
struct Server<'c> {
    connection: &'c Connection,
    /// The vault folder (canonical).
    root: PathBuf,
    /// Use and update `check`'s parse cache.
    cache: bool,
    encoding: Encoding,
    /// The last compile that succeeded.
    compilation: Option<Compilation>,
    /// How its links were resolved (`vaultc.toml`'s `resolve_aliases`).
    resolve: ResolveOptions,
    /// The configuration it was made with (lint levels for the open documents' diagnostics).
    config: crate::config::Config,
    /// The diagnostics of open documents whose text is not the compiled one: made from the
    /// editor's text as it is typed, in place of the compile's.
    live: HashMap<VaultPath, Vec<Diagnostic>>,
    /// The names completion offers, made from `compilation` when first asked for.
    names: Option<Vec<CompletionName>>,
    /// The open documents' texts, as the editor has them (saved or not).
    open: HashMap<VaultPath, String>,
    /// The files whose last published diagnostics were not empty (to clear them once mended).
    published: std::collections::BTreeSet<VaultPath>,
    /// The watcher runs: it reports saves, so a save notification does not compile again.
    watching: bool,
}

impl Server<'_> {
    /// Compiles the vault and publishes its diagnostics; a compile that cannot run (an
    /// invalid `vaultc.toml`) is shown as a message, and the last diagnostics stay.
    fn compile(&mut self) {
        match self.try_compile() {
            Ok((compilation, resolve, config)) => {
                self.compilation = Some(compilation);
                self.resolve = resolve;
                self.config = config;
                self.names = None;
                self.live.clear();
                // Unsaved documents are checked as the editor has them.
                let open: Vec<VaultPath> = self.open.keys().cloned().collect();
                for path in open {
                    self.check_open(&path);
                }
                self.publish(None);
            }
            Err(e) => show_message(
                self.connection,
                lsp::MessageType::ERROR,
                format!("vaultc cannot check the vault: {e}"),
            ),
        }
    }

    fn try_compile(&self) -> Result<(Compilation, ResolveOptions, crate::config::Config)> {
        let config = crate::config::Config::load(&self.root)?;
        let resolve = ResolveOptions {
            resolve_aliases: config.resolve_aliases,
        };
        let cache_dir = self
            .cache
            .then(|| crate::cache::check_cache_dir(&self.root))
            .flatten();
        let parse_cache = cache_dir
            .as_deref()
            .map(|dir| std::sync::Arc::new(crate::cache::ParseCache::load_or_empty(dir).0));
        let options = CompileOptions {
            config,
            parse_cache,
            // Which notes are templates, for checking them again as they are typed.
            keep_origins: true,
            ..Default::default()
        };
        let compilation = crate::compile(&self.root, &options)?;
        if let (Some(update), Some(dir)) = (&compilation.cache_update, cache_dir) {
            // Only speed depends on it: a cache that cannot be written is left.
            let _ = update.save(&dir);
        }
        Ok((compilation, resolve, options.config))
    }

    /// Publishes every file's diagnostics (with `only`, that file's), and empty lists for the
    /// files that had some and have none now.
    fn publish(&mut self, only: Option<&VaultPath>) {
        let Some(comp) = &self.compilation else {
            return;
        };
        let wanted = |path: &VaultPath| only.is_none_or(|only| only == path);
        let mut by_file: BTreeMap<&VaultPath, Vec<&Diagnostic>> = BTreeMap::new();
        for d in &comp.diagnostics {
            if !self.live.contains_key(&d.file) && wanted(&d.file) {
                by_file.entry(&d.file).or_default().push(d);
            }
        }
        for (path, diagnostics) in self.live.iter().filter(|(p, _)| wanted(p)) {
            by_file.entry(path).or_default().extend(diagnostics);
        }
        for path in self.published.iter().filter(|p| wanted(p)) {
            by_file.entry(path).or_default();
        }
        for (path, diagnostics) in &by_file {
            let Ok(uri) = Url::from_file_path(self.root.join(path.as_str())) else {
                continue;
            };
            let text = comp.vault.source_text(path);
            let text = text.as_ref().map(|(text, lines)| Text {
                text,
                lines: std::borrow::Cow::Borrowed(lines.as_ref()),
                encoding: self.encoding,
            });
            let diagnostics = diagnostics
                .iter()
                .map(|d| to_lsp_diagnostic(d, text.as_ref()))
                .collect();
            let params = lsp::PublishDiagnosticsParams {
                uri,
                diagnostics,
                version: None,
            };
            notify::<lsp::notification::PublishDiagnostics>(self.connection, params);
        }
        let published: Vec<(VaultPath, bool)> = by_file
            .into_iter()
            .map(|(path, d)| (path.clone(), !d.is_empty()))
            .collect();
        if only.is_none() {
            self.published.clear();
        }
        for (path, any) in published {
            match any {
                true => self.published.insert(path),
                false => self.published.remove(&path),
            };
        }
    }

    /// The editor's text of an open document: kept, checked, its diagnostics published.
    fn set_text(&mut self, uri: &Url, text: String) {
        if let Some(path) = self.vault_path(uri) {
            self.open.insert(path.clone(), text);
            if self.check_open(&path) {
                self.publish(Some(&path));
            }
        }
    }

    /// Checks an open document from the editor's text, when it is not the compiled one: its
    /// parse and its links' diagnostics, against the last compile's names, with the compile's
    /// facts about the whole file (an orphan note) kept. The note's parse replaces the
    /// compiled one, so requests see it too; whether `live` changed.
    fn check_open(&mut self, path: &VaultPath) -> bool {
        let (Some(text), Some(comp)) = (self.open.get(path), self.compilation.as_mut()) else {
            return false;
        };
        let Some(id) = comp.vault.note_at(path.as_str()) else {
            return false;
        };
        if comp.vault.note(id).text == *text {
            return false;
        }
        let is_template = comp
            .origins
            .as_ref()
            .and_then(|o| o.notes.get(id.0 as usize))
            .is_some_and(|o| o.is_template);
        let file = SourceFile {
            path: path.clone(),
            text: text.clone(),
            is_template,
        };
        let (note, mut diagnostics) = crate::parse::note(file);
        comp.vault.notes[id.0 as usize] = note;
        let links = comp
            .vault
            .note(id)
            .links
            .iter()
            .map(|link| {
                resolve::resolve_link(&comp.vault, &comp.resolution.index, id, link, self.resolve)
            })
            .collect();
        comp.resolution.links[id.0 as usize] = links;
        // A name just typed that is no note's gets its "did you mean" as a checked one does.
        comp.suggestions
            .add_missing(&comp.vault, &comp.resolution, &[id]);
        diagnostics.extend(crate::diag::checks::note_link_diagnostics(
            &comp.vault,
            &comp.resolution,
            &comp.suggestions,
            &self.config,
            id,
        ));
        diagnostics.extend(
            comp.diagnostics
                .iter()
                .filter(|d| &d.file == path && d.span == crate::source::Span::default())
                .filter(|d| !crate::diag::checks::is_note_link_code(d.code))
                .cloned(),
        );
        let mut diagnostics = crate::compile::settle(&comp.vault, &self.config, diagnostics);
        diagnostics.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        diagnostics.dedup();
        self.live.insert(path.clone(), diagnostics);
        true
    }

    /// Handles a notification; whether the vault must be compiled again.
    fn notified(&mut self, note: Notification) -> bool {
        use lsp::notification::{
            DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, DidSaveTextDocument,
        };
        match note.method.as_str() {
            DidOpenTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<lsp::DidOpenTextDocumentParams>(note.params)
                {
                    self.set_text(&p.text_document.uri, p.text_document.text);
                }
                false
            }
            DidChangeTextDocument::METHOD => {
                if let Ok(p) =
                    serde_json::from_value::<lsp::DidChangeTextDocumentParams>(note.params)
                {
                    // Whole texts only (the sync kind the server asked for): the last one wins.
                    let text = p
                        .content_changes
                        .into_iter()
                        .rev()
                        .find(|c| c.range.is_none());
                    if let Some(change) = text {
                        self.set_text(&p.text_document.uri, change.text);
                    }
                }
                false
            }
            DidCloseTextDocument::METHOD => {
                if let Ok(p) =
                    serde_json::from_value::<lsp::DidCloseTextDocumentParams>(note.params)
                {
                    if let Some(path) = self.vault_path(&p.text_document.uri) {
                        self.open.remove(&path);
                        // Closed unsaved: the compile holds the editor's text; read the disk's
                        // now, before the next request is answered.
                        if self.live.contains_key(&path) {
                            self.compile();
                        }
                    }
                }
                false
            }
            // The watcher sees the save (and a compile for both would be one too many);
            // without it, the save is what is heard.
            DidSaveTextDocument::METHOD => !self.watching,
            _ => false,
        }
    }

    /// Answers a request (an error for one the server does not know).
    fn answer(&mut self, request: Request) {
        use lsp::request::{
            CodeActionRequest, Completion, DocumentSymbolRequest, GotoDefinition, HoverRequest,
            References, WillRenameFiles, WorkspaceSymbolRequest,
        };
        let id = request.id.clone();
        let method = request.method.clone();
        // A bug in one answer is an error reply, not the end of the editor's session.
        let answered = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            match request.method.as_str() {
                GotoDefinition::METHOD => self.with_params(request, Self::definition),
                References::METHOD => self.with_params(request, Self::references),
                HoverRequest::METHOD => self.with_params(request, Self::hover),
                Completion::METHOD => self.with_params(request, Self::completion),
                CodeActionRequest::METHOD => self.with_params(request, Self::code_actions),
                DocumentSymbolRequest::METHOD => self.with_params(request, Self::outline),
                WorkspaceSymbolRequest::METHOD => self.with_params(request, Self::symbols),
                WillRenameFiles::METHOD => self.with_params(request, Self::will_rename),
                _ => Err((
                    ErrorCode::MethodNotFound,
                    format!("vaultc does not answer {}", request.method),
                )),
            }
        }));
        let result = answered.unwrap_or_else(|_| {
            Err((
                ErrorCode::InternalError,
                format!("vaultc failed to answer {method} (a bug: please report it)"),
            ))
        });
        let response = match result {
            Ok(value) => Response::new_ok(id, value),
            Err((code, message)) => Response::new_err(id, code as i32, message),
        };
        let _ = self.connection.sender.send(Message::Response(response));
    }

    /// Decodes a request's parameters and answers it with `f`.
    fn with_params<P, R>(
        &mut self,
        request: Request,
        f: fn(&mut Self, P) -> R,
    ) -> std::result::Result<serde_json::Value, (ErrorCode, String)>
    where
        P: serde::de::DeserializeOwned,
        R: serde::Serialize,
    {
        let params: P = serde_json::from_value(request.params)
            .map_err(|e| (ErrorCode::InvalidParams, e.to_string()))?;
        serde_json::to_value(f(self, params)).map_err(|e| (ErrorCode::InternalError, e.to_string()))
    }

    /// The vault path of a document, when it is a file of the vault.
    fn vault_path(&self, uri: &Url) -> Option<VaultPath> {
        let file = uri.to_file_path().ok()?;
        // The editor may name the vault through a symlink, or name a file not yet created.
        let file = file.canonicalize().unwrap_or(file);
        let relative = file.strip_prefix(&self.root).ok()?;
        let parts: Vec<&str> = relative
            .components()
            .map(|c| c.as_os_str().to_str())
            .collect::<Option<_>>()?;
        VaultPath::new(&parts.join("/"))
    }

    fn uri(&self, path: &str) -> Option<Url> {
        Url::from_file_path(self.root.join(path)).ok()
    }

    /// The text of a document as the editor has it: open, or as last compiled, or on disk.
    fn current_text(&self, path: &VaultPath) -> Option<String> {
        if let Some(text) = self.open.get(path) {
            return Some(text.clone());
        }
        if let Some(comp) = &self.compilation {
            if let Some(id) = comp.vault.note_at(path.as_str()) {
                return Some(comp.vault.note(id).text.clone());
            }
        }
        std::fs::read_to_string(self.root.join(path.as_str())).ok()
    }

    /// The note at `path` parsed from its current text (links, headings, blocks).
    fn current_note(&self, path: &VaultPath) -> Option<Note> {
        let text = self.current_text(path)?;
        let file = SourceFile {
            path: path.clone(),
            text,
            is_template: false,
        };
        Some(crate::parse::note(file).0)
    }

    /// Where `target` (a link's text before `#`) written in `from` goes, with `fragment`
    /// looked up in the target's current text: the file, and the byte range in it.
    fn locate(
        &self,
        from: &Note,
        target: &str,
        fragment: Option<&Fragment>,
    ) -> Option<(VaultPath, Option<std::ops::Range<usize>>, Option<Note>)> {
        if target.is_empty() {
            let range = fragment_range(from, fragment);
            return Some((from.path.clone(), range, None));
        }
        let comp = self.compilation.as_ref()?;
        let found = resolve::resolve_from_file(
            &comp.vault,
            &comp.resolution.index,
            &from.path,
            target,
            None,
            self.resolve,
        );
        match found {
            LinkTarget::Note { id, .. } => {
                let path = comp.vault.note(id).path.clone();
                let note = self.current_note(&path)?;
                let range = fragment_range(&note, fragment);
                Some((path, range, Some(note)))
            }
            LinkTarget::Attachment(id) => {
                Some((comp.vault.attachment(id).path.clone(), None, None))
            }
            LinkTarget::Missing { .. } => None,
        }
    }

    /// textDocument/definition: where the link under the cursor goes.
    fn definition(
        &mut self,
        params: lsp::GotoDefinitionParams,
    ) -> Option<lsp::GotoDefinitionResponse> {
        let at = params.text_document_position_params;
        let path = self.vault_path(&at.text_document.uri)?;
        let note = self.current_note(&path)?;
        let offset = Text::new(&note.text, self.encoding).offset(at.position);
        let link = note
            .links
            .iter()
            .find(|l| l.span.range().contains(&offset) || l.span.range().end == offset)?;
        let (target, range, target_note) =
            self.locate(&note, &link.target, link.fragment.as_ref())?;
        let uri = self.uri(target.as_str())?;
        let text = target_note.as_ref().map_or(&note.text, |n| &n.text);
        let range = match range {
            Some(r) => Text::new(text, self.encoding).range(r),
            None => lsp::Range::default(),
        };
        Some(lsp::GotoDefinitionResponse::Scalar(lsp::Location::new(
            uri, range,
        )))
    }

    /// textDocument/hover: what the link under the cursor shows when followed: the target's
    /// title and the start of its text, its section or its block; or that it is missing.
    fn hover(&mut self, params: lsp::HoverParams) -> Option<lsp::Hover> {
        let at = params.text_document_position_params;
        let path = self.vault_path(&at.text_document.uri)?;
        let note = self.current_note(&path)?;
        let text = Text::new(&note.text, self.encoding);
        let offset = text.offset(at.position);
        let link = note
            .links
            .iter()
            .find(|l| l.span.range().contains(&offset) || l.span.range().end == offset)?;
        let range = Some(text.range(link.span.range()));
        let value = match self.locate(&note, &link.target, link.fragment.as_ref()) {
            None => format!("**{}**: no such note (a wanted note)", link.target),
            Some((target, fragment, target_note)) => {
                let shown = match &target_note {
                    Some(n) => n,
                    None if link.target.is_empty() => &note,
                    None => {
                        return Some(hover(format!("**{}**", target.as_str()), range));
                    }
                };
                let preview = match fragment {
                    Some(r) => section(shown, r),
                    None if link.fragment.is_some() => {
                        let wanted = link.fragment.as_ref().map(Fragment::as_written);
                        format!("no \"#{}\" here", wanted.unwrap_or_default())
                    }
                    None => shown.text[shown.body_start..].to_string(),
                };
                format!(
                    "**{}** ({})\n\n{}",
                    shown.title,
                    target.as_str(),
                    preview_of(&preview)
                )
            }
        };
        Some(hover(value, range))
    }

    /// textDocument/documentSymbol: the note's outline, headings nested by level, each
    /// spanning its section.
    fn outline(
        &mut self,
        params: lsp::DocumentSymbolParams,
    ) -> Option<lsp::DocumentSymbolResponse> {
        let path = self.vault_path(&params.text_document.uri)?;
        let note = self.current_note(&path)?;
        let text = Text::new(&note.text, self.encoding);
        // Headings in order, each closed by the next one of its level or above.
        let mut done: Vec<(u8, lsp::DocumentSymbol)> = Vec::new();
        let mut open: Vec<(u8, lsp::DocumentSymbol)> = Vec::new();
        let close = |open: &mut Vec<(u8, lsp::DocumentSymbol)>,
                     done: &mut Vec<(u8, lsp::DocumentSymbol)>,
                     level: u8,
                     end: lsp::Position| {
            while open.last().is_some_and(|(l, _)| *l >= level) {
                let (l, mut symbol) = open.pop().expect("checked");
                symbol.range.end = end;
                match open.last_mut() {
                    Some((_, parent)) => parent.children.get_or_insert_with(Vec::new).push(symbol),
                    None => done.push((l, symbol)),
                }
            }
        };
        for h in &note.headings {
            let range = text.range(h.span.range());
            close(&mut open, &mut done, h.level, range.start);
            #[allow(deprecated)] // `deprecated` is a field every literal must name.
            let symbol = lsp::DocumentSymbol {
                name: h.text.clone(),
                detail: Some("#".repeat(h.level as usize)),
                kind: lsp::SymbolKind::STRING,
                tags: None,
                deprecated: None,
                range,
                selection_range: range,
                children: None,
            };
            open.push((h.level, symbol));
        }
        close(&mut open, &mut done, 0, text.position(note.text.len()));
        Some(lsp::DocumentSymbolResponse::Nested(
            done.into_iter().map(|(_, s)| s).collect(),
        ))
    }

    /// workspace/symbol: the notes and headings of the vault whose name holds the query
    /// (letter case and Unicode form ignored), notes first, as last compiled.
    fn symbols(
        &mut self,
        params: lsp::WorkspaceSymbolParams,
    ) -> Option<lsp::WorkspaceSymbolResponse> {
        let comp = self.compilation.as_ref()?;
        let query = fold_name(params.query.trim());
        let mut found = Vec::new();
        #[allow(deprecated)] // `deprecated` is a field every literal must name.
        let symbol = |name: &str, kind, location, container: Option<&str>| lsp::SymbolInformation {
            name: name.to_string(),
            kind,
            tags: None,
            deprecated: None,
            location,
            container_name: container.map(str::to_string),
        };
        for note in &comp.vault.notes {
            if found.len() >= MAX_COMPLETIONS {
                break;
            }
            let title_matches = fold_name(&note.title).contains(&query)
                || fold_name(note.path.stem()).contains(&query);
            let Some(uri) = self.uri(note.path.as_str()) else {
                continue;
            };
            if title_matches {
                let location = lsp::Location::new(uri.clone(), lsp::Range::default());
                found.push(symbol(&note.title, lsp::SymbolKind::FILE, location, None));
            }
        }
        let mut headings = Vec::new();
        'notes: for note in &comp.vault.notes {
            let mut text = None;
            for h in &note.headings {
                if found.len() + headings.len() >= MAX_COMPLETIONS {
                    break 'notes;
                }
                if !fold_name(&h.text).contains(&query) {
                    continue;
                }
                let Some(uri) = self.uri(note.path.as_str()) else {
                    continue 'notes;
                };
                let text = text.get_or_insert_with(|| Text {
                    text: &note.text,
                    lines: std::borrow::Cow::Borrowed(note.lines()),
                    encoding: self.encoding,
                });
                let location = lsp::Location::new(uri, text.range(h.span.range()));
                headings.push(symbol(
                    &h.text,
                    lsp::SymbolKind::STRING,
                    location,
                    Some(&note.title),
                ));
            }
        }
        found.extend(headings);
        Some(lsp::WorkspaceSymbolResponse::Flat(found))
    }

    /// workspace/willRenameFiles: the edits that keep every link to the renamed files (or to
    /// the files in renamed folders) pointing at them, as Obsidian's "automatically update
    /// internal links" does: a wikilink, embed or property link gets the new name (the file's
    /// name alone when no other file has it, else its path), a markdown link the new vault
    /// path; fragments, labels and sizes stay. Links are read from the last compile, and from
    /// the editor's text for open notes (see `check_open`).
    fn will_rename(&mut self, params: lsp::RenameFilesParams) -> Option<lsp::WorkspaceEdit> {
        let comp = self.compilation.as_ref()?;
        let vault = &comp.vault;
        // Each renamed note or attachment, with its new vault path.
        let mut notes: HashMap<NoteId, VaultPath> = HashMap::new();
        let mut files: HashMap<crate::vault::AttachmentId, VaultPath> = HashMap::new();
        for rename in &params.files {
            let (Ok(old), Ok(new)) = (Url::parse(&rename.old_uri), Url::parse(&rename.new_uri))
            else {
                continue;
            };
            let (Some(old), Some(new)) = (self.vault_path(&old), self.vault_path(&new)) else {
                continue;
            };
            let moved = |path: &VaultPath| -> Option<VaultPath> {
                if path == &old {
                    return Some(new.clone());
                }
                let rest = path
                    .as_str()
                    .strip_prefix(old.as_str())?
                    .strip_prefix('/')?;
                VaultPath::new(&format!("{}/{rest}", new.as_str()))
            };
            for (id, note) in vault.note_ids() {
                if let Some(path) = moved(&note.path) {
                    notes.insert(id, path);
                }
            }
            for (i, a) in vault.attachments.iter().enumerate() {
                if let Some(path) = moved(&a.path) {
                    files.insert(crate::vault::AttachmentId(i as u32), path);
                }
            }
        }
        if notes.is_empty() && files.is_empty() {
            return None;
        }
        // How many files have each name once the renames are done.
        let mut count: HashMap<String, usize> = HashMap::new();
        for (id, note) in vault.note_ids() {
            let path = notes.get(&id).unwrap_or(&note.path);
            *count.entry(fold_name(path.stem())).or_default() += 1;
        }
        for (i, a) in vault.attachments.iter().enumerate() {
            let path = files
                .get(&crate::vault::AttachmentId(i as u32))
                .unwrap_or(&a.path);
            *count.entry(fold_name(path.file_name())).or_default() += 1;
        }
        let written = |path: &VaultPath, note: bool| -> String {
            let name = if note { path.stem() } else { path.file_name() };
            match count.get(&fold_name(name)) {
                Some(1) => name.to_string(),
                _ if note => path
                    .as_str()
                    .strip_suffix(".md")
                    .unwrap_or(path.as_str())
                    .into(),
                _ => path.as_str().to_string(),
            }
        };
        let mut changes: HashMap<Url, Vec<lsp::TextEdit>> = HashMap::new();
        for (id, note) in vault.note_ids() {
            let mut text = None;
            for (i, link) in note.links.iter().enumerate() {
                let new_path = match comp.resolution.get(id, i).target {
                    LinkTarget::Note { id: t, .. } => notes.get(&t).map(|p| (p, true)),
                    LinkTarget::Attachment(a) => files.get(&a).map(|p| (p, false)),
                    LinkTarget::Missing { .. } => None,
                };
                let Some((new_path, is_note)) = new_path else {
                    continue;
                };
                // `[[#Heading]]` names no file, and a link through an alias (`resolve_aliases`)
                // names the alias, which the rename leaves as it is.
                if link.target.is_empty() {
                    continue;
                }
                if let LinkTarget::Note { id: t, .. } = comp.resolution.get(id, i).target {
                    let target = vault.note(t);
                    let written = fold_name(link.target.trim_end_matches(".md"));
                    let path = fold_name(target.path.as_str());
                    let by_name = path
                        .strip_suffix(".md")
                        .unwrap_or(&path)
                        .ends_with(&written);
                    let aliases = &target.front_matter.aliases;
                    if !by_name && aliases.iter().any(|a| fold_name(a) == written) {
                        continue;
                    }
                }
                let source = note.slice(link.span);
                let edit = match resolve::link_is_wiki(note, link) {
                    true => {
                        wikilink_target(source).map(|range| (range, written(new_path, is_note)))
                    }
                    false => markdown_destination(source)
                        .map(|range| (range, crate::site::encode_path(new_path.as_str()))),
                };
                let Some((range, new_text)) = edit else {
                    continue;
                };
                let start = link.span.start as usize;
                let text = text.get_or_insert_with(|| Text {
                    text: &note.text,
                    lines: std::borrow::Cow::Borrowed(note.lines()),
                    encoding: self.encoding,
                });
                let range = text.range(start + range.start..start + range.end);
                if let Some(uri) = self.uri(note.path.as_str()) {
                    changes
                        .entry(uri)
                        .or_default()
                        .push(lsp::TextEdit::new(range, new_text));
                }
            }
        }
        Some(lsp::WorkspaceEdit::new(changes))
    }

    /// textDocument/references: the links into the note, or into the heading or block under
    /// the cursor, as the last compile resolved them.
    fn references(&mut self, params: lsp::ReferenceParams) -> Option<Vec<lsp::Location>> {
        let at = params.text_document_position;
        let path = self.vault_path(&at.text_document.uri)?;
        let current = self.current_note(&path)?;
        let offset = Text::new(&current.text, self.encoding).offset(at.position);
        let comp = self.compilation.as_ref()?;
        let target = comp.vault.note_at(path.as_str())?;
        let compiled = comp.vault.note(target);
        // A heading or block under the cursor narrows the references to it (matched by its
        // anchor or id, which survive edits elsewhere in the note).
        let heading = current
            .headings
            .iter()
            .find(|h| h.span.range().contains(&offset))
            .and_then(|h| compiled.headings.iter().position(|c| c.anchor == h.anchor));
        let block = current
            .blocks
            .iter()
            .find(|b| b.span.range().contains(&offset) || b.marker.range().contains(&offset))
            .and_then(|b| compiled.blocks.iter().position(|c| c.id == b.id));
        let wanted = |fragment: &FragmentTarget| match (heading, block, fragment) {
            (Some(h), _, FragmentTarget::Heading(f)) => h == *f,
            (Some(_), ..) => false,
            (None, Some(b), FragmentTarget::Block(f)) => b == *f,
            (None, Some(_), _) => false,
            (None, None, _) => true,
        };
        let mut found = Vec::new();
        for (id, note) in comp.vault.note_ids() {
            let mut text = None;
            for (i, link) in note.links.iter().enumerate() {
                let reaches = matches!(
                    &comp.resolution.get(id, i).target,
                    LinkTarget::Note { id: t, fragment } if *t == target && wanted(fragment)
                );
                if !reaches {
                    continue;
                }
                let text = text.get_or_insert_with(|| Text {
                    text: &note.text,
                    lines: std::borrow::Cow::Borrowed(note.lines()),
                    encoding: self.encoding,
                });
                if let Some(uri) = self.uri(note.path.as_str()) {
                    found.push(lsp::Location::new(uri, text.range(link.span.range())));
                }
            }
        }
        Some(found)
    }

    /// textDocument/completion: inside `[[`, the vault's names; after `#`, the headings of
    /// the note named; after `#^`, its block ids.
    fn completion(&mut self, params: lsp::CompletionParams) -> Option<lsp::CompletionResponse> {
        let at = params.text_document_position;
        let path = self.vault_path(&at.text_document.uri)?;
        let text = self.current_text(&path)?;
        let lines = Text::new(&text, self.encoding);
        let offset = lines.offset(at.position);
        let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let before = &text[line_start..offset];
        let open = before.rfind("[[")? + 2;
        let inner = &before[open..];
        if inner.contains("]]") || inner.contains('|') {
            return None;
        }
        let replace = |from: usize| lines.range(line_start + from..offset);
        match inner.split_once('#') {
            Some((name, fragment)) => {
                let note = match name.trim() {
                    "" => self.current_note(&path)?,
                    name => {
                        let from = self.current_note(&path)?;
                        let (target, _, note) = self.locate(&from, name, None)?;
                        note.or_else(|| self.current_note(&target))?
                    }
                };
                let after = line_start + open + name.len() + 1;
                let items: Vec<lsp::CompletionItem> = match fragment.strip_prefix('^') {
                    Some(_) => note
                        .blocks
                        .iter()
                        .map(|b| {
                            completion_item(
                                &b.id,
                                None,
                                lsp::CompletionItemKind::REFERENCE,
                                replace(after + 1 - line_start),
                            )
                        })
                        .collect(),
                    None => {
                        let last = inner
                            .rfind('#')
                            .map_or(after, |i| line_start + open + i + 1);
                        note.headings
                            .iter()
                            .map(|h| {
                                let written =
                                    crate::diag::checks::fragment_as_written(&h.text, true);
                                let detail = format!("{} {}", "#".repeat(h.level as usize), h.text);
                                completion_item(
                                    &written,
                                    Some(detail),
                                    lsp::CompletionItemKind::REFERENCE,
                                    replace(last - line_start),
                                )
                            })
                            .collect()
                    }
                };
                Some(lsp::CompletionResponse::Array(items))
            }
            None => {
                let names = self.names()?;
                let typed = fold_name(inner.trim_start());
                let mut matches: Vec<&CompletionName> =
                    names.iter().filter(|n| n.folded.contains(&typed)).collect();
                matches.sort_by_key(|n| (!n.folded.starts_with(&typed), n.insert.len(), &n.insert));
                let incomplete = matches.len() > MAX_COMPLETIONS;
                let items = matches
                    .into_iter()
                    .take(MAX_COMPLETIONS)
                    .map(|n| {
                        let kind = match n.note {
                            true => lsp::CompletionItemKind::FILE,
                            false => lsp::CompletionItemKind::VALUE,
                        };
                        completion_item(&n.insert, Some(n.path.clone()), kind, replace(open))
                    })
                    .collect();
                Some(lsp::CompletionResponse::List(lsp::CompletionList {
                    is_incomplete: incomplete,
                    items,
                }))
            }
        }
    }

    /// The names completion offers, made once per compile.
    fn names(&mut self) -> Option<&[CompletionName]> {
        if self.names.is_none() {
            let comp = self.compilation.as_ref()?;
            let vault = &comp.vault;
            let mut count: HashMap<String, usize> = HashMap::new();
            let note_names = vault.notes.iter().map(|n| fold_name(n.path.stem()));
            let file_names = vault
                .attachments
                .iter()
                .map(|a| fold_name(a.path.file_name()));
            for name in note_names.chain(file_names) {
                *count.entry(name).or_default() += 1;
            }
            let mut names = Vec::with_capacity(vault.notes.len() + vault.attachments.len());
            let mut add = |name: &str, path: &str, full: &str, note: bool| {
                let insert = match count.get(&fold_name(name)) {
                    Some(1) => name.to_string(),
                    _ => full.to_string(),
                };
                names.push(CompletionName {
                    folded: fold_name(&insert),
                    insert,
                    path: path.to_string(),
                    note,
                });
            };
            for n in &vault.notes {
                let path = n.path.as_str();
                add(
                    n.path.stem(),
                    path,
                    path.strip_suffix(".md").unwrap_or(path),
                    true,
                );
            }
            for a in &vault.attachments {
                add(a.path.file_name(), a.path.as_str(), a.path.as_str(), false);
            }
            self.names = Some(names);
        }
        self.names.as_deref()
    }

    /// textDocument/codeAction: the fixes `check --fix` would make in the range, while the
    /// document is as it was compiled (an edit since moves what they replace).
    fn code_actions(&mut self, params: lsp::CodeActionParams) -> Option<lsp::CodeActionResponse> {
        let path = self.vault_path(&params.text_document.uri)?;
        let comp = self.compilation.as_ref()?;
        let (text, lines) = comp.vault.source_text(&path)?;
        if self.open.get(&path).is_some_and(|open| open != text) {
            return Some(Vec::new());
        }
        let text = Text {
            text,
            lines: std::borrow::Cow::Borrowed(lines.as_ref()),
            encoding: self.encoding,
        };
        let wanted = text.offset(params.range.start)..text.offset(params.range.end);
        let uri = params.text_document.uri;
        let mut actions = Vec::new();
        let diagnostics = match self.live.get(&path) {
            Some(live) => live.as_slice(),
            None => &comp.diagnostics,
        };
        for d in diagnostics.iter().filter(|d| d.file == path) {
            let Some(fix) = &d.fix else { continue };
            let span = fix.span.range();
            if span.start > wanted.end || wanted.start > span.end {
                continue;
            }
            let edit = lsp::TextEdit::new(text.range(span), fix.replacement.clone());
            let title = match &d.help {
                Some(help) => format!("{}: {help}", d.code.as_str()),
                None => format!("fix {}", d.code.as_str()),
            };
            actions.push(lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
                title,
                kind: Some(lsp::CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![to_lsp_diagnostic(d, Some(&text))]),
                edit: Some(lsp::WorkspaceEdit::new(HashMap::from([(
                    uri.clone(),
                    vec![edit],
                )]))),
                is_preferred: Some(true),
                ..Default::default()
            }));
        }
        Some(actions)
    }
}

/// The text a fragment's range names: a heading's whole section (to the next heading of its
/// level or above), or the block.
fn section(note: &Note, range: std::ops::Range<usize>) -> String {
    let end = match note.headings.iter().position(|h| h.span.range() == range) {
        Some(i) => {
            let level = note.headings[i].level;
            note.headings[i + 1..]
                .iter()
                .find(|h| h.level <= level)
                .map_or(note.text.len(), |h| h.span.start as usize)
        }
        None => range.end,
    };
    note.text
        .get(range.start..end)
        .unwrap_or_default()
        .to_string()
}

/// The first lines of a preview (at most 20 lines or 2,000 bytes).
fn preview_of(text: &str) -> String {
    let mut end = text.len().min(2000);
    end = crate::source::floor_char_boundary(text, end);
    let mut cut = &text[..end];
    if let Some((i, _)) = cut.match_indices('\n').nth(19) {
        cut = &cut[..i];
    }
    let mut out = cut.trim().to_string();
    if cut.len() < text.trim_end().len() {
        out.push_str("\n\n…");
    }
    out
}

fn hover(value: String, range: Option<lsp::Range>) -> lsp::Hover {
    lsp::Hover {
        contents: lsp::HoverContents::Markup(lsp::MarkupContent {
            kind: lsp::MarkupKind::Markdown,
            value,
        }),
        range,
    }
}

/// Where the file name is in a wikilink's source (`[[name#fragment|label]]`, `![[...]]`, or a
/// property's `"[[...]]"`): after `[[`, up to the first `#`, `|` (or `\|` in a table) or `]]`.
fn wikilink_target(source: &str) -> Option<std::ops::Range<usize>> {
    let start = source.find("[[")? + 2;
    let rest = &source[start..];
    let mut end = rest.find(['#', '|']).unwrap_or(rest.len());
    end = end.min(rest.find("]]")?);
    if rest[..end].ends_with('\\') && rest[end..].starts_with('|') {
        end -= 1;
    }
    Some(start..start + end)
}

/// Where the path is in a markdown link's source (`[label](path#fragment "title")`,
/// `![alt](<path>)`): after the `(` that follows the label's closing `]`, up to its `#`, title
/// or end.
fn markdown_destination(source: &str) -> Option<std::ops::Range<usize>> {
    let open = source.find('[')?;
    let mut depth = 0usize;
    let mut close = None;
    let bytes = source.as_bytes();
    let mut i = open;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'[' => depth += 1,
            b']' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(i);
                    break;
                }
            }
            _ => {}
        }
        i += 1;
    }
    let close = close?;
    let rest = source.get(close + 1..)?.strip_prefix('(')?;
    let start = close + 2;
    let (start, body) = match rest.trim_start().strip_prefix('<') {
        Some(inner) => {
            let start = start + (rest.len() - inner.len());
            (start, &inner[..inner.find('>')?])
        }
        None => {
            let skipped = rest.len() - rest.trim_start().len();
            let body = rest.trim_start();
            let end = body
                .find(|c: char| c.is_whitespace() || c == ')')
                .unwrap_or(body.len());
            (start + skipped, &body[..end])
        }
    };
    let end = body.find('#').unwrap_or(body.len());
    Some(start..start + end)
}

/// The range of `fragment`'s heading or block in `note`, when it names one.
fn fragment_range(note: &Note, fragment: Option<&Fragment>) -> Option<std::ops::Range<usize>> {
    match resolve::resolve_fragment(note, fragment) {
        FragmentTarget::Heading(h) => Some(note.headings[h].span.range()),
        FragmentTarget::Block(b) => Some(note.blocks[b].span.range()),
        FragmentTarget::None | FragmentTarget::Missing => None,
    }
}

fn completion_item(
    text: &str,
    detail: Option<String>,
    kind: lsp::CompletionItemKind,
    range: lsp::Range,
) -> lsp::CompletionItem {
    lsp::CompletionItem {
        label: text.to_string(),
        kind: Some(kind),
        detail,
        filter_text: Some(text.to_string()),
        text_edit: Some(lsp::CompletionTextEdit::Edit(lsp::TextEdit::new(
            range,
            text.to_string(),
        ))),
        ..Default::default()
    }
}

/// A diagnostic as the editor shows it: its code, its message and help, at its range.
fn to_lsp_diagnostic(d: &Diagnostic, text: Option<&Text<'_>>) -> lsp::Diagnostic {
    let range = text.map_or_else(lsp::Range::default, |t| t.range(d.span.range()));
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    lsp::Diagnostic {
        range,
        severity: Some(match d.severity {
            Severity::Error => lsp::DiagnosticSeverity::ERROR,
            Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        }),
        code: Some(lsp::NumberOrString::String(d.code.as_str().to_string())),
        source: Some("vaultc".into()),
        message,
        ..Default::default()
    }
}

fn notify<N: lsp::notification::Notification>(connection: &Connection, params: N::Params) {
    let note = Notification::new(N::METHOD.to_string(), params);
    let _ = connection.sender.send(Message::Notification(note));
}

fn show_message(connection: &Connection, typ: lsp::MessageType, message: String) {
    notify::<lsp::notification::ShowMessage>(connection, lsp::ShowMessageParams { typ, message });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The name in a wikilink and the path in a markdown link, as a rename replaces them.
    #[test]
    fn where_a_link_names_its_file() {
        fn named(source: &str) -> Option<&str> {
            wikilink_target(source).map(|r| &source[r])
        }
        assert_eq!(named("[[Note]]"), Some("Note"));
        assert_eq!(named("![[a/Note#H|200]]"), Some("a/Note"));
        assert_eq!(named("[[Note\\|label]]"), Some("Note"));
        assert_eq!(named("\"[[Note|x]]\""), Some("Note"));
        assert_eq!(named("[[Note"), None);
        fn path(source: &str) -> Option<&str> {
            markdown_destination(source).map(|r| &source[r])
        }
        assert_eq!(path("[x](a/Note.md)"), Some("a/Note.md"));
        assert_eq!(path("[x [y] z](Note.md#H \"t\")"), Some("Note.md"));
        assert_eq!(path("![alt](<a b/img.png>)"), Some("a b/img.png"));
        assert_eq!(path("[a\\]b](N%20x.md#^id)"), Some("N%20x.md"));
        assert_eq!(path("[x]"), None);
    }

    /// Positions count UTF-16 units or bytes, and offsets come back from them; a position
    /// past a line's end is the line's end.
    #[test]
    fn positions_and_offsets_in_both_encodings() {
        let text = "a😀é [[x]]\nsecond\n";
        let link = text.find("[[").unwrap();
        let utf16 = Text::new(text, Encoding::Utf16);
        assert_eq!(utf16.position(link), lsp::Position::new(0, 5));
        assert_eq!(utf16.offset(lsp::Position::new(0, 5)), link);
        let utf8 = Text::new(text, Encoding::Utf8);
        assert_eq!(utf8.position(link), lsp::Position::new(0, link as u32));
        assert_eq!(utf8.offset(lsp::Position::new(0, link as u32)), link);
        let second = text.find("second").unwrap();
        assert_eq!(utf16.position(second + 2), lsp::Position::new(1, 2));
        assert_eq!(utf16.offset(lsp::Position::new(1, 99)), second + 6);
        assert_eq!(utf16.offset(lsp::Position::new(9, 0)), text.len());
        // Inside a character: the start of it.
        assert_eq!(utf8.position(2), lsp::Position::new(0, 1));
    }
}
