//! Summaries leave Debrief as PDF, Markdown, HTML, JSON or CSV, with every label and heading
//! in the chosen language (en, pt-BR, es, de, fr). Pure rendering: the caller hands in the
//! summaries (as stored, edits included) and, for PDF, the bytes of a TrueType font found on
//! the system (no font file ships with Debrief; [`find_system_font`] looks in the usual places).

mod labels;
mod pdf;

use std::str::FromStr;

use chrono::{DateTime, Utc};
use debrief_core::summary::{Outcome, Summary};
use debrief_engine::language::Language;
use serde::{Deserialize, Serialize};

pub use labels::Labels;

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Pdf,
    Markdown,
    Html,
    Json,
    Csv,
}

impl ExportFormat {
    /// The media type of the file.
    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Pdf => "application/pdf",
            ExportFormat::Markdown => "text/markdown; charset=utf-8",
            ExportFormat::Html => "text/html; charset=utf-8",
            ExportFormat::Json => "application/json",
            ExportFormat::Csv => "text/csv; charset=utf-8",
        }
    }

    /// The file name extension.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Pdf => "pdf",
            ExportFormat::Markdown => "md",
            ExportFormat::Html => "html",
            ExportFormat::Json => "json",
            ExportFormat::Csv => "csv",
        }
    }
}

impl FromStr for ExportFormat {
    type Err = ExportError;

    fn from_str(text: &str) -> Result<Self, ExportError> {
        match text.to_ascii_lowercase().as_str() {
            "pdf" => Ok(ExportFormat::Pdf),
            "markdown" | "md" => Ok(ExportFormat::Markdown),
            "html" => Ok(ExportFormat::Html),
            "json" => Ok(ExportFormat::Json),
            "csv" => Ok(ExportFormat::Csv),
            other => Err(ExportError::UnknownFormat(other.to_string())),
        }
    }
}

/// Why an export cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("unknown export format {0:?}; expected pdf, markdown, html, json or csv")]
    UnknownFormat(String),
    #[error("a PDF needs a TrueType font and none was found ({0})")]
    NoFont(String),
    #[error("cannot render the export: {0}")]
    Render(String),
}

/// A summary with what an export prints beside it: its session's start and supporter, and its
/// editor's name, which the caller looks up.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportedSummary {
    pub summary: Summary,
    /// When the session started.
    pub started_at: Option<DateTime<Utc>>,
    /// The supporter's name (or id).
    pub supporter: Option<String>,
    /// The last editor's name; without it, the editor's id is printed.
    pub editor: Option<String>,
}

impl From<Summary> for ExportedSummary {
    fn from(summary: Summary) -> Self {
        ExportedSummary {
            summary,
            started_at: None,
            supporter: None,
            editor: None,
        }
    }
}

/// A summary with its words for one export language: what the templates, the JSON and CSV
/// files and the PDF print.
#[derive(Serialize)]
struct Shown<'a> {
    id: &'a str,
    title: &'a str,
    summary: &'a str,
    problem: &'a str,
    actions: &'a [String],
    outcome: Outcome,
    outcome_label: &'static str,
    follow_up: &'a str,
    issue_types: &'a [String],
    applications: &'a [String],
    language: &'a str,
    engine: &'a str,
    /// RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    started_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    supporter: Option<&'a str>,
    /// "TIME · EDITOR", when edited.
    edited: Option<String>,
    /// The line under the title: session, supporter, start, language, engine and edit.
    meta: String,
}

fn shown(exported: &ExportedSummary, language: Language) -> Shown<'_> {
    let labels = Labels::of(language);
    let summary = &exported.summary;
    let edited = summary.edited.as_ref().map(|edited| {
        let by = exported.editor.as_deref().unwrap_or(&edited.by);
        format!("{} · {by}", minutes(edited.at))
    });
    let mut meta = vec![format!("{} {}", labels.session, summary.id)];
    if let Some(supporter) = &exported.supporter {
        meta.push(format!("{} {supporter}", labels.supporter));
    }
    if let Some(started) = exported.started_at {
        meta.push(format!("{} {}", labels.started, minutes(started)));
    }
    meta.push(format!("{} {}", labels.language, summary.language));
    meta.push(format!("{} {}", labels.engine, summary.engine));
    if let Some(edited) = &edited {
        meta.push(format!("{} {edited}", labels.edited));
    }
    Shown {
        id: &summary.id,
        title: &summary.title,
        summary: &summary.summary,
        problem: &summary.problem,
        actions: &summary.actions,
        outcome: summary.outcome,
        outcome_label: language.outcome(summary.outcome),
        follow_up: &summary.follow_up,
        issue_types: &summary.issue_types,
        applications: &summary.applications,
        language: &summary.language,
        engine: &summary.engine,
        started_at: exported.started_at.map(|at| at.to_rfc3339()),
        supporter: exported.supporter.as_deref(),
        edited,
        meta: meta.join(" · "),
    }
}

/// A time as people read it, in UTC to the minute (`2026-11-30 14:05 UTC`).
fn minutes(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Renders `summaries` in `format` with labels in `language`; `font` (TrueType bytes) is
/// needed for PDF only.
pub fn render(
    summaries: &[ExportedSummary],
    format: ExportFormat,
    language: Language,
    font: Option<&[u8]>,
) -> Result<Vec<u8>, ExportError> {
    let labels = Labels::of(language);
    match format {
        ExportFormat::Json => serde_json::to_vec_pretty(&serde_json::json!({
            "language": language.code(),
            "labels": labels,
            "summaries": summaries
                .iter()
                .map(|summary| shown(summary, language))
                .collect::<Vec<_>>(),
        }))
        .map_err(|error| ExportError::Render(error.to_string())),
        ExportFormat::Csv => csv_file(summaries, language, &labels),
        ExportFormat::Markdown => template("summaries.md", summaries, language, &labels),
        ExportFormat::Html => template("summaries.html", summaries, language, &labels),
        ExportFormat::Pdf => {
            let font = font.ok_or_else(|| ExportError::NoFont("none was given".into()))?;
            pdf::render(summaries, language, &labels, font)
        }
    }
}

fn template(
    name: &str,
    summaries: &[ExportedSummary],
    language: Language,
    labels: &Labels,
) -> Result<Vec<u8>, ExportError> {
    let mut environment = minijinja::Environment::new();
    let source = match name {
        "summaries.html" => include_str!("templates/summaries.html"),
        _ => include_str!("templates/summaries.md"),
    };
    environment
        .add_template(name, source)
        .map_err(|error| ExportError::Render(error.to_string()))?;
    let shown: Vec<Shown<'_>> = summaries
        .iter()
        .map(|summary| shown(summary, language))
        .collect();
    environment
        .get_template(name)
        .and_then(|template| {
            template.render(minijinja::context! {
                language => language.code(),
                labels => labels,
                count => labels.count_text(shown.len(), language),
                summaries => shown,
            })
        })
        .map(String::into_bytes)
        .map_err(|error| ExportError::Render(error.to_string()))
}

fn csv_file(
    summaries: &[ExportedSummary],
    language: Language,
    labels: &Labels,
) -> Result<Vec<u8>, ExportError> {
    let render_error = |error: csv::Error| ExportError::Render(error.to_string());
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record([
            labels.session,
            labels.supporter,
            labels.started,
            labels.title,
            labels.summary,
            labels.problem,
            labels.actions,
            labels.outcome,
            labels.follow_up,
            labels.issue_types,
            labels.applications,
            labels.language,
            labels.engine,
            labels.edited,
        ])
        .map_err(render_error)?;
    for summary in summaries {
        let shown = shown(summary, language);
        writer
            .write_record([
                shown.id,
                shown.supporter.unwrap_or(""),
                shown.started_at.as_deref().unwrap_or(""),
                shown.title,
                shown.summary,
                shown.problem,
                &shown.actions.join("; "),
                shown.outcome_label,
                shown.follow_up,
                &shown.issue_types.join("; "),
                &shown.applications.join("; "),
                shown.language,
                shown.engine,
                shown.edited.as_deref().unwrap_or(""),
            ])
            .map_err(render_error)?;
    }
    writer
        .into_inner()
        .map_err(|error| ExportError::Render(error.to_string()))
}

/// Where TrueType fonts with Latin accents usually are on Linux and macOS, best first.
const SYSTEM_FONTS: [&str; 6] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
    "/Library/Fonts/Arial Unicode.ttf",
];

/// The first system font of [`SYSTEM_FONTS`] that exists, or `configured` when given.
pub fn find_system_font(configured: Option<&str>) -> Result<Vec<u8>, ExportError> {
    let candidates: Vec<&str> = configured.into_iter().chain(SYSTEM_FONTS).collect();
    for path in &candidates {
        if let Ok(bytes) = std::fs::read(path) {
            return Ok(bytes);
        }
    }
    Err(ExportError::NoFont(format!(
        "looked in {}; install fonts-dejavu-core or set DEBRIEF_EXPORT_FONT",
        candidates.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ExportedSummary {
        ExportedSummary::from(Summary {
            id: "tv-1".into(),
            title: "Outlook <password> loop".into(),
            summary: "Ana reset the profile & it works.".into(),
            problem: "Outlook asks for the password".into(),
            actions: vec!["ran the command cmdkey /list".into()],
            outcome: Outcome::Resolved,
            issue_types: vec!["email".into()],
            applications: vec!["Microsoft Outlook".into()],
            language: "en".into(),
            engine: "builtin-1".into(),
            ..Summary::default()
        })
    }

    #[test]
    fn every_text_format_has_its_labels_in_the_language() {
        for language in Language::ALL {
            let labels = Labels::of(language);
            for format in [
                ExportFormat::Markdown,
                ExportFormat::Html,
                ExportFormat::Csv,
                ExportFormat::Json,
            ] {
                let bytes = render(&[sample()], format, language, None).expect("renders");
                let text = String::from_utf8(bytes).expect("utf-8");
                assert!(
                    text.contains(labels.applications),
                    "{format:?} {language:?}: {text}"
                );
                assert!(
                    text.contains(language.outcome(Outcome::Resolved)),
                    "{format:?} {language:?}"
                );
                assert!(text.contains("Microsoft Outlook"));
            }
        }
    }

    #[test]
    fn html_is_escaped_and_csv_has_one_row_per_summary() {
        let html = String::from_utf8(
            render(&[sample()], ExportFormat::Html, Language::English, None).expect("html"),
        )
        .expect("utf-8");
        assert!(html.contains("Outlook &lt;password&gt; loop"), "{html}");
        assert!(!html.contains("<password>"));
        let csv = render(
            &[sample(), sample()],
            ExportFormat::Csv,
            Language::German,
            None,
        )
        .expect("csv");
        let mut reader = csv::Reader::from_reader(csv.as_slice());
        assert_eq!(reader.records().count(), 2);
    }

    #[test]
    fn a_pdf_without_a_font_is_a_clear_error() {
        let error =
            render(&[sample()], ExportFormat::Pdf, Language::English, None).expect_err("no font");
        assert!(error.to_string().contains("TrueType font"));
        assert!("docx".parse::<ExportFormat>().is_err());
    }
}
