//! A company's billing history as a timeline (FORMATS.md section 6), built from what the
//! server stored: the account (the company's time zone, tier and term, its credit settings and
//! its automated-resolution plan), the plan's changes and counted resolutions, add-on purchases
//! and cancellations, and every AI action that charged a session or was refused. The server's
//! statement and its AI-agent status are this timeline replayed by `debrief_core::billing`, the
//! code `debrief billing simulate` runs on an exported timeline.
//!
//! Readings chosen here: the account starts when the company was created. A plan set in the
//! month the company was created holds its seats from the start; a plan set later starts with
//! no seats and a `seats` change at that moment (seats count from the next month's allowance,
//! as for any seat change). Resolutions counted before the plan existed are not billed. The
//! credit settings in force now are the account's for the whole history.

use chrono::{DateTime, Datelike, Utc};
use debrief_core::billing::{
    simulate, timeline_time, MonthStatement, Simulator, TimedEvent, TimelineEvent,
};
use debrief_core::credits::OutOfCreditsSettings;
use debrief_store::{Company, Store};
use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};

/// The automated-resolution plan of a company without one: no seats, nothing billed.
fn no_plan() -> Value {
    json!({"plan": "team", "full_seats": 0, "overage_unit_price": "0.00", "at_limit": "continue", "monthly_cap": null})
}

/// A company's timeline, and whether it has an automated-resolution plan.
pub struct CompanyTimeline {
    /// JSON lines, the account first, the rest in time order.
    pub lines: Vec<String>,
    pub has_plan: bool,
}

/// Which parts of the history a timeline holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum History {
    /// Everything: the statement and the export.
    Full,
    /// Without add-on purchases and AI actions, which do not change automated resolutions:
    /// what the AI-agent status reads on every conversation it accepts.
    ResolutionsOnly,
}

/// The company's history as a timeline.
pub async fn company_timeline(
    store: &dyn Store,
    company: &Company,
    history: History,
) -> ApiResult<CompanyTimeline> {
    let stored: Vec<Value> = store
        .billing_events(&company.id)
        .await?
        .iter()
        .map(|line| {
            serde_json::from_str(line)
                .map_err(|error| ApiError::Internal(format!("stored billing line: {error}")))
        })
        .collect::<ApiResult<_>>()?;
    let plan = stored.iter().find(|line| line["type"] == "account");
    let plan_at = plan.and_then(|line| line["at"].as_str().map(str::to_string));
    let created = company.created_at;
    let mut resolutions = plan.map_or_else(no_plan, |line| line["resolutions"].clone());
    let mut events: Vec<(String, Value)> = Vec::new();
    if let (Some(at), Some(line)) = (&plan_at, plan) {
        let plan_time: DateTime<Utc> = at
            .parse()
            .map_err(|error| ApiError::Internal(format!("stored plan time: {error}")))?;
        let same_month = plan_time.year() == created.year() && plan_time.month() == created.month();
        if !same_month {
            resolutions["full_seats"] = json!(0);
            events.push((
                at.clone(),
                json!({"at": at, "type": "seats", "full": line["resolutions"]["full_seats"]}),
            ));
        }
    }
    for line in &stored {
        let at = line["at"].as_str().unwrap_or_default().to_string();
        let before_plan = plan_at.as_ref().is_none_or(|plan_at| at < *plan_at);
        match line["type"].as_str() {
            Some("account") => {}
            Some("resolution") if before_plan => {}
            _ => events.push((at, line.clone())),
        }
    }
    let credits = match history {
        History::Full => store.credit_history(&company.id).await?,
        History::ResolutionsOnly => Default::default(),
    };
    for (at, packs) in credits.purchases {
        let at = timeline_time(at);
        events.push((
            at.clone(),
            json!({"at": at, "type": "addon_purchase", "packs": packs}),
        ));
    }
    for (at, session) in credits.actions {
        let at = timeline_time(at);
        events.push((
            at.clone(),
            json!({"at": at, "type": "ai_action", "session": session}),
        ));
    }
    events.sort_by(|left, right| left.0.cmp(&right.0));

    let settings = crate::credits::settings(store, company).await?;
    let out_of_credits = match settings.out_of_credits {
        OutOfCreditsSettings::Stop => json!({"mode": "stop"}),
        OutOfCreditsSettings::AllowNegative { limit } => {
            json!({"mode": "allow_negative", "limit": limit})
        }
    };
    let account = json!({
        "at": timeline_time(created),
        "type": "account",
        "time_zone": company.time_zone,
        "tier": company.tier,
        "term_start": company.term_start.with_day(1).unwrap_or(company.term_start),
        "addon": {"credits": settings.addon.credits,
                  "annual_price": format!("{:.2}", settings.addon.annual_price.amount())},
        "out_of_credits": out_of_credits,
        "resolutions": resolutions,
    });
    let mut lines = vec![account.to_string()];
    lines.extend(events.into_iter().map(|(_, event)| event.to_string()));
    Ok(CompanyTimeline {
        lines,
        has_plan: plan.is_some(),
    })
}

/// The lines parsed, numbered from 1.
fn parsed(lines: &[String]) -> ApiResult<Vec<(u64, TimedEvent)>> {
    lines
        .iter()
        .enumerate()
        .map(|(index, line)| {
            TimedEvent::parse_json(line)
                .map(|event| (index as u64 + 1, event))
                .map_err(|error| {
                    ApiError::Internal(format!("timeline line {}: {error}", index + 1))
                })
        })
        .collect()
}

/// The company's monthly statement, from its creation to the month of its last event.
pub async fn statement(store: &dyn Store, company: &Company) -> ApiResult<Vec<MonthStatement>> {
    let timeline = company_timeline(store, company, History::Full).await?;
    simulate(parsed(&timeline.lines)?)
        .map_err(|(line, error)| ApiError::Internal(format!("timeline line {line}: {error}")))
}

/// The company's billing simulator brought to `now`; `None` while no automated-resolution
/// plan is set.
pub async fn replay(
    store: &dyn Store,
    company: &Company,
    now: DateTime<Utc>,
) -> ApiResult<Option<Simulator>> {
    let timeline = company_timeline(store, company, History::ResolutionsOnly).await?;
    if !timeline.has_plan {
        return Ok(None);
    }
    let mut events = parsed(&timeline.lines)?.into_iter().map(|(_, event)| event);
    let Some(account) = events.next() else {
        return Ok(None);
    };
    let TimelineEvent::Account(spec) = account.event else {
        return Ok(None);
    };
    let mut simulator = Simulator::new(account.at, *spec)
        .map_err(|error| ApiError::Internal(format!("billing account: {error}")))?;
    for event in events.filter(|event| event.at <= now) {
        simulator
            .apply(&event)
            .map_err(|error| ApiError::Internal(format!("billing line: {error}")))?;
    }
    simulator.advance(now);
    Ok(Some(simulator))
}
