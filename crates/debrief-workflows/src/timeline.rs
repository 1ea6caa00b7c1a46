//! A company's billing history as a timeline (FORMATS.md section 6), built from what the
//! server stored, and the company's **meter** — the billing rules' state kept by the store in
//! the transaction of each timeline line — which the AI-agent status, the usage, the alerts
//! and the statement read instead of replaying the history.
//!
//! The timeline: the account (the company's time zone, term, the tier and credit settings it
//! started with, and its automated-resolution plan), then every stored line — the plan's
//! changes, counted resolutions, credit-setting and tier changes, add-on cancellations — and the
//! credit ledger's purchases and AI actions. Replayed by `debrief billing simulate` it gives the
//! server's statement exactly: the audit.
//!
//! Readings chosen here: the account starts when the company was created. A plan set in the
//! month the company was created holds its seats from the start; a plan set later starts with
//! no seats and a `seats` change at that moment (seats count from the next month's allowance,
//! as for any seat change). Resolutions counted before the plan existed are not billed. History
//! is never re-priced: a company whose credit settings were never changed since they were
//! recorded has its present settings in the account; once changes are recorded, the account
//! holds the defaults and the first `credit_settings` line (at the company's creation) the
//! settings it had before. The tier is the one of the first `tier` line's `from`, else the
//! present one.

use chrono::{DateTime, Datelike, Utc};
use debrief_core::billing::{
    simulate, timeline_time, MonthStatement, Simulator, TimedEvent, TimelineEvent,
};
use debrief_core::credits::{CreditSettings, OutOfCreditsSettings};
use debrief_store::{Company, Store, StoreError};
use serde_json::{json, Value};

use crate::{WorkflowError, WorkflowResult};

/// The automated-resolution plan of a company without one: no seats, nothing billed.
fn no_plan() -> Value {
    json!({"plan": "team", "full_seats": 0, "overage_unit_price": "0.00", "at_limit": "continue", "monthly_cap": null})
}

/// The stored lines that change credits: the credit side of a statement reads only these.
const CREDIT_KINDS: [&str; 3] = ["credit_settings", "tier", "addon_cancel"];

/// A company's timeline, and whether it has an automated-resolution plan.
pub struct CompanyTimeline {
    /// JSON lines, the account first, the rest in time order.
    pub lines: Vec<String>,
    pub has_plan: bool,
    /// The last stored line read (0 with none).
    pub through_seq: i64,
}

/// Which parts of the history a timeline holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum History {
    /// Everything: the audit and the export.
    Full,
    /// The stored lines without add-on purchases and AI actions: what the meter is built from.
    Stored,
    /// What changes credits only: the account, credit-setting and tier changes, cancellations,
    /// purchases and AI actions (the credit side of a statement).
    Credits,
}

fn parse_line(line: &str) -> WorkflowResult<Value> {
    serde_json::from_str(line)
        .map_err(|error| WorkflowError::Internal(format!("stored billing line: {error}")))
}

/// The account line: the company as it started.
fn account_line(
    company: &Company,
    stored: &[Value],
    settings: &CreditSettings,
    resolutions: Value,
) -> Value {
    let recorded = stored.iter().any(|line| line["type"] == "credit_settings");
    let opening = if recorded {
        CreditSettings::default()
    } else {
        settings.clone()
    };
    let out_of_credits = match opening.out_of_credits {
        OutOfCreditsSettings::Stop => json!({"mode": "stop"}),
        OutOfCreditsSettings::AllowNegative { limit } => {
            json!({"mode": "allow_negative", "limit": limit})
        }
    };
    let tier = stored
        .iter()
        .find(|line| line["type"] == "tier")
        .map_or_else(|| json!(company.tier), |line| line["from"].clone());
    json!({
        "at": timeline_time(company.created_at),
        "type": "account",
        "time_zone": company.time_zone,
        "tier": tier,
        "free_monthly_credits": opening.free_monthly_credits,
        "term_start": company.term_start.with_day(1).unwrap_or(company.term_start),
        "addon": {"credits": opening.addon.credits,
                  "annual_price": format!("{:.2}", opening.addon.annual_price.amount())},
        "out_of_credits": out_of_credits,
        "resolutions": resolutions,
    })
}

/// The company's history as a timeline.
pub async fn company_timeline(
    store: &dyn Store,
    company: &Company,
    history: History,
) -> WorkflowResult<CompanyTimeline> {
    let (stored, through_seq) = match history {
        History::Full | History::Stored => {
            let lines = store.billing_events(&company.id).await?;
            let through = lines.last().map_or(0, |line| line.seq);
            (
                lines
                    .iter()
                    .map(|line| parse_line(&line.line))
                    .collect::<WorkflowResult<Vec<_>>>()?,
                through,
            )
        }
        History::Credits => {
            let mut kinds = vec!["account"];
            kinds.extend(CREDIT_KINDS);
            let lines = store.billing_events_of_kinds(&company.id, &kinds).await?;
            (
                lines
                    .iter()
                    .map(|line| parse_line(line))
                    .collect::<WorkflowResult<Vec<_>>>()?,
                0,
            )
        }
    };
    let plan = stored.iter().find(|line| line["type"] == "account");
    let plan_at = plan.and_then(|line| line["at"].as_str().map(str::to_string));
    let created = company.created_at;
    let mut resolutions = match (plan, history) {
        (Some(line), History::Full | History::Stored) => line["resolutions"].clone(),
        _ => no_plan(),
    };
    let mut events: Vec<(String, Value)> = Vec::new();
    if let (Some(at), Some(line), History::Full | History::Stored) = (&plan_at, plan, history) {
        let plan_time: DateTime<Utc> = at
            .parse()
            .map_err(|error| WorkflowError::Internal(format!("stored plan time: {error}")))?;
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
    if history != History::Stored {
        let credits = store.credit_history(&company.id).await?;
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
    }
    events.sort_by(|left, right| left.0.cmp(&right.0));

    let settings = crate::credits::settings(store, company).await?;
    let account = account_line(company, &stored, &settings, resolutions);
    let mut lines = vec![account.to_string()];
    lines.extend(events.into_iter().map(|(_, event)| event.to_string()));
    Ok(CompanyTimeline {
        lines,
        has_plan: plan.is_some(),
        through_seq,
    })
}

/// The lines parsed, numbered from 1.
fn parsed(lines: &[String]) -> WorkflowResult<Vec<(u64, TimedEvent)>> {
    lines
        .iter()
        .enumerate()
        .map(|(index, line)| {
            TimedEvent::parse_json(line)
                .map(|event| (index as u64 + 1, event))
                .map_err(|error| {
                    WorkflowError::Internal(format!("timeline line {}: {error}", index + 1))
                })
        })
        .collect()
}

fn replay_error((line, error): (u64, debrief_core::RecordError)) -> WorkflowError {
    WorkflowError::Internal(format!("timeline line {line}: {error}"))
}

/// The company's statement replayed from its whole timeline: the audit of [`statement`].
pub async fn replayed_statement(
    store: &dyn Store,
    company: &Company,
) -> WorkflowResult<Vec<MonthStatement>> {
    let timeline = company_timeline(store, company, History::Full).await?;
    simulate(parsed(&timeline.lines)?).map_err(replay_error)
}

/// The company's meter as stored (its last line applied, not brought to now); built from the
/// timeline and installed when the store has none. `None` while no automated-resolution plan
/// is set. The months it closed before are in `Store::billing_months`.
async fn stored_meter(store: &dyn Store, company: &Company) -> WorkflowResult<Option<Simulator>> {
    if let Some(state) = store.billing_meter(&company.id).await? {
        return Ok(Some(read_meter(&state)?));
    }
    if store
        .billing_events_of_kinds(&company.id, &["account"])
        .await?
        .is_empty()
    {
        return Ok(None);
    }
    for _ in 0..3 {
        let timeline = company_timeline(store, company, History::Stored).await?;
        let mut events = parsed(&timeline.lines)?.into_iter().map(|(_, event)| event);
        let Some(TimedEvent {
            at,
            event: TimelineEvent::Account(account),
        }) = events.next()
        else {
            return Err(WorkflowError::Internal(
                "the timeline starts without its account".into(),
            ));
        };
        let mut meter = Simulator::new(at, *account)
            .map_err(|error| WorkflowError::Internal(format!("billing account: {error}")))?;
        for event in events {
            meter
                .apply(&event)
                .map_err(|error| WorkflowError::Internal(format!("billing line: {error}")))?;
        }
        let closed = meter.take_closed_months();
        match store
            .install_billing_meter(&company.id, &meter, &closed, timeline.through_seq)
            .await
        {
            Ok(state) => return Ok(Some(read_meter(&state)?)),
            Err(StoreError::Conflict { .. }) => continue,
            Err(error) => return Err(error.into()),
        }
    }
    Err(WorkflowError::Internal(
        "the billing meter kept changing while it was built".into(),
    ))
}

fn read_meter(state: &str) -> WorkflowResult<Simulator> {
    serde_json::from_str(state)
        .map_err(|error| WorkflowError::Internal(format!("stored billing meter: {error}")))
}

/// The company's meter brought to `now` (months that ended closed, in memory); `None` while no
/// automated-resolution plan is set. One row read, whatever the length of the history.
pub async fn meter(
    store: &dyn Store,
    company: &Company,
    now: DateTime<Utc>,
) -> WorkflowResult<Option<Simulator>> {
    Ok(stored_meter(store, company).await?.map(|mut meter| {
        if now > meter.position() {
            meter.advance(now);
        }
        meter
    }))
}

/// A line that changes nothing, to bring a replay to `at`.
fn no_change(at: DateTime<Utc>) -> TimedEvent {
    TimedEvent {
        at,
        event: TimelineEvent::Settings {
            at_limit: None,
            monthly_cap: None,
        },
    }
}

/// The company's monthly statement, from its creation to the month of its last event: the
/// automated resolutions from the meter's stored months, the credits replayed from the few lines
/// that change them and the credit ledger. Equal to [`replayed_statement`].
pub async fn statement(
    store: &dyn Store,
    company: &Company,
) -> WorkflowResult<Vec<MonthStatement>> {
    let credit_timeline = company_timeline(store, company, History::Credits).await?;
    let mut credit_lines = parsed(&credit_timeline.lines)?;
    let Some(mut meter) = stored_meter(store, company).await? else {
        return simulate(credit_lines).map_err(replay_error);
    };
    let mut months = store.billing_months(&company.id).await?;
    let credits_end = credit_lines
        .iter()
        .map(|(_, event)| event.at)
        .max()
        .unwrap_or(meter.position());
    let end = credits_end.max(meter.position());
    if end > meter.position() {
        meter
            .apply(&no_change(end))
            .map_err(|error| WorkflowError::Internal(format!("billing line: {error}")))?;
    }
    months.extend(meter.finish());
    credit_lines.push((credit_lines.len() as u64 + 1, no_change(end)));
    let mut statement = simulate(credit_lines).map_err(replay_error)?;
    for month in &mut statement {
        if let Some(metered) = months.iter().find(|metered| metered.month == month.month) {
            month.resolutions = metered.resolutions.clone();
            month.commitments = metered.commitments.clone();
        }
    }
    Ok(statement)
}
