//! Themes: minijinja templates plus static assets. The default theme is compiled into the
//! binary; `--theme DIR` overrides it file by file (`DIR/templates/x.html`, `DIR/static/...`).

use std::path::{Path, PathBuf};

use minijinja::Environment;

use crate::error::{Error, Result};

/// Template files of a theme (all must exist in the default theme).
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "base.html",
        include_str!("../../themes/default/templates/base.html"),
    ),
    (
        "note.html",
        include_str!("../../themes/default/templates/note.html"),
    ),
    (
        "index.html",
        include_str!("../../themes/default/templates/index.html"),
    ),
    (
        "tag.html",
        include_str!("../../themes/default/templates/tag.html"),
    ),
    (
        "tags.html",
        include_str!("../../themes/default/templates/tags.html"),
    ),
    (
        "wanted.html",
        include_str!("../../themes/default/templates/wanted.html"),
    ),
    (
        "graph.html",
        include_str!("../../themes/default/templates/graph.html"),
    ),
    (
        "404.html",
        include_str!("../../themes/default/templates/404.html"),
    ),
    (
        "redirect.html",
        include_str!("../../themes/default/templates/redirect.html"),
    ),
    (
        "canvas.html",
        include_str!("../../themes/default/templates/canvas.html"),
    ),
];

/// Static files of the default theme, copied to `static/`.
pub const STATIC: &[(&str, &[u8])] = &[
    (
        "style.css",
        include_bytes!("../../themes/default/static/style.css"),
    ),
    (
        "search.js",
        include_bytes!("../../themes/default/static/search.js"),
    ),
    (
        "preview.js",
        include_bytes!("../../themes/default/static/preview.js"),
    ),
    (
        "graph.js",
        include_bytes!("../../themes/default/static/graph.js"),
    ),
    (
        "elasticlunr.min.js",
        include_bytes!("../../themes/default/static/elasticlunr.min.js"),
    ),
    (
        "highlight.min.js",
        include_bytes!("../../themes/default/static/highlight.min.js"),
    ),
    (
        "mermaid.min.js",
        include_bytes!("../../themes/default/static/mermaid.min.js"),
    ),
    (
        "code.js",
        include_bytes!("../../themes/default/static/code.js"),
    ),
    (
        "canvas.js",
        include_bytes!("../../themes/default/static/canvas.js"),
    ),
    (
        "LICENSES.md",
        include_bytes!("../../themes/default/static/LICENSES.md"),
    ),
    (
        "fonts/latinmodern-math.woff2",
        include_bytes!("../../themes/default/static/fonts/latinmodern-math.woff2"),
    ),
];

/// A loaded theme: the template environment and the static files to copy.
pub struct Theme {
    /// Templates, parsed once.
    pub env: Environment<'static>,
    /// `(path under static/, bytes)`, sorted by path.
    pub assets: Vec<(String, Vec<u8>)>,
    /// A hash of every template source and asset, for incremental builds.
    fingerprint: u64,
    /// The templates whose source is not the default theme's.
    overridden: Vec<&'static str>,
}

impl Theme {
    /// The default theme, overridden file by file by `dir` when given.
    pub fn load(dir: Option<&Path>) -> Result<Theme> {
        require_folder(dir)?;
        let mut env = Environment::new();
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") {
                minijinja::AutoEscape::Html
            } else {
                minijinja::AutoEscape::None
            }
        });
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
        // Strings are escaped like the links vaultc writes into bodies (and as Jinja2 does): minijinja's default also
        // turns every `/` into `&#x2f;`, which no HTML context needs; it made relative URLs
        // unreadable (`..&#x2f;..&#x2f;static/style.css`) and about 6% of a site's bytes.
        // Other values (numbers, lists, undefined) keep minijinja's formatting.
        env.set_formatter(|out, state, value| {
            if state.auto_escape() == minijinja::AutoEscape::Html && !value.is_safe() {
                if let Some(text) = value.as_str() {
                    return super::html::write_escaped(out, text).map_err(minijinja::Error::from);
                }
            }
            minijinja::escape_formatter(out, state, value)
        });
        let mut hash = xxhash_rust::xxh3::Xxh3::new();
        let mut overridden = Vec::new();
        for (name, default) in TEMPLATES {
            let source = match dir
                .map(|d| d.join("templates").join(name))
                .filter(|p| p.is_file())
            {
                Some(path) => {
                    let source = std::fs::read_to_string(&path)
                        .map_err(|e| Error::io("reading", path, e))?;
                    if source != *default {
                        overridden.push(*name);
                    }
                    source
                }
                None => (*default).to_string(),
            };
            hash.update(name.as_bytes());
            hash.update(&(source.len() as u64).to_le_bytes());
            hash.update(source.as_bytes());
            env.add_template_owned(*name, source)
                .map_err(|e| template_error(name, &e))?;
        }
        let mut assets: Vec<(String, Vec<u8>)> = STATIC
            .iter()
            .map(|(n, b)| (n.to_string(), b.to_vec()))
            .collect();
        for (rel, path) in own_static_files(dir)? {
            let bytes = std::fs::read(&path).map_err(|e| Error::io("reading", path, e))?;
            match assets.iter_mut().find(|(n, _)| *n == rel) {
                Some(slot) => slot.1 = bytes,
                None => assets.push((rel, bytes)),
            }
        }
        assets.sort();
        for (name, bytes) in &assets {
            hash.update(&(name.len() as u64).to_le_bytes());
            hash.update(name.as_bytes());
            hash.update(&(bytes.len() as u64).to_le_bytes());
            hash.update(bytes);
        }
        Ok(Theme {
            env,
            assets,
            fingerprint: hash.digest(),
            overridden,
        })
    }

    /// Whether pages of `template` are the default theme's (neither it nor `base.html`
    /// overridden): then note, tag and index pages are written without the template engine
    /// (`render/default_page.rs`), to the same bytes.
    pub fn has_default(&self, template: &str) -> bool {
        !self
            .overridden
            .iter()
            .any(|&name| name == template || name == "base.html")
    }

    /// A hash of the theme's templates and assets: pages rendered with equal fingerprints
    /// and equal views are equal.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// Renders template `name` with a serialisable view, as bytes.
    pub fn render_view(&self, name: &str, view: &impl serde::Serialize) -> Result<Vec<u8>> {
        self.render_view_sized(name, view, 0)
    }

    /// [`render_view`](Self::render_view) into a buffer of `capacity` bytes: a page whose size
    /// is estimated well is written without growing (and copying) its buffer.
    pub fn render_view_sized(
        &self,
        name: &str,
        view: &impl serde::Serialize,
        capacity: usize,
    ) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(capacity);
        self.render_view_into(name, view, &mut out)?;
        Ok(out)
    }

    /// Renders template `name` with a serialisable view, appending to `out` (so a caller can
    /// reuse one buffer for many pages).
    pub fn render_view_into(
        &self,
        name: &str,
        view: &impl serde::Serialize,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        self.env
            .get_template(name)
            .and_then(|t| t.render_captured_to(view, out).map(drop))
            .map_err(|e| template_error(name, &e))
    }
}

fn template_error(name: &str, err: &minijinja::Error) -> Error {
    let mut message = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        message.push_str(&format!(": {s}"));
        source = s.source();
    }
    Error::Template {
        name: name.to_string(),
        message,
    }
}

/// The names of a theme's files under `static/` (the default theme's, overridden or added to
/// by `dir`), sorted, without reading them: what `check` plans the site with, so that an
/// attachment it says collides with a theme file is the one `build` moves.
pub fn asset_names(dir: Option<&Path>) -> Result<Vec<String>> {
    require_folder(dir)?;
    let mut names: Vec<String> = STATIC.iter().map(|(n, _)| n.to_string()).collect();
    names.extend(own_static_files(dir)?.into_iter().map(|(rel, _)| rel));
    names.sort();
    names.dedup();
    Ok(names)
}

/// Fails when a theme folder is given but is not one: a mistyped `--theme` would otherwise
/// build with the default theme without a word. (`serve` asks before it watches the folder.)
pub fn require_folder(dir: Option<&Path>) -> Result<()> {
    match dir {
        Some(d) if !d.is_dir() => Err(Error::ThemeNotFound {
            path: d.to_path_buf(),
        }),
        _ => Ok(()),
    }
}

/// The files under the theme folder's `static/`: `(path under static/ with `/`, file)`, in
/// name order.
fn own_static_files(dir: Option<&Path>) -> Result<Vec<(String, PathBuf)>> {
    let Some(static_dir) = dir.map(|d| d.join("static")).filter(|d| d.is_dir()) else {
        return Ok(Vec::new());
    };
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(&static_dir).sort_by_file_name() {
        let entry = entry.map_err(|e| Error::io("reading", static_dir.clone(), e.into()))?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(&static_dir)
            .unwrap_or(entry.path());
        let rel = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        files.push((rel, entry.into_path()));
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A theme whose `404.html` is `template`.
    fn theme_with(template: &str) -> (tempfile::TempDir, Theme) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("templates")).unwrap();
        std::fs::write(dir.path().join("templates/404.html"), template).unwrap();
        let theme = Theme::load(Some(dir.path())).unwrap();
        (dir, theme)
    }

    fn render(theme: &Theme, view: serde_json::Value) -> String {
        String::from_utf8(theme.render_view("404.html", &view).unwrap()).unwrap()
    }

    /// `check` plans with the names of the files `build` copies: the default theme's, with a
    /// theme's own added (nested ones by `/` paths) and its overrides named once.
    #[test]
    fn asset_names_are_the_files_a_build_with_the_theme_copies() {
        let dir = tempfile::tempdir().unwrap();
        let own = dir.path().join("static");
        std::fs::create_dir_all(own.join("fonts")).unwrap();
        std::fs::write(own.join("style.css"), "body{}").unwrap();
        std::fs::write(own.join("fonts/a.woff2"), "font").unwrap();
        let names = asset_names(Some(dir.path())).unwrap();
        let built: Vec<String> = Theme::load(Some(dir.path()))
            .unwrap()
            .assets
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        assert_eq!(names, built);
        assert!(names.contains(&"fonts/a.woff2".to_string()));
        assert_eq!(names.iter().filter(|n| *n == "style.css").count(), 1);
        assert_eq!(asset_names(None).unwrap().len(), STATIC.len());
        let missing = dir.path().join("nope");
        for err in [
            asset_names(Some(&missing)).unwrap_err(),
            Theme::load(Some(&missing)).err().unwrap(),
        ] {
            assert!(matches!(err, Error::ThemeNotFound { ref path } if *path == missing));
        }
    }

    #[test]
    fn pages_skip_the_template_engine_only_with_the_default_templates() {
        let theme = Theme::load(None).unwrap();
        assert!(theme.has_default("note.html") && theme.has_default("tag.html"));
        // Other templates, static files, or a copy of the default note.html: still native.
        let (_dir, theme) = theme_with("{{ page.title }}");
        assert!(theme.has_default("note.html") && theme.has_default("tag.html"));
        assert!(!theme.has_default("404.html"));
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("templates")).unwrap();
        let note_html = TEMPLATES.iter().find(|(n, _)| *n == "note.html").unwrap().1;
        std::fs::write(dir.path().join("templates/note.html"), note_html).unwrap();
        assert!(Theme::load(Some(dir.path()))
            .unwrap()
            .has_default("note.html"));
        // A change to a page's template, or to base.html, renders it through minijinja.
        for (name, note, tag) in [
            ("note.html", false, true),
            ("tag.html", true, false),
            ("base.html", false, false),
        ] {
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir_all(dir.path().join("templates")).unwrap();
            std::fs::write(dir.path().join("templates").join(name), "{{ page.title }}").unwrap();
            let theme = Theme::load(Some(dir.path())).unwrap();
            assert_eq!(theme.has_default("note.html"), note, "{name}");
            assert_eq!(theme.has_default("tag.html"), tag, "{name}");
        }
    }

    #[test]
    fn template_strings_are_escaped_like_note_bodies_and_slashes_stay() {
        let (_dir, theme) =
            theme_with("{{ v }}|{{ url }}|{{ s|safe }}|{{ n }}|{{ list }}|{{ gone }}");
        let out = render(
            &theme,
            serde_json::json!({
                "v": "<b>\"Tom\" & 'Jerry'</b>",
                "url": "../../notes/a b/index.html",
                "s": "<i>kept</i>",
                "n": 3,
                "list": ["a/b"],
            }),
        );
        assert_eq!(
            out,
            "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;|../../notes/a b/index.html|\
             <i>kept</i>|3|[&quot;a&#x2f;b&quot;]|"
        );
        // The same escaping as the links vaultc writes into note bodies (`html::escape`).
        assert!(out.starts_with(&crate::render::html::escape("<b>\"Tom\" & 'Jerry'</b>")));
    }
}
