//! `POST /api/v1/exports`: one or many summaries as a PDF, Markdown, HTML, JSON or CSV file,
//! with labels in the chosen language (by default the company's `insights.language`), made in
//! the request by `debrief_workflows::exports`.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use debrief_workflows::exports::{file, language_of, select, ExportRequest};

use crate::auth::{need, Permitted};
use crate::error::ApiResult;
use crate::routes::records::json_body;
use crate::AppState;

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
