//! `GET /api/v1/insights/overview`: what the insights page's top shows for a period — sessions,
//! summarized, waiting, skipped with their reasons, and summaries by issue type and by
//! application.

use axum::extract::{Query, State};
use axum::Json;
use chrono::{DateTime, TimeDelta, Utc};
use debrief_store::{SummaryRange, SummarySearch};
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

/// Page size of the summary list when the request names none.
const DEFAULT_PER_PAGE: u32 = 25;

/// Query of `GET /api/v1/summaries`.
#[derive(Deserialize)]
pub struct SummaryListQuery {
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    /// Words that must all appear in the title or the summary.
    q: Option<String>,
    issue_type: Option<String>,
    application: Option<String>,
    supporter: Option<String>,
    /// 1-based.
    page: Option<u32>,
    per_page: Option<u32>,
}

/// An empty filter is no filter.
fn given(value: Option<String>) -> Option<String> {
    value
        .map(|value| value.trim().to_string())
        .filter(|value| !value.is_empty())
}

/// The names of a company's users by id, read once each per request (an editor's name for an
/// edit; `None` for a user no longer there).
#[derive(Default)]
pub struct PeopleNames(std::collections::HashMap<String, Option<String>>);

impl PeopleNames {
    /// The name of user `id`.
    pub async fn name(
        &mut self,
        state: &AppState,
        company: &debrief_store::CompanyId,
        id: &str,
    ) -> ApiResult<Option<String>> {
        if let Some(name) = self.0.get(id) {
            return Ok(name.clone());
        }
        let name = match state.store.get_user(company, id).await {
            Ok(user) => Some(user.name),
            Err(debrief_store::StoreError::NotFound) => None,
            Err(error) => return Err(error.into()),
        };
        self.0.insert(id.to_string(), name.clone());
        Ok(name)
    }
}

/// `GET /api/v1/summaries?q=…&issue_type=…&application=…&supporter=…&from=…&to=…&page=…`:
/// the company's summaries, newest session first (with `q`, the most relevant first: every word
/// must match, the last letters of a word may be left off), with how many match in all; each
/// with its supporter's name (as the session gave it) and its last editor's name.
#[utoipa::path(
    get, path = "/api/v1/summaries", tag = "insights", operation_id = "insights_list_summaries",
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"),
              (status = 403, description = "missing permission insights.view")),
    security(("bearer" = []))
)]
pub async fn list_summaries(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::InsightsView>,
    Query(query): Query<SummaryListQuery>,
) -> ApiResult<Json<Value>> {
    let per_page = query
        .per_page
        .unwrap_or(DEFAULT_PER_PAGE)
        .clamp(1, debrief_store::MAX_PAGE_SIZE);
    let page = query.page.unwrap_or(1).max(1);
    let search = SummarySearch {
        from: query.from,
        to: query.to,
        text: given(query.q),
        issue_type: given(query.issue_type),
        application: given(query.application),
        supporter_id: given(query.supporter),
        offset: (page - 1).saturating_mul(per_page),
        limit: per_page,
    };
    let found = state
        .store
        .search_summaries(&principal.company.id, &search)
        .await?;
    let mut items = Vec::with_capacity(found.items.len());
    let mut people = PeopleNames::default();
    for item in found.items {
        let summary = item.summary;
        let session = state
            .store
            .get_session(&principal.company.id, &item.session_id)
            .await?
            .session;
        let supporter_name = session.supporter.and_then(|supporter| supporter.name);
        let edited = match &summary.edited {
            Some(edited) => {
                let name = people
                    .name(&state, &principal.company.id, &edited.by)
                    .await?;
                json!({"by": edited.by, "by_name": name, "at": edited.at})
            }
            None => Value::Null,
        };
        items.push(json!({
            "session_id": item.session_id,
            "started_at": item.sort_at,
            "supporter_id": item.supporter_id,
            "supporter_name": supporter_name,
            "engine": summary.engine,
            "language": summary.language,
            "edited": edited,
            "summary": summary,
        }));
    }
    Ok(Json(json!({
        "summaries": items,
        "total": found.total,
        "page": page,
        "per_page": per_page,
    })))
}
