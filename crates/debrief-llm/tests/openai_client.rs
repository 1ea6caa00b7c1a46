//! The OpenAI-compatible client against a scripted HTTP server of the test's own, on a real
//! socket: retries on 500 and 429 (honouring Retry-After), a timeout, broken JSON asked again
//! and then replaced by the built-in engine, JSON mode dropped when refused, API keys, and
//! redaction of everything personal before it leaves the process.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use debrief_core::Session;
use debrief_engine::judge::session_lines;
use debrief_engine::language::Language;
use debrief_engine::summarize::BuiltinEngine;
use debrief_llm::backend::LlmBackend;
use debrief_llm::engine::{LlmJudge, LlmOptions, LlmSummarizer};
use debrief_llm::openai::{OpenAiClient, OpenAiConfig};

/// One scripted answer.
#[derive(Clone)]
struct Answer {
    status: u16,
    headers: Vec<(&'static str, &'static str)>,
    body: String,
    delay: Duration,
}

impl Answer {
    /// A chat completion whose message is `content`.
    fn completion(content: &str) -> Answer {
        Answer {
            status: 200,
            headers: Vec::new(),
            body: serde_json::json!({
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content}}],
                "usage": {"prompt_tokens": 100, "completion_tokens": 20}
            })
            .to_string(),
            delay: Duration::ZERO,
        }
    }

    fn status(status: u16, body: &str) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            body: body.to_string(),
            delay: Duration::ZERO,
        }
    }
}

/// A request the server saw.
struct Seen {
    at: Instant,
    headers: HeaderMap,
    body: serde_json::Value,
}

#[derive(Default)]
struct Script {
    answers: VecDeque<Answer>,
    /// Given when the script has run out.
    otherwise: Option<Answer>,
    seen: Vec<Seen>,
}

type Shared = Arc<Mutex<Script>>;

async fn answer(State(script): State<Shared>, headers: HeaderMap, body: String) -> Response {
    let next = {
        let mut script = script.lock().unwrap();
        script.seen.push(Seen {
            at: Instant::now(),
            headers,
            body: serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
        });
        script
            .answers
            .pop_front()
            .or_else(|| script.otherwise.clone())
            .expect("the script has an answer")
    };
    tokio::time::sleep(next.delay).await;
    let mut response = (StatusCode::from_u16(next.status).unwrap(), next.body).into_response();
    for (name, value) in next.headers {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}

/// Starts the scripted server; its base URL and script.
async fn serve(answers: Vec<Answer>, otherwise: Option<Answer>) -> (String, Shared) {
    let script: Shared = Arc::new(Mutex::new(Script {
        answers: answers.into(),
        otherwise,
        seen: Vec::new(),
    }));
    let app = Router::new()
        .route("/v1/chat/completions", post(answer))
        .with_state(Arc::clone(&script));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{address}/v1"), script)
}

fn client(base_url: &str, adjust: impl FnOnce(&mut OpenAiConfig)) -> Arc<OpenAiClient> {
    let mut config = OpenAiConfig::new(base_url, "test-model");
    config.timeout_seconds = 5;
    adjust(&mut config);
    Arc::new(OpenAiClient::new(config).expect("a client"))
}

const GOOD_SUMMARY: &str = r#"{"title": "Outlook password prompt fixed", "summary": "Ana's Outlook kept asking for her password. Bo removed the stored credential and she signed in again.", "problem": "Outlook asks for the password again and again.", "actions": ["Removed the stored credential", "Signed in again"], "outcome": "resolved", "follow_up": "", "issue_types": ["email", "not-a-type"], "applications": ["Microsoft Outlook", "Photoshop"]}"#;

fn session() -> Session {
    Session::parse_json(
        r#"{"id": "s-1", "language": "en", "turns": [
            {"speaker": "customer", "speaker_name": "Ana", "text": "Outlook keeps asking for my password."},
            {"speaker": "agent", "speaker_name": "Bo", "text": "I removed the stored credential; please sign in again."},
            {"speaker": "customer", "speaker_name": "Ana", "text": "It works now, thanks!"}]}"#,
    )
    .expect("a valid session")
}

async fn summarize(backend: Arc<OpenAiClient>) -> debrief_core::summary::Summary {
    LlmSummarizer::new(backend, LlmOptions::default())
        .summarize(&session(), Language::English, &BuiltinEngine::default())
        .await
}

#[tokio::test]
async fn a_valid_reply_becomes_the_summary_with_known_issue_types_and_mentioned_applications() {
    let (url, script) = serve(vec![Answer::completion(GOOD_SUMMARY)], None).await;
    let summary = summarize(client(&url, |_| {})).await;
    assert_eq!(summary.fallback, None);
    assert_eq!(summary.engine, "openai:test-model/summary-1");
    assert_eq!(summary.title, "Outlook password prompt fixed");
    assert_eq!(summary.issue_types, vec!["email".to_string()]);
    // Outlook is in the transcript; Photoshop is not, so it is not kept.
    assert!(summary
        .applications
        .iter()
        .any(|app| app == "Microsoft Outlook"));
    assert!(!summary.applications.iter().any(|app| app == "Photoshop"));
    let seen = &script.lock().unwrap().seen;
    assert_eq!(seen.len(), 1);
    let body = &seen[0].body;
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["temperature"], 0);
    assert_eq!(body["response_format"]["type"], "json_object");
    assert_eq!(body["messages"][0]["role"], "system");
    let user = body["messages"][1]["content"].as_str().unwrap();
    // The speakers' names go as person placeholders.
    assert!(
        user.starts_with("<transcript>\n[PERSON_1]: Outlook keeps asking"),
        "{user}"
    );
    assert!(!user.contains("Ana"), "{user}");
    assert!(user.ends_with("\n</transcript>"));
}

#[tokio::test]
async fn a_server_error_is_retried() {
    let (url, script) = serve(
        vec![
            Answer::status(500, "overloaded"),
            Answer::completion(GOOD_SUMMARY),
        ],
        None,
    )
    .await;
    let summary = summarize(client(&url, |_| {})).await;
    assert_eq!(summary.fallback, None, "{summary:?}");
    assert_eq!(script.lock().unwrap().seen.len(), 2);
}

#[tokio::test]
async fn a_429_waits_as_long_as_retry_after_says() {
    let mut limited = Answer::status(429, "slow down");
    limited.headers.push(("retry-after", "2"));
    let (url, script) = serve(vec![limited, Answer::completion(GOOD_SUMMARY)], None).await;
    let summary = summarize(client(&url, |_| {})).await;
    assert_eq!(summary.fallback, None);
    let seen = &script.lock().unwrap().seen;
    assert_eq!(seen.len(), 2);
    // The backoff without the header would be half a second.
    assert!(seen[1].at - seen[0].at >= Duration::from_secs(2));
}

#[tokio::test]
async fn a_server_that_never_answers_in_time_gives_the_builtin_summary_marked() {
    let mut slow = Answer::completion(GOOD_SUMMARY);
    slow.delay = Duration::from_secs(3);
    let (url, script) = serve(Vec::new(), Some(slow)).await;
    let summary = summarize(client(&url, |config| {
        config.timeout_seconds = 1;
        config.max_retries = 1;
    }))
    .await;
    assert_eq!(summary.engine, "builtin-1");
    let reason = summary.fallback.expect("marked as a fallback");
    assert!(
        reason.starts_with("openai:test-model/summary-1: the model did not answer"),
        "{reason}"
    );
    assert!(!summary.summary.is_empty());
    assert_eq!(script.lock().unwrap().seen.len(), 2);
}

#[tokio::test]
async fn an_unusable_reply_is_asked_for_once_more_then_the_builtin_summary_is_used() {
    let (url, script) = serve(
        vec![
            Answer::completion("Sure! Here is the summary: the user had a problem."),
            Answer::completion(r#"{"title": "x", "summary": "y", "outcome": "perhaps"}"#),
        ],
        None,
    )
    .await;
    let summary = summarize(client(&url, |_| {})).await;
    assert_eq!(summary.engine, "builtin-1");
    let reason = summary.fallback.expect("marked");
    assert!(
        reason.contains("unusable twice: field `outcome`"),
        "{reason}"
    );
    let seen = &script.lock().unwrap().seen;
    assert_eq!(seen.len(), 2);
    let retry = seen[1].body["messages"].as_array().unwrap();
    assert_eq!(retry.len(), 4);
    assert_eq!(retry[2]["role"], "assistant");
    assert!(retry[3]["content"]
        .as_str()
        .unwrap()
        .contains("the reply holds no JSON object"));
}

#[tokio::test]
async fn a_second_reply_that_is_valid_is_used() {
    let (url, _) = serve(
        vec![
            Answer::completion("{\"title\": \"\"}"),
            Answer::completion(GOOD_SUMMARY),
        ],
        None,
    )
    .await;
    let summary = summarize(client(&url, |_| {})).await;
    assert_eq!(summary.fallback, None);
    assert_eq!(summary.title, "Outlook password prompt fixed");
}

#[tokio::test]
async fn nearly_right_json_is_repaired_without_asking_again() {
    let cut = &GOOD_SUMMARY[..GOOD_SUMMARY.find(", \"issue_types\"").unwrap()];
    let (url, script) = serve(vec![Answer::completion(&format!("```json\n{cut},"))], None).await;
    let summary = summarize(client(&url, |_| {})).await;
    assert_eq!(summary.fallback, None, "{summary:?}");
    assert_eq!(summary.outcome_label, "resolved");
    assert_eq!(script.lock().unwrap().seen.len(), 1);
}

#[tokio::test]
async fn json_mode_is_dropped_when_the_server_refuses_it() {
    let (url, script) = serve(
        vec![
            Answer::status(400, r#"{"error": "response_format is not supported"}"#),
            Answer::completion(GOOD_SUMMARY),
            Answer::completion(GOOD_SUMMARY),
        ],
        None,
    )
    .await;
    let backend = client(&url, |_| {});
    assert_eq!(summarize(Arc::clone(&backend)).await.fallback, None);
    assert_eq!(summarize(backend).await.fallback, None);
    let seen = &script.lock().unwrap().seen;
    assert!(seen[0].body.get("response_format").is_some());
    assert!(seen[1].body.get("response_format").is_none());
    assert!(seen[2].body.get("response_format").is_none());
}

#[tokio::test]
async fn a_client_error_is_not_retried() {
    let (url, script) = serve(vec![Answer::status(401, "bad key")], None).await;
    let summary = summarize(client(&url, |_| {})).await;
    assert!(summary.fallback.unwrap().contains("answered 401"));
    assert_eq!(script.lock().unwrap().seen.len(), 1);
}

#[tokio::test]
async fn the_api_key_comes_from_the_environment_or_a_file() {
    let (url, script) = serve(Vec::new(), Some(Answer::completion(GOOD_SUMMARY))).await;
    std::env::set_var("DEBRIEF_TEST_OPENAI_KEY", "sk-from-env");
    let backend = client(&url, |config| {
        config.api_key_env = Some("DEBRIEF_TEST_OPENAI_KEY".into());
    });
    summarize(backend).await;
    let directory = tempfile::tempdir().unwrap();
    let file = directory.path().join("key");
    std::fs::write(&file, "azure-key\n").unwrap();
    let backend = client(&url, |config| {
        config.api_key_file = Some(file);
        config.azure_key_header = true;
    });
    summarize(backend).await;
    let seen = &script.lock().unwrap().seen;
    assert_eq!(seen[0].headers["authorization"], "Bearer sk-from-env");
    assert_eq!(seen[1].headers["api-key"], "azure-key");
    assert!(seen[1].headers.get("authorization").is_none());

    let missing = OpenAiClient::new(OpenAiConfig {
        api_key_env: Some("DEBRIEF_TEST_NO_SUCH_KEY".into()),
        ..OpenAiConfig::new(&url, "m")
    });
    assert!(missing
        .err()
        .unwrap()
        .to_string()
        .contains("DEBRIEF_TEST_NO_SUCH_KEY is not set"));
}

/// Sessions full of personal data and secrets, with the values that must not leave.
fn personal_sessions() -> Vec<(Session, Vec<&'static str>)> {
    let cases: [(&str, Vec<&'static str>); 4] = [
        (
            "Hi, I'm at ana.souza@example.com.br or +55 11 98765-4321. My card 4111 1111 1111 1111 was charged twice.",
            vec!["ana.souza@example.com.br", "98765-4321", "4111 1111 1111 1111"],
        ),
        (
            "The VPN at 10.20.30.40 and 2001:db8::1 drops. My password: Winter2026! and the share is smb://admin:Pa55word@files.local/x",
            vec!["10.20.30.40", "2001:db8::1", "Winter2026!", "Pa55word"],
        ),
        (
            "Refund to IBAN GB82 WEST 1234 5698 7654 32 please; the API key is sk-live-ABCDEFGHIJKLMNOPQRSTUV and AWS AKIAIOSFODNN7EXAMPLE",
            vec!["GB82 WEST 1234 5698 7654 32", "sk-live-ABCDEFGHIJKLMNOPQRSTUV", "AKIAIOSFODNN7EXAMPLE"],
        ),
        (
            "Token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c and key -----BEGIN PRIVATE KEY-----\\nMIIBVgIBADANBg\\n-----END PRIVATE KEY----- senha = hunter2",
            vec!["SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c", "MIIBVgIBADANBg", "hunter2"],
        ),
    ];
    cases
        .into_iter()
        .enumerate()
        .map(|(n, (text, secrets))| {
            let session = Session::parse_json(&format!(
                r#"{{"id": "pii-{n}", "turns": [
                    {{"speaker": "customer", "text": "{text}"}},
                    {{"speaker": "agent", "text": "Thanks, I will look at it. Write to me at bo@example.org."}},
                    {{"speaker": "customer", "text": "It works now, thank you"}}]}}"#
            ))
            .expect("valid");
            (session, secrets)
        })
        .collect()
}

#[tokio::test]
async fn nothing_personal_reaches_the_model_server() {
    let reply_with_placeholders = r#"{"title": "Card charged twice", "summary": "The customer ([EMAIL_1]) typed [SECRET_1]; the agent ([EMAIL_2]) helped.", "outcome": "resolved", "resolved": true, "confidence": 0.9, "rationale": "the customer thanked the agent"}"#;
    let (url, script) = serve(
        Vec::new(),
        Some(Answer::completion(reply_with_placeholders)),
    )
    .await;
    let backend = client(&url, |_| {});
    let builtin = BuiltinEngine::default();
    let restoring = LlmSummarizer::new(
        backend.clone(),
        LlmOptions {
            restore_personal_data: true,
            ..LlmOptions::default()
        },
    );
    let judge = LlmJudge::new(backend.clone(), LlmOptions::default());
    let mut all_secrets = vec!["bo@example.org"];
    for (session, secrets) in personal_sessions() {
        let summary = restoring
            .summarize(&session, Language::English, &builtin)
            .await;
        assert!(!summary.redactions.is_empty(), "{summary:?}");
        // Contact data is filled back when the company allows it; a secret never is.
        assert!(
            summary.summary.contains("bo@example.org") || summary.summary.contains("[EMAIL_2]")
        );
        assert!(summary.summary.contains("[SECRET_1]") || !summary.summary.contains("typed"));
        let checked = judge.judge(&session_lines(&session)).await;
        assert_eq!(checked.fallback, None);
        assert!(!checked.redactions.is_empty());
        all_secrets.extend(secrets);
    }
    let seen = &script.lock().unwrap().seen;
    assert_eq!(seen.len(), 8);
    for request in seen {
        let sent = request.body.to_string();
        for secret in &all_secrets {
            assert!(!sent.contains(secret), "{secret} was sent: {sent}");
        }
        assert!(sent.contains("[EMAIL_"), "{sent}");
    }
    assert_eq!(backend.model_id(), "openai:test-model");
}

mod support;

#[tokio::test]
async fn an_injected_transcript_sends_the_same_request_as_the_clean_one() {
    let verdict =
        r#"{"resolved": false, "confidence": 0.7, "rationale": "the customer did not confirm"}"#;
    let (url, script) = serve(Vec::new(), Some(Answer::completion(verdict))).await;
    let backend = client(&url, |_| {});
    let judge = LlmJudge::new(backend.clone(), LlmOptions::default());
    let summarizer = LlmSummarizer::new(backend, LlmOptions::default());
    let builtin = BuiltinEngine::default();
    let sessions = support::sessions("stc3.dev.jsonl", support::INJECTED_SESSIONS);
    let pairs = support::injected(&sessions);
    assert_eq!(pairs.len() * 4, support::INJECTIONS.len());
    for (clean, injected) in &pairs {
        assert_ne!(clean, injected);
        judge.judge(&session_lines(clean)).await;
        judge.judge(&session_lines(injected)).await;
        summarizer
            .summarize(clean, Language::English, &builtin)
            .await;
        summarizer
            .summarize(injected, Language::English, &builtin)
            .await;
    }
    let seen = &script.lock().unwrap().seen;
    // Each summary asks twice (the verdict is no summary); compare request by request.
    let bodies: Vec<String> = seen
        .iter()
        .map(|request| request.body.to_string())
        .collect();
    let per_pair = bodies.len() / pairs.len();
    for (n, chunk) in bodies.chunks(per_pair).enumerate() {
        let half = chunk.len() / 2;
        let (judge_clean, judge_injected) = (&chunk[0], &chunk[1]);
        assert_eq!(judge_clean, judge_injected, "pair {n}");
        assert_eq!(
            chunk[2..2 + (half - 1)],
            chunk[2 + (half - 1)..],
            "pair {n}"
        );
    }
}
