//! The pages' words in every supported language, from `web/labels.tsv` (one row per label: the
//! key, then English, Brazilian Portuguese, Spanish, German and French).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use debrief_core::governance::SkipReason;
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

/// A stored skip reason in the visitor's language (its tier, platform or id kept as it is): the
/// reason is read back into a [`SkipReason`] and said with the label `skip_<key>`; a text that
/// is no reason is shown as stored.
pub fn skip_reason(language: Language, reason: &str) -> String {
    let Ok(read) = reason.parse::<SkipReason>() else {
        return reason.to_string();
    };
    match labels(language).get(format!("skip_{}", read.key()).as_str()) {
        Some(text) => text.replace("{}", &read.parameter().unwrap_or_default()),
        None => reason.to_string(),
    }
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
    fn every_skip_reason_reads_in_every_language() {
        use debrief_core::session::Platform;
        for id in ["qs-1", "d 9"] {
            for form in SkipReason::every_form(id) {
                for language in Language::ALL {
                    let read = skip_reason(language, &form.to_string());
                    assert!(!read.contains("{}"), "{read}");
                    assert!(
                        read.contains(&form.parameter().unwrap_or_default()),
                        "{language:?}: {read}"
                    );
                    if language != Language::English {
                        assert_ne!(read, form.to_string(), "{language:?}: {form:?}");
                    }
                }
            }
        }
        let reasons = [
            SkipReason::AiDisabled.to_string(),
            SkipReason::PlatformUnsupported(Some(Platform::Linux)).to_string(),
            SkipReason::ModuleInsightsDisabled("qs-1".into()).to_string(),
            SkipReason::DeviceDeniesConsent("d-9".into()).to_string(),
            SkipReason::AwaitingConsent.to_string(),
        ];
        for language in Language::ALL {
            for reason in &reasons {
                let read = skip_reason(language, reason);
                assert!(!read.contains("{}"), "{read}");
                if language != Language::English {
                    assert_ne!(&read, reason, "{language:?}");
                }
            }
        }
        assert_eq!(
            skip_reason(Language::German, &reasons[1]),
            "Plattform linux wird nicht unterstützt"
        );
        assert!(skip_reason(Language::French, &reasons[2]).contains("qs-1"));
        assert_eq!(
            skip_reason(Language::German, "something new"),
            "something new"
        );
    }

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
