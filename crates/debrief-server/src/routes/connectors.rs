//! `/api/v1/connectors/{kind}` (ServiceNow, Salesforce): settings with sealed credentials,
//! checked by a test call when saved, the events each pushes by itself, and its deliveries; and
//! `POST /api/v1/sessions/{id}/summary/push`, a push by hand through the same outbox.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use debrief_core::RecordError;
use debrief_store::{Delivery, StoredConnector, SummaryState, CONNECTOR_EVENTS};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::{need, Permitted};
use crate::error::{ApiError, ApiResult};
use crate::routes::records::json_body;
use crate::AppState;
use debrief_workflows::connectors::{check, push_ticket, Connector, PushError, WhenNoTicket};
use debrief_workflows::secrets::SecretBox;

/// How many deliveries the list shows.
const DELIVERIES_LISTED: u32 = 100;

fn secrets(state: &AppState) -> ApiResult<&SecretBox> {
    state.secrets.as_ref().ok_or_else(|| {
        ApiError::Conflict(
            "connectors need the server's secret_key setting (DEBRIEF_SECRET_KEY) to seal credentials"
                .into(),
        )
    })
}

fn sealing_error(error: debrief_workflows::secrets::SecretError) -> ApiError {
    ApiError::Internal(error.to_string())
}

fn invalid(field: &str, reason: impl Into<String>) -> ApiError {
    ApiError::InvalidRecord(RecordError::invalid(field, reason))
}

/// A stored connector's settings.
fn settings_of(stored: &StoredConnector) -> ApiResult<Connector> {
    serde_json::from_str(&stored.settings)
        .map_err(|error| ApiError::Internal(format!("stored connector {}: {error}", stored.kind)))
}

/// What the API shows of a stored connector: its settings without the secret, the events it
/// pushes and how it is doing (`failing_since`, and `alerted_at` once it has failed for an
/// hour).
fn shown(stored: &StoredConnector) -> ApiResult<Value> {
    let mut shown = settings_of(stored)?.shown();
    shown["events"] = json!(stored.events);
    shown["failing_since"] = json!(stored.failing_since);
    shown["alerted_at"] = json!(stored.alerted_at);
    Ok(shown)
}

/// `GET /api/v1/connectors`: the company's connectors, without their secrets.
#[utoipa::path(
    get, path = "/api/v1/connectors", tag = "connectors", operation_id = "connectors_list_connectors",
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission ai.settings.manage")),
    security(("bearer" = []))
)]
pub async fn list_connectors(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::AiSettingsManage>,
) -> ApiResult<Json<Value>> {
    let connectors = state.store.connectors(&principal.company.id).await?;
    let items = connectors
        .iter()
        .map(shown)
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(Json(json!({ "items": items })))
}

/// The events of a connector's body: `events` (names of `summary.created`, `summary.updated`,
/// `summary.deleted`; all three when left out), taken out of `body`.
fn take_events(body: &mut serde_json::Map<String, Value>) -> ApiResult<Vec<String>> {
    let Some(events) = body.remove("events") else {
        return Ok(CONNECTOR_EVENTS.map(str::to_string).to_vec());
    };
    let Value::Array(events) = events else {
        return Err(invalid("events", "must be a list of event names"));
    };
    let mut chosen = Vec::new();
    for (index, event) in events.iter().enumerate() {
        let field = format!("events[{index}]");
        let name = event
            .as_str()
            .filter(|name| CONNECTOR_EVENTS.contains(name))
            .ok_or_else(|| {
                invalid(
                    &field,
                    format!("must be one of {}", CONNECTOR_EVENTS.join(", ")),
                )
            })?;
        if !chosen.iter().any(|known: &String| known == name) {
            chosen.push(name.to_string());
        }
    }
    Ok(chosen)
}

/// `PUT /api/v1/connectors/{kind}`: `{"kind": "servicenow", "instance_url", "username",
/// "password"}` or `{"kind": "salesforce", "instance_url", "access_token", "api_version"?}`,
/// with `events` (what it pushes by itself; default all three) and `when_no_ticket` (`skip`,
/// the default, or `create`). The credentials are checked with a test call first: a refusal
/// or no answer is a 422 naming the field and quoting the answer, and nothing is saved. The
/// answer says what the system answered (`check`).
#[utoipa::path(
    put, path = "/api/v1/connectors/{kind}", tag = "connectors", operation_id = "connectors_put_connector",
    params(("kind" = String, Path)),
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission ai.settings.manage"), (status = 422, description = "a field is invalid, or the test call failed: details name the field")),
    security(("bearer" = []))
)]
pub async fn put_connector(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::AiSettingsManage>,
    Path(kind): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    let mut body: serde_json::Map<String, Value> = json_body(&body)?;
    let events = take_events(&mut body)?;
    match body.remove("kind") {
        Some(Value::String(named)) if named == kind => {}
        _ => {
            return Err(invalid(
                "kind",
                format!("must be {kind}, as the path names"),
            ))
        }
    }
    let connector = Connector::from_fields(&kind, body).map_err(ApiError::InvalidRecord)?;
    connector.validate().map_err(ApiError::InvalidRecord)?;
    if let Some(reason) = reqwest::Url::parse(connector.instance_url())
        .ok()
        .and_then(|url| debrief_workflows::outbound::refusal(&url, state.deliverer.reach))
    {
        return Err(invalid("instance_url", reason));
    }
    let sealed = connector
        .with_secret(secrets(&state)?, true)
        .map_err(sealing_error)?;
    let answer = check(&state.deliverer.client, &connector)
        .await
        .map_err(|error| {
            let field = match (&error, &connector) {
                (
                    PushError::Refused {
                        status: 401 | 403, ..
                    },
                    Connector::Servicenow { .. },
                ) => "password",
                (
                    PushError::Refused {
                        status: 401 | 403, ..
                    },
                    Connector::Salesforce { .. },
                ) => "access_token",
                _ => "instance_url",
            };
            invalid(field, format!("the test call failed: {error}"))
        })?;
    let settings =
        serde_json::to_string(&sealed).map_err(|error| ApiError::Internal(error.to_string()))?;
    let company = &principal.company.id;
    state
        .store
        .put_connector(company, &kind, &settings, &events)
        .await?;
    let stored = state
        .store
        .connector(company, &kind)
        .await?
        .ok_or(ApiError::NotFound)?;
    let mut reply = shown(&stored)?;
    reply["check"] = json!({"status": answer.status, "answer": answer.answer});
    Ok(Json(reply))
}

/// `DELETE /api/v1/connectors/{kind}`: the connector and its pending pushes.
#[utoipa::path(
    delete, path = "/api/v1/connectors/{kind}", tag = "connectors", operation_id = "connectors_delete_connector",
    params(("kind" = String, Path)),
    responses((status = 204, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission ai.settings.manage"), (status = 404, description = "no such connector")),
    security(("bearer" = []))
)]
pub async fn delete_connector(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::AiSettingsManage>,
    Path(kind): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_connector(&principal.company.id, &kind)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/connectors/{kind}/deliveries`: the newest 100 pushes with their state
/// (`pending`, `delivered`, `failed`, `skipped`), next try and every attempt (the remote status
/// and answer, or what went wrong).
#[utoipa::path(
    get, path = "/api/v1/connectors/{kind}/deliveries", tag = "connectors", operation_id = "connectors_list_deliveries",
    params(("kind" = String, Path)),
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission ai.settings.manage"), (status = 404, description = "no such connector")),
    security(("bearer" = []))
)]
pub async fn list_deliveries(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::AiSettingsManage>,
    Path(kind): Path<String>,
) -> ApiResult<Json<Value>> {
    let deliveries = state
        .store
        .connector_deliveries(&principal.company.id, &kind, DELIVERIES_LISTED)
        .await?;
    Ok(Json(json!({ "items": deliveries })))
}

/// `POST /api/v1/connectors/{kind}/deliveries/{id}/redeliver`: send a push again (another 24
/// hours of retries), whatever became of it.
#[utoipa::path(
    post, path = "/api/v1/connectors/{kind}/deliveries/{id}/redeliver", tag = "connectors", operation_id = "connectors_redeliver",
    params(("kind" = String, Path), ("id" = String, Path)),
    responses((status = 202, description = "queued"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission ai.settings.manage"), (status = 404, description = "no such connector or delivery")),
    security(("bearer" = []))
)]
pub async fn redeliver(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::AiSettingsManage>,
    Path((kind, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let company = &principal.company.id;
    // Delivery ids are numbers: anything else names no delivery.
    let id: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
    state
        .store
        .redeliver(company, id, "connector", Some(&kind))
        .await?;
    Ok(StatusCode::ACCEPTED)
}

/// Body of a push.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    connector: String,
    /// The incident's `sys_id` or the case id; default the session's `ticket`, else the one the
    /// connector opened for the session.
    #[serde(default)]
    ticket: Option<String>,
}

/// `POST /api/v1/sessions/{id}/summary/push`: the summary into its ticket through the
/// connector's outbox line, sent at once when nothing waits before it. 200 with the delivery
/// when it arrived; 202 when it waits (behind earlier pushes, or to be retried); 502 with the
/// remote answer when the system refused for good. A ticket that is not one of the system's
/// ids, or none where the connector opens none, is a 422 naming `ticket`.
#[utoipa::path(
    post, path = "/api/v1/sessions/{id}/summary/push", tag = "connectors", operation_id = "connectors_push_summary",
    params(("id" = String, Path)),
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 200, description = "delivered"), (status = 202, description = "queued"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission insights.export"), (status = 422, description = "a field is invalid: details name it"), (status = 502, description = "the system refused")),
    security(("bearer" = []))
)]
pub async fn push_summary(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::InsightsExport>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<Delivery>)> {
    let request: PushRequest = json_body(&body)?;
    let company = &principal.company.id;
    let store = state.store.as_ref();
    let stored = store
        .connector(company, &request.connector)
        .await?
        .ok_or_else(|| {
            invalid(
                "connector",
                format!("no {} connector is set", request.connector),
            )
        })?;
    let connector = settings_of(&stored)?;
    let SummaryState::Ready(summary) = store.summary_state(company, &id).await? else {
        return Err(ApiError::Conflict(format!("session {id} has no summary")));
    };
    let ticket = push_ticket(store, company, &stored.kind, &id, request.ticket).await?;
    match &ticket {
        Some(ticket) => {
            connector
                .ticket(ticket)
                .map_err(|error| invalid("ticket", error.to_string()))?;
        }
        None if connector.when_no_ticket() == WhenNoTicket::Skip => {
            return Err(invalid("ticket", PushError::NoTicket.to_string()));
        }
        None => {}
    }
    let delivery_id = store
        .push_by_hand(
            company,
            &stored.kind,
            json!({"session_id": id, "summary": summary, "ticket": ticket}),
        )
        .await?;
    state
        .deliverer
        .deliver_now(company, delivery_id, state.clock.now())
        .await?;
    let delivery = store.delivery(company, delivery_id).await?;
    match delivery.state.as_str() {
        "delivered" => Ok((StatusCode::OK, Json(delivery))),
        "pending" => Ok((StatusCode::ACCEPTED, Json(delivery))),
        _ => Err(ApiError::Upstream(
            delivery
                .attempts
                .last()
                .and_then(|attempt| attempt.error.clone())
                .unwrap_or_else(|| format!("the push ended {}", delivery.state)),
        )),
    }
}
