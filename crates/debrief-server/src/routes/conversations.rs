//! `/api/v1/conversations`: conversations metered for automated resolutions — create or update
//! them, append events, read their verdict and audit trail, and override a verdict.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use debrief_core::resolution::{decidable_at, ConversationDocument, Rule, Verdict, VerdictKind};
use debrief_core::RecordError;
use debrief_store::{ConversationWrite, Principal, StoreError};
use serde::Deserialize;
use serde_json::{json, value::RawValue, Value};

use crate::auth::{need, Permitted};
use crate::error::{ApiError, ApiResult};
use crate::routes::ai_agents::refusal_reason;
use crate::routes::records::json_body;
use crate::routes::records::{
    check_company, read_body, split_records, BatchResponse, RecordResult, Records,
};
use crate::AppState;
use debrief_workflows::evaluation::{decide, verdict_write, Decision};

/// Attempts at a write that lost a race with another writer.
const WRITE_ATTEMPTS: usize = 8;

/// Why a conversation write failed.
enum WriteError {
    Record(RecordError),
    /// A new conversation while AI agents are paused or off, with why.
    Refused(String),
    Api(ApiError),
}

impl From<WriteError> for ApiError {
    fn from(error: WriteError) -> Self {
        match error {
            WriteError::Record(error) => ApiError::InvalidRecord(error),
            WriteError::Refused(reason) => ApiError::Conflict(reason),
            WriteError::Api(error) => error,
        }
    }
}

impl From<StoreError> for WriteError {
    fn from(error: StoreError) -> Self {
        WriteError::Api(error.into())
    }
}

/// Saves `document` merged into what is stored (or as new), retrying lost races. Returns
/// `created`, `updated` or `unchanged`.
async fn upsert(
    state: &AppState,
    principal: &Principal,
    incoming: ConversationDocument,
    id: &str,
    merge: impl Fn(&mut ConversationDocument, ConversationDocument),
    refusal: Option<&str>,
) -> Result<&'static str, WriteError> {
    for _ in 0..WRITE_ATTEMPTS {
        let stored = match state
            .store
            .get_conversation(&principal.company.id, id)
            .await
        {
            Ok(stored) => Some(stored),
            Err(StoreError::NotFound) => None,
            Err(error) => return Err(error.into()),
        };
        let (document, expected_version, before) = match &stored {
            Some(stored) => {
                let (mut document, _) =
                    ConversationDocument::parse(&stored.body).map_err(|error| {
                        WriteError::Api(ApiError::Internal(format!(
                            "stored conversation {id}: {error}"
                        )))
                    })?;
                let before = document.to_json();
                merge(&mut document, incoming.clone());
                (document, Some(stored.version), Some(before))
            }
            None => {
                if let Some(reason) = refusal {
                    return Err(WriteError::Refused(reason.to_string()));
                }
                (incoming.clone(), None, None)
            }
        };
        let body = document.to_json();
        if before.as_deref() == Some(body.as_str()) {
            return Ok("unchanged");
        }
        let conversation = document.conversation().map_err(WriteError::Record)?;
        let write = ConversationWrite {
            id: id.to_string(),
            agent: conversation.agent.family().to_string(),
            channel: conversation.channel.clone(),
            body,
            decidable_at: decidable_at(&conversation),
        };
        match state
            .store
            .save_conversation(&principal.company.id, &write, expected_version)
            .await
        {
            Ok(_) => {
                return Ok(if expected_version.is_some() {
                    "updated"
                } else {
                    "created"
                })
            }
            Err(StoreError::Conflict { .. }) => continue,
            Err(error) => return Err(error.into()),
        }
    }
    Err(WriteError::Api(ApiError::Conflict(format!(
        "conversation {id} is being written by others: try again"
    ))))
}

fn parse_document(
    raw: &RawValue,
    principal: &Principal,
) -> Result<(ConversationDocument, String), RecordError> {
    let (document, conversation) = ConversationDocument::parse(raw.get())?;
    check_company(conversation.company.as_deref(), &principal.company.name)?;
    Ok((document, conversation.id))
}

/// `POST /api/v1/conversations`: one conversation or an array; each is created, or merged into
/// the stored one (fields replaced, new events added), idempotently.
#[utoipa::path(
    post, path = "/api/v1/conversations", tag = "conversations", operation_id = "conversations_upsert_conversations",
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission sessions.ingest"), (status = 422, description = "a field is invalid: details name it")),
    security(("bearer" = []))
)]
pub async fn upsert_conversations(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::SessionsIngest>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let bytes = read_body(&headers, body, state.limits.max_body_bytes).await?;
    let merge = |stored: &mut ConversationDocument, newer| stored.merge(newer);
    let refusal = refusal_reason(&state, &principal.company).await?;
    let refusal = refusal.as_deref();
    match split_records(&bytes)? {
        Records::One(raw) => {
            let (document, id) =
                parse_document(raw, &principal).map_err(ApiError::InvalidRecord)?;
            let status = upsert(&state, &principal, document, &id, merge, refusal).await?;
            let code = if status == "created" {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Ok((code, Json(json!({"id": id, "status": status}))).into_response())
        }
        Records::Many(records) => {
            let mut results = Vec::with_capacity(records.len());
            for (index, raw) in records.iter().enumerate() {
                let result = match parse_document(raw, &principal) {
                    Ok((document, id)) => {
                        match upsert(&state, &principal, document, &id, merge, refusal).await {
                            Ok(status) => RecordResult::accepted(index, &id, status),
                            Err(WriteError::Record(error)) => {
                                RecordResult::rejected(index, raw, &error)
                            }
                            Err(WriteError::Refused(reason)) => {
                                let error = RecordError::invalid("agent", reason);
                                RecordResult::rejected(index, raw, &error)
                            }
                            Err(WriteError::Api(error)) => return Err(error),
                        }
                    }
                    Err(error) => RecordResult::rejected(index, raw, &error),
                };
                results.push(result);
            }
            Ok((StatusCode::OK, Json(BatchResponse::new(results))).into_response())
        }
    }
}

/// `POST /api/v1/conversations/{id}/events`: one event or an array, placed by time; an event
/// whose `id` is already there is ignored.
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/events", tag = "conversations", operation_id = "conversations_append_events",
    params(("id" = String, Path)),
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission sessions.ingest"), (status = 422, description = "a field is invalid: details name it")),
    security(("bearer" = []))
)]
pub async fn append_events(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::SessionsIngest>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let bytes = read_body(&headers, body, state.limits.max_body_bytes).await?;
    let events: Vec<Value> =
        match split_records(&bytes)? {
            Records::One(raw) => vec![serde_json::from_str(raw.get())
                .map_err(|error| ApiError::malformed_json(&error))?],
            Records::Many(raws) => raws
                .iter()
                .map(|raw| serde_json::from_str(raw.get()))
                .collect::<Result<_, _>>()
                .map_err(|error| ApiError::malformed_json(&error))?,
        };
    let stored = state
        .store
        .get_conversation(&principal.company.id, &id)
        .await?;
    let (document, _) = ConversationDocument::parse(&stored.body)
        .map_err(|error| ApiError::Internal(format!("stored conversation {id}: {error}")))?;
    // The events are validated on their own, so that errors name the request's indexes.
    let incoming = document.with_events(events);
    incoming.conversation().map_err(ApiError::InvalidRecord)?;
    let count = incoming.events().len();
    let append = |stored: &mut ConversationDocument, newer: ConversationDocument| {
        stored.append_events(newer.events().to_vec());
    };
    let status = upsert(&state, &principal, incoming, &id, append, None).await?;
    Ok((
        StatusCode::OK,
        Json(json!({"id": id, "status": status, "received": count})),
    )
        .into_response())
}

/// `GET /api/v1/conversations/{id}`: the conversation, its state, verdict and audit trail.
#[utoipa::path(
    get, path = "/api/v1/conversations/{id}", tag = "conversations", operation_id = "conversations_get_conversation",
    params(("id" = String, Path)),
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission usage.view")),
    security(("bearer" = []))
)]
pub async fn get_conversation(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::UsageView>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let stored = state
        .store
        .get_conversation(&principal.company.id, &id)
        .await?;
    let conversation: Value = serde_json::from_str(&stored.body)
        .map_err(|error| ApiError::Internal(format!("stored conversation {id}: {error}")))?;
    Ok(Json(json!({
        "conversation": conversation,
        "state": stored.state,
        "verdict": stored.verdict,
        "audit": stored.audit,
    })))
}

/// Body of `POST /api/v1/conversations/{id}/override`.
#[derive(Debug, Deserialize)]
pub struct OverrideRequest {
    verdict: VerdictKind,
    reason: String,
}

/// The rule every admin override is recorded under.
const OVERRIDE_RULE: Rule = debrief_core::resolution::rules::ADMIN_OVERRIDE;

/// `POST /api/v1/conversations/{id}/override`: an admin sets the verdict (counted or not
/// counted) with a reason; the previous one stays in the audit trail.
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/override", tag = "conversations", operation_id = "conversations_override_verdict",
    params(("id" = String, Path)),
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission billing.manage"), (status = 422, description = "a field is invalid: details name it")),
    security(("bearer" = []))
)]
pub async fn override_verdict(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::BillingManage>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<StatusCode> {
    let request: OverrideRequest = json_body(&body)?;
    if request.verdict == VerdictKind::Pending {
        return Err(ApiError::InvalidRecord(RecordError::invalid(
            "verdict",
            "an override is counted or not_counted",
        )));
    }
    if request.reason.trim().is_empty() {
        return Err(ApiError::InvalidRecord(RecordError::invalid(
            "reason",
            "an override needs a reason",
        )));
    }
    let now = state.clock.now();
    let verdict = Verdict {
        id: id.clone(),
        verdict: request.verdict,
        rule: OVERRIDE_RULE,
        decided_at: Some(now),
        reason: request.reason.trim().to_string().into(),
    };
    let actor = format!("user:{}", principal.user_id);
    let decision = Decision {
        judge: "admin",
        model: "none",
        prompt_version: "none",
        rationale: "overridden by an admin",
        actor: &actor,
    };
    let write = verdict_write(&verdict, &decision, &principal.company.time_zone, now);
    state
        .store
        .replace_verdict(&principal.company.id, &id, &write, "override")
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/conversations/{id}/rerun`: an admin has the rules and the configured judge
/// decide again now; the new verdict replaces the old one, which stays in the audit trail.
#[utoipa::path(
    post, path = "/api/v1/conversations/{id}/rerun", tag = "conversations", operation_id = "conversations_rerun_verdict",
    params(("id" = String, Path)),
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission billing.manage"), (status = 422, description = "a field is invalid: details name it")),
    security(("bearer" = []))
)]
pub async fn rerun_verdict(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::BillingManage>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    crate::routes::records::no_body(&body)?;
    let stored = state
        .store
        .get_conversation(&principal.company.id, &id)
        .await?;
    let conversation = debrief_core::resolution::Conversation::parse_json(&stored.body)
        .map_err(|error| ApiError::Internal(format!("stored conversation {id}: {error}")))?;
    let actor = format!("user:{}", principal.user_id);
    let check = debrief_workflows::engines::resolution_check_for(
        state.store.as_ref(),
        &state.llm,
        &state.judge,
        &principal.company.id,
    )
    .await?;
    let (verdict, write) = decide(
        &conversation,
        &check,
        &actor,
        &principal.company.time_zone,
        state.clock.now(),
        &state.metrics,
    )
    .await;
    if verdict.verdict == VerdictKind::Pending {
        return Err(ApiError::Conflict(format!(
            "conversation {id} is not due yet ({})",
            verdict.rule
        )));
    }
    state
        .store
        .replace_verdict(&principal.company.id, &id, &write, "rerun")
        .await?;
    Ok(Json(json!({"id": id, "verdict": write.verdict})))
}
