//! The files a company sets to shape its summaries: `/api/v1/taxonomy` (its issue types,
//! FORMATS.md section 5, instead of the built-in IT taxonomy) and `/api/v1/applications`
//! (its own applications, added to the built-in catalogue). Each is read by any caller,
//! replaced or removed by an admin, and used by summaries written from then on.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use debrief_core::RecordError;
use debrief_engine::applications::{AppCatalogue, CompanyApplications};
use debrief_engine::classify::Taxonomy;
use debrief_store::{ObjectKind, SINGLETON};
use serde_json::{json, Value};

use crate::auth::{need, Permitted};
use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// The company's stored file of `kind` as JSON, if it set one.
async fn stored(
    state: &AppState,
    caller: &Permitted<need::InsightsView>,
    kind: ObjectKind,
) -> ApiResult<Option<Value>> {
    let Some(text) = state
        .store
        .get_object(&caller.0.company.id, kind, SINGLETON)
        .await?
    else {
        return Ok(None);
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|error| ApiError::Internal(format!("stored {} file: {error}", kind.as_str())))
}

/// Checks `body` with `check` and stores it as the company's file of `kind`.
async fn replace(
    state: &AppState,
    caller: &Permitted<need::AiSettingsManage>,
    kind: ObjectKind,
    body: &[u8],
    check: impl FnOnce(&str) -> Result<(), RecordError>,
) -> ApiResult<StatusCode> {
    let text = std::str::from_utf8(body).map_err(|_| {
        ApiError::BadRequest(format!("the {} file is not UTF-8 text", kind.as_str()))
    })?;
    // One JSON object, nothing after it, no NUL: then the file's own rules.
    crate::routes::records::json_body::<serde_json::Map<String, Value>>(body)?;
    check(text).map_err(ApiError::InvalidRecord)?;
    state
        .store
        .put_object(&caller.0.company.id, kind, SINGLETON, text)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes the company's file of `kind`: back to the built-in one.
async fn remove(
    state: &AppState,
    caller: &Permitted<need::AiSettingsManage>,
    kind: ObjectKind,
) -> ApiResult<StatusCode> {
    match state
        .store
        .delete_object(&caller.0.company.id, kind, SINGLETON)
        .await
    {
        Ok(()) | Err(debrief_store::StoreError::NotFound) => Ok(StatusCode::NO_CONTENT),
        Err(error) => Err(error.into()),
    }
}

/// `GET /api/v1/taxonomy`: `{"source": "company" | "builtin", "issue_types": […]}`.
#[utoipa::path(
    get, path = "/api/v1/taxonomy", tag = "company_files", operation_id = "company_files_get_taxonomy",
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission insights.view")),
    security(("bearer" = []))
)]
pub async fn get_taxonomy(
    State(state): State<AppState>,
    caller: Permitted<need::InsightsView>,
) -> ApiResult<Json<Value>> {
    let (source, issue_types) = match stored(&state, &caller, ObjectKind::Taxonomy).await? {
        Some(taxonomy) => ("company", taxonomy["issue_types"].clone()),
        None => (
            "builtin",
            serde_json::to_value(Taxonomy::builtin().issue_types)
                .map_err(|error| ApiError::Internal(format!("built-in taxonomy: {error}")))?,
        ),
    };
    Ok(Json(json!({"source": source, "issue_types": issue_types})))
}

/// `PUT /api/v1/taxonomy`: replaces the company's taxonomy.
#[utoipa::path(
    put, path = "/api/v1/taxonomy", tag = "company_files", operation_id = "company_files_put_taxonomy",
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission ai.settings.manage"), (status = 422, description = "a field is invalid: details name it")),
    security(("bearer" = []))
)]
pub async fn put_taxonomy(
    State(state): State<AppState>,
    caller: Permitted<need::AiSettingsManage>,
    body: axum::body::Bytes,
) -> ApiResult<StatusCode> {
    replace(&state, &caller, ObjectKind::Taxonomy, &body, |text| {
        let taxonomy = Taxonomy::parse_json(text)
            .map_err(|error| RecordError::invalid("issue_types", error.to_string()))?;
        for (index, issue_type) in taxonomy.issue_types.iter().enumerate() {
            debrief_core::error::check_id(&format!("issue_types[{index}].id"), &issue_type.id)?;
        }
        Ok(())
    })
    .await
}

/// `DELETE /api/v1/taxonomy`: back to the built-in taxonomy.
#[utoipa::path(
    delete, path = "/api/v1/taxonomy", tag = "company_files", operation_id = "company_files_delete_taxonomy",
    responses((status = 204, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission ai.settings.manage")),
    security(("bearer" = []))
)]
pub async fn delete_taxonomy(
    State(state): State<AppState>,
    caller: Permitted<need::AiSettingsManage>,
) -> ApiResult<StatusCode> {
    remove(&state, &caller, ObjectKind::Taxonomy).await
}

/// `GET /api/v1/applications`: the company's own applications and the size of the built-in
/// catalogue they are added to: `{"builtin_applications": 252, "applications": […]}`.
#[utoipa::path(
    get, path = "/api/v1/applications", tag = "company_files", operation_id = "company_files_get_applications",
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission insights.view")),
    security(("bearer" = []))
)]
pub async fn get_applications(
    State(state): State<AppState>,
    caller: Permitted<need::InsightsView>,
) -> ApiResult<Json<Value>> {
    let applications = stored(&state, &caller, ObjectKind::Applications)
        .await?
        .map_or_else(|| json!([]), |file| file["applications"].clone());
    Ok(Json(json!({
        "builtin_applications": AppCatalogue::builtin().len(),
        "applications": applications,
    })))
}

/// `PUT /api/v1/applications`: replaces the company's own applications
/// (`{"applications": [{"name": "Acme CRM", "aliases": ["acme-crm.exe"]}]}`).
#[utoipa::path(
    put, path = "/api/v1/applications", tag = "company_files", operation_id = "company_files_put_applications",
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission ai.settings.manage"), (status = 422, description = "a field is invalid: details name it")),
    security(("bearer" = []))
)]
pub async fn put_applications(
    State(state): State<AppState>,
    caller: Permitted<need::AiSettingsManage>,
    body: axum::body::Bytes,
) -> ApiResult<StatusCode> {
    replace(&state, &caller, ObjectKind::Applications, &body, |text| {
        CompanyApplications::parse_json(text).map(drop)
    })
    .await
}

/// `DELETE /api/v1/applications`: only the built-in catalogue again.
#[utoipa::path(
    delete, path = "/api/v1/applications", tag = "company_files", operation_id = "company_files_delete_applications",
    responses((status = 204, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission ai.settings.manage")),
    security(("bearer" = []))
)]
pub async fn delete_applications(
    State(state): State<AppState>,
    caller: Permitted<need::AiSettingsManage>,
) -> ApiResult<StatusCode> {
    remove(&state, &caller, ObjectKind::Applications).await
}
