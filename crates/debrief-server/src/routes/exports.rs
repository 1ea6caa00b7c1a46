//! `POST /api/v1/exports`: one or many summaries as a PDF, Markdown, HTML, JSON or CSV file,
//! with labels in the chosen language (by default the company's `insights.language`).
//! Exports are made in the request, up to [`MAX_EXPORT`] summaries; larger sets are narrowed
//! with the filters (background export jobs are not built yet).

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use debrief_core::RecordError;
use debrief_engine::language::Language;
use debrief_export::{find_system_font, render, ExportFormat, ExportedSummary};
use debrief_store::{CompanyId, Store, SummarySearch, SummaryState, MAX_PAGE_SIZE};
use serde::Deserialize;

use crate::auth::{need, Permitted};
use crate::error::{ApiError, ApiResult};
use crate::routes::records::json_body;
use crate::AppState;

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

/// A stored summary with its session's supporter and start, as exports print it.
async fn exported(
    store: &dyn Store,
    company: &CompanyId,
    session_id: &str,
    body: &str,
) -> ApiResult<ExportedSummary> {
    let mut summary: ExportedSummary = serde_json::from_str(body)
        .map_err(|error| ApiError::Internal(format!("stored summary {session_id}: {error}")))?;
    let session = store.get_session(company, session_id).await?.session;
    summary.started_at = session.started_at.map(|at| at.to_rfc3339());
    summary.supporter = session
        .supporter
        .and_then(|person| person.name.or(person.id));
    Ok(summary)
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
) -> ApiResult<Vec<ExportedSummary>> {
    let mut summaries = Vec::new();
    if let Some(ids) = &request.session_ids {
        if ids.len() > MAX_EXPORT {
            return Err(ApiError::InvalidRecord(RecordError::invalid(
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
                        ApiError::InvalidRecord(RecordError::invalid(
                            format!("session_ids[{index}]"),
                            format!("no session {id}"),
                        ))
                    }
                    other => other.into(),
                })?;
            let SummaryState::Ready(text) = state else {
                return Err(ApiError::InvalidRecord(RecordError::invalid(
                    format!("session_ids[{index}]"),
                    format!("session {id} has no summary"),
                )));
            };
            summaries.push(exported(store, company, id, &text).await?);
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
            return Err(ApiError::InvalidRecord(RecordError::invalid(
                "from",
                format!(
                    "{} summaries match; at most {MAX_EXPORT} in one export: narrow the period or filters",
                    page.total
                ),
            )));
        }
        let last = page.items.len() < MAX_PAGE_SIZE as usize;
        for item in &page.items {
            summaries.push(exported(store, company, &item.session_id, &item.body).await?);
        }
        if last || summaries.len() as u64 >= page.total {
            return Ok(summaries);
        }
        search.offset += MAX_PAGE_SIZE;
    }
}

/// The export language: the request's, else the company's.
pub fn language_of(requested: Option<&str>, company_default: &str) -> ApiResult<Language> {
    match requested {
        Some(code) => Language::from_code(code).ok_or_else(|| {
            ApiError::InvalidRecord(RecordError::invalid(
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
) -> ApiResult<Vec<u8>> {
    let font = match format {
        ExportFormat::Pdf => {
            Some(find_system_font(font).map_err(|error| ApiError::Internal(error.to_string()))?)
        }
        _ => None,
    };
    render(summaries, format, language, font.as_deref())
        .map_err(|error| ApiError::Internal(error.to_string()))
}

/// `POST /api/v1/exports`: `{"format", "language"?, "session_ids"? | "from"?, "to"?, "q"?,
/// "issue_type"?, "application"?, "supporter"?}` → the file (`Content-Disposition: attachment`).
#[utoipa::path(
    post, path = "/api/v1/exports", tag = "exports", operation_id = "exports_post_export",
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission insights.export"), (status = 422, description = "a field is invalid: details name it")),
    security(("bearer" = []))
)]
pub async fn post_export(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::InsightsExport>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let request: ExportRequest = json_body(&body)?;
    let company = &principal.company.id;
    let settings = crate::routes::governance::ai_settings(&state, company).await?;
    let language = language_of(request.language.as_deref(), &settings.insights.language)?;
    let summaries = select(state.store.as_ref(), company, &request).await?;
    let bytes = file(
        &summaries,
        request.format,
        language,
        state.export_font.as_deref(),
    )?;
    let name = format!(
        "attachment; filename=\"summaries-{}.{}\"",
        state.clock.now().format("%Y%m%d-%H%M%S"),
        request.format.extension()
    );
    Ok((
        [
            (
                header::CONTENT_TYPE,
                request.format.content_type().to_string(),
            ),
            (header::CONTENT_DISPOSITION, name),
        ],
        bytes,
    )
        .into_response())
}
