use chrono::{TimeZone, Utc};
use debrief_engine::judge::Judge;
use debrief_llm::engine::ResolutionCheck;
use debrief_workflows::evaluation::Evaluator;
use serde_json::{json, Value};

use crate::util::{json_of, TestApp};

fn ticket(id: &str, day: u32) -> Value {
    json!({
        "id": id, "channel": "ticket", "agent": "advanced_ticket_agent", "status": "replied",
        "events": [
            {"id": "e1", "at": format!("2026-06-{day:02}T09:00:00Z"), "type": "message", "from": "end_user", "text": "Cancel my subscription"},
            {"id": "e2", "at": format!("2026-06-{day:02}T09:01:00Z"), "type": "message", "from": "ai_agent", "text": "Done, it is cancelled."}
        ]
    })
}

fn evaluator(app: &TestApp, judge: Judge) -> Evaluator {
    Evaluator {
        store: app.store.clone(),
        judge: ResolutionCheck::InProcess(judge),
        llm: app.llm.clone(),
        name: "test-evaluator".into(),
        metrics: Default::default(),
    }
}

#[tokio::test]
async fn conversations_are_created_merged_and_idempotent() {
    let app = TestApp::spawn().await;

    let (created, first) = json_of(
        app.post_json("/api/v1/conversations", &app.token, &ticket("t-1", 1))
            .send()
            .await,
    )
    .await;
    let (again, unchanged) = json_of(
        app.post_json("/api/v1/conversations", &app.token, &ticket("t-1", 1))
            .send()
            .await,
    )
    .await;
    let mut newer = ticket("t-1", 1);
    newer["status"] = json!("solved");
    let (_, updated) = json_of(
        app.post_json("/api/v1/conversations", &app.token, &newer)
            .send()
            .await,
    )
    .await;
    let events = json!([
        {"id": "e3", "at": "2026-06-01T08:59:00Z", "type": "message", "from": "end_user", "text": "Hello?"},
        {"id": "e1", "at": "2026-06-01T09:00:00Z", "type": "message", "from": "end_user", "text": "repeated id"}
    ]);
    let (appended_status, _) = json_of(
        app.post_json("/api/v1/conversations/t-1/events", &app.token, &events)
            .send()
            .await,
    )
    .await;
    let (_, stored) = json_of(
        app.get("/api/v1/conversations/t-1", &app.token)
            .send()
            .await,
    )
    .await;

    assert_eq!((created, first["status"].as_str()), (201, Some("created")));
    assert_eq!(
        (again, unchanged["status"].as_str()),
        (200, Some("unchanged"))
    );
    assert_eq!(updated["status"], "updated");
    assert_eq!(appended_status, 200);
    assert_eq!(stored["conversation"]["status"], "solved");
    assert_eq!(
        stored["conversation"]["events"].as_array().map(Vec::len),
        Some(3),
        "e1 once, e3 added"
    );
    assert_eq!(stored["state"], "pending");
    app.stop().await;
}

#[tokio::test]
async fn bad_conversations_and_events_name_the_field() {
    let app = TestApp::spawn().await;
    let mut bad = ticket("t-2", 1);
    bad["agent"] = json!("robot");
    app.post_json("/api/v1/conversations", &app.token, &ticket("t-3", 1))
        .send()
        .await
        .expect("ingest");

    let (status, body) = json_of(
        app.post_json("/api/v1/conversations", &app.token, &bad)
            .send()
            .await,
    )
    .await;
    let bad_event = json!([{"at": "2026-06-01T10:00:00Z", "type": "feedback", "value": "positive"}, {"at": "2026-06-01T10:00:00Z", "type": "message", "from": "alien"}]);
    let (event_status, event_body) = json_of(
        app.post_json("/api/v1/conversations/t-3/events", &app.token, &bad_event)
            .send()
            .await,
    )
    .await;
    let (missing, _) = json_of(
        app.post_json("/api/v1/conversations/nope/events", &app.token, &json!([]))
            .send()
            .await,
    )
    .await;

    assert_eq!(
        (status, body["details"]["field"].as_str()),
        (422, Some("agent"))
    );
    assert_eq!(
        (event_status, event_body["details"]["field"].as_str()),
        (422, Some("events[1].from"))
    );
    assert_eq!(missing, 404);
    let (_, stored) = json_of(
        app.get("/api/v1/conversations/t-3", &app.token)
            .send()
            .await,
    )
    .await;
    assert_eq!(
        stored["conversation"]["events"].as_array().map(Vec::len),
        Some(2),
        "nothing of a rejected request is stored"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_due_conversation_is_evaluated_and_counted_once() {
    let app = TestApp::spawn().await;
    app.post_json(
        "/api/v1/conversations",
        &app.token,
        &json!([ticket("t-1", 1), ticket("t-2", 2)]),
    )
    .send()
    .await
    .expect("ingest");
    let evaluator = evaluator(&app, Judge::AlwaysPass);
    let company = app.store.company_by_name("acme").await.expect("company").id;

    let before_due = evaluator
        .run_once(
            Utc.with_ymd_and_hms(2026, 6, 4, 9, 0, 0)
                .single()
                .expect("time"),
        )
        .await
        .expect("round");
    let first = evaluator
        .run_once(
            Utc.with_ymd_and_hms(2026, 6, 10, 0, 0, 0)
                .single()
                .expect("time"),
        )
        .await
        .expect("round");
    let second = evaluator
        .run_once(
            Utc.with_ymd_and_hms(2026, 6, 11, 0, 0, 0)
                .single()
                .expect("time"),
        )
        .await
        .expect("round");
    let (_, stored) = json_of(
        app.get("/api/v1/conversations/t-1", &app.token)
            .send()
            .await,
    )
    .await;

    assert_eq!(
        (before_due, first, second),
        (1, 1, 0),
        "t-1 is due on June 4 at 09:00, t-2 a day later"
    );
    assert_eq!(stored["state"], "final");
    assert_eq!(stored["verdict"]["rule"], "advanced_ticket.replied");
    assert_eq!(stored["verdict"]["decided_at"], "2026-06-04T09:00:00Z");
    assert_eq!(stored["verdict"]["judge"], "always-pass");
    assert_eq!(stored["verdict"]["prompt_version"], "fixed-1");
    assert_eq!(
        app.store
            .counted_resolutions(&company)
            .await
            .expect("count"),
        2
    );
    let counts = app.store.resolution_counts(&company).await.expect("counts");
    assert_eq!(counts.iter().map(|count| count.counted).sum::<i64>(), 2);
    assert_eq!(counts[0].channel, "ticket");
    app.stop().await;
}

#[tokio::test]
async fn events_before_the_verdict_reopen_the_evaluation() {
    let app = TestApp::spawn().await;
    app.post_json("/api/v1/conversations", &app.token, &ticket("t-1", 1))
        .send()
        .await
        .expect("ingest");
    let evaluator = evaluator(&app, Judge::AlwaysPass);
    let escalation = json!({"id": "e9", "at": "2026-06-02T10:00:00Z", "type": "escalated"});

    app.post_json("/api/v1/conversations/t-1/events", &app.token, &escalation)
        .send()
        .await
        .expect("append");
    let recorded = evaluator
        .run_once(
            Utc.with_ymd_and_hms(2026, 6, 2, 11, 0, 0)
                .single()
                .expect("time"),
        )
        .await
        .expect("round");
    let (_, stored) = json_of(
        app.get("/api/v1/conversations/t-1", &app.token)
            .send()
            .await,
    )
    .await;

    assert_eq!(recorded, 1, "a human request decides at once");
    assert_eq!(stored["verdict"]["rule"], "never.escalated");
    assert_eq!(stored["verdict"]["decided_at"], "2026-06-02T10:00:00Z");
    let company = app.store.company_by_name("acme").await.expect("company").id;
    assert_eq!(
        app.store
            .counted_resolutions(&company)
            .await
            .expect("count"),
        0
    );
    app.stop().await;
}

#[tokio::test]
async fn an_admin_override_moves_the_count_and_keeps_the_audit_trail() {
    let app = TestApp::spawn().await;
    app.post_json("/api/v1/conversations", &app.token, &ticket("t-1", 1))
        .send()
        .await
        .expect("ingest");
    evaluator(&app, Judge::AlwaysPass)
        .run_once(
            Utc.with_ymd_and_hms(2026, 6, 10, 0, 0, 0)
                .single()
                .expect("time"),
        )
        .await
        .expect("round");
    let company = app.store.company_by_name("acme").await.expect("company").id;

    let (status, _) = json_of(
        app.post_json(
            "/api/v1/conversations/t-1/override",
            &app.token,
            &json!({"verdict": "not_counted", "reason": "the customer called back the next day"}),
        )
        .send()
        .await,
    )
    .await;
    let (no_reason, _) = json_of(
        app.post_json(
            "/api/v1/conversations/t-1/override",
            &app.token,
            &json!({"verdict": "counted", "reason": " "}),
        )
        .send()
        .await,
    )
    .await;
    let (_, stored) = json_of(
        app.get("/api/v1/conversations/t-1", &app.token)
            .send()
            .await,
    )
    .await;

    assert_eq!((status, no_reason), (204, 422));
    assert_eq!(stored["verdict"]["rule"], "admin.override");
    assert_eq!(
        stored["verdict"]["reason"],
        "the customer called back the next day"
    );
    let actions: Vec<&str> = stored["audit"]
        .as_array()
        .expect("audit")
        .iter()
        .map(|entry| entry["action"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(actions, ["evaluated", "override"]);
    assert_eq!(
        app.store
            .counted_resolutions(&company)
            .await
            .expect("count"),
        0
    );
    assert_eq!(
        app.store.resolution_counts(&company).await.expect("counts"),
        vec![]
    );
    app.stop().await;
}

#[tokio::test]
async fn another_companys_conversations_are_404() {
    let app = TestApp::spawn().await;
    let globex = app.other_company("globex").await;
    app.post_json("/api/v1/conversations", &app.token, &ticket("t-1", 1))
        .send()
        .await
        .expect("ingest");

    let (get_status, _) = json_of(app.get("/api/v1/conversations/t-1", &globex).send().await).await;
    let (events_status, _) = json_of(
        app.post_json("/api/v1/conversations/t-1/events", &globex, &json!([]))
            .send()
            .await,
    )
    .await;
    let (override_status, _) = json_of(
        app.post_json(
            "/api/v1/conversations/t-1/override",
            &globex,
            &json!({"verdict": "counted", "reason": "x"}),
        )
        .send()
        .await,
    )
    .await;
    let (created, _) = json_of(
        app.post_json("/api/v1/conversations", &globex, &ticket("t-1", 1))
            .send()
            .await,
    )
    .await;

    assert_eq!(
        (get_status, events_status, override_status),
        (404, 404, 404)
    );
    assert_eq!(created, 201, "ids are per company");
    app.stop().await;
}
