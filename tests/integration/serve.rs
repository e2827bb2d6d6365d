//! `vaultc serve`: the real binary, a real HTTP server on a free port, real file edits.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use crate::support::{copy_dir, fixture};

/// A running `vaultc serve`, killed when dropped; its stderr lines arrive on `lines`.
struct Served {
    child: Child,
    url: String,
    lines: Receiver<String>,
    log: Vec<String>,
    site: PathBuf,
    dir: tempfile::TempDir,
    vault: PathBuf,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    fn start(fixture_name: &str) -> Served {
        Served::start_with(fixture_name, |_| Vec::new())
    }

    /// Starts on a copy of the fixture, with the extra arguments `args` makes from the
    /// temporary folder (for example a theme written there).
    fn start_with(fixture_name: &str, args: impl FnOnce(&Path) -> Vec<String>) -> Served {
        let dir = tempfile::tempdir().unwrap();
        let vault = dir.path().join("vault");
        copy_dir(&fixture(fixture_name), &vault);
        let site = dir.path().join("site");
        let extra = args(dir.path());
        let mut child = Command::new(env!("CARGO_BIN_EXE_vaultc"))
            .args(["serve", "--port", "0", "-o"])
            .arg(&site)
            .args(&extra)
            .arg(&vault)
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut served = Served {
            child,
            url: String::new(),
            lines,
            log: Vec::new(),
            site,
            dir,
            vault,
        };
        let line = served.wait_for_line("serving ");
        let start = line.find("http://").expect("the address is printed");
        served.url = line[start..]
            .split_whitespace()
            .next()
            .unwrap()
            .trim_end_matches('/')
            .to_string();
        served
    }

    /// Waits until the server has said nothing for half a second (a watcher may report one
    /// change in two batches, and the second rebuild must be over before the site is read).
    fn settle(&mut self) {
        while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(500)) {
            self.log.push(line);
        }
    }

    /// How many builds the server has reported so far (its `built ...` lines in `log`).
    fn builds(&self) -> usize {
        self.log.iter().filter(|l| l.starts_with("built ")).count()
    }

    /// The next stderr line containing `needle` (earlier lines are kept in `log`).
    fn wait_for_line(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.log.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no line with {needle:?} from vaultc serve; it said:\n{}",
                    self.log.join("\n")
                ),
            }
        }
    }

    fn agent() -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into()
    }

    /// (status, content type, location, body) of a GET.
    fn get(&self, path: &str) -> (u16, String, String, String) {
        let mut response = Served::agent()
            .get(&format!("{}{path}", self.url))
            .call()
            .unwrap();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default()
        };
        let (ctype, location) = (header("content-type"), header("location"));
        let body = response.body_mut().read_to_string().unwrap();
        (response.status().as_u16(), ctype, location, body)
    }
}

/// The page as served, without the live-reload script the server adds.
fn without_reload_script(body: &str) -> String {
    let start = body
        .find("<script>/* vaultc serve")
        .expect("the script is injected");
    let end = start + body[start..].find("</script>").unwrap() + "</script>".len();
    format!("{}{}", &body[..start], &body[end..])
}

fn raw_status(url: &str, request_line: &str) -> String {
    let addr = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "{request_line}\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.lines().next().unwrap_or("").to_string()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn serve_serves_the_built_files_with_live_reload_and_nothing_outside_the_site() {
    let served = Served::start("build-basic");
    // The home page: the file `build` wrote, plus the reload script.
    let (status, ctype, _, body) = served.get("/");
    assert_eq!(status, 200);
    assert_eq!(ctype, "text/html; charset=utf-8");
    assert_eq!(
        without_reload_script(&body),
        read(&served.site.join("index.html"))
    );
    assert!(body.contains("var g=0;"), "first generation is 0");
    // A note page by its folder URL, and the redirect that adds the slash.
    let (status, _, _, body) = served.get("/concepts/alpha/");
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        without_reload_script(&body),
        read(&served.site.join("concepts/alpha/index.html"))
    );
    let (status, _, location, _) = served.get("/concepts/alpha");
    assert_eq!((status, location.as_str()), (301, "/concepts/alpha/"));
    // Assets with their types; a missing page gets the site's 404 page.
    let (status, ctype, _, css) = served.get("/static/style.css");
    assert_eq!((status, ctype.as_str()), (200, "text/css; charset=utf-8"));
    assert_eq!(css, read(&served.site.join("static/style.css")));
    let (status, _, _, body) = served.get("/no/such/page/");
    assert_eq!(status, 404);
    assert_eq!(
        without_reload_script(&body),
        read(&served.site.join("404.html"))
    );
    // Nothing outside the site, whatever the spelling; only GET and HEAD.
    for path in ["/../vault/Home.md", "/%2e%2e/vault/Home.md", "/a%5c..%5cb"] {
        assert_eq!(
            raw_status(&served.url, &format!("GET {path} HTTP/1.1")),
            "HTTP/1.1 400 Bad Request",
            "{path}"
        );
    }
    assert!(
        raw_status(&served.url, "POST / HTTP/1.1").starts_with("HTTP/1.1 405"),
        "POST is refused"
    );
}

#[test]
fn a_save_rebuilds_the_site_and_wakes_the_open_pages() {
    let mut served = Served::start("build-basic");
    let url = served.url.clone();
    // An open page's long poll, waiting for the next generation.
    let poll = std::thread::spawn(move || {
        Served::agent()
            .get(&format!("{url}/__vaultc/reload?since=0"))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap()
    });
    std::thread::sleep(Duration::from_millis(200));
    let note = served.vault.join("Concepts/Alpha.md");
    let mut text = read(&note);
    text.push_str("\nNew line that links [[Nowhere Yet]].\n");
    std::fs::write(&note, &text).unwrap();
    // A new link (to a missing note) is rebuilt by dependency tracking too: the graph is
    // built again, and the wanted page and the index follow.
    let built = served.wait_for_line("built ");
    assert!(built.contains("changed notes only"), "{built}");
    assert!(built.contains("1 notes parsed"), "{built}");
    // The rebuild reports the new broken link with its place.
    assert!(
        served
            .log
            .iter()
            .any(|l| l.contains("Concepts/Alpha.md:") && l.contains("broken-link")),
        "{:#?}",
        served.log
    );
    assert_eq!(poll.join().unwrap(), "{\"generation\":1}");
    let (status, _, _, body) = served.get("/concepts/alpha/");
    assert_eq!(status, 200);
    assert!(
        body.contains("New line that links"),
        "the served page is new"
    );
    assert!(body.contains("var g=1;"), "pages now carry generation 1");
    // What is served is what a plain build writes.
    let fresh = served.dir.path().join("fresh");
    crate::support::vaultc()
        .args(["build", "-o"])
        .arg(&fresh)
        .arg(&served.vault)
        .output()
        .unwrap();
    assert_eq!(
        without_reload_script(&body),
        read(&fresh.join("concepts/alpha/index.html"))
    );
    for page in ["/wanted/", "/"] {
        let (_, _, _, served_page) = served.get(page);
        assert_eq!(
            without_reload_script(&served_page),
            read(&fresh.join(page.trim_start_matches('/')).join("index.html")),
            "{page}"
        );
    }
    // Typing that moves no link is rebuilt by dependency tracking, and the summary says so.
    text.push_str("\nJust more words.\n");
    std::fs::write(&note, &text).unwrap();
    let built = served.wait_for_line("built ");
    assert!(built.contains("changed notes only"), "{built}");
    assert!(built.contains("1 notes parsed"), "{built}");
    let (_, _, _, body) = served.get("/concepts/alpha/");
    assert!(body.contains("Just more words."), "the served page is new");
    assert!(body.contains("var g=2;"), "pages now carry generation 2");
    // A change in a dot-folder (Obsidian's workspace file) does not rebuild.
    std::fs::create_dir_all(served.vault.join(".obsidian")).unwrap();
    std::fs::write(served.vault.join(".obsidian/workspace.json"), "{}").unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let (_, _, _, body) = served.get("/concepts/alpha/");
    assert!(
        body.contains("var g=2;"),
        "no rebuild for .obsidian/workspace.json"
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_the_server_cleanly() {
    let mut served = Served::start("build-basic");
    let status = Command::new("kill")
        .args(["-INT", &served.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let code = loop {
        if let Some(status) = served.child.try_wait().unwrap() {
            break status.code();
        }
        assert!(Instant::now() < deadline, "vaultc serve did not stop");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(code, Some(0), "Ctrl-C is a normal stop");
    let parent = served.site.parent().unwrap();
    let litter: Vec<_> = std::fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("vaultc-staging") || n.contains("vaultc-old"))
        .collect();
    assert!(litter.is_empty(), "{litter:?}");
    assert!(served.site.join("index.html").is_file(), "the site stays");
}

#[test]
fn a_failed_rebuild_keeps_the_site_served_and_the_next_save_recovers() {
    let mut served = Served::start("build-basic");
    let (_, _, _, before) = served.get("/concepts/alpha/");
    std::fs::write(served.vault.join("vaultc.toml"), "no_such_key = true\n").unwrap();
    let error = served.wait_for_line("error: cannot rebuild");
    assert!(
        error.contains("vaultc.toml"),
        "the error names the file: {error}"
    );
    let (status, _, _, during) = served.get("/concepts/alpha/");
    assert_eq!(status, 200);
    assert_eq!(
        during, before,
        "the previous site is still served, unreloaded"
    );
    std::fs::remove_file(served.vault.join("vaultc.toml")).unwrap();
    let built = served.wait_for_line("built ");
    assert!(built.contains("incremental"), "{built}");
    let (_, _, _, after) = served.get("/concepts/alpha/");
    assert!(
        after.contains("var g=1;"),
        "rebuilt and reloaded once the file is mended"
    );
}

#[test]
fn a_theme_change_rebuilds_with_the_new_template() {
    let mut served = Served::start_with("build-basic", |dir| {
        // A theme inside a dot-folder, as under ~/.config: it must be watched all the same.
        let theme = dir.join(".config/theme");
        std::fs::create_dir_all(theme.join("static")).unwrap();
        std::fs::write(theme.join("static/extra.css"), "a { color: red; }\n").unwrap();
        vec!["--theme".into(), theme.to_string_lossy().into_owned()]
    });
    let theme = served.dir.path().join(".config/theme");
    assert_eq!(
        served.get("/static/extra.css").3,
        "a { color: red; }\n",
        "the theme's file is served"
    );
    std::fs::write(theme.join("static/extra.css"), "a { color: blue; }\n").unwrap();
    served.wait_for_line("built ");
    assert_eq!(served.get("/static/extra.css").3, "a { color: blue; }\n");
}

/// A theme named by the vault's `vaultc.toml` (`[site] theme`), in a dot-folder of the vault,
/// is served and watched as `--theme` would be: a save to it rebuilds with the new file.
#[test]
fn a_theme_named_by_the_configuration_is_watched() {
    let mut served = Served::start_with("build-basic", |dir| {
        let vault = dir.join("vault");
        let theme = vault.join(".theme");
        std::fs::create_dir_all(theme.join("static")).unwrap();
        std::fs::write(theme.join("static/extra.css"), "a { color: red; }\n").unwrap();
        std::fs::write(vault.join("vaultc.toml"), "[site]\ntheme = \".theme\"\n").unwrap();
        Vec::new()
    });
    assert_eq!(served.get("/static/extra.css").3, "a { color: red; }\n");
    let theme = served.vault.join(".theme");
    std::fs::write(theme.join("static/extra.css"), "a { color: blue; }\n").unwrap();
    served.wait_for_line("built ");
    assert_eq!(served.get("/static/extra.css").3, "a { color: blue; }\n");
}

/// Notes that come and go under `serve` change names, so they are built as a whole vault from
/// the notes the server holds (without a walk when the watcher's paths place every file, with
/// only the links a name can reach resolved again, trusting the pages it wrote): each time the
/// site must be the one a plain build writes.
#[test]
fn notes_created_and_deleted_under_serve_leave_the_site_a_build_writes() {
    let mut served = Served::start("build-basic");
    let fresh = served.dir.path().join("fresh");
    let check = |served: &mut Served, step: &str| {
        let built = served.wait_for_line("built ");
        assert!(!built.contains("changed notes only"), "{step}: {built}");
        served.settle();
        let _ = std::fs::remove_dir_all(&fresh);
        let out = crate::support::vaultc()
            .args(["build", "-q", "--no-cache", "-o"])
            .arg(&fresh)
            .arg(&served.vault)
            .output()
            .unwrap();
        assert!(out.status.code().is_some_and(|c| c <= 1), "{step}");
        crate::support::assert_same_tree(&served.site, &fresh);
    };
    // A new note linking to two others: their backlinks, the index and the graph follow.
    std::fs::write(
        served.vault.join("Concepts/Delta.md"),
        "# Delta\n\nSee [[Alpha]] and [[Beta#Details]].\n",
    )
    .unwrap();
    check(&mut served, "a note came");
    assert!(read(&served.site.join("concepts/delta/index.html")).contains("Delta"));
    // A note named like another, beside a note that links to that name: the link now goes to
    // the note in its own folder.
    std::fs::write(served.vault.join("Notes/Alpha.md"), "# Alpha here\n").unwrap();
    check(&mut served, "a sibling took a name");
    let gamma = crate::support::note_pages(&served.site)["Notes/Gamma Ω.md"].clone();
    assert!(
        read(&gamma).contains("href=\"../../notes/alpha/index.html\""),
        "Gamma's [[Alpha]] goes to its sibling"
    );
    // A note deleted: the links to it become wanted.
    std::fs::remove_file(served.vault.join("Concepts/Beta.md")).unwrap();
    check(&mut served, "a note went");
    assert!(read(&served.site.join("wanted/index.html")).contains("Beta"));
}

/// Symlinks under `serve` follow discovery's rule: a save in a folder a link brings in from
/// outside the vault rebuilds the page (saved through the target, as another program would),
/// and a link to a folder holding the vault (which holds the site the server writes) is
/// ignored, so the server's own writes there never start a build of their own.
#[cfg(unix)]
#[test]
fn saves_behind_a_followed_symlink_rebuild_and_an_ignored_one_is_not_watched() {
    let mut served = Served::start_with("build-basic", |dir| {
        let shared = dir.join("shared");
        std::fs::create_dir_all(&shared).unwrap();
        std::fs::write(shared.join("Ext.md"), "# Ext\n\nfirst words\n").unwrap();
        std::os::unix::fs::symlink("../shared", dir.join("vault/outside")).unwrap();
        std::os::unix::fs::symlink("..", dir.join("vault/up")).unwrap();
        Vec::new()
    });
    served.settle();
    assert_eq!(
        served.builds(),
        1,
        "one build at start:\n{}",
        served.log.join("\n")
    );
    assert!(
        served
            .log
            .iter()
            .any(|l| l.contains("warning[ignored-symlink]")),
        "{}",
        served.log.join("\n")
    );
    assert!(served.get("/outside/ext/").3.contains("first words"));
    let ext = served.dir.path().join("shared/Ext.md");
    std::fs::write(&ext, "# Ext\n\nsecond words\n").unwrap();
    served.wait_for_line("built ");
    assert!(served.get("/outside/ext/").3.contains("second words"));
    served.settle();
    assert_eq!(
        served.builds(),
        2,
        "one build per save, none set off by the site's own files seen through `up`:\n{}",
        served.log.join("\n")
    );
}

/// A note linked in from outside the vault (`vault/ext.md -> ../shared/Ext.md`) saved the way
/// many editors save, by writing a new file and renaming it over the old: every such save
/// rebuilds, not only the first (a watch on the file itself stays with the file replaced), and
/// the other files of the folder holding the target set off no build.
#[cfg(unix)]
#[test]
fn saves_that_replace_a_linked_file_rebuild_every_time() {
    let mut served = Served::start_with("build-basic", |dir| {
        let shared = dir.join("shared");
        std::fs::create_dir_all(&shared).unwrap();
        std::fs::write(shared.join("Ext.md"), "# Ext\n\nwords 0\n").unwrap();
        std::os::unix::fs::symlink("../shared/Ext.md", dir.join("vault/ext.md")).unwrap();
        Vec::new()
    });
    served.settle();
    assert_eq!(served.builds(), 1, "{}", served.log.join("\n"));
    assert!(served.get("/ext/").3.contains("words 0"));
    let shared = served.dir.path().join("shared");
    for save in 1..=3 {
        let temp = shared.join(".Ext.md.swp");
        std::fs::write(&temp, format!("# Ext\n\nwords {save}\n")).unwrap();
        std::fs::rename(&temp, shared.join("Ext.md")).unwrap();
        served.wait_for_line("built ");
        served.settle();
        let page = served.get("/ext/").3;
        assert!(
            page.contains(&format!("words {save}")),
            "save {save} is on the page:\n{}",
            served.log.join("\n")
        );
    }
    let before = served.builds();
    std::fs::write(shared.join("unrelated.txt"), "not the vault's").unwrap();
    std::fs::write(shared.join("Other.md"), "# Other").unwrap();
    served.settle();
    assert_eq!(
        served.builds(),
        before,
        "files beside the target are not the vault's:\n{}",
        served.log.join("\n")
    );
}

/// `serve` with a theme folder that is not there stops at once, saying so (exit 2), before it
/// watches or builds anything; the configuration's theme is held to the same.
#[test]
fn serve_refuses_a_theme_that_is_not_there() {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("vault");
    copy_dir(&fixture("build-basic"), &vault);
    let site = dir.path().join("site");
    let missing = dir.path().join("no-such-theme");
    let serve = |extra: &[&std::ffi::OsStr]| {
        let mut args: Vec<&std::ffi::OsStr> = vec!["serve".as_ref(), "--port".as_ref()];
        args.extend(["0".as_ref(), "-o".as_ref(), site.as_os_str()]);
        args.extend(extra);
        args.push(vault.as_os_str());
        crate::support::run(args)
    };
    for r in [serve(&["--theme".as_ref(), missing.as_os_str()]), {
        std::fs::write(
            vault.join("vaultc.toml"),
            "[site]\ntheme = \"../no-such-theme\"\n",
        )
        .unwrap();
        serve(&[])
    }] {
        r.assert_code(2);
        assert!(
            r.stderr.contains("theme not found") && r.stderr.contains("no-such-theme"),
            "{}",
            r.report()
        );
    }
    assert!(!site.exists(), "nothing was built");
}
