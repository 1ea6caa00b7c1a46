//! A session summary (FORMATS.md section 2): the one document every engine produces, the store
//! keeps (as typed columns plus this document), the API and pages show and the exports print.
//! [`Summary::validate`] is the one check of what a summary may hold; [`SummaryEdit`] is what a
//! person may change.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::RecordError;

/// Longest title an engine writes, in characters.
pub const TITLE_CHARS: usize = 80;

/// Longest title a person may give in an edit, in characters.
pub const MAX_EDITED_TITLE_CHARS: usize = 200;

/// Longest text field (summary, problem, follow-up, one action), in characters.
pub const MAX_TEXT_CHARS: usize = 20_000;

/// How a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Resolved,
    Unresolved,
    Escalated,
    #[default]
    Unknown,
}

/// Who last edited a summary, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edited {
    /// The editor's user id.
    pub by: String,
    pub at: DateTime<Utc>,
}

/// A session's summary. Field order is the wire order of `debrief summarize`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Summary {
    /// The session's id.
    pub id: String,
    pub title: String,
    pub summary: String,
    #[serde(default)]
    pub problem: String,
    #[serde(default)]
    pub actions: Vec<String>,
    #[serde(default)]
    pub outcome: Outcome,
    #[serde(default)]
    pub follow_up: String,
    #[serde(default)]
    pub issue_types: Vec<String>,
    #[serde(default)]
    pub applications: Vec<String>,
    /// The language asked for: of the actions, the outcome label and other templates.
    #[serde(default)]
    pub language: String,
    /// The outcome in that language.
    #[serde(default)]
    pub outcome_label: String,
    /// The language of the narrative, title, problem and follow-up: the transcript's, which
    /// the built-in engine does not translate (different from `language` says so).
    #[serde(default)]
    pub narrative_language: String,
    /// The engine (and model and prompt version) that wrote it.
    #[serde(default)]
    pub engine: String,
    /// Set when an LLM engine was asked and its answer could not be used: which engine, and
    /// why the built-in engine wrote this summary instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
    /// What was redacted from the transcript before it went to a model: kind → count.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub redactions: BTreeMap<String, u32>,
    /// Set once a person has edited it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited: Option<Edited>,
}

/// Which list a summary's tag belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagKind {
    IssueType,
    Application,
}

impl TagKind {
    /// The name stored with the tag.
    pub fn as_str(self) -> &'static str {
        match self {
            TagKind::IssueType => "issue_type",
            TagKind::Application => "application",
        }
    }
}

impl Summary {
    /// Reads a summary from its JSON document.
    pub fn from_json(text: &str) -> Result<Summary, RecordError> {
        crate::timestamp::from_json_with_path(text)
    }

    /// The JSON document.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a summary always serializes")
    }

    /// Checks what any writer of a summary — engine, model or person — must respect: a title
    /// and a summary that say something, a title of at most [`MAX_EDITED_TITLE_CHARS`], text
    /// fields of at most [`MAX_TEXT_CHARS`], and tags that are not blank. The error names the
    /// field.
    pub fn validate(&self) -> Result<(), RecordError> {
        for (field, text) in [("title", &self.title), ("summary", &self.summary)] {
            if text.trim().is_empty() {
                return Err(RecordError::invalid(field, "must not be empty"));
            }
        }
        check_chars("title", &self.title, MAX_EDITED_TITLE_CHARS)?;
        for (field, text) in [
            ("summary", &self.summary),
            ("problem", &self.problem),
            ("follow_up", &self.follow_up),
        ] {
            check_chars(field, text, MAX_TEXT_CHARS)?;
        }
        for (index, action) in self.actions.iter().enumerate() {
            check_chars(&format!("actions[{index}]"), action, MAX_TEXT_CHARS)?;
        }
        for (field, tags) in [
            ("issue_types", &self.issue_types),
            ("applications", &self.applications),
        ] {
            for (index, tag) in tags.iter().enumerate() {
                if tag.trim().is_empty() {
                    return Err(RecordError::invalid(
                        format!("{field}[{index}]"),
                        "must not be empty",
                    ));
                }
                crate::error::check_length(
                    &format!("{field}[{index}]"),
                    tag,
                    crate::error::MAX_ID_BYTES,
                )?;
            }
        }
        Ok(())
    }

    /// The lower-cased title and summary that the summary list searches.
    pub fn search_text(&self) -> String {
        format!("{} {}", self.title, self.summary).to_lowercase()
    }

    /// Its issue types and applications, each once, in order.
    pub fn tags(&self) -> Vec<(TagKind, &str)> {
        let mut tags: Vec<(TagKind, &str)> = Vec::new();
        for (kind, names) in [
            (TagKind::IssueType, &self.issue_types),
            (TagKind::Application, &self.applications),
        ] {
            for name in names {
                if !tags.contains(&(kind, name.as_str())) {
                    tags.push((kind, name));
                }
            }
        }
        tags
    }
}

fn check_chars(field: &str, text: &str, max: usize) -> Result<(), RecordError> {
    if text.chars().count() > max {
        return Err(RecordError::invalid(
            field,
            format!("at most {max} characters"),
        ));
    }
    Ok(())
}

/// The fields of a summary a person may change (`PATCH /api/v1/sessions/{id}/summary`); the
/// rest (id, language, engine) say where it came from and stay.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SummaryEdit {
    pub title: Option<String>,
    pub summary: Option<String>,
    pub problem: Option<String>,
    pub actions: Option<Vec<String>>,
    pub outcome: Option<Outcome>,
    pub follow_up: Option<String>,
    pub issue_types: Option<Vec<String>>,
    pub applications: Option<Vec<String>>,
}

impl SummaryEdit {
    /// `summary` with this edit applied and marked as made by `by` at `at`, validated. An edit
    /// that names no field (or only `null`s) is refused: it would record a revision of nothing.
    pub fn apply(
        self,
        mut summary: Summary,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<Summary, RecordError> {
        if self.is_empty() {
            return Err(RecordError::invalid(
                "$",
                "names no field to change: give title, summary, problem, actions, outcome, \
                 follow_up, issue_types or applications",
            ));
        }
        let SummaryEdit {
            title,
            summary: text,
            problem,
            actions,
            outcome,
            follow_up,
            issue_types,
            applications,
        } = self;
        if let Some(title) = title {
            summary.title = title;
        }
        if let Some(text) = text {
            summary.summary = text;
        }
        if let Some(problem) = problem {
            summary.problem = problem;
        }
        if let Some(actions) = actions {
            summary.actions = actions;
        }
        if let Some(outcome) = outcome {
            summary.outcome = outcome;
        }
        if let Some(follow_up) = follow_up {
            summary.follow_up = follow_up;
        }
        if let Some(issue_types) = issue_types {
            summary.issue_types = issue_types;
        }
        if let Some(applications) = applications {
            summary.applications = applications;
        }
        summary.edited = Some(Edited {
            by: by.to_string(),
            at,
        });
        summary.validate()?;
        Ok(summary)
    }

    fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.summary.is_none()
            && self.problem.is_none()
            && self.actions.is_none()
            && self.outcome.is_none()
            && self.follow_up.is_none()
            && self.issue_types.is_none()
            && self.applications.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Summary {
        Summary {
            id: "s-1".into(),
            title: "Outlook password prompt loop fixed".into(),
            summary: "Ana reset the cached credentials.".into(),
            issue_types: vec!["email".into(), "email".into()],
            applications: vec!["Outlook".into()],
            language: "en".into(),
            engine: "builtin-1".into(),
            ..Summary::default()
        }
    }

    #[test]
    fn the_document_reads_back_as_written() {
        let summary = sample();
        assert_eq!(Summary::from_json(&summary.to_json()).unwrap(), summary);
        // An optional part absent from the document is not written.
        assert!(!summary.to_json().contains("edited"));
        assert!(!summary.to_json().contains("fallback"));
    }

    #[test]
    fn a_document_of_an_earlier_version_reads_with_defaults() {
        let read = Summary::from_json(
            r#"{"id":"s","title":"t","summary":"x","outcome":"resolved","edited":{"by":"u-1","at":"2026-11-30T14:05:00Z"}}"#,
        )
        .unwrap();
        assert_eq!(read.outcome, Outcome::Resolved);
        assert_eq!(read.edited.unwrap().by, "u-1");
        let wrong = Summary::from_json(r#"{"id":"s","title":"t","summary":"x","outcome":"fine"}"#)
            .unwrap_err();
        assert_eq!(wrong.field.as_deref(), Some("outcome"));
    }

    #[test]
    fn validation_names_the_field() {
        let mut blank = sample();
        blank.title = "  ".into();
        assert_eq!(
            blank.validate().unwrap_err().field.as_deref(),
            Some("title")
        );
        let mut long = sample();
        long.problem = "x".repeat(MAX_TEXT_CHARS + 1);
        assert_eq!(
            long.validate().unwrap_err().field.as_deref(),
            Some("problem")
        );
        let mut tag = sample();
        tag.applications.push(String::new());
        assert_eq!(
            tag.validate().unwrap_err().field.as_deref(),
            Some("applications[1]")
        );
        assert!(sample().validate().is_ok());
    }

    #[test]
    fn tags_are_listed_once_and_search_text_is_lower_case() {
        let summary = sample();
        assert_eq!(
            summary.tags(),
            vec![
                (TagKind::IssueType, "email"),
                (TagKind::Application, "Outlook")
            ]
        );
        assert!(summary.search_text().starts_with("outlook password"));
    }

    #[test]
    fn an_edit_changes_only_what_it_names_and_is_validated() {
        let at = DateTime::parse_from_rfc3339("2026-11-30T14:05:00Z")
            .unwrap()
            .to_utc();
        let edit = SummaryEdit {
            title: Some("Outlook fixed".into()),
            outcome: Some(Outcome::Resolved),
            ..SummaryEdit::default()
        };
        let edited = edit.apply(sample(), "u-1", at).unwrap();
        assert_eq!(edited.title, "Outlook fixed");
        assert_eq!(edited.summary, sample().summary);
        assert_eq!(edited.outcome, Outcome::Resolved);
        assert_eq!(
            edited.edited,
            Some(Edited {
                by: "u-1".into(),
                at
            })
        );
        let emptied = SummaryEdit {
            summary: Some(String::new()),
            ..SummaryEdit::default()
        };
        assert_eq!(
            emptied
                .apply(sample(), "u-1", at)
                .unwrap_err()
                .field
                .as_deref(),
            Some("summary")
        );
        let nothing = SummaryEdit::default()
            .apply(sample(), "u-1", at)
            .unwrap_err();
        assert_eq!(nothing.field.as_deref(), Some("$"));
    }
}
