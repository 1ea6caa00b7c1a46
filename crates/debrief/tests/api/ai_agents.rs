use chrono::{Duration, Utc};
use debrief_engine::judge::Judge;
use debrief_workflows::evaluation::Evaluator;
use serde_json::{json, Value};

use crate::util::{json_of, TestApp};

fn plan(seats: u32, at_limit: &str) -> Value {
    json!({"plan": "team", "full_seats": seats, "overage_unit_price": "1.50", "at_limit": at_limit})
}

fn put(app: &TestApp, path: &str, body: &Value) -> reqwest::RequestBuilder {
    app.client
        .put(format!("{}{path}", app.address))
        .bearer_auth(&app.token)
        .json(body)
}

fn chat(id: &str, first_message_at: chrono::DateTime<Utc>) -> Value {
    json!({
        "id": id, "channel": "chat", "agent": "advanced_ticket_agent", "status": "replied",
        "events": [
            {"at": first_message_at.to_rfc3339(), "type": "message", "from": "end_user", "text": "Reset my password"},
            {"at": (first_message_at + Duration::seconds(1)).to_rfc3339(), "type": "message", "from": "ai_agent", "text": "Done."}
        ]
    })
}

#[tokio::test]
async fn the_plan_is_set_then_changed_and_changes_follow_it() {
    let app = TestApp::spawn().await;

    let (early_change, _) = json_of(
        app.post_json(
            "/api/v1/ai-agents/changes",
            &app.token,
            &json!({"type": "seats", "full": 3}),
        )
        .send()
        .await,
    )
    .await;
    let (bad_status, bad) = json_of(put(&app, "/api/v1/ai-agents/plan", &json!({"plan": "platinum", "full_seats": 1, "overage_unit_price": "1.50", "at_limit": "continue"})).send().await).await;
    let (created, _) = json_of(
        put(&app, "/api/v1/ai-agents/plan", &plan(2, "continue"))
            .send()
            .await,
    )
    .await;
    let (again, _) = json_of(
        put(&app, "/api/v1/ai-agents/plan", &plan(2, "continue"))
            .send()
            .await,
    )
    .await;
    let (seats, _) = json_of(
        app.post_json(
            "/api/v1/ai-agents/changes",
            &app.token,
            &json!({"type": "seats", "full": 3}),
        )
        .send()
        .await,
    )
    .await;
    let (small_commitment, small) = json_of(
        app.post_json(
            "/api/v1/ai-agents/changes",
            &app.token,
            &json!({"type": "commitment", "units": 50, "unit_price": "1.00"}),
        )
        .send()
        .await,
    )
    .await;
    let (not_a_change, _) = json_of(
        app.post_json(
            "/api/v1/ai-agents/changes",
            &app.token,
            &json!({"type": "resolution"}),
        )
        .send()
        .await,
    )
    .await;
    let (_, status) = json_of(app.get("/api/v1/ai-agents/status", &app.token).send().await).await;

    assert_eq!(early_change, 409, "changes need a plan");
    assert_eq!(
        (bad_status, bad["details"]["field"].as_str()),
        (422, Some("plan"))
    );
    assert_eq!(
        (created, again, seats),
        (201, 200, 201),
        "the plan is set, then changed"
    );
    assert_eq!(
        (small_commitment, small["details"]["field"].as_str()),
        (422, Some("units"))
    );
    assert_eq!(not_a_change, 422);
    assert_eq!(status["state"], "running");
    assert_eq!(
        status["allowance_left"], 10,
        "two seats of the team plan this month"
    );
    app.stop().await;
}

#[tokio::test]
async fn paused_agents_refuse_new_conversations_with_the_reason() {
    let app = TestApp::spawn().await;
    let now = Utc::now();
    app.post_json("/api/v1/conversations", &app.token, &chat("before", now))
        .send()
        .await
        .expect("ingest");
    put(&app, "/api/v1/ai-agents/plan", &plan(0, "pause"))
        .send()
        .await
        .expect("plan");

    let (_, status) = json_of(app.get("/api/v1/ai-agents/status", &app.token).send().await).await;
    let (refused, refusal) = json_of(
        app.post_json("/api/v1/conversations", &app.token, &chat("new", now))
            .send()
            .await,
    )
    .await;
    let mut update = chat("before", now);
    update["status"] = json!("solved");
    let (existing, _) = json_of(
        app.post_json("/api/v1/conversations", &app.token, &update)
            .send()
            .await,
    )
    .await;
    app.post_json(
        "/api/v1/ai-agents/changes",
        &app.token,
        &json!({"type": "commitment", "units": 100, "unit_price": "1.00"}),
    )
    .send()
    .await
    .expect("commit");
    let (accepted, _) = json_of(
        app.post_json("/api/v1/conversations", &app.token, &chat("new", now))
            .send()
            .await,
    )
    .await;
    app.post_json(
        "/api/v1/ai-agents/changes",
        &app.token,
        &json!({"type": "ai_agents", "enabled": false}),
    )
    .send()
    .await
    .expect("off");
    let (off, _) = json_of(
        app.post_json("/api/v1/conversations", &app.token, &chat("newer", now))
            .send()
            .await,
    )
    .await;
    let (_, off_status) =
        json_of(app.get("/api/v1/ai-agents/status", &app.token).send().await).await;

    assert_eq!(status["state"], "paused");
    assert!(
        status["reason"].as_str().unwrap_or("").contains("used up"),
        "{status}"
    );
    assert_eq!(refused, 409);
    assert!(
        refusal["message"].as_str().unwrap_or("").contains("paused"),
        "{refusal}"
    );
    assert_eq!(existing, 200, "conversations already running go on");
    assert_eq!(accepted, 201, "a commitment resumes the agents");
    assert_eq!((off, off_status["state"].as_str()), (409, Some("disabled")));
    app.stop().await;
}

#[tokio::test]
async fn usage_shows_the_month_from_allowance_overage_and_by_channel() {
    let app = TestApp::spawn().await;
    put(&app, "/api/v1/ai-agents/plan", &plan(1, "continue"))
        .send()
        .await
        .expect("plan");
    let first_message = Utc::now() - Duration::hours(72) + Duration::seconds(1);
    let conversations: Vec<Value> = (0..7)
        .map(|index| chat(&format!("c-{index}"), first_message))
        .collect();
    app.post_json(
        "/api/v1/conversations",
        &app.token,
        &Value::Array(conversations),
    )
    .send()
    .await
    .expect("ingest");
    let evaluator = Evaluator {
        store: app.store.clone(),
        judge: debrief_llm::engine::ResolutionCheck::InProcess(Judge::AlwaysPass),
        llm: app.llm.clone(),
        name: "test".into(),
        metrics: Default::default(),
    };

    let recorded = evaluator
        .run_once(Utc::now() + Duration::seconds(30))
        .await
        .expect("round");
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    let (_, verdict) = json_of(
        app.get("/api/v1/conversations/c-0", &app.token)
            .send()
            .await,
    )
    .await;
    let decided: chrono::DateTime<Utc> = verdict["verdict"]["decided_at"]
        .as_str()
        .expect("decided")
        .parse()
        .expect("time");
    let period = decided
        .with_timezone(&chrono_tz::Europe::Berlin)
        .format("%Y-%m")
        .to_string();
    let (status, usage) = json_of(
        app.get(
            &format!("/api/v1/usage/resolutions?period={period}"),
            &app.token,
        )
        .send()
        .await,
    )
    .await;
    let (bad_period, _) = json_of(
        app.get("/api/v1/usage/resolutions?period=2026-13", &app.token)
            .send()
            .await,
    )
    .await;

    assert_eq!(recorded, 7);
    assert_eq!(status, 200, "{usage}");
    assert_eq!(usage["consumed"], 7);
    assert_eq!(
        (
            usage["from_allowance"].as_i64(),
            usage["overage_units"].as_i64()
        ),
        (Some(5), Some(2))
    );
    assert_eq!(usage["overage_amount"], "3.00");
    assert_eq!(usage["allowance_left"], 0);
    assert_eq!(
        usage["by_channel"],
        json!([{"channel": "chat", "counted": 7}])
    );
    assert!(usage["projected"].as_i64().unwrap_or(0) >= 7);
    assert_eq!(bad_period, 400);

    let (_, listed) = json_of(
        app.get(
            &format!("/api/v1/usage/resolutions/conversations?period={period}"),
            &app.token,
        )
        .send()
        .await,
    )
    .await;
    let csv = app
        .get(
            &format!("/api/v1/usage/resolutions/conversations?period={period}&format=csv"),
            &app.token,
        )
        .send()
        .await
        .expect("answered");
    let content_type = crate::util::content_type(&csv);
    let csv_text = csv.text().await.expect("text");
    let (_, alerts) = json_of(app.get("/api/v1/usage/alerts", &app.token).send().await).await;
    let again = evaluator
        .run_once(Utc::now() + Duration::seconds(60))
        .await
        .expect("round");
    let (_, alerts_again) = json_of(app.get("/api/v1/usage/alerts", &app.token).send().await).await;

    assert_eq!(listed["conversations"].as_array().map(Vec::len), Some(7));
    assert_eq!(
        listed["conversations"][0]["rule"],
        "advanced_ticket.replied"
    );
    assert!(content_type.starts_with("text/csv"));
    let mut rows = csv_text.lines();
    assert_eq!(
        rows.next(),
        Some("id,channel,verdict,rule,reason,decided_at,judge")
    );
    assert_eq!(rows.count(), 7);
    let thresholds: Vec<i64> = alerts["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .filter_map(|alert| alert["threshold"].as_i64())
        .collect();
    assert_eq!(
        thresholds,
        [100, 80],
        "five of five included resolutions used"
    );
    assert_eq!(again, 0);
    assert_eq!(
        alerts_again["alerts"].as_array().map(Vec::len),
        Some(2),
        "each threshold once per month"
    );
    app.stop().await;
}
