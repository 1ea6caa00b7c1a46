//! The billing meter against its audit: a long random history (plan and tier changes, seats,
//! commitments, settings, the AI-agent switch, credit settings, counted resolutions, some
//! written by a second server at the same time), and after every line the meter's statement and
//! status equal the whole timeline replayed — on SQLite and on PostgreSQL. Then what a finance
//! team relies on through the API: a purchase keeps its price after the add-on price changes,
//! the free credits are the operator's, a plan change shows in the next month's allowance.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use debrief_core::billing::{timeline_time, Simulator, TimedEvent, TimelineEvent};
use debrief_store::{Company, Store};
use debrief_workflows::clock::Clock;
use debrief_workflows::timeline::{
    company_timeline, meter, replayed_statement, statement, History,
};
use reqwest::Method;
use serde_json::{json, Value};

use crate::util::TestApp;

/// A small deterministic generator (64-bit LCG), so that a failing history can be replayed.
struct Random(u64);

impl Random {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound
    }
}

/// The whole timeline replayed and brought to `now`: the audit of the meter's status.
async fn replayed_status(store: &dyn Store, company: &Company, now: DateTime<Utc>) -> Value {
    let timeline = company_timeline(store, company, History::Full)
        .await
        .expect("timeline");
    let mut events = timeline
        .lines
        .iter()
        .map(|line| TimedEvent::parse_json(line).expect("a valid line"));
    let first = events.next().expect("account");
    let TimelineEvent::Account(account) = first.event else {
        panic!("the timeline starts with its account");
    };
    let mut simulator = Simulator::new(first.at, *account).expect("account");
    let mut rest: Vec<TimedEvent> = events.collect();
    rest.sort_by_key(|event| event.at);
    for event in &rest {
        simulator.apply(event).expect("replays");
    }
    simulator.advance(now);
    status_of(&simulator)
}

fn status_of(simulator: &Simulator) -> Value {
    json!({
        "status": format!("{:?}", simulator.agents_status()),
        "allowance_left": simulator.allowance_left(),
        "commitment_left": simulator.commitment_left(),
        "open_month": simulator.open_month(),
    })
}

/// One random timeline line at `at`.
fn random_line(random: &mut Random, at: DateTime<Utc>) -> (&'static str, Value) {
    let at = timeline_time(at);
    match random.below(20) {
        0 => (
            "seats",
            json!({"at": at, "type": "seats", "full": random.below(6)}),
        ),
        1 => (
            "commitment",
            json!({"at": at, "type": "commitment", "units": 100 + random.below(3) * 50, "unit_price": "1.25"}),
        ),
        2 => {
            let cap = if random.below(2) == 0 {
                Value::Null
            } else {
                json!(random.below(8))
            };
            let at_limit = if random.below(2) == 0 {
                "pause"
            } else {
                "continue"
            };
            (
                "settings",
                json!({"at": at, "type": "settings", "at_limit": at_limit, "monthly_cap": cap}),
            )
        }
        3 => (
            "ai_agents",
            json!({"at": at, "type": "ai_agents", "enabled": random.below(4) != 0}),
        ),
        4 => {
            let plan = ["team", "professional", "growth", "enterprise"][random.below(4) as usize];
            ("plan", json!({"at": at, "type": "plan", "plan": plan}))
        }
        5 => (
            "credit_settings",
            json!({"at": at, "type": "credit_settings",
                   "addon": {"credits": 10 + random.below(100), "annual_price": format!("{}.00", 100 + random.below(900))},
                   "free_monthly_credits": random.below(20)}),
        ),
        6 => {
            let tier = ["standard", "business", "premium", "corporate", "tensor"]
                [random.below(5) as usize];
            (
                "tier",
                json!({"at": at, "type": "tier", "tier": tier, "from": "premium"}),
            )
        }
        _ => ("resolution", json!({"at": at, "type": "resolution"})),
    }
}

async fn assert_meter_is_its_audit(
    store: &dyn Store,
    company: &Company,
    now: DateTime<Utc>,
    step: usize,
) {
    let kept = statement(store, company).await.expect("statement");
    let replayed = replayed_statement(store, company).await.expect("replay");
    assert_eq!(
        serde_json::to_value(&kept).expect("json"),
        serde_json::to_value(&replayed).expect("json"),
        "statement after line {step}"
    );
    let metered = meter(store, company, now)
        .await
        .expect("meter")
        .expect("a plan is set");
    assert_eq!(
        status_of(&metered),
        replayed_status(store, company, now).await,
        "status after line {step}"
    );
}

async fn random_history(app: TestApp) {
    let second: Arc<dyn Store> = debrief_store::connect(&app.database_url())
        .await
        .expect("a second server's store");
    let store = app.store.clone();
    let company = store.company_by_name("acme").await.expect("company");
    let mut at = company.created_at + Duration::minutes(5);
    let plan = json!({"at": timeline_time(at), "type": "account", "time_zone": "Europe/Berlin",
        "tier": "premium", "term_start": "2026-01-01", "addon": {"credits": 0, "annual_price": "0.00"},
        "out_of_credits": {"mode": "stop"},
        "resolutions": {"plan": "team", "full_seats": 2, "overage_unit_price": "2.00", "at_limit": "continue"}});
    store
        .append_billing_event(&company.id, at, "account", &plan.to_string())
        .await
        .expect("plan");
    let mut random = Random(0x5eed);
    for step in 0..240 {
        at += Duration::minutes(1 + random.below(60 * 24 * 4) as i64);
        let (kind, line) = random_line(&mut random, at);
        let writer = if step % 2 == 0 { &store } else { &second };
        writer
            .append_billing_event(&company.id, at, kind, &line.to_string())
            .await
            .expect("line");
        assert_meter_is_its_audit(store.as_ref(), &company, at, step).await;
    }
    // Two servers at once, each counting resolutions dated slightly before the other's.
    let write = |writer: Arc<dyn Store>, offset: i64| {
        let company = company.id.clone();
        async move {
            for n in 0..40 {
                let time = at + Duration::seconds(n * 2 + offset);
                let line = json!({"at": timeline_time(time), "type": "resolution"});
                writer
                    .append_billing_event(&company, time, "resolution", &line.to_string())
                    .await
                    .expect("concurrent line");
            }
        }
    };
    tokio::join!(write(store.clone(), 1), write(second.clone(), 0));
    let later = at + Duration::days(40);
    assert_meter_is_its_audit(store.as_ref(), &company, later, 240).await;
    let months = statement(store.as_ref(), &company)
        .await
        .expect("statement");
    let counted: i64 = months
        .iter()
        .map(|month| {
            month.resolutions.from_allowance
                + month.resolutions.from_commitment
                + month.resolutions.overage_units
                + month.resolutions.refused
        })
        .sum();
    let lines = store
        .billing_events_of_kinds(&company.id, &["resolution"])
        .await
        .expect("lines");
    assert_eq!(
        counted,
        lines.len() as i64,
        "every resolution line is metered once"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_random_history_keeps_its_meter_equal_to_its_replay_on_sqlite() {
    random_history(TestApp::spawn().await).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: DEBRIEF_TEST_DATABASE_URL (scripts/setup.sh sets it up)"]
async fn a_random_history_keeps_its_meter_equal_to_its_replay_on_postgres() {
    let builder = TestApp::builder().on_postgres();
    random_history(builder.spawn().await).await;
}

/// The first add-on charge of a statement.
fn first_charge(statement: &Value) -> Option<Value> {
    statement.as_array()?.iter().find_map(|month| {
        month["addon_charges"]
            .as_array()
            .and_then(|charges| charges.first().cloned())
    })
}

#[tokio::test]
async fn history_is_never_re_priced_and_free_credits_are_the_operators() {
    let start = Utc::now() + Duration::days(1);
    let clock = Clock::manual(start);
    let app = TestApp::builder().with_clock(clock.clone()).spawn().await;
    let token = app.token.clone();
    let (status, _) = app
        .call(
            Method::PUT,
            "/api/v1/credits/settings",
            &token,
            Some(json!({"addon": {"credits": 100, "annual_price": "300.00"}})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = app
        .call(
            Method::POST,
            "/api/v1/credits/purchases",
            &token,
            Some(json!({"packs": 1})),
        )
        .await;
    assert_eq!(status, 201);
    let (_, before) = app
        .call(Method::GET, "/api/v1/billing/statement", &token, None)
        .await;
    let purchase = first_charge(&before).expect("the purchase is on the statement");

    clock.set(clock.now() + Duration::hours(2));
    let (status, _) = app
        .call(
            Method::PUT,
            "/api/v1/credits/settings",
            &token,
            Some(json!({"addon": {"credits": 250, "annual_price": "999.00"}})),
        )
        .await;
    assert_eq!(status, 200);
    let (_, after) = app
        .call(Method::GET, "/api/v1/billing/statement", &token, None)
        .await;
    let still = first_charge(&after);
    assert_eq!(
        still,
        Some(purchase),
        "the purchase keeps its price and credits"
    );

    // The free credits are the operator's: a company admin naming another number is refused.
    let (status, body) = app
        .call(Method::PUT, "/api/v1/credits/settings", &token,
              Some(json!({"addon": {"credits": 250, "annual_price": "999.00"}, "free_monthly_credits": 100000})))
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(body.to_string().contains("free_monthly_credits"), "{body}");
    let (_, settings) = app
        .call(Method::GET, "/api/v1/credits/settings", &token, None)
        .await;
    assert_eq!(
        settings["free_monthly_credits"],
        Value::Null,
        "nothing was stored"
    );

    // The server's statement is its exported history simulated.
    let company = app.store.company_by_name("acme").await.expect("company");
    let replayed = replayed_statement(app.store.as_ref(), &company)
        .await
        .expect("replay");
    assert_eq!(after, serde_json::to_value(replayed).expect("json"));
    app.stop().await;
}

#[tokio::test]
async fn a_plan_change_shows_in_the_next_months_allowance() {
    let start = Utc::now() + Duration::days(1);
    let clock = Clock::manual(start);
    let app = TestApp::builder().with_clock(clock.clone()).spawn().await;
    let token = app.token.clone();
    let plan = |name: &str| json!({"plan": name, "full_seats": 2, "overage_unit_price": "1.50", "at_limit": "continue"});
    let (status, _) = app
        .call(
            Method::PUT,
            "/api/v1/ai-agents/plan",
            &token,
            Some(plan("team")),
        )
        .await;
    assert_eq!(status, 201);
    let (status, body) = app
        .call(
            Method::PUT,
            "/api/v1/ai-agents/plan",
            &token,
            Some(plan("enterprise")),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app
        .call(Method::PUT, "/api/v1/ai-agents/plan", &token,
              Some(json!({"plan": "enterprise", "full_seats": 2, "overage_unit_price": "9.00", "at_limit": "continue"})))
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("overage_unit_price"), "{body}");

    let (_, this_month) = app
        .call(Method::GET, "/api/v1/usage/resolutions", &token, None)
        .await;
    assert_eq!(
        this_month["allowance_added"], 10,
        "team: 2 seats × 5 this month"
    );
    clock.set(clock.now() + Duration::days(40));
    let (_, next_month) = app
        .call(Method::GET, "/api/v1/usage/resolutions", &token, None)
        .await;
    assert_eq!(
        next_month["allowance_added"], 30,
        "enterprise: 2 seats × 15 from the next month"
    );
    app.stop().await;
}
