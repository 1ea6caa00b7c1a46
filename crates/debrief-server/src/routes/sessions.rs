//! `/api/v1/sessions`: ingest (one session or a batch), fetch one, list with filters.

use axum::body::{to_bytes, Body};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use debrief_core::session::{Channel, Platform};
use debrief_core::{RecordError, SessionRecord};
use debrief_store::{InsertOutcome, Principal, SessionCursor, SessionQuery, StoredSession};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// Most sessions one `POST /api/v1/sessions` may carry.
pub const MAX_BATCH_RECORDS: usize = 1_000;

/// Page size of a listing when the request names none.
const DEFAULT_PAGE_SIZE: u32 = 50;

/// The result for one record of a batch.
#[derive(Debug, Serialize)]
struct RecordResult {
    index: usize,
    id: Option<String>,
    status: RecordStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum RecordStatus {
    Stored,
    Duplicate,
    Rejected,
}

#[derive(Debug, Serialize)]
struct BatchResponse {
    stored: usize,
    duplicates: usize,
    rejected: usize,
    results: Vec<RecordResult>,
}

/// Reads a body of at most `limit` bytes; more is a 413.
async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> ApiResult<axum::body::Bytes> {
    let too_large = || ApiError::PayloadTooLarge(format!("the body exceeds {limit} bytes"));
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(too_large());
    }
    to_bytes(body, limit).await.map_err(|_| too_large())
}

/// Parses one record and checks that it belongs to the caller's company.
fn parse_record(raw: &RawValue, principal: &Principal) -> Result<SessionRecord, RecordError> {
    let record = SessionRecord::parse(raw.get())?;
    if let Some(company) = &record.session().company {
        if company != &principal.company.name {
            return Err(RecordError::invalid(
                "company",
                format!("names {company:?}, not the company of this token"),
            ));
        }
    }
    Ok(record)
}

/// `POST /api/v1/sessions`: one session object, or an array of up to 1,000.
pub async fn create_sessions(
    State(state): State<AppState>,
    Caller(principal): Caller,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let bytes = read_body(&headers, body, state.limits.max_body_bytes).await?;
    let first = bytes.iter().find(|byte| !byte.is_ascii_whitespace());
    if first != Some(&b'[') {
        let raw: &RawValue =
            serde_json::from_slice(&bytes).map_err(|error| ApiError::malformed_json(&error))?;
        let record = parse_record(raw, &principal).map_err(ApiError::InvalidRecord)?;
        let outcome = state
            .store
            .insert_sessions(&principal.company.id, std::slice::from_ref(&record))
            .await?;
        let session = record.session();
        let (status, word) = match outcome.first() {
            Some(InsertOutcome::Stored) => (StatusCode::CREATED, RecordStatus::Stored),
            _ => (StatusCode::OK, RecordStatus::Duplicate),
        };
        tracing::info!(tenant.id = %principal.company.id, session.id = %session.id, status = ?word, "session ingested");
        return Ok((
            status,
            Json(serde_json::json!({"id": session.id, "status": word})),
        )
            .into_response());
    }

    let records: Vec<&RawValue> =
        serde_json::from_slice(&bytes).map_err(|error| ApiError::malformed_json(&error))?;
    if records.len() > MAX_BATCH_RECORDS {
        return Err(ApiError::PayloadTooLarge(format!(
            "a batch holds at most {MAX_BATCH_RECORDS} sessions, this one has {}",
            records.len()
        )));
    }
    let mut results = Vec::with_capacity(records.len());
    let mut valid = Vec::with_capacity(records.len());
    let mut valid_indexes = Vec::with_capacity(records.len());
    for (index, raw) in records.iter().enumerate() {
        match parse_record(raw, &principal) {
            Ok(record) => {
                results.push(RecordResult {
                    index,
                    id: Some(record.session().id.clone()),
                    status: RecordStatus::Stored,
                    field: None,
                    reason: None,
                });
                valid.push(record);
                valid_indexes.push(index);
            }
            Err(error) => results.push(RecordResult {
                index,
                id: record_id(raw),
                status: RecordStatus::Rejected,
                field: error.field.clone(),
                reason: Some(error.to_string()),
            }),
        }
    }
    let outcomes = state
        .store
        .insert_sessions(&principal.company.id, &valid)
        .await?;
    for (index, outcome) in valid_indexes.into_iter().zip(outcomes) {
        if outcome == InsertOutcome::Duplicate {
            results[index].status = RecordStatus::Duplicate;
        }
    }
    let count = |status| {
        results
            .iter()
            .filter(|result| result.status == status)
            .count()
    };
    let response = BatchResponse {
        stored: count(RecordStatus::Stored),
        duplicates: count(RecordStatus::Duplicate),
        rejected: count(RecordStatus::Rejected),
        results,
    };
    tracing::info!(
        tenant.id = %principal.company.id,
        stored = response.stored,
        duplicates = response.duplicates,
        rejected = response.rejected,
        "session batch ingested"
    );
    Ok((StatusCode::OK, Json(response)).into_response())
}

/// The `id` of a rejected record, when it has a readable one.
fn record_id(raw: &RawValue) -> Option<String> {
    #[derive(Deserialize)]
    struct IdOnly {
        id: String,
    }
    serde_json::from_str::<IdOnly>(raw.get())
        .ok()
        .map(|record| record.id)
}

/// `GET /api/v1/sessions/{id}`.
pub async fn get_session(
    State(state): State<AppState>,
    Caller(principal): Caller,
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
pub async fn list_sessions(
    State(state): State<AppState>,
    Caller(principal): Caller,
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
