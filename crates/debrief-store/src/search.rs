//! The words a user types to search summaries, read the same way on both stores and turned into
//! each one's full-text query: SQLite FTS5 (`summaries_fts`, Porter stemming) and PostgreSQL
//! `tsvector` with GIN (stemming in the summary's narrative language).
//!
//! The syntax: words separated by spaces, every one must match (any case). A word is its letters
//! and digits; a word written with other characters inside ("wi-fi", "1_0") is its pieces next
//! to each other, in order. The last piece of every word also matches longer words ("outl"
//! finds "Outlook"), so a search works while it is being typed. Nothing else is an operator:
//! quotes, `*`, `%`, `_`, `-`, `AND`, `OR`, `NEAR` are read as text. PostgreSQL leaves out each
//! language's stop words ("the", "or") where SQLite looks for them too.

/// The most words of a search that are looked for; the rest are ignored.
const MOST_WORDS: usize = 16;
/// The most characters of one piece of a word.
const MOST_PIECE_CHARACTERS: usize = 64;

/// A parsed search: its words, each a run of pieces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TextQuery {
    words: Vec<Vec<String>>,
}

/// The PostgreSQL text-search configurations a query is read in: each summary is indexed in its
/// narrative language's, so the query is stemmed in every one (and `simple` keeps the words a
/// language drops as stop words).
pub(crate) const POSTGRES_CONFIGURATIONS: [&str; 6] = [
    "english",
    "portuguese",
    "spanish",
    "german",
    "french",
    "simple",
];

impl TextQuery {
    /// The search in `text`, or `None` when it holds no letter or digit.
    pub(crate) fn parse(text: &str) -> Option<TextQuery> {
        let words: Vec<Vec<String>> = text
            .split_whitespace()
            .map(|word| {
                word.split(|character: char| !character.is_alphanumeric())
                    .filter(|piece| !piece.is_empty())
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
            .collect();
        (!words.is_empty()).then_some(TextQuery { words })
    }

    /// The FTS5 query: `"wi fi"* "outl"*` (a phrase per word, prefix on its last piece, all
    /// required). Pieces hold only letters and digits, so nothing needs quoting inside.
    pub(crate) fn fts5(&self) -> String {
        self.words
            .iter()
            .map(|pieces| format!("\"{}\"*", pieces.join(" ")))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The `to_tsquery` text: `wi <-> fi:* & outl:*`.
    pub(crate) fn tsquery(&self) -> String {
        self.words
            .iter()
            .map(|pieces| {
                let phrase = pieces.join(" <-> ");
                format!("({phrase}:*)")
            })
            .collect::<Vec<_>>()
            .join(" & ")
    }

    /// The PostgreSQL expression of the query, with its text at parameter `$parameter`: the
    /// query read in each of [`POSTGRES_CONFIGURATIONS`], any of them matching.
    pub(crate) fn postgres_expression(parameter: usize) -> String {
        let readings: Vec<String> = POSTGRES_CONFIGURATIONS
            .iter()
            .map(|configuration| format!("to_tsquery('{configuration}', ${parameter})"))
            .collect();
        format!("({})", readings.join(" || "))
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
            r#""outlook"* "wi fi"* "100"* "quoted"* "a b"* "or"*"#
        );
        assert_eq!(
            query.tsquery(),
            "(outlook:*) & (wi <-> fi:*) & (100:*) & (quoted:*) & (a <-> b:*) & (or:*)"
        );
        assert_eq!(TextQuery::parse(" % ' \" * - "), None);
        assert_eq!(TextQuery::parse(""), None);
    }

    #[test]
    fn a_long_search_is_cut_to_its_first_words() {
        let long = "word ".repeat(100);
        let query = TextQuery::parse(&long).expect("words");
        assert_eq!(query.words.len(), MOST_WORDS);
        let piece = "x".repeat(1000);
        let query = TextQuery::parse(&piece).expect("words");
        assert_eq!(query.words[0][0].len(), MOST_PIECE_CHARACTERS);
    }

    #[test]
    fn the_postgres_expression_reads_the_query_in_every_language() {
        let expression = TextQuery::postgres_expression(4);
        assert_eq!(
            expression.matches("$4").count(),
            POSTGRES_CONFIGURATIONS.len()
        );
        assert!(expression.contains("to_tsquery('german', $4)"));
    }
}
