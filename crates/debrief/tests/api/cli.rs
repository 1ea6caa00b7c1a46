//! Tests that run the real `debrief` binary.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use debrief_store::testing::TestDatabase;
use debrief_store::{SessionQuery, Store};

fn debrief(arguments: &[&str], directory: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_debrief"))
        .args(arguments)
        .current_dir(directory)
        .env_remove("DEBRIEF_DATABASE_URL")
        .output()
        .expect("debrief runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn create_company(database: &str, directory: &Path) -> String {
    let output = debrief(
        &[
            "admin",
            "create-company",
            "acme",
            "--tier",
            "premium",
            "--db",
            database,
        ],
        directory,
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout(&output)
        .lines()
        .last()
        .expect("a last line")
        .to_string()
}

async fn session_count(store: &dyn Store, company: &str) -> u64 {
    let company = store.company_by_name(company).await.expect("company").id;
    store
        .list_sessions(
            &company,
            &SessionQuery {
                limit: 1,
                ..SessionQuery::default()
            },
        )
        .await
        .expect("list")
        .total
}

#[tokio::test]
async fn create_company_prints_a_working_token_as_the_last_line() {
    let directory = tempfile::tempdir().expect("tempdir");
    let database = TestDatabase::sqlite();

    let token = create_company(&database.url, directory.path());
    let store = debrief_store::connect(&database.url).await.expect("store");
    let principal = store
        .authenticate(&token, chrono::Utc::now())
        .await
        .expect("auth")
        .principal()
        .expect("token works");
    let again = debrief(
        &[
            "admin",
            "create-company",
            "acme",
            "--tier",
            "premium",
            "--db",
            &database.url,
        ],
        directory.path(),
    );
    let bad_tier = debrief(
        &[
            "admin",
            "create-company",
            "other",
            "--tier",
            "gold",
            "--db",
            &database.url,
        ],
        directory.path(),
    );

    assert_eq!(principal.company.name, "acme");
    assert!(
        !again.status.success(),
        "a second company of the same name is refused"
    );
    assert!(String::from_utf8_lossy(&bad_tier.stderr).contains("unknown license tier"));
    database.remove().await;
}

#[tokio::test]
async fn the_operator_sets_free_credits_and_tier_and_terms_start_on_a_first() {
    let directory = tempfile::tempdir().expect("tempdir");
    let database = TestDatabase::sqlite();
    let db = database.url.as_str();
    let mid_month = debrief(
        &[
            "admin",
            "create-company",
            "late",
            "--tier",
            "premium",
            "--term-start",
            "2026-02-15",
            "--db",
            db,
        ],
        directory.path(),
    );
    assert!(!mid_month.status.success());
    assert!(
        String::from_utf8_lossy(&mid_month.stderr).contains("not the 1st of a month"),
        "{}",
        String::from_utf8_lossy(&mid_month.stderr)
    );
    create_company(db, directory.path());
    let free = debrief(
        &[
            "admin",
            "set-credits",
            "--company",
            "acme",
            "--free-monthly",
            "12",
            "--db",
            db,
        ],
        directory.path(),
    );
    assert!(
        free.status.success(),
        "{}",
        String::from_utf8_lossy(&free.stderr)
    );
    let tier = debrief(
        &[
            "admin",
            "set-tier",
            "--company",
            "acme",
            "--tier",
            "corporate",
            "--db",
            db,
        ],
        directory.path(),
    );
    assert!(
        tier.status.success(),
        "{}",
        String::from_utf8_lossy(&tier.stderr)
    );
    let bad = debrief(
        &[
            "admin",
            "set-credits",
            "--company",
            "acme",
            "--free-monthly",
            "lots",
            "--db",
            db,
        ],
        directory.path(),
    );
    assert!(!bad.status.success());

    // Both changes are in the company's history, each from its instant on.
    let export = directory.path().join("timeline.jsonl");
    let exported = debrief(
        &[
            "billing",
            "export-timeline",
            "--company",
            "acme",
            "--output",
            export.to_str().expect("path"),
            "--db",
            db,
        ],
        directory.path(),
    );
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    let timeline = std::fs::read_to_string(&export).expect("timeline");
    let lines: Vec<serde_json::Value> = timeline
        .lines()
        .map(|line| serde_json::from_str(line).expect("json"))
        .collect();
    assert_eq!(
        lines[0]["tier"], "premium",
        "the account keeps the tier it started with"
    );
    assert!(lines
        .iter()
        .any(|line| line["type"] == "credit_settings" && line["free_monthly_credits"] == 12));
    assert!(lines
        .iter()
        .any(|line| line["type"] == "tier" && line["tier"] == "corporate"));
    let store = debrief_store::connect(db).await.expect("store");
    let company = store.company_by_name("acme").await.expect("company");
    assert_eq!(company.tier.as_str(), "corporate");
    database.remove().await;
}

#[tokio::test]
async fn import_reports_rejected_lines_and_a_rerun_stores_nothing_new() {
    let directory = tempfile::tempdir().expect("tempdir");
    let database = TestDatabase::sqlite();
    create_company(&database.url, directory.path());
    let file = directory.path().join("sessions.jsonl");
    std::fs::write(
        &file,
        concat!(
            "{\"id\": \"a\", \"device\": {\"platform\": \"windows\"}}\n",
            "{\"id\": \"b\", \"device\": {\"platform\": \"amiga\"}}\n",
            "\n",
            "{\"id\": \"c\", \"started_at\": \n",
            "{\"id\": \"d\", \"company\": \"acme\"}\n",
            "{\"id\": \"a\"}\n",
        ),
    )
    .expect("write");
    let file = file.to_str().expect("utf-8 path");

    let first = debrief(
        &["import", file, "--company", "acme", "--db", &database.url],
        directory.path(),
    );
    let second = debrief(
        &["import", file, "--company", "acme", "--db", &database.url],
        directory.path(),
    );

    let report = stdout(&first);
    assert_eq!(first.status.code(), Some(1), "{report}");
    assert!(
        report.contains("6 lines, 2 stored, 1 duplicates, 2 rejected"),
        "{report}"
    );
    assert!(report.contains("line 2: device.platform"), "{report}");
    assert!(report.contains("line 4: "), "{report}");
    assert!(
        stdout(&second).contains("0 stored, 3 duplicates, 2 rejected"),
        "{}",
        stdout(&second)
    );
    let store = debrief_store::connect(&database.url).await.expect("store");
    assert_eq!(session_count(store.as_ref(), "acme").await, 2);
    database.remove().await;
}

/// 50 lines with a NUL in one and a 1 MB id in another: the 48 good lines are stored and the
/// two bad ones reported with their line and field.
async fn import_keeps_every_good_line_beside_hostile_ones(database: TestDatabase) {
    let directory = tempfile::tempdir().expect("tempdir");
    create_company(&database.url, directory.path());
    let lines: Vec<String> = (1..=50)
        .map(|line| match line {
            17 => r#"{"id": "s-17", "supporter": {"id": "u-\u0000x"}}"#.to_string(),
            33 => format!(r#"{{"id": "{}"}}"#, "z".repeat(1 << 20)),
            _ => format!(r#"{{"id": "s-{line}"}}"#),
        })
        .collect();
    let file = directory.path().join("sessions.jsonl");
    std::fs::write(&file, lines.join("\n")).expect("write");

    let output = debrief(
        &[
            "import",
            file.to_str().expect("utf-8 path"),
            "--company",
            "acme",
            "--db",
            &database.url,
        ],
        directory.path(),
    );

    let report = stdout(&output);
    assert!(
        report.contains("50 lines, 48 stored, 0 duplicates, 2 rejected"),
        "{report}"
    );
    assert!(report.contains("line 17: supporter.id"), "{report}");
    assert!(report.contains("line 33: id"), "{report}");
    let store = debrief_store::connect(&database.url).await.expect("store");
    assert_eq!(session_count(store.as_ref(), "acme").await, 48);
    database.remove().await;
}

#[tokio::test]
async fn import_stores_every_good_line_beside_hostile_ones_on_sqlite() {
    import_keeps_every_good_line_beside_hostile_ones(TestDatabase::sqlite()).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: DEBRIEF_TEST_DATABASE_URL (scripts/setup.sh sets it up)"]
async fn import_stores_every_good_line_beside_hostile_ones_on_postgres() {
    let url = debrief_store::testing::postgres_test_url().expect("DEBRIEF_TEST_DATABASE_URL");
    import_keeps_every_good_line_beside_hostile_ones(
        TestDatabase::postgres(&url).await.expect("postgres"),
    )
    .await;
}

#[tokio::test]
async fn an_import_killed_with_sigkill_and_run_again_stores_every_line_once() {
    let directory = tempfile::tempdir().expect("tempdir");
    let database = TestDatabase::sqlite();
    create_company(&database.url, directory.path());
    let file = directory.path().join("big.jsonl");
    let file = file.to_str().expect("utf-8 path");
    let total = 60_000u64;
    let generated = debrief(
        &[
            "bench",
            "sessions",
            "--count",
            &total.to_string(),
            "--turns",
            "4",
            "--events",
            "2",
            "--output",
            file,
        ],
        directory.path(),
    );
    assert!(generated.status.success());
    let store = debrief_store::connect(&database.url).await.expect("store");

    let mut child = Command::new(env!("CARGO_BIN_EXE_debrief"))
        .args([
            "import",
            file,
            "--company",
            "acme",
            "--db",
            &database.url,
            "--batch-size",
            "500",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("import starts");
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut stored_when_killed = 0;
    while Instant::now() < deadline {
        stored_when_killed = session_count(store.as_ref(), "acme").await;
        if stored_when_killed > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().expect("kill -9");
    child.wait().expect("reaped");
    let after_kill = session_count(store.as_ref(), "acme").await;

    let rerun = debrief(
        &["import", file, "--company", "acme", "--db", &database.url],
        directory.path(),
    );

    assert!(
        stored_when_killed > 0 && after_kill < total,
        "the import was interrupted midway ({after_kill} of {total})"
    );
    assert!(rerun.status.success(), "{}", stdout(&rerun));
    assert!(
        stdout(&rerun).contains(&format!(
            "{total} lines, {} stored, {after_kill} duplicates, 0 rejected",
            total - after_kill
        )),
        "{}",
        stdout(&rerun)
    );
    assert_eq!(session_count(store.as_ref(), "acme").await, total);
    database.remove().await;
}

#[tokio::test]
async fn serve_demo_loads_the_demo_and_stops_cleanly_on_sigterm() {
    let demo = crate::demo_pages::DemoServer::start().await;
    let (url, token) = (demo.url.clone(), demo.token.clone());
    let mut child = demo.child;

    let client = reqwest::Client::new();
    let read = |path: &str| {
        let request = client
            .get(format!("{url}/api/v1{path}"))
            .bearer_auth(&token);
        async move {
            request
                .send()
                .await
                .expect("answered")
                .json::<serde_json::Value>()
                .await
                .expect("json")
        }
    };
    let page = read("/sessions?limit=1").await;
    let overview = read("/insights/overview").await;
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    let usage = read(&format!("/usage/resolutions?period={month}")).await;
    let status_of_agents = read("/ai-agents/status").await;
    let revisions = read("/sessions/demo-001-outlook-password/summary/revisions").await;
    let terminated = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("join")
        .expect("wait");

    assert!(page["total"].as_u64().unwrap_or(0) >= 60, "{page}");
    // The demo shows both halves at once: every eligible session summarized (the five on
    // Linux, iOS and Android are not eligible), counted resolutions this month, an edit.
    assert!(
        overview["summarized"].as_u64().unwrap_or(0) >= 55,
        "{overview}"
    );
    assert!(usage["consumed"].as_u64().unwrap_or(0) > 0, "{usage}");
    assert_eq!(status_of_agents["state"], "running", "{status_of_agents}");
    assert_eq!(
        revisions["items"].as_array().map(Vec::len),
        Some(1),
        "{revisions}"
    );
    assert!(terminated.success());
    assert!(status.success(), "graceful shutdown exits 0: {status:?}");
    demo.database.remove().await;
}

/// A fresh PostgreSQL database with the company `acme` made by `debrief admin`: the working
/// directory, the database and the admin token.
async fn company_on_postgres() -> (tempfile::TempDir, TestDatabase, String) {
    let server_url =
        debrief_store::testing::postgres_test_url().expect("DEBRIEF_TEST_DATABASE_URL");
    let directory = tempfile::tempdir().expect("tempdir");
    let database = TestDatabase::postgres(&server_url).await.expect("database");
    let token = create_company(&database.url, directory.path());
    (directory, database, token)
}

/// A `debrief serve` child with its base URL.
struct Server {
    child: std::process::Child,
    url: String,
}

impl Server {
    async fn start(database: &str, directory: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_debrief"))
            .args(["serve", "--listen", "127.0.0.1:0", "--db", database])
            .env("DEBRIEF_EVALUATION_INTERVAL_MS", "20")
            .env("DEBRIEF_RESOLUTION_JUDGE", "always-pass")
            .current_dir(directory)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("server starts");
        let stdout = child.stdout.take().expect("stdout");
        let first = tokio::task::spawn_blocking(move || {
            use std::io::BufRead;
            let mut line = String::new();
            let _ = std::io::BufReader::new(stdout).read_line(&mut line);
            line
        })
        .await
        .expect("read banner");
        let url = first
            .trim()
            .trim_start_matches("Debrief is running at ")
            .trim_end_matches('/')
            .to_string();
        Server { child, url }
    }

    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL: DEBRIEF_TEST_DATABASE_URL (scripts/setup.sh sets it up)"]
async fn two_servers_on_one_postgres_count_each_conversation_at_most_once() {
    let (directory, database, token) = company_on_postgres().await;
    let first = Server::start(&database.url, directory.path()).await;
    let second = Server::start(&database.url, directory.path()).await;
    let client = reqwest::Client::new();
    let total = 10_000;

    for batch in 0..total / 1_000 {
        let conversations: Vec<serde_json::Value> = (0..1_000)
            .map(|index| {
                let number = batch * 1_000 + index;
                let status = if number % 3 == 0 { "open" } else { "replied" };
                serde_json::json!({
                    "id": format!("c-{number:05}"), "channel": "ticket", "agent": "advanced_ticket_agent", "status": status,
                    "events": [
                        {"at": "2026-01-05T09:00:00Z", "type": "message", "from": "end_user", "text": "Where is my order?"},
                        {"at": "2026-01-05T09:01:00Z", "type": "message", "from": "ai_agent", "text": "It ships today."}
                    ]
                })
            })
            .collect();
        let target = if batch % 2 == 0 {
            &first.url
        } else {
            &second.url
        };
        let response = client
            .post(format!("{target}/api/v1/conversations"))
            .bearer_auth(&token)
            .json(&conversations)
            .send()
            .await
            .expect("answered");
        assert_eq!(response.status().as_u16(), 200);
    }
    let store = debrief_store::connect(&database.url).await.expect("store");
    let company = store.company_by_name("acme").await.expect("company").id;
    let deadline = Instant::now() + Duration::from_secs(180);
    let mut summary = store.verdict_summary(&company).await.expect("summary");
    while summary.pending > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        summary = store.verdict_summary(&company).await.expect("summary");
    }
    first.stop();
    second.stop();

    assert_eq!(summary.pending, 0, "{summary:?}");
    assert_eq!(summary.counted + summary.not_counted, total);
    assert_eq!(
        summary.not_counted,
        (0..total).filter(|n| n % 3 == 0).count() as i64
    );
    assert_eq!(
        summary.evaluations, total,
        "each conversation evaluated once: {summary:?}"
    );
    assert_eq!(
        summary.evaluators.len(),
        2,
        "both servers evaluated: {:?}",
        summary.evaluators
    );
    assert_eq!(
        store.counted_resolutions(&company).await.expect("count"),
        summary.counted
    );
    let counters: i64 = store
        .resolution_counts(&company)
        .await
        .expect("counts")
        .iter()
        .map(|count| count.counted)
        .sum();
    assert_eq!(
        counters, summary.counted,
        "the usage counters equal the verdicts"
    );
    database.remove().await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: DEBRIEF_TEST_DATABASE_URL (scripts/setup.sh sets it up)"]
async fn two_servers_charge_each_session_exactly_one_credit() {
    let (directory, database, token) = company_on_postgres().await;
    let first = Server::start(&database.url, directory.path()).await;
    let second = Server::start(&database.url, directory.path()).await;
    let client = reqwest::Client::new();
    let sessions = 1_000;
    let records: Vec<serde_json::Value> = (0..sessions)
        .map(|number| {
            serde_json::json!({"id": format!("s-{number:04}"), "channel": "remote_session",
                               "turns": [{"speaker": "customer", "text": "Outlook asks for my password"}]})
        })
        .collect();
    let stored = client
        .post(format!("{}/api/v1/sessions", first.url))
        .bearer_auth(&token)
        .json(&records)
        .send()
        .await
        .expect("answered");
    let settings = client
        .put(format!("{}/api/v1/credits/settings", first.url))
        .bearer_auth(&token)
        .json(&serde_json::json!({"addon": {"credits": 1000, "annual_price": "100.00"}}))
        .send()
        .await
        .expect("answered");
    let bought = client
        .post(format!("{}/api/v1/credits/purchases", second.url))
        .bearer_auth(&token)
        .json(&serde_json::json!({"packs": 1}))
        .send()
        .await
        .expect("answered");

    // 20 tasks × 500 AI actions over the same 1,000 sessions, through both servers.
    let mut tasks = Vec::new();
    for task in 0..20 {
        let client = client.clone();
        let token = token.clone();
        let target = if task % 2 == 0 {
            first.url.clone()
        } else {
            second.url.clone()
        };
        tasks.push(tokio::spawn(async move {
            let mut charged = 0;
            for action in 0..500 {
                let session = (task * 500 + action * 7) % 1_000;
                let answer: serde_json::Value = client
                    .post(format!(
                        "{target}/api/v1/sessions/s-{session:04}/ai-actions"
                    ))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .expect("answered")
                    .json()
                    .await
                    .expect("json");
                if answer["credit"] == "charged" {
                    charged += 1;
                }
            }
            charged
        }));
    }
    let mut charged = 0;
    for task in tasks {
        charged += task.await.expect("task");
    }
    let credits: serde_json::Value = client
        .get(format!("{}/api/v1/credits", second.url))
        .bearer_auth(&token)
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("json");
    first.stop();
    second.stop();

    assert_eq!(stored.status().as_u16(), 200);
    assert_eq!(settings.status().as_u16(), 200);
    assert_eq!(bought.status().as_u16(), 201);
    assert_eq!(
        charged, sessions,
        "each session charged once across both servers"
    );
    assert_eq!(credits["month"]["consumed"], sessions);
    assert_eq!(
        credits["balance"],
        10 + 1_000 - sessions,
        "premium's 10 free credits and the pack, less one per session: {credits}"
    );
    database.remove().await;
}

/// Makes the JSON record with a number.
type RecordMaker = fn(usize) -> serde_json::Value;

/// Sends `body` to `path` on `server`, expecting `status`.
async fn post_expecting(
    client: &reqwest::Client,
    server: &str,
    path: &str,
    token: &str,
    body: &serde_json::Value,
    status: u16,
) {
    let response = client
        .post(format!("{server}{path}"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status().as_u16(), status, "{path}");
}

/// The cluster of docs/deploy.md: three `serve` processes on one PostgreSQL take sessions and
/// conversations at once, each batch sent to two of them, while every server's summary worker
/// and evaluator run. Every session is stored once, summarized once and charged one credit;
/// every conversation gets one verdict, evaluated once.
#[tokio::test]
#[ignore = "needs PostgreSQL: DEBRIEF_TEST_DATABASE_URL (scripts/setup.sh sets it up)"]
async fn three_servers_on_one_postgres_lose_and_double_nothing() {
    let (directory, database, token) = company_on_postgres().await;
    let mut servers = Vec::new();
    for _ in 0..3 {
        servers.push(Server::start(&database.url, directory.path()).await);
    }
    let urls: Vec<String> = servers.iter().map(|server| server.url.clone()).collect();
    let client = reqwest::Client::new();
    let ai = serde_json::json!({"ai": {"enabled": true},
        "insights": {"outgoing": {"enabled": true}, "incoming": {"enabled": true}}});
    let response = client
        .put(format!("{}/api/v1/settings/ai", urls[0]))
        .bearer_auth(&token)
        .json(&ai)
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status().as_u16(), 200);
    let addon = serde_json::json!({"addon": {"credits": 1000, "annual_price": "100.00"}});
    let response = client
        .put(format!("{}/api/v1/credits/settings", urls[1]))
        .bearer_auth(&token)
        .json(&addon)
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status().as_u16(), 200);
    let packs = serde_json::json!({"packs": 1});
    post_expecting(
        &client,
        &urls[2],
        "/api/v1/credits/purchases",
        &token,
        &packs,
        201,
    )
    .await;

    let (sessions, conversations, batch) = (600usize, 1_500usize, 50usize);
    let session = |number: usize| {
        serde_json::json!({"id": format!("s-{number:04}"), "channel": "remote_session",
            "direction": "outgoing", "started_at": "2026-11-20T10:00:00Z", "consent": "allowed",
            "supporter": {"id": "u-9", "name": "Ana Souza"},
            "device": {"id": format!("d-{}", number % 7), "platform": "windows"},
            "turns": [{"speaker": "customer", "text": "Outlook keeps asking for my password"},
                      {"speaker": "agent", "text": "I reset your credentials; it works now"}]})
    };
    let conversation = |number: usize| {
        let status = if number.is_multiple_of(3) {
            "open"
        } else {
            "replied"
        };
        serde_json::json!({"id": format!("c-{number:05}"), "channel": "ticket",
            "agent": "advanced_ticket_agent", "status": status, "events": [
                {"at": "2026-01-05T09:00:00Z", "type": "message", "from": "end_user", "text": "Where is my order?"},
                {"at": "2026-01-05T09:01:00Z", "type": "message", "from": "ai_agent", "text": "It ships today."}]})
    };
    // Each of three writers sends its third of the batches to its server and to the next one.
    let mut writers = Vec::new();
    for writer in 0..3 {
        let (client, token, urls) = (client.clone(), token.clone(), urls.clone());
        writers.push(tokio::spawn(async move {
            let kinds: [(&str, usize, RecordMaker); 2] = [
                ("/api/v1/sessions", sessions, session),
                ("/api/v1/conversations", conversations, conversation),
            ];
            for (path, total, record) in kinds {
                for start in (writer * batch..total).step_by(3 * batch) {
                    let records: Vec<_> = (start..(start + batch).min(total)).map(record).collect();
                    for target in [writer, (writer + 1) % 3] {
                        let body = serde_json::Value::Array(records.clone());
                        post_expecting(&client, &urls[target], path, &token, &body, 200).await;
                    }
                }
            }
        }));
    }
    for writer in writers {
        writer.await.expect("writer");
    }

    let store = debrief_store::connect(&database.url).await.expect("store");
    let company = store.company_by_name("acme").await.expect("company").id;
    let range = debrief_store::SummaryRange::default();
    let deadline = Instant::now() + Duration::from_secs(240);
    let (mut counts, mut verdicts);
    loop {
        counts = store
            .summary_counts(&company, &range)
            .await
            .expect("counts");
        verdicts = store.verdict_summary(&company).await.expect("verdicts");
        let done = counts.pending == 0 && verdicts.pending == 0;
        if done || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let credits: serde_json::Value = client
        .get(format!("{}/api/v1/credits", urls[0]))
        .bearer_auth(&token)
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("json");
    for server in servers {
        server.stop();
    }

    assert_eq!(counts.sessions, sessions as i64, "each session stored once");
    assert_eq!(
        counts.summarized, sessions as i64,
        "every session summarized: {counts:?}"
    );
    let listed = store
        .search_summaries(
            &company,
            &debrief_store::SummarySearch {
                limit: 1,
                ..Default::default()
            },
        )
        .await
        .expect("summaries");
    assert_eq!(listed.total, sessions as u64, "one summary a session");
    assert_eq!(
        credits["month"]["consumed"], sessions,
        "one credit a session: {credits}"
    );
    assert_eq!(verdicts.pending, 0, "{verdicts:?}");
    assert_eq!(
        verdicts.counted + verdicts.not_counted,
        conversations as i64
    );
    assert_eq!(
        verdicts.evaluations, conversations as i64,
        "each conversation evaluated once: {verdicts:?}"
    );
    assert!(
        verdicts.evaluators.len() >= 2,
        "more than one server evaluated: {:?}",
        verdicts.evaluators
    );
    assert_eq!(
        store.counted_resolutions(&company).await.expect("count"),
        verdicts.counted
    );
    database.remove().await;
}

#[tokio::test]
async fn credits_report_shows_the_balance_by_source_and_the_ledger() {
    let directory = tempfile::tempdir().expect("tempdir");
    let database = TestDatabase::sqlite();
    create_company(&database.url, directory.path());

    let report = debrief(
        &[
            "credits",
            "report",
            "--company",
            "acme",
            "--db",
            &database.url,
        ],
        directory.path(),
    );
    let unknown = debrief(
        &[
            "credits",
            "report",
            "--company",
            "nobody",
            "--db",
            &database.url,
        ],
        directory.path(),
    );

    assert!(
        report.status.success(),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    let text = stdout(&report);
    assert!(text.contains("balance 10 credits, debt 0"), "{text}");
    assert!(
        text.lines()
            .any(|line| line.starts_with("free") && line.contains(" 10 ")),
        "{text}"
    );
    assert!(
        text.contains("grant") && text.contains("free monthly credits of tier premium"),
        "{text}"
    );
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("nobody"));
}

#[tokio::test]
async fn export_writes_a_companys_summaries_in_the_language_asked() {
    let directory = tempfile::tempdir().expect("tempdir");
    let database = TestDatabase::sqlite();
    let store = debrief_store::connect(&database.url).await.expect("store");
    let company = debrief_store::testing::create_test_company(store.as_ref(), "acme")
        .await
        .company
        .id;
    let records: Vec<debrief_core::SessionRecord> = ["s-1", "s-2"]
        .iter()
        .map(|id| debrief_store::testing::test_session(id, 0, "windows", "u-1"))
        .collect();
    store
        .insert_sessions(&company, &records)
        .await
        .expect("insert");
    let engine = debrief_engine::summarize::BuiltinEngine::default();
    for job in store
        .claim_summary_jobs(chrono::Utc::now(), 10, 60)
        .await
        .expect("claim")
    {
        let session = debrief_core::Session::parse_json(&job.session).expect("session");
        store
            .complete_summary_job(
                &job,
                &engine.summarize(&session),
                debrief_core::governance::ConsentMode::Allowed,
            )
            .await
            .expect("complete");
    }
    let out = directory.path().join("summaries.md");

    let exported = debrief(
        &[
            "export",
            "--company",
            "acme",
            "--format",
            "markdown",
            "--language",
            "fr",
            "--out",
            out.to_str().expect("path"),
            "--db",
            &database.url,
        ],
        directory.path(),
    );
    let unknown_format = debrief(
        &[
            "export",
            "--company",
            "acme",
            "--format",
            "docx",
            "--out",
            "-",
            "--db",
            &database.url,
        ],
        directory.path(),
    );

    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    let text = std::fs::read_to_string(&out).expect("written");
    assert!(text.starts_with("# Résumés de sessions"), "{text}");
    assert_eq!(text.matches("## ").count(), 2);
    assert!(String::from_utf8_lossy(&exported.stderr).contains("exported 2 summaries as md in fr"));
    assert!(!unknown_format.status.success());
    assert!(String::from_utf8_lossy(&unknown_format.stderr).contains("unknown export format"));
}

#[test]
fn train_judge_on_the_development_split_gives_the_shipped_weights() {
    let directory = tempfile::tempdir().expect("tempdir");
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/stc3.dev.jsonl");
    let weights = directory.path().join("weights.json");
    let trained = debrief(
        &[
            "train",
            "judge",
            "--input",
            data.to_str().expect("utf-8 path"),
            "--output",
            weights.to_str().expect("utf-8 path"),
        ],
        directory.path(),
    );
    assert!(trained.status.success(), "{trained:?}");
    // The cross-validation table, one row per setting, the chosen one marked.
    assert_eq!(
        stdout(&trained).matches("← chosen").count(),
        1,
        "{}",
        stdout(&trained)
    );
    let read = |text: &str| -> debrief_engine::solved::Model {
        serde_json::from_str(text).expect("weights parse")
    };
    let written = read(&std::fs::read_to_string(&weights).expect("weights written"));
    let shipped = &*debrief_engine::solved::SHIPPED;
    assert_eq!(
        (&written.trained_on, written.l2, written.threshold),
        (&shipped.trained_on, shipped.l2, shipped.threshold)
    );
    let close = |left: f64, right: f64| (left - right).abs() < 1e-9;
    assert!(close(written.bias, shipped.bias));
    for ((name, weight), (shipped_name, shipped_weight)) in
        written.weights.iter().zip(&shipped.weights)
    {
        assert_eq!(name, shipped_name);
        assert!(
            close(*weight, *shipped_weight),
            "{name}: {weight} ≠ {shipped_weight}"
        );
    }
    assert!(written.cross_validated.precision >= 0.65 && written.cross_validated.recall >= 0.55);
}

#[tokio::test]
async fn eval_judge_scores_the_judge_against_the_labels() {
    let directory = tempfile::tempdir().expect("tempdir");
    let file = directory.path().join("labelled.jsonl");
    let record = |id: &str, last: &str, solved: bool| {
        serde_json::json!({
            "id": id, "resolved_majority": solved,
            "turns": [
                {"speaker": "customer", "text": "My printer is offline"},
                {"speaker": "agent", "text": "I restarted the spooler"},
                {"speaker": "customer", "text": last}
            ]
        })
        .to_string()
    };
    let lines = [
        record("a", "It works now, thank you!", true),
        record("b", "It is still offline.", false),
        record("c", "Thanks, but it still does not print.", true),
        record("d", "Great, thanks!", false),
    ];
    std::fs::write(&file, lines.join("\n")).expect("write");
    let file = file.to_str().expect("utf-8 path");

    let eval = debrief(&["eval", "judge", "--input", file], directory.path());
    let judged = debrief(
        &["judge", "--input", file, "--output", "-"],
        directory.path(),
    );

    assert!(eval.status.success());
    // Predicted resolved: a (right) and d (wrong); c is missed.
    assert!(
        stdout(&eval).contains("precision 0.500 recall 0.500 F1 0.500 (n=4"),
        "{}",
        stdout(&eval)
    );
    let verdicts: Vec<serde_json::Value> = stdout(&judged)
        .lines()
        .map(|line| serde_json::from_str(line).expect("json"))
        .collect();
    assert_eq!(verdicts.len(), 4);
    assert_eq!(verdicts[0]["resolved"], true);
    assert_eq!(verdicts[1]["resolved"], false);
    assert!(verdicts[0]["confidence"]
        .as_f64()
        .is_some_and(|confidence| (0.0..=1.0).contains(&confidence)));
}

#[tokio::test]
async fn eval_issue_types_scores_the_classifier_and_writes_predictions() {
    let directory = tempfile::tempdir().expect("tempdir");
    let taxonomy = directory.path().join("taxonomy.json");
    std::fs::write(
        &taxonomy,
        serde_json::json!({"issue_types": [
            {"id": "printing", "name": "Printing", "description": "printers and print queues",
             "examples": ["my printer is offline", "the print job is stuck"]},
            {"id": "vpn", "name": "VPN", "description": "vpn and remote access",
             "examples": ["the vpn keeps disconnecting", "cannot connect to the vpn"]}
        ]})
        .to_string(),
    )
    .expect("write");
    let records = directory.path().join("records.jsonl");
    let record = |id: &str, text: &str, gold: &str| {
        serde_json::json!({"id": id, "issue_type": gold, "turns": [{"speaker": "customer", "text": text}]}).to_string()
    };
    std::fs::write(
        &records,
        [
            record("a", "The printer on floor two is offline again", "printing"),
            record("b", "VPN disconnects every hour", "vpn"),
            record("c", "My print job never comes out", "vpn"),
        ]
        .join("\n"),
    )
    .expect("write");
    let predictions = directory.path().join("predictions.jsonl");

    let output = debrief(
        &[
            "eval",
            "issue-types",
            "--input",
            records.to_str().expect("path"),
            "--taxonomy",
            taxonomy.to_str().expect("path"),
            "--predictions",
            predictions.to_str().expect("path"),
        ],
        directory.path(),
    );

    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // a and b right; c predicted printing against gold vpn: printing P 1/2 R 1, vpn P 1 R 1/2.
    assert!(
        stdout(&output).contains("accuracy 0.667 macro-F1 0.667 (n=3"),
        "{}",
        stdout(&output)
    );
    let written = std::fs::read_to_string(&predictions).expect("predictions");
    let first: serde_json::Value =
        serde_json::from_str(written.lines().next().expect("a line")).expect("json");
    assert_eq!(
        first,
        serde_json::json!({"id": "a", "issue_types": ["printing"]})
    );
}

#[tokio::test]
async fn summarize_writes_a_summary_per_session_and_eval_scores_them() {
    let directory = tempfile::tempdir().expect("tempdir");
    let file = directory.path().join("dialogues.jsonl");
    let record = |id: &str| {
        serde_json::json!({
            "id": id,
            "reference_summaries": ["Bob's Outlook kept asking for his password. Ana cleared the old credential."],
            "turns": [
                {"speaker": "customer", "speaker_name": "Bob", "text": "Hi Ana. Outlook keeps asking for my password since this morning."},
                {"speaker": "agent", "speaker_name": "Ana", "text": "I cleared the old credential from the credential manager."},
                {"speaker": "customer", "speaker_name": "Bob", "text": "It works now, thank you!"}
            ]
        })
        .to_string()
    };
    std::fs::write(
        &file,
        format!("{}\n{}\n{{\"turns\": 5}}\n", record("a"), record("b")),
    )
    .expect("write");
    let file = file.to_str().expect("utf-8 path");

    let summarized = debrief(
        &["summarize", "--input", file, "--output", "-"],
        directory.path(),
    );
    let evaluated = debrief(&["eval", "summaries", "--input", file], directory.path());

    assert_eq!(
        summarized.status.code(),
        Some(1),
        "the bad third line is rejected"
    );
    assert!(String::from_utf8_lossy(&summarized.stderr).contains("line 3: "));
    let summaries: Vec<serde_json::Value> = stdout(&summarized)
        .lines()
        .map(|line| serde_json::from_str(line).expect("json"))
        .collect();
    assert_eq!(summaries.len(), 2);
    let summary = &summaries[0];
    assert_eq!(
        (
            summary["id"].as_str(),
            summary["outcome"].as_str(),
            summary["engine"].as_str()
        ),
        (Some("a"), Some("resolved"), Some("builtin-1"))
    );
    let narrative = summary["summary"].as_str().unwrap_or("");
    assert!(
        narrative.contains("Bob's password") && narrative.contains("Ana cleared"),
        "{narrative}"
    );
    assert!(
        !narrative.contains(" I ") && !narrative.contains(" my "),
        "third person: {narrative}"
    );
    let report = stdout(&evaluated);
    assert!(report.starts_with("summaries: ROUGE-1 "), "{report}");
    assert!(report.contains("(n=2, rejected 1)"), "{report}");
}

/// Logs written to a file or a pipe carry no colour codes.
#[tokio::test]
async fn logs_to_a_pipe_have_no_colour_codes() {
    let database = TestDatabase::sqlite();
    let output = Command::new(env!("CARGO_BIN_EXE_debrief"))
        .args(["migrate", "--db", &database.url])
        .env("DEBRIEF_NO_SUCH_SETTING", "1")
        .env_remove("NO_COLOR")
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("unknown DEBRIEF_ environment variable ignored"),
        "a warning is logged: {stderr}"
    );
    assert!(!stderr.contains('\u{1b}'), "no ANSI escapes: {stderr:?}");
    database.remove().await;
}
