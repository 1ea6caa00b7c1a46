//! Applications involved: normalised product names from device events (process names such as
//! `OUTLOOK.EXE`, macOS bundle ids such as `com.microsoft.Outlook`, window titles) and from
//! the transcript ("Outlook", "Teams"), through a catalogue — the built-in one
//! (`data/applications.tsv`, 250 common Windows and macOS applications) plus a company's own
//! entries. An application the catalogue does not know is reported under its own name.

use foldhash::HashMap;

use debrief_core::{RecordError, Session};
use serde::{Deserialize, Serialize};

use crate::text::{is_lowercase_of, lowercase_into};

const BUILTIN: &str = include_str!("../data/applications.tsv");

/// Why a catalogue text cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("applications catalogue line {line}: {reason}")]
pub struct CatalogueError {
    pub line: usize,
    pub reason: String,
}

/// Most applications a company can add.
pub const MAX_COMPANY_APPLICATIONS: usize = 5_000;

/// One of a company's own applications: its name and the process names, bundle ids and words
/// that mean it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompanyApplication {
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// A company's applications file: `{"applications": [{"name": …, "aliases": […]}]}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompanyApplications {
    pub applications: Vec<CompanyApplication>,
}

impl CompanyApplications {
    /// Reads and checks a file; an error names the failing field.
    pub fn parse_json(text: &str) -> Result<CompanyApplications, RecordError> {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let file: CompanyApplications = serde_path_to_error::deserialize(&mut deserializer)
            .map_err(RecordError::from_serde_path)?;
        if file.applications.len() > MAX_COMPANY_APPLICATIONS {
            return Err(RecordError::invalid(
                "applications",
                format!("at most {MAX_COMPANY_APPLICATIONS} applications"),
            ));
        }
        for (index, application) in file.applications.iter().enumerate() {
            if application.name.trim().is_empty() {
                return Err(RecordError::invalid(
                    format!("applications[{index}].name"),
                    "must not be empty",
                ));
            }
            if let Some(blank) = application
                .aliases
                .iter()
                .position(|alias| alias.trim().is_empty())
            {
                return Err(RecordError::invalid(
                    format!("applications[{index}].aliases[{blank}]"),
                    "must not be empty",
                ));
            }
        }
        Ok(file)
    }
}

/// Known applications and their aliases.
#[derive(Debug, Clone, Default)]
pub struct AppCatalogue {
    names: Vec<String>,
    /// Lower-case alias → application.
    aliases: HashMap<String, usize>,
    /// Aliases that can appear in prose (no dots), as lower-case words, by their first word.
    prose: HashMap<String, Vec<(Vec<String>, usize)>>,
}

/// The alphanumeric words of `text`, as written.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
}

impl AppCatalogue {
    /// The built-in catalogue.
    pub fn builtin() -> AppCatalogue {
        // The built-in file is part of the program and is checked by a test.
        AppCatalogue::parse(BUILTIN).unwrap_or_default()
    }

    /// Reads `name<TAB>alias|alias|…` lines; `#` starts a comment line.
    pub fn parse(text: &str) -> Result<AppCatalogue, CatalogueError> {
        let mut catalogue = AppCatalogue::default();
        for (index, line) in text.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let (name, aliases) = line.split_once('\t').ok_or_else(|| CatalogueError {
                line: index + 1,
                reason: "expected a name, a tab and aliases".into(),
            })?;
            catalogue.add(name.trim(), aliases.split('|').map(str::trim));
        }
        Ok(catalogue)
    }

    /// Adds an application (a company's own, say) with its aliases; its name is an alias too.
    pub fn add<'a>(&mut self, name: &'a str, aliases: impl IntoIterator<Item = &'a str>) {
        let index = self.names.len();
        self.names.push(name.to_string());
        for alias in aliases.into_iter().chain([name]) {
            let alias = alias.to_lowercase();
            if alias.is_empty() {
                continue;
            }
            if !alias.contains('.') && alias.len() >= 3 {
                let alias_words: Vec<String> = words(&alias).map(str::to_string).collect();
                if let Some(first) = alias_words.first().cloned() {
                    let entries = self.prose.entry(first).or_default();
                    entries.push((alias_words, index));
                    // Longest aliases first, so that "google chrome" wins over "chrome".
                    entries.sort_by_key(|(alias, _)| std::cmp::Reverse(alias.len()));
                }
            }
            self.aliases.insert(alias, index);
        }
    }

    /// This catalogue with a company's own applications added (theirs win where an alias is
    /// in both).
    pub fn with_company(&self, company: &CompanyApplications) -> AppCatalogue {
        let mut catalogue = self.clone();
        for application in &company.applications {
            catalogue.add(
                application.name.trim(),
                application.aliases.iter().map(|alias| alias.trim()),
            );
        }
        catalogue
    }

    /// How many applications the catalogue knows.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the catalogue is empty.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The application of a device event: its process or bundle id, else a known name in its
    /// window title, else the process name as it was seen.
    pub fn from_event(&self, app: &str, title: Option<&str>) -> String {
        if let Some(index) = self.aliases.get(&app.trim().to_lowercase()) {
            return self.names[*index].clone();
        }
        if let Some(index) = title.and_then(|title| self.first_in_prose(title, false)) {
            return self.names[index].clone();
        }
        app.trim().to_string()
    }

    /// The first known application named in `text`. Outside `anywhere`, a one-word alias must
    /// be capitalised in the text, so that "a word" or "the edge" name no product.
    fn first_in_prose(&self, text: &str, proper_nouns_only: bool) -> Option<usize> {
        self.all_in_prose(text, proper_nouns_only)
            .into_iter()
            .next()
    }

    fn all_in_prose(&self, text: &str, proper_nouns_only: bool) -> Vec<usize> {
        let written: Vec<&str> = words(text).collect();
        let mut lowered = String::new();
        let mut found: Vec<usize> = Vec::new();
        let mut position = 0;
        while position < written.len() {
            lowercase_into(written[position], &mut lowered);
            let matched = self.prose.get(lowered.as_str()).and_then(|entries| {
                entries.iter().find(|(alias, _)| {
                    let fits = alias.len() <= written.len() - position
                        && alias
                            .iter()
                            .zip(&written[position..])
                            .all(|(alias_word, word)| is_lowercase_of(word, alias_word));
                    let capitalised = written[position]
                        .chars()
                        .next()
                        .is_some_and(char::is_uppercase);
                    fits && (!proper_nouns_only || alias.len() > 1 || capitalised)
                })
            });
            match matched {
                Some((alias, index)) => {
                    if !found.contains(index) {
                        found.push(*index);
                    }
                    position += alias.len();
                }
                None => position += 1,
            }
        }
        found
    }

    /// Every application of a session: from its events first, then named in its transcript.
    pub fn of_session(&self, session: &Session) -> Vec<String> {
        let mut applications: Vec<String> = Vec::new();
        let mut push = |name: String| {
            if !applications.contains(&name) {
                applications.push(name);
            }
        };
        for event in &session.events {
            if let Some(app) = &event.app {
                push(self.from_event(app, event.title.as_deref()));
            }
        }
        for turn in &session.turns {
            for index in self.all_in_prose(&turn.text, true) {
                push(self.names[index].clone());
            }
        }
        applications
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_catalogue_parses_and_has_at_least_200_applications() {
        let catalogue = AppCatalogue::parse(BUILTIN).expect("built-in catalogue parses");
        assert!(catalogue.len() >= 200, "{}", catalogue.len());
    }

    #[test]
    fn process_names_bundle_ids_and_titles_are_normalised() {
        let catalogue = AppCatalogue::builtin();
        assert_eq!(
            catalogue.from_event("OUTLOOK.EXE", None),
            "Microsoft Outlook"
        );
        assert_eq!(
            catalogue.from_event("com.microsoft.Outlook", None),
            "Microsoft Outlook"
        );
        assert_eq!(
            catalogue.from_event("ApplicationFrameHost.exe", Some("Inbox - Outlook")),
            "Microsoft Outlook"
        );
        assert_eq!(
            catalogue.from_event("chrome.exe", Some("Ricoh Web Image Monitor - Chrome")),
            "Google Chrome"
        );
    }

    #[test]
    fn unknown_processes_keep_their_own_name() {
        assert_eq!(
            AppCatalogue::builtin().from_event("acme-crm.exe", None),
            "acme-crm.exe"
        );
    }

    #[test]
    fn transcripts_name_applications_as_proper_nouns() {
        let catalogue = AppCatalogue::builtin();
        let session = Session::parse_json(
            r#"{"id": "s", "turns": [
                {"speaker": "customer", "text": "Outlook and Teams crash, in a word it is a mess at the edge of my patience"},
                {"speaker": "agent", "text": "Let me check Google Chrome too."}],
               "events": [{"at": "2026-11-20T10:00:00Z", "type": "app_focus", "app": "EXCEL.EXE"}]}"#,
        )
        .expect("valid");

        assert_eq!(
            catalogue.of_session(&session),
            vec![
                "Microsoft Excel",
                "Microsoft Outlook",
                "Microsoft Teams",
                "Google Chrome"
            ]
        );
    }

    #[test]
    fn a_company_file_adds_applications_and_names_its_bad_field() {
        let file = CompanyApplications::parse_json(
            r#"{"applications": [{"name": "Acme CRM", "aliases": ["acme-crm.exe", "com.acme.crm"]}]}"#,
        )
        .expect("valid file");
        let catalogue = AppCatalogue::builtin().with_company(&file);
        assert_eq!(catalogue.from_event("com.acme.crm", None), "Acme CRM");
        assert_eq!(catalogue.len(), AppCatalogue::builtin().len() + 1);

        let error = CompanyApplications::parse_json(
            r#"{"applications": [{"name": "Acme CRM"}, {"name": "X", "aliases": ["ok", " "]}]}"#,
        )
        .expect_err("blank alias");
        assert_eq!(error.field.as_deref(), Some("applications[1].aliases[1]"));
        let error = CompanyApplications::parse_json(r#"{"applications": [{"nmae": "typo"}]}"#)
            .expect_err("unknown field");
        assert_eq!(error.field.as_deref(), Some("applications[0].nmae"));
    }

    #[test]
    fn a_company_can_add_its_own_applications() {
        let mut catalogue = AppCatalogue::builtin();
        catalogue.add("Acme CRM", ["acme-crm.exe", "acme crm"]);
        assert_eq!(catalogue.from_event("ACME-CRM.EXE", None), "Acme CRM");
    }
}
