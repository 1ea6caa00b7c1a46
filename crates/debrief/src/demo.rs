//! `serve --demo`: a demo company with a built-in set of realistic remote-support sessions.
//!
//! The sessions come from `demo/scenarios.json`: 21 support scenarios (email, VPN, printing,
//! passwords, installs, performance, hardware …), each played by three customer/supporter
//! pairs on the platforms the scenario lists, so the set has 63 sessions on Windows and macOS
//! with a few on Linux, iOS and Android, incoming and outgoing, through standard and custom
//! modules.

use anyhow::Context;
use chrono::{DateTime, Duration, Timelike, Utc};
use debrief_core::governance::AiSettings;
use debrief_core::tenancy::{CompanyName, LicenseTier, NewCompany, TimeZoneName};
use debrief_core::{Session, SessionRecord};
use debrief_store::{Store, StoreError};
use serde::Deserialize;
use serde_json::{json, Value};

/// The demo company's name.
pub const DEMO_COMPANY: &str = "demo";

const SCENARIOS: &str = include_str!("../demo/scenarios.json");

/// The AI-agent conversations' templates: a question to the AI agent and how it went (counted,
/// escalated, a negative answer, a complaint after the answer).
const CONVERSATIONS: &str = include_str!("../demo/conversations.json");

/// Days of AI-agent conversations the demo holds, two a day.
const CONVERSATION_DAYS: i64 = 21;

const CUSTOMERS: [&str; 9] = [
    "Bob Miller",
    "Maria Garcia",
    "Chen Wei",
    "Priya Nair",
    "Lukas Braun",
    "Amina Diallo",
    "Tom Becker",
    "Sofia Rossi",
    "Kenji Sato",
];
const SUPPORTERS: [(&str, &str); 4] = [
    ("u-ana", "Ana Souza"),
    ("u-jonas", "Jonas Weber"),
    ("u-carla", "Carla Diaz"),
    ("u-omar", "Omar Haddad"),
];

#[derive(Debug, Deserialize)]
struct Scenario {
    key: String,
    platforms: Vec<String>,
    direction: String,
    custom_module: bool,
    turns: Vec<(String, String)>,
    events: Vec<Value>,
}

/// What loading the demo did.
pub struct DemoLoad {
    pub company: String,
    pub sessions: usize,
    pub newly_stored: usize,
    pub admin_token: String,
    /// (e-mail, role, password) of the people who sign in to the web pages; the passwords are
    /// new at every start.
    pub sign_ins: Vec<(String, String, String)>,
}

/// The demo's web users: e-mail, name and role.
const DEMO_USERS: [(&str, &str, &str); 2] = [
    ("admin@demo.example", "Demo Admin", "admin"),
    ("viewer@demo.example", "Demo Viewer", "viewer"),
];

/// A new random password.
fn fresh_password() -> anyhow::Result<String> {
    let mut bytes = [0u8; 9];
    getrandom::fill(&mut bytes).map_err(|error| anyhow::anyhow!("no random source: {error}"))?;
    Ok(hex::encode(bytes))
}

/// Makes sure each demo web user exists, with a new password.
async fn demo_sign_ins(
    store: &dyn Store,
    company: &debrief_store::CompanyId,
) -> anyhow::Result<Vec<(String, String, String)>> {
    let users = store.list_users(company).await?;
    let mut sign_ins = Vec::new();
    for (email, name, role) in DEMO_USERS {
        let password = fresh_password()?;
        let password_hash = debrief_workflows::passwords::hash_password(&password)
            .map_err(|error| anyhow::anyhow!("hashing the demo password: {error}"))?;
        match users
            .iter()
            .find(|user| user.email.as_deref() == Some(email))
        {
            Some(user) => {
                let change = debrief_store::UserChange {
                    password_hash: Some(password_hash),
                    ..Default::default()
                };
                store.update_user(company, &user.id, &change).await?;
            }
            None => {
                let user = debrief_store::NewUser {
                    name: name.into(),
                    role: role.into(),
                    email: Some(email.into()),
                    supporter_id: None,
                    log_sessions: true,
                    password_hash: Some(password_hash),
                };
                store.create_user(company, &user).await?;
            }
        }
        sign_ins.push((email.to_string(), role.to_string(), password));
    }
    Ok(sign_ins)
}

fn first_name(full: &str) -> &str {
    full.split_whitespace().next().unwrap_or(full)
}

/// A scenario's event (`"m"`: minutes after the start) at its time after `started`.
fn timed(event: &Value, started: DateTime<Utc>) -> Value {
    let mut event = event.clone();
    let minutes = event.get("m").and_then(Value::as_i64).unwrap_or(0);
    if let Some(fields) = event.as_object_mut() {
        fields.remove("m");
        fields.insert(
            "at".into(),
            json!((started + Duration::minutes(minutes)).to_rfc3339()),
        );
    }
    event
}

/// Every demo session, with start times going back from `newest`.
pub fn demo_sessions(newest: DateTime<Utc>) -> anyhow::Result<Vec<Session>> {
    let scenarios: Vec<Scenario> =
        serde_json::from_str(SCENARIOS).context("the built-in demo scenarios do not parse")?;
    let mut sessions = Vec::new();
    for (scenario_index, scenario) in scenarios.iter().enumerate() {
        for (variant, platform) in scenario.platforms.iter().enumerate() {
            let number = sessions.len();
            let customer = CUSTOMERS[(scenario_index * 3 + variant) % CUSTOMERS.len()];
            let (supporter_id, supporter) =
                SUPPORTERS[(scenario_index + variant) % SUPPORTERS.len()];
            let started = newest - Duration::minutes(number as i64 * 677);
            let turns: Vec<Value> = scenario
                .turns
                .iter()
                .enumerate()
                .map(|(turn_index, (speaker, text))| {
                    let (speaker, name) = if speaker == "c" {
                        ("customer", customer)
                    } else {
                        ("agent", supporter)
                    };
                    let text = text
                        .replace("{customer}", first_name(customer))
                        .replace("{agent}", first_name(supporter));
                    json!({"at": (started + Duration::seconds(turn_index as i64 * 75)).to_rfc3339(),
                           "speaker": speaker, "speaker_name": name, "text": text})
                })
                .collect();
            let events: Vec<Value> = scenario
                .events
                .iter()
                .map(|event| timed(event, started))
                .collect();
            let duration = scenario
                .events
                .iter()
                .filter_map(|event| event.get("m").and_then(Value::as_i64))
                .max()
                .unwrap_or(10)
                + 3;
            let record = json!({
                "id": format!("demo-{:03}-{}", number + 1, scenario.key),
                "channel": "remote_session",
                "direction": scenario.direction,
                "started_at": started.to_rfc3339(),
                "ended_at": (started + Duration::minutes(duration)).to_rfc3339(),
                "language": "en",
                "supporter": {"id": supporter_id, "name": supporter, "company": DEMO_COMPANY},
                "remote_user": {"id": format!("c-{}", first_name(customer).to_lowercase()), "name": customer},
                "device": {"id": format!("d-{:03}", (scenario_index * 3 + variant) % 40), "platform": platform,
                           "managed": scenario.direction == "incoming", "full_client": true,
                           "signed_in_company": DEMO_COMPANY},
                "module": if scenario.custom_module {
                    json!({"id": "qs-demo-helpdesk", "custom": true})
                } else {
                    json!({"id": "standard", "custom": false})
                },
                "consent": "allowed",
                "turns": turns,
                "events": events,
            });
            let session = Session::parse_json(&record.to_string())
                .map_err(|error| anyhow::anyhow!("demo session {}: {error}", scenario.key))?;
            sessions.push(session);
        }
    }
    Ok(sessions)
}

#[derive(Debug, Deserialize)]
struct ConversationTemplate {
    key: String,
    channel: String,
    agent: String,
    status: String,
    events: Vec<Value>,
}

/// The demo's AI-agent conversations: two a day over the last three weeks, each played from one
/// of the templates; today's two are still open (their first question and answer only), so
/// they wait for their window and show as pending.
pub fn demo_conversations(now: DateTime<Utc>) -> anyhow::Result<Vec<Value>> {
    let templates: Vec<ConversationTemplate> = serde_json::from_str(CONVERSATIONS)
        .context("the built-in demo conversations do not parse")?;
    let mut conversations = Vec::new();
    for day in 0..CONVERSATION_DAYS {
        for slot in 0..2 {
            let index = (day * 2 + slot) as usize;
            let template = &templates[index % templates.len()];
            let started = now - Duration::days(day) - Duration::hours(1 + slot * 5);
            let open = day == 0;
            let events: Vec<Value> = template
                .events
                .iter()
                .take(if open { 2 } else { usize::MAX })
                .map(|event| timed(event, started))
                .collect();
            conversations.push(json!({
                "id": format!("demo-conv-{:02}-{}", index + 1, template.key),
                "channel": template.channel,
                "agent": template.agent,
                "status": if open { "open" } else { template.status.as_str() },
                "events": events,
            }));
        }
    }
    Ok(conversations)
}

/// The API called in-process with the demo admin's token: the demo is staged the way a
/// customer's systems would feed the product.
pub struct DemoApi {
    router: axum::Router,
    bearer: String,
}

impl DemoApi {
    /// The API of `router` (the whole application) as the holder of `token`.
    pub fn new(router: axum::Router, token: &str) -> DemoApi {
        DemoApi {
            router,
            bearer: format!("Bearer {token}"),
        }
    }

    /// `method path` with `body`: the status and the JSON answer.
    async fn call(
        &self,
        method: axum::http::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(u16, Value)> {
        use tower::ServiceExt;
        let request = axum::http::Request::builder()
            .method(method)
            .uri(format!("/api/v1{path}"))
            .header(axum::http::header::AUTHORIZATION, self.bearer.as_str())
            .header(axum::http::header::CONTENT_TYPE, "application/json")
            .body(axum::body::Body::from(
                body.map(|body| body.to_string()).unwrap_or_default(),
            ))?;
        let response = self.router.clone().oneshot(request).await?;
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }

    /// Like [`DemoApi::call`], failing unless the answer is a success.
    async fn expect(
        &self,
        method: axum::http::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let (status, answer) = self.call(method.clone(), path, body).await?;
        anyhow::ensure!(
            (200..300).contains(&status),
            "staging the demo: {method} {path} answered {status}: {answer}"
        );
        Ok(answer)
    }

    /// Stages what the summaries and verdicts need, idempotently: an add-on pack of AI credits
    /// (every eligible session gets its summary), the automated-resolution plan and three weeks
    /// of AI-agent conversations.
    pub async fn stage(&self, now: DateTime<Utc>) -> anyhow::Result<()> {
        use axum::http::Method;
        self.expect(
            Method::POST,
            "/credits/purchases",
            Some(json!({"packs": 1, "idempotency_key": "demo-addon-pack"})),
        )
        .await?;
        self.expect(
            Method::PUT,
            "/ai-agents/plan",
            Some(
                json!({"plan": "team", "full_seats": 5, "overage_unit_price": "1.50",
                        "at_limit": "continue"}),
            ),
        )
        .await?;
        self.expect(
            Method::POST,
            "/conversations",
            Some(Value::Array(demo_conversations(now)?)),
        )
        .await?;
        Ok(())
    }

    /// After the first summary round: one summary edited by a person, so that its history
    /// shows (once: a demo started again keeps its edit).
    pub async fn edit_one_summary(&self) -> anyhow::Result<()> {
        use axum::http::Method;
        let id = "demo-001-outlook-password";
        let (status, revisions) = self
            .call(
                Method::GET,
                &format!("/sessions/{id}/summary/revisions"),
                None,
            )
            .await?;
        let edited = revisions["items"]
            .as_array()
            .is_some_and(|items| !items.is_empty());
        if status != 200 || edited {
            return Ok(());
        }
        self.expect(
            Method::PATCH,
            &format!("/sessions/{id}/summary"),
            Some(json!({"follow_up": "Check on Friday that Outlook no longer asks for the password."})),
        )
        .await?;
        Ok(())
    }
}

/// Creates the demo company if it does not exist, stores the demo sessions (idempotently)
/// and issues a fresh admin token.
pub async fn load(store: &dyn Store) -> anyhow::Result<DemoLoad> {
    let company = match store.company_by_name(DEMO_COMPANY).await {
        Ok(company) => company,
        Err(StoreError::NotFound) => {
            let today = Utc::now().date_naive();
            let new_company = NewCompany {
                name: CompanyName::parse(DEMO_COMPANY)?,
                tier: LicenseTier::Premium,
                time_zone: TimeZoneName::parse("UTC")?,
                term_start: debrief_core::tenancy::first_of_month(today),
            };
            let company = store
                .create_company(&new_company, "Demo Owner")
                .await
                .context("creating the demo company")?
                .company;
            // The demo shows summaries: AI and both directions on, languages as default.
            let mut settings = AiSettings::default();
            settings.ai.enabled = true;
            settings.insights.outgoing.enabled = true;
            settings.insights.incoming.enabled = true;
            debrief_store::put_typed(
                store,
                &company.id,
                debrief_store::ObjectKind::AiSettings,
                debrief_store::SINGLETON,
                &settings,
            )
            .await
            .context("turning the demo company's AI settings on")?;
            company
        }
        Err(error) => return Err(error).context("looking up the demo company"),
    };
    let sessions = demo_sessions(Utc::now().with_nanosecond(0).unwrap_or_else(Utc::now))?;
    let records: Vec<SessionRecord> = sessions
        .into_iter()
        .map(SessionRecord::from_session)
        .collect();
    let outcomes = store
        .insert_sessions(&company.id, &records)
        .await
        .context("storing the demo sessions")?;
    let newly_stored = outcomes
        .iter()
        .filter(|outcome| **outcome == debrief_store::InsertOutcome::Stored)
        .count();
    let admin = store.admin_user_id(&company.id).await?;
    let token = store
        .create_token(
            &company.id,
            &debrief_store::NewToken {
                user_id: &admin,
                label: "demo",
                role: None,
                created_by: &admin,
                lifetime: None,
            },
            chrono::Utc::now(),
        )
        .await
        .context("issuing the demo admin token")?;
    let sign_ins = demo_sign_ins(store, &company.id)
        .await
        .context("creating the demo's web users")?;
    Ok(DemoLoad {
        sign_ins,
        company: company.name,
        sessions: records.len(),
        newly_stored,
        admin_token: token.secret.expose().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use debrief_core::session::{Direction, Platform};

    /// Every summary the built-in engine writes for the demo and for every record of the three
    /// development splits: at most 1 % may have a readability fault (a cut title ending on a
    /// dangling word, a broken contraction, an interjection taken for a name, a repeated name,
    /// markdown, an empty field).
    #[test]
    fn summaries_of_the_demo_and_the_evaluation_splits_read_cleanly() {
        let newest = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 20, 17, 0, 0)
            .single()
            .expect("time");
        let mut sessions = demo_sessions(newest).expect("demo sessions build");
        let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
        for file in [
            "dialogsum.dev.jsonl",
            "stc3.dev.jsonl",
            "dstc11_intents.dev.jsonl",
        ] {
            let text = std::fs::read_to_string(data.join(file))
                .unwrap_or_else(|error| panic!("{file}: {error}"));
            sessions.extend(
                text.lines()
                    .map(|line| Session::parse_json(line).expect("evaluation sessions parse")),
            );
        }
        let engine = debrief_engine::summarize::BuiltinEngine::default();
        let faulty: Vec<(String, Vec<debrief_engine::readability::Fault>)> = sessions
            .iter()
            .map(|session| engine.summarize(session))
            .map(|summary| {
                let faults = debrief_engine::readability::faults(&summary);
                (summary.id, faults)
            })
            .filter(|(_, faults)| !faults.is_empty())
            .collect();
        assert!(sessions.len() > 800, "{} sessions", sessions.len());
        assert!(
            faulty.len() * 100 <= sessions.len(),
            "{} of {} summaries read badly:\n{}",
            faulty.len(),
            sessions.len(),
            faulty
                .iter()
                .map(|(id, faults)| format!("{id}: {faults:?}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }

    #[test]
    fn the_demo_sessions_summarize_to_these_titles_outcomes_and_tags() {
        let newest = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 20, 17, 0, 0)
            .single()
            .expect("time");
        let sessions = demo_sessions(newest).expect("demo sessions build");
        let engine = debrief_engine::summarize::BuiltinEngine::default();

        let summaries: Vec<serde_json::Value> = sessions
            .iter()
            .map(|session| {
                let summary = engine.summarize(session);
                json!({
                    "id": summary.id,
                    "title": summary.title,
                    "summary": summary.summary,
                    "outcome": summary.outcome,
                    "issue_types": summary.issue_types,
                    "applications": summary.applications,
                    "actions": summary.actions.len(),
                })
            })
            .collect();

        insta::assert_json_snapshot!(summaries);
    }

    #[test]
    fn the_demo_set_is_large_and_varied() {
        let sessions = demo_sessions(Utc::now()).expect("demo sessions build");

        assert!(sessions.len() >= 60, "{}", sessions.len());
        let count = |platform| {
            sessions
                .iter()
                .filter(|session| session.platform() == Some(platform))
                .count()
        };
        assert!(count(Platform::Windows) >= 25);
        assert!(count(Platform::Macos) >= 15);
        assert!(count(Platform::Linux) + count(Platform::Ios) + count(Platform::Android) >= 3);
        assert!(sessions
            .iter()
            .any(|s| s.direction == Some(Direction::Incoming)));
        assert!(sessions
            .iter()
            .any(|s| s.module.as_ref().is_some_and(|m| m.custom)));
        for kind in ["app_focus", "command", "file_transfer", "note"] {
            assert!(
                sessions
                    .iter()
                    .any(|s| s.events.iter().any(|e| e.kind == kind)),
                "{kind}"
            );
        }
        assert!(sessions
            .iter()
            .all(|s| s.turns.iter().all(|turn| turn.speaker_name.is_some())));
        let mut ids: Vec<_> = sessions.iter().map(|s| s.id.clone()).collect();
        ids.dedup();
        assert_eq!(ids.len(), sessions.len());
    }
}
