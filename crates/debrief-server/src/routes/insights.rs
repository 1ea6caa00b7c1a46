//! `GET /api/v1/insights/overview`: what the insights page's top shows for a period — sessions,
//! summarized, waiting, skipped with their reasons, and summaries by issue type and by
//! application.

use axum::extract::{Query, State};
use axum::Json;
use chrono::{DateTime, TimeDelta, Utc};
use debrief_store::SummaryRange;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::{need, Permitted};
use crate::error::ApiResult;
use crate::AppState;

/// The period, `[from, to)`; by default the last 30 days.
#[derive(Deserialize)]
pub struct OverviewQuery {
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
}

/// `GET /api/v1/insights/overview?from=…&to=…`.
#[utoipa::path(
    get, path = "/api/v1/insights/overview", tag = "insights", operation_id = "insights_get_overview",
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"),
              (status = 403, description = "missing permission insights.view")),
    security(("bearer" = []))
)]
pub async fn get_overview(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::InsightsView>,
    Query(query): Query<OverviewQuery>,
) -> ApiResult<Json<Value>> {
    let to = query.to.unwrap_or_else(|| state.clock.now());
    let from = query.from.unwrap_or(to - TimeDelta::days(30));
    let company = &principal.company.id;
    let range = SummaryRange {
        from: Some(from),
        to: Some(to),
        limit: 0,
    };
    let counts = state.store.summary_counts(company, &range).await?;
    let tags = state.store.summary_tag_counts(company, &range).await?;
    Ok(Json(json!({
        "from": from,
        "to": to,
        "sessions": counts.sessions,
        "summarized": counts.summarized,
        "pending": counts.pending,
        "failed": counts.failed,
        "deleted": counts.deleted,
        "skipped": counts.skipped.iter().map(|(reason, sessions)| json!({"reason": reason, "sessions": sessions})).collect::<Vec<_>>(),
        "by_issue_type": tags.issue_types.into_iter().map(|(name, summaries)| json!({"issue_type": name, "summaries": summaries})).collect::<Vec<_>>(),
        "by_application": tags.applications.into_iter().map(|(name, summaries)| json!({"application": name, "summaries": summaries})).collect::<Vec<_>>(),
    })))
}
