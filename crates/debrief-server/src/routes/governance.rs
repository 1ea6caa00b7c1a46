//! Who gets a summary: `/api/v1/settings/ai`, `/api/v1/modules`, `/api/v1/devices`,
//! `/api/v1/policies`, a session's consent answer and a device user's own opt-out.
//! Every change that eligibility reads puts the company's non-final skipped sessions back in
//! the summary queue (the store does it in the same transaction).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use debrief_core::governance::{AiSettings, Device, Module, Policy};
use debrief_core::RecordError;
use debrief_engine::language::Language;
use debrief_llm::configure::EngineSettings;
use debrief_store::{
    get_typed, list_typed, put_typed, CompanyId, ConsentChange, ObjectKind, StoreError, SINGLETON,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::auth::{need, Permitted};
use crate::error::{ApiError, ApiResult};
use crate::routes::records::json_body;
use crate::AppState;

/// Longest id of a module, device or policy.
const MAX_ID_LEN: usize = 200;

/// The company's AI settings (all off when it never set them).
pub async fn ai_settings(state: &AppState, company: &CompanyId) -> ApiResult<AiSettings> {
    Ok(get_typed::<AiSettings>(
        state.store.as_ref(),
        company,
        ObjectKind::AiSettings,
        SINGLETON,
    )
    .await?
    .unwrap_or_default())
}

/// `GET /api/v1/settings/ai`.
#[utoipa::path(
    get, path = "/api/v1/settings/ai", tag = "governance", operation_id = "governance_get_ai_settings",
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission insights.view")),
    security(("bearer" = []))
)]
pub async fn get_ai_settings(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::InsightsView>,
) -> ApiResult<Json<AiSettings>> {
    Ok(Json(ai_settings(&state, &principal.company.id).await?))
}

/// `PUT /api/v1/settings/ai`: replaces the settings (a missing part is off).
#[utoipa::path(
    put, path = "/api/v1/settings/ai", tag = "governance", operation_id = "governance_put_ai_settings",
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission ai.settings.manage"), (status = 422, description = "a field is invalid: details name it")),
    security(("bearer" = []))
)]
pub async fn put_ai_settings(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::AiSettingsManage>,
    body: axum::body::Bytes,
) -> ApiResult<Json<AiSettings>> {
    let settings: AiSettings = json_body(&body)?;
    if Language::from_code(&settings.insights.language).is_none() {
        return Err(ApiError::InvalidRecord(RecordError::invalid(
            "insights.language",
            format!(
                "unknown language {:?}; expected en, pt-BR, es, de or fr",
                settings.insights.language
            ),
        )));
    }
    put_typed(
        state.store.as_ref(),
        &principal.company.id,
        ObjectKind::AiSettings,
        SINGLETON,
        &settings,
    )
    .await?;
    Ok(Json(settings))
}

/// The engine settings as the API shows them, with the engines this server can run.
fn engine_answer(state: &AppState, settings: &EngineSettings) -> Value {
    json!({"settings": settings, "available": state.llm.available()})
}

/// `GET /api/v1/settings/engine`: which engine writes the company's summaries, which judge
/// answers its resolution check, the model and the limits; and the engines available.
#[utoipa::path(
    get, path = "/api/v1/settings/engine", tag = "governance", operation_id = "governance_get_engine_settings",
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission insights.view")),
    security(("bearer" = []))
)]
pub async fn get_engine_settings(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::InsightsView>,
) -> ApiResult<Json<Value>> {
    let settings =
        debrief_workflows::engines::engine_settings(state.store.as_ref(), &principal.company.id)
            .await?;
    Ok(Json(engine_answer(&state, &settings)))
}

/// `PUT /api/v1/settings/engine`: replaces the engine settings; an engine or model this
/// server cannot run is refused (422 naming the field).
#[utoipa::path(
    put, path = "/api/v1/settings/engine", tag = "governance", operation_id = "governance_put_engine_settings",
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission ai.settings.manage"), (status = 422, description = "a field is invalid: details name it")),
    security(("bearer" = []))
)]
pub async fn put_engine_settings(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::AiSettingsManage>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    let settings: EngineSettings = json_body(&body)?;
    if let Some(model) = &settings.model {
        debrief_core::error::check_length("model", model, debrief_core::error::MAX_ID_BYTES)
            .map_err(ApiError::InvalidRecord)?;
    }
    settings.check(&state.llm).map_err(|(field, problem)| {
        ApiError::InvalidRecord(RecordError::invalid(field, problem))
    })?;
    put_typed(
        state.store.as_ref(),
        &principal.company.id,
        ObjectKind::EngineSettings,
        SINGLETON,
        &settings,
    )
    .await?;
    Ok(Json(engine_answer(&state, &settings)))
}

/// An object of a kind as the API shows it: its id and fields.
#[derive(Serialize)]
struct Listed<T> {
    id: String,
    #[serde(flatten)]
    object: T,
}

fn check_id(id: &str) -> ApiResult<()> {
    if id.trim().is_empty() || id.len() > MAX_ID_LEN {
        return Err(ApiError::InvalidRecord(RecordError::invalid(
            "id",
            format!("must be 1 to {MAX_ID_LEN} bytes"),
        )));
    }
    Ok(())
}

async fn list_kind<T: DeserializeOwned + Serialize>(
    state: &AppState,
    company: &CompanyId,
    kind: ObjectKind,
) -> ApiResult<Json<Value>> {
    let objects: Vec<Listed<T>> = list_typed::<T>(state.store.as_ref(), company, kind)
        .await?
        .into_iter()
        .map(|(id, object)| Listed { id, object })
        .collect();
    Ok(Json(json!({ "items": objects })))
}

async fn get_kind<T: DeserializeOwned + Serialize>(
    state: &AppState,
    company: &CompanyId,
    kind: ObjectKind,
    id: String,
) -> ApiResult<Json<Value>> {
    let object = get_typed::<T>(state.store.as_ref(), company, kind, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(json!(Listed { id, object })))
}

async fn put_kind<T: Serialize + Sync>(
    state: &AppState,
    company: &CompanyId,
    kind: ObjectKind,
    id: String,
    object: T,
) -> ApiResult<Json<Value>> {
    check_id(&id)?;
    put_typed(state.store.as_ref(), company, kind, &id, &object).await?;
    Ok(Json(json!(Listed { id, object })))
}

async fn delete_kind(
    state: &AppState,
    company: &CompanyId,
    kind: ObjectKind,
    id: &str,
) -> ApiResult<StatusCode> {
    state.store.delete_object(company, kind, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/modules`.
#[utoipa::path(
    get, path = "/api/v1/modules", tag = "governance", operation_id = "governance_list_modules",
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission insights.view")),
    security(("bearer" = []))
)]
pub async fn list_modules(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::InsightsView>,
) -> ApiResult<Json<Value>> {
    list_kind::<Module>(&state, &principal.company.id, ObjectKind::Module).await
}

/// `GET /api/v1/modules/{id}`.
#[utoipa::path(
    get, path = "/api/v1/modules/{id}", tag = "governance", operation_id = "governance_get_module",
    params(("id" = String, Path)),
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission insights.view")),
    security(("bearer" = []))
)]
pub async fn get_module(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::InsightsView>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    get_kind::<Module>(&state, &principal.company.id, ObjectKind::Module, id).await
}

/// `PUT /api/v1/modules/{id}`: creates or replaces a support module.
#[utoipa::path(
    put, path = "/api/v1/modules/{id}", tag = "governance", operation_id = "governance_put_module",
    params(("id" = String, Path)),
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission ai.settings.manage"), (status = 422, description = "a field is invalid: details name it")),
    security(("bearer" = []))
)]
pub async fn put_module(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::AiSettingsManage>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    let module: Module = json_body(&body)?;
    put_kind(
        &state,
        &principal.company.id,
        ObjectKind::Module,
        id,
        module,
    )
    .await
}

/// `DELETE /api/v1/modules/{id}`.
#[utoipa::path(
    delete, path = "/api/v1/modules/{id}", tag = "governance", operation_id = "governance_delete_module",
    params(("id" = String, Path)),
    responses((status = 204, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission ai.settings.manage")),
    security(("bearer" = []))
)]
pub async fn delete_module(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::AiSettingsManage>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    delete_kind(&state, &principal.company.id, ObjectKind::Module, &id).await
}

/// `GET /api/v1/devices`.
#[utoipa::path(
    get, path = "/api/v1/devices", tag = "governance", operation_id = "governance_list_devices",
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission insights.view")),
    security(("bearer" = []))
)]
pub async fn list_devices(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::InsightsView>,
) -> ApiResult<Json<Value>> {
    list_kind::<Device>(&state, &principal.company.id, ObjectKind::Device).await
}

/// `GET /api/v1/devices/{id}`.
#[utoipa::path(
    get, path = "/api/v1/devices/{id}", tag = "governance", operation_id = "governance_get_device",
    params(("id" = String, Path)),
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission insights.view")),
    security(("bearer" = []))
)]
pub async fn get_device(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::InsightsView>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    get_kind::<Device>(&state, &principal.company.id, ObjectKind::Device, id).await
}

/// `PUT /api/v1/devices/{id}`: creates or replaces a device. A policy can only be assigned to
/// a managed device, and must exist.
#[utoipa::path(
    put, path = "/api/v1/devices/{id}", tag = "governance", operation_id = "governance_put_device",
    params(("id" = String, Path)),
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission policies.manage"), (status = 422, description = "a field is invalid: details name it")),
    security(("bearer" = []))
)]
pub async fn put_device(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::PoliciesManage>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    let device: Device = json_body(&body)?;
    if let Some(policy) = &device.policy {
        if !device.managed {
            return Err(ApiError::InvalidRecord(RecordError::invalid(
                "policy",
                format!(
                    "device {id} is not managed: policies can only be assigned to managed devices"
                ),
            )));
        }
        let known = state
            .store
            .get_object(&principal.company.id, ObjectKind::Policy, policy)
            .await?
            .is_some();
        if !known {
            return Err(ApiError::InvalidRecord(RecordError::invalid(
                "policy",
                format!("no policy {policy} in the company"),
            )));
        }
    }
    put_kind(
        &state,
        &principal.company.id,
        ObjectKind::Device,
        id,
        device,
    )
    .await
}

/// `DELETE /api/v1/devices/{id}`.
#[utoipa::path(
    delete, path = "/api/v1/devices/{id}", tag = "governance", operation_id = "governance_delete_device",
    params(("id" = String, Path)),
    responses((status = 204, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission policies.manage")),
    security(("bearer" = []))
)]
pub async fn delete_device(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::PoliciesManage>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    delete_kind(&state, &principal.company.id, ObjectKind::Device, &id).await
}

/// Body of `PUT /api/v1/devices/{id}/insights-opt-out`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptOutRequest {
    opted_out: bool,
}

/// `PUT /api/v1/devices/{id}/insights-opt-out`: the device side (its agent, with an ingest
/// token) records that its user turned session insights off or on. Refused with 403 when the
/// device's policy is enforced.
#[utoipa::path(
    put, path = "/api/v1/devices/{id}/insights-opt-out", tag = "governance", operation_id = "governance_put_device_opt_out",
    params(("id" = String, Path)),
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission sessions.ingest"), (status = 422, description = "a field is invalid: details name it")),
    security(("bearer" = []))
)]
pub async fn put_device_opt_out(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::SessionsIngest>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    let request: OptOutRequest = json_body(&body)?;
    let company = &principal.company.id;
    let mut device = get_typed::<Device>(state.store.as_ref(), company, ObjectKind::Device, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if let Some(policy_id) = &device.policy {
        let policy =
            get_typed::<Policy>(state.store.as_ref(), company, ObjectKind::Policy, policy_id)
                .await?;
        if policy.is_some_and(|policy| policy.enforced) {
            return Err(ApiError::Forbidden(format!(
                "policy {policy_id} is enforced: its settings cannot be changed on device {id}"
            )));
        }
    }
    device.user_opted_out = request.opted_out;
    put_kind(&state, company, ObjectKind::Device, id, device).await
}

/// `GET /api/v1/policies`.
#[utoipa::path(
    get, path = "/api/v1/policies", tag = "governance", operation_id = "governance_list_policies",
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission insights.view")),
    security(("bearer" = []))
)]
pub async fn list_policies(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::InsightsView>,
) -> ApiResult<Json<Value>> {
    list_kind::<Policy>(&state, &principal.company.id, ObjectKind::Policy).await
}

/// `GET /api/v1/policies/{id}`.
#[utoipa::path(
    get, path = "/api/v1/policies/{id}", tag = "governance", operation_id = "governance_get_policy",
    params(("id" = String, Path)),
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission insights.view")),
    security(("bearer" = []))
)]
pub async fn get_policy(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::InsightsView>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    get_kind::<Policy>(&state, &principal.company.id, ObjectKind::Policy, id).await
}

/// `PUT /api/v1/policies/{id}`: creates or replaces a policy.
#[utoipa::path(
    put, path = "/api/v1/policies/{id}", tag = "governance", operation_id = "governance_put_policy",
    params(("id" = String, Path)),
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission policies.manage"), (status = 422, description = "a field is invalid: details name it")),
    security(("bearer" = []))
)]
pub async fn put_policy(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::PoliciesManage>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    let policy: Policy = json_body(&body)?;
    put_kind(
        &state,
        &principal.company.id,
        ObjectKind::Policy,
        id,
        policy,
    )
    .await
}

/// `DELETE /api/v1/policies/{id}`: 409 while a device has it.
#[utoipa::path(
    delete, path = "/api/v1/policies/{id}", tag = "governance", operation_id = "governance_delete_policy",
    params(("id" = String, Path)),
    responses((status = 204, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission policies.manage")),
    security(("bearer" = []))
)]
pub async fn delete_policy(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::PoliciesManage>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let company = &principal.company.id;
    let devices = list_typed::<Device>(state.store.as_ref(), company, ObjectKind::Device).await?;
    if let Some((device, _)) = devices
        .iter()
        .find(|(_, device)| device.policy.as_deref() == Some(id.as_str()))
    {
        return Err(ApiError::Conflict(format!(
            "policy {id} is assigned to device {device}"
        )));
    }
    delete_kind(&state, company, ObjectKind::Policy, &id).await
}

/// Body of `POST /api/v1/sessions/{id}/consent`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentRequest {
    consent: ConsentAnswerRequest,
}

/// A remote user's answer.
#[derive(Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum ConsentAnswerRequest {
    Allowed,
    Denied,
}

/// `POST /api/v1/sessions/{id}/consent`: the remote user's answer to the consent question,
/// when it arrives after the session. `denied` is final; an answer given once cannot change
/// (409), and a device that does not ask has nothing to answer (409).
#[utoipa::path(
    post, path = "/api/v1/sessions/{id}/consent", tag = "governance", operation_id = "governance_post_consent",
    params(("id" = String, Path)),
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission sessions.ingest"), (status = 422, description = "a field is invalid: details name it")),
    security(("bearer" = []))
)]
pub async fn post_consent(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::SessionsIngest>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    let request: ConsentRequest = json_body(&body)?;
    let allowed = request.consent == ConsentAnswerRequest::Allowed;
    match state
        .store
        .record_consent(&principal.company.id, &id, allowed)
        .await
    {
        Ok(ConsentChange::Recorded) => Ok(Json(
            json!({"id": id, "consent": if allowed { "allowed" } else { "denied" }}),
        )),
        Ok(ConsentChange::AlreadyAnswered(answer)) => Err(ApiError::Conflict(format!(
            "the remote user already answered {}",
            answer.as_str()
        ))),
        Ok(ConsentChange::NotAsked(mode)) => Err(ApiError::Conflict(format!(
            "the device's consent mode is {}: the remote user is not asked",
            mode.as_str()
        ))),
        Err(StoreError::NotFound) => Err(ApiError::NotFound),
        Err(error) => Err(error.into()),
    }
}
