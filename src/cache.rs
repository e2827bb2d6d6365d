//! The parse cache: what stage 2 (parse) produced for every note, kept on disk between builds
//! so that `vaultc build` parses only the notes whose bytes changed.
//!
//! [`crate::parse::note`] is a pure function of a note's path, text and template flag, so its
//! result can be stored under a key made of the vault path and an xxh3-128 hash of the text and
//! the flag. The stored record is the parsed [`Note`] without its text (which the build has just
//! read anyway) and without its line index (recomputed from the text with `memchr`, cheaper than
//! decoding it), plus the note's parse diagnostics.
//!
//! One file, `parse.bin`, in a folder beside the output folder (see [`cache_dir`]):
//!
//! ```text
//! magic (8 bytes) | format version u32 | vaultc version (u16 length + bytes)
//! | parse-sources hash u128 | checksum u64 of everything after it
//! | entry count u32 | per entry: path (u32 length + bytes), key u128, record length u32
//! | the records, in entry order (postcard)
//! ```
//!
//! Integers are little-endian; entries are sorted by path (the order discovery gives notes),
//! so a lookup is a binary search over the index without building a map. Records are decoded
//! lazily, in the parse stage's parallel loop, and only for notes whose key matches.
//!
//! Anything unexpected (another format or vaultc version, changed parse sources, a truncated or
//! corrupt file, a record that does not decode or does not fit its note's text) makes the cache
//! or the record count as absent: the note is parsed again. The cache can make a build faster,
//! never different, and never makes it fail.

use std::borrow::Cow;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::{xxh3_128_with_seed, xxh3_64};

use crate::diag::{Code, Diagnostic, Fix, Severity};
use crate::discover::SourceFile;
use crate::source::{Span, VaultPath};
use crate::vault::{Block, FrontMatter, Heading, Link, Note, TagUse};

/// The cache file's name inside the cache folder.
pub const CACHE_FILE: &str = "parse.bin";

/// First bytes of every cache file.
const MAGIC: &[u8; 8] = b"VAULTCpc";

/// Bump when the file layout or the record encoding changes.
const FORMAT_VERSION: u32 = 3;

/// Why a cache file was not used. The build goes on without it in every case.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The file could not be read (a missing file is the usual first build).
    #[error("reading {path}: {cause}")]
    Io {
        /// The cache file.
        path: PathBuf,
        /// The underlying error; part of the message, so not also `source()` (as in
        /// [`crate::error::Error::Io`]).
        cause: std::io::Error,
    },
    /// The file does not start with the cache's magic bytes.
    #[error("not a vaultc parse cache")]
    Magic,
    /// Written in another layout, by another vaultc version, or by a vaultc whose parsing code
    /// differs from this one's.
    #[error("written by another vaultc ({0})")]
    Stale(&'static str),
    /// The file ends before its index or records do, or its index is out of order.
    #[error("truncated or malformed cache file")]
    Truncated,
    /// The contents do not match the checksum: the file was damaged.
    #[error("checksum mismatch")]
    Checksum,
}

impl CacheError {
    /// Whether the cache file simply does not exist yet (a first build): nothing to report.
    pub fn is_missing(&self) -> bool {
        matches!(self, CacheError::Io { cause, .. } if cause.kind() == std::io::ErrorKind::NotFound)
    }
}

/// Where the parse cache of the site at `out` (absolute) lives: the sibling folder
/// `.NAME.vaultc-cache`, named like the output's staging folder. It is never inside the output
/// (which a full build replaces whole) and, as a dot-folder, never read as part of a vault.
/// `None` when `out` has no parent or name (the file-system root).
pub fn cache_dir(out: &Path) -> Option<PathBuf> {
    let parent = out.parent()?;
    let name = out.file_name()?.to_string_lossy();
    Some(parent.join(format!(".{name}.vaultc-cache")))
}

/// The environment variable that names vaultc's cache folder instead of `<user cache>/vaultc`
/// (for CI caches, and for tests and benchmarks on any platform).
pub const CACHE_DIR_ENV: &str = "VAULTC_CACHE_DIR";

/// Where `vaultc check` keeps the parse cache of the vault at `root`: a folder of its own in
/// `$VAULTC_CACHE_DIR/check/` when that is set, else in the user's cache folder
/// (`$XDG_CACHE_HOME/vaultc/check/` or `~/.cache/vaultc/check/` on Linux,
/// `~/Library/Caches/vaultc/check/` on macOS, `%LOCALAPPDATA%\vaultc\check\` on Windows),
/// named after the vault's folder and a hash of its absolute path. `check` writes nothing into
/// the vault itself. `None` when the vault cannot be found or there is no cache folder.
pub fn check_cache_dir(root: &Path) -> Option<PathBuf> {
    let root = root.canonicalize().ok()?;
    let name: String = root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    let hash = xxhash_rust::xxh3::xxh3_64(root.as_os_str().as_encoded_bytes());
    let base = match std::env::var_os(CACHE_DIR_ENV).filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => dirs::cache_dir()?.join("vaultc"),
    };
    Some(base.join("check").join(format!("{name}-{hash:016x}")))
}

/// The cache key of a note: its text and template flag (the path is compared separately).
pub(crate) fn key(file: &SourceFile) -> u128 {
    xxh3_128_with_seed(file.text.as_bytes(), u64::from(file.is_template))
}

/// What this build of vaultc writes in the header and expects to read back.
fn header() -> Vec<u8> {
    let version = env!("CARGO_PKG_VERSION").as_bytes();
    // The parsing code and this module's encoding of what it returns.
    let code = crate::code_hash::hash_sources(
        crate::code_hash::PARSE_SOURCES
            .iter()
            .copied()
            .chain([include_str!("cache.rs")]),
    );
    let mut h = Vec::with_capacity(8 + 4 + 2 + version.len() + 16);
    h.extend_from_slice(MAGIC);
    h.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    h.extend_from_slice(&(version.len() as u16).to_le_bytes());
    h.extend_from_slice(version);
    h.extend_from_slice(&code.to_le_bytes());
    h
}

/// One note in the index of a loaded cache file.
#[derive(Clone, Debug)]
struct IndexEntry {
    /// Where the vault path is in the file.
    path: Range<usize>,
    /// Hash of the text and template flag the record was parsed from.
    key: u128,
    /// Where the record is in the file.
    record: Range<usize>,
}

/// A loaded cache file: its bytes and its index, sorted by path. Records are decoded only when
/// a note asks for one ([`ParseCache::parse`]), from any thread.
#[derive(Default)]
pub struct ParseCache {
    bytes: Vec<u8>,
    index: Vec<IndexEntry>,
}

impl std::fmt::Debug for ParseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ParseCache({} notes, {} bytes)",
            self.index.len(),
            self.bytes.len()
        )
    }
}

/// Reads little-endian fields from a byte slice; every read fails cleanly past the end.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<Range<usize>, CacheError> {
        let end = self.at.checked_add(n).ok_or(CacheError::Truncated)?;
        if end > self.bytes.len() {
            return Err(CacheError::Truncated);
        }
        let range = self.at..end;
        self.at = end;
        Ok(range)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], CacheError> {
        let r = self.take(N)?;
        let mut out = [0; N];
        out.copy_from_slice(&self.bytes[r]);
        Ok(out)
    }

    fn u16(&mut self) -> Result<u16, CacheError> {
        self.array().map(u16::from_le_bytes)
    }

    fn u32(&mut self) -> Result<u32, CacheError> {
        self.array().map(u32::from_le_bytes)
    }

    fn u64(&mut self) -> Result<u64, CacheError> {
        self.array().map(u64::from_le_bytes)
    }

    fn u128(&mut self) -> Result<u128, CacheError> {
        self.array().map(u128::from_le_bytes)
    }
}

impl ParseCache {
    /// A cache with no entries: every note is parsed (and the result can still be saved).
    pub fn empty() -> ParseCache {
        ParseCache::default()
    }

    /// Number of notes in the cache.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether the cache has no notes.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Reads `CACHE_FILE` in `dir`. Any error means: build without it.
    pub fn load(dir: &Path) -> Result<ParseCache, CacheError> {
        let path = dir.join(CACHE_FILE);
        let bytes = std::fs::read(&path).map_err(|cause| CacheError::Io { path, cause })?;
        ParseCache::from_bytes(bytes)
    }

    /// [`ParseCache::load`], or an empty cache when the file is absent, stale or damaged
    /// (every note is then parsed, and a fresh file saved), with why it was not loaded.
    pub fn load_or_empty(dir: &Path) -> (ParseCache, Option<CacheError>) {
        match ParseCache::load(dir) {
            Ok(cache) => (cache, None),
            Err(e) => (ParseCache::empty(), Some(e)),
        }
    }

    /// Checks the header and the checksum of a cache file's bytes and reads its index.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<ParseCache, CacheError> {
        ParseCache::from_bytes_with_header(bytes, &header())
    }

    fn from_bytes_with_header(bytes: Vec<u8>, expected: &[u8]) -> Result<ParseCache, CacheError> {
        if !bytes.starts_with(MAGIC) {
            return Err(CacheError::Magic);
        }
        let mut c = Cursor {
            bytes: &bytes,
            at: MAGIC.len(),
        };
        let mut e = Cursor {
            bytes: expected,
            at: MAGIC.len(),
        };
        if c.u32()? != e.u32()? {
            return Err(CacheError::Stale("cache format"));
        }
        let (len, expected_len) = (c.u16()?, e.u16()?);
        if c.take(len.into()).map(|r| &bytes[r])? != &expected[e.take(expected_len.into())?] {
            return Err(CacheError::Stale("version"));
        }
        if c.u128()? != e.u128()? {
            return Err(CacheError::Stale("parsing code"));
        }
        let checksum = c.u64()?;
        if xxh3_64(&bytes[c.at..]) != checksum {
            return Err(CacheError::Checksum);
        }
        let count = c.u32()? as usize;
        // Each index entry takes at least 24 bytes: a lying count cannot allocate much.
        if count > (bytes.len() - c.at) / 24 {
            return Err(CacheError::Truncated);
        }
        let mut index = Vec::with_capacity(count);
        let mut record_lens = Vec::with_capacity(count);
        for _ in 0..count {
            let len = c.u32()? as usize;
            let path = c.take(len)?;
            let key = c.u128()?;
            record_lens.push(c.u32()? as usize);
            index.push(IndexEntry {
                path,
                key,
                record: 0..0,
            });
        }
        for (entry, len) in index.iter_mut().zip(record_lens) {
            entry.record = c.take(len)?;
        }
        if c.at != bytes.len() {
            return Err(CacheError::Truncated);
        }
        let paths_sorted = index
            .windows(2)
            .all(|w| bytes[w[0].path.clone()] < bytes[w[1].path.clone()]);
        if !paths_sorted {
            return Err(CacheError::Truncated);
        }
        Ok(ParseCache { bytes, index })
    }

    fn find(&self, path: &str) -> Option<usize> {
        self.index
            .binary_search_by(|e| self.bytes[e.path.clone()].cmp(path.as_bytes()))
            .ok()
    }

    /// Parses `file`, or rebuilds its parse from the cache when the cache has a record for
    /// the same path, text and template flag. Returns what [`crate::parse::note`] returns,
    /// with the cache entry the next cache file gets for this note.
    pub fn parse(&self, file: SourceFile) -> (Note, Vec<Diagnostic>, CacheEntry) {
        let key = key(&file);
        self.parse_keyed(file, key, false)
    }

    /// [`ParseCache::parse`] for a caller that has already hashed the file: `key` must be
    /// [`key`]`(&file)`. With `body`, a note that is parsed gets its body template (see
    /// [`crate::parse::note_with`]); one rebuilt from the cache has none.
    pub(crate) fn parse_keyed(
        &self,
        file: SourceFile,
        key: u128,
        body: bool,
    ) -> (Note, Vec<Diagnostic>, CacheEntry) {
        let hit = self
            .find(file.path.as_str())
            .filter(|&i| self.index[i].key == key);
        let file = match hit {
            Some(i) => match decode(&self.bytes[self.index[i].record.clone()], file) {
                Ok((note, diagnostics)) => {
                    let entry = CacheEntry {
                        path: note.path.clone(),
                        key,
                        record: Record::Kept(i),
                    };
                    return (note, diagnostics, entry);
                }
                Err(file) => file,
            },
            None => file,
        };
        let (note, diagnostics) = crate::parse::note_with(file, body);
        let record = match encode(&note, &diagnostics) {
            Some(bytes) => Record::New(bytes),
            None => Record::None,
        };
        let entry = CacheEntry {
            path: note.path.clone(),
            key,
            record,
        };
        (note, diagnostics, entry)
    }
}

impl ParseCache {
    /// The cache entry of a note parsed in an earlier build of the same process (a
    /// [`crate::build::BuildSession`]), whose text had cache key `key`: the loaded record when
    /// the cache has it, else a fresh encoding.
    pub fn keep(
        &self,
        note: Note,
        diagnostics: Vec<Diagnostic>,
        key: u128,
    ) -> (Note, Vec<Diagnostic>, CacheEntry) {
        let record = match self
            .find(note.path.as_str())
            .filter(|&i| self.index[i].key == key)
        {
            Some(i) => Record::Kept(i),
            None => encode(&note, &diagnostics).map_or(Record::None, Record::New),
        };
        let entry = CacheEntry {
            path: note.path.clone(),
            key,
            record,
        };
        (note, diagnostics, entry)
    }
}

/// One note's entry in the next cache file: kept from the loaded file or freshly encoded.
#[derive(Debug)]
pub struct CacheEntry {
    path: VaultPath,
    key: u128,
    record: Record,
}

impl CacheEntry {
    /// Whether the note's parse came from the cache (it was not parsed in this build).
    pub fn reused(&self) -> bool {
        matches!(self.record, Record::Kept(_))
    }

    /// The hash of the note's text and template flag this entry is keyed by.
    pub fn key(&self) -> u128 {
        self.key
    }
}

#[derive(Debug)]
enum Record {
    /// The record at this index of the loaded cache, unchanged.
    Kept(usize),
    /// A record encoded in this build.
    New(Vec<u8>),
    /// The note could not be stored (nothing in `parse::note` produces this today).
    None,
}

/// The next cache file: one entry per note, in path order, with the loaded cache whose records
/// it keeps. [`CacheUpdate::save`] writes it.
#[derive(Debug)]
pub struct CacheUpdate {
    /// The cache the build read (empty for `--full`).
    pub previous: Arc<ParseCache>,
    /// One entry per note of the vault, in path order.
    pub entries: Vec<CacheEntry>,
}

impl CacheUpdate {
    /// The records of the next file: each note's, kept from the loaded file or new.
    fn records(&self) -> Vec<(&CacheEntry, &[u8])> {
        self.entries
            .iter()
            .filter_map(|e| {
                let bytes = match &e.record {
                    Record::Kept(i) => {
                        let r = self.previous.index.get(*i)?.record.clone();
                        self.previous.bytes.get(r)?
                    }
                    Record::New(bytes) => bytes.as_slice(),
                    Record::None => return None,
                };
                Some((e, bytes))
            })
            .collect()
    }

    /// The bytes of the cache file: header, checksum, index, records (for tests: a real
    /// file is written piece by piece, see [`CacheUpdate::save`]).
    #[cfg(test)]
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_to(&mut out)
            .expect("writing to memory cannot fail");
        out
    }

    /// Writes the cache file to `out` piece by piece (a big vault's file is tens of
    /// megabytes: it is never held whole in memory), returning its length.
    fn write_to(&self, out: &mut impl std::io::Write) -> std::io::Result<u64> {
        let records = self.records();
        // The checksum covers everything after it: the index, then the records.
        let mut index = Vec::with_capacity(4 + records.len() * 64);
        index.extend_from_slice(&(records.len() as u32).to_le_bytes());
        for (e, bytes) in &records {
            let path = e.path.as_str().as_bytes();
            index.extend_from_slice(&(path.len() as u32).to_le_bytes());
            index.extend_from_slice(path);
            index.extend_from_slice(&e.key.to_le_bytes());
            index.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        }
        let mut checksum = xxhash_rust::xxh3::Xxh3::new();
        checksum.update(&index);
        for (_, bytes) in &records {
            checksum.update(bytes);
        }
        let header = header();
        out.write_all(&header)?;
        out.write_all(&checksum.digest().to_le_bytes())?;
        out.write_all(&index)?;
        let mut len = (header.len() + 8 + index.len()) as u64;
        for (_, bytes) in &records {
            out.write_all(bytes)?;
            len += bytes.len() as u64;
        }
        Ok(len)
    }

    /// Writes the cache file into `dir` (created if needed, with a `.gitignore` of `*` so the
    /// cache is never committed), atomically: a temporary file in the same folder, then a
    /// rename. Writes nothing when the file already holds these bytes. Returns whether it
    /// wrote.
    pub fn save(&self, dir: &Path) -> crate::Result<bool> {
        use crate::Error;
        let path = dir.join(CACHE_FILE);
        let unchanged = if !self.previous.bytes.is_empty() {
            // A loaded file passed its checks, so the next one is the same exactly when it
            // keeps every record where it was (a new record has a new key).
            self.entries.len() == self.previous.index.len()
                && self
                    .entries
                    .iter()
                    .enumerate()
                    .all(|(i, e)| matches!(e.record, Record::Kept(k) if k == i))
        } else {
            // None loaded (`--full`, or a stale or damaged file): what is on disk, if anything,
            // is compared by streaming the new file against it, not by making it in memory.
            std::fs::read(&path).is_ok_and(|old| {
                let mut same = SameAs {
                    old: &old,
                    at: 0,
                    same: true,
                };
                let len = self
                    .write_to(&mut same)
                    .expect("comparing in memory cannot fail");
                same.same && len == old.len() as u64
            })
        };
        if unchanged {
            return Ok(false);
        }
        std::fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
        let ignore = dir.join(".gitignore");
        if !ignore.exists() {
            std::fs::write(
                &ignore,
                "# Written by vaultc: a cache, safe to delete.\n*\n",
            )
            .map_err(|e| Error::io("writing", &ignore, e))?;
        }
        let tmp = dir.join(format!("{CACHE_FILE}.tmp-{}", std::process::id()));
        let written = std::fs::File::create(&tmp)
            .and_then(|file| {
                let mut file = std::io::BufWriter::with_capacity(1 << 20, file);
                self.write_to(&mut file)?;
                use std::io::Write as _;
                file.flush()
            })
            .map_err(|e| Error::io("writing", &tmp, e))
            .and_then(|()| {
                std::fs::rename(&tmp, &path).map_err(|e| Error::io("renaming", &tmp, e))
            });
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written.map(|()| true)
    }
}

/// A writer that only tells whether what is written equals `old`, from its start.
struct SameAs<'a> {
    old: &'a [u8],
    at: usize,
    same: bool,
}

impl std::io::Write for SameAs<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let end = self.at + buf.len();
        self.same = self.same && self.old.get(self.at..end) == Some(buf);
        self.at = end;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A note's parse as stored: [`Note`] without its path, text and line index, and its
/// diagnostics without their file (always the note). Borrowed when encoding, owned when
/// decoding.
#[derive(Serialize, Deserialize)]
struct NoteRecord<'a> {
    body_start: u32,
    title: Cow<'a, str>,
    front_matter: FrontMatterRecord<'a>,
    headings: Cow<'a, [Heading]>,
    blocks: Cow<'a, [Block]>,
    links: Cow<'a, [Link]>,
    tags: Cow<'a, [TagUse]>,
    diagrams: bool,
    bases: Cow<'a, [Span]>,
    diagnostics: Vec<DiagnosticRecord<'a>>,
}

/// [`FrontMatter`] with its `extra` values as [`Value`]s, which postcard can read back (it
/// cannot read `serde_json::Value`, whose `Deserialize` needs a self-describing format).
#[derive(Serialize, Deserialize)]
struct FrontMatterRecord<'a> {
    title: Option<Cow<'a, str>>,
    aliases: Cow<'a, [String]>,
    cssclasses: Cow<'a, [String]>,
    publish: bool,
    draft: bool,
    permalink: Option<Cow<'a, str>>,
    description: Option<Cow<'a, str>>,
    date: Option<Cow<'a, str>>,
    allow: Cow<'a, [Code]>,
    extra: Vec<(Cow<'a, str>, Value)>,
}

/// A JSON value, exactly: integers stay integers and floats keep their bits (a JSON string
/// would lose float bits unless serde_json's `float_roundtrip` were on), and objects keep
/// their key order.
#[derive(Serialize, Deserialize)]
enum Value {
    Null,
    Bool(bool),
    U64(u64),
    I64(i64),
    F64(f64),
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

impl Value {
    fn from_json(v: &serde_json::Value) -> Value {
        use serde_json::Value as J;
        match v {
            J::Null => Value::Null,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => Value::U64(u),
                (None, Some(i), _) => Value::I64(i),
                (None, None, Some(f)) => Value::F64(f),
                (None, None, None) => Value::Null,
            },
            J::String(s) => Value::String(s.clone()),
            J::Array(items) => Value::Array(items.iter().map(Value::from_json).collect()),
            J::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    fn into_json(self) -> Option<serde_json::Value> {
        use serde_json::Value as J;
        Some(match self {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(b),
            Value::U64(u) => J::from(u),
            Value::I64(i) => J::from(i),
            Value::F64(f) => J::Number(serde_json::Number::from_f64(f)?),
            Value::String(s) => J::String(s),
            Value::Array(items) => J::Array(
                items
                    .into_iter()
                    .map(Value::into_json)
                    .collect::<Option<_>>()?,
            ),
            Value::Object(entries) => J::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| Some((k, v.into_json()?)))
                    .collect::<Option<_>>()?,
            ),
        })
    }
}

/// A [`Diagnostic`] without its file.
#[derive(Serialize, Deserialize)]
struct DiagnosticRecord<'a> {
    code: Code,
    severity: Severity,
    span: Span,
    message: Cow<'a, str>,
    target: Option<Cow<'a, str>>,
    help: Option<Cow<'a, str>>,
    fix: Option<Cow<'a, Fix>>,
    related: Cow<'a, [String]>,
}

/// Encodes a parse; `None` when it cannot be stored faithfully (a diagnostic about another
/// file, or a value postcard refuses), in which case the note is simply not cached.
fn encode(note: &Note, diagnostics: &[Diagnostic]) -> Option<Vec<u8>> {
    let Note {
        path,
        text: _,
        body_start,
        title,
        front_matter,
        headings,
        blocks,
        links,
        tags,
        lines: _,
        fragments: _,
        near: _,
        comments: _,
        diagrams,
        bases,
        body: _,
    } = note;
    let FrontMatter {
        title: fm_title,
        aliases,
        cssclasses,
        publish,
        draft,
        permalink,
        description,
        date,
        allow,
        extra,
    } = front_matter;
    let mut diags = Vec::with_capacity(diagnostics.len());
    for d in diagnostics {
        let Diagnostic {
            code,
            severity,
            file,
            span,
            message,
            target,
            help,
            fix,
            related,
        } = d;
        if file != path {
            return None;
        }
        diags.push(DiagnosticRecord {
            code: *code,
            severity: *severity,
            span: *span,
            message: Cow::Borrowed(message),
            target: target.as_deref().map(Cow::Borrowed),
            help: help.as_deref().map(Cow::Borrowed),
            fix: fix.as_ref().map(Cow::Borrowed),
            related: Cow::Borrowed(related),
        });
    }
    let record = NoteRecord {
        body_start: u32::try_from(*body_start).ok()?,
        title: Cow::Borrowed(title),
        front_matter: FrontMatterRecord {
            title: fm_title.as_deref().map(Cow::Borrowed),
            aliases: Cow::Borrowed(aliases),
            cssclasses: Cow::Borrowed(cssclasses),
            publish: *publish,
            draft: *draft,
            permalink: permalink.as_deref().map(Cow::Borrowed),
            description: description.as_deref().map(Cow::Borrowed),
            date: date.as_deref().map(Cow::Borrowed),
            allow: Cow::Borrowed(allow),
            extra: extra
                .iter()
                .map(|(k, v)| (Cow::Borrowed(k.as_str()), Value::from_json(v)))
                .collect(),
        },
        headings: Cow::Borrowed(headings),
        blocks: Cow::Borrowed(blocks),
        links: Cow::Borrowed(links),
        tags: Cow::Borrowed(tags),
        diagrams: *diagrams,
        bases: Cow::Borrowed(bases),
        diagnostics: diags,
    };
    postcard::to_allocvec(&record).ok()
}

/// Rebuilds the parse of `file` from its record. Gives the file back when the record does not
/// decode or does not fit the text (so the caller parses it instead).
fn decode(bytes: &[u8], file: SourceFile) -> Result<(Note, Vec<Diagnostic>), SourceFile> {
    let Ok(record) = postcard::from_bytes::<NoteRecord<'static>>(bytes) else {
        return Err(file);
    };
    let text = &file.text;
    let fits = |s: &Span| {
        s.start <= s.end
            && text.is_char_boundary(s.start as usize)
            && text.is_char_boundary(s.end as usize)
    };
    let body_start = record.body_start as usize;
    let fm = record.front_matter;
    let extra: Option<Vec<(String, serde_json::Value)>> = fm
        .extra
        .into_iter()
        .map(|(k, v)| Some((k.into_owned(), v.into_json()?)))
        .collect();
    let valid = text.is_char_boundary(body_start)
        && record.headings.iter().all(|h| fits(&h.span))
        && record
            .blocks
            .iter()
            .all(|b| fits(&b.span) && fits(&b.marker))
        && record.links.iter().all(|l| fits(&l.span))
        && record.tags.iter().all(|t| fits(&t.span))
        && record
            .diagnostics
            .iter()
            .all(|d| fits(&d.span) && d.fix.as_ref().is_none_or(|f| fits(&f.span)));
    let Some(extra) = extra.filter(|_| valid) else {
        return Err(file);
    };
    let SourceFile { path, text, .. } = file;
    let diagnostics = record
        .diagnostics
        .into_iter()
        .map(|d| Diagnostic {
            code: d.code,
            severity: d.severity,
            file: path.clone(),
            span: d.span,
            message: d.message.into_owned(),
            target: d.target.map(Cow::into_owned),
            help: d.help.map(Cow::into_owned),
            fix: d.fix.map(Cow::into_owned),
            related: d.related.into_owned(),
        })
        .collect();
    let note = Note {
        path,
        lines: Default::default(),
        fragments: Default::default(),
        near: Default::default(),
        comments: Default::default(),
        body: None,
        text,
        body_start,
        title: record.title.into_owned(),
        front_matter: FrontMatter {
            title: fm.title.map(Cow::into_owned),
            aliases: fm.aliases.into_owned(),
            cssclasses: fm.cssclasses.into_owned(),
            publish: fm.publish,
            draft: fm.draft,
            permalink: fm.permalink.map(Cow::into_owned),
            description: fm.description.map(Cow::into_owned),
            date: fm.date.map(Cow::into_owned),
            allow: fm.allow.into_owned(),
            extra,
        },
        headings: record.headings.into_owned(),
        blocks: record.blocks.into_owned(),
        links: record.links.into_owned(),
        tags: record.tags.into_owned(),
        diagrams: record.diagrams,
        bases: record.bases.into_owned(),
    };
    Ok((note, diagnostics))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::{Fragment, LinkKind};

    /// Front matter of every kind of value (nested, CJK, floats that a JSON round trip could
    /// change), a deprecated key, and a body with every link kind, fragments, duplicate
    /// headings and blocks, an escaped and an empty wikilink, tags and a comment.
    const EVERYTHING: &str = "---\ntitle: 視覚と言語\naliases: [VLM, 多模態]\ncssclasses: [wide]\ntag: old\ntags: [模型, ai/vision]\ndraft: true\npermalink: /vlm/\ndescription: Ein Überblick\ndate: 2024-05-01\nvaultc:\n  allow: [orphan-note]\nrelated: \"[[CLIP]]\"\nscore: 0.1\nhuge: 1.0e300\nneg: -42\nbig: 18446744073709551615\nnothing: null\nflag: false\nnested:\n  list: [1, \"二\", {deep: [true, 2.5]}]\n  map: {z: 1, a: 2}\n---\n# 視覚\n\nSee [[CLIP]], [[CLIP#Loss#Temperature|the loss]], [[Paper#^quote]] and [text](Other%20Note.md).\n\n![[diagram.png|300]] ![[doc.pdf#page=3]] ![alt](img/x.png)\n\n## Loss\n\nA paragraph with #inline-tag and #模型. ^blk\n\nAgain ^blk\n\n## Loss\n\n\\[\\[escaped]] and [[]] %% [[hidden]] %%\n";

    fn file(path: &str, text: &str) -> SourceFile {
        SourceFile {
            path: VaultPath::new(path).unwrap(),
            text: text.to_string(),
            is_template: false,
        }
    }

    /// A cache file holding the parses of `files`.
    fn cache_of(files: Vec<SourceFile>) -> Vec<u8> {
        let empty = Arc::new(ParseCache::empty());
        let entries = files.into_iter().map(|f| empty.parse(f).2).collect();
        CacheUpdate {
            previous: empty,
            entries,
        }
        .to_bytes()
    }

    /// A parse as text, without the line index (made on first use, so whether it exists
    /// says nothing about the parse).
    fn show(parse: &mut (Note, Vec<Diagnostic>)) -> String {
        // Derived on first use (or seeded by parsing): not part of what is cached.
        parse.0.lines = Default::default();
        parse.0.comments = Default::default();
        format!("{:#?}", parse)
    }

    #[test]
    fn a_note_with_every_field_round_trips_exactly() {
        let (note, mut diags) = crate::parse::note(file("概念/視覚.md", EVERYTHING));
        // The note really has every field populated, so the test covers them.
        let fm = &note.front_matter;
        assert!(fm.title.is_some() && fm.permalink.is_some() && fm.description.is_some());
        assert!(fm.date.is_some() && fm.draft && !fm.allow.is_empty());
        assert!(!fm.aliases.is_empty() && !fm.cssclasses.is_empty());
        assert!(fm.extra.len() >= 7, "{:?}", fm.extra);
        assert!(note.headings.len() == 3 && note.blocks.len() == 1 && note.tags.len() >= 4);
        for kind in [
            LinkKind::Wiki,
            LinkKind::Embed,
            LinkKind::Markdown,
            LinkKind::Property,
        ] {
            assert!(note.links.iter().any(|l| l.kind == kind), "{kind:?}");
        }
        for fragment in [
            |f: &Fragment| matches!(f, Fragment::Heading(p) if p.len() == 2),
            |f: &Fragment| matches!(f, Fragment::Block(_)),
            |f: &Fragment| matches!(f, Fragment::Viewer(_)),
        ] {
            assert!(note
                .links
                .iter()
                .any(|l| l.fragment.as_ref().is_some_and(fragment)));
        }
        assert!(note.links.iter().any(|l| l.label.is_some()));
        for code in [
            Code::DeprecatedProperty,
            Code::DuplicateBlockId,
            Code::DuplicateHeadingAnchor,
            Code::EscapedWikilink,
            Code::EmptyLink,
        ] {
            assert!(diags.iter().any(|d| d.code == code), "{code}: {diags:#?}");
        }
        assert!(diags.iter().any(|d| d.fix.is_some() && d.help.is_some()));
        // Parsing makes no `related` or `target`, but records must keep them if it ever does.
        let mut extra = Diagnostic::new(Code::BrokenLink, note.path.clone(), Span::new(5..9), "m")
            .with_target("CLIP")
            .with_help("did you mean 「CLIP」?");
        extra.severity = Severity::Error;
        extra.fix = Some(Fix {
            span: Span::new(5..9),
            replacement: "視覚".into(),
        });
        extra.related = vec!["a.md".into(), "概念/b.md".into()];
        diags.push(extra);

        let bytes = encode(&note, &diags).expect("encodes");
        let Ok(back) = decode(&bytes, file("概念/視覚.md", EVERYTHING)) else {
            panic!("the record does not decode");
        };
        let mut back = back;
        assert_eq!(show(&mut back), show(&mut (note, diags)));
        // Floats keep their bits, objects their key order.
        let nested = &back.0.front_matter.extra;
        let json = serde_json::to_string(nested).unwrap();
        assert!(json.contains("0.1") && json.contains("1e+300"), "{json}");
        assert!(json.contains(r#""map":{"z":1,"a":2}"#), "{json}");
    }

    #[test]
    fn a_warm_cache_gives_the_same_parse_as_parsing() {
        let files = || {
            vec![
                file("a.md", EVERYTHING),
                file("b/c.md", "# C\n\n[[a]] [[]]\n"),
                SourceFile {
                    is_template: true,
                    ..file("t.md", "---\ndate: {{date}}\n---\nx\n")
                },
            ]
        };
        let cache = ParseCache::from_bytes(cache_of(files())).expect("loads");
        assert_eq!(cache.len(), 3);
        for f in files() {
            let fresh = crate::parse::note(SourceFile {
                path: f.path.clone(),
                text: f.text.clone(),
                is_template: f.is_template,
            });
            let (note, diags, entry) = cache.parse(f);
            assert!(entry.reused(), "{}", note.path);
            let mut fresh = fresh;
            assert_eq!(show(&mut (note, diags)), show(&mut fresh));
        }
    }

    #[test]
    fn a_changed_note_or_template_flag_is_parsed_again() {
        let cache = ParseCache::from_bytes(cache_of(vec![file("a.md", "# A\n")])).unwrap();
        let (note, _, entry) = cache.parse(file("a.md", "# A2\n"));
        assert!(!entry.reused());
        assert_eq!(note.title, "A2");
        let (_, _, entry) = cache.parse(SourceFile {
            is_template: true,
            ..file("a.md", "# A\n")
        });
        assert!(!entry.reused());
        let (_, _, entry) = cache.parse(file("other.md", "# A\n"));
        assert!(!entry.reused());
        assert!(cache.parse(file("a.md", "# A\n")).2.reused());
    }

    #[test]
    fn a_record_that_does_not_fit_the_text_is_refused() {
        let (note, diags) = crate::parse::note(file("a.md", EVERYTHING));
        let bytes = encode(&note, &diags).unwrap();
        // Same record, shorter text: spans would point past its end.
        assert!(decode(&bytes, file("a.md", "short")).is_err());
        // Spans inside a multi-byte character.
        assert!(decode(&bytes, file("a.md", &"視".repeat(EVERYTHING.len()))).is_err());
        assert!(decode(&bytes[..bytes.len() / 2], file("a.md", EVERYTHING)).is_err());
    }

    #[test]
    fn a_damaged_file_is_refused_whatever_the_damage() {
        let bytes = cache_of(vec![file("a.md", EVERYTHING), file("b.md", "[[a]]\n")]);
        assert!(ParseCache::from_bytes(bytes.clone()).is_ok());
        for len in 0..bytes.len() {
            assert!(
                ParseCache::from_bytes(bytes[..len].to_vec()).is_err(),
                "truncated to {len}"
            );
        }
        for at in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x20;
            assert!(
                ParseCache::from_bytes(damaged).is_err(),
                "byte {at} flipped"
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(ParseCache::from_bytes(longer).is_err());
        assert!(matches!(
            ParseCache::from_bytes(b"garbage".to_vec()),
            Err(CacheError::Magic)
        ));
    }

    #[test]
    fn another_version_or_parsing_code_is_stale() {
        let bytes = cache_of(vec![file("a.md", "# A\n")]);
        let ours = header();
        // Another format version, another vaultc version, another hash of the parse sources.
        let mut format = ours.clone();
        format[MAGIC.len()] ^= 1;
        let version_at = MAGIC.len() + 4 + 2;
        let mut version = ours.clone();
        version[version_at] ^= 1;
        let mut sources = ours.clone();
        let last = sources.len() - 1;
        sources[last] ^= 1;
        for other in [format, version, sources] {
            assert!(matches!(
                ParseCache::from_bytes_with_header(bytes.clone(), &other),
                Err(CacheError::Stale(_))
            ));
        }
    }

    #[test]
    fn saving_drops_deleted_notes_and_skips_unchanged_files() {
        let dir = tempfile::tempdir().unwrap();
        let cache_dir = dir.path().join(".site.vaultc-cache");
        let update = |previous: ParseCache, files: Vec<SourceFile>| {
            let previous = Arc::new(previous);
            let entries = files.into_iter().map(|f| previous.parse(f).2).collect();
            CacheUpdate { previous, entries }
        };
        let two = || vec![file("a.md", "# A\n"), file("b.md", "# B\n")];
        assert!(update(ParseCache::empty(), two()).save(&cache_dir).unwrap());
        assert_eq!(
            std::fs::read_to_string(cache_dir.join(".gitignore"))
                .unwrap()
                .lines()
                .last(),
            Some("*")
        );
        // A warm rebuild of the same notes writes nothing; nor does a cold one (`--full`).
        let loaded = ParseCache::load(&cache_dir).unwrap();
        assert!(!update(loaded, two()).save(&cache_dir).unwrap());
        assert!(!update(ParseCache::empty(), two()).save(&cache_dir).unwrap());
        // b.md is gone: its entry goes too.
        let loaded = ParseCache::load(&cache_dir).unwrap();
        assert!(update(loaded, vec![file("a.md", "# A\n")])
            .save(&cache_dir)
            .unwrap());
        let loaded = ParseCache::load(&cache_dir).unwrap();
        assert_eq!(loaded.len(), 1);
        // An edit that keeps the file's length is written, warm or cold.
        let edited = || vec![file("a.md", "# C\n")];
        assert!(update(loaded, edited()).save(&cache_dir).unwrap());
        let loaded = ParseCache::load(&cache_dir).unwrap();
        assert!(!update(loaded, edited()).save(&cache_dir).unwrap());
        assert!(update(ParseCache::empty(), vec![file("a.md", "# D\n")])
            .save(&cache_dir)
            .unwrap());
        let loaded = ParseCache::load(&cache_dir).unwrap();
        assert_eq!(loaded.len(), 1);
        let names: Vec<_> = std::fs::read_dir(&cache_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names.len(), 2, "no temporary file is left: {names:?}");
    }

    #[test]
    fn the_cache_folder_is_a_hidden_sibling_of_the_output() {
        assert_eq!(
            cache_dir(Path::new("/srv/www/site")),
            Some(PathBuf::from("/srv/www/.site.vaultc-cache"))
        );
        assert_eq!(cache_dir(Path::new("/")), None);
    }
}
