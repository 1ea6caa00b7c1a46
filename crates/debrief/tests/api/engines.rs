//! A company's engine settings: summaries by an OpenAI-compatible server (a scripted one of the
//! test's own, on a real socket), the LLM resolution check recorded with its model and prompt
//! version, redaction before anything leaves, the built-in fallback when the model server is
//! down, and another company untouched.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use chrono::{TimeZone, Utc};
use debrief_engine::judge::Judge;
use debrief_llm::configure::{Backends, LlmConfig};
use debrief_llm::engine::ResolutionCheck;
use debrief_llm::openai::OpenAiConfig;
use debrief_workflows::evaluation::Evaluator;
use serde_json::{json, Value};

use crate::util::{json_of, session_json, TestApp};

/// What the scripted model server answers to every request: valid for a summary and for a
/// verdict alike.
const ANSWER: &str = r#"{"title": "Outlook password prompt fixed", "summary": "Bob's Outlook kept asking for a password; Ana removed the old credential and wrote to [EMAIL_1].", "problem": "Outlook asks for the password again and again.", "actions": ["Removed the old credential"], "outcome": "resolved", "follow_up": "", "issue_types": ["email"], "applications": ["Outlook"], "resolved": false, "confidence": 0.8, "rationale": "the customer never confirmed the cancellation"}"#;

type Seen = Arc<Mutex<Vec<Value>>>;

async fn completion(State(seen): State<Seen>, Json(body): Json<Value>) -> Json<Value> {
    seen.lock().unwrap().push(body);
    Json(json!({
        "choices": [{"message": {"role": "assistant", "content": ANSWER}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10}
    }))
}

/// A scripted OpenAI-compatible server: its base URL and the request bodies it saw.
async fn model_server() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let app = Router::new()
        .route("/v1/chat/completions", post(completion))
        .with_state(Arc::clone(&seen));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{address}/v1"), seen)
}

fn backends(base_url: &str) -> Backends {
    let mut openai = OpenAiConfig::new(base_url, "test-model");
    openai.max_retries = 0;
    openai.timeout_seconds = 5;
    Backends::build(&LlmConfig {
        openai: Some(openai),
        local: None,
    })
    .expect("backends")
}

async fn put_engine(app: &TestApp, token: &str, body: Value) -> (u16, Value) {
    json_of(
        app.client
            .put(format!("{}/api/v1/settings/engine", app.address))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await,
    )
    .await
}

/// A session's summary as the API answers it.
async fn summary_of(app: &TestApp, token: &str, session: &str) -> (u16, Value) {
    json_of(
        app.get(&format!("/api/v1/sessions/{session}/summary"), token)
            .send()
            .await,
    )
    .await
}

#[tokio::test]
async fn an_engine_the_server_lacks_is_refused_and_the_default_is_builtin() {
    let app = TestApp::spawn().await;
    let (status, settings) =
        json_of(app.get("/api/v1/settings/engine", &app.token).send().await).await;
    assert_eq!(status, 200);
    assert_eq!(settings["settings"]["summaries"], "builtin");
    assert_eq!(settings["settings"]["resolution_check"], "default");
    assert_eq!(settings["available"], json!(["builtin"]));

    let (status, error) = put_engine(&app, &app.token, json!({"summaries": "openai"})).await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(error["details"]["field"], "summaries");
    let (status, error) = put_engine(&app, &app.token, json!({"resolution_check": "llm"})).await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(error["details"]["field"], "resolution_check");
    let (status, _) = put_engine(&app, &app.token, json!({"summaries": "gpt"})).await;
    assert_eq!(status, 422);
    app.stop().await;
}

#[tokio::test]
async fn a_company_on_an_llm_engine_gets_redacted_model_summaries_and_llm_verdicts() {
    let (url, seen) = model_server().await;
    let app = TestApp::builder().with_llm(backends(&url)).spawn().await;
    let globex = app.other_company("globex").await;
    app.enable_insights(&app.token).await;
    app.enable_insights(&globex).await;

    let (status, settings) = put_engine(
        &app,
        &app.token,
        json!({"summaries": "openai", "resolution_check": "llm",
               "limits": {"max_transcript_chars": 4000, "restore_personal_data": false}}),
    )
    .await;
    assert_eq!(status, 200, "{settings}");
    assert_eq!(settings["available"], json!(["builtin", "openai"]));

    let mut session = session_json("tv-1");
    session["turns"] = json!([
        {"speaker": "customer", "speaker_name": "Bob", "text": "Outlook keeps asking for my password. I'm bob.lee@example.com, +1 (415) 555-0132."},
        {"speaker": "agent", "speaker_name": "Ana", "text": "I removed the old credential. Your password: Sunny-Day-42 should work now."},
        {"speaker": "customer", "speaker_name": "Bob", "text": "It works now, thanks!"}
    ]);
    for token in [&app.token, &globex] {
        app.post_json("/api/v1/sessions", token, &session)
            .send()
            .await
            .expect("ingest");
    }
    assert_eq!(app.summarize_now().await, 2);

    let (_, ours) = summary_of(&app, &app.token, "tv-1").await;
    let (_, theirs) = summary_of(&app, &globex, "tv-1").await;
    assert_eq!(ours["engine"], "openai:test-model/summary-1", "{ours}");
    assert_eq!(ours["title"], "Outlook password prompt fixed");
    assert_eq!(ours["redactions"]["email"], 1);
    assert_eq!(ours["redactions"]["secret"], 1);
    assert!(ours["summary"].as_str().unwrap().contains("[EMAIL_1]"));
    assert_eq!(
        theirs["engine"], "builtin-1",
        "the other company stays on the built-in engine"
    );

    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1, "only acme's session went to the model");
        let sent = seen[0].to_string();
        for personal in ["bob.lee@example.com", "555-0132", "Sunny-Day-42"] {
            assert!(!sent.contains(personal), "{personal} was sent");
        }
    }

    // The resolution check: acme's goes to the model, globex keeps the server's judge.
    let ticket = json!({
        "id": "t-1", "channel": "ticket", "agent": "advanced_ticket_agent", "status": "replied",
        "events": [
            {"id": "e1", "at": "2026-06-01T09:00:00Z", "type": "message", "from": "end_user", "text": "Cancel my subscription, card 4111 1111 1111 1111"},
            {"id": "e2", "at": "2026-06-01T09:01:00Z", "type": "message", "from": "ai_agent", "text": "Done, it is cancelled."}
        ]
    });
    for token in [&app.token, &globex] {
        app.post_json("/api/v1/conversations", token, &ticket)
            .send()
            .await
            .expect("ingest");
    }
    let evaluator = Evaluator {
        store: app.store.clone(),
        judge: ResolutionCheck::InProcess(Judge::AlwaysPass),
        llm: app.llm.clone(),
        name: "test".into(),
        metrics: Default::default(),
    };
    let recorded = evaluator
        .run_once(Utc.with_ymd_and_hms(2026, 6, 10, 0, 0, 0).single().unwrap())
        .await
        .expect("round");
    assert_eq!(recorded, 2);
    let (_, ours) = json_of(
        app.get("/api/v1/conversations/t-1", &app.token)
            .send()
            .await,
    )
    .await;
    let (_, theirs) = json_of(app.get("/api/v1/conversations/t-1", &globex).send().await).await;
    assert_eq!(ours["verdict"]["verdict"], "not_counted", "{ours}");
    assert_eq!(ours["verdict"]["judge"], "llm");
    assert_eq!(ours["verdict"]["judge_model"], "openai:test-model");
    assert_eq!(ours["verdict"]["prompt_version"], "veto-1");
    assert_eq!(theirs["verdict"]["verdict"], "counted");
    assert_eq!(theirs["verdict"]["judge"], "always-pass");
    let bodies: Vec<String> = seen.lock().unwrap().iter().map(Value::to_string).collect();
    assert_eq!(bodies.len(), 2);
    assert!(!bodies[1].contains("4111 1111 1111 1111"));
    app.stop().await;
}

#[tokio::test]
async fn a_model_server_that_is_down_gives_the_builtin_summary_with_the_reason() {
    // Nothing listens on this port once the listener is dropped.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = TestApp::builder()
        .with_llm(backends(&format!("http://127.0.0.1:{port}/v1")))
        .spawn()
        .await;
    app.enable_insights(&app.token).await;
    let (status, _) = put_engine(&app, &app.token, json!({"summaries": "openai"})).await;
    assert_eq!(status, 200);
    app.post_json("/api/v1/sessions", &app.token, &session_json("tv-2"))
        .send()
        .await
        .expect("ingest");
    assert_eq!(app.summarize_now().await, 1);
    let (status, summary) = summary_of(&app, &app.token, "tv-2").await;
    assert_eq!(status, 200);
    assert_eq!(summary["engine"], "builtin-1");
    assert!(!summary["summary"].as_str().unwrap().is_empty());
    assert!(summary["fallback"]
        .as_str()
        .unwrap()
        .starts_with("openai:test-model/summary-1: the model server could not be reached"));
    app.stop().await;
}

/// Runs the `debrief` binary in `directory` off the runtime (the model server runs on it).
async fn debrief(arguments: &[&str], directory: &std::path::Path) -> std::process::Output {
    let arguments: Vec<String> = arguments
        .iter()
        .map(|argument| argument.to_string())
        .collect();
    let directory = directory.to_path_buf();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_debrief"))
            .args(&arguments)
            .current_dir(directory)
            .env_remove("DEBRIEF_DATABASE_URL")
            .output()
            .expect("debrief runs")
    })
    .await
    .expect("the command finishes")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_commands_summarize_and_judge_with_the_configured_model() {
    let (url, seen) = model_server().await;
    let directory = tempfile::tempdir().unwrap();
    let sessions = directory.path().join("sessions.jsonl");
    let mut session = session_json("cli-1");
    session["turns"] = json!([
        {"speaker": "customer", "text": "Outlook asks for my password; I'm eve@example.com"},
        {"speaker": "agent", "text": "I reset the credential."}
    ]);
    std::fs::write(&sessions, format!("{session}\nnot json\n")).unwrap();

    // No model configured: the llm judge is a usage error that says what to set.
    let unconfigured = debrief(
        &[
            "judge",
            "--input",
            "sessions.jsonl",
            "--output",
            "-",
            "--judge",
            "llm",
        ],
        directory.path(),
    )
    .await;
    assert_eq!(unconfigured.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unconfigured.stderr).contains("[llm.openai]"));

    std::fs::write(
        directory.path().join("debrief.toml"),
        format!("[llm.openai]\nbase_url = \"{url}\"\nmodel = \"test-model\"\nmax_retries = 0\n"),
    )
    .unwrap();
    let summarized = debrief(
        &[
            "summarize",
            "--input",
            "sessions.jsonl",
            "--output",
            "-",
            "--engine",
            "openai",
        ],
        directory.path(),
    )
    .await;
    assert_eq!(
        summarized.status.code(),
        Some(1),
        "the bad line is rejected"
    );
    let summary: Value = serde_json::from_str(
        String::from_utf8_lossy(&summarized.stdout)
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(summary["engine"], "openai:test-model/summary-1");
    assert_eq!(summary["redactions"]["email"], 1);
    assert!(String::from_utf8_lossy(&summarized.stderr).contains("line 2"));

    let judged = debrief(
        &[
            "judge",
            "--input",
            "sessions.jsonl",
            "--output",
            "-",
            "--judge",
            "llm",
        ],
        directory.path(),
    )
    .await;
    let verdict: Value = serde_json::from_str(
        String::from_utf8_lossy(&judged.stdout)
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(verdict["resolved"], false);
    assert_eq!(
        verdict["rationale"],
        "the customer never confirmed the cancellation"
    );
    let bodies: Vec<String> = seen.lock().unwrap().iter().map(Value::to_string).collect();
    assert_eq!(bodies.len(), 2);
    assert!(bodies.iter().all(|body| !body.contains("eve@example.com")));
}
