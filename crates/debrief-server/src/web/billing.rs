//! The AI credits page (balance by source and expiry, this month, the ledger, add-on purchases,
//! thresholds and the out-of-credits rule) and the automated-resolutions page (consumed against
//! allowance and commitment, overage, the month's projection, and every conversation's verdict
//! with its rule and reason, which admins can override). A part the company has not set up yet
//! (no automated-resolution plan, say) is named as not available; the rest still shows.

use axum::extract::{Path, Query};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use minijinja::context;
use serde::Deserialize;
use serde_json::{json, Value};

use super::insights::url_escape;
use super::{form_field, Visitor, WebError};

/// Ledger entries the credits page lists, newest first.
const LEDGER_ROWS: u32 = 50;

/// Query of the two pages: a notice to show, a month (`YYYY-MM`) for usage.
#[derive(Deserialize, Default)]
pub struct PageQuery {
    notice: Option<String>,
    period: Option<String>,
}

/// `GET /credits`.
pub async fn credits(visitor: Visitor, Query(query): Query<PageQuery>) -> Response {
    let result = render_credits(&visitor, query.notice, None).await;
    visitor.finish(result)
}

async fn render_credits(
    visitor: &Visitor,
    notice: Option<String>,
    problem: Option<(Value, String)>,
) -> Result<Response, WebError> {
    visitor.require("usage.view")?;
    let credits = visitor.api.read("/credits").await?;
    let ledger = visitor
        .api
        .read(&format!("/credits/ledger?order=newest&limit={LEDGER_ROWS}"))
        .await?;
    let alerts = visitor.api.read("/credits/alerts").await?;
    let settings = visitor.api.read_part("/credits/settings").await?;
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let (refused, problem) = problem.unzip();
    visitor.render_status(
        status,
        "credits.html",
        "credits",
        context! {
            credits => credits,
            ledger => ledger["items"],
            alerts => alerts["items"],
            settings => settings.ok(),
            notice => notice,
            refused => refused,
            problem => problem,
        },
    )
}

/// The credit settings the form sent, on top of the current ones (the operator's free credits
/// are left out: the API keeps them); the problem when a field does not read.
async fn credit_settings_of(
    visitor: &Visitor,
    fields: &[(String, String)],
) -> Result<Result<Value, String>, WebError> {
    let field = |name: &str| form_field(fields, name);
    let mut settings = visitor.api.read("/credits/settings").await?;
    if let Some(fields) = settings.as_object_mut() {
        fields.remove("free_monthly_credits");
    }
    settings["out_of_credits"] = match field("out_of_credits") {
        "allow_negative" => match field("negative_limit").trim().parse::<i64>() {
            Ok(limit) => json!({"mode": "allow_negative", "limit": limit}),
            Err(_) => return Ok(Err("negative_limit: must be a whole number".into())),
        },
        _ => json!({"mode": "stop"}),
    };
    let thresholds: Result<Vec<u8>, _> = field("thresholds")
        .split([',', ' '])
        .filter(|part| !part.is_empty())
        .map(str::parse::<u8>)
        .collect();
    match thresholds {
        Ok(thresholds) => settings["alert_thresholds"] = json!(thresholds),
        Err(_) => {
            return Ok(Err(
                "alert_thresholds: percentages from 0 to 100, separated by commas".into(),
            ))
        }
    }
    Ok(Ok(settings))
}

/// `POST /credits`: `action` is `purchase` (with `packs`) or `settings` (what to do without
/// credits and the alert thresholds).
pub async fn change_credits(
    visitor: Visitor,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let result = async {
        let field = |name: &str| form_field(&fields, name);
        visitor.check_csrf(field("csrf"))?;
        visitor.require("billing.manage")?;
        let (method, path, body) = match field("action") {
            "purchase" => match field("packs").trim().parse::<i64>() {
                Ok(packs) => (Method::POST, "/credits/purchases", json!({"packs": packs})),
                Err(_) => {
                    return render_credits(
                        &visitor,
                        None,
                        Some((
                            json!({"packs": field("packs")}),
                            "packs: must be a whole number".into(),
                        )),
                    )
                    .await
                }
            },
            "settings" => match credit_settings_of(&visitor, &fields).await? {
                Ok(settings) => (Method::PUT, "/credits/settings", settings),
                Err(problem) => {
                    let refused = json!({"negative_limit": field("negative_limit"), "thresholds": field("thresholds")});
                    return render_credits(&visitor, None, Some((refused, problem))).await;
                }
            },
            _ => return Err(WebError::NotFound),
        };
        let reply = visitor.api.call(method, path, Some(&body)).await?;
        match reply.status {
            status if status.is_success() => {
                Ok(Redirect::to("/credits?notice=saved").into_response())
            }
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(reply.failure()),
            _ => {
                let refused = json!({"packs": field("packs"), "negative_limit": field("negative_limit"), "thresholds": field("thresholds")});
                render_credits(&visitor, None, Some((refused, reply.problem()))).await
            }
        }
    }
    .await;
    visitor.finish(result)
}

/// The projection chart: the month's capacity (allowance and commitment), what is consumed and
/// what the month is heading for, as bar lengths in percent of the largest.
fn projection(usage: &Value) -> Value {
    let number = |name: &str| usage[name].as_i64().unwrap_or_default();
    let capacity = number("from_allowance")
        + number("allowance_left")
        + number("from_commitment")
        + number("commitment_left");
    let consumed = number("consumed");
    let projected = number("projected");
    let largest = capacity.max(consumed).max(projected).max(1);
    let percent = |value: i64| value.max(0) * 100 / largest;
    json!({
        "capacity": capacity, "consumed": consumed, "projected": projected,
        "capacity_percent": percent(capacity), "consumed_percent": percent(consumed),
        "projected_percent": percent(projected),
        "over": projected > capacity,
    })
}

/// `GET /usage`.
pub async fn usage(visitor: Visitor, Query(query): Query<PageQuery>) -> Response {
    let result = render_usage(&visitor, query.period, query.notice, None).await;
    visitor.finish(result)
}

/// The usage page of `period` (the current month when absent or not a month), with the
/// "saved" notice or the problem of a refused override.
async fn render_usage(
    visitor: &Visitor,
    period: Option<String>,
    notice: Option<String>,
    problem: Option<String>,
) -> Result<Response, WebError> {
    {
        visitor.require("usage.view")?;
        let period = period.filter(|period| {
            chrono::NaiveDate::parse_from_str(&format!("{period}-01"), "%Y-%m-%d").is_ok()
        });
        let usage_path = match &period {
            Some(period) => format!("/usage/resolutions?period={period}"),
            None => "/usage/resolutions".to_string(),
        };
        let usage = visitor.api.read_part(&usage_path).await?;
        let month = period
            .or_else(|| {
                usage
                    .as_ref()
                    .ok()
                    .and_then(|usage| usage["period"].as_str().map(str::to_string))
            })
            .unwrap_or_else(|| visitor.state.clock.now().format("%Y-%m").to_string());
        let verdicts = visitor
            .api
            .read(&format!("/usage/resolutions/conversations?period={month}"))
            .await?;
        let alerts = visitor.api.read("/usage/alerts").await?;
        let (usage, unavailable) = match usage {
            Ok(usage) => (Some(usage), None),
            Err(why) => (None, Some(why)),
        };
        // Without a plan the page says where to choose one, in the visitor's words.
        let no_plan = unavailable.is_some()
            && visitor
                .api
                .read_part("/ai-agents/status")
                .await?
                .is_ok_and(|status| status["state"] == "no_plan");
        visitor.render(
            "usage.html",
            "usage",
            context! {
                month => month,
                projection => usage.as_ref().map(projection),
                usage => usage,
                unavailable => unavailable,
                no_plan => no_plan,
                verdicts => verdicts["conversations"],
                alerts => alerts["alerts"],
                saved => notice.as_deref() == Some("saved"),
                problem => problem,
            },
        )
    }
}

/// The override form's fields.
// A missing field reads as empty: the form is then refused with its reason on the page.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct OverrideForm {
    csrf: String,
    verdict: String,
    reason: String,
    month: String,
}

/// `POST /usage/{id}/override`: an admin's verdict, recorded with their reason.
pub async fn override_verdict(
    visitor: Visitor,
    Path(id): Path<String>,
    Form(form): Form<OverrideForm>,
) -> Response {
    let result = async {
        visitor.check_csrf(&form.csrf)?;
        let reply = visitor
            .api
            .call(
                Method::POST,
                &format!("/conversations/{}/override", url_escape(&id)),
                Some(&json!({"verdict": form.verdict, "reason": form.reason})),
            )
            .await?;
        match reply.status {
            status if status.is_success() => {
                let query = serde_urlencoded::to_string([
                    ("period", form.month.as_str()),
                    ("notice", "saved"),
                ])
                .unwrap_or_default();
                Ok(Redirect::to(&format!("/usage?{query}")).into_response())
            }
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(reply.failure()),
            // The refusal is shown on the page itself: a notice in the URL could be forged.
            _ => {
                render_usage(
                    &visitor,
                    Some(form.month.clone()),
                    None,
                    Some(reply.problem()),
                )
                .await
            }
        }
    }
    .await;
    visitor.finish(result)
}
