//! The languages summaries are written in: the labels and templates the built-in engine
//! writes itself (actions from device events, outcome words). The narrative comes from the
//! transcript and stays in the transcript's language; a summary says so when that differs from
//! the language asked for.

use serde::Serialize;

use debrief_core::summary::Outcome;

/// A summary language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Language {
    #[serde(rename = "en")]
    English,
    #[serde(rename = "pt-BR")]
    BrazilianPortuguese,
    #[serde(rename = "es")]
    Spanish,
    #[serde(rename = "de")]
    German,
    #[serde(rename = "fr")]
    French,
}

impl Language {
    /// Every supported language.
    pub const ALL: [Language; 5] = [
        Language::English,
        Language::BrazilianPortuguese,
        Language::Spanish,
        Language::German,
        Language::French,
    ];

    /// The language of a code (`en`, `pt-BR`, `es`, `de`, `fr`; case-insensitive, `pt` and
    /// `en-US` style variants accepted).
    pub fn from_code(code: &str) -> Option<Language> {
        let lowered = code.trim().to_ascii_lowercase();
        let primary = lowered.split(['-', '_']).next().unwrap_or("");
        match primary {
            "en" => Some(Language::English),
            "pt" => Some(Language::BrazilianPortuguese),
            "es" => Some(Language::Spanish),
            "de" => Some(Language::German),
            "fr" => Some(Language::French),
            _ => None,
        }
    }

    /// The language's code.
    pub fn code(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::BrazilianPortuguese => "pt-BR",
            Language::Spanish => "es",
            Language::German => "de",
            Language::French => "fr",
        }
    }

    /// "ran `cmd`".
    pub fn ran_command(self, command: &str) -> String {
        match self {
            Language::English => format!("ran the command {command}"),
            Language::BrazilianPortuguese => format!("executou o comando {command}"),
            Language::Spanish => format!("ejecutó el comando {command}"),
            Language::German => format!("führte den Befehl {command} aus"),
            Language::French => format!("a exécuté la commande {command}"),
        }
    }

    /// "transferred fix.reg".
    pub fn transferred(self, file: &str) -> String {
        match self {
            Language::English => format!("transferred {file}"),
            Language::BrazilianPortuguese => format!("transferiu {file}"),
            Language::Spanish => format!("transfirió {file}"),
            Language::German => format!("übertrug {file}"),
            Language::French => format!("a transféré {file}"),
        }
    }

    /// "set proxy to off" / "changed proxy".
    pub fn changed_setting(self, setting: &str, value: Option<&str>) -> String {
        match (self, value) {
            (Language::English, Some(value)) => format!("set {setting} to {value}"),
            (Language::English, None) => format!("changed {setting}"),
            (Language::BrazilianPortuguese, Some(value)) => {
                format!("definiu {setting} como {value}")
            }
            (Language::BrazilianPortuguese, None) => format!("alterou {setting}"),
            (Language::Spanish, Some(value)) => format!("configuró {setting} en {value}"),
            (Language::Spanish, None) => format!("cambió {setting}"),
            (Language::German, Some(value)) => format!("setzte {setting} auf {value}"),
            (Language::German, None) => format!("änderte {setting}"),
            (Language::French, Some(value)) => format!("a réglé {setting} sur {value}"),
            (Language::French, None) => format!("a modifié {setting}"),
        }
    }

    /// "rebooted the device".
    pub fn rebooted(self) -> &'static str {
        match self {
            Language::English => "rebooted the device",
            Language::BrazilianPortuguese => "reiniciou o dispositivo",
            Language::Spanish => "reinició el dispositivo",
            Language::German => "startete das Gerät neu",
            Language::French => "a redémarré l'appareil",
        }
    }

    /// The title of a session whose transcript states no problem.
    pub fn untitled(self) -> &'static str {
        match self {
            Language::English => "Support session without a described problem",
            Language::BrazilianPortuguese => "Sessão de suporte sem problema descrito",
            Language::Spanish => "Sesión de soporte sin problema descrito",
            Language::German => "Supportsitzung ohne beschriebenes Problem",
            Language::French => "Session d'assistance sans problème décrit",
        }
    }

    /// The summary of a session whose transcript states no problem.
    pub fn nothing_described(self) -> &'static str {
        match self {
            Language::English => "The transcript does not describe a problem.",
            Language::BrazilianPortuguese => "A transcrição não descreve um problema.",
            Language::Spanish => "La transcripción no describe ningún problema.",
            Language::German => "Das Protokoll beschreibt kein Problem.",
            Language::French => "La transcription ne décrit aucun problème.",
        }
    }

    /// The word for an outcome.
    pub fn outcome(self, outcome: Outcome) -> &'static str {
        use Outcome::*;
        match (self, outcome) {
            (Language::English, Resolved) => "resolved",
            (Language::English, Unresolved) => "unresolved",
            (Language::English, Escalated) => "escalated",
            (Language::English, Unknown) => "unknown",
            (Language::BrazilianPortuguese, Resolved) => "resolvido",
            (Language::BrazilianPortuguese, Unresolved) => "não resolvido",
            (Language::BrazilianPortuguese, Escalated) => "escalado",
            (Language::BrazilianPortuguese, Unknown) => "desconhecido",
            (Language::Spanish, Resolved) => "resuelto",
            (Language::Spanish, Unresolved) => "no resuelto",
            (Language::Spanish, Escalated) => "escalado",
            (Language::Spanish, Unknown) => "desconocido",
            (Language::German, Resolved) => "gelöst",
            (Language::German, Unresolved) => "ungelöst",
            (Language::German, Escalated) => "eskaliert",
            (Language::German, Unknown) => "unbekannt",
            (Language::French, Resolved) => "résolu",
            (Language::French, Unresolved) => "non résolu",
            (Language::French, Escalated) => "escaladé",
            (Language::French, Unknown) => "inconnu",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_variants_are_accepted() {
        for language in Language::ALL {
            assert_eq!(Language::from_code(language.code()), Some(language));
        }
        assert_eq!(
            Language::from_code("PT"),
            Some(Language::BrazilianPortuguese)
        );
        assert_eq!(Language::from_code("en-US"), Some(Language::English));
        assert_eq!(Language::from_code("ja"), None);
    }

    #[test]
    fn templates_are_in_their_language() {
        assert_eq!(Language::German.rebooted(), "startete das Gerät neu");
        assert_eq!(
            Language::BrazilianPortuguese.outcome(Outcome::Resolved),
            "resolvido"
        );
        assert_eq!(
            Language::French.changed_setting("proxy", Some("off")),
            "a réglé proxy sur off"
        );
    }
}
