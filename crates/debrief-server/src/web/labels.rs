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

/// The skip reasons the summary worker stores (in English, as `SkipReason` writes them): the
/// label that says each in the visitor's language, and the text around its one parameter.
const SKIP_REASONS: [(&str, &str, &str); 21] = [
    (
        "skip_tier",
        "tier ",
        " has no session insights (not available on your plan)",
    ),
    ("skip_ai_off", "ai.enabled is off for the company", ""),
    (
        "skip_supporter_not_logging",
        "the supporter does not log sessions for connection reports",
        "",
    ),
    ("skip_outgoing_off", "insights.outgoing is off", ""),
    ("skip_incoming_off", "insights.incoming is off", ""),
    (
        "skip_no_module",
        "outgoing scope is custom_modules_only and the session names no module",
        "",
    ),
    (
        "skip_module_not_custom",
        "outgoing scope is custom_modules_only and module ",
        " is not custom",
    ),
    (
        "skip_module_off",
        "outgoing scope is custom_modules_only and module ",
        " has insights disabled",
    ),
    ("skip_platform", "platform ", " is not supported"),
    (
        "skip_no_platform",
        "the session names no platform; only windows and macos are supported",
        "",
    ),
    ("skip_no_device", "incoming session names no device", ""),
    (
        "skip_device_unmanaged_client",
        "incoming scope is all_devices and device ",
        " is neither managed nor running the full client",
    ),
    (
        "skip_device_not_signed_in",
        "incoming scope is all_devices and the user of device ",
        " is not signed in with an account of the company",
    ),
    (
        "skip_device_not_managed",
        "incoming scope is managed_with_policy and device ",
        " is not managed",
    ),
    (
        "skip_no_policy",
        "incoming scope is managed_with_policy and device ",
        " has no policy",
    ),
    (
        "skip_policy_reports_off",
        "policy ",
        " has connection reports disabled",
    ),
    (
        "skip_policy_insights_off",
        "policy ",
        " has session insights disabled",
    ),
    (
        "skip_user_opted_out",
        "the user of device ",
        " turned session insights off on the device",
    ),
    (
        "skip_device_denies",
        "device ",
        " denies session insights (consent mode denied)",
    ),
    ("skip_consent_denied", "remote user denied consent", ""),
    (
        "skip_awaiting_consent",
        "waiting for the remote user's consent",
        "",
    ),
];

/// A stored skip reason in the visitor's language (its id or platform kept as it is); a reason
/// not in the table (no credits left is) is looked up by its start, else shown as stored.
pub fn skip_reason(language: Language, reason: &str) -> String {
    let labels = labels(language);
    if reason.starts_with("no AI credits are left") {
        return labels
            .get("skip_no_credits")
            .map_or(reason, |text| text)
            .to_string();
    }
    for (key, prefix, suffix) in SKIP_REASONS {
        let parameter = if suffix.is_empty() {
            (reason == prefix).then_some("")
        } else {
            reason
                .strip_prefix(prefix)
                .and_then(|rest| rest.strip_suffix(suffix))
        };
        if let (Some(parameter), Some(text)) = (parameter, labels.get(key)) {
            return text.replace("{}", parameter);
        }
    }
    reason.to_string()
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
        use debrief_core::governance::SkipReason;
        use debrief_core::session::Platform;
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
