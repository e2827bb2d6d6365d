//! When a note was published and last updated, as its front matter says: what the feed orders
//! and dates its entries by, and the sitemap's `lastmod`. Only the note's own text counts (no
//! file times, which a clone or a copy changes), so the same vault gives the same bytes.

use crate::bases::expr::{parse_date, Value};
use crate::vault::Note;

/// Front-matter keys that say when a note was first published, in the order they are tried
/// (the names Jekyll, Hugo, Quartz and Obsidian templates use).
pub const PUBLISHED_KEYS: [&str; 4] = ["date", "published", "publishDate", "created"];

/// Front-matter keys that say when a note was last changed, in the order they are tried.
pub const UPDATED_KEYS: [&str; 4] = ["updated", "modified", "lastmod", "last-modified"];

/// A moment a front-matter value names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Moment {
    /// Milliseconds since 1970-01-01T00:00:00Z (a date alone is its UTC midnight).
    pub ms: i64,
    /// Whether a time of day was written.
    pub time: bool,
}

impl Moment {
    /// RFC 3339 in UTC (`2025-06-01T07:30:00Z`), as Atom asks.
    pub fn rfc3339(self) -> String {
        jiff::Timestamp::from_millisecond(self.ms)
            .map(|t| t.to_string())
            .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
    }

    /// The W3C date-time of a sitemap's `lastmod`: the day alone when only a day was written.
    pub fn w3c(self) -> String {
        let full = self.rfc3339();
        match self.time {
            true => full,
            false => full.get(..10).unwrap_or(&full).to_string(),
        }
    }
}

/// A note's publication and update moments; either may be unknown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoteDates {
    /// The first of [`PUBLISHED_KEYS`] that holds a date.
    pub published: Option<Moment>,
    /// The first of [`UPDATED_KEYS`] that holds a date.
    pub updated: Option<Moment>,
}

impl NoteDates {
    /// The dates `note`'s front matter gives (keys compared without regard to letter case, as
    /// Obsidian's properties are).
    pub fn of(note: &Note) -> NoteDates {
        let fm = &note.front_matter;
        let value = |key: &str| -> Option<Moment> {
            // The parser keeps `date` (exactly so written) apart; `Date` and the others are
            // among the other keys.
            let other = || {
                fm.extra
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(key))
                    .and_then(|(_, v)| v.as_str())
            };
            let text = match key {
                "date" => fm.date.as_deref().or_else(other),
                _ => other(),
            }?;
            match parse_date(text)? {
                Value::Date { ms, time } => Some(Moment { ms, time }),
                _ => None,
            }
        };
        NoteDates {
            published: PUBLISHED_KEYS.iter().find_map(|k| value(k)),
            updated: UPDATED_KEYS.iter().find_map(|k| value(k)),
        }
    }

    /// When the note last changed: its update, else its publication.
    pub fn last_change(self) -> Option<Moment> {
        self.updated.or(self.published)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dates(front_matter: &str) -> NoteDates {
        let text = format!("---\n{front_matter}\n---\n# N\n");
        let file = crate::discover::SourceFile {
            path: crate::source::VaultPath::new("N.md").unwrap(),
            text,
            is_template: false,
        };
        NoteDates::of(&crate::parse::note(file).0)
    }

    #[test]
    fn the_first_key_that_holds_a_date_wins() {
        let d = dates("created: 2024-03-01\ndate: not a date\npublished: 2024-02-01T10:00:00Z");
        assert_eq!(
            d.published.map(Moment::w3c).as_deref(),
            Some("2024-02-01T10:00:00Z")
        );
        assert_eq!(d.updated, None);
        assert_eq!(d.last_change(), d.published);
        let d = dates("Created: 2024-03-01\nLastMod: 2024-05-02 10:00\nmodified: 2023-01-01");
        assert_eq!(d.published.map(Moment::w3c).as_deref(), Some("2024-03-01"));
        assert_eq!(
            d.updated.map(Moment::rfc3339).as_deref(),
            Some("2023-01-01T00:00:00Z"),
            "`modified` comes before `lastmod`"
        );
        assert_eq!(d.last_change(), d.updated);
        assert_eq!(
            dates("title: x\ncreated: [2024-03-01]"),
            NoteDates::default()
        );
        let d = dates("Date: 2024-06-01\ncreated: 2024-01-01");
        assert_eq!(
            d.published.map(Moment::w3c).as_deref(),
            Some("2024-06-01"),
            "`Date` is `date` in another case, and comes first"
        );
    }
}
