//! `/api/v1/webhooks`: a company registers endpoints for events, lists each endpoint's
//! deliveries with their attempts, and sends a delivery again by hand. Signing and retries are
//! described in `debrief_workflows::webhooks`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use debrief_core::RecordError;
use debrief_store::{Webhook, WEBHOOK_EVENTS};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::{need, Permitted};
use crate::error::{ApiError, ApiResult};
use crate::routes::records::json_body;
use crate::AppState;

/// Shortest secret a company may choose.
const MIN_SECRET_CHARS: usize = 16;

/// Body of `POST /api/v1/webhooks`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    url: String,
    events: Vec<String>,
    /// The signing secret; one is generated (and shown once) when absent.
    #[serde(default)]
    secret: Option<String>,
}

/// `GET /api/v1/webhooks`.
#[utoipa::path(
    get, path = "/api/v1/webhooks", tag = "webhooks", operation_id = "webhooks_list_webhooks",
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission ai.settings.manage")),
    security(("bearer" = []))
)]
pub async fn list_webhooks(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::AiSettingsManage>,
) -> ApiResult<Json<Value>> {
    let webhooks = state.store.list_webhooks(&principal.company.id).await?;
    Ok(Json(json!({ "items": webhooks })))
}

/// `POST /api/v1/webhooks`: `{"url", "events": [...], "secret"?}` → the endpoint and its
/// secret (shown in this answer only).
#[utoipa::path(
    post, path = "/api/v1/webhooks", tag = "webhooks", operation_id = "webhooks_create_webhook",
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission ai.settings.manage"), (status = 422, description = "a field is invalid: details name it")),
    security(("bearer" = []))
)]
pub async fn create_webhook(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::AiSettingsManage>,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let request: NewWebhook = json_body(&body)?;
    debrief_core::error::check_length("url", &request.url, debrief_core::error::MAX_URL_BYTES)
        .map_err(ApiError::InvalidRecord)?;
    if let Some(secret) = &request.secret {
        debrief_core::error::check_length("secret", secret, debrief_core::error::MAX_ID_BYTES)
            .map_err(ApiError::InvalidRecord)?;
    }
    let url = reqwest::Url::parse(&request.url).map_err(|error| {
        ApiError::InvalidRecord(RecordError::invalid("url", format!("not a URL: {error}")))
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ApiError::InvalidRecord(RecordError::invalid(
            "url",
            "must be an http or https URL",
        )));
    }
    if let Some(reason) = debrief_workflows::outbound::refusal(&url, state.deliverer.reach) {
        return Err(ApiError::InvalidRecord(RecordError::invalid("url", reason)));
    }
    if request.events.is_empty() {
        return Err(ApiError::InvalidRecord(RecordError::invalid(
            "events",
            format!("name at least one of {}", WEBHOOK_EVENTS.join(", ")),
        )));
    }
    if let Some(index) = request
        .events
        .iter()
        .position(|event| !WEBHOOK_EVENTS.contains(&event.as_str()))
    {
        return Err(ApiError::InvalidRecord(RecordError::invalid(
            format!("events[{index}]"),
            format!(
                "unknown event; expected one of {}",
                WEBHOOK_EVENTS.join(", ")
            ),
        )));
    }
    let secret = match request.secret {
        Some(secret) if secret.chars().count() < MIN_SECRET_CHARS => {
            return Err(ApiError::InvalidRecord(RecordError::invalid(
                "secret",
                format!("at least {MIN_SECRET_CHARS} characters"),
            )))
        }
        Some(secret) => secret,
        None => {
            let mut bytes = [0u8; 24];
            getrandom::fill(&mut bytes)
                .map_err(|error| ApiError::Internal(format!("no random source: {error}")))?;
            format!("whsec_{}", hex::encode(bytes))
        }
    };
    let webhook: Webhook = state
        .store
        .create_webhook(
            &principal.company.id,
            url.as_str(),
            &secret,
            &request.events,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"webhook": webhook, "secret": secret})),
    ))
}

/// `DELETE /api/v1/webhooks/{id}`: the endpoint and its pending deliveries.
#[utoipa::path(
    delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", operation_id = "webhooks_delete_webhook",
    params(("id" = String, Path)),
    responses((status = 204, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission ai.settings.manage")),
    security(("bearer" = []))
)]
pub async fn delete_webhook(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::AiSettingsManage>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_webhook(&principal.company.id, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/webhooks/{id}/deliveries`: the newest 100, with their attempts.
#[utoipa::path(
    get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks", operation_id = "webhooks_list_deliveries",
    params(("id" = String, Path)),
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission ai.settings.manage")),
    security(("bearer" = []))
)]
pub async fn list_deliveries(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::AiSettingsManage>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let deliveries = state
        .store
        .webhook_deliveries(&principal.company.id, &id, 100)
        .await?;
    Ok(Json(json!({ "items": deliveries })))
}

/// `POST /api/v1/webhooks/deliveries/{id}/redeliver`: send again now (another 24 hours of
/// retries).
#[utoipa::path(
    post, path = "/api/v1/webhooks/deliveries/{id}/redeliver", tag = "webhooks", operation_id = "webhooks_redeliver",
    params(("id" = String, Path)),
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission ai.settings.manage"), (status = 422, description = "a field is invalid: details name it")),
    security(("bearer" = []))
)]
pub async fn redeliver(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::AiSettingsManage>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    // Delivery ids are numbers: anything else names no delivery.
    let id: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
    state
        .store
        .redeliver(&principal.company.id, id, "webhook", None)
        .await?;
    Ok(StatusCode::ACCEPTED)
}
