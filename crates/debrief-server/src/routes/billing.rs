//! `GET /api/v1/billing/statement`: the company's monthly statement — its real history
//! replayed by the billing rules `debrief billing simulate` runs (see `timeline.rs`).

use axum::extract::{Query, State};
use axum::Json;
use debrief_core::billing::MonthStatement;
use debrief_core::RecordError;
use serde::Deserialize;

use crate::auth::{need, Permitted};
use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// Query of the statement: months `YYYY-MM`, both included.
#[derive(Deserialize)]
pub struct StatementQuery {
    from: Option<String>,
    to: Option<String>,
}

fn month_bound(field: &str, value: Option<String>) -> ApiResult<Option<String>> {
    match value {
        Some(month)
            if chrono::NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").is_err() =>
        {
            Err(ApiError::InvalidRecord(RecordError::invalid(
                field,
                format!("{month:?} is not a month (YYYY-MM)"),
            )))
        }
        other => Ok(other),
    }
}

/// `GET /api/v1/billing/statement?from=YYYY-MM&to=YYYY-MM`: the monthly rows of FORMATS.md
/// section 6, from the company's creation to the month of its last billed event.
#[utoipa::path(
    get, path = "/api/v1/billing/statement", tag = "billing", operation_id = "billing_get_statement",
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission usage.view")),
    security(("bearer" = []))
)]
pub async fn get_statement(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::UsageView>,
    Query(query): Query<StatementQuery>,
) -> ApiResult<Json<Vec<MonthStatement>>> {
    let from = month_bound("from", query.from)?;
    let to = month_bound("to", query.to)?;
    let months =
        debrief_workflows::timeline::statement(state.store.as_ref(), &principal.company).await?;
    Ok(Json(
        months
            .into_iter()
            .filter(|row| from.as_ref().is_none_or(|from| row.month >= *from))
            .filter(|row| to.as_ref().is_none_or(|to| row.month <= *to))
            .collect(),
    ))
}
