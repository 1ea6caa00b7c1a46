//! `/api/v1/ai-agents` and `/api/v1/usage/resolutions`: the automated-resolution plan and its
//! changes, whether AI agents run, and the month's usage — all read from the company's billing
//! meter (the billing rules' state kept with each timeline line), never by a replay.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use debrief_core::billing::{AgentsStatus, MonthStatement, TimedEvent, TimelineEvent};
use debrief_core::RecordError;
use debrief_store::Company;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::auth::{need, Permitted};
use crate::error::{ApiError, ApiResult};
use crate::routes::records::json_body;
use crate::AppState;
use debrief_core::billing::timeline_time;
use debrief_workflows::timeline::meter;

/// Whether new AI-agent conversations are accepted now: the reason when they are not.
pub async fn refusal_reason(state: &AppState, company: &Company) -> ApiResult<Option<String>> {
    Ok(
        match meter(state.store.as_ref(), company, state.clock.now()).await? {
            None => None,
            Some(simulator) => match simulator.agents_status() {
                AgentsStatus::Running => None,
                AgentsStatus::Paused(reason) => Some(format!("AI agents are paused: {reason}")),
                AgentsStatus::Disabled => {
                    Some("AI agent features are turned off for this account".into())
                }
            },
        },
    )
}

/// The account line for `company` with the plan fields of a request.
fn account_line(company: &Company, plan: Map<String, Value>, now: DateTime<Utc>) -> Value {
    json!({
        "at": timeline_time(now),
        "type": "account",
        "time_zone": company.time_zone,
        "tier": company.tier,
        "term_start": company.term_start.with_day(1).unwrap_or(company.term_start),
        "addon": {"credits": 0, "annual_price": "0.00"},
        "out_of_credits": {"mode": "stop"},
        "resolutions": Value::Object(plan),
    })
}

/// `PUT /api/v1/ai-agents/plan`: sets the automated-resolution plan (`plan`, `full_seats`,
/// `overage_unit_price`, `at_limit`, optional `monthly_cap`): 201 the first time. Called again,
/// each field that differs is recorded as a change from now on (200): a different `plan` from
/// the next month's allowance (a `plan` line), `full_seats` as a `seats` change, `at_limit` and
/// `monthly_cap` as `settings`; the overage price is the plan's contract and cannot change (422).
#[utoipa::path(
    put, path = "/api/v1/ai-agents/plan", tag = "ai_agents", operation_id = "ai_agents_set_plan",
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 200, description = "the plan changed"), (status = 201, description = "the plan was set"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission billing.manage"), (status = 422, description = "a field is invalid: details name it")),
    security(("bearer" = []))
)]
pub async fn set_plan(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::BillingManage>,
    body: axum::body::Bytes,
) -> ApiResult<StatusCode> {
    let plan: Map<String, Value> = json_body(&body)?;
    let now = state.clock.now();
    let line = account_line(&principal.company, plan, now);
    let event = TimedEvent::parse_json(&line.to_string()).map_err(|mut error| {
        error.field = error
            .field
            .map(|field| field.trim_start_matches("resolutions.").to_string());
        ApiError::InvalidRecord(error)
    })?;
    let TimelineEvent::Account(asked) = event.event else {
        return Err(ApiError::Internal("a plan line is an account line".into()));
    };
    let Some(current) = meter(state.store.as_ref(), &principal.company, now).await? else {
        state
            .store
            .append_billing_event(
                &principal.company.id,
                event.at,
                "account",
                &line.to_string(),
            )
            .await?;
        return Ok(StatusCode::CREATED);
    };
    let current = current.account();
    if asked.overage_unit_price != current.overage_unit_price {
        return Err(ApiError::InvalidRecord(RecordError::invalid(
            "overage_unit_price",
            "is fixed by the plan's contract and cannot change once the plan is set",
        )));
    }
    let at = timeline_time(now);
    let mut changes = Vec::new();
    if asked.plan != current.plan {
        changes.push((
            "plan",
            json!({"at": at, "type": "plan", "plan": asked.plan}),
        ));
    }
    if asked.full_seats != current.full_seats {
        changes.push((
            "seats",
            json!({"at": at, "type": "seats", "full": asked.full_seats}),
        ));
    }
    if asked.at_limit != current.at_limit || asked.monthly_cap != current.monthly_cap {
        changes.push((
            "settings",
            json!({"at": at, "type": "settings", "at_limit": asked.at_limit, "monthly_cap": asked.monthly_cap}),
        ));
    }
    for (kind, line) in changes {
        state
            .store
            .append_billing_event(&principal.company.id, now, kind, &line.to_string())
            .await?;
    }
    Ok(StatusCode::OK)
}

/// `POST /api/v1/ai-agents/changes`: a change from now on — `{"type": "seats", "full": N}`,
/// `{"type": "commitment", "units": N, "unit_price": "…"}`, `{"type": "settings", "at_limit":
/// …, "monthly_cap": …}` or `{"type": "ai_agents", "enabled": …}`.
#[utoipa::path(
    post, path = "/api/v1/ai-agents/changes", tag = "ai_agents", operation_id = "ai_agents_add_change",
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission billing.manage"), (status = 422, description = "a field is invalid: details name it")),
    security(("bearer" = []))
)]
pub async fn add_change(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::BillingManage>,
    body: axum::body::Bytes,
) -> ApiResult<StatusCode> {
    let mut change: Map<String, Value> = json_body(&body)?;
    let now = state.clock.now();
    change.insert("at".into(), json!(timeline_time(now)));
    let line = Value::Object(change).to_string();
    let event = TimedEvent::parse_json(&line).map_err(ApiError::InvalidRecord)?;
    let kind = match event.event {
        TimelineEvent::Seats { .. } => "seats",
        TimelineEvent::Commitment { .. } => "commitment",
        TimelineEvent::Settings { .. } => "settings",
        TimelineEvent::AiAgents { .. } => "ai_agents",
        TimelineEvent::Plan { .. } => "plan",
        _ => {
            return Err(ApiError::InvalidRecord(RecordError::invalid(
                "type",
                "a change is seats, commitment, settings, ai_agents or plan",
            )))
        }
    };
    if meter(state.store.as_ref(), &principal.company, now)
        .await?
        .is_none()
    {
        return Err(ApiError::Conflict(
            "set the plan first: PUT /api/v1/ai-agents/plan".into(),
        ));
    }
    state
        .store
        .append_billing_event(&principal.company.id, now, kind, &line)
        .await?;
    Ok(StatusCode::CREATED)
}

/// `GET /api/v1/ai-agents/status`: running, paused (with why) or disabled, what the allowance
/// and the commitment still hold, and the plan in force (plan, seats, overage price, at the limit,
/// monthly limit).
#[utoipa::path(
    get, path = "/api/v1/ai-agents/status", tag = "ai_agents", operation_id = "ai_agents_get_status",
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission usage.view")),
    security(("bearer" = []))
)]
pub async fn get_status(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::UsageView>,
) -> ApiResult<Json<Value>> {
    let Some(simulator) =
        meter(state.store.as_ref(), &principal.company, state.clock.now()).await?
    else {
        return Ok(Json(
            json!({"state": "no_plan", "reason": "no automated-resolution plan is set"}),
        ));
    };
    let (status, reason) = match simulator.agents_status() {
        AgentsStatus::Running => ("running", None),
        AgentsStatus::Paused(reason) => ("paused", Some(reason)),
        AgentsStatus::Disabled => (
            "disabled",
            Some("AI agent features are turned off".to_string()),
        ),
    };
    let account = simulator.account();
    Ok(Json(json!({
        "state": status,
        "reason": reason,
        "allowance_left": simulator.allowance_left(),
        "commitment_left": simulator.commitment_left(),
        "plan": {
            "plan": account.plan,
            "full_seats": account.full_seats,
            "overage_unit_price": account.overage_unit_price.to_string(),
            "at_limit": account.at_limit,
            "monthly_cap": account.monthly_cap,
        },
    })))
}

/// Query of `GET /api/v1/usage/resolutions`.
#[derive(Debug, Deserialize)]
pub struct UsageQuery {
    /// `YYYY-MM`; the current month when absent.
    period: Option<String>,
}

/// `GET /api/v1/usage/resolutions?period=YYYY-MM`: the month's resolutions — counted from the
/// allowance and the commitment, overage units and amount, refused, what is left, the
/// projection to the month's end at the month's daily rate so far, and the count by channel.
#[utoipa::path(
    get, path = "/api/v1/usage/resolutions", tag = "ai_agents", operation_id = "ai_agents_get_usage",
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission usage.view")),
    security(("bearer" = []))
)]
pub async fn get_usage(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::UsageView>,
    Query(query): Query<UsageQuery>,
) -> ApiResult<Json<Value>> {
    let now = state.clock.now();
    let zone: chrono_tz::Tz = principal
        .company
        .time_zone
        .parse()
        .unwrap_or(chrono_tz::UTC);
    let today = now.with_timezone(&zone).date_naive();
    let period = query
        .period
        .unwrap_or_else(|| today.format("%Y-%m").to_string());
    let first_day = NaiveDate::parse_from_str(&format!("{period}-01"), "%Y-%m-%d")
        .map_err(|_| ApiError::BadRequest(format!("period: {period:?} is not YYYY-MM")))?;
    let Some(simulator) = meter(state.store.as_ref(), &principal.company, now).await? else {
        return Err(ApiError::Conflict(
            "no automated-resolution plan is set".into(),
        ));
    };
    let current = simulator.open_month();
    // A past month: closed in memory on the way to now, or stored when the meter closed it.
    let stored_months = if current.month == period
        || simulator
            .closed_months()
            .iter()
            .any(|month| month.month == period)
    {
        Vec::new()
    } else {
        state.store.billing_months(&principal.company.id).await?
    };
    let month: Option<&MonthStatement> = if current.month == period {
        Some(current)
    } else {
        simulator
            .closed_months()
            .iter()
            .chain(&stored_months)
            .find(|month| month.month == period)
    };
    let Some(month) = month else {
        return Err(ApiError::NotFound);
    };
    let lines = &month.resolutions;
    let consumed = lines.from_allowance + lines.from_commitment + lines.overage_units;
    let next_month = first_day
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(first_day);
    let days_in_month = (next_month - first_day).num_days();
    let projected = if current.month == period {
        let days_elapsed = (today - first_day).num_days() + 1;
        consumed * days_in_month / days_elapsed.max(1)
    } else {
        consumed
    };
    let by_channel: Vec<Value> = state
        .store
        .resolution_counts(&principal.company.id)
        .await?
        .into_iter()
        .filter(|count| count.month == period)
        .map(|count| json!({"channel": count.channel, "counted": count.counted}))
        .collect();
    Ok(Json(json!({
        "period": period,
        "consumed": consumed,
        "from_allowance": lines.from_allowance,
        "from_commitment": lines.from_commitment,
        "overage_units": lines.overage_units,
        "overage_amount": lines.overage_amount,
        "refused": lines.refused,
        "allowance_added": lines.allowance_added,
        "allowance_left": if current.month == period { simulator.allowance_left() } else { lines.allowance_end },
        "commitment_left": if current.month == period { simulator.commitment_left() } else { lines.commitment_end },
        "projected": projected,
        "by_channel": by_channel,
    })))
}

/// Query of `GET /api/v1/usage/resolutions/conversations`.
#[derive(Debug, Deserialize)]
pub struct VerdictListQuery {
    /// `YYYY-MM`.
    period: String,
    /// `json` (default) or `csv`.
    format: Option<String>,
}

/// `GET /api/v1/usage/resolutions/conversations?period=YYYY-MM[&format=csv]`: every
/// conversation decided in the month with its verdict, rule and reason.
#[utoipa::path(
    get, path = "/api/v1/usage/resolutions/conversations", tag = "ai_agents", operation_id = "ai_agents_list_verdicts",
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission usage.view")),
    security(("bearer" = []))
)]
pub async fn list_verdicts(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::UsageView>,
    Query(query): Query<VerdictListQuery>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    NaiveDate::parse_from_str(&format!("{}-01", query.period), "%Y-%m-%d")
        .map_err(|_| ApiError::BadRequest(format!("period: {:?} is not YYYY-MM", query.period)))?;
    let verdicts = state
        .store
        .list_verdicts(&principal.company.id, &query.period)
        .await?;
    match query.format.as_deref() {
        None | Some("json") => {
            Ok(Json(json!({"period": query.period, "conversations": verdicts})).into_response())
        }
        Some("csv") => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            let csv_error = |error: csv::Error| ApiError::Internal(format!("csv: {error}"));
            writer
                .write_record([
                    "id",
                    "channel",
                    "verdict",
                    "rule",
                    "reason",
                    "decided_at",
                    "judge",
                ])
                .map_err(csv_error)?;
            for verdict in &verdicts {
                let decided = verdict.decided_at.map(timeline_time).unwrap_or_default();
                writer
                    .write_record([
                        verdict.id.as_str(),
                        verdict.channel.as_deref().unwrap_or(""),
                        verdict.verdict.as_str(),
                        verdict.rule.as_str(),
                        verdict.reason.as_str(),
                        decided.as_str(),
                        verdict.judge.as_str(),
                    ])
                    .map_err(csv_error)?;
            }
            let bytes = writer
                .into_inner()
                .map_err(|error| ApiError::Internal(format!("csv: {error}")))?;
            Ok((
                [(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8")],
                bytes,
            )
                .into_response())
        }
        Some(other) => Err(ApiError::BadRequest(format!(
            "format: {other:?} is not json or csv"
        ))),
    }
}

/// `GET /api/v1/usage/alerts`: the usage thresholds crossed, once per threshold and month.
#[utoipa::path(
    get, path = "/api/v1/usage/alerts", tag = "ai_agents", operation_id = "ai_agents_list_alerts",
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission usage.view")),
    security(("bearer" = []))
)]
pub async fn list_alerts(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::UsageView>,
) -> ApiResult<Json<Value>> {
    let alerts = state.store.usage_alerts(&principal.company.id).await?;
    Ok(Json(json!({"alerts": alerts})))
}
