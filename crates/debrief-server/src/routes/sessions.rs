//! `/api/v1/sessions`: ingest (one session or a batch), fetch one, list with filters.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use debrief_core::session::{Channel, Platform};
use debrief_core::summary::{Summary, SummaryEdit};
use debrief_core::{RecordError, SessionRecord};
use debrief_store::{InsertOutcome, Principal, SessionCursor, SessionQuery, StoredSession};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::auth::{need, Permitted};
use crate::error::{ApiError, ApiResult};
use crate::routes::records::{
    check_company, json_body, read_body, split_records, BatchResponse, RecordResult, Records,
};
use crate::AppState;

/// Page size of a listing when the request names none.
const DEFAULT_PAGE_SIZE: u32 = 50;

/// Parses one record and checks that it belongs to the caller's company.
fn parse_record(raw: &RawValue, principal: &Principal) -> Result<SessionRecord, RecordError> {
    let record = SessionRecord::parse(raw.get())?;
    check_company(record.session().company.as_deref(), &principal.company.name)?;
    Ok(record)
}

fn outcome_word(outcome: InsertOutcome) -> &'static str {
    match outcome {
        InsertOutcome::Stored => "stored",
        InsertOutcome::Duplicate => "duplicate",
    }
}

/// `POST /api/v1/sessions`: one session object, or an array of up to 1,000.
#[utoipa::path(
    post, path = "/api/v1/sessions", tag = "sessions", operation_id = "sessions_create_sessions",
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission sessions.ingest"), (status = 422, description = "a field is invalid: details name it")),
    security(("bearer" = []))
)]
pub async fn create_sessions(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::SessionsIngest>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let bytes = read_body(&headers, body, state.limits.max_body_bytes).await?;
    let records = match split_records(&bytes)? {
        Records::One(raw) => {
            let record = parse_record(raw, &principal).map_err(ApiError::InvalidRecord)?;
            let outcome = state
                .store
                .insert_sessions(&principal.company.id, std::slice::from_ref(&record))
                .await?;
            let outcome = outcome.first().copied().unwrap_or(InsertOutcome::Duplicate);
            let status = match outcome {
                InsertOutcome::Stored => StatusCode::CREATED,
                InsertOutcome::Duplicate => StatusCode::OK,
            };
            let id = &record.session().id;
            tracing::info!(tenant.id = %principal.company.id, session.id = %id, status = outcome_word(outcome), "session ingested");
            let body = serde_json::json!({"id": id, "status": outcome_word(outcome)});
            return Ok((status, Json(body)).into_response());
        }
        Records::Many(records) => records,
    };
    let mut results = Vec::with_capacity(records.len());
    let mut valid = Vec::with_capacity(records.len());
    let mut valid_indexes = Vec::with_capacity(records.len());
    for (index, raw) in records.iter().enumerate() {
        match parse_record(raw, &principal) {
            Ok(record) => {
                results.push(RecordResult::accepted(
                    index,
                    &record.session().id,
                    "stored",
                ));
                valid.push(record);
                valid_indexes.push(index);
            }
            Err(error) => results.push(RecordResult::rejected(index, raw, &error)),
        }
    }
    let outcomes = state
        .store
        .insert_sessions(&principal.company.id, &valid)
        .await?;
    for (index, outcome) in valid_indexes.into_iter().zip(outcomes) {
        results[index].status = outcome_word(outcome);
    }
    let response = BatchResponse::new(results);
    tracing::info!(tenant.id = %principal.company.id, counts = ?response.counts, "session batch ingested");
    Ok((StatusCode::OK, Json(response)).into_response())
}

/// `GET /api/v1/sessions/{id}`.
#[utoipa::path(
    get, path = "/api/v1/sessions/{id}", tag = "sessions", operation_id = "sessions_get_session",
    params(("id" = String, Path)),
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission insights.view")),
    security(("bearer" = []))
)]
pub async fn get_session(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::InsightsView>,
    Path(id): Path<String>,
) -> ApiResult<Json<StoredSession>> {
    Ok(Json(
        state.store.get_session(&principal.company.id, &id).await?,
    ))
}

/// Query parameters of `GET /api/v1/sessions`, all optional.
#[derive(Debug, Deserialize)]
pub struct ListParams {
    from: Option<String>,
    to: Option<String>,
    supporter: Option<String>,
    channel: Option<String>,
    platform: Option<String>,
    /// Only sessions skipped for this reason (as `GET /api/v1/insights/overview` lists them).
    skip_reason: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SessionList {
    sessions: Vec<StoredSession>,
    next_cursor: Option<String>,
    total: u64,
}

fn parse_time(name: &str, value: &str) -> ApiResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(value)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|_| ApiError::BadRequest(format!("{name}: {value:?} is not an RFC 3339 time")))
}

fn parse_enum<T: for<'de> Deserialize<'de>>(name: &str, value: &str) -> ApiResult<T> {
    serde_json::from_value(serde_json::Value::String(value.to_string()))
        .map_err(|_| ApiError::BadRequest(format!("{name}: unknown value {value:?}")))
}

impl ListParams {
    fn into_query(self) -> ApiResult<SessionQuery> {
        let limit = match self.limit {
            None => DEFAULT_PAGE_SIZE,
            Some(text) => text
                .parse::<u32>()
                .ok()
                .filter(|limit| (1..=debrief_store::MAX_PAGE_SIZE).contains(limit))
                .ok_or_else(|| {
                    ApiError::BadRequest(format!(
                        "limit: {text:?} is not a number from 1 to {}",
                        debrief_store::MAX_PAGE_SIZE
                    ))
                })?,
        };
        Ok(SessionQuery {
            from: self
                .from
                .map(|value| parse_time("from", &value))
                .transpose()?,
            to: self.to.map(|value| parse_time("to", &value)).transpose()?,
            supporter_id: self.supporter,
            channel: self
                .channel
                .map(|value| parse_enum::<Channel>("channel", &value))
                .transpose()?,
            platform: self
                .platform
                .map(|value| parse_enum::<Platform>("platform", &value))
                .transpose()?,
            skip_reason: self.skip_reason,
            cursor: self
                .cursor
                .map(|value| {
                    SessionCursor::parse(&value).map_err(|_| {
                        ApiError::BadRequest(format!("cursor: {value:?} is not a cursor"))
                    })
                })
                .transpose()?,
            limit,
        })
    }
}

/// `GET /api/v1/sessions`: newest first, filtered, with a cursor to the next page and the total.
#[utoipa::path(
    get, path = "/api/v1/sessions", tag = "sessions", operation_id = "sessions_list_sessions",
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission insights.view")),
    security(("bearer" = []))
)]
pub async fn list_sessions(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::InsightsView>,
    Query(params): Query<ListParams>,
) -> ApiResult<Json<SessionList>> {
    let query = params.into_query()?;
    let page = state
        .store
        .list_sessions(&principal.company.id, &query)
        .await?;
    Ok(Json(SessionList {
        sessions: page.sessions,
        next_cursor: page.next_cursor.map(|cursor| cursor.encode()),
        total: page.total,
    }))
}

/// `GET /api/v1/sessions/{id}/summary`: 200 with the summary, 202 while it is being written,
/// 422 when the engine gave up (with the error), 409 when the session is not summarized (with
/// the reason, and whether it is final).
#[utoipa::path(
    get, path = "/api/v1/sessions/{id}/summary", tag = "sessions", operation_id = "sessions_get_summary",
    params(("id" = String, Path)),
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission insights.view")),
    security(("bearer" = []))
)]
pub async fn get_summary(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::InsightsView>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    use debrief_store::SummaryState;
    match state
        .store
        .summary_state(&principal.company.id, &id)
        .await?
    {
        SummaryState::Ready(summary) => Ok((StatusCode::OK, Json(summary)).into_response()),
        SummaryState::Pending => Ok((
            StatusCode::ACCEPTED,
            Json(serde_json::json!({"id": id, "state": "pending"})),
        )
            .into_response()),
        SummaryState::Failed(error) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(serde_json::json!({"id": id, "state": "failed", "error": error})),
        )
            .into_response()),
        SummaryState::Deleted => Ok((
            StatusCode::GONE,
            Json(serde_json::json!({"id": id, "state": "deleted"})),
        )
            .into_response()),
        SummaryState::Skipped { reason, is_final } => Ok((
            StatusCode::CONFLICT,
            Json(serde_json::json!({"id": id, "state": "skipped", "reason": reason, "final": is_final})),
        )
            .into_response()),
    }
}

/// `PATCH /api/v1/sessions/{id}/summary`: a person's edit of the summary (any of `title`,
/// `summary`, `problem`, `actions`, `outcome`, `follow_up`, `issue_types`, `applications`).
/// The text it replaces is kept with who and when (`GET …/summary/revisions`); the summary
/// says `edited: {by, at}`.
#[utoipa::path(
    patch, path = "/api/v1/sessions/{id}/summary", tag = "sessions", operation_id = "sessions_edit_summary",
    params(("id" = String, Path)),
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission insights.edit"), (status = 422, description = "a field is invalid: details name it")),
    security(("bearer" = []))
)]
pub async fn edit_summary(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::InsightsEdit>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Summary>> {
    use debrief_store::SummaryState;
    let edit: SummaryEdit = json_body(&body)?;
    let company = &principal.company.id;
    let SummaryState::Ready(current) = state.store.summary_state(company, &id).await? else {
        return Err(ApiError::Conflict(format!(
            "session {id} has no summary to edit"
        )));
    };
    let summary = edit
        .apply(*current, &principal.user_id, state.clock.now())
        .map_err(ApiError::InvalidRecord)?;
    state.store.edit_summary(company, &id, &summary).await?;
    Ok(Json(summary))
}

/// `GET /api/v1/sessions/{id}/summary/revisions`: every edit, oldest first, with the text it
/// replaced (the first holds what the engine wrote), who and when.
#[utoipa::path(
    get, path = "/api/v1/sessions/{id}/summary/revisions", tag = "sessions", operation_id = "sessions_summary_revisions",
    params(("id" = String, Path)),
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission insights.view")),
    security(("bearer" = []))
)]
pub async fn summary_revisions(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::InsightsView>,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let company = &principal.company.id;
    state.store.summary_state(company, &id).await?;
    let revisions = state.store.summary_revisions(company, &id).await?;
    let mut people = crate::routes::insights::PeopleNames::default();
    let mut items: Vec<serde_json::Value> = Vec::with_capacity(revisions.len());
    for revision in &revisions {
        let name = people.name(&state, company, &revision.edited_by).await?;
        items.push(serde_json::json!({
            "revision": revision.revision,
            "edited_by": revision.edited_by,
            "edited_by_name": name,
            "edited_at": revision.edited_at,
            "replaced": revision.replaced,
        }));
    }
    Ok(Json(serde_json::json!({"id": id, "items": items})))
}

/// `DELETE /api/v1/sessions/{id}/summary`: the summary and its revisions are gone for good and
/// the session is not summarized again (the session itself stays).
#[utoipa::path(
    delete, path = "/api/v1/sessions/{id}/summary", tag = "sessions", operation_id = "sessions_delete_summary",
    params(("id" = String, Path)),
    responses((status = 204, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission insights.delete")),
    security(("bearer" = []))
)]
pub async fn delete_summary(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::InsightsDelete>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_summary(&principal.company.id, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
