//! `serve`: the built site over HTTP, with live reload, and a watcher that says when the vault
//! changed. The rebuild itself is [`crate::build::build`], incremental as always: the binary
//! runs build → serve → (wait for a change → build → reload) until it is stopped.
//!
//! The server serves the output folder as it is on disk, so what a browser sees is exactly what
//! `vaultc build` writes. The one addition is a small script injected into HTML responses (never
//! into the files) that long-polls [`RELOAD_PATH`] and reloads the page after each rebuild.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use notify::event::{EventKind, MetadataKind, ModifyKind};
use notify::{RecommendedWatcher, RecursiveMode, Watcher};

use crate::error::{Error, Result};

/// The URL the live-reload script long-polls: `/__vaultc/reload?since=N` answers with the
/// site's generation as soon as it is greater than `N` (or after 25 s).
pub const RELOAD_PATH: &str = "/__vaultc/reload";

/// How long a live-reload request waits for a rebuild before it answers "nothing new".
const LONG_POLL: Duration = Duration::from_secs(25);

/// Threads answering requests for files; long polls get a thread of their own each.
const WORKERS: usize = 4;

/// The site's generation: bumped after each rebuild, waited on by live-reload requests.
#[derive(Default)]
struct Generation {
    value: Mutex<u64>,
    changed: Condvar,
}

impl Generation {
    fn get(&self) -> u64 {
        *self.value.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn bump(&self) -> u64 {
        let mut value = self.value.lock().unwrap_or_else(|e| e.into_inner());
        *value += 1;
        self.changed.notify_all();
        *value
    }

    /// The generation once it exceeds `since`, or the current one after `timeout`.
    fn wait_past(&self, since: u64, timeout: Duration) -> u64 {
        let value = self.value.lock().unwrap_or_else(|e| e.into_inner());
        let (value, _) = self
            .changed
            .wait_timeout_while(value, timeout, |v| *v <= since)
            .unwrap_or_else(|e| e.into_inner());
        *value
    }
}

/// An HTTP server for a site folder, with live reload. Stops when dropped.
pub struct SiteServer {
    server: Arc<tiny_http::Server>,
    addr: SocketAddr,
    generation: Arc<Generation>,
    workers: Vec<JoinHandle<()>>,
}

impl SiteServer {
    /// Listens on `addr` (port 0 picks a free port; see [`SiteServer::addr`]) and serves the
    /// files of `site` from a few worker threads.
    pub fn start(site: &Path, addr: SocketAddr) -> Result<SiteServer> {
        let server = tiny_http::Server::http(addr).map_err(|e| Error::Serve {
            addr,
            message: e.to_string(),
        })?;
        let addr = server.server_addr().to_ip().unwrap_or(addr);
        let server = Arc::new(server);
        let generation = Arc::new(Generation::default());
        // Canonical once, so each request canonicalizes only the file it asks for.
        let site = Arc::new(crate::output::absolute(site)?);
        let workers = (0..WORKERS)
            .map(|_| {
                let (server, generation, site) = (
                    Arc::clone(&server),
                    Arc::clone(&generation),
                    Arc::clone(&site),
                );
                std::thread::spawn(move || {
                    // `recv` fails only once the server is unblocked for shutdown.
                    while let Ok(request) = server.recv() {
                        answer(&site, &generation, request);
                    }
                })
            })
            .collect();
        Ok(SiteServer {
            server,
            addr,
            generation,
            workers,
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Tells every open page that the site changed (they reload). Returns the new generation.
    pub fn reload(&self) -> u64 {
        self.generation.bump()
    }
}

impl Drop for SiteServer {
    fn drop(&mut self) {
        for _ in &self.workers {
            self.server.unblock();
        }
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

/// What a request's path names in the site folder.
#[derive(Debug, PartialEq, Eq)]
pub enum SiteTarget {
    /// A file to send.
    File(PathBuf),
    /// A folder asked for without its trailing slash: redirect there, so that the page's
    /// relative links resolve from inside the folder.
    Redirect(String),
    /// Nothing there: answer 404 with the site's `404.html`.
    NotFound,
    /// A path that tries to leave the site (`..`, backslashes, NUL) or is not valid UTF-8.
    BadRequest,
}

/// Maps a request path (percent-encoded, with or without a query) to the file it names inside
/// `site` (a canonical path), never outside it: `..` is refused, and so is a symlink that leads
/// out.
pub fn site_target(site: &Path, url: &str) -> SiteTarget {
    let path = url.split(['?', '#']).next().unwrap_or("");
    let Ok(decoded) = percent_encoding::percent_decode_str(path).decode_utf8() else {
        return SiteTarget::BadRequest;
    };
    let rel = decoded.trim_start_matches('/');
    let candidate = if rel.is_empty() || rel.ends_with('/') {
        let folder = rel.trim_end_matches('/');
        let folder_path = if folder.is_empty() {
            Some(site.to_path_buf())
        } else {
            crate::output::safe_join(site, folder)
        };
        match folder_path {
            Some(p) => p.join("index.html"),
            None => return SiteTarget::BadRequest,
        }
    } else {
        match crate::output::safe_join(site, rel) {
            Some(p) => p,
            None => return SiteTarget::BadRequest,
        }
    };
    if !inside(site, &candidate) {
        return SiteTarget::NotFound;
    }
    if candidate.is_dir() {
        return if candidate.join("index.html").is_file() {
            SiteTarget::Redirect(format!("{path}/"))
        } else {
            SiteTarget::NotFound
        };
    }
    if candidate.is_file() {
        SiteTarget::File(candidate)
    } else {
        SiteTarget::NotFound
    }
}

/// Whether `path` (which exists or not) stays inside `site` once symlinks are followed.
/// `site` is canonical already (see [`site_target`]).
fn inside(site: &Path, path: &Path) -> bool {
    // A missing file is reported as missing by the caller.
    path.canonicalize()
        .map_or(true, |path| path.starts_with(site))
}

/// The live-reload script, for a page served at `generation`.
fn reload_script(generation: u64) -> String {
    format!(
        "<script>/* vaultc serve: live reload */(function(){{var g={generation};\
function poll(){{fetch('{RELOAD_PATH}?since='+g,{{cache:'no-store'}})\
.then(function(r){{return r.json()}})\
.then(function(d){{if(d.generation>g){{location.reload()}}else{{poll()}}}})\
.catch(function(){{setTimeout(poll,1000)}})}}poll()}})();</script>"
    )
}

/// `html` with the live-reload script before its last `</body>` (or at its end).
pub fn inject_reload(html: &[u8], generation: u64) -> Vec<u8> {
    let script = reload_script(generation);
    let at = memchr::memmem::rfind(html, b"</body>").unwrap_or(html.len());
    let mut out = Vec::with_capacity(html.len() + script.len());
    out.extend_from_slice(&html[..at]);
    out.extend_from_slice(script.as_bytes());
    out.extend_from_slice(&html[at..]);
    out
}

fn header(name: &str, value: &str) -> tiny_http::Header {
    tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes())
        .expect("header names and values here are ASCII")
}

/// Answers one request. Failures to send are the client's business (it went away).
fn answer(site: &Path, generation: &Arc<Generation>, request: tiny_http::Request) {
    use tiny_http::{Method, Response};
    if !matches!(request.method(), Method::Get | Method::Head) {
        let _ = request.respond(
            Response::from_string("only GET and HEAD\n")
                .with_status_code(405)
                .with_header(header("Allow", "GET, HEAD")),
        );
        return;
    }
    let url = request.url().to_string();
    if url == RELOAD_PATH || url.starts_with(&format!("{RELOAD_PATH}?")) {
        let since = url
            .split_once("since=")
            .and_then(|(_, v)| v.split('&').next()?.parse::<u64>().ok())
            .unwrap_or(0);
        let generation = Arc::clone(generation);
        // A long poll holds its connection for up to LONG_POLL: it must not hold a worker.
        std::thread::spawn(move || {
            let now = generation.wait_past(since, LONG_POLL);
            let _ = request.respond(
                Response::from_string(format!("{{\"generation\":{now}}}"))
                    .with_header(header("Content-Type", "application/json"))
                    .with_header(header("Cache-Control", "no-store")),
            );
        });
        return;
    }
    let (status, file) = match site_target(site, &url) {
        SiteTarget::File(file) => (200, file),
        SiteTarget::Redirect(to) => {
            let _ = request.respond(
                Response::empty(301)
                    .with_header(header("Location", &to))
                    .with_header(header("Cache-Control", "no-store")),
            );
            return;
        }
        SiteTarget::NotFound => (404, site.join("404.html")),
        SiteTarget::BadRequest => {
            let _ = request.respond(Response::from_string("bad path\n").with_status_code(400));
            return;
        }
    };
    let bytes = match std::fs::read(&file) {
        Ok(bytes) => bytes,
        // No 404.html, or the file went away in a rebuild's swap: plain 404.
        Err(_) => {
            let _ = request.respond(Response::from_string("not found\n").with_status_code(404));
            return;
        }
    };
    let mime = mime_guess::from_path(&file).first_or_octet_stream();
    let is_html = mime.essence_str() == "text/html";
    let (bytes, content_type) = if is_html {
        (
            inject_reload(&bytes, generation.get()),
            "text/html; charset=utf-8".to_string(),
        )
    } else if mime.type_() == mime_guess::mime::TEXT || mime.subtype() == "javascript" {
        (bytes, format!("{}; charset=utf-8", mime.essence_str()))
    } else {
        (bytes, mime.essence_str().to_string())
    };
    let _ = request.respond(
        Response::from_data(bytes)
            .with_status_code(status)
            .with_header(header("Content-Type", &content_type))
            .with_header(header("Cache-Control", "no-cache")),
    );
}

/// Watches a vault (and a theme folder) for changes that can change the site.
pub struct VaultWatcher {
    /// Does not follow symlinks: the ones discovery follows are watched one by one
    /// (`links`), so a link Obsidian ignores (`up -> ..`) never has the disk around the
    /// vault watched, and its events never start a build.
    watcher: std::sync::Mutex<RecommendedWatcher>,
    /// The symlinks of the vault discovery follows: their targets are watched, and their
    /// events reported through the link, as discovery names the files.
    links: std::sync::Mutex<FollowedLinks>,
    /// Discovery follows no link out of the vault (`--no-external-symlinks`).
    no_external_symlinks: bool,
    events: Receiver<notify::Result<notify::Event>>,
    debounce: Duration,
    root: PathBuf,
    /// The other folders watched (a theme), canonical.
    extra: Vec<PathBuf>,
    ignore: Vec<PathBuf>,
}

/// The files that changed since the last [`VaultWatcher::next_change`], sorted.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// Absolute paths, as the operating system reported them.
    pub paths: Vec<PathBuf>,
}

impl VaultWatcher {
    /// Starts watching `root` and `extra` folders (a theme) recursively. Changes under
    /// `ignore` (the output folder) and in dot-folders and dotfiles of the vault (what
    /// discovery skips: `.git`, `.obsidian/workspace.json`) are not reported, except the
    /// Obsidian settings discovery reads ([`crate::settings::SETTINGS_FILES`]). Events quieter
    /// than `debounce` apart are reported together.
    pub fn start(
        root: &Path,
        extra: &[PathBuf],
        ignore: Vec<PathBuf>,
        debounce: Duration,
    ) -> Result<VaultWatcher> {
        let root = root
            .canonicalize()
            .map_err(|e| Error::io("watching", root, e))?;
        let (tx, events) = std::sync::mpsc::channel();
        let mut watcher =
            RecommendedWatcher::new(tx, notify::Config::default().with_follow_symlinks(false))
                .map_err(|e| Error::Watch {
                    path: root.clone(),
                    message: e.to_string(),
                })?;
        let extra: Vec<PathBuf> = extra
            .iter()
            .map(|dir| {
                dir.canonicalize()
                    .map_err(|e| Error::io("watching", dir, e))
            })
            .collect::<Result<_>>()?;
        // A theme folder inside the vault is watched with it.
        let outside = extra.iter().filter(|dir| !dir.starts_with(&root));
        for dir in std::iter::once(&root).chain(outside) {
            watcher
                .watch(dir, RecursiveMode::Recursive)
                .map_err(|e| Error::Watch {
                    path: dir.clone(),
                    message: watch_error(&e),
                })?;
        }
        let ignore = ignore
            .into_iter()
            .map(|p| p.canonicalize().unwrap_or(p))
            .collect();
        let watcher = VaultWatcher {
            watcher: std::sync::Mutex::new(watcher),
            links: std::sync::Mutex::new(FollowedLinks::default()),
            no_external_symlinks: false,
            events,
            debounce,
            root,
            extra,
            ignore,
        };
        watcher.watch_links();
        Ok(watcher)
    }

    /// Watches only the links discovery follows with `--no-external-symlinks` (none out of
    /// the vault).
    pub fn without_external_symlinks(mut self) -> Self {
        self.no_external_symlinks = true;
        self.watch_links();
        self
    }

    /// Whether a change at `path` can change the site.
    pub fn matters(&self, path: &Path) -> bool {
        if self.ignore.iter().any(|dir| path.starts_with(dir)) {
            return false;
        }
        // Dot-names count only below the watched folder: a theme in `~/.config/`, or in the
        // vault's `.theme/`, is watched.
        if let Some(rel) = self
            .extra
            .iter()
            .find_map(|dir| path.strip_prefix(dir).ok())
        {
            return !crate::discover::is_hidden(rel);
        }
        if let Ok(rel) = path.strip_prefix(&self.root) {
            return crate::settings::is_settings_file(rel) || !crate::discover::is_hidden(rel);
        }
        // Outside every watched folder and not under a followed link's target: another file
        // of a folder watched for a file target does not matter; anything else (a link that
        // moved since its target was watched) may.
        !self
            .links
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .beside_a_file_target(path)
    }

    /// Blocks until something that matters changed, then until no event came for the
    /// debounce time, and returns every path seen (an editor's save of several events, or a
    /// `git checkout` of many files, becomes one rebuild). `Err` when the watcher died.
    pub fn next_change(&self) -> Result<Changes> {
        let mut paths = Vec::new();
        loop {
            let event = if paths.is_empty() {
                self.events
                    .recv()
                    .map_err(|_| self.died("the watcher stopped"))?
            } else {
                match self.events.recv_timeout(self.debounce) {
                    Ok(event) => event,
                    Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
                }
            };
            match event {
                Ok(event) if changes_content(&event.kind) => paths.extend(
                    event
                        .paths
                        .into_iter()
                        .map(|p| self.through_link(p))
                        .filter(|p| self.matters(p)),
                ),
                Ok(_) => {}
                // The OS dropped events (a queue overflow): something changed, somewhere.
                Err(_) => paths.push(self.root.clone()),
            }
        }
        paths.sort();
        paths.dedup();
        let links_moved = {
            let links = self.links.lock().unwrap_or_else(|e| e.into_inner());
            paths
                .iter()
                .any(|p| links.under(p) || p.symlink_metadata().is_ok_and(|m| m.is_symlink()))
        };
        if links_moved {
            self.watch_links();
        }
        Ok(Changes { paths })
    }

    /// Watches the symlinks discovery follows now, and stops watching the ones it no longer
    /// follows. A link that cannot be watched is left out: discovery reports what is wrong
    /// with it, and a save under it is found by the session's sweep of note stamps.
    fn watch_links(&self) {
        use notify::Watcher as _;
        let covered: Vec<&Path> = std::iter::once(self.root.as_path())
            .chain(self.extra.iter().map(PathBuf::as_path))
            .collect();
        let now = FollowedLinks::new(
            crate::discover::followed_symlinks(&self.root, &self.ignore, self.no_external_symlinks),
            &covered,
        );
        let mut links = self.links.lock().unwrap_or_else(|e| e.into_inner());
        let mut watcher = self.watcher.lock().unwrap_or_else(|e| e.into_inner());
        for path in links.watched.difference(&now.watched) {
            let _ = watcher.unwatch(&path.0);
        }
        for (path, recursive) in now.watched.difference(&links.watched) {
            let mode = match recursive {
                true => RecursiveMode::Recursive,
                false => RecursiveMode::NonRecursive,
            };
            let _ = watcher.watch(path, mode);
        }
        *links = now;
    }

    /// `path` as discovery names it: a path under a followed link's target becomes the same
    /// path under the link.
    fn through_link(&self, path: PathBuf) -> PathBuf {
        let links = self.links.lock().unwrap_or_else(|e| e.into_inner());
        // Targets are disjoint: at most one holds the path, and it is one of its ancestors.
        let through = path.ancestors().find_map(|target| {
            let link = links.by_target.get(target)?;
            let rel = path.strip_prefix(target).ok()?;
            // A file link's own target: the link itself (`join("")` would add a `/`).
            Some(if rel.as_os_str().is_empty() {
                link.clone()
            } else {
                link.join(rel)
            })
        });
        through.unwrap_or(path)
    }

    fn died(&self, message: &str) -> Error {
        Error::Watch {
            path: self.root.clone(),
            message: message.to_string(),
        }
    }
}

/// The symlinks discovery follows, looked up both ways: an event's path finds the target
/// holding it among its ancestors, and a changed path the links under it by a range, so a
/// vault of thousands of links costs a few lookups per event.
#[derive(Debug, Default)]
struct FollowedLinks {
    /// Target (canonical) -> the link's path in the vault.
    by_target: std::collections::BTreeMap<PathBuf, PathBuf>,
    /// The links' paths in the vault.
    links: std::collections::BTreeSet<PathBuf>,
    /// What the watcher watches for them, and whether recursively: a folder target itself;
    /// for a file target, the folder holding it, so that a save that replaces the file (an
    /// editor writing a new file and renaming it over the old) is seen, and so is every
    /// later one (a watch on the file itself stays with the file replaced). Nothing for a
    /// target that the vault's or the theme's own watch already covers (a link into a
    /// dot-folder of the vault): watching it again, and later unwatching it, would take that
    /// folder from the recursive watch.
    watched: std::collections::BTreeSet<(PathBuf, bool)>,
}

impl FollowedLinks {
    /// From [`crate::discover::followed_symlinks`]' `(link, target)` pairs; `covered` are the
    /// folders watched recursively on their own (the vault, a theme).
    fn new(pairs: Vec<(PathBuf, PathBuf)>, covered: &[&Path]) -> Self {
        let links = pairs.iter().map(|(link, _)| link.clone()).collect();
        let mut watched = std::collections::BTreeSet::new();
        for (_, target) in &pairs {
            if covered.iter().any(|dir| target.starts_with(dir)) {
                continue;
            }
            match (target.is_dir(), target.parent()) {
                (true, _) => {
                    watched.insert((target.clone(), true));
                }
                (false, Some(folder)) => {
                    watched.insert((folder.to_path_buf(), false));
                }
                (false, None) => {}
            }
        }
        let by_target = pairs
            .into_iter()
            .map(|(link, target)| (target, link))
            .collect();
        FollowedLinks {
            by_target,
            links,
            watched,
        }
    }

    /// Whether a link is at `path` or below it (paths sort by component, so the links below
    /// `path` come right after it).
    fn under(&self, path: &Path) -> bool {
        self.links
            .range::<Path, _>((std::ops::Bound::Included(path), std::ops::Bound::Unbounded))
            .next()
            .is_some_and(|link| link.starts_with(path))
    }

    /// Whether `path` (not a link's target) is a file beside a file target, in a folder
    /// watched (not recursively) only for that target.
    fn beside_a_file_target(&self, path: &Path) -> bool {
        path.parent()
            .is_some_and(|folder| self.watched.contains(&(folder.to_path_buf(), false)))
    }
}

/// A watcher error in words, with the fix when it is the operating system's watch limit.
fn watch_error(e: &notify::Error) -> String {
    match e.kind {
        notify::ErrorKind::MaxFilesWatch => format!(
            "{e}: the vault has more folders than the system lets one user watch; raise the \
             limit (Linux: `sudo sysctl fs.inotify.max_user_watches=524288`) and start again"
        ),
        _ => e.to_string(),
    }
}

/// Whether an event can change what a build reads: not a read (`open`, `close` without
/// writing, access times), which the build's own reading of every note causes.
fn changes_content(kind: &EventKind) -> bool {
    !matches!(
        kind,
        EventKind::Access(_) | EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A site folder (`path()` canonical, as `site_target` wants it).
    fn site() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("notes/a b")).unwrap();
        std::fs::write(
            dir.path().join("index.html"),
            "<html><body>home</body></html>",
        )
        .unwrap();
        std::fs::write(dir.path().join("notes/a b/index.html"), "<body>ab</body>").unwrap();
        std::fs::write(dir.path().join("notes/x.png"), b"png").unwrap();
        std::fs::create_dir_all(dir.path().join("empty")).unwrap();
        dir
    }

    #[test]
    fn request_paths_map_to_files_inside_the_site_only() {
        let dir = site();
        let s = &dir.path().canonicalize().unwrap();
        assert_eq!(site_target(s, "/"), SiteTarget::File(s.join("index.html")));
        assert_eq!(
            site_target(s, "/?x=1"),
            SiteTarget::File(s.join("index.html"))
        );
        assert_eq!(
            site_target(s, "/notes/a%20b/"),
            SiteTarget::File(s.join("notes/a b/index.html"))
        );
        assert_eq!(
            site_target(s, "/notes/a%20b"),
            SiteTarget::Redirect("/notes/a%20b/".into())
        );
        assert_eq!(
            site_target(s, "/notes/x.png#top"),
            SiteTarget::File(s.join("notes/x.png"))
        );
        assert_eq!(site_target(s, "/empty"), SiteTarget::NotFound);
        assert_eq!(site_target(s, "/missing.html"), SiteTarget::NotFound);
        for bad in [
            "/../etc/passwd",
            "/notes/%2e%2e/%2e%2e/etc/passwd",
            "/notes/..%2f..%2fsecret",
            "/a%5cb",
            "/a%00b",
            "/%ff",
        ] {
            assert_eq!(site_target(s, bad), SiteTarget::BadRequest, "{bad}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_out_of_the_site_is_not_followed() {
        let dir = site();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.txt"), "secret").unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("link")).unwrap();
        assert_eq!(
            site_target(&dir.path().canonicalize().unwrap(), "/link/secret.txt"),
            SiteTarget::NotFound
        );
    }

    /// The links a watcher follows, in order.
    #[cfg(unix)]
    fn followed_links(watcher: &VaultWatcher) -> Vec<PathBuf> {
        watcher
            .links
            .lock()
            .unwrap()
            .links
            .iter()
            .cloned()
            .collect()
    }

    /// Events under a followed link's target are named through the link, as discovery
    /// names the files; a link discovery ignores is not watched; other paths are kept.
    #[cfg(unix)]
    #[test]
    fn events_behind_followed_links_are_named_through_the_link() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path().canonicalize().unwrap();
        let (vault, ext) = (dir.join("vault"), dir.join("ext"));
        std::fs::create_dir_all(vault.join("notes")).unwrap();
        std::fs::create_dir_all(ext.join("d")).unwrap();
        std::fs::write(ext.join("f.md"), "# F").unwrap();
        std::os::unix::fs::symlink(ext.join("d"), vault.join("d")).unwrap();
        std::os::unix::fs::symlink(ext.join("f.md"), vault.join("f.md")).unwrap();
        std::os::unix::fs::symlink(vault.join("notes"), vault.join("mirror")).unwrap();
        std::fs::create_dir_all(vault.join(".hidden")).unwrap();
        std::fs::write(vault.join(".hidden/h.md"), "# H").unwrap();
        std::os::unix::fs::symlink(vault.join(".hidden/h.md"), vault.join("h.md")).unwrap();
        let watcher =
            VaultWatcher::start(&vault, &[], Vec::new(), Duration::from_millis(10)).unwrap();
        assert_eq!(
            followed_links(&watcher),
            [vault.join("d"), vault.join("f.md"), vault.join("h.md")]
        );
        let followed = watcher.links.lock().unwrap();
        assert!(followed.under(&vault) && followed.under(&vault.join("d")));
        assert!(!followed.under(&vault.join("notes")) && !followed.under(&vault.join("d2")));
        drop(followed);
        assert_eq!(
            watcher.through_link(ext.join("d/x.md")),
            vault.join("d/x.md")
        );
        assert_eq!(
            watcher.through_link(ext.join("f.md")).as_os_str(),
            vault.join("f.md").as_os_str(),
            "a file link's target is the link, without a trailing `/`"
        );
        assert_eq!(
            watcher.through_link(ext.join("other.md")),
            ext.join("other.md")
        );
        assert_eq!(
            watcher.through_link(vault.join("notes/a.md")),
            vault.join("notes/a.md")
        );
        // The folder target is watched, and for the file target the folder holding it, whose
        // other files are not the vault's; `mirror` (into the vault) is not followed, and
        // `h.md`'s target is under the vault's own watch, so nothing is added for it.
        let watched = watcher.links.lock().unwrap().watched.clone();
        assert_eq!(
            watched.into_iter().collect::<Vec<_>>(),
            [(ext.clone(), false), (ext.join("d"), true)]
        );
        assert!(!watcher.matters(&ext.join("other.md")));
        assert!(watcher.matters(&watcher.through_link(ext.join("f.md"))));
        // `--no-external-symlinks`: discovery follows neither link out of the vault, so neither is
        // watched.
        let refusing = VaultWatcher::start(&vault, &[], Vec::new(), Duration::from_millis(10))
            .unwrap()
            .without_external_symlinks();
        assert_eq!(
            followed_links(&refusing),
            [vault.join("h.md")],
            "only the link inside the vault"
        );
        assert!(refusing.links.lock().unwrap().watched.is_empty());
        assert_eq!(
            refusing.through_link(ext.join("d/x.md")),
            ext.join("d/x.md")
        );
    }

    #[test]
    fn the_watcher_reports_what_discovery_reads_and_nothing_else() {
        let vault = tempfile::tempdir().unwrap();
        let theme = tempfile::tempdir().unwrap();
        let root = vault.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("site")).unwrap();
        let watcher = VaultWatcher::start(
            &root,
            &[theme.path().canonicalize().unwrap()],
            vec![root.join("site")],
            Duration::from_millis(10),
        )
        .unwrap();
        let theme_root = theme.path().canonicalize().unwrap();
        for yes in [
            root.join("Note.md"),
            root.join("folder/pic.png"),
            root.join("vaultc.toml"),
            root.join(".obsidian/app.json"),
            root.join(".obsidian/templates.json"),
            root.join(".obsidian/plugins/templater-obsidian/data.json"),
            // A config folder named by `obsidian_config` (the watcher does not know which).
            root.join(".obsidian.desktop/app.json"),
            theme_root.join("templates/note.html"),
        ] {
            assert!(watcher.matters(&yes), "{}", yes.display());
        }
        for no in [
            root.join("site/index.html"),
            root.join(".git/index"),
            root.join(".obsidian/workspace.json"),
            root.join("folder/.note.md.swp"),
            theme_root.join(".DS_Store"),
        ] {
            assert!(!watcher.matters(&no), "{}", no.display());
        }
    }

    /// A theme folder in the vault's own dot-folder (`.theme/`) is watched as a theme: its
    /// files matter, though discovery skips dot-folders; the rest of the dot-folder does not.
    #[test]
    fn a_theme_inside_the_vault_is_watched_as_a_theme() {
        let vault = tempfile::tempdir().unwrap();
        let root = vault.path().canonicalize().unwrap();
        let theme = root.join(".vaultc/theme");
        std::fs::create_dir_all(theme.join("templates")).unwrap();
        let watcher = VaultWatcher::start(
            &root,
            std::slice::from_ref(&theme),
            Vec::new(),
            Duration::from_millis(10),
        )
        .unwrap();
        assert!(watcher.matters(&theme.join("templates/note.html")));
        assert!(watcher.matters(&root.join("Note.md")));
        assert!(!watcher.matters(&theme.join(".DS_Store")));
        assert!(!watcher.matters(&root.join(".vaultc/other.txt")));
    }

    #[test]
    fn the_reload_script_goes_before_the_last_body_end() {
        let page = b"<html><body><p>&lt;/body&gt;</p></body></html>";
        let out = String::from_utf8(inject_reload(page, 7)).unwrap();
        let script = out.find("<script>").unwrap();
        assert!(out.ends_with("</script></body></html>"), "{out}");
        assert!(out[script..].contains("var g=7;"), "{out}");
        assert!(out[..script].ends_with("<p>&lt;/body&gt;</p>"), "{out}");
        let bare = String::from_utf8(inject_reload(b"no body", 0)).unwrap();
        assert!(bare.starts_with("no body<script>"), "{bare}");
    }

    #[test]
    fn a_long_poll_returns_on_the_next_generation_or_times_out() {
        let generation = Arc::new(Generation::default());
        assert_eq!(generation.wait_past(0, Duration::from_millis(20)), 0);
        let waiter = {
            let generation = Arc::clone(&generation);
            std::thread::spawn(move || generation.wait_past(0, Duration::from_secs(20)))
        };
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(generation.bump(), 1);
        assert_eq!(waiter.join().unwrap(), 1);
        // Already past: answers at once.
        assert_eq!(generation.wait_past(0, Duration::from_secs(20)), 1);
    }
}
