//! The pages' words in every supported language, from `web/labels.tsv` (one row per label: the
//! key, then English, Brazilian Portuguese, Spanish, German and French).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use debrief_engine::language::Language;

const TABLE: &str = include_str!("../../web/labels.tsv");

/// Every label of every language, read once.
static LABELS: LazyLock<[BTreeMap<&'static str, &'static str>; 5]> = LazyLock::new(|| {
    let mut languages: [BTreeMap<&str, &str>; 5] = Default::default();
    for line in TABLE.lines().skip(1).filter(|line| !line.trim().is_empty()) {
        let mut cells = line.split('\t');
        let key = cells.next().unwrap_or_default();
        for (labels, text) in languages.iter_mut().zip(cells) {
            labels.insert(key, text);
        }
    }
    languages
});

/// The labels of one language, by key.
pub fn labels(language: Language) -> &'static BTreeMap<&'static str, &'static str> {
    let index = Language::ALL
        .iter()
        .position(|candidate| *candidate == language)
        .unwrap_or(0);
    &LABELS[index]
}

/// The language a visitor asked for (`?lang=`), else their browser's first supported one, else
/// English.
pub fn negotiate(requested: Option<&str>, accept_language: Option<&str>) -> Language {
    requested
        .and_then(Language::from_code)
        .or_else(|| {
            accept_language?
                .split(',')
                .filter_map(|part| part.split(';').next())
                .find_map(Language::from_code)
        })
        .unwrap_or(Language::English)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_has_all_five_languages() {
        for line in TABLE.lines().skip(1) {
            let cells: Vec<&str> = line.split('\t').collect();
            assert_eq!(cells.len(), 6, "{line}");
            assert!(cells.iter().all(|cell| !cell.trim().is_empty()), "{line}");
        }
        let english = labels(Language::English);
        for language in Language::ALL {
            assert_eq!(labels(language).len(), english.len());
        }
        assert_eq!(labels(Language::German)["sign_in"], "Anmelden");
    }

    #[test]
    fn the_language_comes_from_the_request_then_the_browser() {
        assert_eq!(negotiate(Some("fr"), Some("de")), Language::French);
        assert_eq!(
            negotiate(None, Some("xx, pt-BR;q=0.9, en;q=0.5")),
            Language::BrazilianPortuguese
        );
        assert_eq!(negotiate(Some("zz"), None), Language::English);
    }
}
