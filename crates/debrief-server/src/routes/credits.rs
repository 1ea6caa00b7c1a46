//! `/api/v1/credits`: the balance by source and expiry with this month's use, the ledger
//! (JSON pages or CSV), add-on purchases with their prorated price, the company's credit
//! settings and alerts; and `POST /api/v1/sessions/{id}/ai-actions`, which charges a session's
//! one credit at its first AI action.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use debrief_core::credits::{CreditMonth, CreditSettings};
use debrief_core::governance::SkipReason;
use debrief_core::RecordError;
use debrief_store::Consumption;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::{need, Permitted};
use crate::error::{ApiError, ApiResult};
use crate::routes::records::{json_body, no_body};
use crate::AppState;
use debrief_workflows::credits::{charge, open_months, purchase_addon, settings, zone_of};

/// Largest ledger page.
const MAX_LEDGER_PAGE: u32 = 1_000;

/// Most add-on packs in one purchase.
const MAX_PACKS: i64 = 1_000;

/// `GET /api/v1/credits`: the balance now, what each grant holds and until when, debt,
/// renewing packs and this month's use.
#[utoipa::path(
    get, path = "/api/v1/credits", tag = "credits", operation_id = "credits_get_credits",
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission usage.view")),
    security(("bearer" = []))
)]
pub async fn get_credits(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::UsageView>,
) -> ApiResult<Json<Value>> {
    let now = state.clock.now();
    let store = state.store.as_ref();
    let settings = open_months(store, &principal.company, now).await?;
    let balance = store.credit_balance(&principal.company.id, now).await?;
    let month = CreditMonth::containing(zone_of(&principal.company), now);
    let (consumed, refused) = store
        .credit_month_usage(&principal.company.id, &month.key())
        .await?;
    Ok(Json(json!({
        "balance": balance.balance,
        "debt": balance.debt,
        "by_grant": balance.parts,
        "renewing_packs": balance.renewing_packs,
        "month": {"month": month.key(), "consumed": consumed, "refused": refused},
        "settings": settings,
    })))
}

/// Query of `GET /api/v1/credits/ledger`.
#[derive(Deserialize)]
pub struct LedgerQuery {
    after: Option<i64>,
    limit: Option<u32>,
    format: Option<String>,
    /// `newest`: the last `limit` entries, newest first (no paging).
    order: Option<String>,
}

/// `GET /api/v1/credits/ledger?after=SEQ&limit=N[&format=csv]`: entries oldest first; a page
/// answers `next_after` while more follow. `?order=newest&limit=N`: the newest N, newest first.
#[utoipa::path(
    get, path = "/api/v1/credits/ledger", tag = "credits", operation_id = "credits_get_ledger",
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission usage.view")),
    security(("bearer" = []))
)]
pub async fn get_ledger(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::UsageView>,
    Query(query): Query<LedgerQuery>,
) -> ApiResult<Response> {
    let limit = query.limit.unwrap_or(100).clamp(1, MAX_LEDGER_PAGE);
    let newest = match query.order.as_deref() {
        None | Some("oldest") => false,
        Some("newest") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "order: {other:?} is neither oldest nor newest"
            )))
        }
    };
    let entries = if newest {
        state
            .store
            .latest_credit_ledger(&principal.company.id, limit)
            .await?
    } else {
        state
            .store
            .credit_ledger(&principal.company.id, query.after, limit)
            .await?
    };
    if query.format.as_deref() == Some("csv") {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let csv_error = |error: csv::Error| ApiError::Internal(format!("ledger csv: {error}"));
        writer
            .write_record([
                "seq",
                "at",
                "kind",
                "amount",
                "source",
                "session_id",
                "valid_until",
                "reason",
            ])
            .map_err(csv_error)?;
        for entry in &entries {
            writer
                .write_record([
                    entry.seq.to_string(),
                    entry.at.to_rfc3339(),
                    entry.kind.clone(),
                    entry.amount.to_string(),
                    entry.source.clone(),
                    entry.session_id.clone().unwrap_or_default(),
                    entry
                        .valid_until
                        .map(|at| at.to_rfc3339())
                        .unwrap_or_default(),
                    entry.reason.clone(),
                ])
                .map_err(csv_error)?;
        }
        let body = writer
            .into_inner()
            .map_err(|error| ApiError::Internal(format!("ledger csv: {error}")))?;
        return Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response());
    }
    let next_after = (!newest && entries.len() == limit as usize)
        .then(|| entries.last().map(|entry| entry.seq))
        .flatten();
    Ok(Json(json!({"items": entries, "next_after": next_after})).into_response())
}

/// Body of `POST /api/v1/credits/purchases`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurchaseRequest {
    #[serde(default = "one")]
    packs: i64,
    /// The same key twice is one purchase.
    #[serde(default)]
    idempotency_key: Option<String>,
}

fn one() -> i64 {
    1
}

/// `POST /api/v1/credits/purchases`: add-on packs bought now — the full annual credits, valid
/// until the license renewal, at a price prorated to the days left (the computation is in the
/// answer). The packs renew at each term start until cancelled.
#[utoipa::path(
    post, path = "/api/v1/credits/purchases", tag = "credits", operation_id = "credits_post_purchase",
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission billing.manage"), (status = 422, description = "a field is invalid: details name it")),
    security(("bearer" = []))
)]
pub async fn post_purchase(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::BillingManage>,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let request: PurchaseRequest = json_body(&body)?;
    if !(1..=MAX_PACKS).contains(&request.packs) {
        return Err(ApiError::InvalidRecord(RecordError::invalid(
            "packs",
            format!("must be 1 to {MAX_PACKS}"),
        )));
    }
    if let Some(key) = &request.idempotency_key {
        debrief_core::error::check_id("idempotency_key", key).map_err(ApiError::InvalidRecord)?;
    }
    let (granted, purchase) = purchase_addon(
        state.store.as_ref(),
        &principal.company,
        request.packs,
        state.clock.now(),
        request.idempotency_key,
    )
    .await?;
    let status = if granted {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(
            json!({"credits": purchase.credits, "valid_until": purchase.valid_until, "proration": purchase.proration, "new": granted}),
        ),
    ))
}

/// `POST /api/v1/credits/cancel-renewal`: the packs held now do not renew at the next term
/// start (their credits stay valid until then).
#[utoipa::path(
    post, path = "/api/v1/credits/cancel-renewal", tag = "credits", operation_id = "credits_post_cancel_renewal",
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission billing.manage"), (status = 422, description = "a field is invalid: details name it")),
    security(("bearer" = []))
)]
pub async fn post_cancel_renewal(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::BillingManage>,
    body: axum::body::Bytes,
) -> ApiResult<StatusCode> {
    no_body(&body)?;
    state
        .store
        .cancel_addon_renewal(&principal.company.id, state.clock.now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/credits/settings`.
#[utoipa::path(
    get, path = "/api/v1/credits/settings", tag = "credits", operation_id = "credits_get_settings",
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission usage.view")),
    security(("bearer" = []))
)]
pub async fn get_settings(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::UsageView>,
) -> ApiResult<Json<CreditSettings>> {
    Ok(Json(
        settings(state.store.as_ref(), &principal.company).await?,
    ))
}

/// `PUT /api/v1/credits/settings`: the add-on pack (`credits`, `annual_price`), the
/// out-of-credits rule (`{"mode": "stop"}` or `{"mode": "allow_negative", "limit": N}`) and the
/// alert thresholds, from now on: each change is recorded in the billing timeline, so purchases
/// and debt already made keep their price. `free_monthly_credits` is the operator's: a value
/// other than the present one is a 403 naming it.
#[utoipa::path(
    put, path = "/api/v1/credits/settings", tag = "credits", operation_id = "credits_put_settings",
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission billing.manage"), (status = 422, description = "a field is invalid: details name it")),
    security(("bearer" = []))
)]
pub async fn put_settings(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::BillingManage>,
    body: axum::body::Bytes,
) -> ApiResult<Json<CreditSettings>> {
    let mut settings: CreditSettings = json_body(&body)?;
    let current =
        debrief_workflows::credits::settings(state.store.as_ref(), &principal.company).await?;
    let names_free_credits = serde_json::from_slice::<Value>(&body)
        .is_ok_and(|fields| fields.get("free_monthly_credits").is_some());
    if !names_free_credits {
        settings.free_monthly_credits = current.free_monthly_credits;
    } else if settings.free_monthly_credits != current.free_monthly_credits {
        return Err(ApiError::Forbidden(
            "free_monthly_credits is set by the operator (debrief admin set-credits), not by the company"
                .into(),
        ));
    }
    if settings.addon.credits < 1 {
        return Err(ApiError::InvalidRecord(RecordError::invalid(
            "addon.credits",
            "must be at least 1",
        )));
    }
    if let debrief_core::credits::OutOfCreditsSettings::AllowNegative { limit } =
        settings.out_of_credits
    {
        if limit < 0 {
            return Err(ApiError::InvalidRecord(RecordError::invalid(
                "out_of_credits.limit",
                "must not be negative",
            )));
        }
    }
    if settings.free_monthly_credits.is_some_and(|free| free < 0) {
        return Err(ApiError::InvalidRecord(RecordError::invalid(
            "free_monthly_credits",
            "must not be negative",
        )));
    }
    if let Some(position) = settings
        .alert_thresholds
        .iter()
        .position(|threshold| *threshold > 100)
    {
        return Err(ApiError::InvalidRecord(RecordError::invalid(
            format!("alert_thresholds[{position}]"),
            "a percentage from 0 to 100",
        )));
    }
    debrief_workflows::credits::change_settings(
        state.store.as_ref(),
        &principal.company,
        &current,
        &settings,
        state.clock.now(),
    )
    .await?;
    Ok(Json(settings))
}

/// `GET /api/v1/credits/alerts`: threshold alerts, once per threshold and month.
#[utoipa::path(
    get, path = "/api/v1/credits/alerts", tag = "credits", operation_id = "credits_get_alerts",
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission usage.view")),
    security(("bearer" = []))
)]
pub async fn get_alerts(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::UsageView>,
) -> ApiResult<Json<Value>> {
    let alerts = state.store.credit_alerts(&principal.company.id).await?;
    Ok(Json(json!({ "items": alerts })))
}

/// `POST /api/v1/sessions/{id}/ai-actions`: an AI action in a session (a message to the
/// in-session assistant, a regeneration): the first one charges the session's credit, later
/// ones are free. With no credit left under `stop`, a 409 says so.
#[utoipa::path(
    post, path = "/api/v1/sessions/{id}/ai-actions", tag = "credits", operation_id = "credits_post_ai_action",
    params(("id" = String, Path)),
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission insights.generate"), (status = 422, description = "a field is invalid: details name it")),
    security(("bearer" = []))
)]
pub async fn post_ai_action(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::InsightsGenerate>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    no_body(&body)?;
    let store = state.store.as_ref();
    store.get_session(&principal.company.id, &id).await?;
    match charge(store, &principal.company, &id, state.clock.now()).await? {
        Consumption::Charged => Ok(Json(json!({"id": id, "credit": "charged"}))),
        Consumption::AlreadyCharged => Ok(Json(json!({"id": id, "credit": "already_charged"}))),
        Consumption::Refused => Err(ApiError::Conflict(SkipReason::NoCredits.to_string())),
    }
}
