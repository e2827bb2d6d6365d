//! Diagnostics are data: every stage returns them instead of printing, the compile step sorts
//! them, and [`emit`] prints them in one of several formats.

pub mod checks;
pub mod ci;
pub mod emit;
pub mod explain;

use serde::{Deserialize, Serialize};

use crate::source::{Span, VaultPath};

/// How bad a diagnostic is. Errors make `check` and `build` exit with 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing, does not fail the command.
    Warning,
    /// The vault is wrong: the command exits with 1.
    Error,
}

/// What a lint is set to: `allow` drops it, `warn` reports a warning, `deny` an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Not reported.
    Allow,
    /// Reported as a warning.
    Warn,
    /// Reported as an error.
    Deny,
}

impl Level {
    /// The severity a diagnostic at this level gets (`None`: not reported).
    pub fn severity(self) -> Option<Severity> {
        match self {
            Level::Allow => None,
            Level::Warn => Some(Severity::Warning),
            Level::Deny => Some(Severity::Error),
        }
    }

    /// Parses `allow`, `warn` or `deny`.
    pub fn from_name(name: &str) -> Option<Level> {
        match name {
            "allow" => Some(Level::Allow),
            "warn" => Some(Level::Warn),
            "deny" => Some(Level::Deny),
            _ => None,
        }
    }
}

macro_rules! codes {
    ($( $variant:ident = $name:literal, $level:ident, $summary:literal; )*) => {
        /// A stable diagnostic code, e.g. `broken-link`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code { $( #[doc = $summary] $variant, )* }

        impl Code {
            /// Every code, in documentation order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The kebab-case name users write (`broken-link`).
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $name,)* }
            }

            /// Level when no configuration changes it.
            pub fn default_level(self) -> Level {
                match self { $(Code::$variant => Level::$level,)* }
            }

            /// Severity when no configuration changes it (allowed codes count as warnings).
            pub fn default_severity(self) -> Severity {
                self.default_level().severity().unwrap_or(Severity::Warning)
            }

            /// One-line description.
            pub fn summary(self) -> &'static str {
                match self { $(Code::$variant => $summary,)* }
            }

            /// Looks a code up by its name.
            pub fn from_name(name: &str) -> Option<Code> {
                match name { $($name => Some(Code::$variant),)* _ => None }
            }
        }
    };
}

codes! {
    BrokenLink = "broken-link", Deny, "A link whose target matches no note.";
    BrokenFragment = "broken-fragment", Warn, "A link to an existing note whose heading or block does not exist.";
    AmbiguousLink = "ambiguous-link", Warn, "A link whose name matches several notes; one wins by Obsidian's tie-break.";
    MissingAttachment = "missing-attachment", Deny, "An embed or link to an image, PDF or other file that does not exist.";
    AliasLink = "alias-link", Deny, "A link that matches only a note's alias, which Obsidian does not resolve.";
    CaseMismatch = "case-mismatch", Allow, "A link that matches its target only when letter case is ignored.";
    EscapedWikilink = "escaped-wikilink", Warn, "An escaped `\\[\\[x]]` that was almost certainly meant as a link.";
    EmptyLink = "empty-link", Warn, "A link with no target, `[[]]`.";
    SelfEmbed = "self-embed", Warn, "A note that embeds itself (or the section the embed is in).";
    EmbedCycle = "embed-cycle", Warn, "Notes that embed each other in a cycle.";
    DuplicateBlockId = "duplicate-block-id", Warn, "The same block id twice in one note; links reach only the first.";
    DuplicateHeadingAnchor = "duplicate-heading-anchor", Allow, "Two headings with the same text in one note; `[[note#Heading]]` reaches only the first.";
    SlugCollision = "slug-collision", Warn, "Two pages that would get the same URL; one was renamed.";
    OrphanNote = "orphan-note", Allow, "A note no other note links to.";
    InvalidFrontMatter = "invalid-front-matter", Deny, "Front matter that is not valid YAML.";
    DeprecatedProperty = "deprecated-property", Warn, "A singular front-matter key (`tag`, `alias`, `cssclass`) Obsidian deprecated, or a single-value `aliases`.";
    UnreadableFile = "unreadable-file", Deny, "A note that cannot be read (invalid UTF-8, permissions, too large).";
    IgnoredSymlink = "ignored-symlink", Warn, "A symbolic link Obsidian ignores: it points into the vault, to a folder holding it, or to what another link brings in.";
    InvalidBase = "invalid-base", Warn, "A `.base` file, or a filter or formula in it, that vaultc cannot read or evaluate.";
    InvalidCanvas = "invalid-canvas", Warn, "A `.canvas` file that is not JSON Canvas, or a card in it that points at nothing.";
    InvalidSettings = "invalid-settings", Warn, "An Obsidian settings file vaultc reads that is not valid JSON, or a setting in it vaultc cannot use.";
    UnusedAttachment = "unused-attachment", Allow, "An attachment (image, PDF, other file) that no note links to or embeds and no canvas shows.";
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Read back by name (the parse cache stores codes), so renumbering codes cannot mix them up.
impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Code, D::Error> {
        struct Name;
        impl serde::de::Visitor<'_> for Name {
            type Value = Code;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a diagnostic code name")
            }
            fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<Code, E> {
                Code::from_name(name).ok_or_else(|| E::custom(format!("unknown code `{name}`")))
            }
        }
        d.deserialize_str(Name)
    }
}

/// One problem found in the vault, anchored to a byte span of one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Stable code.
    pub code: Code,
    /// Severity after configuration.
    pub severity: Severity,
    /// The file the problem is in.
    pub file: VaultPath,
    /// Where in the file (bytes); an empty span at 0 for whole-file problems.
    pub span: Span,
    /// What is wrong, in one sentence.
    pub message: String,
    /// The link target as written, when the problem is about a link.
    pub target: Option<String>,
    /// A suggestion ("did you mean ...").
    pub help: Option<String>,
    /// A machine-applicable replacement of the primary span, when one is certain.
    pub fix: Option<Fix>,
    /// Other places or names involved (e.g. the candidates of an ambiguous link).
    pub related: Vec<String>,
}

/// An edit that fixes a diagnostic: replace `span` of `file` with `replacement`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fix {
    /// The bytes to replace.
    pub span: Span,
    /// What to put there.
    pub replacement: String,
}

impl Diagnostic {
    /// A diagnostic with the code's default severity and no extras.
    pub fn new(code: Code, file: VaultPath, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: code.default_severity(),
            file,
            span,
            message: message.into(),
            target: None,
            help: None,
            fix: None,
            related: Vec::new(),
        }
    }

    /// Sets the link target.
    pub fn with_target(mut self, target: impl Into<String>) -> Diagnostic {
        self.target = Some(target.into());
        self
    }

    /// Sets the help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Sort key: file, position, code; makes output independent of thread scheduling.
    pub fn sort_key(&self) -> (&VaultPath, u32, u32, Code, &str) {
        (
            &self.file,
            self.span.start,
            self.span.end,
            self.code,
            &self.message,
        )
    }
}

/// Counts shown in summaries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Notes in the vault.
    pub notes: usize,
    /// Links and embeds found (including front-matter links).
    pub links: usize,
    /// Diagnostics with severity error.
    pub errors: usize,
    /// Diagnostics with severity warning.
    pub warnings: usize,
}

/// Texts longer than this, in bytes, are neither suggested nor given a suggestion: comparing
/// two costs the product of their lengths (a 200 KB fragment against a 200 KB heading took a
/// minute), and no one means a text that long by a near miss.
pub const SUGGEST_MAX_BYTES: usize = 256;

/// Suggests the closest of `candidates` to `wanted` by normalised edit distance, if close enough.
pub fn closest<'a>(wanted: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let wanted = Wanted::new(wanted)?;
    let mut best = None;
    for candidate in candidates.filter(|c| c.len() <= SUGGEST_MAX_BYTES) {
        wanted.keep_closer(&mut best, &crate::source::fold_name(candidate), candidate);
    }
    best.map(|(_, c)| c)
}

/// A text a suggestion is sought for, folded, with its length in characters.
pub(crate) struct Wanted {
    folded: String,
    chars: usize,
}

impl Wanted {
    /// `None` when `text` is longer than [`SUGGEST_MAX_BYTES`].
    pub(crate) fn new(text: &str) -> Option<Wanted> {
        (text.len() <= SUGGEST_MAX_BYTES).then(|| {
            let folded = crate::source::fold_name(text);
            let chars = folded.chars().count();
            Wanted { folded, chars }
        })
    }

    /// The folded text.
    pub(crate) fn folded(&self) -> &str {
        &self.folded
    }

    /// Keeps in `best` (score, shown text) whichever of it and `shown` (folded: `folded`) is
    /// the better suggestion: a normalised Levenshtein similarity of at least 0.6, the higher,
    /// then the smaller shown text. Texts whose lengths alone rule that score out (the distance
    /// is at least their difference) are not compared.
    pub(crate) fn keep_closer<'a>(
        &self,
        best: &mut Option<(f64, &'a str)>,
        folded: &str,
        shown: &'a str,
    ) {
        let chars = folded.chars().count();
        if self.chars.abs_diff(chars) * 5 > self.chars.max(chars) * 2 {
            return;
        }
        let score = strsim::normalized_levenshtein(&self.folded, folded);
        if score >= 0.6 && best.is_none_or(|(s, c)| score > s || (score == s && shown < c)) {
            *best = Some((score, shown));
        }
    }
}
