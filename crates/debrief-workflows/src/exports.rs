//! Which summaries an export holds (the sessions named, or the summary list's filters) and its
//! file in one format and language, for `POST /api/v1/exports` and `debrief export`. Up to
//! [`MAX_EXPORT`] summaries; larger sets are narrowed with the filters.

use chrono::{DateTime, Utc};
use debrief_core::summary::Summary;
use debrief_core::RecordError;
use debrief_engine::language::Language;
use debrief_export::{find_system_font, render, ExportFormat, ExportedSummary};
use debrief_store::{CompanyId, Store, SummarySearch, SummaryState, MAX_PAGE_SIZE};
use serde::Deserialize;

use crate::{WorkflowError, WorkflowResult};

/// Most summaries in one export.
pub const MAX_EXPORT: usize = 1_000;

/// What to export.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportRequest {
    pub format: ExportFormat,
    /// `en`, `pt-BR`, `es`, `de` or `fr`; the company's language when absent.
    pub language: Option<String>,
    /// These sessions' summaries, in this order.
    pub session_ids: Option<Vec<String>>,
    /// Otherwise sessions that started in `[from, to)`…
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// …holding these words in the title or summary (as the summary list's `q`)…
    pub q: Option<String>,
    /// …tagged with this issue type…
    pub issue_type: Option<String>,
    /// …naming this application…
    pub application: Option<String>,
    /// …and handled by this supporter (id): the summary list's filters, newest first.
    pub supporter: Option<String>,
}

/// A stored summary with its session's supporter and start, and its editor's name, as
/// exports print it.
pub(crate) async fn exported(
    store: &dyn Store,
    company: &CompanyId,
    session_id: &str,
    summary: Summary,
) -> WorkflowResult<ExportedSummary> {
    let session = store.get_session(company, session_id).await?.session;
    // The editor by name, as people read it (a user no longer there stays as the id).
    let editor = match &summary.edited {
        Some(edited) => match store.get_user(company, &edited.by).await {
            Ok(user) => Some(user.name),
            Err(debrief_store::StoreError::NotFound) => None,
            Err(error) => return Err(error.into()),
        },
        None => None,
    };
    Ok(ExportedSummary {
        started_at: session.started_at.map(|at| at.to_utc()),
        supporter: session
            .supporter
            .and_then(|person| person.name.or(person.id)),
        editor,
        summary,
    })
}

/// An empty filter is no filter.
fn given(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .map(str::to_string)
}

/// The summaries a request selects: the sessions named, or those the list's filters find.
pub async fn select(
    store: &dyn Store,
    company: &CompanyId,
    request: &ExportRequest,
) -> WorkflowResult<Vec<ExportedSummary>> {
    let mut summaries = Vec::new();
    if let Some(ids) = &request.session_ids {
        if ids.len() > MAX_EXPORT {
            return Err(WorkflowError::Invalid(RecordError::invalid(
                "session_ids",
                format!("at most {MAX_EXPORT} sessions in one export"),
            )));
        }
        for (index, id) in ids.iter().enumerate() {
            let state = store
                .summary_state(company, id)
                .await
                .map_err(|error| match error {
                    debrief_store::StoreError::NotFound => {
                        WorkflowError::Invalid(RecordError::invalid(
                            format!("session_ids[{index}]"),
                            format!("no session {id}"),
                        ))
                    }
                    other => WorkflowError::Store(other),
                })?;
            let SummaryState::Ready(summary) = state else {
                return Err(WorkflowError::Invalid(RecordError::invalid(
                    format!("session_ids[{index}]"),
                    format!("session {id} has no summary"),
                )));
            };
            summaries.push(exported(store, company, id, *summary).await?);
        }
        return Ok(summaries);
    }
    let mut search = SummarySearch {
        from: request.from,
        to: request.to,
        text: given(&request.q),
        issue_type: given(&request.issue_type),
        application: given(&request.application),
        supporter_id: given(&request.supporter),
        offset: 0,
        limit: MAX_PAGE_SIZE,
    };
    loop {
        let page = store.search_summaries(company, &search).await?;
        if page.total > MAX_EXPORT as u64 {
            return Err(WorkflowError::Invalid(RecordError::invalid(
                "from",
                format!(
                    "{} summaries match; at most {MAX_EXPORT} in one export: narrow the period or filters",
                    page.total
                ),
            )));
        }
        let last = page.items.len() < MAX_PAGE_SIZE as usize;
        for item in page.items {
            summaries.push(exported(store, company, &item.session_id, item.summary).await?);
        }
        if last || summaries.len() as u64 >= page.total {
            return Ok(summaries);
        }
        search.offset += MAX_PAGE_SIZE;
    }
}

/// The export language: the request's, else the company's.
pub fn language_of(requested: Option<&str>, company_default: &str) -> WorkflowResult<Language> {
    match requested {
        Some(code) => Language::from_code(code).ok_or_else(|| {
            WorkflowError::Invalid(RecordError::invalid(
                "language",
                format!("unknown language {code:?}; expected en, pt-BR, es, de or fr"),
            ))
        }),
        None => Ok(Language::from_code(company_default).unwrap_or(Language::English)),
    }
}

/// The file of an export.
pub fn file(
    summaries: &[ExportedSummary],
    format: ExportFormat,
    language: Language,
    font: Option<&str>,
) -> WorkflowResult<Vec<u8>> {
    let font = match format {
        ExportFormat::Pdf => Some(
            find_system_font(font).map_err(|error| WorkflowError::Internal(error.to_string()))?,
        ),
        _ => None,
    };
    render(summaries, format, language, font.as_deref())
        .map_err(|error| WorkflowError::Internal(error.to_string()))
}
