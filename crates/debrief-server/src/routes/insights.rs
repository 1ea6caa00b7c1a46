//! `GET /api/v1/insights/overview`: what the insights page's top shows for a period — sessions,
//! summarized, waiting, skipped with their reasons, and summaries by issue type and by
//! application.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::Json;
use chrono::{DateTime, TimeDelta, Utc};
use debrief_export::ExportedSummary;
use debrief_store::SummaryRange;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::{need, Permitted};
use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// Most summaries read for the per-type and per-application counts of one overview.
const MAX_TAGGED: u32 = 50_000;

/// The period, `[from, to)`; by default the last 30 days.
#[derive(Deserialize)]
pub struct OverviewQuery {
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
}

/// (name, count) pairs, most frequent first.
fn ranked(counts: BTreeMap<String, i64>) -> Vec<(String, i64)> {
    let mut pairs: Vec<(String, i64)> = counts.into_iter().collect();
    pairs.sort_by(|left, right| right.1.cmp(&left.1).then_with(|| left.0.cmp(&right.0)));
    pairs
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
        limit: MAX_TAGGED,
    };
    let counts = state.store.summary_counts(company, &range).await?;
    let mut by_type: BTreeMap<String, i64> = BTreeMap::new();
    let mut by_application: BTreeMap<String, i64> = BTreeMap::new();
    let summaries = state.store.summaries_in(company, &range).await?;
    let read = summaries.len();
    for text in &summaries {
        let summary: ExportedSummary = serde_json::from_str(text)
            .map_err(|error| ApiError::Internal(format!("stored summary: {error}")))?;
        for issue_type in summary.issue_types {
            *by_type.entry(issue_type).or_default() += 1;
        }
        for application in summary.applications {
            *by_application.entry(application).or_default() += 1;
        }
    }
    Ok(Json(json!({
        "from": from,
        "to": to,
        "sessions": counts.sessions,
        "summarized": counts.summarized,
        "pending": counts.pending,
        "failed": counts.failed,
        "deleted": counts.deleted,
        "skipped": counts.skipped.iter().map(|(reason, sessions)| json!({"reason": reason, "sessions": sessions})).collect::<Vec<_>>(),
        "by_issue_type": ranked(by_type).into_iter().map(|(name, summaries)| json!({"issue_type": name, "summaries": summaries})).collect::<Vec<_>>(),
        "by_application": ranked(by_application).into_iter().map(|(name, summaries)| json!({"application": name, "summaries": summaries})).collect::<Vec<_>>(),
        "tags_complete": read < MAX_TAGGED as usize,
    })))
}
