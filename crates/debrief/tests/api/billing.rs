//! The server's statement is the company's real history replayed by the billing rules: a
//! company driven through the API with a controlled clock (AI actions, add-on purchase,
//! renewal and cancellation, plan, seats, commitment, counted resolutions, a pause), its
//! history exported with `debrief billing export-timeline` and simulated with `debrief billing
//! simulate`, gives exactly the server's statement.

use std::process::Command;

use chrono::{DateTime, Duration, TimeZone, Utc};
use debrief_workflows::clock::Clock;
use debrief_workflows::evaluation::Evaluator;
use reqwest::Method;
use serde_json::{json, Value};

use crate::util::{session_json, TestApp};

fn chat(id: &str, first_message_at: DateTime<Utc>) -> Value {
    json!({
        "id": id, "channel": "chat", "agent": "advanced_ticket_agent", "status": "replied",
        "events": [
            {"at": first_message_at.to_rfc3339(), "type": "message", "from": "end_user", "text": "Reset my password"},
            {"at": (first_message_at + Duration::seconds(1)).to_rfc3339(), "type": "message", "from": "ai_agent", "text": "Done."}
        ]
    })
}

fn debrief(arguments: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_debrief"))
        .args(arguments)
        .env_remove("DEBRIEF_DATABASE_URL")
        .output()
        .expect("debrief runs")
}

#[tokio::test]
async fn the_servers_statement_is_its_exported_history_simulated() {
    // The company is created now; the clock then walks from the next day over a renewal.
    let start = Utc::now() + Duration::days(1);
    let clock = Clock::manual(start);
    let app = TestApp::builder().with_clock(clock.clone()).spawn().await;
    let evaluator = Evaluator {
        store: app.store.clone(),
        judge: debrief_llm::engine::ResolutionCheck::InProcess(
            debrief_engine::judge::Judge::AlwaysPass,
        ),
        llm: app.llm.clone(),
        name: "test".into(),
        metrics: Default::default(),
    };
    let token = app.token.clone();
    let call = |method: Method, path: &str, body: Option<Value>| {
        let (app, token, path) = (&app, token.clone(), path.to_string());
        async move { app.call(method, &path, &token, body).await }
    };
    let actions = |ids: Vec<String>| {
        let call = &call;
        async move {
            for id in ids {
                call(Method::POST, "/api/v1/sessions", Some(session_json(&id))).await;
                call(
                    Method::POST,
                    &format!("/api/v1/sessions/{id}/ai-actions"),
                    None,
                )
                .await;
                call(
                    Method::POST,
                    &format!("/api/v1/sessions/{id}/ai-actions"),
                    None,
                )
                .await;
            }
        }
    };

    // Month 1: a plan, AI actions, an add-on pack, a commitment, more seats, resolutions.
    call(
        Method::PUT,
        "/api/v1/ai-agents/plan",
        Some(json!({"plan": "team", "full_seats": 1, "overage_unit_price": "1.50", "at_limit": "continue"})),
    )
    .await;
    call(
        Method::PUT,
        "/api/v1/credits/settings",
        Some(json!({"addon": {"credits": 50, "annual_price": "120.00"}})),
    )
    .await;
    actions((1..=4).map(|n| format!("a-{n}")).collect()).await;
    let (bought, _) = call(
        Method::POST,
        "/api/v1/credits/purchases",
        Some(json!({"packs": 1})),
    )
    .await;
    call(
        Method::POST,
        "/api/v1/ai-agents/changes",
        Some(json!({"type": "commitment", "units": 100, "unit_price": "1.00"})),
    )
    .await;
    call(
        Method::POST,
        "/api/v1/ai-agents/changes",
        Some(json!({"type": "seats", "full": 2})),
    )
    .await;
    // Due 72 hours after their first message, after the plan was set: billed.
    let conversations: Vec<Value> = (0..4)
        .map(|n| chat(&format!("c-{n}"), clock.now() - Duration::hours(71)))
        .collect();
    call(
        Method::POST,
        "/api/v1/conversations",
        Some(Value::Array(conversations)),
    )
    .await;
    evaluator
        .run_once(clock.now() + Duration::hours(2))
        .await
        .expect("round");

    // Month 2: more actions, a pause at the limit, more resolutions.
    clock.set(start + Duration::days(18));
    actions((5..=7).map(|n| format!("b-{n}")).collect()).await;
    call(
        Method::POST,
        "/api/v1/ai-agents/changes",
        Some(json!({"type": "settings", "at_limit": "pause"})),
    )
    .await;
    let conversations: Vec<Value> = (4..7)
        .map(|n| chat(&format!("c-{n}"), clock.now() - Duration::hours(73)))
        .collect();
    call(
        Method::POST,
        "/api/v1/conversations",
        Some(Value::Array(conversations)),
    )
    .await;
    evaluator.run_once(clock.now()).await.expect("round");

    // After the term renews: the pack renews; then it is cancelled.
    clock.set(
        Utc.with_ymd_and_hms(2027, 1, 15, 12, 0, 0)
            .single()
            .expect("time")
            .max(start + Duration::days(45)),
    );
    actions(vec!["c-1".into()]).await;
    call(Method::POST, "/api/v1/credits/cancel-renewal", None).await;
    clock.set(clock.now() + Duration::days(20));
    actions(vec!["d-1".into()]).await;

    let (status, statement) = call(Method::GET, "/api/v1/billing/statement", None).await;
    let directory = tempfile::tempdir().expect("tempdir");
    let timeline = directory.path().join("timeline.jsonl");
    let simulated = directory.path().join("statement.jsonl");
    let database = app.database_url();
    let exported = debrief(&[
        "billing",
        "export-timeline",
        "--company",
        "acme",
        "--db",
        &database,
        "--output",
        timeline.to_str().expect("path"),
    ]);
    let simulation = debrief(&[
        "billing",
        "simulate",
        "--input",
        timeline.to_str().expect("path"),
        "--output",
        simulated.to_str().expect("path"),
    ]);
    let table = debrief(&[
        "billing",
        "statement",
        "--company",
        "acme",
        "--db",
        &database,
        "--format",
        "csv",
    ]);
    let replayed: Vec<Value> = std::fs::read_to_string(&simulated)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).expect("json"))
        .collect();
    let (_, credits) = call(Method::GET, "/api/v1/credits", None).await;
    let (_, partial) = call(
        Method::GET,
        "/api/v1/billing/statement?from=2027-01&to=2027-01",
        None,
    )
    .await;
    let (bad_month, _) = call(Method::GET, "/api/v1/billing/statement?from=2027-13", None).await;

    assert_eq!(status, 200);
    assert_eq!(bought, 201);
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    assert!(
        simulation.status.success(),
        "{}",
        String::from_utf8_lossy(&simulation.stderr)
    );
    assert_eq!(
        Value::Array(replayed),
        statement,
        "simulating the export gives the server's statement"
    );
    let months = statement.as_array().cloned().unwrap_or_default();
    assert!(months.len() >= 3, "{statement}");
    let consumed: i64 = months
        .iter()
        .filter_map(|month| month["credits"]["consumed"].as_i64())
        .sum();
    assert_eq!(consumed, 9, "one credit per session: {statement}");
    let renewals: Vec<Value> = months
        .iter()
        .flat_map(|month| {
            month["addon_charges"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter(|charge| charge["kind"] == "renewal")
        .collect();
    assert_eq!(renewals.len(), 1, "the pack renews once: {statement}");
    assert_eq!(renewals[0]["price"], "120.00");
    let counted: i64 = months
        .iter()
        .map(|month| {
            ["from_allowance", "from_commitment", "overage_units"]
                .iter()
                .filter_map(|field| month["resolutions"][field].as_i64())
                .sum::<i64>()
        })
        .sum();
    assert_eq!(
        counted, 7,
        "every counted resolution is billed: {statement}"
    );
    let commitments: usize = months
        .iter()
        .filter_map(|month| month["commitments"].as_array().map(Vec::len))
        .sum();
    assert_eq!(commitments, 1);
    let this_month = months.last().expect("a month");
    assert_eq!(
        this_month["credits"]["consumed"], credits["month"]["consumed"],
        "the statement and the live ledger agree on this month's use"
    );
    assert_eq!(partial.as_array().map(Vec::len), Some(1));
    assert_eq!(bad_month, 422);
    let csv = String::from_utf8_lossy(&table.stdout);
    assert!(
        csv.starts_with("month,credits_free,credits_addon,consumed"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), months.len() + 1);
    app.stop().await;
}
