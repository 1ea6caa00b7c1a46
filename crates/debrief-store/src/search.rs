//! The words a user types to search summaries, read the same way on both stores and turned into
//! each one's full-text query: SQLite FTS5 (`summaries_fts`) and PostgreSQL `tsvector` with GIN
//! (`search_vector`). Both index the words of a summary's title and text as written (any case,
//! accents kept); stemming is done here, on the query, in the five product languages, so both
//! stores find the same summaries.
//!
//! The syntax: words separated by spaces, every one must match (any case). A word is its letters
//! and digits; a word written with other characters inside ("wi-fi", "1_0") is its pieces next
//! to each other, in order. A word also matches the longer words it begins ("outl" finds
//! "Outlook", "aski" finds "asking"), and so does its stem in English, Portuguese, Spanish,
//! German and French ("printers" finds "printer", "setting" finds "settings"). Nothing else is
//! an operator: quotes, `*`, `%`, `_`, `-`, `AND`, `OR`, `NEAR` are read as text.

use std::sync::LazyLock;

use rust_stemmers::{Algorithm, Stemmer};

/// The most words of a search that are looked for; the rest are ignored.
const MOST_WORDS: usize = 16;
/// The most pieces of one word ("a-b-c-…"); the rest are ignored.
const MOST_PIECES: usize = 8;
/// The most characters of one piece of a word.
const MOST_PIECE_CHARACTERS: usize = 64;

/// The stemmers of the five product languages.
static STEMMERS: LazyLock<[Stemmer; 5]> = LazyLock::new(|| {
    [
        Algorithm::English,
        Algorithm::Portuguese,
        Algorithm::Spanish,
        Algorithm::German,
        Algorithm::French,
    ]
    .map(Stemmer::create)
});

/// One word of a search: its pieces, and for a word of one piece the other beginnings it may
/// have (its stems).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Word {
    pieces: Vec<String>,
    stems: Vec<String>,
}

/// A parsed search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TextQuery {
    words: Vec<Word>,
}

impl TextQuery {
    /// The search in `text`, or `None` when it holds no letter or digit.
    pub(crate) fn parse(text: &str) -> Option<TextQuery> {
        let words: Vec<Word> = text
            .split_whitespace()
            .map(|word| {
                word.split(|character: char| !character.is_alphanumeric())
                    .filter(|piece| !piece.is_empty())
                    .take(MOST_PIECES)
                    .map(|piece| {
                        piece
                            .chars()
                            .take(MOST_PIECE_CHARACTERS)
                            .collect::<String>()
                            .to_lowercase()
                    })
                    .collect::<Vec<String>>()
            })
            .filter(|pieces| !pieces.is_empty())
            .take(MOST_WORDS)
            .map(|pieces| {
                let mut stems: Vec<String> = Vec::new();
                if let [piece] = pieces.as_slice() {
                    for stemmer in STEMMERS.iter() {
                        let stem = stemmer.stem(piece);
                        if !stem.is_empty() && stem != *piece && !stems.iter().any(|s| *s == stem) {
                            stems.push(stem.into_owned());
                        }
                    }
                }
                Word { pieces, stems }
            })
            .collect();
        (!words.is_empty()).then_some(TextQuery { words })
    }

    /// The FTS5 query: `"wi fi"* AND ("printers"* OR "printer"*)` (a phrase per word, the
    /// longer words its last piece begins, or its stems; all words required: FTS5 reads no
    /// implicit AND after a parenthesis). Pieces hold only letters
    /// and digits, so nothing needs quoting inside.
    pub(crate) fn fts5(&self) -> String {
        self.words
            .iter()
            .map(|word| {
                let phrase = format!("\"{}\"*", word.pieces.join(" "));
                if word.stems.is_empty() {
                    phrase
                } else {
                    let stems: Vec<String> = word
                        .stems
                        .iter()
                        .map(|stem| format!("\"{stem}\"*"))
                        .collect();
                    format!("({phrase} OR {})", stems.join(" OR "))
                }
            })
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// The `to_tsquery('simple', …)` text: `(wi <-> fi:*) & (printers:* | printer:*)`.
    pub(crate) fn tsquery(&self) -> String {
        self.words
            .iter()
            .map(|word| {
                let mut choices = vec![format!("{}:*", word.pieces.join(" <-> "))];
                choices.extend(word.stems.iter().map(|stem| format!("{stem}:*")));
                format!("({})", choices.join(" | "))
            })
            .collect::<Vec<_>>()
            .join(" & ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_become_prefix_phrases_of_letters_and_digits() {
        let query = TextQuery::parse("  OUTLOOK wi-fi 100% \"quoted\" a*b OR  ").expect("words");
        assert_eq!(
            query.fts5(),
            r#""outlook"* AND "wi fi"* AND "100"* AND ("quoted"* OR "quot"*) AND "a b"* AND "or"*"#
        );
        assert_eq!(
            query.tsquery(),
            "(outlook:*) & (wi <-> fi:*) & (100:*) & (quoted:* | quot:*) & (a <-> b:*) & (or:*)"
        );
        assert_eq!(TextQuery::parse(" % ' \" * - "), None);
        assert_eq!(TextQuery::parse(""), None);
    }

    #[test]
    fn a_word_also_matches_by_its_stems_in_the_five_languages() {
        let query = TextQuery::parse("Printers").expect("a word");
        assert_eq!(query.fts5(), r#"("printers"* OR "printer"* OR "print"*)"#);
        assert_eq!(query.tsquery(), "(printers:* | printer:* | print:*)");
        // Spanish and Portuguese stems of one word, each once.
        let query = TextQuery::parse("impresoras").expect("a word");
        assert!(
            query.words[0].stems.contains(&"impresor".to_string()),
            "{query:?}"
        );
    }

    #[test]
    fn a_long_search_is_cut_to_its_first_words_and_pieces() {
        let long = "word ".repeat(100);
        let query = TextQuery::parse(&long).expect("words");
        assert_eq!(query.words.len(), MOST_WORDS);
        let piece = "x".repeat(1000);
        let query = TextQuery::parse(&piece).expect("words");
        assert_eq!(query.words[0].pieces[0].len(), MOST_PIECE_CHARACTERS);
        let hyphens = "a-".repeat(50_000);
        let query = TextQuery::parse(&hyphens).expect("words");
        assert_eq!(query.words[0].pieces.len(), MOST_PIECES);
    }
}
