//! The expression language of Obsidian Bases (`.base` files): filters and formulas.
//!
//! An [`Expression`] is parsed once from its source text (a filter line or a formula) and
//! evaluated with [`eval`] for every row of a base: the row's file, `this` (the note the base
//! is embedded in), the base's formulas and the build's clock make up the [`Scope`], and the
//! vault is reached through the [`Host`] trait, so this module knows nothing about how notes
//! are stored.
//!
//! The language follows Obsidian's documentation (`Bases syntax`, `Functions`, `Formulas`):
//! JavaScript-like literals (strings, numbers, `true`/`false`/`null`, lists `[a, b]`, objects
//! `{"k": v}`, regular expressions `/re/g` as the pattern of `replace`, `split` or `matches`),
//! names (`author` and `note.author` are note properties, `file.x` file properties,
//! `formula.x` other formulas, `this`), member access, indexing, method and function calls,
//! and the operators `! -` (unary), `* / %`, `+ -`, `< <= > >=`, `== !=`, `&&`, `||` with
//! JavaScript precedence. Values are [`Value`]s: dates are UTC milliseconds (there is no time
//! zone database: a date-time without an offset is read as UTC), durations milliseconds.
//!
//! Choices where Obsidian's behaviour is not documented:
//! * a missing property is `null`; reading a field of `null` or indexing it gives `null`;
//!   calling a method on `null` gives `false` for predicates (`contains`, `hasTag`, ...),
//!   `true` for `isEmpty()`, `""` for `toString()` and `null` otherwise, so filters over
//!   notes lacking a property simply do not match; an unknown method name is still an error;
//! * arithmetic with `null` gives `null`, comparisons (`<`, ...) with `null` are false;
//! * `random()` is deterministic (a hash of the row's file and the call's position) so that
//!   builds are reproducible;
//! * `string.replace(text, ...)` replaces every occurrence, as the documentation says;
//! * a link used as a string (`file.embeds[0].containsAny("jpg")`) is its link text.
//!
//! Evaluation never panics: nesting is capped ([`MAX_DEPTH`] levels in an expression, and a
//! bound on formulas evaluating formulas), strings are capped at [`MAX_TEXT`] bytes, and
//! each evaluation has a work budget, so a hostile base cannot exhaust the stack, memory or
//! time; each of these limits is reported as an [`ExprError`].

use std::cell::{Cell, RefCell};
use std::cmp::Ordering;
use std::collections::HashMap;
use std::str::CharIndices;

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};
use regex::{Captures, Regex, RegexBuilder};

/// How deeply an expression may nest (parentheses, operands, calls): deeper input is a parse
/// error rather than a stack overflow.
pub const MAX_DEPTH: usize = 64;
/// The longest string (in bytes) an expression may build (`repeat`, `+`, `join`, ...).
pub const MAX_TEXT: usize = 1 << 20;
/// How deeply evaluation may nest, counting formulas that use formulas.
const MAX_EVAL_DEPTH: usize = 200;
/// Work units one evaluation may spend (a node, a comparison, a byte or list element built):
/// about 5 ms; what a filter or formula of a real base spends is counted in hundreds.
pub const BUDGET: u64 = 2_000_000;
/// What one list element built costs from the budget (a `Value` is far larger than a byte).
const ELEMENT_COST: u64 = 16;
const DAY_MS: i64 = 86_400_000;

/// A file a base can list: a note or an attachment, numbered by the [`Host`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileRef(pub u32);

/// A value of the Bases type system.
#[derive(Clone, Debug)]
pub enum Value {
    /// No value (a missing property, `if` without its else).
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// Every number (JavaScript semantics: f64).
    Number(f64),
    /// Text.
    String(String),
    /// A date: milliseconds since the Unix epoch (UTC); `time` is false for a date without a
    /// time of day (`date("2024-01-02")`, `today()`, a front-matter `2024-01-02`).
    Date {
        /// Milliseconds since 1970-01-01T00:00:00Z.
        ms: i64,
        /// Whether a time of day was given.
        time: bool,
    },
    /// A duration in milliseconds (`duration("1d")`).
    Duration(i64),
    /// A list.
    List(Vec<Value>),
    /// An object (a front-matter map), keys in file order.
    Object(Vec<(String, Value)>),
    /// A file of the vault (`file`, `this`, `file.file`).
    File(FileRef),
    /// A link: where it resolves (if anywhere), its text as written (the target, without
    /// `[[ ]]`), and its display text.
    Link {
        /// The file it resolves to.
        target: Option<FileRef>,
        /// The target as written, e.g. `Books` or `people/Ann`.
        text: String,
        /// The label (`[[a|label]]`, `link("a", "label")`).
        display: Option<String>,
    },
    /// An image to show (`image(...)`): its source (a path, link text or URL).
    Image(String),
    /// An icon name (`icon("star")`).
    Icon(String),
}

/// A parse or evaluation problem, with the byte offset in the expression it is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExprError {
    /// What went wrong, for a diagnostic ("unknown function `foo`").
    pub message: String,
    /// Byte offset in the expression's source.
    pub at: usize,
}

impl std::fmt::Display for ExprError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (at byte {})", self.message, self.at)
    }
}

impl std::error::Error for ExprError {}

type R<T> = Result<T, ExprError>;

fn err<T>(message: impl Into<String>, at: usize) -> R<T> {
    Err(ExprError {
        message: message.into(),
        at,
    })
}

/// A parsed expression.
#[derive(Clone, Debug)]
pub struct Expression {
    source: String,
    root: Node,
}

impl Expression {
    /// Parses `source`.
    pub fn parse(source: &str) -> Result<Expression, ExprError> {
        let tokens = lex(source)?;
        let mut parser = Parser {
            toks: &tokens,
            pos: 0,
            depth: 0,
        };
        if matches!(parser.peek(), Tok::End) {
            return err("empty expression", 0);
        }
        let root = parser.expr()?;
        let next = parser.next_token();
        if !matches!(next.tok, Tok::End) {
            return err(
                format!("unexpected {} after the expression", next.tok.describe()),
                next.at,
            );
        }
        Ok(Expression {
            source: source.to_string(),
            root,
        })
    }

    /// The text the expression was parsed from (error offsets are byte offsets into it).
    pub fn source(&self) -> &str {
        &self.source
    }
}

/// What an expression can ask of the vault.
pub trait Host {
    /// A front-matter property of `file` (`note.key`, `note["key"]` or a bare `key`); `None`
    /// when the file has no such property (or is not a note). Wikilinks in text values arrive
    /// as [`Value::Link`] already.
    fn note_property(&self, file: FileRef, key: &str) -> Option<Value>;
    /// A file property (`file.name`, `file.basename`, `file.path`, `file.folder`, `file.ext`,
    /// `file.size`, `file.links`, `file.embeds`, `file.tags`, `file.backlinks`,
    /// `file.properties`, `file.mtime`, `file.ctime`); `None` for a key the host does not know.
    fn file_property(&self, file: FileRef, key: &str) -> Option<Value>;
    /// `link(text)` written in a base shown for `from`: `text` may be `Name`, `[[Name]]`,
    /// `[[Name|label]]` or a URL; resolved as a link in `from` would be.
    fn link(&self, from: Option<FileRef>, text: &str) -> Value;
    /// `file(path)`: the file at that vault path or link text.
    fn file(&self, from: Option<FileRef>, text: &str) -> Option<FileRef>;
    /// `file.hasLink(target)` (`target` a [`Value::File`] or [`Value::Link`]) without making
    /// the list of `file.links`: a filter asks it of every file of the vault. `None` when the
    /// host has no quicker answer; the answer must equal `file.links.contains(target)`.
    fn has_link(&self, file: FileRef, target: &Value) -> Option<bool> {
        let _ = (file, target);
        None
    }
}

/// Where an expression is evaluated: the row's file, the embedding note and the base's
/// formulas.
pub struct Scope<'a> {
    /// The vault.
    pub host: &'a dyn Host,
    /// The file of the row (`file`, and whose note properties bare names read).
    pub file: FileRef,
    /// `this`: the note the base is embedded in, if any.
    pub this: Option<FileRef>,
    /// The base's formulas (`formula.name`), in file order; an unparsable one is its error.
    pub formulas: &'a [(String, Result<Expression, ExprError>)],
    /// What `now()` returns, in milliseconds since the epoch (the build's clock, so a build
    /// can be reproduced with `SOURCE_DATE_EPOCH`); `today()` is its UTC midnight.
    pub now_ms: i64,
    /// `values` in a summary formula: the list of a column's values over the rows it sums
    /// up (`None` elsewhere, where `values` is a note property like any other name).
    pub values: Option<&'a Value>,
}

/// Evaluates `expr` in `scope`, with one evaluation's budget of work ([`BUDGET`]).
pub fn eval(expr: &Expression, scope: &Scope<'_>) -> Result<Value, ExprError> {
    eval_within(expr, scope, &Cell::new(BUDGET))
}

/// Evaluates `expr` in `scope`, spending at most [`BUDGET`] units of work and at most what
/// is left in `budget`, which is shared by many evaluations (every row of a view): a base
/// evaluated over a whole vault stays bounded however costly each expression is.
pub fn eval_within(
    expr: &Expression,
    scope: &Scope<'_>,
    budget: &Cell<u64>,
) -> Result<Value, ExprError> {
    let start = budget.get().min(BUDGET);
    let ctx = Ctx {
        scope,
        stack: RefCell::new(Vec::new()),
        memo: RefCell::new(HashMap::new()),
        depth: Cell::new(0),
        budget: Cell::new(start),
    };
    let result = ctx.eval(&expr.root, Locals::default());
    budget.set(budget.get() - (start - ctx.budget.get()));
    result
}

impl Value {
    /// JavaScript-like truthiness (`null`, `false`, `0`, `""`, an empty list are false).
    ///
    /// NaN, an empty object, a zero duration and an empty image or icon are false too;
    /// dates, files and links are always true.
    pub fn is_truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Number(n) => *n != 0.0 && !n.is_nan(),
            Value::String(s) | Value::Image(s) | Value::Icon(s) => !s.is_empty(),
            Value::Duration(ms) => *ms != 0,
            Value::List(items) => !items.is_empty(),
            Value::Object(entries) => !entries.is_empty(),
            Value::Date { .. } | Value::File(_) | Value::Link { .. } => true,
        }
    }

    /// The value as text (`toString()`).
    ///
    /// Numbers as JavaScript prints them (`3`, `2.5`, `1e+21`), dates as `YYYY-MM-DD` or
    /// `YYYY-MM-DD HH:mm:ss` (UTC), durations as `1d 2h 3m 4s`, lists joined with `, `,
    /// objects as `key: value` pairs, links as their display text (else their link text).
    /// A file is the empty string: its name needs the [`Host`], so renderers show files
    /// through it.
    pub fn to_text(&self) -> String {
        match self {
            Value::Null | Value::File(_) => String::new(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => number_text(*n),
            Value::String(s) | Value::Image(s) | Value::Icon(s) => s.clone(),
            Value::Date { ms, time } => date_text(*ms, *time),
            Value::Duration(ms) => duration_text(*ms),
            Value::List(items) => {
                let mut out = String::new();
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(&item.to_text());
                }
                out
            }
            Value::Object(entries) => {
                let mut out = String::new();
                for (i, (key, value)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(key);
                    out.push_str(": ");
                    out.push_str(&value.to_text());
                }
                out
            }
            Value::Link { text, display, .. } => display.clone().unwrap_or_else(|| text.clone()),
        }
    }

    /// Whether the value is empty (`isEmpty()`): `null`, `""`, an empty list or object. Empty
    /// values sort last in [`compare`] and count as "Empty" in summaries.
    pub fn is_empty(&self) -> bool {
        match self {
            Value::Null => true,
            Value::String(s) => s.is_empty(),
            Value::List(items) => items.is_empty(),
            Value::Object(entries) => entries.is_empty(),
            _ => false,
        }
    }

    /// The type's name as `isType()` knows it: `null`, `boolean`, `number`, `string`, `date`,
    /// `duration`, `list`, `object`, `file`, `link`, `image` or `icon`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Date { .. } => "date",
            Value::Duration(_) => "duration",
            Value::List(_) => "list",
            Value::Object(_) => "object",
            Value::File(_) => "file",
            Value::Link { .. } => "link",
            Value::Image(_) => "image",
            Value::Icon(_) => "icon",
        }
    }

    /// The `==` of the language (so grouping and `unique()` elsewhere agree with it): same
    /// type and value, links equal when they resolve to the same file (or, both unresolved,
    /// have the same text ignoring case), a link equals the file it resolves to, a string
    /// equals a link with that text, a date equals a string naming the same instant, lists
    /// and objects element by element.
    pub fn equals(&self, other: &Value) -> bool {
        values_equal(self, other)
    }
}

/// The order rows are sorted in: a total order (numbers by value, text by its folded
/// letters, dates by time, ...); empty values (`Null`, `""`, an empty list) last.
///
/// Non-empty values of different types are ordered by type (booleans, numbers, dates,
/// durations, strings, links, files, lists, objects, images, icons); NaN sorts after the other
/// numbers; strings compare case-insensitively, then byte by byte; links by their text;
/// files by their number; lists element by element.
pub fn compare(a: &Value, b: &Value) -> Ordering {
    let (ra, rb) = (sort_rank(a), sort_rank(b));
    if ra != rb {
        return ra.cmp(&rb);
    }
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Number(x), Value::Number(y)) => match (x.is_nan(), y.is_nan()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
        },
        (Value::Date { ms: x, time: tx }, Value::Date { ms: y, time: ty }) => {
            x.cmp(y).then(tx.cmp(ty))
        }
        (Value::Duration(x), Value::Duration(y)) => x.cmp(y),
        (Value::String(x), Value::String(y)) => fold_cmp(x, y).then_with(|| x.cmp(y)),
        (
            Value::Link {
                target: t1,
                text: x1,
                display: d1,
            },
            Value::Link {
                target: t2,
                text: x2,
                display: d2,
            },
        ) => {
            let (s1, s2) = (a.to_text(), b.to_text());
            fold_cmp(&s1, &s2)
                .then_with(|| s1.cmp(&s2))
                .then_with(|| x1.cmp(x2))
                .then_with(|| d1.cmp(d2))
                .then_with(|| t1.cmp(t2))
        }
        (Value::File(x), Value::File(y)) => x.cmp(y),
        (Value::List(x), Value::List(y)) => {
            for (p, q) in x.iter().zip(y) {
                let o = compare(p, q);
                if o != Ordering::Equal {
                    return o;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Object(x), Value::Object(y)) => {
            for ((k1, v1), (k2, v2)) in x.iter().zip(y) {
                let o = fold_cmp(k1, k2)
                    .then_with(|| k1.cmp(k2))
                    .then_with(|| compare(v1, v2));
                if o != Ordering::Equal {
                    return o;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Image(x), Value::Image(y)) | (Value::Icon(x), Value::Icon(y)) => x.cmp(y),
        // Same rank, so both are empty values of the same kind, or `Null`s.
        _ => Ordering::Equal,
    }
}

/// Reads a date as front matter and `date()` write it: `YYYY-MM-DD`, optionally followed by
/// `T` or a space and `HH:mm`, `HH:mm:ss` or `HH:mm:ss.SSS`, optionally followed by `Z` or
/// an offset (`+02:00`, `+0200`, `+02`). A time without an offset is UTC. `None` when the
/// text is not such a date (or names no real day, like `2023-02-30`).
pub fn parse_date(text: &str) -> Option<Value> {
    let s = text.trim().as_bytes();
    let mut p = 0;
    let year = digits(s, &mut p, 4, 4)?;
    if s.get(p) != Some(&b'-') {
        return None;
    }
    p += 1;
    let month = digits(s, &mut p, 1, 2)?;
    if s.get(p) != Some(&b'-') {
        return None;
    }
    p += 1;
    let day = digits(s, &mut p, 1, 2)?;
    let date = jiff::civil::Date::new(
        i16::try_from(year).ok()?,
        i8::try_from(month).ok()?,
        i8::try_from(day).ok()?,
    )
    .ok()?;
    if p == s.len() {
        let ms = civil_ms(date.to_datetime(jiff::civil::Time::midnight()))?;
        return Some(Value::Date { ms, time: false });
    }
    match s.get(p) {
        Some(b'T' | b't') => p += 1,
        Some(b' ') => {
            while s.get(p) == Some(&b' ') {
                p += 1;
            }
        }
        _ => return None,
    }
    let hour = digits(s, &mut p, 1, 2)?;
    if s.get(p) != Some(&b':') {
        return None;
    }
    p += 1;
    let minute = digits(s, &mut p, 2, 2)?;
    let mut second = 0;
    let mut nanos = 0i64;
    if s.get(p) == Some(&b':') {
        p += 1;
        second = digits(s, &mut p, 2, 2)?;
        if s.get(p) == Some(&b'.') || s.get(p) == Some(&b',') {
            p += 1;
            let start = p;
            let mut scale = 100_000_000i64;
            while let Some(d) = s.get(p).filter(|c| c.is_ascii_digit()) {
                nanos += i64::from(d - b'0') * scale;
                scale /= 10;
                p += 1;
            }
            if p == start {
                return None;
            }
        }
    }
    while s.get(p) == Some(&b' ') {
        p += 1;
    }
    let mut offset_ms = 0i64;
    match s.get(p) {
        None => {}
        Some(b'Z' | b'z') => p += 1,
        Some(&sign @ (b'+' | b'-')) => {
            p += 1;
            let oh = digits(s, &mut p, 2, 2)?;
            if s.get(p) == Some(&b':') {
                p += 1;
            }
            let om = if p < s.len() {
                digits(s, &mut p, 2, 2)?
            } else {
                0
            };
            if oh > 23 || om > 59 {
                return None;
            }
            offset_ms = (i64::from(oh) * 60 + i64::from(om)) * 60_000;
            if sign == b'-' {
                offset_ms = -offset_ms;
            }
        }
        _ => return None,
    }
    if p != s.len() {
        return None;
    }
    let time = jiff::civil::Time::new(
        i8::try_from(hour).ok()?,
        i8::try_from(minute).ok()?,
        i8::try_from(second).ok()?,
        i32::try_from(nanos).ok()?,
    )
    .ok()?;
    let ms = civil_ms(date.to_datetime(time))?.checked_sub(offset_ms)?;
    civil(ms)?;
    Some(Value::Date { ms, time: true })
}

/// Reads `min..=max` ASCII digits at `*p`.
fn digits(s: &[u8], p: &mut usize, min: usize, max: usize) -> Option<u32> {
    let start = *p;
    let mut v = 0u32;
    while *p - start < max {
        match s.get(*p) {
            Some(d) if d.is_ascii_digit() => {
                v = v * 10 + u32::from(d - b'0');
                *p += 1;
            }
            _ => break,
        }
    }
    (*p - start >= min).then_some(v)
}

// ---------------------------------------------------------------------------------------------
// Lexer

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Num(f64),
    Str(String),
    Ident(String),
    Regex(String, String),
    Punct(&'static str),
    End,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Num(n) => format!("number `{}`", number_text(*n)),
            Tok::Str(_) => "string".to_string(),
            Tok::Ident(name) => format!("`{name}`"),
            Tok::Regex(..) => "regular expression".to_string(),
            Tok::Punct(p) => format!("`{p}`"),
            Tok::End => "end of expression".to_string(),
        }
    }
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    at: usize,
}

const PUNCT2: [&str; 6] = ["==", "!=", "<=", ">=", "&&", "||"];
const PUNCT1: [&str; 17] = [
    "(", ")", "[", "]", "{", "}", ",", ".", ":", "!", "+", "-", "*", "/", "%", "<", ">",
];

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == '$'
}

fn is_ident_continue(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

fn lex(src: &str) -> R<Vec<Token>> {
    let mut out: Vec<Token> = Vec::new();
    let mut i = 0;
    while let Some(c) = src[i..].chars().next() {
        let at = i;
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        let tok = if c.is_ascii_digit() {
            let end = scan_number(src.as_bytes(), i);
            let text = &src[i..end];
            i = end;
            match text.parse::<f64>() {
                Ok(n) => Tok::Num(n),
                Err(_) => return err(format!("invalid number `{text}`"), at),
            }
        } else if c == '"' || c == '\'' {
            let (text, end) = lex_string(src, i, c)?;
            i = end;
            Tok::Str(text)
        } else if is_ident_start(c) {
            let end = src[i..]
                .char_indices()
                .find(|&(_, c)| !is_ident_continue(c))
                .map_or(src.len(), |(o, _)| i + o);
            let name = src[i..end].to_string();
            i = end;
            Tok::Ident(name)
        } else if c == '/' && regex_allowed(out.last()) {
            let (pattern, flags, end) = lex_regex(src, i)?;
            i = end;
            Tok::Regex(pattern, flags)
        } else if let Some(&p) = PUNCT2.iter().find(|p| src[i..].starts_with(**p)) {
            i += 2;
            Tok::Punct(p)
        } else if let Some(&p) = PUNCT1.iter().find(|p| src[i..].starts_with(**p)) {
            i += 1;
            Tok::Punct(p)
        } else if c == '=' {
            return err("use `==` to compare values", at);
        } else if c == '&' || c == '|' {
            return err(format!("use `{c}{c}` for a logical operator"), at);
        } else {
            return err(format!("unexpected character `{c}`"), at);
        };
        out.push(Token { tok, at });
    }
    out.push(Token {
        tok: Tok::End,
        at: src.len(),
    });
    Ok(out)
}

/// Where a `/` starts a regular expression rather than dividing: where an operand is
/// expected.
fn regex_allowed(prev: Option<&Token>) -> bool {
    match prev.map(|t| &t.tok) {
        None => true,
        Some(Tok::Num(_) | Tok::Str(_) | Tok::Ident(_) | Tok::Regex(..) | Tok::End) => false,
        Some(Tok::Punct(p)) => !matches!(*p, ")" | "]" | "}"),
    }
}

fn scan_number(s: &[u8], mut i: usize) -> usize {
    let is_digit = |i: usize| s.get(i).is_some_and(u8::is_ascii_digit);
    while is_digit(i) {
        i += 1;
    }
    if s.get(i) == Some(&b'.') && is_digit(i + 1) {
        i += 1;
        while is_digit(i) {
            i += 1;
        }
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(s.get(i + 1), Some(b'+' | b'-')));
        if is_digit(i + 1 + sign) {
            i += 1 + sign;
            while is_digit(i) {
                i += 1;
            }
        }
    }
    i
}

fn hex_digits(it: &mut CharIndices<'_>, n: usize) -> Option<u32> {
    let mut v = 0u32;
    for _ in 0..n {
        let (_, c) = it.next()?;
        v = v * 16 + c.to_digit(16)?;
    }
    Some(v)
}

/// A string literal starting with `quote` at `start`: its value and the offset after it.
fn lex_string(src: &str, start: usize, quote: char) -> R<(String, usize)> {
    let body = start + 1;
    let mut out = String::new();
    let mut it = src[body..].char_indices();
    while let Some((off, c)) = it.next() {
        if c == quote {
            return Ok((out, body + off + 1));
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some((_, e)) = it.next() else { break };
        let bad = || err(format!("invalid escape `\\{e}`"), body + off);
        match e {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'v' => out.push('\u{b}'),
            '0' => out.push('\0'),
            '\n' => {}
            'x' => match hex_digits(&mut it, 2).and_then(char::from_u32) {
                Some(c) => out.push(c),
                None => return bad(),
            },
            'u' => {
                let code = if it.clone().next().map(|(_, c)| c) == Some('{') {
                    it.next();
                    let mut v = 0u32;
                    let mut n = 0;
                    loop {
                        match it.next() {
                            Some((_, '}')) if n > 0 => break,
                            Some((_, c)) if n < 6 && c.is_ascii_hexdigit() => {
                                v = v * 16 + c.to_digit(16).unwrap_or(0);
                                n += 1;
                            }
                            _ => return bad(),
                        }
                    }
                    v
                } else {
                    match hex_digits(&mut it, 4) {
                        Some(v) => v,
                        None => return bad(),
                    }
                };
                if (0xD800..0xDC00).contains(&code) {
                    // A UTF-16 surrogate pair written as two escapes.
                    let mut look = it.clone();
                    let low = match (look.next(), look.next()) {
                        (Some((_, '\\')), Some((_, 'u'))) => hex_digits(&mut look, 4),
                        _ => None,
                    };
                    match low.filter(|l| (0xDC00..0xE000).contains(l)) {
                        Some(low) => {
                            it = look;
                            let c = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                            out.push(char::from_u32(c).unwrap_or('\u{FFFD}'));
                        }
                        None => out.push('\u{FFFD}'),
                    }
                } else {
                    match char::from_u32(code) {
                        Some(c) => out.push(c),
                        None if code < 0x11_0000 => out.push('\u{FFFD}'),
                        None => return bad(),
                    }
                }
            }
            other => out.push(other),
        }
    }
    err("unterminated string", start)
}

/// A regular expression literal at `start`: its pattern, flags and the offset after it.
fn lex_regex(src: &str, start: usize) -> R<(String, String, usize)> {
    let mut pattern = String::new();
    let mut it = src[start + 1..].char_indices();
    let mut in_class = false;
    while let Some((off, c)) = it.next() {
        match c {
            '\n' | '\r' => break,
            '\\' => match it.next() {
                Some((_, '/')) => pattern.push('/'),
                Some((_, e)) => {
                    pattern.push('\\');
                    pattern.push(e);
                }
                None => break,
            },
            '[' => {
                in_class = true;
                pattern.push(c);
            }
            ']' => {
                in_class = false;
                pattern.push(c);
            }
            '/' if !in_class => {
                let flags_start = start + 1 + off + 1;
                let end = src[flags_start..]
                    .char_indices()
                    .find(|&(_, c)| !is_ident_continue(c))
                    .map_or(src.len(), |(o, _)| flags_start + o);
                return Ok((pattern, src[flags_start..end].to_string(), end));
            }
            _ => pattern.push(c),
        }
    }
    err("unterminated regular expression", start)
}

// ---------------------------------------------------------------------------------------------
// Syntax tree and parser

#[derive(Clone, Debug)]
struct Node {
    kind: Kind,
    /// The byte offset errors about this node point at (an operator, a call's name, ...).
    at: usize,
    /// How deeply nested the node is (1 for a leaf).
    depth: usize,
}

#[derive(Clone, Debug)]
enum Kind {
    Lit(Value),
    Regex(Box<JsRegex>),
    Name(String),
    List(Vec<Node>),
    Object(Vec<(String, Node)>),
    Member(Box<Node>, String),
    Index(Box<Node>, Box<Node>),
    Call(String, Vec<Node>),
    Method(Box<Node>, String, Vec<Node>),
    Not(Box<Node>),
    Neg(Box<Node>),
    Binary(BinOp, Box<Node>, Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A compiled regular expression literal; `global` is its `g` flag.
#[derive(Clone, Debug)]
struct JsRegex {
    re: Regex,
    global: bool,
}

fn compile_regex(pattern: &str, flags: &str, at: usize) -> R<JsRegex> {
    let mut builder = RegexBuilder::new(pattern);
    builder
        .size_limit(1 << 20)
        .dfa_size_limit(1 << 20)
        .nest_limit(64);
    let mut global = false;
    for f in flags.chars() {
        match f {
            'g' => global = true,
            'i' => {
                builder.case_insensitive(true);
            }
            'm' => {
                builder.multi_line(true);
            }
            's' => {
                builder.dot_matches_new_line(true);
            }
            'u' | 'y' | 'd' | 'v' => {}
            other => return err(format!("unknown regular expression flag `{other}`"), at),
        }
    }
    match builder.build() {
        Ok(re) => Ok(JsRegex { re, global }),
        Err(e) => {
            let detail = e.to_string();
            let last = detail.lines().last().unwrap_or("").trim().to_string();
            err(format!("invalid regular expression: {last}"), at)
        }
    }
}

fn kind_depth(kind: &Kind) -> usize {
    let max = |nodes: &mut dyn Iterator<Item = &Node>| nodes.map(|n| n.depth).max().unwrap_or(0);
    match kind {
        Kind::Lit(_) | Kind::Regex(_) | Kind::Name(_) => 0,
        Kind::List(items) | Kind::Call(_, items) => max(&mut items.iter()),
        Kind::Object(entries) => max(&mut entries.iter().map(|(_, n)| n)),
        Kind::Member(n, _) | Kind::Not(n) | Kind::Neg(n) => n.depth,
        Kind::Method(n, _, args) => n.depth.max(max(&mut args.iter())),
        Kind::Index(a, b) | Kind::Binary(_, a, b) | Kind::And(a, b) | Kind::Or(a, b) => {
            a.depth.max(b.depth)
        }
    }
}

fn make(kind: Kind, at: usize) -> R<Node> {
    let depth = kind_depth(&kind) + 1;
    if depth > MAX_DEPTH {
        return err(
            format!("expression nested too deeply (more than {MAX_DEPTH} levels)"),
            at,
        );
    }
    Ok(Node { kind, at, depth })
}

struct Parser<'t> {
    toks: &'t [Token],
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        self.toks.get(self.pos).map_or(&Tok::End, |t| &t.tok)
    }

    fn peek_at(&self) -> usize {
        self.toks
            .get(self.pos)
            .or(self.toks.last())
            .map_or(0, |t| t.at)
    }

    fn next_token(&mut self) -> Token {
        match self.toks.get(self.pos) {
            Some(t) => {
                self.pos += 1;
                t.clone()
            }
            None => Token {
                tok: Tok::End,
                at: self.peek_at(),
            },
        }
    }

    fn is_punct(&self, p: &str) -> bool {
        matches!(self.peek(), Tok::Punct(q) if *q == p)
    }

    fn expect(&mut self, p: &str) -> R<usize> {
        let t = self.next_token();
        match t.tok {
            Tok::Punct(q) if q == p => Ok(t.at),
            other => err(format!("expected `{p}`, found {}", other.describe()), t.at),
        }
    }

    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return err(
                format!("expression nested too deeply (more than {MAX_DEPTH} levels)"),
                self.peek_at(),
            );
        }
        Ok(())
    }

    fn expr(&mut self) -> R<Node> {
        self.enter()?;
        let node = self.binary(1)?;
        self.depth -= 1;
        Ok(node)
    }

    /// Binary operators by precedence climbing: operators binding at least as tightly as
    /// `min` (one frame per precedence step, not per level of the grammar).
    fn binary(&mut self, min: u8) -> R<Node> {
        let mut left = self.unary()?;
        while let Some((prec, op)) = binary_op(self.peek()) {
            if prec < min {
                break;
            }
            let at = self.next_token().at;
            self.enter()?;
            let right = self.binary(prec + 1)?;
            self.depth -= 1;
            left = make(binary_kind(op, left, right), at)?;
        }
        Ok(left)
    }

    fn unary(&mut self) -> R<Node> {
        let op = match self.peek() {
            Tok::Punct(p @ ("!" | "-" | "+")) => *p,
            _ => return self.postfix(),
        };
        let at = self.next_token().at;
        self.enter()?;
        let operand = self.unary()?;
        self.depth -= 1;
        match op {
            "!" => make(Kind::Not(Box::new(operand)), at),
            "-" => make(Kind::Neg(Box::new(operand)), at),
            // Unary plus: JavaScript's conversion to a number.
            _ => make(Kind::Call("number".to_string(), vec![operand]), at),
        }
    }

    fn postfix(&mut self) -> R<Node> {
        let mut node = self.primary()?;
        loop {
            node = if self.is_punct(".") {
                self.dot_suffix(node)?
            } else if self.is_punct("[") {
                self.index_suffix(node)?
            } else if self.is_punct("(") {
                return Err(not_callable(self.peek_at()));
            } else {
                return Ok(node);
            };
        }
    }

    /// `.name` or `.name(args)` after `node` (the `.` is next).
    fn dot_suffix(&mut self, node: Node) -> R<Node> {
        self.next_token();
        let t = self.next_token();
        let Tok::Ident(name) = t.tok else {
            return Err(expected_name(&t.tok, t.at));
        };
        if self.is_punct("(") {
            let args = self.args()?;
            make(Kind::Method(Box::new(node), name, args), t.at)
        } else {
            make(Kind::Member(Box::new(node), name), t.at)
        }
    }

    /// `[index]` after `node` (the `[` is next).
    fn index_suffix(&mut self, node: Node) -> R<Node> {
        let at = self.next_token().at;
        let index = self.expr()?;
        self.expect("]")?;
        make(Kind::Index(Box::new(node), Box::new(index)), at)
    }

    /// A parenthesised argument list (the `(` is next).
    fn args(&mut self) -> R<Vec<Node>> {
        self.expect("(")?;
        self.enter()?;
        let mut args = Vec::new();
        while !self.is_punct(")") {
            args.push(self.expr()?);
            if !self.is_punct(")") {
                self.expect(",")?;
            }
        }
        self.next_token();
        self.depth -= 1;
        Ok(args)
    }

    fn primary(&mut self) -> R<Node> {
        let t = self.next_token();
        let at = t.at;
        match t.tok {
            Tok::Num(n) => make(Kind::Lit(Value::Number(n)), at),
            Tok::Str(s) => make(Kind::Lit(Value::String(s)), at),
            Tok::Regex(pattern, flags) => {
                let re = compile_regex(&pattern, &flags, at)?;
                make(Kind::Regex(Box::new(re)), at)
            }
            Tok::Ident(name) => self.name_or_call(name, at),
            Tok::Punct("(") => {
                let inner = self.expr()?;
                self.expect(")")?;
                Ok(inner)
            }
            Tok::Punct("[") => self.list_literal(at),
            Tok::Punct("{") => self.object_literal(at),
            other => Err(unexpected(&other, at)),
        }
    }

    fn name_or_call(&mut self, name: String, at: usize) -> R<Node> {
        if self.is_punct("(") {
            let args = self.args()?;
            return make(Kind::Call(name, args), at);
        }
        let kind = match name.as_str() {
            "true" => Kind::Lit(Value::Bool(true)),
            "false" => Kind::Lit(Value::Bool(false)),
            "null" => Kind::Lit(Value::Null),
            _ => Kind::Name(name),
        };
        make(kind, at)
    }

    /// `[a, b]` (the `[` at `at` is read).
    fn list_literal(&mut self, at: usize) -> R<Node> {
        self.enter()?;
        let mut items = Vec::new();
        while !self.is_punct("]") {
            items.push(self.expr()?);
            if !self.is_punct("]") {
                self.expect(",")?;
            }
        }
        self.next_token();
        self.depth -= 1;
        make(Kind::List(items), at)
    }

    /// `{"key": value, key: value}` (the `{` at `at` is read).
    fn object_literal(&mut self, at: usize) -> R<Node> {
        self.enter()?;
        let mut entries = Vec::new();
        while !self.is_punct("}") {
            let k = self.next_token();
            let key = match k.tok {
                Tok::Str(s) | Tok::Ident(s) => s,
                Tok::Num(n) => number_text(n),
                other => return Err(expected_key(&other, k.at)),
            };
            self.expect(":")?;
            entries.push((key, self.expr()?));
            if !self.is_punct("}") {
                self.expect(",")?;
            }
        }
        self.next_token();
        self.depth -= 1;
        make(Kind::Object(entries), at)
    }
}

/// The precedence (higher binds tighter) and spelling of a binary operator token.
fn binary_op(tok: &Tok) -> Option<(u8, &'static str)> {
    let Tok::Punct(p) = tok else {
        return None;
    };
    let prec = match *p {
        "||" => 1,
        "&&" => 2,
        "==" | "!=" => 3,
        "<" | "<=" | ">" | ">=" => 4,
        "+" | "-" => 5,
        "*" | "/" | "%" => 6,
        _ => return None,
    };
    Some((prec, p))
}

fn binary_kind(op: &str, left: Node, right: Node) -> Kind {
    let (l, r) = (Box::new(left), Box::new(right));
    let op = match op {
        "||" => return Kind::Or(l, r),
        "&&" => return Kind::And(l, r),
        "==" => BinOp::Eq,
        "!=" => BinOp::Ne,
        "<" => BinOp::Lt,
        "<=" => BinOp::Le,
        ">" => BinOp::Gt,
        ">=" => BinOp::Ge,
        "+" => BinOp::Add,
        "-" => BinOp::Sub,
        "*" => BinOp::Mul,
        "/" => BinOp::Div,
        _ => BinOp::Rem,
    };
    Kind::Binary(op, l, r)
}

#[cold]
#[inline(never)]
fn unexpected(tok: &Tok, at: usize) -> ExprError {
    let message = match tok {
        Tok::End => "unexpected end of expression".to_string(),
        other => format!("unexpected {}", other.describe()),
    };
    ExprError { message, at }
}

#[cold]
#[inline(never)]
fn expected_name(tok: &Tok, at: usize) -> ExprError {
    ExprError {
        message: format!("expected a name after `.`, found {}", tok.describe()),
        at,
    }
}

#[cold]
#[inline(never)]
fn not_callable(at: usize) -> ExprError {
    ExprError {
        message: "only functions can be called".to_string(),
        at,
    }
}

#[cold]
#[inline(never)]
fn expected_key(tok: &Tok, at: usize) -> ExprError {
    ExprError {
        message: format!("expected an object key, found {}", tok.describe()),
        at,
    }
}

// ---------------------------------------------------------------------------------------------
// Evaluation

/// The names bound inside `filter`, `map` and `reduce` arguments.
#[derive(Clone, Copy, Default)]
struct Locals<'v> {
    value: Option<&'v Value>,
    index: Option<usize>,
    acc: Option<&'v Value>,
}

struct Ctx<'s, 'a> {
    scope: &'s Scope<'a>,
    /// The formulas being evaluated, outermost first (to report cycles).
    stack: RefCell<Vec<usize>>,
    /// Formula values already computed in this evaluation.
    memo: RefCell<HashMap<usize, Value>>,
    depth: Cell<usize>,
    budget: Cell<u64>,
}

const ANY_METHODS: &[&str] = &["isTruthy", "isType", "toString", "isEmpty"];
const STRING_METHODS: &[&str] = &[
    "contains",
    "containsAll",
    "containsAny",
    "startsWith",
    "endsWith",
    "lower",
    "upper",
    "title",
    "trim",
    "replace",
    "split",
    "slice",
    "reverse",
    "repeat",
];
const NUMBER_METHODS: &[&str] = &["toFixed", "round", "abs", "ceil", "floor"];
const DATE_METHODS: &[&str] = &["date", "time", "format", "relative"];
const LIST_METHODS: &[&str] = &[
    "contains",
    "containsAll",
    "containsAny",
    "filter",
    "map",
    "reduce",
    "join",
    "unique",
    "sort",
    "flat",
    "reverse",
    "slice",
    "mean",
];
const FILE_METHODS: &[&str] = &["asLink", "hasLink", "hasTag", "inFolder", "hasProperty"];
const LINK_METHODS: &[&str] = &["asFile", "linksTo"];
const OBJECT_METHODS: &[&str] = &["keys", "values"];
/// Methods that answer a question: on `null` they are false.
const PREDICATES: &[&str] = &[
    "contains",
    "containsAll",
    "containsAny",
    "startsWith",
    "endsWith",
    "hasLink",
    "hasTag",
    "inFolder",
    "hasProperty",
    "linksTo",
    "matches",
];
const FUNCTIONS: &[&str] = &[
    "if",
    "link",
    "list",
    "date",
    "duration",
    "now",
    "today",
    "number",
    "min",
    "max",
    "file",
    "image",
    "icon",
    "escapeHTML",
    "html",
    "random",
];
const TYPE_NAMES: &[&str] = &[
    "null", "boolean", "number", "string", "date", "duration", "list", "object", "file", "link",
    "image", "icon",
];

fn is_method(name: &str) -> bool {
    [
        ANY_METHODS,
        STRING_METHODS,
        NUMBER_METHODS,
        DATE_METHODS,
        LIST_METHODS,
        FILE_METHODS,
        LINK_METHODS,
        OBJECT_METHODS,
        &["matches"],
    ]
    .iter()
    .any(|list| list.contains(&name))
}

/// "a string", "an object", ...: a value's type for messages.
fn a_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Date { .. } => "a date",
        Value::Duration(_) => "a duration",
        Value::List(_) => "a list",
        Value::Object(_) => "an object",
        Value::File(_) => "a file",
        Value::Link { .. } => "a link",
        Value::Image(_) => "an image",
        Value::Icon(_) => "an icon",
    }
}

fn arity(name: &str, n: usize, min: usize, max: usize, at: usize) -> R<()> {
    if n >= min && n <= max {
        return Ok(());
    }
    let plural = |k: usize| if k == 1 { "argument" } else { "arguments" };
    let expected = if min == max {
        format!("{min} {}", plural(min))
    } else if max == usize::MAX {
        format!("at least {min} {}", plural(min))
    } else {
        format!("{min} to {max} arguments")
    };
    err(format!("`{name}()` takes {expected}, not {n}"), at)
}

fn num_arg(name: &str, v: &Value, at: usize) -> R<f64> {
    match v {
        Value::Number(n) => Ok(*n),
        Value::Bool(b) => Ok(f64::from(u8::from(*b))),
        Value::String(s) => match js_number(s) {
            Some(n) => Ok(n),
            None => err(format!("`{name}()` expects a number, not `{s}`"), at),
        },
        other => err(
            format!("`{name}()` expects a number, not {}", a_type(other)),
            at,
        ),
    }
}

/// The arguments of `containsAll`/`containsAny`/`hasTag`, a list argument spread into them.
fn spread(args: &[Value]) -> Vec<&Value> {
    let mut out = Vec::new();
    for a in args {
        match a {
            Value::List(items) => out.extend(items.iter()),
            other => out.push(other),
        }
    }
    out
}

impl Ctx<'_, '_> {
    fn host(&self) -> &dyn Host {
        self.scope.host
    }

    fn charge(&self, units: u64, at: usize) -> R<()> {
        let left = self.budget.get();
        if units > left {
            self.budget.set(0);
            return err("expression takes too much work to evaluate", at);
        }
        self.budget.set(left - units);
        Ok(())
    }

    /// A built string, checked against [`MAX_TEXT`] and charged.
    fn text(&self, s: String, at: usize) -> R<Value> {
        if s.len() > MAX_TEXT {
            return err(format!("text too long (more than {MAX_TEXT} bytes)"), at);
        }
        self.charge(s.len() as u64, at)?;
        Ok(Value::String(s))
    }

    /// A built list, charged.
    fn list(&self, items: Vec<Value>, at: usize) -> R<Value> {
        self.charge(items.len() as u64 * ELEMENT_COST, at)?;
        Ok(Value::List(items))
    }

    /// Evaluates a node. Every level of nesting passes through here, so the functions on
    /// this path keep their frames small (messages are built in cold helpers): debug builds
    /// must stay far from a 2 MiB thread stack at [`MAX_EVAL_DEPTH`].
    fn eval(&self, n: &Node, loc: Locals<'_>) -> R<Value> {
        self.charge(1, n.at)?;
        let d = self.depth.get();
        if d >= MAX_EVAL_DEPTH {
            return Err(too_deep_eval(n.at));
        }
        self.depth.set(d + 1);
        let handler: fn(&Self, &Node, Locals<'_>) -> R<Value> = match &n.kind {
            Kind::Lit(_) => Self::ev_lit,
            Kind::Regex(_) => Self::ev_regex,
            Kind::Name(_) => Self::ev_name,
            Kind::List(_) => Self::ev_list,
            Kind::Object(_) => Self::ev_object,
            Kind::Member(..) => Self::ev_member,
            Kind::Index(..) => Self::ev_index,
            Kind::Call(..) => Self::ev_call,
            Kind::Method(..) => Self::ev_method,
            Kind::Not(_) | Kind::Neg(_) => Self::ev_unary,
            Kind::Binary(..) => Self::ev_binary,
            Kind::And(..) | Kind::Or(..) => Self::ev_logic,
        };
        let r = handler(self, n, loc);
        self.depth.set(d);
        r
    }

    fn ev_lit(&self, n: &Node, _: Locals<'_>) -> R<Value> {
        match &n.kind {
            Kind::Lit(v) => Ok(v.clone()),
            _ => Err(internal(n.at)),
        }
    }

    fn ev_regex(&self, n: &Node, _: Locals<'_>) -> R<Value> {
        Err(misplaced_regex(n.at))
    }

    fn ev_name(&self, n: &Node, loc: Locals<'_>) -> R<Value> {
        match &n.kind {
            Kind::Name(name) => self.name(name, loc, n.at),
            _ => Err(internal(n.at)),
        }
    }

    fn ev_list(&self, n: &Node, loc: Locals<'_>) -> R<Value> {
        let Kind::List(items) = &n.kind else {
            return Err(internal(n.at));
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            out.push(self.eval(item, loc)?);
        }
        self.list(out, n.at)
    }

    fn ev_object(&self, n: &Node, loc: Locals<'_>) -> R<Value> {
        let Kind::Object(entries) = &n.kind else {
            return Err(internal(n.at));
        };
        let mut out = Vec::with_capacity(entries.len());
        for (k, v) in entries {
            out.push((k.clone(), self.eval(v, loc)?));
        }
        Ok(Value::Object(out))
    }

    fn ev_unary(&self, n: &Node, loc: Locals<'_>) -> R<Value> {
        match &n.kind {
            Kind::Not(x) => Ok(Value::Bool(!self.eval(x, loc)?.is_truthy())),
            Kind::Neg(x) => negate(self.eval(x, loc)?, n.at),
            _ => Err(internal(n.at)),
        }
    }

    fn ev_binary(&self, n: &Node, loc: Locals<'_>) -> R<Value> {
        let Kind::Binary(op, a, b) = &n.kind else {
            return Err(internal(n.at));
        };
        let a = self.eval(a, loc)?;
        let b = self.eval(b, loc)?;
        self.binary(*op, a, b, n.at)
    }

    /// `&&` and `||`, JavaScript's: the deciding operand is the result.
    fn ev_logic(&self, n: &Node, loc: Locals<'_>) -> R<Value> {
        let (a, b, or) = match &n.kind {
            Kind::And(a, b) => (a, b, false),
            Kind::Or(a, b) => (a, b, true),
            _ => return Err(internal(n.at)),
        };
        let a = self.eval(a, loc)?;
        if a.is_truthy() == or {
            Ok(a)
        } else {
            self.eval(b, loc)
        }
    }

    /// `note.key`, `this.key` (not `formula.key`, which evaluates).
    fn special(&self, which: &str, key: &str) -> Value {
        if which == "this" {
            return self.this_member(key);
        }
        self.host()
            .note_property(self.scope.file, key)
            .unwrap_or(Value::Null)
    }

    fn ev_member(&self, n: &Node, loc: Locals<'_>) -> R<Value> {
        let Kind::Member(recv, key) = &n.kind else {
            return Err(internal(n.at));
        };
        match &recv.kind {
            Kind::Name(x) if x == "formula" => self.formula(key, n.at),
            Kind::Name(x) if x == "note" || x == "this" => {
                self.hosted(Some(self.special(x, key)), n.at)
            }
            Kind::Member(inner, k) if k == "note" && is_name(inner, "this") => {
                Ok(match self.scope.this {
                    Some(t) => self.host().note_property(t, key).unwrap_or(Value::Null),
                    None => Value::Null,
                })
            }
            _ => {
                let v = self.eval(recv, loc)?;
                self.field(v, key, n.at)
            }
        }
    }

    fn ev_index(&self, n: &Node, loc: Locals<'_>) -> R<Value> {
        let Kind::Index(recv, index) = &n.kind else {
            return Err(internal(n.at));
        };
        if let Kind::Name(x) = &recv.kind {
            if matches!(x.as_str(), "note" | "formula" | "this") {
                let key = self.eval(index, loc)?.to_text();
                return if x == "formula" {
                    self.formula(&key, n.at)
                } else {
                    self.hosted(Some(self.special(x, &key)), n.at)
                };
            }
        }
        let v = self.eval(recv, loc)?;
        let i = self.eval(index, loc)?;
        self.index_value(v, i, n.at)
    }

    /// `v[i]` once both are computed.
    fn index_value(&self, v: Value, i: Value, at: usize) -> R<Value> {
        match (v, i) {
            (Value::Null, _) | (_, Value::Null) => Ok(Value::Null),
            (Value::List(items), Value::Number(n)) => Ok(list_index(&items, n)
                .and_then(|i| items.into_iter().nth(i))
                .unwrap_or(Value::Null)),
            (Value::String(s), Value::Number(n)) => Ok(if n >= 0.0 && n.fract() == 0.0 {
                s.chars()
                    .nth(n as usize)
                    .map_or(Value::Null, |c| Value::String(c.to_string()))
            } else {
                Value::Null
            }),
            (Value::Object(entries), key) => {
                let key = key.to_text();
                Ok(entries
                    .into_iter()
                    .find(|(k, _)| *k == key)
                    .map_or(Value::Null, |(_, v)| v))
            }
            (v @ (Value::File(_) | Value::Date { .. }), Value::String(key)) => {
                self.field(v, &key, at)
            }
            (Value::List(_), other) => err(
                format!("a list is indexed by a number, not {}", a_type(&other)),
                at,
            ),
            (v, _) => err(format!("cannot index {}", a_type(&v)), at),
        }
    }

    fn name(&self, name: &str, loc: Locals<'_>, at: usize) -> R<Value> {
        let scope = self.scope;
        match (name, loc.value, loc.index, loc.acc) {
            ("value", Some(v), ..) | ("acc", _, _, Some(v)) => self.copy(v, at),
            ("index", _, Some(i), _) => Ok(Value::Number(i as f64)),
            ("file", ..) => Ok(Value::File(scope.file)),
            ("this", ..) => Ok(scope.this.map_or(Value::Null, Value::File)),
            ("note", ..) => self.hosted(self.host().file_property(scope.file, "properties"), at),
            ("formula", ..) => err(
                "`formula` must be followed by a formula's name (`formula.name`)",
                at,
            ),
            ("values", ..) if scope.values.is_some() => {
                self.copy(scope.values.unwrap_or(&Value::Null), at)
            }
            _ => self.hosted(self.host().note_property(scope.file, name), at),
        }
    }

    /// A copy of a value the evaluation already holds (`value`, `acc`, a formula's result),
    /// charged by its size: the same list read once per element must not go unaccounted.
    fn copy(&self, v: &Value, at: usize) -> R<Value> {
        self.charge(weight(v).0 * ELEMENT_COST, at)?;
        Ok(v.clone())
    }

    /// A value from the host (`None` is `null`), charged by its size.
    fn hosted(&self, v: Option<Value>, at: usize) -> R<Value> {
        let v = v.unwrap_or(Value::Null);
        self.charge(weight(&v).0, at)?;
        Ok(v)
    }

    /// `this.key` / `this["key"]`: `this.file` is the embedding file, other keys its note
    /// properties.
    fn this_member(&self, key: &str) -> Value {
        let Some(this) = self.scope.this else {
            return Value::Null;
        };
        match key {
            "file" => Value::File(this),
            "note" => self
                .host()
                .file_property(this, "properties")
                .unwrap_or(Value::Null),
            _ => self.host().note_property(this, key).unwrap_or(Value::Null),
        }
    }

    /// `v.key` for a value computed at run time.
    fn field(&self, v: Value, key: &str, at: usize) -> R<Value> {
        match v {
            Value::Null => Ok(Value::Null),
            Value::File(f) => {
                if key == "file" {
                    return Ok(Value::File(f));
                }
                match self.host().file_property(f, key) {
                    Some(v) => self.hosted(Some(v), at),
                    None => err(format!("unknown file property `{key}`"), at),
                }
            }
            Value::Object(entries) => Ok(entries
                .into_iter()
                .find(|(k, _)| k == key)
                .map_or(Value::Null, |(_, v)| v)),
            Value::String(s) | Value::Link { text: s, .. } if key == "length" => {
                Ok(Value::Number(s.chars().count() as f64))
            }
            Value::List(items) if key == "length" => Ok(Value::Number(items.len() as f64)),
            Value::Date { ms, .. } => {
                let Some(dt) = civil(ms) else {
                    return err("date out of range", at);
                };
                let n = match key {
                    "year" => i64::from(dt.year()),
                    "month" => i64::from(dt.month()),
                    "day" => i64::from(dt.day()),
                    "hour" => i64::from(dt.hour()),
                    "minute" => i64::from(dt.minute()),
                    "second" => i64::from(dt.second()),
                    "millisecond" => i64::from(dt.millisecond()),
                    _ => return err(format!("a date has no field `{key}`"), at),
                };
                Ok(Value::Number(n as f64))
            }
            other => err(format!("{} has no field `{key}`", a_type(&other)), at),
        }
    }

    fn formula(&self, name: &str, at: usize) -> R<Value> {
        let formulas = self.scope.formulas;
        let Some(i) = formulas.iter().position(|(n, _)| n == name) else {
            return Err(unknown_formula(name, at));
        };
        if let Some(v) = self.memo.borrow().get(&i) {
            return self.copy(v, at);
        }
        if self.stack.borrow().contains(&i) {
            return Err(self.circular(name, at));
        }
        let expr = match formulas.get(i).map(|(_, e)| e) {
            Some(Ok(expr)) => expr,
            Some(Err(e)) => return Err(broken_formula(name, e, at)),
            None => return Err(internal(at)),
        };
        self.stack.borrow_mut().push(i);
        let r = self.eval(&expr.root, Locals::default());
        self.stack.borrow_mut().pop();
        match r {
            Ok(v) => {
                self.memo.borrow_mut().insert(i, v.clone());
                Ok(v)
            }
            Err(e) => Err(in_formula(name, e, at)),
        }
    }

    /// `if(cond, then, else?)`: only the branch taken is evaluated.
    fn ev_if(&self, args: &[Node], loc: Locals<'_>, at: usize) -> R<Value> {
        arity("if", args.len(), 2, 3, at)?;
        let mut args = args.iter();
        let (Some(cond), Some(then)) = (args.next(), args.next()) else {
            return Err(internal(at));
        };
        if self.eval(cond, loc)?.is_truthy() {
            self.eval(then, loc)
        } else if let Some(other) = args.next() {
            self.eval(other, loc)
        } else {
            Ok(Value::Null)
        }
    }

    #[cold]
    #[inline(never)]
    fn circular(&self, name: &str, at: usize) -> ExprError {
        let formulas = self.scope.formulas;
        let mut chain: Vec<&str> = self
            .stack
            .borrow()
            .iter()
            .filter_map(|&k| formulas.get(k).map(|(n, _)| n.as_str()))
            .collect();
        chain.push(name);
        ExprError {
            message: format!("circular formula reference: {}", chain.join(" → ")),
            at,
        }
    }

    fn ev_call(&self, n: &Node, loc: Locals<'_>) -> R<Value> {
        let Kind::Call(name, args) = &n.kind else {
            return Err(internal(n.at));
        };
        if !FUNCTIONS.contains(&name.as_str()) {
            return Err(unknown_function(name, n.at));
        }
        if name == "if" {
            return self.ev_if(args, loc, n.at);
        }
        let mut vals = Vec::with_capacity(args.len());
        for a in args {
            vals.push(self.eval(a, loc)?);
        }
        self.function(name, vals, n.at)
    }

    fn function(&self, name: &str, mut args: Vec<Value>, at: usize) -> R<Value> {
        let scope = self.scope;
        let n = args.len();
        let first = if args.is_empty() {
            Value::Null
        } else {
            args.swap_remove(0)
        };
        // `args` now holds the arguments after the first (in order when there are two).
        match name {
            "link" => {
                arity(name, n, 1, 2, at)?;
                let display = args
                    .first()
                    .filter(|d| !matches!(d, Value::Null))
                    .map(Value::to_text);
                Ok(match first {
                    Value::Null => Value::Null,
                    Value::File(f) => self.file_link(f, display),
                    Value::Link {
                        target,
                        text,
                        display: old,
                    } => Value::Link {
                        target,
                        text,
                        display: display.or(old),
                    },
                    other => {
                        let mut v = self.host().link(scope.this, &other.to_text());
                        if let (Value::Link { display: d, .. }, Some(new)) = (&mut v, display) {
                            *d = Some(new);
                        }
                        v
                    }
                })
            }
            "list" => {
                arity(name, n, 1, 1, at)?;
                Ok(match first {
                    Value::List(items) => Value::List(items),
                    Value::Null => Value::List(Vec::new()),
                    other => Value::List(vec![other]),
                })
            }
            "date" => {
                arity(name, n, 1, 1, at)?;
                match first {
                    Value::Null => Ok(Value::Null),
                    d @ Value::Date { .. } => Ok(d),
                    Value::Number(ms) => date_from_ms(ms, at),
                    other => {
                        let text = other.to_text();
                        match parse_date(&text) {
                            Some(d) => Ok(d),
                            None => err(
                                format!("cannot read `{text}` as a date (expected YYYY-MM-DD or YYYY-MM-DD HH:mm:ss)"),
                                at,
                            ),
                        }
                    }
                }
            }
            "duration" => {
                arity(name, n, 1, 1, at)?;
                match first {
                    Value::Null => Ok(Value::Null),
                    d @ Value::Duration(_) => Ok(d),
                    Value::Number(ms) => Ok(Value::Duration(ms as i64)),
                    other => {
                        let text = other.to_text();
                        match parse_duration(&text) {
                            Some(d) => Ok(Value::Duration(d.flat_ms())),
                            None => err(
                                format!(
                                    "cannot read `{text}` as a duration (e.g. \"1d\", \"2 hours\")"
                                ),
                                at,
                            ),
                        }
                    }
                }
            }
            "now" => {
                arity(name, n, 0, 0, at)?;
                Ok(Value::Date {
                    ms: scope.now_ms,
                    time: true,
                })
            }
            "today" => {
                arity(name, n, 0, 0, at)?;
                Ok(Value::Date {
                    ms: day_start(scope.now_ms),
                    time: false,
                })
            }
            "number" => {
                arity(name, n, 1, 1, at)?;
                match first {
                    Value::Null => Ok(Value::Null),
                    Value::Number(x) => Ok(Value::Number(x)),
                    Value::Bool(b) => Ok(Value::Number(f64::from(u8::from(b)))),
                    Value::Date { ms, .. } | Value::Duration(ms) => Ok(Value::Number(ms as f64)),
                    Value::String(s) if s.trim().is_empty() => Ok(Value::Null),
                    Value::String(s) => match js_number(&s) {
                        Some(x) => Ok(Value::Number(x)),
                        None => err(format!("cannot convert `{s}` to a number"), at),
                    },
                    other => err(format!("cannot convert {} to a number", a_type(&other)), at),
                }
            }
            "min" | "max" => {
                args.insert(0, first);
                let mut best: Option<Value> = None;
                for v in spread(&args) {
                    let better = match (&best, v) {
                        (_, Value::Null) => false,
                        (None, Value::Number(_) | Value::Date { .. }) => true,
                        (Some(Value::Number(b)), Value::Number(x)) => {
                            x.is_nan() || !b.is_nan() && if name == "min" { x < b } else { x > b }
                        }
                        (Some(Value::Date { ms: b, .. }), Value::Date { ms: x, .. }) => {
                            if name == "min" {
                                x < b
                            } else {
                                x > b
                            }
                        }
                        (_, other) => {
                            return err(
                                format!(
                                    "`{name}()` expects numbers or dates, not {}",
                                    a_type(other)
                                ),
                                at,
                            )
                        }
                    };
                    if better {
                        best = Some(v.clone());
                    }
                }
                Ok(best.unwrap_or(Value::Null))
            }
            "file" => {
                arity(name, n, 1, 1, at)?;
                Ok(match first {
                    Value::Null => Value::Null,
                    Value::File(f) => Value::File(f),
                    Value::Link {
                        target: Some(t), ..
                    } => Value::File(t),
                    Value::Link { text, .. } => self
                        .host()
                        .file(scope.this, &text)
                        .map_or(Value::Null, Value::File),
                    other => self
                        .host()
                        .file(scope.this, &other.to_text())
                        .map_or(Value::Null, Value::File),
                })
            }
            "image" => {
                arity(name, n, 1, 1, at)?;
                Ok(match first {
                    Value::Null => Value::Null,
                    Value::Image(s) => Value::Image(s),
                    Value::Link { text, .. } => Value::Image(text),
                    Value::File(f) => Value::Image(self.file_text(f, "path")),
                    other => Value::Image(other.to_text()),
                })
            }
            "icon" => {
                arity(name, n, 1, 1, at)?;
                Ok(match first {
                    Value::Null => Value::Null,
                    other => Value::Icon(other.to_text()),
                })
            }
            "escapeHTML" => {
                arity(name, n, 1, 1, at)?;
                let mut out = String::new();
                for c in first.to_text().chars() {
                    match c {
                        '&' => out.push_str("&amp;"),
                        '<' => out.push_str("&lt;"),
                        '>' => out.push_str("&gt;"),
                        '"' => out.push_str("&quot;"),
                        '\'' => out.push_str("&#39;"),
                        c => out.push(c),
                    }
                }
                self.text(out, at)
            }
            "html" => {
                arity(name, n, 1, 1, at)?;
                Ok(Value::String(first.to_text()))
            }
            "random" => {
                arity(name, n, 0, 0, at)?;
                // Deterministic so builds are reproducible: differs per row and per call.
                let seed = (u64::from(scope.file.0) << 32) ^ at as u64;
                Ok(Value::Number(
                    (splitmix64(seed) >> 11) as f64 / (1u64 << 53) as f64,
                ))
            }
            _ => err(format!("unknown function `{name}()`"), at),
        }
    }

    /// A file property as text (`""` when the host has none).
    fn file_text(&self, f: FileRef, key: &str) -> String {
        self.host()
            .file_property(f, key)
            .map(|v| v.to_text())
            .unwrap_or_default()
    }

    /// A link to `f` (`file.asLink()`, `link(file)`): its text is the file's path, without
    /// `.md` for a note.
    fn file_link(&self, f: FileRef, display: Option<String>) -> Value {
        let path = self.file_text(f, "path");
        let text = path.strip_suffix(".md").unwrap_or(&path).to_string();
        Value::Link {
            target: Some(f),
            text,
            display,
        }
    }

    fn ev_method(&self, n: &Node, loc: Locals<'_>) -> R<Value> {
        let Kind::Method(recv, name, args) = &n.kind else {
            return Err(internal(n.at));
        };
        let at = n.at;
        if !is_method(name) {
            return Err(unknown_method(name, at));
        }
        if let Kind::Regex(re) = &recv.kind {
            return self.regex_method(re, name, args, loc, at);
        }
        let v = self.eval(recv, loc)?;
        if matches!(name.as_str(), "filter" | "map" | "reduce") {
            return self.lambda(v, name, args, loc, at);
        }
        let mut re = None;
        let mut vals = Vec::with_capacity(args.len());
        for (i, a) in args.iter().enumerate() {
            if let Kind::Regex(r) = &a.kind {
                if i == 0 && matches!(name.as_str(), "replace" | "split") {
                    re = Some(&**r);
                    vals.push(Value::Null);
                    continue;
                }
                return Err(misplaced_regex(a.at));
            }
            vals.push(self.eval(a, loc)?);
        }
        self.dispatch(v, name, vals, re, at)
    }

    /// `/re/.matches(text)`.
    fn regex_method(
        &self,
        re: &JsRegex,
        name: &str,
        args: &[Node],
        loc: Locals<'_>,
        at: usize,
    ) -> R<Value> {
        if name != "matches" {
            return Err(not_a_regex_function(name, at));
        }
        arity(name, args.len(), 1, 1, at)?;
        let Some(arg) = args.first() else {
            return Err(internal(at));
        };
        let v = self.eval(arg, loc)?;
        Ok(Value::Bool(
            !matches!(v, Value::Null) && re.re.is_match(&v.to_text()),
        ))
    }

    /// `filter`, `map` and `reduce`: their first argument is evaluated per element.
    fn lambda(&self, v: Value, name: &str, args: &[Node], loc: Locals<'_>, at: usize) -> R<Value> {
        let want = if name == "reduce" { 2 } else { 1 };
        arity(name, args.len(), want, want, at)?;
        let items = match v {
            Value::Null => return Ok(Value::Null),
            Value::List(items) => items,
            other => return Err(not_a_function(name, &other, at)),
        };
        let Some(body) = args.first() else {
            return Err(internal(at));
        };
        match name {
            "filter" => self.filter(items, body, loc, at),
            "map" => self.map(&items, body, loc, at),
            _ => self.reduce(&items, body, args.get(1), loc, at),
        }
    }

    fn filter(&self, items: Vec<Value>, body: &Node, loc: Locals<'_>, at: usize) -> R<Value> {
        let mut keep = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let inner = Locals {
                value: Some(item),
                index: Some(i),
                acc: loc.acc,
            };
            keep.push(self.eval(body, inner)?.is_truthy());
        }
        let out = items
            .into_iter()
            .zip(keep)
            .filter_map(|(item, k)| k.then_some(item))
            .collect();
        self.list(out, at)
    }

    fn map(&self, items: &[Value], body: &Node, loc: Locals<'_>, at: usize) -> R<Value> {
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let inner = Locals {
                value: Some(item),
                index: Some(i),
                acc: loc.acc,
            };
            out.push(self.eval(body, inner)?);
        }
        self.list(out, at)
    }

    fn reduce(
        &self,
        items: &[Value],
        body: &Node,
        init: Option<&Node>,
        loc: Locals<'_>,
        at: usize,
    ) -> R<Value> {
        let Some(init) = init else {
            return Err(internal(at));
        };
        let mut acc = self.eval(init, loc)?;
        for (i, item) in items.iter().enumerate() {
            let inner = Locals {
                value: Some(item),
                index: Some(i),
                acc: Some(&acc),
            };
            acc = self.eval(body, inner)?;
            // `acc` feeds back into itself: keep it from nesting without bound.
            let (size, depth) = weight(&acc);
            self.charge(size, at)?;
            if depth > MAX_DEPTH {
                return Err(too_deep_value(at));
            }
        }
        Ok(acc)
    }

    fn dispatch(
        &self,
        v: Value,
        name: &str,
        args: Vec<Value>,
        re: Option<&JsRegex>,
        at: usize,
    ) -> R<Value> {
        let n = args.len();
        match name {
            "isTruthy" => {
                arity(name, n, 0, 0, at)?;
                return Ok(Value::Bool(v.is_truthy()));
            }
            "isEmpty" => {
                arity(name, n, 0, 0, at)?;
                return Ok(Value::Bool(v.is_empty()));
            }
            "toString" => {
                arity(name, n, 0, 0, at)?;
                return self.text(v.to_text(), at);
            }
            "isType" => {
                arity(name, n, 1, 1, at)?;
                let wanted = args[0].to_text().to_lowercase();
                let wanted = match wanted.as_str() {
                    "bool" => "boolean",
                    "array" => "list",
                    "text" => "string",
                    other => other,
                };
                if !TYPE_NAMES.contains(&wanted) {
                    return err(
                        format!(
                            "unknown type `{}` (expected one of {})",
                            args[0].to_text(),
                            TYPE_NAMES.join(", ")
                        ),
                        at,
                    );
                }
                return Ok(Value::Bool(v.type_name() == wanted));
            }
            _ => {}
        }
        let type_text = a_type(&v);
        let result = match v {
            Value::Null => Some(if PREDICATES.contains(&name) {
                Value::Bool(false)
            } else {
                Value::Null
            }),
            Value::String(s) => self.string_method(&s, name, &args, re, at)?,
            Value::Link { target, text, .. } => match name {
                "asFile" => {
                    arity(name, n, 0, 0, at)?;
                    Some(target.map_or(Value::Null, Value::File))
                }
                "linksTo" => {
                    arity(name, n, 1, 1, at)?;
                    Some(Value::Bool(match target {
                        Some(t) => self.has_link(t, &args[0]),
                        None => false,
                    }))
                }
                _ => self.string_method(&text, name, &args, re, at)?,
            },
            Value::Number(x) => self.number_method(x, name, &args, at)?,
            Value::Date { ms, .. } => self.date_method(ms, name, &args, at)?,
            Value::List(items) => self.list_method(items, name, &args, at)?,
            Value::File(f) => self.file_method(f, name, &args, at)?,
            Value::Object(entries) => match name {
                "keys" => {
                    arity(name, n, 0, 0, at)?;
                    let keys = entries.into_iter().map(|(k, _)| Value::String(k)).collect();
                    Some(self.list(keys, at)?)
                }
                "values" => {
                    arity(name, n, 0, 0, at)?;
                    let values = entries.into_iter().map(|(_, v)| v).collect();
                    Some(self.list(values, at)?)
                }
                _ => None,
            },
            _ => None,
        };
        match result {
            Some(v) => Ok(v),
            None => err(format!("`{name}()` is not a function of {type_text}"), at),
        }
    }

    fn string_method(
        &self,
        s: &str,
        name: &str,
        args: &[Value],
        re: Option<&JsRegex>,
        at: usize,
    ) -> R<Option<Value>> {
        let n = args.len();
        let text_arg = |i: usize| args.get(i).map(Value::to_text).unwrap_or_default();
        let v = match name {
            "contains" => {
                arity(name, n, 1, 1, at)?;
                Value::Bool(!matches!(args[0], Value::Null) && s.contains(&text_arg(0)))
            }
            "containsAll" | "containsAny" => {
                arity(name, n, 1, usize::MAX, at)?;
                let mut hits = spread(args)
                    .into_iter()
                    .map(|a| !matches!(a, Value::Null) && s.contains(&a.to_text()));
                Value::Bool(if name == "containsAll" {
                    hits.all(|h| h)
                } else {
                    hits.any(|h| h)
                })
            }
            "startsWith" => {
                arity(name, n, 1, 1, at)?;
                Value::Bool(s.starts_with(&text_arg(0)))
            }
            "endsWith" => {
                arity(name, n, 1, 1, at)?;
                Value::Bool(s.ends_with(&text_arg(0)))
            }
            "lower" => {
                arity(name, n, 0, 0, at)?;
                self.text(s.to_lowercase(), at)?
            }
            "upper" => {
                arity(name, n, 0, 0, at)?;
                self.text(s.to_uppercase(), at)?
            }
            "trim" => {
                arity(name, n, 0, 0, at)?;
                Value::String(s.trim().to_string())
            }
            "title" => {
                arity(name, n, 0, 0, at)?;
                let mut out = String::with_capacity(s.len());
                let mut start = true;
                for c in s.chars() {
                    if start && c.is_alphabetic() {
                        out.extend(c.to_uppercase());
                    } else {
                        out.push(c);
                    }
                    start = c.is_whitespace();
                }
                self.text(out, at)?
            }
            "reverse" => {
                arity(name, n, 0, 0, at)?;
                Value::String(s.chars().rev().collect())
            }
            "repeat" => {
                arity(name, n, 1, 1, at)?;
                let count = num_arg(name, &args[0], at)?;
                if count < 0.0 || count.is_infinite() {
                    return err(format!("invalid repeat count `{}`", number_text(count)), at);
                }
                let count = if count.is_nan() { 0.0 } else { count.trunc() };
                if s.len() as f64 * count > MAX_TEXT as f64 {
                    return err(format!("text too long (more than {MAX_TEXT} bytes)"), at);
                }
                self.text(s.repeat(count as usize), at)?
            }
            "slice" => {
                arity(name, n, 1, 2, at)?;
                let chars: Vec<char> = s.chars().collect();
                let start = num_arg(name, &args[0], at)?;
                let end = match args.get(1) {
                    None | Some(Value::Null) => None,
                    Some(e) => Some(num_arg(name, e, at)?),
                };
                let (a, b) = js_range(chars.len(), start, end);
                Value::String(chars[a..b].iter().collect())
            }
            "split" => {
                arity(name, n, 1, 2, at)?;
                let limit = match args.get(1) {
                    None | Some(Value::Null) => usize::MAX,
                    Some(l) => {
                        let l = num_arg(name, l, at)?;
                        if l.is_nan() || l <= 0.0 {
                            if l < 0.0 {
                                usize::MAX
                            } else {
                                0
                            }
                        } else {
                            l as usize
                        }
                    }
                };
                let mut parts = match re {
                    Some(re) => split_regex(s, &re.re),
                    None => {
                        let sep = text_arg(0);
                        if sep.is_empty() {
                            s.chars().map(|c| Value::String(c.to_string())).collect()
                        } else {
                            s.split(sep.as_str())
                                .map(|p| Value::String(p.to_string()))
                                .collect::<Vec<_>>()
                        }
                    }
                };
                parts.truncate(limit);
                self.list(parts, at)?
            }
            "replace" => {
                arity(name, n, 2, 2, at)?;
                let repl = text_arg(1);
                let out = match re {
                    Some(re) => replace_regex(s, re, &repl, at)?,
                    None => replace_text(s, &text_arg(0), &repl, at)?,
                };
                self.text(out, at)?
            }
            _ => return Ok(None),
        };
        Ok(Some(v))
    }

    fn number_method(&self, x: f64, name: &str, args: &[Value], at: usize) -> R<Option<Value>> {
        let n = args.len();
        let v = match name {
            "abs" => {
                arity(name, n, 0, 0, at)?;
                Value::Number(x.abs())
            }
            "ceil" => {
                arity(name, n, 0, 0, at)?;
                Value::Number(x.ceil())
            }
            "floor" => {
                arity(name, n, 0, 0, at)?;
                Value::Number(x.floor())
            }
            "round" => {
                arity(name, n, 0, 1, at)?;
                let digits = match args.first() {
                    None | Some(Value::Null) => 0.0,
                    Some(d) => num_arg(name, d, at)?,
                };
                let digits = if digits.is_nan() {
                    0
                } else {
                    digits.trunc().clamp(-20.0, 100.0) as i32
                };
                Value::Number(round_to(x, digits))
            }
            "toFixed" => {
                arity(name, n, 1, 1, at)?;
                let digits = num_arg(name, &args[0], at)?;
                let digits = if digits.is_nan() { 0.0 } else { digits.trunc() };
                if !(0.0..=100.0).contains(&digits) {
                    return err(
                        format!(
                            "`toFixed()` takes 0 to 100 digits, not {}",
                            number_text(digits)
                        ),
                        at,
                    );
                }
                Value::String(to_fixed(x, digits as usize))
            }
            _ => return Ok(None),
        };
        Ok(Some(v))
    }

    fn date_method(&self, ms: i64, name: &str, args: &[Value], at: usize) -> R<Option<Value>> {
        if !DATE_METHODS.contains(&name) {
            return Ok(None);
        }
        let Some(dt) = civil(ms) else {
            return err("date out of range", at);
        };
        let n = args.len();
        let v = match name {
            "date" => {
                arity(name, n, 0, 0, at)?;
                Value::Date {
                    ms: day_start(ms),
                    time: false,
                }
            }
            "time" => {
                arity(name, n, 0, 0, at)?;
                Value::String(format!(
                    "{:02}:{:02}:{:02}",
                    dt.hour(),
                    dt.minute(),
                    dt.second()
                ))
            }
            "format" => {
                arity(name, n, 1, 1, at)?;
                self.text(format_date(dt, ms, &args[0].to_text(), at)?, at)?
            }
            _ => {
                arity(name, n, 0, 0, at)?;
                Value::String(relative(ms, self.scope.now_ms))
            }
        };
        Ok(Some(v))
    }

    fn list_method(
        &self,
        items: Vec<Value>,
        name: &str,
        args: &[Value],
        at: usize,
    ) -> R<Option<Value>> {
        let n = args.len();
        let v = match name {
            "contains" => {
                arity(name, n, 1, 1, at)?;
                self.charge(items.len() as u64, at)?;
                Value::Bool(items.iter().any(|i| values_equal(i, &args[0])))
            }
            "containsAll" | "containsAny" => {
                arity(name, n, 1, usize::MAX, at)?;
                self.charge(items.len() as u64 * n as u64, at)?;
                let has = |a: &Value| items.iter().any(|i| values_equal(i, a));
                // An argument matches when the list holds it, or (a list argument) its
                // elements.
                let hit = |a: &Value| match a {
                    Value::List(sub) if !has(a) => {
                        if name == "containsAll" {
                            sub.iter().all(has)
                        } else {
                            sub.iter().any(has)
                        }
                    }
                    other => has(other),
                };
                Value::Bool(if name == "containsAll" {
                    args.iter().all(hit)
                } else {
                    args.iter().any(hit)
                })
            }
            "join" => {
                arity(name, n, 0, 1, at)?;
                let sep = args.first().map_or_else(|| ",".to_string(), Value::to_text);
                let mut out = String::new();
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(&sep);
                    }
                    out.push_str(&item.to_text());
                    if out.len() > MAX_TEXT {
                        return err(format!("text too long (more than {MAX_TEXT} bytes)"), at);
                    }
                }
                self.text(out, at)?
            }
            "unique" => {
                arity(name, n, 0, 0, at)?;
                let mut out: Vec<Value> = Vec::new();
                for item in items {
                    self.charge(out.len() as u64 / 4 + 1, at)?;
                    if !out.iter().any(|o| values_equal(o, &item)) {
                        out.push(item);
                    }
                }
                self.list(out, at)?
            }
            "sort" => {
                arity(name, n, 0, 0, at)?;
                let len = items.len() as u64;
                self.charge(len * (64 - len.leading_zeros() as u64 + 1), at)?;
                let mut items = items;
                items.sort_by(compare);
                Value::List(items)
            }
            "flat" => {
                arity(name, n, 0, 0, at)?;
                let mut out = Vec::new();
                for item in items {
                    match item {
                        Value::List(sub) => out.extend(sub),
                        other => out.push(other),
                    }
                }
                self.list(out, at)?
            }
            "reverse" => {
                arity(name, n, 0, 0, at)?;
                let mut items = items;
                items.reverse();
                Value::List(items)
            }
            "slice" => {
                arity(name, n, 1, 2, at)?;
                let start = num_arg(name, &args[0], at)?;
                let end = match args.get(1) {
                    None | Some(Value::Null) => None,
                    Some(e) => Some(num_arg(name, e, at)?),
                };
                let (a, b) = js_range(items.len(), start, end);
                Value::List(items.into_iter().skip(a).take(b - a).collect())
            }
            "mean" => {
                arity(name, n, 0, 0, at)?;
                let mut sum = 0.0;
                let mut count = 0usize;
                for item in &items {
                    match item {
                        Value::Null => {}
                        Value::Number(x) => {
                            sum += x;
                            count += 1;
                        }
                        other => {
                            return err(
                                format!("`mean()` expects numbers, not {}", a_type(other)),
                                at,
                            )
                        }
                    }
                }
                if count == 0 {
                    Value::Null
                } else {
                    Value::Number(sum / count as f64)
                }
            }
            _ => return Ok(None),
        };
        Ok(Some(v))
    }

    fn file_method(&self, f: FileRef, name: &str, args: &[Value], at: usize) -> R<Option<Value>> {
        let n = args.len();
        let v = match name {
            "asLink" => {
                arity(name, n, 0, 1, at)?;
                let display = args
                    .first()
                    .filter(|d| !matches!(d, Value::Null))
                    .map(Value::to_text);
                self.file_link(f, display)
            }
            "hasLink" => {
                arity(name, n, 1, 1, at)?;
                Value::Bool(self.has_link(f, &args[0]))
            }
            "hasTag" => {
                arity(name, n, 1, usize::MAX, at)?;
                let tags = match self.host().file_property(f, "tags") {
                    Some(Value::List(tags)) => tags,
                    Some(Value::Null) | None => Vec::new(),
                    Some(one) => vec![one],
                };
                let tags: Vec<String> = tags.iter().map(|t| norm_tag(&t.to_text())).collect();
                let wanted = spread(args);
                Value::Bool(wanted.iter().any(|w| {
                    let w = norm_tag(&w.to_text());
                    !w.is_empty()
                        && tags.iter().any(|t| {
                            t == &w || (t.starts_with(&w) && t[w.len()..].starts_with('/'))
                        })
                }))
            }
            "inFolder" => {
                arity(name, n, 1, 1, at)?;
                let want = args[0].to_text();
                let want = want.trim_matches('/');
                let have = self.file_text(f, "folder");
                let have = have.trim_matches('/');
                Value::Bool(
                    want.is_empty()
                        || have == want
                        || (have.starts_with(want) && have[want.len()..].starts_with('/')),
                )
            }
            "hasProperty" => {
                arity(name, n, 1, 1, at)?;
                Value::Bool(self.host().note_property(f, &args[0].to_text()).is_some())
            }
            _ => return Ok(None),
        };
        Ok(Some(v))
    }

    /// Whether `f`'s links (`file.links`) include `other` (a file, a link or link text).
    fn has_link(&self, f: FileRef, other: &Value) -> bool {
        let target = match other {
            Value::Null => return false,
            v @ (Value::File(_) | Value::Link { .. }) => v.clone(),
            v => self.host().link(Some(f), &v.to_text()),
        };
        if let Some(answer) = self.host().has_link(f, &target) {
            return answer;
        }
        match self.host().file_property(f, "links") {
            Some(Value::List(links)) => links.iter().any(|l| values_equal(l, &target)),
            Some(one) => values_equal(&one, &target),
            None => false,
        }
    }

    fn binary(&self, op: BinOp, a: Value, b: Value, at: usize) -> R<Value> {
        use Value as V;
        match op {
            BinOp::Eq => return Ok(V::Bool(values_equal(&a, &b))),
            BinOp::Ne => return Ok(V::Bool(!values_equal(&a, &b))),
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let o = order(&a, &b);
                return Ok(V::Bool(match op {
                    BinOp::Lt => o == Some(Ordering::Less),
                    BinOp::Le => matches!(o, Some(Ordering::Less | Ordering::Equal)),
                    BinOp::Gt => o == Some(Ordering::Greater),
                    _ => matches!(o, Some(Ordering::Greater | Ordering::Equal)),
                }));
            }
            _ => {}
        }
        let verb = match op {
            BinOp::Add => "add",
            BinOp::Sub => "subtract",
            BinOp::Mul => "multiply",
            BinOp::Div => "divide",
            _ => "take the remainder of",
        };
        let mismatch = |a: &Value, b: &Value| {
            err(format!("cannot {verb} {} and {}", a_type(a), a_type(b)), at)
        };
        match (op, &a, &b) {
            (BinOp::Add, V::Date { ms, time }, V::String(s)) => {
                if let Some(d) = parse_duration(s) {
                    return add_duration(*ms, *time, &d, 1, at);
                }
                if looks_numeric(s) {
                    return err(format!("cannot read `{s}` as a duration"), at);
                }
            }
            (BinOp::Sub, V::Date { ms, time }, V::String(s)) => {
                if let Some(d) = parse_duration(s) {
                    return add_duration(*ms, *time, &d, -1, at);
                }
                if let Some(V::Date { ms: other, .. }) = parse_date(s) {
                    return Ok(V::Number(ms.saturating_sub(other) as f64));
                }
                return err(format!("cannot read `{s}` as a duration or a date"), at);
            }
            (BinOp::Add, V::Date { ms, time }, V::Duration(d))
            | (BinOp::Add, V::Duration(d), V::Date { ms, time }) => {
                return add_duration(*ms, *time, &Dur::ms(*d), 1, at);
            }
            (BinOp::Sub, V::Date { ms, time }, V::Duration(d)) => {
                return add_duration(*ms, *time, &Dur::ms(*d), -1, at);
            }
            (BinOp::Sub, V::Date { ms: x, .. }, V::Date { ms: y, .. }) => {
                return Ok(V::Number(x.saturating_sub(*y) as f64));
            }
            (BinOp::Add | BinOp::Sub, V::Duration(x), V::Duration(y)) => {
                return Ok(V::Duration(if op == BinOp::Add {
                    x.saturating_add(*y)
                } else {
                    x.saturating_sub(*y)
                }));
            }
            (BinOp::Add | BinOp::Sub, V::Duration(x), V::String(s)) => {
                if let Some(d) = parse_duration(s) {
                    let y = d.flat_ms();
                    return Ok(V::Duration(if op == BinOp::Add {
                        x.saturating_add(y)
                    } else {
                        x.saturating_sub(y)
                    }));
                }
            }
            (BinOp::Mul, V::Duration(d), V::Number(k)) => {
                return Ok(V::Duration((*d as f64 * k) as i64));
            }
            (BinOp::Div, V::Duration(d), V::Number(k)) => {
                return Ok(V::Duration((*d as f64 / k) as i64));
            }
            (BinOp::Div, V::Duration(x), V::Duration(y)) => {
                return Ok(V::Number(*x as f64 / *y as f64));
            }
            (BinOp::Mul, V::Number(_), V::Duration(_)) => {
                return err("put the duration on the left: `duration(\"1d\") * 2`", at);
            }
            _ => {}
        }
        if op == BinOp::Add {
            if let (V::Number(x), V::Number(y)) = (&a, &b) {
                return Ok(V::Number(x + y));
            }
            if matches!(a, V::String(_)) || matches!(b, V::String(_)) {
                let mut s = a.to_text();
                let t = b.to_text();
                if s.len() + t.len() > MAX_TEXT {
                    return err(format!("text too long (more than {MAX_TEXT} bytes)"), at);
                }
                s.push_str(&t);
                return self.text(s, at);
            }
        }
        if matches!(a, V::Null) || matches!(b, V::Null) {
            return Ok(V::Null);
        }
        let (Some(x), Some(y)) = (arith_number(&a), arith_number(&b)) else {
            return mismatch(&a, &b);
        };
        Ok(V::Number(match op {
            BinOp::Add => x + y,
            BinOp::Sub => x - y,
            BinOp::Mul => x * y,
            BinOp::Div => x / y,
            _ => x % y,
        }))
    }
}

/// Whether a text starts like a number (so `date + text` meant a duration).
fn looks_numeric(s: &str) -> bool {
    s.trim_start()
        .trim_start_matches(['+', '-'])
        .starts_with(|c: char| c.is_ascii_digit())
}

fn is_name(n: &Node, name: &str) -> bool {
    matches!(&n.kind, Kind::Name(x) if x == name)
}

// Messages of the evaluator's recursive path, built out of line to keep its frames small.

#[cold]
#[inline(never)]
fn internal(at: usize) -> ExprError {
    ExprError {
        message: "internal error: unexpected syntax node".to_string(),
        at,
    }
}

#[cold]
#[inline(never)]
fn too_deep_eval(at: usize) -> ExprError {
    ExprError {
        message: "expression nested too deeply (formulas using formulas)".to_string(),
        at,
    }
}

#[cold]
#[inline(never)]
fn too_deep_value(at: usize) -> ExprError {
    ExprError {
        message: format!("value nested too deeply (more than {MAX_DEPTH} levels)"),
        at,
    }
}

/// How many values `v` holds (itself included) and how deeply they nest, without
/// recursion.
fn weight(v: &Value) -> (u64, usize) {
    if !matches!(v, Value::List(_) | Value::Object(_)) {
        return (1, 1);
    }
    let mut count = 0u64;
    let mut deepest = 0usize;
    let mut stack: Vec<(&Value, usize)> = vec![(v, 1)];
    while let Some((v, d)) = stack.pop() {
        count += 1;
        deepest = deepest.max(d);
        match v {
            Value::List(items) => stack.extend(items.iter().map(|i| (i, d + 1))),
            Value::Object(entries) => stack.extend(entries.iter().map(|(_, i)| (i, d + 1))),
            _ => {}
        }
    }
    (count, deepest)
}

#[cold]
#[inline(never)]
fn misplaced_regex(at: usize) -> ExprError {
    ExprError {
        message: "a regular expression can only be used with `replace()`, `split()` or `matches()`"
            .to_string(),
        at,
    }
}

#[cold]
#[inline(never)]
fn unknown_formula(name: &str, at: usize) -> ExprError {
    ExprError {
        message: format!("unknown formula `{name}`"),
        at,
    }
}

#[cold]
#[inline(never)]
fn broken_formula(name: &str, e: &ExprError, at: usize) -> ExprError {
    ExprError {
        message: format!("formula `{name}` has an error: {}", e.message),
        at,
    }
}

/// An error inside formula `name`, reported where it is used: `in formula `a` → `b`: ...`
/// for one met through several formulas (a cycle's message names them all already).
#[cold]
#[inline(never)]
fn in_formula(name: &str, e: ExprError, at: usize) -> ExprError {
    const PREFIX: &str = "in formula ";
    let message = if e.message.starts_with("circular formula reference") {
        e.message
    } else if let Some(rest) = e.message.strip_prefix(PREFIX) {
        format!("{PREFIX}`{name}` → {rest}")
    } else {
        format!("{PREFIX}`{name}`: {}", e.message)
    };
    ExprError { message, at }
}

#[cold]
#[inline(never)]
fn unknown_function(name: &str, at: usize) -> ExprError {
    let message = if is_method(name) {
        format!("unknown function `{name}()` (it is a method: write `value.{name}()`)")
    } else {
        format!("unknown function `{name}()`")
    };
    ExprError { message, at }
}

#[cold]
#[inline(never)]
fn unknown_method(name: &str, at: usize) -> ExprError {
    let message = if name == "length" {
        "`length` is a field, not a function: write `.length`".to_string()
    } else if FUNCTIONS.contains(&name) {
        format!("`{name}()` is a global function, not a method: write `{name}(...)`")
    } else {
        format!("unknown function `{name}()`")
    };
    ExprError { message, at }
}

#[cold]
#[inline(never)]
fn not_a_regex_function(name: &str, at: usize) -> ExprError {
    ExprError {
        message: format!("`{name}()` is not a function of a regular expression"),
        at,
    }
}

#[cold]
#[inline(never)]
fn not_a_function(name: &str, v: &Value, at: usize) -> ExprError {
    ExprError {
        message: format!("`{name}()` is not a function of {}", a_type(v)),
        at,
    }
}

/// A number for arithmetic: numbers, booleans and numeric strings.
fn arith_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => Some(*n),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::String(s) => js_number(s),
        _ => None,
    }
}

fn negate(v: Value, at: usize) -> R<Value> {
    match v {
        Value::Null => Ok(Value::Null),
        Value::Duration(d) => Ok(Value::Duration(d.saturating_neg())),
        other => match arith_number(&other) {
            Some(x) => Ok(Value::Number(-x)),
            None => err(format!("cannot negate {}", a_type(&other)), at),
        },
    }
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A tag as `hasTag` compares it: without `#`, lower case.
fn norm_tag(t: &str) -> String {
    t.trim().trim_start_matches('#').to_lowercase()
}

/// A list index from a number: `None` when negative, fractional or past the end.
fn list_index(items: &[Value], n: f64) -> Option<usize> {
    (n >= 0.0 && n.fract() == 0.0 && n < items.len() as f64).then_some(n as usize)
}

/// JavaScript's `slice(start, end)` bounds on a sequence of `len`.
fn js_range(len: usize, start: f64, end: Option<f64>) -> (usize, usize) {
    let rel = |v: f64| -> usize {
        let v = if v.is_nan() { 0.0 } else { v.trunc() };
        if v < 0.0 {
            (len as f64 + v).max(0.0) as usize
        } else {
            v.min(len as f64) as usize
        }
    };
    let a = rel(start);
    let b = end.map_or(len, rel);
    (a, b.max(a))
}

/// JavaScript's `Number(text)`, except that an empty text is not a number.
fn js_number(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    let (sign, body) = match t.as_bytes()[0] {
        b'-' => (-1.0, &t[1..]),
        b'+' => (1.0, &t[1..]),
        _ => (1.0, t),
    };
    if body == "Infinity" {
        return Some(sign * f64::INFINITY);
    }
    if let Some(hex) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        if sign < 0.0 || t.starts_with('+') {
            return None;
        }
        return u64::from_str_radix(hex, 16).ok().map(|v| v as f64);
    }
    let valid = !body.is_empty()
        && body.bytes().any(|b| b.is_ascii_digit())
        && body
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    if !valid {
        return None;
    }
    body.parse::<f64>().ok().map(|v| sign * v)
}

/// Case-insensitive equality without allocating.
fn ieq(a: &str, b: &str) -> bool {
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

/// Case-folded comparison of two strings.
fn fold_cmp(a: &str, b: &str) -> Ordering {
    a.chars()
        .flat_map(char::to_lowercase)
        .cmp(b.chars().flat_map(char::to_lowercase))
}

/// Whether a string names a link's target: `Books`, `[[Books]]` or `[[Books|label]]`.
fn link_text_matches(link_text: &str, s: &str) -> bool {
    let s = s.trim();
    let inner = s
        .strip_prefix("[[")
        .and_then(|r| r.strip_suffix("]]"))
        .map_or(s, |r| r.split('|').next().unwrap_or(r));
    ieq(link_text, inner.trim())
}

fn values_equal(a: &Value, b: &Value) -> bool {
    use Value as V;
    match (a, b) {
        (V::Null, V::Null) => true,
        (V::Bool(x), V::Bool(y)) => x == y,
        (V::Number(x), V::Number(y)) => x == y,
        (V::String(x), V::String(y)) => x == y,
        (V::Date { ms: x, .. }, V::Date { ms: y, .. }) => x == y,
        (V::Date { ms, .. }, V::String(s)) | (V::String(s), V::Date { ms, .. }) => {
            matches!(parse_date(s), Some(V::Date { ms: other, .. }) if other == *ms)
        }
        (V::Duration(x), V::Duration(y)) => x == y,
        (V::List(x), V::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| values_equal(p, q))
        }
        (V::Object(x), V::Object(y)) => {
            x.len() == y.len()
                && x.iter().all(|(k, v)| {
                    y.iter()
                        .find(|(k2, _)| k2 == k)
                        .is_some_and(|(_, v2)| values_equal(v, v2))
                })
        }
        (V::File(x), V::File(y)) => x == y,
        (V::Link { target, .. }, V::File(f)) | (V::File(f), V::Link { target, .. }) => {
            *target == Some(*f)
        }
        (
            V::Link {
                target: t1,
                text: x1,
                ..
            },
            V::Link {
                target: t2,
                text: x2,
                ..
            },
        ) => match (t1, t2) {
            (Some(p), Some(q)) => p == q,
            (None, None) => ieq(x1, x2),
            _ => false,
        },
        (V::Link { text, .. }, V::String(s)) | (V::String(s), V::Link { text, .. }) => {
            link_text_matches(text, s)
        }
        (V::Image(x), V::Image(y)) | (V::Icon(x), V::Icon(y)) => x == y,
        _ => false,
    }
}

/// The order of `<`, `<=`, `>`, `>=`; `None` when the values do not compare (then all four
/// are false).
fn order(a: &Value, b: &Value) -> Option<Ordering> {
    use Value as V;
    match (a, b) {
        (V::Number(x), V::Number(y)) => x.partial_cmp(y),
        (V::String(x), V::String(y)) => Some(x.cmp(y)),
        (V::Bool(x), V::Bool(y)) => Some(x.cmp(y)),
        (V::Date { ms: x, .. }, V::Date { ms: y, .. }) => Some(x.cmp(y)),
        (V::Date { ms, .. }, V::String(s)) => match parse_date(s)? {
            V::Date { ms: y, .. } => Some(ms.cmp(&y)),
            _ => None,
        },
        (V::String(s), V::Date { ms, .. }) => match parse_date(s)? {
            V::Date { ms: x, .. } => Some(x.cmp(ms)),
            _ => None,
        },
        (V::Date { ms, .. }, V::Number(y)) => (*ms as f64).partial_cmp(y),
        (V::Number(x), V::Date { ms, .. }) => x.partial_cmp(&(*ms as f64)),
        (V::Duration(x), V::Duration(y)) => Some(x.cmp(y)),
        (V::Duration(x), V::String(s)) => Some(x.cmp(&parse_duration(s)?.flat_ms())),
        (V::String(s), V::Duration(y)) => Some(parse_duration(s)?.flat_ms().cmp(y)),
        (V::Number(x), V::String(s)) => x.partial_cmp(&js_number(s)?),
        (V::String(s), V::Number(y)) => js_number(s)?.partial_cmp(y),
        (V::Link { .. } | V::String(_), V::Link { .. } | V::String(_)) => {
            Some(a.to_text().cmp(&b.to_text()))
        }
        _ => None,
    }
}

/// The type rank [`compare`] orders by; empty values rank after every other.
fn sort_rank(v: &Value) -> u8 {
    match v {
        Value::String(s) if s.is_empty() => 20,
        Value::List(items) if items.is_empty() => 21,
        Value::Object(entries) if entries.is_empty() => 22,
        Value::Null => 23,
        Value::Bool(_) => 0,
        Value::Number(_) => 1,
        Value::Date { .. } => 2,
        Value::Duration(_) => 3,
        Value::String(_) => 4,
        Value::Link { .. } => 5,
        Value::File(_) => 6,
        Value::List(_) => 7,
        Value::Object(_) => 8,
        Value::Image(_) => 9,
        Value::Icon(_) => 10,
    }
}

// ---------------------------------------------------------------------------------------------
// Strings: regular expressions and replacement

/// JavaScript's `split` with a regular expression: capture groups are kept, empty matches
/// at the start or right after the previous separator do not split.
fn split_regex(s: &str, re: &Regex) -> Vec<Value> {
    if s.is_empty() {
        return if re.is_match(s) {
            Vec::new()
        } else {
            vec![Value::String(String::new())]
        };
    }
    let mut out = Vec::new();
    let mut last = 0;
    for caps in re.captures_iter(s) {
        let Some(m) = caps.get(0) else { continue };
        if m.end() == last || m.start() >= s.len() {
            continue;
        }
        out.push(Value::String(s[last..m.start()].to_string()));
        for g in caps.iter().skip(1) {
            out.push(g.map_or(Value::Null, |g| Value::String(g.as_str().to_string())));
        }
        last = m.end();
    }
    out.push(Value::String(s[last..].to_string()));
    out
}

fn too_long<T>(at: usize) -> R<T> {
    err(format!("text too long (more than {MAX_TEXT} bytes)"), at)
}

/// Every occurrence of `pattern` replaced (as the documentation says), `$&`, `` $` ``, `$'`
/// and `$$` expanded in the replacement as JavaScript does.
fn replace_text(s: &str, pattern: &str, repl: &str, at: usize) -> R<String> {
    let mut out = String::new();
    let mut last = 0;
    for (start, m) in s.match_indices(pattern) {
        out.push_str(&s[last..start]);
        expand(repl, s, start, start + m.len(), None, &mut out);
        last = start + m.len();
        if out.len() > MAX_TEXT {
            return too_long(at);
        }
    }
    out.push_str(&s[last..]);
    if out.len() > MAX_TEXT {
        return too_long(at);
    }
    Ok(out)
}

/// A regular expression's matches replaced (all of them with the `g` flag, else the first),
/// with JavaScript's `$1`, `$<name>`, `$&`, `` $` ``, `$'` and `$$`.
fn replace_regex(s: &str, re: &JsRegex, repl: &str, at: usize) -> R<String> {
    let mut out = String::new();
    let mut last = 0;
    for caps in re.re.captures_iter(s) {
        let Some(m) = caps.get(0) else { continue };
        out.push_str(&s[last..m.start()]);
        expand(repl, s, m.start(), m.end(), Some(&caps), &mut out);
        last = m.end();
        if out.len() > MAX_TEXT {
            return too_long(at);
        }
        if !re.global {
            break;
        }
    }
    out.push_str(&s[last..]);
    if out.len() > MAX_TEXT {
        return too_long(at);
    }
    Ok(out)
}

/// JavaScript's GetSubstitution: `repl` for the match `s[start..end]`.
fn expand(
    repl: &str,
    s: &str,
    start: usize,
    end: usize,
    caps: Option<&Captures<'_>>,
    out: &mut String,
) {
    let groups = caps.map_or(0, |c| c.len().saturating_sub(1));
    let b = repl.as_bytes();
    let mut i = 0;
    let mut plain = 0;
    while i < b.len() {
        if b[i] != b'$' || i + 1 >= b.len() {
            i += 1;
            continue;
        }
        let next = b[i + 1];
        let (skip, text): (usize, Option<&str>) = match next {
            b'$' => (2, Some("$")),
            b'&' => (2, Some(&s[start..end])),
            b'`' => (2, Some(&s[..start])),
            b'\'' => (2, Some(&s[end..])),
            b'0'..=b'9' => {
                let one = usize::from(next - b'0');
                let two = b
                    .get(i + 2)
                    .filter(|d| d.is_ascii_digit())
                    .map(|d| one * 10 + usize::from(d - b'0'));
                let group = |g: usize| caps.and_then(|c| c.get(g)).map_or("", |m| m.as_str());
                match two {
                    Some(g) if (1..=groups).contains(&g) => (3, Some(group(g))),
                    _ if (1..=groups).contains(&one) => (2, Some(group(one))),
                    _ => (0, None),
                }
            }
            b'<' => match (caps, repl[i + 2..].find('>')) {
                (Some(c), Some(close)) if groups > 0 => {
                    let name = &repl[i + 2..i + 2 + close];
                    (close + 3, Some(c.name(name).map_or("", |m| m.as_str())))
                }
                _ => (0, None),
            },
            _ => (0, None),
        };
        match text {
            Some(t) => {
                out.push_str(&repl[plain..i]);
                out.push_str(t);
                i += skip;
                plain = i;
            }
            None => i += 1,
        }
    }
    out.push_str(&repl[plain..]);
}

// ---------------------------------------------------------------------------------------------
// Numbers

/// A number as JavaScript's `String(n)` writes it.
fn number_text(n: f64) -> String {
    if n.is_nan() {
        return "NaN".to_string();
    }
    if n.is_infinite() {
        return if n > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    if n == 0.0 {
        return "0".to_string();
    }
    // Shortest round-trip digits and exponent, e.g. "1.2345e4".
    let sci = format!("{:e}", n.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let k = digits.len() as i64;
    let e = exp.parse::<i64>().unwrap_or(0) + 1;
    let mut out = String::new();
    if n < 0.0 {
        out.push('-');
    }
    if k <= e && e <= 21 {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', (e - k) as usize));
    } else if 0 < e && e <= 21 {
        out.push_str(&digits[..e as usize]);
        out.push('.');
        out.push_str(&digits[e as usize..]);
    } else if -6 < e && e <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-e) as usize));
        out.push_str(&digits);
    } else {
        out.push_str(&digits[..1]);
        if k > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if e - 1 < 0 { '-' } else { '+' });
        out.push_str(&(e - 1).abs().to_string());
    }
    out
}

/// JavaScript's `Number.prototype.toFixed`: exact decimal rounding, halves away from zero.
fn to_fixed(x: f64, digits: usize) -> String {
    if !x.is_finite() || x.abs() >= 1e21 {
        return number_text(x);
    }
    // Every f64 has at most 1074 fractional digits, so this expansion is exact.
    let exact = format!("{:.1100}", x.abs());
    let (int, frac) = exact.split_once('.').unwrap_or((&exact, ""));
    let mut kept: Vec<u8> = int.bytes().chain(frac.bytes().take(digits)).collect();
    if frac.as_bytes().get(digits).is_some_and(|d| *d >= b'5') {
        let mut i = kept.len();
        loop {
            if i == 0 {
                kept.insert(0, b'1');
                break;
            }
            i -= 1;
            if kept[i] == b'9' {
                kept[i] = b'0';
            } else {
                kept[i] += 1;
                break;
            }
        }
    }
    let int_len = kept.len() - digits;
    let mut out = String::new();
    if x < 0.0 {
        out.push('-');
    }
    out.push_str(&String::from_utf8_lossy(&kept[..int_len]));
    if digits > 0 {
        out.push('.');
        out.push_str(&String::from_utf8_lossy(&kept[int_len..]));
    }
    out
}

/// JavaScript's `Math.round` (halves toward +∞).
fn js_round(x: f64) -> f64 {
    let f = x.floor();
    if x - f >= 0.5 {
        f + 1.0
    } else {
        f
    }
}

fn round_to(x: f64, digits: i32) -> f64 {
    if digits == 0 || !x.is_finite() {
        return js_round(x);
    }
    let factor = 10f64.powi(digits);
    let scaled = x * factor;
    if !scaled.is_finite() {
        return x;
    }
    js_round(scaled) / factor
}

// ---------------------------------------------------------------------------------------------
// Dates and durations

/// The UTC calendar date and time of `ms`, `None` outside years -9999..=9999.
fn civil(ms: i64) -> Option<DateTime> {
    let ts = Timestamp::from_millisecond(ms).ok()?;
    Some(TimeZone::UTC.to_datetime(ts))
}

fn civil_ms(dt: DateTime) -> Option<i64> {
    Some(TimeZone::UTC.to_timestamp(dt).ok()?.as_millisecond())
}

/// The UTC midnight starting the day of `ms` (saturating at the ends of `i64`).
fn day_start(ms: i64) -> i64 {
    ms.saturating_sub(ms.rem_euclid(DAY_MS))
}

fn date_from_ms(ms: f64, at: usize) -> R<Value> {
    let ms = ms as i64;
    match civil(ms) {
        Some(_) => Ok(Value::Date { ms, time: true }),
        None => err("date out of range", at),
    }
}

fn date_text(ms: i64, time: bool) -> String {
    let Some(dt) = civil(ms) else {
        return number_text(ms as f64);
    };
    let mut out = format!("{:04}-{:02}-{:02}", dt.year(), dt.month(), dt.day());
    if time {
        out.push_str(&format!(
            " {:02}:{:02}:{:02}",
            dt.hour(),
            dt.minute(),
            dt.second()
        ));
    }
    out
}

fn duration_text(ms: i64) -> String {
    if ms == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    if ms < 0 {
        out.push('-');
    }
    let mut rest = ms.unsigned_abs();
    for (unit, size) in [
        ("d", 86_400_000u64),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ] {
        let n = rest / size;
        rest %= size;
        if n > 0 {
            if out.len() > usize::from(ms < 0) {
                out.push(' ');
            }
            out.push_str(&n.to_string());
            out.push_str(unit);
        }
    }
    out
}

/// A parsed duration: calendar months (years are 12 of them) and milliseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Dur {
    months: i64,
    ms: f64,
}

impl Dur {
    fn ms(ms: i64) -> Dur {
        Dur {
            months: 0,
            ms: ms as f64,
        }
    }

    /// As plain milliseconds (a `Value::Duration`): a year is 365 days, a month 30.
    fn flat_ms(&self) -> i64 {
        let years = self.months / 12;
        let months = self.months % 12;
        let days = (years * 365 + months * 30) as f64;
        (days * DAY_MS as f64 + self.ms) as i64
    }
}

/// `"1d"`, `"2 hours"`, `"1M"`, `"-3 weeks"`, `"1d 4h"`: a number and a unit, repeated.
fn parse_duration(text: &str) -> Option<Dur> {
    let s = text.trim();
    let (sign, mut rest) = match s.as_bytes().first()? {
        b'-' => (-1.0, &s[1..]),
        b'+' => (1.0, &s[1..]),
        _ => (1.0, s),
    };
    let mut months = 0.0f64;
    let mut ms = 0.0f64;
    let mut parts = 0;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
        if rest.is_empty() {
            break;
        }
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..num_end].parse().ok()?;
        rest = rest[num_end..].trim_start();
        let unit_end = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_end];
        rest = &rest[unit_end..];
        let lower = unit.to_ascii_lowercase();
        let factor_ms = match (unit, lower.as_str()) {
            ("M", _) | (_, "month" | "months" | "mo") => {
                months += number;
                parts += 1;
                continue;
            }
            ("y", _) | (_, "year" | "years" | "yr" | "yrs") => {
                months += number * 12.0;
                parts += 1;
                continue;
            }
            ("w", _) | (_, "week" | "weeks") => 7.0 * DAY_MS as f64,
            ("d", _) | (_, "day" | "days") => DAY_MS as f64,
            ("h", _) | (_, "hour" | "hours" | "hr" | "hrs") => 3_600_000.0,
            ("m", _) | (_, "minute" | "minutes" | "min" | "mins") => 60_000.0,
            ("s", _) | (_, "second" | "seconds" | "sec" | "secs") => 1_000.0,
            ("ms", _) | (_, "millisecond" | "milliseconds") => 1.0,
            _ => return None,
        };
        ms += number * factor_ms;
        parts += 1;
    }
    if parts == 0 || !ms.is_finite() || ms.abs() > 1e17 || months.abs() > 1e12 {
        return None;
    }
    Some(Dur {
        months: (sign * months).round() as i64,
        ms: sign * ms,
    })
}

/// `date + duration` (`sign` 1) or `date - duration` (`sign` -1): months on the calendar
/// (the day clamped to the month's length), then milliseconds.
fn add_duration(ms: i64, time: bool, d: &Dur, sign: i64, at: usize) -> R<Value> {
    let out_of_range = || err("date out of range", at);
    let mut out = ms;
    if d.months != 0 {
        let Some(dt) = civil(ms) else {
            return out_of_range();
        };
        let Ok(span) = Span::new().try_months(d.months.saturating_mul(sign)) else {
            return out_of_range();
        };
        let Some(moved) = dt.checked_add(span).ok().and_then(civil_ms) else {
            return out_of_range();
        };
        out = moved;
    }
    let delta = (d.ms * sign as f64).round() as i64;
    let Some(out) = out.checked_add(delta) else {
        return out_of_range();
    };
    if civil(out).is_none() {
        return out_of_range();
    }
    Ok(Value::Date {
        ms: out,
        time: time || delta.rem_euclid(DAY_MS) != 0,
    })
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// Moment.js format tokens, longest first.
const FORMAT_TOKENS: [&str; 43] = [
    "YYYY", "GGGG", "MMMM", "DDDD", "dddd", "MMM", "DDD", "ddd", "SSS", "YY", "MM", "Mo", "DD",
    "Do", "dd", "do", "WW", "Wo", "HH", "hh", "kk", "mm", "ss", "SS", "ZZ", "Y", "Q", "M", "D",
    "d", "E", "W", "H", "h", "k", "m", "s", "S", "A", "a", "X", "x", "Z",
];

fn ordinal(n: i64) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// `date.format(fmt)` with Moment.js tokens (`[...]` is literal text), in UTC.
fn format_date(dt: DateTime, ms: i64, fmt: &str, at: usize) -> R<String> {
    let mut out = String::new();
    let mut rest = fmt;
    let month = usize::try_from(dt.month() - 1).unwrap_or(0).min(11);
    let weekday = usize::try_from(dt.weekday().to_sunday_zero_offset())
        .unwrap_or(0)
        .min(6);
    let hour = i64::from(dt.hour());
    let h12 = if hour % 12 == 0 { 12 } else { hour % 12 };
    while let Some(c) = rest.chars().next() {
        if out.len() > MAX_TEXT {
            return too_long(at);
        }
        if c == '[' {
            if let Some(end) = rest.find(']') {
                out.push_str(&rest[1..end]);
                rest = &rest[end + 1..];
                continue;
            }
        }
        if c == '\\' {
            rest = &rest[1..];
            if let Some(e) = rest.chars().next() {
                out.push(e);
                rest = &rest[e.len_utf8()..];
            }
            continue;
        }
        let Some(tok) = FORMAT_TOKENS.iter().find(|t| rest.starts_with(**t)) else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
            continue;
        };
        rest = &rest[tok.len()..];
        let piece = match *tok {
            "YYYY" => format!("{:04}", dt.year()),
            "YY" => format!("{:02}", i64::from(dt.year()).rem_euclid(100)),
            "Y" => dt.year().to_string(),
            "GGGG" => format!("{:04}", dt.date().iso_week_date().year()),
            "Q" => ((month / 3) + 1).to_string(),
            "MMMM" => MONTHS[month].to_string(),
            "MMM" => MONTHS[month][..3].to_string(),
            "MM" => format!("{:02}", dt.month()),
            "Mo" => ordinal(i64::from(dt.month())),
            "M" => dt.month().to_string(),
            "DDDD" => format!("{:03}", dt.day_of_year()),
            "DDD" => dt.day_of_year().to_string(),
            "DD" => format!("{:02}", dt.day()),
            "Do" => ordinal(i64::from(dt.day())),
            "D" => dt.day().to_string(),
            "dddd" => WEEKDAYS[weekday].to_string(),
            "ddd" => WEEKDAYS[weekday][..3].to_string(),
            "dd" => WEEKDAYS[weekday][..2].to_string(),
            "do" => ordinal(weekday as i64),
            "d" => weekday.to_string(),
            "E" => dt.weekday().to_monday_one_offset().to_string(),
            "WW" => format!("{:02}", dt.date().iso_week_date().week()),
            "Wo" => ordinal(i64::from(dt.date().iso_week_date().week())),
            "W" => dt.date().iso_week_date().week().to_string(),
            "HH" => format!("{hour:02}"),
            "H" => hour.to_string(),
            "hh" => format!("{h12:02}"),
            "h" => h12.to_string(),
            "kk" => format!("{:02}", if hour == 0 { 24 } else { hour }),
            "k" => (if hour == 0 { 24 } else { hour }).to_string(),
            "mm" => format!("{:02}", dt.minute()),
            "m" => dt.minute().to_string(),
            "ss" => format!("{:02}", dt.second()),
            "s" => dt.second().to_string(),
            "SSS" => format!("{:03}", dt.millisecond()),
            "SS" => format!("{:02}", dt.millisecond() / 10),
            "S" => (dt.millisecond() / 100).to_string(),
            "A" => (if hour < 12 { "AM" } else { "PM" }).to_string(),
            "a" => (if hour < 12 { "am" } else { "pm" }).to_string(),
            "X" => ms.div_euclid(1000).to_string(),
            "x" => ms.to_string(),
            "ZZ" => "+0000".to_string(),
            _ => "+00:00".to_string(),
        };
        out.push_str(&piece);
    }
    Ok(out)
}

/// Moment.js's `fromNow()`: "a few seconds ago", "3 days ago", "in 2 months", ...
fn relative(ms: i64, now_ms: i64) -> String {
    let diff = now_ms.saturating_sub(ms);
    let past = diff >= 0;
    let secs = diff.unsigned_abs() as f64 / 1000.0;
    let seconds = js_round(secs);
    let minutes = js_round(secs / 60.0);
    let hours = js_round(secs / 3600.0);
    let days_f = secs / 86_400.0;
    let days = js_round(days_f);
    let months_f = days_f * 4800.0 / 146_097.0;
    let months = js_round(months_f);
    let years = js_round(months_f / 12.0);
    let phrase = if seconds < 45.0 {
        "a few seconds".to_string()
    } else if minutes <= 1.0 {
        "a minute".to_string()
    } else if minutes < 45.0 {
        format!("{minutes} minutes")
    } else if hours <= 1.0 {
        "an hour".to_string()
    } else if hours < 22.0 {
        format!("{hours} hours")
    } else if days <= 1.0 {
        "a day".to_string()
    } else if days < 26.0 {
        format!("{days} days")
    } else if months <= 1.0 {
        "a month".to_string()
    } else if months < 11.0 {
        format!("{months} months")
    } else if years <= 1.0 {
        "a year".to_string()
    } else {
        format!("{years} years")
    };
    if past {
        format!("{phrase} ago")
    } else {
        format!("in {phrase}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A vault of six files:
    /// 0 `Books.md`, 1 `notes/Reading/Dune.md` (a book note), 2 `people/Ann.md`,
    /// 3 `Daily/2024-01-01.md`, 4 `img/cover.jpg`, 5 `Templates/Book Template.md`.
    struct Vault {
        paths: Vec<&'static str>,
        now: i64,
    }

    const NOW: &str = "2025-01-15T12:00:00Z";

    fn ms_of(s: &str) -> i64 {
        match parse_date(s) {
            Some(Value::Date { ms, .. }) => ms,
            other => panic!("bad test date {s}: {other:?}"),
        }
    }

    fn vault() -> Vault {
        Vault {
            paths: vec![
                "Books.md",
                "notes/Reading/Dune.md",
                "people/Ann.md",
                "Daily/2024-01-01.md",
                "img/cover.jpg",
                "Templates/Book Template.md",
            ],
            now: ms_of(NOW),
        }
    }

    fn s(text: &str) -> Value {
        Value::String(text.to_string())
    }

    fn link(target: Option<u32>, text: &str) -> Value {
        Value::Link {
            target: target.map(FileRef),
            text: text.to_string(),
            display: None,
        }
    }

    impl Vault {
        fn resolve(&self, text: &str) -> Option<FileRef> {
            let t = text.trim();
            let t = t
                .strip_prefix("[[")
                .and_then(|r| r.strip_suffix("]]"))
                .map_or(t, |r| r.split('|').next().unwrap_or(r));
            self.paths
                .iter()
                .position(|p| {
                    let no_md = p.strip_suffix(".md").unwrap_or(p);
                    let base = no_md.rsplit('/').next().unwrap_or(no_md);
                    ieq(p, t) || ieq(no_md, t) || ieq(base, t)
                })
                .map(|i| FileRef(i as u32))
        }
    }

    impl Host for Vault {
        fn note_property(&self, file: FileRef, key: &str) -> Option<Value> {
            match (file.0, key) {
                (1, "categories") => Some(Value::List(vec![link(Some(0), "Books")])),
                (1, "author") => Some(Value::List(vec![link(Some(2), "Ann")])),
                (1, "rating") => Some(Value::Number(4.0)),
                (1, "price") => Some(Value::Number(12.5)),
                (1, "status") => Some(s("reading")),
                (1, "started") => parse_date("2024-12-01"),
                (1, "my key") => Some(s("spaced")),
                (1, "empty") => Some(Value::Null),
                (1, "meta") => Some(Value::Object(vec![
                    ("a".to_string(), Value::Number(1.0)),
                    ("b".to_string(), s("two")),
                ])),
                (2, "type") => Some(s("person")),
                (5, "categories") => Some(Value::List(vec![link(Some(0), "Books")])),
                _ => None,
            }
        }

        fn file_property(&self, file: FileRef, key: &str) -> Option<Value> {
            let path = *self.paths.get(file.0 as usize)?;
            let (folder, name) = path.rsplit_once('/').unwrap_or(("", path));
            let (basename, ext) = name.rsplit_once('.').unwrap_or((name, ""));
            let list = |v: Vec<Value>| Some(Value::List(v));
            Some(match key {
                "path" => s(path),
                "name" => s(name),
                "basename" => s(basename),
                "folder" => s(folder),
                "ext" => s(ext),
                "size" => Value::Number(100.0 * f64::from(file.0 + 1)),
                "mtime" => Value::Date {
                    ms: self.now - i64::from(file.0) * 3 * DAY_MS,
                    time: true,
                },
                "ctime" => Value::Date {
                    ms: self.now - 400 * DAY_MS,
                    time: true,
                },
                "tags" => match file.0 {
                    1 => list(vec![s("#book"), s("#Sci-Fi/classic")])?,
                    _ => Value::List(Vec::new()),
                },
                "links" => match file.0 {
                    1 => list(vec![
                        link(Some(0), "Books"),
                        link(Some(2), "people/Ann"),
                        link(None, "Missing"),
                    ])?,
                    2 | 3 => list(vec![link(Some(1), "Dune")])?,
                    _ => Value::List(Vec::new()),
                },
                "embeds" => match file.0 {
                    1 => list(vec![link(Some(4), "cover.jpg")])?,
                    _ => Value::List(Vec::new()),
                },
                "backlinks" => match file.0 {
                    1 => list(vec![Value::File(FileRef(2)), Value::File(FileRef(3))])?,
                    _ => Value::List(Vec::new()),
                },
                "properties" => match file.0 {
                    2 => Value::Object(vec![("type".to_string(), s("person"))]),
                    _ => Value::Object(Vec::new()),
                },
                _ => return None,
            })
        }

        fn link(&self, _from: Option<FileRef>, text: &str) -> Value {
            let t = text.trim();
            let (inner, display) = match t.strip_prefix("[[").and_then(|r| r.strip_suffix("]]")) {
                Some(r) => match r.split_once('|') {
                    Some((a, b)) => (a, Some(b.to_string())),
                    None => (r, None),
                },
                None => (t, None),
            };
            if inner.starts_with("http") {
                return Value::Link {
                    target: None,
                    text: inner.to_string(),
                    display,
                };
            }
            Value::Link {
                target: self.resolve(inner),
                text: inner.to_string(),
                display,
            }
        }

        fn file(&self, _from: Option<FileRef>, text: &str) -> Option<FileRef> {
            self.resolve(text)
        }
    }

    fn run_with(
        src: &str,
        file: u32,
        this: Option<u32>,
        formulas: &[(String, Result<Expression, ExprError>)],
    ) -> Result<Value, ExprError> {
        let v = vault();
        let scope = Scope {
            host: &v,
            file: FileRef(file),
            this: this.map(FileRef),
            formulas,
            now_ms: v.now,
            values: None,
        };
        eval(&Expression::parse(src)?, &scope)
    }

    /// Evaluates `src` for Dune (file 1), embedded in Ann (file 2).
    fn run(src: &str) -> Result<Value, ExprError> {
        run_with(src, 1, Some(2), &[])
    }

    fn ev(src: &str) -> Value {
        run(src).unwrap_or_else(|e| panic!("{src}: {e}"))
    }

    fn text(src: &str) -> String {
        ev(src).to_text()
    }

    fn truthy(src: &str) -> bool {
        match ev(src) {
            Value::Bool(b) => b,
            other => panic!("{src}: expected a boolean, got {other:?}"),
        }
    }

    fn num(src: &str) -> f64 {
        match ev(src) {
            Value::Number(n) => n,
            other => panic!("{src}: expected a number, got {other:?}"),
        }
    }

    fn fails(src: &str) -> ExprError {
        match run(src) {
            Err(e) => e,
            Ok(v) => panic!("{src}: expected an error, got {v:?}"),
        }
    }

    fn formulas(list: &[(&str, &str)]) -> Vec<(String, Result<Expression, ExprError>)> {
        list.iter()
            .map(|(n, src)| (n.to_string(), Expression::parse(src)))
            .collect()
    }

    #[test]
    fn precedence_and_operators() {
        assert_eq!(num("1 + 2 * 3"), 7.0);
        assert_eq!(num("(1 + 2) * 3"), 9.0);
        assert_eq!(num("2 - 3 - 4"), -5.0);
        assert_eq!(num("8 / 2 / 2"), 2.0);
        assert_eq!(num("7 % 3"), 1.0);
        assert_eq!(num("-7 % 3"), -1.0);
        assert_eq!(num("-2 * 3"), -6.0);
        assert_eq!(num("- -2"), 2.0);
        assert!(truthy("1 + 2 == 3 && 2 < 3"));
        assert!(truthy("!true || true"));
        assert!(!truthy("!(true || true)"));
        assert!(truthy("1 < 2 == true"));
        assert!(truthy("true || false && false"));
        assert_eq!(text(r#""a" + 1 + 2"#), "a12");
        assert_eq!(text(r#"1 + 2 + "a""#), "3a");
        assert_eq!(text(r#""x" + null"#), "x");
        assert!(matches!(ev("false || null"), Value::Null));
        assert_eq!(text(r#"0 || "fallback""#), "fallback");
        assert_eq!(num("1 && 2"), 2.0);
        assert!(matches!(ev("null * 3"), Value::Null));
        assert!(!truthy("null < 3") && !truthy("null > 3"));
        assert!(truthy("2 >= 2 && 2 <= 2 && 3 > 2 && !(3 < 2)"));
        assert!(truthy(r#""abc" < "abd""#));
        assert!(truthy(r#"10 > "9""#));
        assert!(truthy("1 != 2 && !(1 != 1)"));
        assert!(truthy(r#"1 != "1""#), "== compares types");
        assert_eq!(num("5.abs() + 1.5.floor()"), 6.0);
        assert_eq!(num("+\"4\" + 1"), 5.0);
        // Short-circuit: the right side is not evaluated (it would fail).
        assert!(matches!(ev("false && foo.bar()"), Value::Bool(false)));
        assert!(matches!(ev("true || file.nope"), Value::Bool(true)));
    }

    #[test]
    fn javascript_numbers() {
        assert_eq!(text("0.1 + 0.2"), "0.30000000000000004");
        assert_eq!(text("3"), "3");
        assert_eq!(text("2.5"), "2.5");
        assert_eq!(text("1e21"), "1e+21");
        assert_eq!(text("123456789012345680000"), "123456789012345680000");
        assert_eq!(text("0.000001"), "0.000001");
        assert_eq!(text("0.0000001"), "1e-7");
        assert_eq!(text("1.5e-10 * -1"), "-1.5e-10");
        assert_eq!(text("1 / 0"), "Infinity");
        assert_eq!(text("-1 / 0"), "-Infinity");
        assert_eq!(text("0 / 0"), "NaN");
        assert_eq!(text("5 % 0"), "NaN");
        assert!(!truthy("(0 / 0) == (0 / 0)"));
        assert!(!ev("0 / 0").is_truthy());
        assert_eq!(text("(3.14159).toFixed(2)"), "3.14");
        assert_eq!(text("(2.5).toFixed(0)"), "3");
        assert_eq!(text("(0.5).toFixed(0)"), "1");
        assert_eq!(text("(1.005).toFixed(2)"), "1.00");
        assert_eq!(text("(-2.5).toFixed(0)"), "-3");
        assert_eq!(text("(99.99).toFixed(1)"), "100.0");
        assert_eq!(text("(12).toFixed(3)"), "12.000");
        assert_eq!(text("(1e21).toFixed(2)"), "1e+21");
        assert_eq!(text("(1/0).toFixed(2)"), "Infinity");
        assert!(fails("(1).toFixed(101)").message.contains("0 to 100"));
        assert_eq!(num("(2.5).round()"), 3.0);
        assert_eq!(num("(-2.5).round()"), -2.0);
        assert_eq!(num("(2.3333).round(2)"), 2.33);
        assert_eq!(num("(1234).round(-2)"), 1200.0);
        assert_eq!(num("(-5).abs()"), 5.0);
        assert_eq!(num("(2.1).ceil()"), 3.0);
        assert_eq!(num("(2.9).floor()"), 2.0);
        assert!(!truthy("5.isEmpty()"));
        assert_eq!(text("123.toString()"), "123");
        assert_eq!(num(r#"number("3.4")"#), 3.4);
        assert_eq!(num("number(true)"), 1.0);
        assert_eq!(num(r#"number(date("1970-01-02"))"#), 86_400_000.0);
        assert!(fails(r#"number("abc")"#).message.contains("abc"));
        assert_eq!(num("max(1, 5, 3)"), 5.0);
        assert_eq!(num("min(4, 2, 8)"), 2.0);
        assert_eq!(num("max([1, 9], 3)"), 9.0);
        assert!(matches!(ev("max()"), Value::Null));
        assert!(fails(r#"max(1, "a")"#).message.contains("numbers"));
        assert_eq!(
            text(r#"max(date("2024-01-01"), date("2024-03-01"))"#),
            "2024-03-01"
        );
    }

    #[test]
    fn strings() {
        assert!(truthy(r#""hello".contains("ell")"#));
        assert!(!truthy(r#""hello".contains("xyz")"#));
        assert!(truthy(r#""hello".containsAll("h", "e")"#));
        assert!(!truthy(r#""hello".containsAll("h", "z")"#));
        assert!(truthy(r#""hello".containsAny("x", "y", "e")"#));
        assert!(!truthy(r#""hello".containsAny("x", "y")"#));
        assert!(truthy(
            r#""hello".startsWith("he") && "hello".endsWith("lo")"#
        ));
        assert!(!truthy(r#""hello".startsWith("lo")"#));
        assert_eq!(text(r#""Hello".lower() + "Hello".upper()"#), "helloHELLO");
        assert_eq!(text(r#""hello world".title()"#), "Hello World");
        assert_eq!(text(r#""  hi  ".trim()"#), "hi");
        assert_eq!(text(r#""hello".reverse()"#), "olleh");
        assert_eq!(text(r#""123".repeat(2)"#), "123123");
        assert_eq!(text(r#""ab".repeat(0)"#), "");
        assert!(fails(r#""ab".repeat(-1)"#).message.contains("repeat"));
        assert!(fails(r#""ab".repeat(1e15)"#).message.contains("too long"));
        assert!(fails(r#""ab".repeat(1/0)"#).message.contains("repeat"));
        assert_eq!(text(r#""hello".slice(1, 4)"#), "ell");
        assert_eq!(text(r#""hello".slice(1)"#), "ello");
        assert_eq!(text(r#""hello".slice(-3)"#), "llo");
        assert_eq!(text(r#""hello".slice(4, 1)"#), "");
        assert_eq!(text(r#""hello".slice(-100, 100)"#), "hello");
        assert_eq!(text(r#""héllo wörld".slice(1, 2)"#), "é");
        assert_eq!(num(r#""héllo".length"#), 5.0);
        assert_eq!(text(r#""héllo"[1]"#), "é");
        assert_eq!(text(r#""a,b,c,d".split(",", 3)"#), "a, b, c");
        assert_eq!(text(r#""a,b,c,d".split(/,/, 3)"#), "a, b, c");
        assert_eq!(num(r#""a,b".split(",").length"#), 2.0);
        assert_eq!(text(r#""abc".split("").join("-")"#), "a-b-c");
        assert_eq!(text(r#""a1b22c".split(/\d+/).join("|")"#), "a|b|c");
        assert_eq!(text(r#""a1b".split(/(\d)/).join("|")"#), "a|1|b");
        assert_eq!(text(r#""abc".split(/x*/).join("|")"#), "a|b|c");
        // String patterns replace every occurrence, as the documentation says.
        assert_eq!(text(r#""a:b:c".replace(":", "-")"#), "a-b-c");
        assert_eq!(text(r#""a:b:c:d".replace(/:/, "-")"#), "a-b:c:d");
        assert_eq!(text(r#""a:b:c:d".replace(/:/g, "-")"#), "a-b-c-d");
        assert_eq!(
            text(r#""John Smith".replace(/(\w+) (\w+)/, "$2, $1")"#),
            "Smith, John"
        );
        assert_eq!(text(r#""abc".replace(/B/i, "[$&]")"#), "a[b]c");
        assert_eq!(text(r#""abc".replace("b", "$$")"#), "a$c");
        assert_eq!(text(r#""abc".replace(/(?<x>b)/, "<$<x>>")"#), "a<b>c");
        assert_eq!(text(r#""abc".replace(/b/, "$9")"#), "a$9c");
        assert!(truthy(r#"/abc/.matches("xxabcxx")"#));
        assert!(!truthy(r#"/^abc$/.matches("xxabcxx")"#));
        assert!(truthy(r#"/ABC/i.matches("abc")"#));
        assert_eq!(num("4 / 2 / 1"), 2.0, "a `/` after an operand divides");
        assert_eq!(
            text(r#"escapeHTML("<a href='x'>&</a>")"#),
            "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;"
        );
        assert_eq!(text(r#"html("<b>x</b>")"#), "<b>x</b>");
        assert_eq!(
            text(r#"'it\'s' + "\t\u00e9\u{1F600}\uD83D\uDE00""#),
            "it's\té😀😀"
        );
        assert!(truthy(r#""".isEmpty() && !"x".isEmpty()"#));
        // Huge results are refused rather than built.
        let e = fails(r#""abcdefgh".repeat(100000).replace("a", "aaaaaaaaaaaaaaaa")"#);
        assert!(e.message.contains("too long"), "{e:?}");
        let e = fails(r#""abcdefgh".repeat(100000) + "abcdefgh".repeat(100000)"#);
        assert!(e.message.contains("too long"), "{e:?}");
    }

    #[test]
    fn lists() {
        assert!(truthy("[1,2,3].contains(2)"));
        assert!(!truthy("[1,2,3].contains(4)"));
        assert!(!truthy(r#"[1,2,3].contains("2")"#));
        assert!(truthy("[1,2,3].containsAll(2,3)"));
        assert!(!truthy("[1,2,3].containsAll(2,4)"));
        assert!(truthy("[1,2,3].containsAny(3,4)"));
        assert!(!truthy("[1,2,3].containsAny(5,4)"));
        assert!(truthy("[1,2,3].containsAny([7, 3])"));
        assert!(truthy("[[1,2],3].contains([1,2])"));
        assert_eq!(text("[1,2,3,4].filter(value > 2)"), "3, 4");
        assert_eq!(text("[10,20,30].filter(index > 0)"), "20, 30");
        assert_eq!(text("[1,2,3,4].map(value + 1)"), "2, 3, 4, 5");
        assert_eq!(text("[1,2].map([value, index])"), "1, 0, 2, 1");
        assert_eq!(text("[[1,2],[3]].map(value.map(value * 10))"), "10, 20, 30");
        assert_eq!(num("[1,2,3].reduce(acc + value, 0)"), 6.0);
        assert_eq!(
            num(
                r#"[3, "x", 9, 4].filter(value.isType("number")).reduce(if(acc == null || value > acc, value, acc), null)"#
            ),
            9.0
        );
        assert_eq!(text(r#"[1,2,3].join(",")"#), "1,2,3");
        assert_eq!(text(r#"["a", 2, true].join(" ")"#), "a 2 true");
        assert_eq!(text("[1,2,2,3,1].unique()"), "1, 2, 3");
        assert_eq!(text("[3, 1, 2].sort()"), "1, 2, 3");
        assert_eq!(text("[10, 9, 1].sort()"), "1, 9, 10");
        assert_eq!(text(r#"["c", "A", "b"].sort()"#), "A, b, c");
        assert_eq!(text("[1,[2,3],[[4]]].flat().length"), "4");
        assert_eq!(text("[1,[2,3]].flat()"), "1, 2, 3");
        assert_eq!(text("[1,2,3].reverse()"), "3, 2, 1");
        assert_eq!(text("[1,2,3,4].slice(1,3)"), "2, 3");
        assert_eq!(text("[1,2,3,4].slice(-2)"), "3, 4");
        assert_eq!(num("[1,2,3].length"), 3.0);
        assert!(truthy("[].isEmpty() && ![1].isEmpty()"));
        assert_eq!(num("[5,6][1]"), 6.0);
        assert!(matches!(ev("[5,6][-1]"), Value::Null));
        assert!(matches!(ev("[5,6][2]"), Value::Null));
        assert!(matches!(ev("[5,6][0.5]"), Value::Null));
        assert_eq!(num("[1, 2, null, 3].mean()"), 2.0);
        assert!(fails(r#"[5,6]["a"]"#)
            .message
            .contains("indexed by a number"));
        assert_eq!(text(r#"list("value")"#), "value");
        assert_eq!(num(r#"list("value").length"#), 1.0);
        assert_eq!(num("list([1, 2]).length"), 2.0);
        assert_eq!(num("list(missing).length"), 0.0);
        // `value` outside a list function is the note property of that name (none here).
        assert!(matches!(ev("value"), Value::Null));
    }

    #[test]
    fn objects() {
        assert_eq!(num("meta.a"), 1.0);
        assert_eq!(text(r#"meta["b"]"#), "two");
        assert!(matches!(ev("meta.zzz"), Value::Null));
        assert_eq!(text("meta.keys()"), "a, b");
        assert_eq!(text("meta.values()"), "1, two");
        assert!(!truthy("meta.isEmpty()"));
        assert!(truthy("{}.isEmpty()"));
        assert_eq!(num(r#"{"x": 1, y: [2, 3]}.y[1]"#), 3.0);
        assert!(truthy(r#"{"a": 1} == {"a": 1} && {"a": 1} != {"a": 2}"#));
        assert_eq!(text(r#"{"a": 1, "b": "x"}"#), "a: 1, b: x");
    }

    #[test]
    fn dates_and_durations() {
        assert_eq!(
            text(r#"date("2024-12-01") + "1M" + "4h" + "3m""#),
            "2025-01-01 04:03:00"
        );
        assert_eq!(text(r#"date("2024-01-31") + "1M""#), "2024-02-29");
        assert_eq!(text(r#"date("2024-02-29") + "1y""#), "2025-02-28");
        assert_eq!(text(r#"date("2024-03-10") - "2 weeks""#), "2024-02-25");
        assert_eq!(
            text(r#"date("2024-03-10") + "1 day 2 hours""#),
            "2024-03-11 02:00:00"
        );
        assert_eq!(
            text(r#"date("2024-03-10 10:00") - "90 minutes""#),
            "2024-03-10 08:30:00"
        );
        assert_eq!(num(r#"(now() + "1d") - now()"#), 86_400_000.0);
        assert_eq!(
            num(r#"date("2024-01-02") - date("2024-01-01")"#),
            86_400_000.0
        );
        assert_eq!(num(r#"now() - "2025-01-15""#), 12.0 * 3_600_000.0);
        assert_eq!(text("today()"), "2025-01-15");
        assert_eq!(text("now()"), "2025-01-15 12:00:00");
        assert_eq!(text(r#"now() + duration("1d") * 2"#), "2025-01-17 12:00:00");
        assert_eq!(text(r#"duration("5h") * 2"#), "10h");
        assert_eq!(text(r#"duration("1d") + "90s""#), "1d 1m 30s");
        assert_eq!(num(r#"duration("1d") / duration("1h")"#), 24.0);
        assert!(fails(r#"2 * duration("5h")"#).message.contains("left"));
        assert!(fails(r#"duration("soon")"#).message.contains("soon"));
        assert_eq!(text(r#"date("2024-03-10") + duration("1w")"#), "2024-03-17");
        // "M" is months, "m" minutes.
        assert_eq!(text(r#"date("2024-01-01") + "2M""#), "2024-03-01");
        assert_eq!(text(r#"date("2024-01-01") + "2m""#), "2024-01-01 00:02:00");
        assert!(truthy(r#"file.mtime > now() - "1 week""#));
        assert!(!run_with(r#"file.mtime > now() - "1 week""#, 3, None, &[])
            .map(|v| v.is_truthy())
            .unwrap_or(true));
        assert!(truthy(r#"file.mtime > now() - '7d'"#));
        assert!(truthy(r#"date("2024-01-02") > "2024-01-01""#));
        assert!(truthy(r#"started == "2024-12-01""#));
        assert!(truthy(r#"started == date("2024-12-01")"#));
        assert!(truthy(r#"started < today()"#));
        let d = r#"date("2024-03-05T14:07:09.250Z")"#;
        assert_eq!(num(&format!("{d}.year")), 2024.0);
        assert_eq!(num(&format!("{d}.month")), 3.0);
        assert_eq!(num(&format!("{d}.day")), 5.0);
        assert_eq!(num(&format!("{d}.hour")), 14.0);
        assert_eq!(num(&format!("{d}.minute")), 7.0);
        assert_eq!(num(&format!("{d}.second")), 9.0);
        assert_eq!(num(&format!("{d}.millisecond")), 250.0);
        assert_eq!(text(&format!("{d}.time()")), "14:07:09");
        assert_eq!(
            text(&format!(r#"{d}.date().format("YYYY-MM-DD HH:mm:ss")"#)),
            "2024-03-05 00:00:00"
        );
        assert_eq!(
            text(&format!(
                r#"{d}.format("dddd, MMMM Do YYYY, h:mm a [at] ss.SSS")"#
            )),
            "Tuesday, March 5th 2024, 2:07 pm at 09.250"
        );
        assert_eq!(
            text(&format!(r#"{d}.format("ddd D MMM YY, HH[h] Q W")"#)),
            "Tue 5 Mar 24, 14h 1 10"
        );
        assert_eq!(text(&format!(r#"{d}.format("X")"#)), "1709647629");
        assert!(fails(&format!("{d}.weekday")).message.contains("no field"));
        assert!(!truthy(&format!("{d}.isEmpty()")));
        assert_eq!(
            text(r#"date("2025-01-12T12:00:00").relative()"#),
            "3 days ago"
        );
        assert_eq!(text(r#"(now() + "2h").relative()"#), "in 2 hours");
        assert_eq!(text(r#"(now() - "10s").relative()"#), "a few seconds ago");
        assert_eq!(text(r#"(now() - "400d").relative()"#), "a year ago");
        assert_eq!(text(r#"(now() - "60d").relative()"#), "2 months ago");
        assert_eq!(
            text(r#"date("2024-01-02 03:04:05+02:00")"#),
            "2024-01-02 01:04:05"
        );
        assert!(fails(r#"date("yesterday")"#).message.contains("yesterday"));
        let e = fails(r#"date("9999-06-01") + "1y""#);
        assert!(e.message.contains("out of range"), "{e:?}");
        assert!(fails(r#"date("2024-01-01") + "99999999y""#)
            .message
            .contains("out of range"));
        assert!(fails(r#"date("2024-01-01") + "3 fortnights""#)
            .message
            .contains("duration"));
        assert!(fails(r#"date("2024-01-01") - "soon""#)
            .message
            .contains("duration"));
        assert_eq!(
            text(r#"date("2024-01-01") + " (start)""#),
            "2024-01-01 (start)"
        );
    }

    #[test]
    fn parse_date_forms() {
        let ok = |s: &str, want_ms: i64, want_time: bool| match parse_date(s) {
            Some(Value::Date { ms, time }) => {
                assert_eq!((ms, time), (want_ms, want_time), "{s}");
            }
            other => panic!("{s}: {other:?}"),
        };
        ok("1970-01-02", DAY_MS, false);
        ok(" 1970-01-02 ", DAY_MS, false);
        ok("1970-01-01T01:00", 3_600_000, true);
        ok("1970-01-01 01:00:01", 3_601_000, true);
        ok("1970-01-01T01:00:00.5Z", 3_600_500, true);
        ok("1970-01-01T02:00:00+01:00", 3_600_000, true);
        ok("1970-01-01T02:00:00+0100", 3_600_000, true);
        ok("1970-01-01T00:00:00-01", 3_600_000, true);
        ok("1969-12-31", -DAY_MS, false);
        for bad in [
            "",
            "2023-02-29",
            "2024-13-01",
            "2024-01-01T25:00",
            "2024-01-01 10",
            "2024/01/01",
            "20240101",
            "2024-01-01Tx",
            "2024-01-01T10:00:00+99:00",
            "2024-01-01T10:00:00.",
            "2024-01-01 10:00 junk",
            "٢٠٢٤-01-01",
        ] {
            assert!(parse_date(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn files_links_and_this() {
        // The kepano vault's filters and formulas.
        assert!(truthy(r#"categories.contains(link("Books"))"#));
        assert!(!truthy(r#"categories.contains(link("people/Ann"))"#));
        assert!(truthy(r#"categories.contains("Books")"#));
        assert!(truthy(r#"categories.contains("[[books]]")"#));
        assert!(truthy("list(author).contains(this)"));
        assert!(!run_with("list(author).contains(this)", 1, Some(3), &[])
            .map(|v| v.is_truthy())
            .unwrap_or(true));
        assert!(run_with("file.hasLink(this)", 2, Some(1), &[])
            .map(|v| v.is_truthy())
            .unwrap_or(false));
        assert!(truthy("file.hasLink(this)"), "Dune links to Ann");
        assert!(!run_with("file.hasLink(this)", 0, Some(1), &[])
            .map(|v| v.is_truthy())
            .unwrap_or(true));
        assert!(truthy(r#"!file.name.contains("Template")"#));
        assert!(
            !run_with(r#"!file.name.contains("Template")"#, 5, None, &[])
                .map(|v| v.is_truthy())
                .unwrap_or(true)
        );
        assert!(truthy("file.path != this.file.path"));
        assert!(!run_with("file.path != this.file.path", 2, Some(2), &[])
            .map(|v| v.is_truthy())
            .unwrap_or(true));
        // Files Ann (this) links to that Dune also links to: Dune's links hold Books and
        // Ann, Ann's links hold Dune, so from Daily (links: Dune) with this = Ann: [Dune].
        let related = "list(this.file.links).filter(list(file.links).containsAny(value)).unique()";
        let r = run_with(related, 3, Some(2), &[]).unwrap_or(Value::Null);
        assert!(
            r.equals(&Value::List(vec![Value::File(FileRef(1))])),
            "{r:?}"
        );
        assert!(run_with(related, 0, Some(2), &[])
            .map(|v| v.is_empty())
            .unwrap_or(false));
        let cover = r#"if(file.embeds[0].containsAny("jpg","gif"), file.embeds[0])"#;
        assert!(ev(cover).equals(&link(Some(4), "cover.jpg")));
        assert!(matches!(run_with(cover, 2, None, &[]), Ok(Value::Null)));
        assert_eq!(num("file.backlinks.length"), 2.0);
        assert!(truthy(r#"!file.ext.containsAny("base", "canvas", "pdf")"#));
        assert!(!truthy(
            r#"!file.ext.containsAny("base", "canvas", "pdf", "md")"#
        ));
        // File properties.
        assert_eq!(text("file.name"), "Dune.md");
        assert_eq!(text("file.basename"), "Dune");
        assert_eq!(text("file.folder"), "notes/Reading");
        assert_eq!(text("file.ext"), "md");
        assert_eq!(num("file.size"), 200.0);
        assert_eq!(text(r#"file["basename"]"#), "Dune");
        assert!(matches!(ev("file.file"), Value::File(FileRef(1))));
        assert!(matches!(ev("file"), Value::File(FileRef(1))));
        let e = fails("file.nope");
        assert_eq!(e.at, 5);
        assert!(e.message.contains("nope"));
        // `this`.
        assert!(matches!(ev("this"), Value::File(FileRef(2))));
        assert!(matches!(ev("this.file"), Value::File(FileRef(2))));
        assert_eq!(text("this.file.name"), "Ann.md");
        assert_eq!(text("this.type"), "person");
        assert_eq!(text(r#"this["type"]"#), "person");
        assert_eq!(text("this.note.type"), "person");
        assert!(matches!(
            run_with("this.file.name", 1, None, &[]),
            Ok(Value::Null)
        ));
        assert!(matches!(run_with("this", 1, None, &[]), Ok(Value::Null)));
        // Note properties.
        assert_eq!(text("status"), "reading");
        assert_eq!(text("note.status"), "reading");
        assert_eq!(text(r#"note["my key"]"#), "spaced");
        assert!(matches!(ev("nosuch"), Value::Null));
        assert_eq!(text("note.type"), "", "Dune has no `type`");
        assert_eq!(text("file.properties.type"), "");
        assert!(truthy(
            "file.hasProperty(\"status\") && !file.hasProperty(\"nosuch\")"
        ));
        // Tags: with or without `#`, case-insensitive, nested tags match their parents.
        assert!(truthy(r#"file.hasTag("book")"#));
        assert!(truthy(r##"file.hasTag("#book")"##));
        assert!(truthy(r#"file.hasTag("sci-fi")"#));
        assert!(truthy(r#"file.hasTag("SCI-FI/Classic")"#));
        assert!(!truthy(r#"file.hasTag("sci")"#));
        assert!(!truthy(r#"file.hasTag("classic")"#));
        assert!(truthy(r#"file.hasTag("x", "book")"#));
        // Folders.
        assert!(truthy(r#"file.inFolder("notes")"#));
        assert!(truthy(r#"file.inFolder("notes/Reading/")"#));
        assert!(truthy(r#"file.inFolder("/")"#));
        assert!(!truthy(r#"file.inFolder("note")"#));
        assert!(!truthy(r#"file.inFolder("Reading")"#));
        // hasLink with strings, links and files.
        assert!(truthy(r#"file.hasLink("Books")"#));
        assert!(truthy(r#"file.hasLink("[[Ann]]")"#));
        assert!(truthy(r#"file.hasLink(file("people/Ann.md"))"#));
        assert!(
            truthy(r#"file.hasLink("missing")"#),
            "unresolved links by text"
        );
        assert!(!truthy(r#"file.hasLink("Daily/2024-01-01")"#));
        assert!(!truthy("file.hasLink(null)"));
        // Links.
        assert!(truthy(r#"link("Books") == link("[[books]]")"#));
        assert!(truthy(r#"link("Nowhere") == link("nowhere")"#));
        assert!(!truthy(r#"link("Nowhere") == link("Elsewhere")"#));
        assert!(!truthy(r#"link("Books") == link("Nowhere")"#));
        assert!(truthy(r#"link("Ann") == this"#));
        assert!(truthy(r#"this == link("people/Ann")"#));
        assert!(truthy(r#"author[0] == "Ann""#));
        assert!(truthy(r#"link("Dune").linksTo(this)"#));
        assert!(!truthy(r#"link("Books").linksTo(this)"#));
        assert!(matches!(
            ev(r#"link("[[Dune]]").asFile()"#),
            Value::File(FileRef(1))
        ));
        assert!(matches!(ev(r#"link("Nowhere").asFile()"#), Value::Null));
        assert_eq!(text(r#"link("Books", "All books")"#), "All books");
        assert_eq!(
            text(r#"link("https://obsidian.md")"#),
            "https://obsidian.md"
        );
        let l = ev(r#"file.asLink("Read")"#);
        assert!(
            matches!(&l, Value::Link { target: Some(FileRef(1)), text, display: Some(d) } if text == "notes/Reading/Dune" && d == "Read"),
            "{l:?}"
        );
        assert!(ev("link(this)").equals(&Value::File(FileRef(2))));
        assert_eq!(num(r#"link("Books").length"#), 5.0);
        assert!(matches!(ev(r#"file("Ann")"#), Value::File(FileRef(2))));
        assert!(matches!(
            ev(r#"file(link("[[Ann]]"))"#),
            Value::File(FileRef(2))
        ));
        assert!(matches!(ev(r#"file("nowhere")"#), Value::Null));
        assert!(matches!(
            ev("file.embeds[0].asFile()"),
            Value::File(FileRef(4))
        ));
        // Images and icons.
        assert!(
            matches!(ev(r#"image("https://x/y.svg")"#), Value::Image(s) if s == "https://x/y.svg")
        );
        assert!(matches!(ev("image(file.embeds[0])"), Value::Image(s) if s == "cover.jpg"));
        assert!(
            matches!(ev(r#"image(file("cover.jpg"))"#), Value::Image(s) if s == "img/cover.jpg")
        );
        assert!(matches!(ev(r#"icon("arrow-right")"#), Value::Icon(s) if s == "arrow-right"));
        assert_eq!(ev("file").to_text(), "", "files are shown through the host");
    }

    #[test]
    fn any_type_functions() {
        assert!(truthy("1.isTruthy() && !0.isTruthy() && !\"\".isTruthy()"));
        assert!(truthy(
            r#""example".isType("string") && true.isType("boolean")"#
        ));
        assert!(truthy(
            r#"[].isType("list") && file.isType("file") && this.isType("file")"#
        ));
        assert!(truthy(
            r#"categories[0].isType("link") && started.isType("date")"#
        ));
        assert!(truthy(r#"missing.isType("null") && meta.isType("object")"#));
        assert!(truthy(r#"5.isType("number") && !5.isType("string")"#));
        assert!(fails(r#"5.isType("nmber")"#)
            .message
            .contains("unknown type"));
        assert_eq!(text("[1, [2, 3]].toString()"), "1, 2, 3");
        assert_eq!(text("true.toString()"), "true");
        assert_eq!(text("categories.toString()"), "Books");
        // if()
        assert_eq!(
            text(r#"if(price, price.toFixed(2) + " dollars")"#),
            "12.50 dollars"
        );
        assert!(matches!(ev(r#"if(missing, "x")"#), Value::Null));
        assert_eq!(text(r#"if(missing, "x", "y")"#), "y");
        assert_eq!(
            text(r#"if(true, "x", nope())"#),
            "x",
            "the other branch is not run"
        );
        assert_eq!(text("(price / rating).toFixed(2)"), "3.13");
        // random() is reproducible and in [0, 1).
        let r1 = num("random()");
        assert!((0.0..1.0).contains(&r1));
        assert_eq!(r1, num("random()"));
        assert_ne!(num("random()"), num(" random()"), "differs per call site");
        assert!(truthy("random() != random()"));
    }

    #[test]
    fn null_receivers() {
        assert!(!truthy(r#"missing.contains("x")"#));
        assert!(!truthy(r#"missing.hasTag("x")"#));
        assert!(truthy("missing.isEmpty()"));
        assert!(!truthy("missing.isTruthy()"));
        assert_eq!(text("missing.toString()"), "");
        assert!(matches!(ev("missing.lower()"), Value::Null));
        assert!(matches!(ev("missing.length"), Value::Null));
        assert!(matches!(ev("missing.a.b[0]"), Value::Null));
        assert!(matches!(ev("missing.filter(value)"), Value::Null));
        assert!(matches!(ev("empty.round()"), Value::Null));
        // Unknown names are errors even on null.
        assert!(fails("missing.frobnicate()")
            .message
            .contains("unknown function"));
    }

    #[test]
    fn formulas_use_formulas() {
        let f = formulas(&[
            ("ppu", "(price / rating).toFixed(2)"),
            ("label", r#"formula.ppu + " each""#),
            ("Related", "[1, 2, 3]"),
            ("a", "formula.b + 1"),
            ("b", "formula.a + 1"),
            ("self", "formula.self"),
            ("broken", "1 +"),
            ("uses broken", "formula.broken"),
            ("twice", "formula.ppu + formula.ppu"),
            ("bad inside", "1 + nope()"),
        ]);
        let run = |src: &str| run_with(src, 1, Some(2), &f);
        assert_eq!(
            run("formula.label").map(|v| v.to_text()),
            Ok("3.13 each".into())
        );
        assert_eq!(
            run("formula.Related.length").map(|v| v.to_text()),
            Ok("3".into())
        );
        assert_eq!(
            run(r#"formula["uses broken"].length"#)
                .map(|_| ())
                .map_err(|e| e.at),
            Err(7)
        );
        assert_eq!(
            run("formula.twice").map(|v| v.to_text()),
            Ok("3.133.13".into())
        );
        let e = run("1 + formula.a").unwrap_err();
        assert!(e.message.contains("circular"), "{e:?}");
        assert!(e.message.contains("a → b → a"), "{e:?}");
        assert_eq!(e.at, 12);
        assert!(run("formula.self")
            .unwrap_err()
            .message
            .contains("circular"));
        let e = run("formula.broken").unwrap_err();
        assert!(
            e.message.contains("broken") && e.message.contains("error"),
            "{e:?}"
        );
        let e = run("formula.uses broken").unwrap_err();
        assert!(e.at == 8 || e.message.contains("unexpected"), "{e:?}");
        let e = run("formula.nope").unwrap_err();
        assert_eq!((e.message.as_str(), e.at), ("unknown formula `nope`", 8));
        let e = run(r#"formula["bad inside"]"#).unwrap_err();
        assert!(e.message.contains("in formula `bad inside`") && e.message.contains("nope"));
        assert_eq!(e.at, 7);
        assert!(run("formula").unwrap_err().message.contains("formula.name"));
        // A formula sees `this` and the row's file.
        let g = formulas(&[("who", "this.file.name + \"/\" + file.name")]);
        assert_eq!(
            run_with("formula.who", 1, Some(2), &g).map(|v| v.to_text()),
            Ok("Ann.md/Dune.md".into())
        );
        // A long chain of formulas ends in an error, not a stack overflow.
        let chain: Vec<(String, Result<Expression, ExprError>)> = (0..400)
            .map(|i| {
                let src = if i == 399 {
                    "1".to_string()
                } else {
                    format!("[1].map(formula.f{}).flat()[0] + 1", i + 1)
                };
                (format!("f{i}"), Expression::parse(&src))
            })
            .collect();
        let e = run_with("formula.f0", 1, None, &chain).unwrap_err();
        assert!(e.message.contains("too deeply"), "{e:?}");
        assert_eq!(
            run_with("formula.f380", 1, None, &chain).map(|v| v.to_text()),
            Ok("20".into())
        );
        // Exponential formula graphs are evaluated once per formula.
        let doubling: Vec<(String, Result<Expression, ExprError>)> = (0..60)
            .map(|i| {
                let src = if i == 59 {
                    "1".to_string()
                } else {
                    format!("formula.d{0} + formula.d{0}", i + 1)
                };
                (format!("d{i}"), Expression::parse(&src))
            })
            .collect();
        assert_eq!(
            run_with("formula.d30", 1, None, &doubling).map(|v| v.to_text()),
            Ok("536870912".into())
        );
    }

    #[test]
    fn errors_point_at_their_cause() {
        let at = |src: &str| fails(src).at;
        assert_eq!(at("foo(1)"), 0);
        assert!(fails("foo(1)").message.contains("unknown function `foo()`"));
        assert_eq!(at("1 + bar()"), 4);
        assert_eq!(at(r#""x".nope()"#), 4);
        assert_eq!(at("[1].round()"), 4);
        assert!(fails("[1].round()")
            .message
            .contains("not a function of a list"));
        assert!(fails("true.lower()").message.contains("boolean"));
        assert_eq!(at(r#""abc".length()"#), 6);
        assert!(fails(r#""abc".length()"#).message.contains("field"));
        assert!(fails("file.contains(1)").message.contains("file"));
        assert!(fails("contains(1)").message.contains("method"));
        assert!(fails("file.if(1)").message.contains("global"));
        assert_eq!(at(r#""a".slice()"#), 4);
        assert!(fails(r#""a".slice()"#).message.contains("takes 1 to 2"));
        assert!(fails("if(1)").message.contains("takes 2 to 3"));
        assert!(fails("now(1)").message.contains("takes 0 arguments"));
        assert_eq!(at("[1] - 2"), 4);
        assert!(fails("[1] - 2")
            .message
            .contains("subtract a list and a number"));
        assert_eq!(at("-[1]"), 0);
        assert!(fails("5.year").message.contains("no field"));
        // Parse errors.
        assert_eq!(at("1 +"), 3);
        assert!(fails("1 +").message.contains("end of expression"));
        assert_eq!(at(""), 0);
        assert_eq!(at("   "), 0);
        assert_eq!(at("1 2"), 2);
        assert_eq!(at(r#"x + "abc"#), 4);
        assert!(fails(r#"x + "abc"#).message.contains("unterminated string"));
        assert_eq!(at("a = b"), 2);
        assert!(fails("a = b").message.contains("=="));
        assert_eq!(at("a & b"), 2);
        assert_eq!(at("a # b"), 2);
        assert_eq!(at("(1 + 2"), 6);
        assert_eq!(at("[1, 2"), 5);
        assert_eq!(at("f(1,"), 4);
        assert_eq!(at("a.(b)"), 2);
        assert_eq!(at("(a)(b)"), 3);
        assert_eq!(at("x.replace(/(/, \"\")"), 10);
        assert!(fails("x.replace(/(/, \"\")")
            .message
            .contains("regular expression"));
        assert_eq!(at("x.replace(/a/q, \"\")"), 10);
        assert_eq!(at("/abc"), 0);
        assert_eq!(at("1 + /a/"), 4);
        assert_eq!(at(r#""a\u{110000}""#), 2);
        assert!(fails("\"\\x4\"").message.contains("escape"));
        // `-` is not part of a name.
        assert!(matches!(ev("image-property"), Value::Null));
        assert_eq!(num("rating-1"), 3.0);
    }

    #[test]
    fn identifiers_in_any_script() {
        let f = formulas(&[("名前", "\"ok\""), ("ünïcode_1", "2")]);
        assert_eq!(
            run_with("formula.名前 + formula.ünïcode_1", 1, None, &f).map(|v| v.to_text()),
            Ok("ok2".into())
        );
        assert!(matches!(ev("дата"), Value::Null));
        assert!(matches!(ev("_x1"), Value::Null));
    }

    #[test]
    fn extreme_clock_values_do_not_overflow() {
        for now_ms in [i64::MIN, i64::MIN + 1, -1, i64::MAX] {
            let v = vault();
            let scope = Scope {
                host: &v,
                file: FileRef(1),
                this: None,
                formulas: &[],
                now_ms,
                values: None,
            };
            for src in [
                "today()",
                "now()",
                "now().relative()",
                "now() + \"1d\"",
                "today().year",
            ] {
                if let Ok(e) = Expression::parse(src) {
                    let _ = eval(&e, &scope).map(|v| v.to_text());
                }
            }
        }
        assert_eq!(day_start(-1), -DAY_MS);
        assert_eq!(day_start(DAY_MS + 5), DAY_MS);
    }

    #[test]
    fn expression_keeps_its_source() {
        let e = Expression::parse(" 1 + 2 ").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(e.source(), " 1 + 2 ");
    }

    #[test]
    fn truthiness_text_and_emptiness() {
        let falsy = [
            Value::Null,
            Value::Bool(false),
            Value::Number(0.0),
            Value::Number(f64::NAN),
            s(""),
            Value::List(vec![]),
            Value::Object(vec![]),
        ];
        for v in &falsy {
            assert!(!v.is_truthy(), "{v:?}");
        }
        for v in [
            Value::Number(-1.0),
            s("0"),
            Value::List(vec![Value::Null]),
            Value::Date { ms: 0, time: false },
            Value::File(FileRef(0)),
            link(None, "x"),
        ] {
            assert!(v.is_truthy(), "{v:?}");
        }
        assert!(Value::Null.is_empty() && s("").is_empty() && !Value::Number(0.0).is_empty());
        assert_eq!(
            Value::List(vec![Value::Number(1.0), s("a"), link(None, "L")]).to_text(),
            "1, a, L"
        );
        assert_eq!(Value::Date { ms: 0, time: false }.to_text(), "1970-01-01");
        assert_eq!(
            Value::Date {
                ms: 1500,
                time: true
            }
            .to_text(),
            "1970-01-01 00:00:01"
        );
        assert_eq!(
            Value::Date {
                ms: i64::MAX,
                time: true
            }
            .to_text(),
            number_text(i64::MAX as f64)
        );
        assert_eq!(Value::Duration(-90_061_001).to_text(), "-1d 1h 1m 1s 1ms");
        assert_eq!(Value::Duration(0).to_text(), "0s");
        assert_eq!(Value::Number(-0.0).to_text(), "0");
    }

    #[test]
    fn compare_is_a_total_order() {
        let values = vec![
            Value::Null,
            s(""),
            Value::List(vec![]),
            Value::Object(vec![]),
            Value::Bool(true),
            Value::Bool(false),
            Value::Number(2.0),
            Value::Number(10.0),
            Value::Number(-0.0),
            Value::Number(0.0),
            Value::Number(f64::NAN),
            Value::Number(f64::INFINITY),
            Value::Number(f64::NEG_INFINITY),
            s("apple"),
            s("Apple"),
            s("banana"),
            s("Éclair"),
            Value::Date { ms: 5, time: true },
            Value::Date { ms: 5, time: false },
            Value::Duration(3),
            link(Some(1), "b"),
            link(None, "B"),
            link(None, "a"),
            Value::File(FileRef(3)),
            Value::File(FileRef(1)),
            Value::List(vec![Value::Number(1.0)]),
            Value::List(vec![Value::Number(1.0), Value::Null]),
            Value::List(vec![Value::Number(f64::NAN)]),
            Value::Object(vec![("a".into(), Value::Null)]),
            Value::Image("i".into()),
            Value::Icon("x".into()),
        ];
        for a in &values {
            assert_eq!(compare(a, a), Ordering::Equal, "{a:?}");
            for b in &values {
                assert_eq!(compare(a, b), compare(b, a).reverse(), "{a:?} {b:?}");
                for c in &values {
                    if compare(a, b) != Ordering::Greater && compare(b, c) != Ordering::Greater {
                        assert_ne!(compare(a, c), Ordering::Greater, "{a:?} {b:?} {c:?}");
                    }
                }
            }
        }
        let mut sorted = values.clone();
        sorted.sort_by(compare);
        // Empty values last; numbers before strings; NaN after the other numbers.
        let n = sorted.len();
        assert!(sorted[n - 4..].iter().all(Value::is_empty), "{sorted:?}");
        assert!(!sorted[..n - 4].iter().any(Value::is_empty));
        let texts: Vec<String> = sorted.iter().map(Value::to_text).collect();
        let pos = |t: &str| texts.iter().position(|x| x == t).unwrap_or(usize::MAX);
        assert!(pos("-Infinity") < pos("0") && pos("2") < pos("10") && pos("10") < pos("Infinity"));
        assert!(pos("Infinity") < pos("NaN") && pos("NaN") < pos("apple"));
        assert!(pos("apple") < pos("banana") && pos("Apple") < pos("apple"));
        assert!(pos("banana") < pos("Éclair"));
        assert_eq!(
            compare(&s("a"), &s("B")),
            Ordering::Less,
            "case-insensitive"
        );
        assert_eq!(
            compare(&Value::Bool(false), &Value::Bool(true)),
            Ordering::Less
        );
    }

    /// A tiny deterministic generator for the no-panic tests.
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 33) as usize
        }

        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[self.next() % items.len()]
        }
    }

    const SAMPLES: &[&str] = &[
        r#"categories.contains(link("Books"))"#,
        "list(author).contains(this)",
        "file.hasLink(this)",
        r#"!file.name.contains("Template")"#,
        "list(this.file.links).filter(list(file.links).containsAny(value)).unique()",
        r#"if(file.embeds[0].containsAny("jpg","gif"), file.embeds[0])"#,
        r#"file.mtime > now() - "1 week""#,
        r#"date("2024-12-01") + "1M" + "4h" + "3m""#,
        r#""a:b".replace(/(\w)/g, "$1$1").split(/:/, 2).join("-")"#,
        "[1,2,3].reduce(acc + value, 0) / 0 % 2",
        r#"now().format("YYYY [w]W dddd Do hh:mm A").slice(-5, 99)"#,
        r#"{"a": [1, {b: 2}]}.a[1].b.toFixed(3).repeat(3)"#,
        "formula.x + formula.y",
        r#"this["file"].name.title().reverse()"#,
    ];

    const PIECES: &[&str] = &[
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        ",",
        ".",
        ":",
        "!",
        "-",
        "+",
        "*",
        "/",
        "%",
        "<",
        ">=",
        "==",
        "!=",
        "&&",
        "||",
        "'",
        "\"",
        "\\",
        "/x/g",
        "1",
        "0",
        "-1",
        "1e308",
        "0.5",
        "NaN",
        "x",
        "file",
        "this",
        "note",
        "formula",
        "value",
        "index",
        "acc",
        "null",
        "true",
        "length",
        "map(",
        "filter(",
        "reduce(",
        "slice(",
        "split(",
        "replace(",
        "repeat(",
        "date(",
        "duration(",
        "toFixed(",
        "round(",
        "format(",
        "\"1M\"",
        "\"2024-01-01\"",
        "\"9999-12-31\"",
        "\"YYYY\"",
        "é",
        "名",
        "😀",
        " ",
        "\n",
        "$",
        "=",
        "#",
        "if(",
        "link(",
        "list(",
        "max(",
        "image(",
        "file.links",
        "sort()",
        "unique()",
        "9e9",
    ];

    fn eval_quietly(src: &str, f: &[(String, Result<Expression, ExprError>)]) {
        let v = vault();
        for (file, this) in [(1, Some(2)), (4, None)] {
            let scope = Scope {
                host: &v,
                file: FileRef(file),
                this: this.map(FileRef),
                formulas: f,
                now_ms: v.now,
                values: None,
            };
            if let Ok(e) = Expression::parse(src) {
                if let Ok(value) = eval(&e, &scope) {
                    let _ = value.to_text();
                    let _ = compare(&value, &Value::Number(1.0));
                }
            }
        }
    }

    #[test]
    fn never_panics_on_garbage() {
        let f = formulas(&[
            ("x", "formula.y"),
            ("y", "[1, 2].map(value * 2)"),
            ("z", "("),
        ]);
        let mut rng = Lcg(42);
        for _ in 0..600 {
            let n = 1 + rng.next() % 14;
            let src: String = (0..n).map(|_| rng.pick(PIECES)).collect();
            eval_quietly(&src, &f);
        }
        // Mutations of real expressions: cut, duplicate, insert and delete characters.
        for _ in 0..600 {
            let base: Vec<char> = rng.pick(SAMPLES).chars().collect();
            let mut chars = base.clone();
            for _ in 0..1 + rng.next() % 4 {
                let i = rng.next() % (chars.len() + 1);
                match rng.next() % 4 {
                    0 if i < chars.len() => {
                        chars.remove(i);
                    }
                    1 => {
                        let piece: Vec<char> = rng.pick(PIECES).chars().collect();
                        for (k, c) in piece.into_iter().enumerate() {
                            chars.insert((i + k).min(chars.len()), c);
                        }
                    }
                    2 => chars.truncate(i),
                    _ => {
                        let c = base[rng.next() % base.len()];
                        chars.insert(i, c);
                    }
                }
            }
            let src: String = chars.into_iter().collect();
            eval_quietly(&src, &f);
        }
        for src in SAMPLES {
            eval_quietly(src, &f);
        }
    }

    #[test]
    fn hostile_input_is_refused_not_fatal() {
        let deep = |open: &str, mid: &str, close: &str, n: usize| {
            format!("{}{mid}{}", open.repeat(n), close.repeat(n))
        };
        for src in [
            deep("(", "1", ")", 100_000),
            deep("[", "1", "]", 100_000),
            deep("!", "x", "", 100_000),
            deep("-", "1", "", 100_000),
            deep("f(", "1", ")", 10_000),
            deep("{a:", "1", "}", 10_000),
            format!("x{}", ".a".repeat(100_000)),
            format!("x{}", "[0]".repeat(100_000)),
            format!("1{}", " + 1".repeat(100_000)),
            format!("1{}", " && 1".repeat(100_000)),
        ] {
            let e = fails(&src);
            assert!(e.message.contains("too deeply"), "{}: {e:?}", &src[..20]);
        }
        // Within the limit works.
        assert_eq!(num(&deep("(", "1", ")", 60)), 1.0);
        assert_eq!(num(&format!("1{}", " + 1".repeat(60))), 61.0);
        // Work is bounded.
        let e = fails(
            r#""abcdefgh".repeat(100000).split("").map(value.repeat(8)).map(value.split(""))"#,
        );
        assert!(e.message.contains("too much work"), "{e:?}");
        let e = fails(
            r#""ab".repeat(1000).split("").map("ab".repeat(1000).split("").filter(value == "a").length)"#,
        );
        assert!(e.message.contains("too much work"), "{e:?}");
        // `reduce` cannot build unboundedly deep or large values.
        let e = fails(r#""x".repeat(100000).split("").reduce([acc], null)"#);
        assert!(e.message.contains("nested too deeply"), "{e:?}");
        let e = fails(r#""x".repeat(100).split("").reduce([acc, acc], 1)"#);
        assert!(e.message.contains("too much work"), "{e:?}");
        assert_eq!(text(r#"[1, 2, 3].reduce([acc], 0)"#), "0");
        assert_eq!(
            num(r#"[1, 2, 3].reduce([acc], 0).flat().flat().flat()[0]"#),
            0.0
        );
        // Copies of a large `value` or formula result are charged.
        let e = fails(
            r#""x".repeat(100000).split("").map(value).filter([value, value].length).map("ab".repeat(3000).split("").filter(value == "a").length)"#,
        );
        assert!(e.message.contains("too much work"), "{e:?}");
        let big = formulas(&[("big", r#""x".repeat(50000).split("")"#)]);
        let e = run_with(r#"formula.big.map(formula.big.length)"#, 1, None, &big).unwrap_err();
        assert!(e.message.contains("too much work"), "{e:?}");
        assert_eq!(
            run_with("formula.big.length + formula.big.length", 1, None, &big).map(|v| v.to_text()),
            Ok("100000".into())
        );
        // Extreme numbers.
        assert!(matches!(ev("1e400"), Value::Number(n) if n.is_infinite()));
        assert!(fails("date(1e300)").message.contains("out of range"));
        assert!(fails("date(-1e300)").message.contains("out of range"));
    }

    /// The nesting limits keep parsing and evaluation within half of a default 2 MiB
    /// thread stack, even in a debug build.
    #[test]
    fn deepest_inputs_fit_a_small_stack() {
        let work = || {
            let openers = [
                ("(", ")"),
                ("[1, ", "]"),
                ("f(", ")"),
                ("x.f(", ")"),
                ("x[", "]"),
                ("{k: ", "}"),
                ("-", ""),
                ("!", ""),
                ("a || a && a == a < a + a * (", ")"),
                ("if(1, ", ")"),
            ];
            let mut outcomes = Vec::new();
            for (open, close) in openers {
                for n in [30, 63, 64, 65, 200] {
                    let src = format!("{}1{}", open.repeat(n), close.repeat(n));
                    outcomes.push(run(&src).is_ok());
                }
                let mixed: String = openers
                    .iter()
                    .map(|(o, _)| *o)
                    .collect::<String>()
                    .repeat(8);
                let closers: String = openers
                    .iter()
                    .rev()
                    .map(|(_, c)| *c)
                    .collect::<String>()
                    .repeat(8);
                outcomes.push(run(&format!("{mixed}1{closers}")).is_ok());
            }
            let chain: Vec<(String, Result<Expression, ExprError>)> = (0..400)
                .map(|i| {
                    let src = format!(
                        "[[1].map(formula.f{}).flat()[0]].filter(value > 0 || [value].map(value).length)[0] + 1",
                        i + 1
                    );
                    (format!("f{i}"), Expression::parse(&src))
                })
                .collect();
            let deep = run_with("formula.f0", 1, None, &chain);
            (outcomes, deep.map_err(|e| e.message.contains("too deeply")))
        };
        let (outcomes, deep) = std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(work)
            .expect("spawn")
            .join()
            .expect("no stack overflow");
        assert!(outcomes.iter().any(|ok| *ok) && outcomes.iter().any(|ok| !ok));
        assert_eq!(deep.map(|_| ()), Err(true));
    }
}
