//! The insights page: the overview of a period (totals, skip reasons, charts by issue type and
//! by application), the searchable and filtered summary list, and the side panel of one summary
//! with its edit history and the edit, delete and export actions.

use axum::extract::{Path, Query};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{DateTime, NaiveDate, SecondsFormat, TimeDelta, Utc};
use debrief_core::summary::Summary;
use minijinja::context;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::charts::{bars, pairs, shorten};
use super::{Visitor, WebError};

/// Summaries per list page.
const PER_PAGE: u32 = 25;

/// Most characters of a summary's text in the list.
const SNIPPET_CHARS: usize = 220;

/// The page's state, all in its query string so that every view can be linked and reloaded.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct InsightsQuery {
    /// `7`, `30` (default), `90` or `custom` (with `from` and `to`, dates).
    #[serde(skip_serializing_if = "Option::is_none")]
    period: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    q: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    issue_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    application: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    supporter: Option<String>,
    /// A page number; anything else is the first page.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "page_number"
    )]
    page: Option<u32>,
    /// A skip reason: the sessions skipped for it are listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    skipped: Option<String>,
    /// The session whose summary the side panel shows.
    #[serde(skip_serializing_if = "Option::is_none")]
    open: Option<String>,
    /// `1`: the panel is the edit form.
    #[serde(skip_serializing_if = "Option::is_none")]
    edit: Option<String>,
    /// `delete`: the panel asks to confirm the deletion.
    #[serde(skip_serializing_if = "Option::is_none")]
    confirm: Option<String>,
    /// `saved` or `deleted`: what the last action did.
    #[serde(skip_serializing_if = "Option::is_none")]
    notice: Option<String>,
}

/// A page number as typed in the address bar: a positive whole number, else none.
fn page_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    let text: Option<String> = Option::deserialize(deserializer)?;
    Ok(text.and_then(|text| text.trim().parse::<u32>().ok()))
}

/// Longest search a page sends on (the rest is dropped).
const MAX_SEARCH_CHARS: usize = 500;

/// `text` without control characters (which no one types, and the API refuses), at most
/// `max` characters.
fn typed(text: &Option<String>, max: usize) -> Option<String> {
    text.as_ref()
        .map(|text| text.chars().filter(|c| !c.is_control()).take(max).collect())
}

impl InsightsQuery {
    /// The state with what a person could not have typed removed from the filters, so that a
    /// pasted or crafted address shows a page, not an error.
    fn cleaned(&self) -> InsightsQuery {
        const MAX_ID: usize = 200;
        InsightsQuery {
            q: typed(&self.q, MAX_SEARCH_CHARS),
            issue_type: typed(&self.issue_type, MAX_ID),
            application: typed(&self.application, MAX_ID),
            supporter: typed(&self.supporter, MAX_ID),
            skipped: typed(&self.skipped, MAX_ID),
            open: typed(&self.open, MAX_ID),
            ..self.clone()
        }
    }

    /// The query string of this state.
    fn encode(&self) -> String {
        serde_urlencoded::to_string(self).unwrap_or_default()
    }

    /// The state of the page a form came from (its `back` field).
    fn from_back(back: &str) -> InsightsQuery {
        serde_urlencoded::from_str::<InsightsQuery>(back.trim_start_matches("/insights?"))
            .unwrap_or_default()
            .cleaned()
    }

    /// The list's state without the panel's.
    fn list_only(&self) -> InsightsQuery {
        InsightsQuery {
            open: None,
            edit: None,
            confirm: None,
            notice: None,
            ..self.clone()
        }
    }

    /// The list from its first page filtered by `issue_type` or `application` (what a bar of
    /// the charts links to).
    fn filtered(&self, field: &str, value: &str) -> String {
        let mut state = InsightsQuery {
            page: None,
            ..self.list_only()
        };
        match field {
            "issue_type" => state.issue_type = Some(value.to_string()),
            _ => state.application = Some(value.to_string()),
        }
        format!("/insights?{}", state.encode())
    }

    /// The list's state with `session`'s panel open.
    fn opened(&self, session: &str) -> InsightsQuery {
        InsightsQuery {
            open: Some(session.to_string()),
            ..self.list_only()
        }
    }

    /// The period as `[from, to)`, or why the custom dates do not make one.
    fn period(&self, now: DateTime<Utc>) -> Result<(DateTime<Utc>, DateTime<Utc>), ()> {
        let days = match self.period.as_deref() {
            Some("7") => 7,
            Some("90") => 90,
            Some("custom") => {
                let date = |text: &Option<String>| {
                    text.as_deref()
                        .and_then(|text| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
                };
                let (Some(from), Some(to)) = (date(&self.from), date(&self.to)) else {
                    return Err(());
                };
                if from > to {
                    return Err(());
                }
                let start = from.and_hms_opt(0, 0, 0).ok_or(())?.and_utc();
                let end = to.and_hms_opt(0, 0, 0).ok_or(())?.and_utc() + TimeDelta::days(1);
                return Ok((start, end));
            }
            _ => 30,
        };
        Ok((now - TimeDelta::days(days), now))
    }
}

/// The query string's word for a time.
fn instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Most skipped sessions listed for one reason.
const SKIPPED_ROWS: u32 = 100;

/// An edit form sent back with the API's objection, so nothing typed is lost.
pub struct Draft {
    fields: Value,
    problem: String,
}

/// `GET /insights`.
pub async fn page(visitor: Visitor, Query(query): Query<InsightsQuery>) -> Response {
    let result = render(&visitor, &query.cleaned(), None).await;
    visitor.finish(result)
}

async fn render(
    visitor: &Visitor,
    query: &InsightsQuery,
    draft: Option<Draft>,
) -> Result<Response, WebError> {
    visitor.require("insights.view")?;
    let now = visitor.state.clock.now();
    let (period_ok, (from, to)) = match query.period(now) {
        Ok(range) => (true, range),
        Err(()) => (false, (now - TimeDelta::days(30), now)),
    };
    let range = serde_urlencoded::to_string([("from", instant(from)), ("to", instant(to))])
        .unwrap_or_default();
    let mut overview = visitor
        .api
        .read(&format!("/insights/overview?{range}"))
        .await?;
    for skip in overview["skipped"].as_array_mut().into_iter().flatten() {
        let reason = skip["reason"].as_str().unwrap_or_default().to_string();
        skip["reason_text"] = json!(super::labels::skip_reason(visitor.language, &reason));
        let listed = InsightsQuery {
            skipped: Some(reason),
            page: None,
            ..query.list_only()
        };
        skip["href"] = json!(format!("/insights?{}#skipped", listed.encode()));
    }
    // The sessions skipped for the reason asked, newest first.
    let skipped_sessions = match &query.skipped {
        Some(reason) => {
            let filter =
                serde_urlencoded::to_string([("skip_reason", reason.as_str())]).unwrap_or_default();
            let listed = visitor
                .api
                .read(&format!("/sessions?{range}&{filter}&limit={SKIPPED_ROWS}"))
                .await?;
            let rows: Vec<Value> = listed["sessions"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|session| {
                    json!({
                        "id": session["id"],
                        "started_at": session["started_at"],
                        "supporter": session["supporter"]["name"].as_str().or(session["supporter"]["id"].as_str()),
                        "platform": session["device"]["platform"],
                    })
                })
                .collect();
            Some(json!({
                "reason": super::labels::skip_reason(visitor.language, reason),
                "total": listed["total"],
                "rows": rows,
            }))
        }
        None => None,
    };
    let page = query.page.unwrap_or(1).max(1);
    let filters = serde_urlencoded::to_string([
        ("q", query.q.clone().unwrap_or_default()),
        ("issue_type", query.issue_type.clone().unwrap_or_default()),
        ("application", query.application.clone().unwrap_or_default()),
        ("supporter", query.supporter.clone().unwrap_or_default()),
        ("page", page.to_string()),
        ("per_page", PER_PAGE.to_string()),
    ])
    .unwrap_or_default();
    let list = visitor
        .api
        .read(&format!("/summaries?{range}&{filters}"))
        .await?;
    let total = list["total"].as_u64().unwrap_or_default();
    let pages = total.div_ceil(u64::from(PER_PAGE)).max(1);
    let items = list["summaries"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|item| {
            let session = item["session_id"].as_str().unwrap_or_default();
            let summary = summary_of(&item["summary"])?;
            Ok(json!({
                "session_id": session,
                "href": format!("/insights?{}", query.opened(session).encode()),
                "title": summary.title,
                "snippet": shorten(&summary.summary, SNIPPET_CHARS),
                "issue_types": summary.issue_types,
                "applications": summary.applications,
                "started_at": item["started_at"],
                "supporter_id": item["supporter_id"],
                "supporter_name": item["supporter_name"],
                "edited": summary.edited.is_some(),
                "open": query.open.as_deref() == Some(session),
            }))
        })
        .collect::<Result<Vec<Value>, WebError>>()?;
    let page_href = |number: u64| {
        let mut state = query.list_only();
        state.page = Some(u32::try_from(number).unwrap_or(1));
        format!("/insights?{}", state.encode())
    };
    let others = super::labels::labels(visitor.language)
        .get("other")
        .copied()
        .unwrap_or("Other");
    let type_names = issue_type_names(visitor).await?;
    let name_of = |id: &str| {
        type_names
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    };
    let issue_types = pairs(&overview["by_issue_type"], "issue_type", "summaries");
    let applications = pairs(&overview["by_application"], "application", "summaries");
    // The filter suggests supporters by name: the company's users who have a supporter id, and
    // the supporters of the sessions listed.
    let mut supporters: std::collections::BTreeMap<String, String> = items
        .iter()
        .filter_map(|item| {
            let id = item["supporter_id"].as_str()?;
            let name = item["supporter_name"].as_str().unwrap_or(id);
            Some((id.to_string(), name.to_string()))
        })
        .collect();
    if let Ok(users) = visitor.api.read_part("/users").await? {
        for user in users["items"].as_array().into_iter().flatten() {
            if let (Some(id), Some(name)) = (user["supporter_id"].as_str(), user["name"].as_str()) {
                supporters.insert(id.to_string(), name.to_string());
            }
        }
    }
    let supporters: Vec<Value> = supporters
        .into_iter()
        .map(|(id, name)| json!({"id": id, "name": name}))
        .collect();
    let panel = match &query.open {
        Some(session) => Some(panel(visitor, query, session, draft).await?),
        None => None,
    };
    visitor.render(
        "insights.html",
        "insights",
        context! {
            query => query,
            period_ok => period_ok,
            period => query.period.clone().unwrap_or_else(|| "30".into()),
            from_date => from.date_naive().to_string(),
            to_date => (to - TimeDelta::seconds(1)).date_naive().to_string(),
            overview => overview,
            issue_type_bars => bars(&issue_types, others, name_of, |id| query.filtered("issue_type", id)),
            application_bars => bars(&applications, others, str::to_string, |name| query.filtered("application", name)),
            issue_type_names => issue_types.iter().map(|(name, _)| name.clone()).collect::<Vec<_>>(),
            issue_type_labels => &type_names,
            application_names => applications.iter().map(|(name, _)| name.clone()).collect::<Vec<_>>(),
            supporters => supporters,
            items => items,
            total => total,
            page => page,
            pages => pages,
            previous_href => (u64::from(page) > 1).then(|| page_href(u64::from(page) - 1)),
            next_href => (u64::from(page) < pages).then(|| page_href(u64::from(page) + 1)),
            clear_href => "/insights",
            list_back => format!("/insights?{}", query.list_only().encode()),
            panel => panel,
            skipped_sessions => skipped_sessions,
        },
    )
}

/// The names of the company's issue types (its taxonomy's, or the built-in one's) by id.
/// A summary as the API gave it.
fn summary_of(value: &Value) -> Result<Summary, WebError> {
    Summary::deserialize(value)
        .map_err(|error| WebError::Internal(format!("the API's summary: {error}")))
}

async fn issue_type_names(
    visitor: &Visitor,
) -> Result<std::collections::HashMap<String, String>, WebError> {
    let taxonomy = visitor.api.read("/taxonomy").await?;
    Ok(taxonomy["issue_types"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|kind| {
            let id = kind["id"].as_str()?;
            let name = kind["name"].as_str().filter(|name| !name.is_empty())?;
            Some((id.to_string(), name.to_string()))
        })
        .collect())
}

/// The side panel of one session's summary.
async fn panel(
    visitor: &Visitor,
    query: &InsightsQuery,
    session: &str,
    draft: Option<Draft>,
) -> Result<Value, WebError> {
    let encoded = url_escape(session);
    let reply = visitor
        .api
        .call(Method::GET, &format!("/sessions/{encoded}/summary"), None)
        .await?;
    let base = query.opened(session);
    let with = |change: fn(&mut InsightsQuery)| {
        let mut state = base.clone();
        change(&mut state);
        format!("/insights?{}", state.encode())
    };
    let mut panel = json!({
        "session_id": session,
        "action_base": format!("/insights/{encoded}"),
        "back": format!("/insights?{}", base.encode()),
        "close_href": format!("/insights?{}", query.list_only().encode()),
        "edit_href": with(|state| state.edit = Some("1".into())),
        "delete_href": with(|state| state.confirm = Some("delete".into())),
        "editing": query.edit.is_some() || draft.is_some(),
        "confirming": query.confirm.as_deref() == Some("delete"),
        "notice": query.notice,
    });
    match reply.status {
        StatusCode::OK => {
            let summary = summary_of(&reply.json())?;
            let revisions = visitor
                .api
                .read(&format!("/sessions/{encoded}/summary/revisions"))
                .await?;
            panel["form"] = match &draft {
                Some(draft) => draft.fields.clone(),
                None => json!({
                    "title": summary.title,
                    "summary": summary.summary,
                    "problem": summary.problem,
                    "actions": summary.actions.join("\n"),
                    "follow_up": summary.follow_up,
                    "outcome": summary.outcome,
                    "issue_types": summary.issue_types.join("\n"),
                    "applications": summary.applications.join("\n"),
                }),
            };
            panel["problem"] = json!(draft.map(|draft| draft.problem));
            panel["summary"] = json!(summary);
            panel["revisions"] = revisions["items"].clone();
        }
        // An unknown (or another company's) session: the list stays, the panel says so.
        StatusCode::NOT_FOUND => panel["missing"] = json!(true),
        StatusCode::UNAUTHORIZED => return Err(reply.failure()),
        _ => {
            let mut state = reply.json();
            if let Some(reason) = state["reason"].as_str() {
                state["reason"] = json!(super::labels::skip_reason(visitor.language, reason));
            }
            panel["state"] = state;
        }
    }
    Ok(panel)
}

/// Characters a path segment or query value keeps as they are (RFC 3986's unreserved ones).
const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A path segment with its reserved characters escaped.
pub fn url_escape(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, UNRESERVED).to_string()
}

/// The edit form's fields.
// A missing field reads as empty: the form is then refused with its reason on the page.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EditForm {
    csrf: String,
    back: String,
    title: String,
    summary: String,
    problem: String,
    actions: String,
    follow_up: String,
    outcome: String,
    /// Issue type ids, one per line.
    #[serde(default)]
    issue_types: String,
    /// Application names, one per line.
    #[serde(default)]
    applications: String,
}

/// The non-empty lines of a text box.
fn lines_of(text: &str) -> Vec<&str> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect()
}

/// `POST /insights/{id}/edit`: the API keeps the replaced text as a revision with who and when.
pub async fn edit(
    visitor: Visitor,
    Path(id): Path<String>,
    Form(form): Form<EditForm>,
) -> Response {
    let result = async {
        visitor.check_csrf(&form.csrf)?;
        let change = json!({
            "title": form.title.trim(), "summary": form.summary.trim(), "problem": form.problem.trim(),
            "actions": lines_of(&form.actions), "follow_up": form.follow_up.trim(), "outcome": form.outcome,
            "issue_types": lines_of(&form.issue_types), "applications": lines_of(&form.applications),
        });
        let reply = visitor
            .api
            .call(Method::PATCH, &format!("/sessions/{}/summary", url_escape(&id)), Some(&change))
            .await?;
        let query = InsightsQuery::from_back(&form.back);
        match reply.status {
            status if status.is_success() => {
                let mut state = query.opened(&id);
                state.notice = Some("saved".into());
                Ok(Redirect::to(&format!("/insights?{}", state.encode())).into_response())
            }
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(reply.failure()),
            _ => {
                let draft = Draft {
                    fields: json!({
                        "title": form.title, "summary": form.summary, "problem": form.problem,
                        "actions": form.actions, "follow_up": form.follow_up, "outcome": form.outcome,
                        "issue_types": form.issue_types, "applications": form.applications,
                    }),
                    problem: reply.problem(),
                };
                let mut page = render(&visitor, &query.opened(&id), Some(draft)).await?;
                *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
                Ok(page)
            }
        }
    }
    .await;
    visitor.finish(result)
}

/// A form that acts on one summary.
// A missing field reads as empty: the form is then refused with its reason on the page.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ActionForm {
    csrf: String,
    back: String,
    format: Option<String>,
    language: Option<String>,
}

/// `POST /insights/{id}/delete`, after the panel's confirmation.
pub async fn delete(
    visitor: Visitor,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Response {
    let result = async {
        visitor.check_csrf(&form.csrf)?;
        let reply = visitor
            .api
            .call(
                Method::DELETE,
                &format!("/sessions/{}/summary", url_escape(&id)),
                None,
            )
            .await?;
        match reply.status {
            status if status.is_success() => {
                let query = InsightsQuery::from_back(&form.back);
                let mut state = query.list_only();
                state.notice = Some("deleted".into());
                Ok(Redirect::to(&format!("/insights?{}", state.encode())).into_response())
            }
            _ => Err(reply.failure()),
        }
    }
    .await;
    visitor.finish(result)
}

/// `POST /insights/{id}/export`: one summary's file, as a download.
pub async fn export(
    visitor: Visitor,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Response {
    let request = json!({
        "format": form.format.as_deref().unwrap_or("pdf"),
        "language": form.language,
        "session_ids": [id],
    });
    let result = download(&visitor, &form.csrf, &request).await;
    visitor.finish(result)
}

/// `POST /insights/export`: every summary of the list as it is filtered (period, words, issue
/// type, application, supporter), newest first, as a download.
pub async fn export_list(visitor: Visitor, Form(form): Form<ActionForm>) -> Response {
    let query = InsightsQuery::from_back(&form.back);
    let now = visitor.state.clock.now();
    let (from, to) = query
        .period(now)
        .unwrap_or((now - TimeDelta::days(30), now));
    let request = json!({
        "format": form.format.as_deref().unwrap_or("pdf"),
        "language": form.language,
        "from": instant(from),
        "to": instant(to),
        "q": query.q,
        "issue_type": query.issue_type,
        "application": query.application,
        "supporter": query.supporter,
    });
    let result = download(&visitor, &form.csrf, &request).await;
    visitor.finish(result)
}

/// The file `POST /api/v1/exports` renders for `request`, passed on as a download.
async fn download(visitor: &Visitor, csrf: &str, request: &Value) -> Result<Response, WebError> {
    visitor.check_csrf(csrf)?;
    let reply = visitor
        .api
        .call(Method::POST, "/exports", Some(request))
        .await?;
    match reply.status {
        StatusCode::OK => {
            let mut response = reply.body.into_response();
            for header in [CONTENT_TYPE, CONTENT_DISPOSITION] {
                if let Some(value) = reply.headers.get(&header) {
                    response.headers_mut().insert(header, value.clone());
                }
            }
            Ok(response)
        }
        _ => Err(reply.failure()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_the_last_days_or_whole_custom_dates() {
        let now = DateTime::parse_from_rfc3339("2026-11-30T12:00:00Z")
            .map(|at| at.to_utc())
            .unwrap_or_default();
        let query = |period: &str, from: &str, to: &str| InsightsQuery {
            period: Some(period.into()),
            from: Some(from.into()),
            to: Some(to.into()),
            ..InsightsQuery::default()
        };
        assert_eq!(
            query("7", "", "").period(now),
            Ok((now - TimeDelta::days(7), now))
        );
        assert_eq!(
            InsightsQuery::default().period(now),
            Ok((now - TimeDelta::days(30), now))
        );
        let (from, to) = query("custom", "2026-11-01", "2026-11-02")
            .period(now)
            .unwrap_or((now, now));
        assert_eq!(
            (instant(from), instant(to)),
            ("2026-11-01T00:00:00Z".into(), "2026-11-03T00:00:00Z".into())
        );
        assert_eq!(
            query("custom", "2026-11-05", "2026-11-02").period(now),
            Err(())
        );
        assert_eq!(
            query("custom", "yesterday", "2026-11-02").period(now),
            Err(())
        );
    }

    #[test]
    fn the_panel_keeps_the_list_state_and_escapes_ids() {
        let query = InsightsQuery {
            q: Some("vpn & wifi".into()),
            page: Some(2),
            edit: Some("1".into()),
            ..InsightsQuery::default()
        };
        assert_eq!(
            query.opened("s/1").encode(),
            "q=vpn+%26+wifi&page=2&open=s%2F1"
        );
        assert_eq!(url_escape("a b/ç"), "a%20b%2F%C3%A7");
    }
}
