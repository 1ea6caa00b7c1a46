//! `/api/v1/connectors/{kind}` (ServiceNow, Salesforce): settings with sealed credentials; and
//! `POST /api/v1/sessions/{id}/summary/push`, which writes a summary into its ticket.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use debrief_core::RecordError;
use debrief_engine::language::Language;
use debrief_export::{render, ExportFormat, ExportedSummary};
use debrief_store::{get_typed, list_typed, put_typed, ObjectKind, SummaryState};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::{need, Permitted};
use crate::error::{ApiError, ApiResult};
use crate::routes::records::json_body;
use crate::AppState;
use debrief_workflows::connectors::{push, Connector, PushError, Pushed};
use debrief_workflows::secrets::SecretBox;

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
    let connectors: Vec<Value> = list_typed::<Connector>(
        state.store.as_ref(),
        &principal.company.id,
        ObjectKind::Connector,
    )
    .await?
    .iter()
    .map(|(_, connector)| connector.shown())
    .collect();
    Ok(Json(json!({ "items": connectors })))
}

/// `PUT /api/v1/connectors/{kind}`: `{"kind": "servicenow", "instance_url", "username",
/// "password"}` or `{"kind": "salesforce", "instance_url", "access_token", "api_version"?}`.
#[utoipa::path(
    put, path = "/api/v1/connectors/{kind}", tag = "connectors", operation_id = "connectors_put_connector",
    params(("kind" = String, Path)),
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission ai.settings.manage"), (status = 422, description = "a field is invalid: details name it")),
    security(("bearer" = []))
)]
pub async fn put_connector(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::AiSettingsManage>,
    Path(kind): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    let connector: Connector = json_body(&body)?;
    if connector.kind() != kind {
        return Err(ApiError::InvalidRecord(RecordError::invalid(
            "kind",
            format!("the path names {kind}"),
        )));
    }
    let lengths = match &connector {
        Connector::Servicenow {
            instance_url,
            username,
            password,
        } => [
            ("instance_url", instance_url),
            ("username", username),
            ("password", password),
        ],
        Connector::Salesforce {
            instance_url,
            access_token,
            api_version,
        } => [
            ("instance_url", instance_url),
            ("access_token", access_token),
            ("api_version", api_version),
        ],
    };
    for (field, value) in lengths {
        debrief_core::error::check_length(field, value, debrief_core::error::MAX_URL_BYTES)
            .map_err(ApiError::InvalidRecord)?;
    }
    let url = reqwest::Url::parse(connector.instance_url()).map_err(|error| {
        ApiError::InvalidRecord(RecordError::invalid(
            "instance_url",
            format!("not a URL: {error}"),
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ApiError::InvalidRecord(RecordError::invalid(
            "instance_url",
            "must be an http or https URL",
        )));
    }
    if url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
        || !url.path().trim_matches('/').is_empty()
    {
        return Err(ApiError::InvalidRecord(RecordError::invalid(
            "instance_url",
            "must be the instance's address alone: no path, query, fragment or credentials",
        )));
    }
    if let Connector::Salesforce { api_version, .. } = &connector {
        if !debrief_workflows::connectors::is_salesforce_version(api_version) {
            return Err(ApiError::InvalidRecord(RecordError::invalid(
                "api_version",
                "must be a version like v59.0",
            )));
        }
    }
    let sealed = connector
        .with_secret(secrets(&state)?, true)
        .map_err(sealing_error)?;
    put_typed(
        state.store.as_ref(),
        &principal.company.id,
        ObjectKind::Connector,
        &kind,
        &sealed,
    )
    .await?;
    Ok(Json(connector.shown()))
}

/// `DELETE /api/v1/connectors/{kind}`.
#[utoipa::path(
    delete, path = "/api/v1/connectors/{kind}", tag = "connectors", operation_id = "connectors_delete_connector",
    params(("kind" = String, Path)),
    responses((status = 204, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission ai.settings.manage")),
    security(("bearer" = []))
)]
pub async fn delete_connector(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::AiSettingsManage>,
    Path(kind): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_object(&principal.company.id, ObjectKind::Connector, &kind)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Body of a push.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    connector: String,
    /// The incident's `sys_id` or the case id; default the session's `ticket`.
    #[serde(default)]
    ticket: Option<String>,
}

/// `POST /api/v1/sessions/{id}/summary/push`: the summary, as the Markdown export writes it in
/// the company's language, into the session's ServiceNow incident (a new one without it) or
/// Salesforce case; 502 with the remote answer when the other system refuses.
#[utoipa::path(
    post, path = "/api/v1/sessions/{id}/summary/push", tag = "connectors", operation_id = "connectors_push_summary",
    params(("id" = String, Path)),
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission insights.export"), (status = 422, description = "a field is invalid: details name it")),
    security(("bearer" = []))
)]
pub async fn push_summary(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::InsightsExport>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Pushed>> {
    let request: PushRequest = json_body(&body)?;
    let company = &principal.company.id;
    let store = state.store.as_ref();
    let stored = get_typed::<Connector>(store, company, ObjectKind::Connector, &request.connector)
        .await?
        .ok_or_else(|| {
            ApiError::InvalidRecord(RecordError::invalid(
                "connector",
                format!("no {} connector is set", request.connector),
            ))
        })?;
    let connector = stored
        .with_secret(secrets(&state)?, false)
        .map_err(sealing_error)?;
    let session = store.get_session(company, &id).await?.session;
    let SummaryState::Ready(summary) = store.summary_state(company, &id).await? else {
        return Err(ApiError::Conflict(format!("session {id} has no summary")));
    };
    let summary = ExportedSummary::from(*summary);
    let settings = crate::routes::governance::ai_settings(&state, company).await?;
    let language = Language::from_code(&settings.insights.language).unwrap_or(Language::English);
    let body = render(
        std::slice::from_ref(&summary),
        ExportFormat::Markdown,
        language,
        None,
    )
    .map_err(|error| ApiError::Internal(error.to_string()))?;
    let ticket = request.ticket.or(session.ticket);
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .map_err(|error| ApiError::Internal(error.to_string()))?;
    push(
        &client,
        &connector,
        ticket.as_deref(),
        &summary.summary.title,
        &String::from_utf8_lossy(&body),
    )
    .await
    .map(Json)
    .map_err(|error| match error {
        PushError::NoCase | PushError::InvalidTicket(_) => {
            ApiError::InvalidRecord(RecordError::invalid("ticket", error.to_string()))
        }
        PushError::Remote { .. } => ApiError::Upstream(error.to_string()),
    })
}
