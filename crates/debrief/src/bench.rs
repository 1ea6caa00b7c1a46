//! `debrief bench …`: generates session files of any size and measures the raw
//! read-and-parse rate of a file, the ceiling an import can reach.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use chrono::{Datelike, Duration, TimeZone, Utc};
use clap::Subcommand;
use debrief_core::governance::{ConsentMode, SkipReason};
use debrief_core::summary::{Outcome, Summary};
use debrief_core::Session;
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Write COUNT synthetic remote-support sessions as JSON Lines.
    Sessions {
        #[arg(long)]
        count: u64,
        /// Transcript turns per session.
        #[arg(long, default_value_t = 20)]
        turns: usize,
        /// Device events per session.
        #[arg(long, default_value_t = 10)]
        events: usize,
        /// Seed of the generator: the same seed writes the same file.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        output: PathBuf,
    },
    /// Write COUNT synthetic automated-resolution conversations as JSON Lines.
    Conversations {
        #[arg(long)]
        count: u64,
        /// Events per conversation.
        #[arg(long, default_value_t = 10)]
        events: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        output: PathBuf,
    },
    /// Write a billing timeline of EVENTS events spread over three years.
    Timeline {
        #[arg(long)]
        events: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        output: PathBuf,
    },
    /// Read and validate every line of a session file without storing it: the import ceiling.
    Parse {
        #[arg(long)]
        input: PathBuf,
    },
    /// Time an LLM engine on sessions of a file: prompt and generation tokens per second, and
    /// seconds per summary through the whole pipeline (redaction, validation, fallback).
    Llm {
        /// openai (the `[llm.openai]` server) or local (the `[llm.local]` model).
        #[arg(long)]
        engine: String,
        #[arg(long)]
        input: PathBuf,
        /// Sessions to use (from the start of the file).
        #[arg(long, default_value_t = 10)]
        count: usize,
        /// Longest generation timed, in tokens.
        #[arg(long, default_value_t = 128)]
        max_tokens: u32,
    },
    /// Fill a fresh company of the database at `--db` with SESSIONS sessions of the last 90
    /// days (most summarized, some skipped or waiting), then time the insights page — overview,
    /// charts and the first list page, as a signed-in admin — through the whole router. The
    /// database is left as it is, and the company's admin token is the last line printed, so
    /// that the pages can be timed again from outside (`debrief serve --db …`).
    Insights {
        #[arg(long, default_value_t = 100_000)]
        sessions: u64,
        /// How many times each page is requested.
        #[arg(long, default_value_t = 30)]
        requests: u32,
        #[arg(long)]
        db: String,
    },
    /// Fill a company `bench` (plan enterprise, 40 seats, 24 months of history) of the database
    /// at `--db` with RESOLUTIONS counted resolutions through the evaluator's write path, time
    /// accepting a conversation, the AI-agent status, the month's usage and the 24-month
    /// statement through the whole router, then print the company's admin token as the last
    /// line and leave the database for `debrief serve`.
    Metering {
        #[arg(long, default_value_t = 1_000_000)]
        resolutions: u64,
        /// How many times each request is timed.
        #[arg(long, default_value_t = 200)]
        requests: u32,
        #[arg(long)]
        db: String,
    },
    /// Charge ENTRIES sessions one credit each in a fresh company of the database at `--db`
    /// (a ledger of that many entries), then time reading the balance.
    Credits {
        #[arg(long, default_value_t = 1_000_000)]
        entries: u64,
        /// How many balance reads to time.
        #[arg(long, default_value_t = 1_000)]
        reads: u32,
        #[arg(long)]
        db: String,
    },
}

/// Times an LLM backend on the first `count` sessions of `input`. Every request starts with a
/// line of its own so that no server reuses a cached prompt prefix: prompt rates compare alike.
/// Prompt rate: prompt tokens over the time of one-token answers. Generation rate: generated
/// tokens over the time of full answers less their prompt's share at the measured prompt rate.
async fn llm(
    backend: std::sync::Arc<dyn debrief_llm::backend::LlmBackend>,
    input: &std::path::Path,
    count: usize,
    max_tokens: u32,
) -> anyhow::Result<()> {
    use debrief_engine::language::Language;
    use debrief_llm::prompt::{render_dialogue, summary_instructions, summary_request};

    let text = std::fs::read_to_string(input)
        .with_context(|| format!("cannot read {}", input.display()))?;
    let sessions: Vec<Session> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .take(count)
        .map(Session::parse_json)
        .collect::<Result<_, _>>()?;
    let builtin = debrief_engine::summarize::BuiltinEngine::default();
    let instructions = summary_instructions(Language::English, builtin.classifier.ids());
    let request = |session: &Session, nonce: &str, max_tokens: u32| {
        let mut redactor = debrief_llm::redact::Redactor::new();
        let lines = debrief_engine::judge::session_lines(session);
        let rendered = render_dialogue(
            lines
                .iter()
                .map(|line| (debrief_llm::prompt::role_label(line.role), line.text)),
            &mut redactor,
            12_000,
        );
        let mut request =
            summary_request(&format!("Request {nonce}.\n{instructions}"), &rendered.text);
        request.max_tokens = max_tokens;
        request
    };

    let (mut prompt_tokens, mut prompt_seconds) = (0u64, 0f64);
    for (index, session) in sessions.iter().enumerate() {
        let started = Instant::now();
        let completion = backend
            .complete(&request(session, &format!("p{index}"), 1))
            .await?;
        prompt_seconds += started.elapsed().as_secs_f64();
        prompt_tokens += u64::from(completion.prompt_tokens);
    }
    let prompt_rate = prompt_tokens as f64 / prompt_seconds;

    let (mut generated, mut generation_seconds) = (0u64, 0f64);
    for (index, session) in sessions.iter().enumerate() {
        let started = Instant::now();
        let completion = backend
            .complete(&request(session, &format!("g{index}"), max_tokens))
            .await?;
        let elapsed = started.elapsed().as_secs_f64();
        generated += u64::from(completion.completion_tokens.saturating_sub(1));
        generation_seconds += elapsed - f64::from(completion.prompt_tokens) / prompt_rate;
    }

    let summarizer = debrief_llm::engine::LlmSummarizer::new(
        std::sync::Arc::clone(&backend),
        debrief_llm::engine::LlmOptions::default(),
    );
    let started = Instant::now();
    let mut fallbacks = 0;
    for session in &sessions {
        let summary = summarizer
            .summarize(session, Language::English, &builtin)
            .await;
        fallbacks += usize::from(summary.fallback.is_some());
    }
    let per_summary = started.elapsed().as_secs_f64() / sessions.len().max(1) as f64;

    println!(
        "{}: {} sessions; prompt {:.0} tokens/s ({prompt_tokens} tokens); generation {:.1} tokens/s \
         ({generated} tokens); {per_summary:.2} s per summary ({fallbacks} fell back to the built-in engine)",
        backend.model_id(),
        sessions.len(),
        prompt_rate,
        generated as f64 / generation_seconds.max(f64::EPSILON),
    );
    Ok(())
}

/// A new premium company named after `now`, in UTC, its term starting today.
async fn bench_company(
    store: &dyn debrief_store::Store,
    now: chrono::DateTime<Utc>,
) -> anyhow::Result<debrief_store::CreatedCompany> {
    use debrief_core::tenancy::{CompanyName, LicenseTier, NewCompany, TimeZoneName};
    let company = NewCompany {
        name: CompanyName::parse(&format!("bench-{}", now.timestamp_micros()))?,
        tier: LicenseTier::Premium,
        time_zone: TimeZoneName::parse("UTC")?,
        term_start: now.date_naive(),
    };
    Ok(store.create_company(&company, "Bench").await?)
}

/// Fills a company's credit ledger with `entries` charged sessions and times balance reads.
async fn credits(entries: u64, reads: u32, db: &str) -> anyhow::Result<()> {
    use debrief_core::credits::OutOfCredits;
    use debrief_store::{CreditSource, NewGrant};

    let store = debrief_store::connect(db).await?;
    let start = Utc::now();
    let company = bench_company(store.as_ref(), start).await?.company;
    store
        .grant_credits(
            &company.id,
            &NewGrant {
                source: CreditSource::Adjustment,
                period: "bench".into(),
                amount: entries as i64,
                granted_at: start,
                expires_at: start + Duration::days(3650),
                reason: "bench".into(),
                renewing_packs_added: 0,
                packs: 0,
            },
        )
        .await?;
    let filling = Instant::now();
    for entry in 0..entries {
        store
            .consume_credit(
                &company.id,
                &format!("s-{entry}"),
                start,
                "bench",
                OutOfCredits::Stop,
            )
            .await?;
    }
    let filled = filling.elapsed().as_secs_f64();
    let ledger = store.credit_ledger(&company.id, None, 1).await?.len();
    let reading = Instant::now();
    let mut balance = 0;
    for _ in 0..reads {
        balance = store.credit_balance(&company.id, Utc::now()).await?.balance;
    }
    let per_read = reading.elapsed().as_secs_f64() / f64::from(reads.max(1));
    println!(
        "charged {entries} sessions in {filled:.1}s ({:.0}/s); ledger non-empty: {}; balance {balance}; \
         balance read {:.3} ms on average over {reads} reads",
        entries as f64 / filled.max(1e-9),
        ledger > 0,
        per_read * 1_000.0
    );
    Ok(())
}

/// Fills the company `bench` with `count` counted resolutions over 24 months through the
/// evaluator's write path (conversations stored, claimed, decided and recorded), then times the
/// metering requests through the router.
async fn metering(count: u64, requests: u32, db: &str) -> anyhow::Result<()> {
    use axum::body::Body;
    use axum::http::{header, Method, Request};
    use debrief_core::tenancy::{CompanyName, LicenseTier, NewCompany, TimeZoneName};
    use debrief_store::ConversationWrite;

    let store = debrief_store::connect(db).await?;
    let now = Utc::now();
    let first = now
        .date_naive()
        .with_day(1)
        .and_then(|day| day.checked_sub_months(chrono::Months::new(24)))
        .context("24 months back")?;
    let created_at = Utc.from_utc_datetime(&first.and_hms_opt(8, 0, 0).context("time")?);
    let created = store
        .create_company_at(
            &NewCompany {
                name: CompanyName::parse("bench")?,
                tier: LicenseTier::Premium,
                time_zone: TimeZoneName::parse("UTC")?,
                term_start: first,
            },
            "Bench",
            created_at,
        )
        .await
        .context("a company `bench` already exists here: use a fresh database")?;
    let company = created.company.clone();
    let plan = json!({"at": debrief_core::billing::timeline_time(created_at + Duration::minutes(1)),
        "type": "account", "time_zone": "UTC", "tier": "premium", "term_start": first,
        "addon": {"credits": 0, "annual_price": "0.00"}, "out_of_credits": {"mode": "stop"},
        "resolutions": {"plan": "enterprise", "full_seats": 40, "overage_unit_price": "1.50",
                        "at_limit": "continue", "monthly_cap": null}});
    store
        .append_billing_event(
            &company.id,
            created_at + Duration::minutes(1),
            "account",
            &plan.to_string(),
        )
        .await?;
    let span = (now - Duration::hours(73) - created_at)
        .num_seconds()
        .max(1);
    let check =
        debrief_llm::engine::ResolutionCheck::InProcess(debrief_engine::judge::Judge::AlwaysPass);
    let filling = Instant::now();
    // PostgreSQL takes several evaluators at once (they claim with SKIP LOCKED); SQLite has one
    // writer.
    let writers: u64 = match store.backend() {
        debrief_store::Backend::Postgres => 4,
        debrief_store::Backend::Sqlite => 1,
    };
    let batches = count.div_ceil(500);
    let mut tasks = Vec::new();
    for writer in 0..writers {
        let (store, company, check) = (store.clone(), company.id.clone(), check.clone());
        tasks.push(tokio::spawn(async move {
            let mut recorded = 0u64;
            for batch in (writer..batches).step_by(writers as usize) {
                let range = batch * 500..((batch + 1) * 500).min(count);
                for index in range {
                    let at = created_at
                        + Duration::minutes(2)
                        + Duration::seconds(span * index as i64 / count as i64);
                    let conversation = json!({"id": format!("bench-{index}"), "channel": "ticket",
                        "agent": "advanced_ticket_agent", "status": "replied", "events": [
                        {"at": at.to_rfc3339(), "type": "message", "from": "end_user", "text": "Please reset my password"},
                        {"at": (at + Duration::seconds(30)).to_rfc3339(), "type": "message", "from": "ai_agent", "text": "Done: your password is reset."}]});
                    let parsed = debrief_core::resolution::Conversation::parse_json(
                        &conversation.to_string(),
                    )
                    .map_err(|error| anyhow::anyhow!("bench conversation: {error}"))?;
                    store
                        .save_conversation(
                            &company,
                            &ConversationWrite {
                                id: parsed.id.clone(),
                                agent: parsed.agent.family().to_string(),
                                channel: parsed.channel.clone(),
                                body: conversation.to_string(),
                                decidable_at: debrief_core::resolution::decidable_at(&parsed),
                            },
                            None,
                        )
                        .await?;
                }
                let metrics = debrief_workflows::metrics::Metrics::default();
                let mut claimed_batch = store.claim_due(now, 1000, 600, "bench").await?;
                claimed_batch.sort_by_key(|claimed| claimed.seq);
                for claimed in claimed_batch {
                    let parsed = debrief_core::resolution::Conversation::parse_json(&claimed.body)
                        .map_err(|error| anyhow::anyhow!("bench conversation: {error}"))?;
                    let (_, write) = debrief_workflows::evaluation::decide(
                        &parsed,
                        &check,
                        "bench",
                        &claimed.time_zone,
                        now,
                        &metrics,
                    )
                    .await;
                    if store.record_verdict(&claimed, &write).await? {
                        recorded += 1;
                    }
                }
            }
            anyhow::Ok(recorded)
        }));
    }
    let mut recorded = 0u64;
    for task in tasks {
        recorded += task.await??;
    }
    store.settle().await?;
    println!(
        "recorded {recorded} counted resolutions over 24 months in {:.1}s ({:.0}/s)",
        filling.elapsed().as_secs_f64(),
        recorded as f64 / filling.elapsed().as_secs_f64().max(1e-9)
    );

    let state = debrief_server::AppState {
        store: store.clone(),
        limits: debrief_server::Limits::default(),
        judge: check,
        llm: debrief_llm::configure::Backends::default(),
        clock: debrief_workflows::clock::Clock::system(),
        export_font: None,
        secrets: None,
        metrics: Default::default(),
        deliverer: debrief_workflows::webhooks::Deliverer::new(
            store.clone(),
            Default::default(),
            None,
            debrief_workflows::outbound::Reach::PublicOnly,
        )?,
    };
    let router = debrief_server::router(state);
    let bearer = format!("Bearer {}", created.admin_token.secret.expose());
    println!("| request | median ms | p95 ms | max ms |");
    println!("|---|---|---|---|");
    let requests_of = [
        (
            "POST /api/v1/conversations",
            Method::POST,
            "/api/v1/conversations",
        ),
        (
            "GET /api/v1/ai-agents/status",
            Method::GET,
            "/api/v1/ai-agents/status",
        ),
        (
            "GET /api/v1/usage/resolutions",
            Method::GET,
            "/api/v1/usage/resolutions",
        ),
        (
            "GET /api/v1/billing/statement (24 months)",
            Method::GET,
            "/api/v1/billing/statement",
        ),
    ];
    for (name, method, path) in requests_of {
        let mut round = 0;
        let times = time_requests(&router, requests, || {
            round += 1;
            let body = if method == Method::POST {
                json!({"id": format!("timed-{round}"), "channel": "chat", "agent": "advanced_chat_agent",
                       "status": "handled_by_ai", "events": [
                       {"at": now.to_rfc3339(), "type": "message", "from": "end_user", "text": "Where is my order?"}]})
                .to_string()
            } else {
                String::new()
            };
            Ok(Request::builder()
                .method(method.clone())
                .uri(path)
                .header(header::AUTHORIZATION, bearer.as_str())
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body))?)
        })
        .await?;
        println!(
            "| {name} | {:.2} | {:.2} | {:.2} |",
            times.0, times.1, times.2
        );
    }
    println!("{}", created.admin_token.secret.expose());
    Ok(())
}

/// Issue types of the insights bench's summaries.
const BENCH_ISSUE_TYPES: [&str; 8] = [
    "email",
    "network_vpn",
    "printing",
    "performance",
    "file_access",
    "account_password",
    "hardware",
    "software_install",
];

/// Skip reasons of the insights bench's skipped sessions.
const BENCH_SKIP_REASONS: [SkipReason; 3] = [
    SkipReason::ConsentDenied,
    SkipReason::NoCredits,
    SkipReason::IncomingDisabled,
];

/// Fills a company with `count` sessions of the last 90 days and their summaries (synthetic, in
/// the stored format: the page's cost does not depend on the words), then times the page.
async fn insights(count: u64, requests: u32, db: &str) -> anyhow::Result<()> {
    use axum::body::Body;
    use axum::http::{header, Request};

    let store = debrief_store::connect(db).await?;
    let now = Utc::now();
    let created = bench_company(store.as_ref(), now).await?;
    let company = created.company.id.clone();
    let mut generator = SessionGenerator::new(7);
    let filling = Instant::now();
    let span_micros = Duration::days(90).num_microseconds().unwrap_or(1);
    for batch_start in (0..count).step_by(1000) {
        let batch: Vec<debrief_core::SessionRecord> = (batch_start..(batch_start + 1000).min(count))
            .map(|index| {
                let started = now - Duration::microseconds(span_micros * index as i64 / count as i64);
                let topic = (generator.next() % CUSTOMER_LINES.len() as u64) as usize;
                let text = json!({
                    "id": format!("bench-{index}"),
                    "channel": "remote_session",
                    "direction": "outgoing",
                    "started_at": started.to_rfc3339(),
                    "supporter": {"id": format!("sup-{}", index % 40), "name": generator.pick(&AGENTS)},
                    "device": {"id": format!("d-{}", index % 5000), "platform": generator.pick(&PLATFORMS)},
                    "turns": [
                        {"speaker": "customer", "speaker_name": generator.pick(&CUSTOMERS), "text": CUSTOMER_LINES[topic]},
                        {"speaker": "agent", "text": AGENT_LINES[topic]}
                    ],
                    "events": [{"at": started.to_rfc3339(), "type": "app_focus", "app": generator.pick(&APPS)}]
                });
                debrief_core::SessionRecord::parse(&text.to_string())
                    .map_err(|error| anyhow::anyhow!("bench session: {error}"))
            })
            .collect::<anyhow::Result<_>>()?;
        store.insert_sessions(&company, &batch).await?;
    }
    let mut summarized = 0u64;
    loop {
        let jobs = store.claim_summary_jobs(now, 1000, 600).await?;
        if jobs.is_empty() {
            break;
        }
        for job in &jobs {
            let roll = generator.next() % 100;
            if roll < 15 {
                let reason = &BENCH_SKIP_REASONS[(roll % 3) as usize];
                store
                    .skip_summary_job(job, reason, ConsentMode::Allowed)
                    .await?;
                continue;
            }
            let topic = (generator.next() % CUSTOMER_LINES.len() as u64) as usize;
            let summary = Summary {
                id: job.session_id.clone(),
                title: CUSTOMER_LINES[topic].into(),
                summary: format!("{}. {}.", CUSTOMER_LINES[topic], AGENT_LINES[topic]),
                problem: CUSTOMER_LINES[topic].into(),
                actions: vec![AGENT_LINES[topic].into()],
                outcome: Outcome::Resolved,
                issue_types: vec![
                    BENCH_ISSUE_TYPES[topic].into(),
                    generator.pick(&BENCH_ISSUE_TYPES).into(),
                ],
                applications: vec![generator.pick(&APPS).into()],
                language: "en".into(),
                engine: "builtin-1".into(),
                ..Summary::default()
            };
            store
                .complete_summary_job(job, &summary, ConsentMode::Allowed)
                .await?;
            summarized += 1;
        }
    }
    store.settle().await?;
    println!(
        "stored {count} sessions ({summarized} summarized) in {:.1}s",
        filling.elapsed().as_secs_f64()
    );

    let state = debrief_server::AppState {
        store: store.clone(),
        limits: debrief_server::Limits::default(),
        judge: debrief_llm::engine::ResolutionCheck::InProcess(
            debrief_engine::judge::Judge::AlwaysPass,
        ),
        llm: debrief_llm::configure::Backends::default(),
        clock: debrief_workflows::clock::Clock::system(),
        export_font: None,
        secrets: None,
        metrics: Default::default(),
        deliverer: debrief_workflows::webhooks::Deliverer::new(
            store.clone(),
            Default::default(),
            None,
            debrief_workflows::outbound::Reach::PublicOnly,
        )?,
    };
    let router = debrief_server::router(state);
    let cookie = format!("debrief_session={}", created.admin_token.secret.expose());
    let bearer = format!("Bearer {}", created.admin_token.secret.expose());
    let since = (now - Duration::days(90)).format("%Y-%m-%dT%H:%M:%SZ");
    let pages = [
        ("insights, last 30 days", "/insights".to_string()),
        ("insights, last 90 days", "/insights?period=90".to_string()),
        (
            "search \"printer offline\"",
            "/insights?period=90&q=printer+offline".to_string(),
        ),
        (
            "filter issue type, page 40",
            "/insights?period=90&issue_type=printing&page=40".to_string(),
        ),
        ("side panel open", "/insights?open=bench-10".to_string()),
        (
            "API overview, 90 days",
            format!("/api/v1/insights/overview?from={since}"),
        ),
        (
            "API list, 90 days",
            format!("/api/v1/summaries?from={since}"),
        ),
        (
            "API search, 90 days",
            format!("/api/v1/summaries?q=printer+offline&from={since}"),
        ),
    ];
    println!("| page | median ms | p95 ms | max ms |");
    println!("|---|---|---|---|");
    for (name, path) in pages {
        let times = time_requests(&router, requests, || {
            Ok(Request::builder()
                .uri(path.as_str())
                .header(header::COOKIE, cookie.as_str())
                .header(header::AUTHORIZATION, bearer.as_str())
                .body(Body::empty())?)
        })
        .await?;
        println!(
            "| {name} | {:.1} | {:.1} | {:.1} |",
            times.0, times.1, times.2
        );
    }
    println!("{}", created.admin_token.secret.expose());
    Ok(())
}

/// Sends `rounds` requests made by `request` through the router, each answered in full and
/// successfully: the median, 95th percentile and maximum in milliseconds.
async fn time_requests(
    router: &axum::Router,
    rounds: u32,
    mut request: impl FnMut() -> anyhow::Result<axum::http::Request<axum::body::Body>>,
) -> anyhow::Result<(f64, f64, f64)> {
    use tower::ServiceExt;

    let mut times = Vec::with_capacity(rounds as usize);
    for _ in 0..rounds.max(1) {
        let request = request()?;
        let path = request.uri().to_string();
        let started = Instant::now();
        let response = router.clone().oneshot(request).await?;
        let status = response.status();
        axum::body::to_bytes(response.into_body(), usize::MAX).await?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(status.is_success(), "{path} answered {status}");
    }
    times.sort_by(f64::total_cmp);
    let at = |share: f64| times[((times.len() - 1) as f64 * share).round() as usize];
    Ok((at(0.5), at(0.95), at(1.0)))
}

/// Writes `count` JSON lines made by `line` to `path`.
fn write_lines(
    path: &std::path::Path,
    count: u64,
    mut line: impl FnMut(u64) -> serde_json::Value,
) -> anyhow::Result<()> {
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut writer = BufWriter::with_capacity(1 << 20, file);
    for index in 0..count {
        serde_json::to_writer(&mut writer, &line(index))?;
        writer.write_all(b"\n")?;
    }
    writer.flush()?;
    Ok(())
}

/// Runs a bench command.
pub async fn run(
    command: BenchCommand,
    config: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    match command {
        BenchCommand::Llm {
            engine,
            input,
            count,
            max_tokens,
        } => {
            let Some(kind) = debrief_llm::configure::EngineKind::from_name(&engine)
                .filter(|kind| *kind != debrief_llm::configure::EngineKind::Builtin)
            else {
                eprintln!("error: unknown LLM engine {engine:?}: use openai or local");
                return Ok(ExitCode::from(2));
            };
            let settings = crate::load_settings(config, None, None)?;
            llm(
                crate::llm::backend(&settings, kind)?,
                &input,
                count,
                max_tokens,
            )
            .await?;
        }
        BenchCommand::Credits { entries, reads, db } => credits(entries, reads, &db).await?,
        BenchCommand::Metering {
            resolutions,
            requests,
            db,
        } => metering(resolutions, requests, &db).await?,
        BenchCommand::Insights {
            sessions,
            requests,
            db,
        } => insights(sessions, requests, &db).await?,
        BenchCommand::Sessions {
            count,
            turns,
            events,
            seed,
            output,
        } => {
            let mut generator = SessionGenerator::new(seed);
            write_lines(&output, count, |index| {
                generator.session(index, turns, events)
            })?;
            println!("wrote {count} sessions to {}", output.display());
        }
        BenchCommand::Conversations {
            count,
            events,
            seed,
            output,
        } => {
            let mut generator = SessionGenerator::new(seed);
            write_lines(&output, count, |index| {
                generator.conversation(index, events)
            })?;
            println!("wrote {count} conversations to {}", output.display());
        }
        BenchCommand::Timeline {
            events,
            seed,
            output,
        } => {
            let file = File::create(&output)
                .with_context(|| format!("cannot create {}", output.display()))?;
            let mut writer = BufWriter::with_capacity(1 << 20, file);
            let mut generator = SessionGenerator::new(seed);
            generator.timeline(events, &mut writer)?;
            writer.flush()?;
            println!(
                "wrote a timeline of {events} events to {}",
                output.display()
            );
        }
        BenchCommand::Parse { input } => {
            let file =
                File::open(&input).with_context(|| format!("cannot open {}", input.display()))?;
            let started = Instant::now();
            let mut reader = BufReader::with_capacity(1 << 20, file);
            let mut line = String::new();
            let (mut valid, mut invalid) = (0u64, 0u64);
            while reader.read_line(&mut line)? > 0 {
                match Session::parse_json(line.trim()) {
                    Ok(_) => valid += 1,
                    Err(_) => invalid += 1,
                }
                line.clear();
            }
            let seconds = started.elapsed().as_secs_f64();
            println!(
                "parsed {valid} valid and {invalid} invalid sessions in {seconds:.2}s: {:.0} sessions/s",
                (valid + invalid) as f64 / seconds.max(1e-9)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A small deterministic generator (SplitMix64): no dependency, same output for a seed.
struct SessionGenerator {
    state: u64,
}

const CUSTOMERS: [&str; 8] = [
    "Bob", "Maria", "Chen", "Priya", "Lukas", "Amina", "Tom", "Sofia",
];
const AGENTS: [&str; 4] = ["Ana Souza", "Jonas Weber", "Carla Diaz", "Omar Haddad"];
const PLATFORMS: [&str; 6] = ["windows", "windows", "windows", "macos", "macos", "linux"];
const APPS: [&str; 6] = [
    "OUTLOOK.EXE",
    "chrome.exe",
    "com.microsoft.Teams",
    "EXCEL.EXE",
    "vpnui.exe",
    "com.apple.Safari",
];
const CUSTOMER_LINES: [&str; 5] = [
    "Outlook keeps asking for my password since this morning",
    "The VPN disconnects every few minutes when I work from home",
    "My printer shows offline although it is switched on",
    "The laptop is very slow after the last update",
    "I cannot open the shared Excel file on the team drive",
];
const AGENT_LINES: [&str; 5] = [
    "Let me connect and check the credential manager",
    "I will reinstall the VPN client profile for you",
    "I am restarting the print spooler service now",
    "I found a background process using all the memory",
    "I reset the permissions on the shared folder",
];
const AGENT_KINDS: [(&str, &str); 6] = [
    ("messaging_ai_agent", "handled_by_ai"),
    ("advanced_chat_agent", "handled_by_ai"),
    ("advanced_ticket_agent", "replied"),
    ("autoreply_articles", "solved"),
    ("autoreply_triage", "open"),
    ("web_widget_classic", "open"),
];

/// Conversation events by weight: mostly messages, some article and feedback signals, rare
/// human requests.
const CONVERSATION_EVENTS: [&str; 12] = [
    r#"{"type": "message", "from": "end_user", "text": "How do I reset my password?"}"#,
    r#"{"type": "message", "from": "end_user", "text": "It still asks for the old one"}"#,
    r#"{"type": "message", "from": "ai_agent", "text": "Open Settings > Security and choose Reset password."}"#,
    r#"{"type": "message", "from": "ai_agent", "text": "Here is the article with the steps."}"#,
    r#"{"type": "message", "from": "human_agent", "text": "Checked the account", "public": false}"#,
    r#"{"type": "article_shared", "article": "kb-12", "via": "recommendation"}"#,
    r#"{"type": "article_shared", "article": "kb-12", "via": "generative"}"#,
    r#"{"type": "article_click", "article": "kb-12"}"#,
    r#"{"type": "feedback", "value": "positive"}"#,
    r#"{"type": "autoreply", "trigger": "triage"}"#,
    r#"{"type": "status_changed", "to": "solved"}"#,
    r#"{"type": "flow_final_step", "flow": "reset-password"}"#,
];

const EVENT_KINDS: [&str; 5] = [
    "app_focus",
    "command",
    "file_transfer",
    "note",
    "setting_change",
];

impl SessionGenerator {
    fn new(seed: u64) -> Self {
        SessionGenerator { state: seed }
    }

    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }

    /// An account on 2026-01-01 (Europe/Berlin) and `events` events over three years: mostly AI
    /// actions (new and repeated sessions) and resolutions, with seat changes, purchases,
    /// commitments and setting changes now and then.
    fn timeline(&mut self, events: u64, writer: &mut impl Write) -> anyhow::Result<()> {
        let start = Utc
            .with_ymd_and_hms(2026, 1, 1, 8, 0, 0)
            .single()
            .unwrap_or_default();
        let account = json!({"at": start.to_rfc3339(), "type": "account", "time_zone": "Europe/Berlin",
            "tier": "corporate", "term_start": "2026-01-01", "addon": {"credits": 500, "annual_price": "900.00"},
            "out_of_credits": {"mode": "allow_negative", "limit": 50},
            "resolutions": {"plan": "professional", "full_seats": 40, "overage_unit_price": "1.50",
                            "at_limit": "continue", "monthly_cap": 5000}});
        serde_json::to_writer(&mut *writer, &account)?;
        writer.write_all(b"\n")?;
        let span_seconds = 3 * 365 * 24 * 3600;
        for index in 1..events {
            let at = start + Duration::seconds((index * span_seconds / events.max(1)) as i64);
            let at = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            let event = match self.next() % 1000 {
                0 => json!({"at": at, "type": "seats", "full": 30 + self.next() % 40}),
                1 => json!({"at": at, "type": "addon_purchase", "packs": 1 + self.next() % 2}),
                2 => {
                    json!({"at": at, "type": "commitment", "units": 100 + self.next() % 400, "unit_price": "1.10"})
                }
                3 => {
                    json!({"at": at, "type": "settings", "monthly_cap": 3000 + self.next() % 4000})
                }
                4..=500 => {
                    json!({"at": at, "type": "ai_action", "session": format!("s-{}", self.next() % (events / 2 + 1))})
                }
                _ => json!({"at": at, "type": "resolution"}),
            };
            serde_json::to_writer(&mut *writer, &event)?;
            writer.write_all(b"\n")?;
        }
        Ok(())
    }

    fn conversation(&mut self, index: u64, events: usize) -> serde_json::Value {
        let base = Utc
            .with_ymd_and_hms(2026, 6, 1, 8, 0, 0)
            .single()
            .unwrap_or_default();
        let started = base + Duration::minutes((index % 40_000) as i64);
        let (agent, status) = AGENT_KINDS[(self.next() % AGENT_KINDS.len() as u64) as usize];
        let mut event_list: Vec<serde_json::Value> = (0..events)
            .map(|position| {
                let template =
                    CONVERSATION_EVENTS[(self.next() % CONVERSATION_EVENTS.len() as u64) as usize];
                let mut event: serde_json::Value =
                    serde_json::from_str(template).unwrap_or_default();
                event["at"] =
                    json!((started + Duration::minutes(position as i64 * 3)).to_rfc3339());
                event
            })
            .collect();
        if self.next().is_multiple_of(20) {
            event_list.push(
                json!({"at": (started + Duration::minutes(30)).to_rfc3339(), "type": "escalated"}),
            );
        }
        json!({
            "id": format!("conv-{index:09}"),
            "company": "acme",
            "channel": "messaging",
            "agent": agent,
            "status": status,
            "events": event_list,
        })
    }

    fn session(&mut self, index: u64, turns: usize, events: usize) -> serde_json::Value {
        let base = Utc
            .with_ymd_and_hms(2026, 1, 1, 8, 0, 0)
            .single()
            .unwrap_or_default();
        let started = base + Duration::minutes((index * 7 + self.next() % 5) as i64);
        let customer = self.pick(&CUSTOMERS);
        let agent = self.pick(&AGENTS);
        let topic = (self.next() % CUSTOMER_LINES.len() as u64) as usize;
        let turn_list: Vec<_> = (0..turns)
            .map(|turn| {
                let (speaker, name, text) = if turn % 2 == 0 {
                    (
                        "customer",
                        customer,
                        CUSTOMER_LINES[(topic + turn / 2) % CUSTOMER_LINES.len()],
                    )
                } else {
                    (
                        "agent",
                        agent,
                        AGENT_LINES[(topic + turn / 2) % AGENT_LINES.len()],
                    )
                };
                json!({"at": (started + Duration::seconds(turn as i64 * 20)).to_rfc3339(),
                       "speaker": speaker, "speaker_name": name, "text": text})
            })
            .collect();
        let event_list: Vec<_> = (0..events)
            .map(|event| {
                let at = (started + Duration::seconds(event as i64 * 45 + 10)).to_rfc3339();
                match self.pick(&EVENT_KINDS) {
                    "app_focus" => json!({"at": at, "type": "app_focus", "app": self.pick(&APPS)}),
                    "command" => json!({"at": at, "type": "command", "text": "ipconfig /flushdns"}),
                    "file_transfer" => json!({"at": at, "type": "file_transfer", "name": "fix.reg", "direction": "to_remote"}),
                    "setting_change" => json!({"at": at, "type": "setting_change", "setting": "proxy", "value": "off"}),
                    _ => json!({"at": at, "type": "note", "text": "Checked the configuration with the customer"}),
                }
            })
            .collect();
        json!({
            "id": format!("bench-{index:09}"),
            "channel": "remote_session",
            "direction": if index.is_multiple_of(3) { "incoming" } else { "outgoing" },
            "started_at": started.to_rfc3339(),
            "ended_at": (started + Duration::minutes(25)).to_rfc3339(),
            "language": "en",
            "supporter": {"id": format!("u-{}", self.next() % 40), "name": agent},
            "remote_user": {"id": format!("c-{}", self.next() % 5000), "name": customer},
            "device": {"id": format!("d-{}", self.next() % 5000), "platform": self.pick(&PLATFORMS), "managed": true, "full_client": true},
            "module": {"id": "standard", "custom": false},
            "consent": "allowed",
            "turns": turn_list,
            "events": event_list,
        })
    }
}
