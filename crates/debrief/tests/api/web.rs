//! The web pages: over plain HTTP (sign-in, CSRF, permissions, tenancy) and end to end in
//! headless Chromium driven through chromedriver (skipped, saying so, when the browser is not
//! installed; `scripts/setup.sh` installs it). The browser run saves screenshots of the main
//! pages at 1280 and 390 px under `target/web-screenshots/`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::Method;
use serde_json::{json, Value};

use crate::util::TestApp;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const ADMIN_PASSWORD: &str = "correct horse battery";
const VIEWER_PASSWORD: &str = "viewer password 1";

/// Support sessions on different topics, started in the last days.
fn recent_sessions() -> Vec<Value> {
    let topics = [
        (
            "Outlook keeps asking for my password since this morning.",
            "OUTLOOK.EXE",
            "I reset your mail profile and the password prompt is gone.",
        ),
        (
            "The printer on the second floor shows offline and nothing prints.",
            "spoolsv.exe",
            "I restarted the print spooler and the test page printed.",
        ),
        (
            "The VPN disconnects every few minutes when I work from home.",
            "FortiClient.exe",
            "I updated the VPN client and the connection is stable now.",
        ),
        (
            "Excel freezes when I open the budget spreadsheet.",
            "EXCEL.EXE",
            "I disabled the broken add-in and Excel opens the file now.",
        ),
        (
            "I cannot log in to Windows, it says my account is locked.",
            "LogonUI.exe",
            "I unlocked your account and you can sign in again.",
        ),
        (
            "Teams has no sound in meetings since the update.",
            "Teams.exe",
            "I selected the right speaker in Teams and the sound works.",
        ),
    ];
    let now = chrono::Utc::now();
    topics
        .iter()
        .enumerate()
        .map(|(index, (problem, app, fix))| {
            let started = now - chrono::TimeDelta::hours(6 * (index as i64 + 1));
            let at = started.to_rfc3339();
            json!({
                "id": format!("web-{index}"),
                "channel": "remote_session",
                "direction": "outgoing",
                "started_at": at,
                "supporter": {"id": format!("sup-{}", index % 2), "name": "Ana Souza"},
                "device": {"id": format!("d-{index}"), "platform": "windows"},
                "consent": "allowed",
                "turns": [
                    {"speaker": "customer", "speaker_name": "Bruno", "text": problem},
                    {"speaker": "agent", "speaker_name": "Ana", "text": fix},
                    {"speaker": "customer", "speaker_name": "Bruno", "text": "Great, it works now. Thank you!"}
                ],
                "events": [{"at": at, "type": "app_focus", "app": app}]
            })
        })
        .collect()
}

/// A company `acme` with summarized sessions, an admin and a viewer who sign in with passwords.
async fn app_with_summaries() -> TestApp {
    let app = TestApp::spawn().await;
    app.enable_insights(&app.token).await;
    let (status, stored) = app
        .call(
            Method::POST,
            "/api/v1/sessions",
            &app.token,
            Some(json!(recent_sessions())),
        )
        .await;
    assert_eq!(
        (status, stored["counts"]["stored"].as_u64()),
        (200, Some(6)),
        "{stored}"
    );
    assert_eq!(app.summarize_now().await, 6);
    for (name, email, role, password) in [
        ("Alice Admin", "alice@acme.example", "admin", ADMIN_PASSWORD),
        (
            "Victor Viewer",
            "victor@acme.example",
            "viewer",
            VIEWER_PASSWORD,
        ),
    ] {
        let user = json!({"name": name, "email": email, "role": role, "password": password});
        let (status, body) = app
            .call(Method::POST, "/api/v1/users", &app.token, Some(user))
            .await;
        assert_eq!(status, 201, "{body}");
    }
    app
}

/// The value of `name="csrf"` in a page.
fn csrf_in(html: &str) -> String {
    let start = html
        .find("name=\"csrf\" value=\"")
        .expect("the page has a form token")
        + 19;
    html[start..].chars().take_while(|c| *c != '"').collect()
}

/// The `name=value` part of each Set-Cookie header.
fn cookies_of(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .map(|value| value.split(';').next().unwrap_or_default().to_string())
        .collect()
}

/// Signs in over HTTP: the session cookie (`debrief_session=…`), or `None` when refused.
async fn sign_in(
    app: &TestApp,
    client: &reqwest::Client,
    email: &str,
    password: &str,
) -> Option<String> {
    let form = client
        .get(format!("{}/sign-in", app.address))
        .send()
        .await
        .expect("sign-in page");
    let pre_session = cookies_of(&form).join("; ");
    let csrf = csrf_in(&form.text().await.expect("html"));
    let response = client
        .post(format!("{}/sign-in", app.address))
        .header(COOKIE, pre_session)
        .form(&[
            ("company", "acme"),
            ("email", email),
            ("password", password),
            ("csrf", csrf.as_str()),
            ("next", "/insights"),
        ])
        .send()
        .await
        .expect("sign-in answered");
    if response.status().as_u16() != 303 {
        return None;
    }
    cookies_of(&response)
        .into_iter()
        .find(|cookie| cookie.starts_with("debrief_session="))
}

/// The admin of [`app_with_summaries`], signed in to the pages.
struct Admin {
    app: TestApp,
    client: reqwest::Client,
    cookie: String,
}

impl Admin {
    async fn signed_in() -> Admin {
        let app = app_with_summaries().await;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let cookie = sign_in(&app, &client, "alice@acme.example", ADMIN_PASSWORD)
            .await
            .expect("admin signs in");
        Admin {
            app,
            client,
            cookie,
        }
    }

    /// A page: its status and HTML.
    async fn read(&self, path: &str) -> (u16, String) {
        let response = self
            .client
            .get(format!("{}{path}", self.app.address))
            .header(COOKIE, self.cookie.clone())
            .send()
            .await
            .expect("answered");
        (
            response.status().as_u16(),
            response.text().await.expect("html"),
        )
    }

    /// A form sent to a page: the status and HTML of the answer.
    async fn post(&self, path: &str, fields: Vec<(&str, &str)>) -> (u16, String) {
        let response = self
            .client
            .post(format!("{}{path}", self.app.address))
            .header(COOKIE, self.cookie.clone())
            .form(&fields)
            .send()
            .await
            .expect("answered");
        (
            response.status().as_u16(),
            response.text().await.expect("html"),
        )
    }

    /// A form sent to the settings section `section`.
    async fn settings(&self, section: &str, fields: Vec<(&str, &str)>) -> (u16, String) {
        self.post(&format!("/settings/{section}"), fields).await
    }

    /// What the API answers the company's admin token at `path` (under `/api/v1`).
    async fn api(&self, path: &str) -> Value {
        let app = &self.app;
        app.call(Method::GET, &format!("/api/v1{path}"), &app.token, None)
            .await
            .1
    }
}

/// Every setting is a form, not a JSON text box, and each form saves through the API.
#[tokio::test]
async fn settings_are_forms_that_save_through_the_api() {
    let admin = Admin::signed_in().await;
    let app = &admin.app;
    let mut csrf = String::new();
    for section in [
        "ai", "engine", "taxonomy", "modules", "devices", "policies", "roles", "users",
    ] {
        let (status, html) = admin.read(&format!("/settings/{section}")).await;
        assert_eq!(status, 200, "{section}");
        assert!(
            !html.contains("name=\"document\"") && !html.contains("class=\"code\""),
            "{section}: no JSON text box"
        );
        csrf = csrf_in(&html);
    }

    // A policy, enforced; then two devices denied at once and one assigned the policy.
    let policy = vec![
        ("csrf", csrf.as_str()),
        ("action", "policy"),
        ("id", "locked"),
        ("name", "Locked down"),
        ("insights_enabled", "on"),
        ("enforced", "on"),
    ];
    assert_eq!(admin.settings("policies", policy).await.0, 303);
    let saved = admin.api("/policies/locked").await;
    assert_eq!(
        (
            saved["enforced"].as_bool(),
            saved["reports_enabled"].as_bool()
        ),
        (Some(true), Some(false)),
        "{saved}"
    );
    let devices = admin.api("/devices").await;
    let ids: Vec<String> = devices["items"]
        .as_array()
        .expect("devices")
        .iter()
        .filter_map(|device| device["id"].as_str().map(str::to_string))
        .collect();
    assert!(ids.len() >= 2, "{devices}");
    let bulk = vec![
        ("csrf", csrf.as_str()),
        ("action", "devices_consent"),
        ("consent_mode", "denied"),
        ("device", ids[0].as_str()),
        ("device", ids[1].as_str()),
    ];
    assert_eq!(admin.settings("devices", bulk).await.0, 303);
    for id in &ids[..2] {
        assert_eq!(
            admin.api(&format!("/devices/{id}")).await["consent_mode"],
            "denied",
            "{id}"
        );
    }
    // A policy goes to a managed device only (what a session reports of its device).
    let mut managed = admin.api(&format!("/devices/{}", ids[0])).await;
    managed["managed"] = json!(true);
    if let Some(fields) = managed.as_object_mut() {
        fields.remove("id");
    }
    let (status, body) = app
        .call(
            Method::PUT,
            &format!("/api/v1/devices/{}", ids[0]),
            &app.token,
            Some(managed),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let assign = vec![
        ("csrf", csrf.as_str()),
        ("action", "device"),
        ("id", ids[0].as_str()),
        ("consent_mode", "allowed"),
        ("policy", "locked"),
    ];
    assert_eq!(admin.settings("devices", assign).await.0, 303);
    let device = admin.api(&format!("/devices/{}", ids[0])).await;
    assert_eq!(
        (device["policy"].as_str(), device["consent_mode"].as_str()),
        (Some("locked"), Some("allowed")),
        "{device}"
    );

    // A module switched on, the taxonomy as rows, the engine's limits.
    let module = vec![
        ("csrf", csrf.as_str()),
        ("action", "module"),
        ("id", "helpdesk"),
        ("name", "Help desk"),
        ("custom", "on"),
        ("insights_enabled", "on"),
    ];
    assert_eq!(admin.settings("modules", module).await.0, 303);
    let saved = admin.api("/modules/helpdesk").await;
    assert_eq!(
        (
            saved["custom"].as_bool(),
            saved["insights_enabled"].as_bool()
        ),
        (Some(true), Some(true)),
        "{saved}"
    );
    let taxonomy = vec![
        ("csrf", csrf.as_str()),
        ("action", "taxonomy"),
        ("type_id", "email"),
        ("type_name", "E-mail"),
        ("type_description", "Mail client problems"),
        (
            "type_examples",
            "Outlook asks for the password\nno new mail",
        ),
        ("type_id", "vpn"),
        ("type_name", "VPN"),
        ("type_description", ""),
        ("type_examples", "the VPN drops"),
        ("type_id", ""),
        ("type_name", ""),
        ("type_description", ""),
        ("type_examples", ""),
    ];
    assert_eq!(admin.settings("taxonomy", taxonomy).await.0, 303);
    let saved = admin.api("/taxonomy").await;
    assert_eq!(saved["source"], "company", "{saved}");
    assert_eq!(
        saved["issue_types"].as_array().map(Vec::len),
        Some(2),
        "{saved}"
    );
    assert_eq!(
        saved["issue_types"][0]["examples"].as_array().map(Vec::len),
        Some(2),
        "{saved}"
    );
    let engine = vec![
        ("csrf", csrf.as_str()),
        ("action", "engine"),
        ("summaries", "builtin"),
        ("resolution_check", "builtin"),
        ("model", ""),
        ("max_transcript_chars", "8000"),
    ];
    assert_eq!(admin.settings("engine", engine).await.0, 303);
    let saved = admin.api("/settings/engine").await;
    assert_eq!(
        (
            saved["settings"]["limits"]["max_transcript_chars"].as_u64(),
            saved["settings"]["resolution_check"].as_str()
        ),
        (Some(8000), Some("builtin")),
        "{saved}"
    );

    // The credit settings too: what to do without credits and the alert thresholds.
    let (status, html) = admin.read("/credits").await;
    assert_eq!(status, 200);
    assert!(html.contains("data-testid=\"credit-settings\"") && !html.contains("class=\"code\""));
    let (status, _) = admin
        .post(
            "/credits",
            vec![
                ("csrf", csrf.as_str()),
                ("action", "settings"),
                ("out_of_credits", "allow_negative"),
                ("negative_limit", "5"),
                ("thresholds", "50, 10"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let saved = admin.api("/credits/settings").await;
    assert_eq!(
        saved["out_of_credits"],
        json!({"mode": "allow_negative", "limit": 5}),
        "{saved}"
    );
    assert_eq!(saved["alert_thresholds"], json!([50, 10]), "{saved}");

    // The pages show what was saved.
    let (_, html) = admin.read("/settings/taxonomy").await;
    assert!(html.contains("value=\"E-mail\"") && html.contains("no new mail"));
    let (_, html) = admin.read("/settings/policies").await;
    assert!(html.contains("value=\"Locked down\""));

    // A new role from its name and ticked permissions alone.
    let (status, html) = admin
        .settings(
            "roles",
            vec![
                ("csrf", csrf.as_str()),
                ("action", "role"),
                ("id", "helpdesk"),
                ("permission", "insights.view"),
                ("permission", "insights.export"),
            ],
        )
        .await;
    assert_eq!(status, 303, "{html}");
    let roles = admin.api("/roles").await;
    let helpdesk = roles["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|role| role["name"] == "helpdesk")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        helpdesk["permissions"],
        json!(["insights.view", "insights.export"]),
        "{roles}"
    );
    admin.app.stop().await;
}

/// The edit form changes issue types and applications too; bad custom dates keep what was typed.
#[tokio::test]
async fn the_edit_form_sets_issue_types_and_applications() {
    let admin = Admin::signed_in().await;
    let (status, html) = admin.read("/insights?open=web-0&edit=1").await;
    assert_eq!(status, 200);
    assert!(html.contains("name=\"issue_types\"") && html.contains("name=\"applications\""));
    let csrf = csrf_in(&html);
    let (status, _) = admin
        .post(
            "/insights/web-0/edit",
            vec![
                ("csrf", csrf.as_str()),
                ("back", "/insights?open=web-0"),
                ("title", "Outlook asked for the password"),
                ("summary", "The mail profile was reset."),
                ("problem", "Outlook kept asking for the password."),
                ("actions", "Reset the mail profile"),
                ("follow_up", ""),
                ("outcome", "resolved"),
                ("issue_types", "email\nnetwork_vpn"),
                ("applications", "Microsoft Outlook"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let summary = admin.api("/sessions/web-0/summary").await;
    assert_eq!(
        summary["issue_types"],
        json!(["email", "network_vpn"]),
        "{summary}"
    );
    assert_eq!(
        summary["applications"],
        json!(["Microsoft Outlook"]),
        "{summary}"
    );

    let (status, html) = admin
        .read("/insights?period=custom&from=2026-13-40&to=2026-01-01")
        .await;
    assert_eq!(status, 200);
    assert!(
        html.contains("value=\"2026-13-40\""),
        "what was typed stays"
    );
    admin.app.stop().await;
}

/// The list as it is filtered leaves the page as one file, in the format and language chosen.
#[tokio::test]
async fn the_filtered_list_exports_from_the_page() {
    let admin = Admin::signed_in().await;
    let back = "/insights?q=printer&supporter=sup-1";
    let (status, html) = admin.read(back).await;
    assert_eq!(status, 200);
    assert!(html.contains("data-testid=\"export-list-form\""), "{html}");
    let csrf = csrf_in(&html);
    let response = admin
        .client
        .post(format!("{}/insights/export", admin.app.address))
        .header(COOKIE, admin.cookie.clone())
        .form(&[
            ("csrf", csrf.as_str()),
            ("back", back),
            ("format", "csv"),
            ("language", "de"),
        ])
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.headers()["content-disposition"]
        .to_str()
        .is_ok_and(|value| value.starts_with("attachment")));
    let csv = response.text().await.expect("csv");
    assert!(csv.starts_with("Sitzung,Supporter,Beginn,Titel"), "{csv}");
    assert_eq!(csv.lines().count(), 2, "only the printer session: {csv}");
    assert!(csv.contains("web-1,Ana Souza,"), "{csv}");

    // Without the form token nothing is exported.
    let refused = admin
        .client
        .post(format!("{}/insights/export", admin.app.address))
        .header(COOKIE, admin.cookie.clone())
        .form(&[("csrf", "forged"), ("back", back), ("format", "csv")])
        .send()
        .await
        .expect("answered");
    assert_ne!(refused.status().as_u16(), 200);
    // A form without its token at all is refused by the page, not with raw JSON.
    let bare = admin
        .client
        .post(format!("{}/insights/export", admin.app.address))
        .header(COOKIE, admin.cookie.clone())
        .form(&[("format", "csv")])
        .send()
        .await
        .expect("answered");
    assert_eq!(bare.status().as_u16(), 403);
    assert!(bare.text().await.expect("html").contains("<html"));

    // Crafted addresses show a page: control characters dropped, a bad page number is page 1,
    // and no notice text is taken from the address.
    for path in [
        "/insights?q=%00printer&supporter=%00",
        "/insights?page=abc",
        "/insights?page=-1&issue_type=%01",
    ] {
        let (status, html) = admin.read(path).await;
        assert_eq!(status, 200, "{path}: {html}");
    }
    let (status, html) = admin.read("/usage?notice=Your+account+is+suspended").await;
    assert_eq!(status, 200);
    assert!(
        !html.contains(">Your account is suspended"),
        "no forged notice is shown"
    );
    admin.app.stop().await;
}

/// The plan, connectors, webhooks, tokens and users' "log sessions" are set from pages too;
/// secrets are shown once.
#[tokio::test]
async fn ai_agents_connectors_webhooks_tokens_and_users_have_pages() {
    let admin = Admin::signed_in().await;
    let app = &admin.app;
    let mut csrf = String::new();
    for section in ["ai-agents", "connectors", "webhooks", "tokens", "users"] {
        let (status, html) = admin.read(&format!("/settings/{section}")).await;
        assert_eq!(status, 200, "{section}");
        assert!(!html.contains("class=\"code\""), "{section}: no JSON");
        csrf = csrf_in(&html);
    }

    // The plan, a commitment, then AI agents turned off.
    let plan = vec![
        ("csrf", csrf.as_str()),
        ("action", "plan"),
        ("plan", "professional"),
        ("full_seats", "3"),
        ("overage_unit_price", "2.00"),
        ("at_limit", "pause"),
        ("monthly_cap", ""),
    ];
    assert_eq!(admin.settings("ai-agents", plan).await.0, 303);
    let status = admin.api("/ai-agents/status").await;
    assert_eq!(
        (
            status["plan"]["plan"].as_str(),
            status["plan"]["full_seats"].as_i64(),
            status["plan"]["at_limit"].as_str()
        ),
        (Some("professional"), Some(3), Some("pause")),
        "{status}"
    );
    let commitment = vec![
        ("csrf", csrf.as_str()),
        ("action", "commitment"),
        ("units", "150"),
        ("unit_price", "1.00"),
    ];
    assert_eq!(admin.settings("ai-agents", commitment).await.0, 303);
    assert!(
        admin.api("/ai-agents/status").await["commitment_left"]
            .as_i64()
            .unwrap_or(0)
            >= 50
    );
    assert_eq!(
        admin
            .settings(
                "ai-agents",
                vec![("csrf", csrf.as_str()), ("action", "agents_switch")]
            )
            .await
            .0,
        303
    );
    assert_eq!(admin.api("/ai-agents/status").await["state"], "disabled");
    let (_, html) = admin.read("/settings/ai-agents").await;
    assert!(html.contains("data-testid=\"agents-switch\""));

    // A connector: its credentials checked by a test call (a wrong password is refused with
    // the system's answer), then saved with the answer shown and the secret never shown back.
    let stand_in = crate::ticketing::start().await;
    let connector = |password: &str| -> Vec<(&'static str, String)> {
        vec![
            ("csrf", csrf.clone()),
            ("action", "connector".into()),
            ("kind", "servicenow".into()),
            ("instance_url", stand_in.base.clone()),
            ("username", "admin".into()),
            ("secret", password.into()),
            ("event", "summary.created".into()),
            ("event", "summary.deleted".into()),
            ("when_no_ticket", "create".into()),
        ]
    };
    let (wrong, right) = (connector("wrong"), connector("pw"));
    fn form<'a>(fields: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
        fields
            .iter()
            .map(|(name, value)| (*name, value.as_str()))
            .collect()
    }
    let (status, html) = admin.settings("connectors", form(&wrong)).await;
    assert_eq!(status, 422, "{html}");
    assert!(
        html.contains("401") && html.contains("User Not Authenticated"),
        "{html}"
    );
    let (status, html) = admin.settings("connectors", form(&right)).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("data-testid=\"connector-check\""), "{html}");
    let (status, html) = admin.read("/settings/connectors").await;
    assert_eq!(status, 200, "{html}");
    let port = stand_in.base.rsplit(':').next().unwrap_or_default();
    assert!(
        html.contains(&format!("127.0.0.1:{port}")) && !html.contains("value=\"pw\""),
        "{html}"
    );
    let servicenow = html
        .split("data-testid=\"connector-salesforce\"")
        .next()
        .unwrap_or_default();
    assert!(
        servicenow.contains("value=\"summary.deleted\" checked")
            && !servicenow.contains("value=\"summary.updated\" checked")
            && servicenow.contains("value=\"create\" selected"),
        "the events chosen are shown: {html}"
    );
    assert!(
        servicenow.contains("data-testid=\"deliveries-servicenow\"")
            || servicenow.contains("class=\"empty\"")
    );

    // A webhook and a token: each secret shown once, then never again.
    let webhook = vec![
        ("csrf", csrf.as_str()),
        ("action", "webhook"),
        ("url", "https://hooks.example/debrief"),
        ("event", "summary.created"),
        ("event", "summary.deleted"),
        ("secret", ""),
    ];
    let (status, html) = admin.settings("webhooks", webhook).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("data-testid=\"created-secret\"") && html.contains("whsec_"),
        "the secret once"
    );
    let (_, html) = admin.read("/settings/webhooks").await;
    assert!(html.contains("hooks.example") && !html.contains("whsec_"));
    let token = vec![
        ("csrf", csrf.as_str()),
        ("action", "token"),
        ("label", "itsm bridge"),
        ("role", "viewer"),
    ];
    let (status, html) = admin.settings("tokens", token).await;
    assert_eq!(status, 200);
    let start = html.find("dbf_").expect("the new token is shown");
    let secret: String = html[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let (works, me) = app.call(Method::GET, "/api/v1/me", &secret, None).await;
    assert_eq!((works, me["role"].as_str()), (200, Some("viewer")));
    let (_, html) = admin.read("/settings/tokens").await;
    assert!(
        html.contains("itsm bridge") && html.contains("Alice Admin") && !html.contains(&secret)
    );

    // "Log sessions" per user and for several at once; a new user defaults to viewer.
    let users = admin.api("/users").await;
    let ids: Vec<&str> = users["items"]
        .as_array()
        .expect("users")
        .iter()
        .filter_map(|user| user["id"].as_str())
        .collect();
    let bulk = vec![
        ("csrf", csrf.as_str()),
        ("action", "users_log"),
        ("log_sessions", "off"),
        ("user", ids[0]),
        ("user", ids[1]),
    ];
    assert_eq!(admin.settings("users", bulk).await.0, 303);
    let users = admin.api("/users").await;
    let off = users["items"]
        .as_array()
        .expect("users")
        .iter()
        .filter(|user| user["log_sessions"] == false)
        .count();
    assert_eq!(off, 2, "{users}");
    let (_, html) = admin.read("/settings/users").await;
    assert!(
        html.contains("<option value=\"viewer\" selected>viewer</option>"),
        "new users default to viewer"
    );
    admin.app.stop().await;
}

#[tokio::test]
async fn pages_need_a_session_a_form_token_and_the_permission() {
    let app = app_with_summaries().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");

    let anonymous = client
        .get(format!("{}/insights?q=vpn", app.address))
        .send()
        .await
        .expect("answered");
    assert_eq!(anonymous.status().as_u16(), 303);
    assert_eq!(
        anonymous.headers()[LOCATION],
        "/sign-in?next=%2Finsights%3Fq%3Dvpn"
    );
    assert!(
        sign_in(&app, &client, "alice@acme.example", "wrong password")
            .await
            .is_none()
    );

    let admin = sign_in(&app, &client, "alice@acme.example", ADMIN_PASSWORD)
        .await
        .expect("admin signs in");
    let page = |path: &str, cookie: &str| {
        client
            .get(format!("{}{path}", app.address))
            .header(COOKIE, cookie.to_string())
            .send()
    };
    let insights = page("/insights", &admin).await.expect("answered");
    assert_eq!(insights.status().as_u16(), 200);
    let html = insights.text().await.expect("html");
    assert!(
        html.contains("data-testid=\"total-summarized\">6<"),
        "six summaries in the overview"
    );
    // Each skip reason links to the sessions skipped for it.
    let mut linux = recent_sessions()[0].clone();
    linux["id"] = json!("web-linux");
    linux["device"]["platform"] = json!("linux");
    let (status, _) = app
        .call(Method::POST, "/api/v1/sessions", &app.token, Some(linux))
        .await;
    assert_eq!(status, 201);
    app.summarize_now().await;
    let reasons = page("/insights", &admin)
        .await
        .expect("answered")
        .text()
        .await
        .expect("html");
    let link_start = reasons
        .find("skipped=")
        .expect("a skip reason links to its sessions");
    let href_start = reasons[..link_start].rfind("href=\"").expect("href") + 6;
    let href: String = reasons[href_start..]
        .chars()
        .take_while(|c| *c != '"')
        .collect();
    let href = href
        .replace("&#x2f;", "/")
        .replace("&#x3d;", "=")
        .replace("&amp;", "&");
    let skipped = page(&href, &admin)
        .await
        .expect("answered")
        .text()
        .await
        .expect("html");
    assert!(
        skipped.contains("data-testid=\"skipped-sessions\"") && skipped.contains("web-linux"),
        "{href}"
    );

    // Names where people read: the supporter's, and the issue types' from the taxonomy; every
    // bar of a chart but "Other" links to the list filtered by it.
    assert!(
        html.contains("· Ana Souza"),
        "the supporter's name, not u-17"
    );
    assert!(!html.contains(">u-17<") && !html.contains("· u-17"));
    assert!(
        html.contains("issue_type="),
        "bars link to the filtered list: {}",
        html.lines()
            .filter(|line| line.contains("class=\"bar"))
            .collect::<Vec<_>>()
            .join("\n")
    );

    // The AI settings form saves through the API; a refused document comes back as typed.
    let csrf = csrf_in(&html);
    let post = |path: &str, cookie: &str, fields: Vec<(&str, &str)>| {
        client
            .post(format!("{}{path}", app.address))
            .header(COOKIE, cookie.to_string())
            .form(&fields)
            .send()
    };
    let saved = post(
        "/settings/ai",
        &admin,
        vec![
            ("csrf", &csrf),
            ("action", "ai_form"),
            ("ai_enabled", "on"),
            ("outgoing_enabled", "on"),
            ("outgoing_scope", "custom_modules_only"),
            ("incoming_scope", "all_devices"),
            ("language", "de"),
        ],
    )
    .await
    .expect("answered");
    assert_eq!(saved.status().as_u16(), 303);
    let (_, settings) = app
        .call(Method::GET, "/api/v1/settings/ai", &app.token, None)
        .await;
    assert_eq!(
        settings["insights"]["outgoing"]["scope"],
        "custom_modules_only"
    );
    assert_eq!(
        (
            settings["insights"]["incoming"]["enabled"].as_bool(),
            settings["insights"]["language"].as_str()
        ),
        (Some(false), Some("de"))
    );
    let refused = post(
        "/settings/engine",
        &admin,
        vec![
            ("csrf", &csrf),
            ("action", "engine"),
            ("summaries", "nonsense"),
            ("resolution_check", "default"),
            ("max_transcript_chars", "12000"),
        ],
    )
    .await
    .expect("answered");
    assert_eq!(refused.status().as_u16(), 422);
    let sent_back = refused.text().await.expect("html");
    assert!(
        sent_back.contains("role=\"alert\"") && sent_back.contains("nonsense"),
        "the reason, naming what was sent, is shown"
    );

    // A form without its token changes nothing.
    let forged = client
        .post(format!("{}/insights/web-0/delete", app.address))
        .header(COOKIE, admin.clone())
        .form(&[("csrf", "0".repeat(32).as_str()), ("back", "/insights")])
        .send()
        .await
        .expect("answered");
    assert_eq!(forged.status().as_u16(), 403);
    let (status, _) = app
        .call(
            Method::GET,
            "/api/v1/sessions/web-0/summary",
            &app.token,
            None,
        )
        .await;
    assert_eq!(status, 200, "the summary is still there");

    // Another company's session is not found, even by its id.
    let other = app.other_company("globex").await;
    let mut foreign = recent_sessions()[0].clone();
    foreign["id"] = json!("globex-only");
    let (status, _) = app
        .call(Method::POST, "/api/v1/sessions", &other, Some(foreign))
        .await;
    assert_eq!(status, 201);
    app.summarize_now().await;
    let foreign_page = page("/insights?open=globex-only", &admin)
        .await
        .expect("answered");
    // The list stays; the panel says there is no such session.
    assert_eq!(foreign_page.status().as_u16(), 200);
    let foreign_html = foreign_page.text().await.expect("html");
    assert!(foreign_html.contains("data-testid=\"panel-missing\""));
    let favicon = client
        .get(format!("{}/favicon.ico", app.address))
        .send()
        .await
        .expect("answered");
    assert_eq!(favicon.status().as_u16(), 200, "an icon for every page");

    // A viewer sees summaries but no edit or delete, and gets a 403 on admin pages.
    let viewer = sign_in(&app, &client, "victor@acme.example", VIEWER_PASSWORD)
        .await
        .expect("viewer signs in");
    let panel = page("/insights?open=web-1", &viewer)
        .await
        .expect("answered")
        .text()
        .await
        .expect("html");
    assert!(panel.contains("data-testid=\"panel-title\""));
    assert!(!panel.contains("data-testid=\"edit\"") && !panel.contains("data-testid=\"delete\""));
    assert!(
        !panel.contains("data-testid=\"export-form\""),
        "viewers do not export"
    );
    for path in [
        "/settings/users",
        "/settings/ai",
        "/insights?open=web-1&edit=1&confirm=delete",
    ] {
        let response = page(path, &viewer).await.expect("answered");
        let status = response.status().as_u16();
        let html = response.text().await.expect("html");
        if path.starts_with("/settings") {
            assert_eq!(status, 403, "{path}");
        } else {
            assert!(
                !html.contains("data-testid=\"edit-form\"") && !html.contains("confirm-delete"),
                "{path}"
            );
        }
    }
    let csrf = csrf_in(&panel);
    let refused = client
        .post(format!("{}/insights/web-1/delete", app.address))
        .header(COOKIE, viewer.clone())
        .form(&[("csrf", csrf.as_str()), ("back", "/insights")])
        .send()
        .await
        .expect("answered");
    assert_eq!(
        refused.status().as_u16(),
        403,
        "the API refuses the viewer's delete"
    );

    // The usage page says what is missing until a plan exists, then shows the month.
    let usage = page("/usage", &admin)
        .await
        .expect("answered")
        .text()
        .await
        .expect("html");
    assert!(usage.contains("data-testid=\"usage-unavailable\""));
    let plan = json!({"plan": "team", "full_seats": 2, "overage_unit_price": "1.50", "at_limit": "continue"});
    let (status, body) = app
        .call(
            Method::PUT,
            "/api/v1/ai-agents/plan",
            &app.token,
            Some(plan),
        )
        .await;
    assert!(status < 300, "{body}");
    let usage = page("/usage", &admin)
        .await
        .expect("answered")
        .text()
        .await
        .expect("html");
    assert!(usage.contains("data-testid=\"usage-totals\"") && !usage.contains("usage-unavailable"));
    let credits = page("/credits", &admin)
        .await
        .expect("answered")
        .text()
        .await
        .expect("html");
    assert!(
        credits.contains("data-testid=\"credit-balance\">4<"),
        "10 free credits, 6 used"
    );

    assert!(
        credits.contains("data-testid=\"header-balance\" title=\"Balance\">AI credits: 4<"),
        "the balance in the header, in the visitor's language (not the summaries' German): {}",
        credits
            .lines()
            .filter(|line| line.contains("balance"))
            .collect::<Vec<_>>()
            .join("\n")
    );

    // With alerts present, both pages still render and say what each alert means.
    let company = app.store.company_by_name("acme").await.expect("acme").id;
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    app.store
        .record_credit_alert(&company, &month, 20, 2, 10)
        .await
        .expect("credit alert");
    app.store
        .record_usage_alert(&company, &month, 80, 8, 10)
        .await
        .expect("usage alert");
    for (path, alert) in [("/credits", "credit-alerts"), ("/usage", "usage-alerts")] {
        let response = page(path, &admin).await.expect("answered");
        assert_eq!(response.status().as_u16(), 200, "{path}");
        let html = response.text().await.expect("html");
        assert!(html.contains(&format!("data-testid=\"{alert}\"")), "{path}");
        assert!(
            html.contains(&format!(
                "<strong>{}</strong>",
                if path == "/credits" { "20 %" } else { "80 %" }
            )),
            "{path}"
        );
        assert!(!html.contains("\"threshold\""), "{path}: no raw JSON");
    }

    // Signing out revokes the token behind the cookie.
    let signed_out = client
        .post(format!("{}/sign-out", app.address))
        .header(COOKIE, viewer.clone())
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("answered");
    assert_eq!(signed_out.status().as_u16(), 303);
    let after = page("/insights", &viewer).await.expect("answered");
    assert_eq!(after.headers()[LOCATION], "/sign-in?next=%2Finsights");
    app.stop().await;
}

/// chromedriver on a free port, killed when dropped.
pub(crate) struct Driver {
    child: Child,
    port: u16,
    profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // A test that failed before closing its session leaves Chromium running without its
        // driver: its processes are the ones using this test's profile.
        let _ = Command::new("pkill")
            .args(["-f", &self.profile.path().display().to_string()])
            .status();
    }
}

/// Chromium's driver; the browser tests are ignored unless asked for (`-- --include-ignored`),
/// and then fail without Chromium.
pub(crate) async fn start_driver() -> Driver {
    assert!(
        std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists(),
        "{CHROMIUM} and {CHROMEDRIVER} are needed (scripts/setup.sh installs them)"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("free port")
        .local_addr()
        .expect("addr")
        .port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver {
        child,
        port,
        profile: tempfile::tempdir().expect("profile dir"),
    };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return driver;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not listen on {port}");
}

pub(crate) async fn browser(driver: &Driver) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("browserName".into(), json!("chrome"));
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync",
                     "--disable-dev-shm-usage", "--window-size=1280,900",
                     format!("--user-data-dir={}", driver.profile.path().display())],
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a Chromium session starts")
}

/// Where the screenshots go: the workspace's `target/web-screenshots/`.
fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/web-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    dir
}

/// Saves the page at 1280 and 390 px, and checks that the phone width needs no sideways scroll.
async fn screenshots(browser: &Client, name: &str) {
    for (width, height) in [(1280, 900), (390, 844)] {
        browser
            .set_window_size(width, height)
            .await
            .expect("resize");
        let png = browser.screenshot().await.expect("screenshot");
        std::fs::write(screenshot_dir().join(format!("{name}-{width}.png")), png).expect("saved");
        let too_wide = browser
            .execute(
                "return [...document.querySelectorAll('body *')]
                   .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
                             && !(e.parentElement && e.parentElement.closest('.scroll')) && getComputedStyle(e).position !== 'absolute')
                   .map(e => e.tagName + '.' + e.className).slice(0, 5);",
                vec![],
            )
            .await
            .expect("measured");
        assert_eq!(
            too_wide,
            json!([]),
            "{name} fits {width} px without sideways scrolling"
        );
        let page_fits = browser
            .execute(
                "return document.documentElement.scrollWidth <= window.innerWidth;",
                vec![],
            )
            .await
            .expect("measured");
        assert_eq!(
            page_fits,
            json!(true),
            "{name} at {width} px scrolls sideways"
        );
    }
    browser.set_window_size(1280, 900).await.expect("resize");
}

/// Clicks the element `css` finds.
async fn click(browser: &Client, css: &str) {
    browser
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|error| panic!("{css}: {error}"))
        .click()
        .await
        .unwrap_or_else(|error| panic!("clicking {css}: {error}"));
}

/// Waits for the element `css` finds.
pub(crate) async fn wait_for(browser: &Client, css: &str) -> fantoccini::elements::Element {
    browser
        .wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|error| panic!("waited in vain for {css}: {error}"))
}

/// Waits until the page's URL satisfies `ready`.
async fn wait_for_url(browser: &Client, ready: impl Fn(&str) -> bool, what: &str) {
    for _ in 0..100 {
        if ready(browser.current_url().await.expect("url").as_str()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("waited in vain for {what}");
}

async fn text_of(browser: &Client, css: &str) -> String {
    browser
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|error| panic!("{css}: {error}"))
        .text()
        .await
        .expect("text")
}

async fn sign_in_with_browser(browser: &Client, app: &TestApp, email: &str, password: &str) {
    browser
        .goto(&format!("{}/insights", app.address))
        .await
        .expect("opens");
    let form = browser
        .form(Locator::Css("form[action='/sign-in']"))
        .await
        .expect("the sign-in form");
    form.set_by_name("company", "acme").await.expect("company");
    form.set_by_name("email", email).await.expect("email");
    form.set_by_name("password", password)
        .await
        .expect("password");
    form.submit().await.expect("submitted");
    wait_for(browser, "[data-testid=totals]").await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (scripts/setup.sh installs them)"]
async fn the_insights_pages_work_end_to_end_in_chromium() {
    let driver = start_driver().await;
    let app = app_with_summaries().await;
    let browser = browser(&driver).await;

    browser
        .goto(&format!("{}/insights", app.address))
        .await
        .expect("opens");
    assert!(browser
        .current_url()
        .await
        .expect("url")
        .path()
        .ends_with("/sign-in"));
    screenshots(&browser, "sign-in").await;
    sign_in_with_browser(&browser, &app, "alice@acme.example", ADMIN_PASSWORD).await;

    // The overview counts are the API's.
    let (_, overview) = app
        .call(Method::GET, "/api/v1/insights/overview", &app.token, None)
        .await;
    assert_eq!(
        text_of(&browser, "[data-testid=total-sessions]").await,
        overview["sessions"].to_string()
    );
    assert_eq!(
        text_of(&browser, "[data-testid=total-summarized]").await,
        overview["summarized"].to_string()
    );
    let bars = browser
        .find_all(Locator::Css("[data-testid=chart-issue-types] li"))
        .await
        .expect("bars");
    assert_eq!(
        bars.len(),
        overview["by_issue_type"]
            .as_array()
            .map_or(0, Vec::len)
            .min(11)
    );
    screenshots(&browser, "insights").await;

    // Filter by an issue type: the list is the API's for that type.
    let issue_type = overview["by_issue_type"][0]["issue_type"]
        .as_str()
        .expect("a tagged summary")
        .to_string();
    let select = browser
        .find(Locator::Css("select[name=issue_type]"))
        .await
        .expect("filter");
    select.select_by_value(&issue_type).await.expect("chosen");
    click(&browser, "form[role=search] button[type=submit]").await;
    wait_for_url(&browser, |url| url.contains("issue_type="), "filtered page").await;
    let (_, listed) = app
        .call(
            Method::GET,
            &format!(
                "/api/v1/summaries?issue_type={}",
                issue_type.replace(' ', "%20")
            ),
            &app.token,
            None,
        )
        .await;
    let count = text_of(&browser, "[data-testid=result-count] strong").await;
    assert_eq!(count, listed["total"].to_string());
    assert_eq!(
        browser
            .find_all(Locator::Css(".summary-link"))
            .await
            .expect("links")
            .len() as u64,
        listed["total"].as_u64().unwrap_or(0)
    );

    // Open a summary in the side panel.
    let first = browser
        .find(Locator::Css(".summary-link"))
        .await
        .expect("a summary");
    let session = first
        .attr("data-session")
        .await
        .expect("attr")
        .expect("session id");
    first.click().await.expect("opened");
    wait_for(&browser, "[data-testid=panel]").await;
    let (_, summary) = app
        .call(
            Method::GET,
            &format!("/api/v1/sessions/{session}/summary"),
            &app.token,
            None,
        )
        .await;
    assert_eq!(
        text_of(&browser, "[data-testid=panel-title]").await,
        summary["title"].as_str().unwrap_or_default()
    );
    screenshots(&browser, "summary-panel").await;

    // Edit it; after a reload the edit is there, and the original is in the history.
    click(&browser, "[data-testid=edit]").await;
    wait_for(&browser, "[data-testid=edit-form]").await;
    let title = browser
        .find(Locator::Css("[data-testid=edit-form] input[name=title]"))
        .await
        .expect("title");
    title.clear().await.expect("cleared");
    title
        .send_keys("Edited in the browser")
        .await
        .expect("typed");
    browser
        .form(Locator::Css("[data-testid=edit-form]"))
        .await
        .expect("the form")
        .submit()
        .await
        .expect("saved");
    wait_for(&browser, "[data-testid=revisions]").await;
    browser.refresh().await.expect("reloaded");
    assert_eq!(
        text_of(&browser, "[data-testid=panel-title]").await,
        "Edited in the browser"
    );
    let (_, edited) = app
        .call(
            Method::GET,
            &format!("/api/v1/sessions/{session}/summary"),
            &app.token,
            None,
        )
        .await;
    assert_eq!(edited["title"], "Edited in the browser");
    assert_eq!(
        edited["edited"]["by"].as_str().map(str::is_empty),
        Some(false)
    );
    let (_, revisions) = app
        .call(
            Method::GET,
            &format!("/api/v1/sessions/{session}/summary/revisions"),
            &app.token,
            None,
        )
        .await;
    assert_eq!(
        revisions["items"][0]["replaced"]["title"], summary["title"],
        "the original stays retrievable"
    );

    // Export it: the panel's form posts to the page's export, with the session cookie.
    let exported = browser
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const form = document.querySelector('[data-testid=export-form]');
             const data = new URLSearchParams(new FormData(form));
             data.set('format', 'json');
             fetch(form.action, {method: 'POST', body: data})
               .then(r => r.text().then(text => done([r.status, r.headers.get('content-type'), text])));",
            vec![],
        )
        .await
        .expect("exported");
    assert_eq!(exported[0], json!(200));
    assert!(exported[1]
        .as_str()
        .is_some_and(|kind| kind.starts_with("application/json")));
    assert!(exported[2]
        .as_str()
        .is_some_and(|text| text.contains("Edited in the browser")));

    // Escape closes the panel.
    browser
        .find(Locator::Css("body"))
        .await
        .expect("body")
        .send_keys("\u{E00C}")
        .await
        .expect("escape");
    wait_for_url(&browser, |url| !url.contains("open="), "closed").await;

    // Delete another one, after the confirmation.
    browser
        .goto(&format!("{}/insights", app.address))
        .await
        .expect("list");
    let before: u64 = text_of(&browser, "[data-testid=result-count] strong")
        .await
        .parse()
        .expect("a count");
    let links = browser
        .find_all(Locator::Css(".summary-link"))
        .await
        .expect("links");
    let doomed = links[links.len() - 1]
        .attr("data-session")
        .await
        .expect("attr")
        .expect("id");
    links[links.len() - 1].click().await.expect("opened");
    wait_for(&browser, "[data-testid=delete]")
        .await
        .click()
        .await
        .expect("asks");
    let confirm = wait_for(&browser, "[data-testid=confirm-delete]").await;
    screenshots(&browser, "delete-confirmation").await;
    confirm
        .find(Locator::Css("button[type=submit]"))
        .await
        .expect("button")
        .click()
        .await
        .expect("deleted");
    wait_for(&browser, ".notice").await;
    let after: u64 = text_of(&browser, "[data-testid=result-count] strong")
        .await
        .parse()
        .expect("a count");
    assert_eq!(after, before - 1);
    let (status, state) = app
        .call(
            Method::GET,
            &format!("/api/v1/sessions/{doomed}/summary"),
            &app.token,
            None,
        )
        .await;
    assert_eq!(
        (status, state["state"].as_str()),
        (410, Some("deleted")),
        "{state}"
    );

    // The other main pages render for an admin.
    for (path, name) in [
        ("/settings/ai", "settings-ai"),
        ("/settings/users", "settings-users"),
        ("/credits", "credits"),
        ("/usage", "usage"),
    ] {
        browser
            .goto(&format!("{}{path}", app.address))
            .await
            .expect("opens");
        assert!(
            browser.find(Locator::Css("main h1")).await.is_ok(),
            "{path} has its heading"
        );
        screenshots(&browser, name).await;
    }
    browser
        .goto(&format!("{}/settings/ai", app.address))
        .await
        .expect("opens");
    assert!(
        browser
            .find(Locator::Css(
                "[data-testid=ai-form] input[name=ai_enabled]:checked"
            ))
            .await
            .is_ok(),
        "the AI switch is a checked box"
    );
    browser
        .goto(&format!("{}/usage", app.address))
        .await
        .expect("opens");
    assert!(
        text_of(&browser, "[data-testid=usage-unavailable]")
            .await
            .contains("plan"),
        "usage says what is not set up"
    );

    // Switch the language: the menu applies itself.
    browser
        .goto(&format!("{}/insights", app.address))
        .await
        .expect("list");
    browser
        .find(Locator::Css("#language-menu"))
        .await
        .expect("menu")
        .select_by_value("de")
        .await
        .expect("chosen");
    wait_for(&browser, "html[lang=de]").await;
    assert_eq!(
        text_of(&browser, "nav a[aria-current=page]").await,
        "Einblicke"
    );
    let (_, me) = app.call(Method::GET, "/api/v1/me", &app.token, None).await;
    assert_eq!(
        me["language"],
        Value::Null,
        "the admin token's user has still chosen no language of their own"
    );
    screenshots(&browser, "insights-de").await;

    // A viewer sees no edit or delete.
    click(&browser, "[data-testid=sign-out]").await;
    wait_for(&browser, "form[action='/sign-in']").await;
    sign_in_with_browser(&browser, &app, "victor@acme.example", VIEWER_PASSWORD).await;
    click(&browser, ".summary-link").await;
    wait_for(&browser, "[data-testid=panel-title]").await;
    assert!(browser
        .find_all(Locator::Css(
            "[data-testid=edit], [data-testid=delete], [data-testid=export-form]"
        ))
        .await
        .expect("query")
        .is_empty());
    browser
        .goto(&format!("{}/settings/users", app.address))
        .await
        .expect("opens");
    assert_eq!(
        text_of(&browser, "main h1").await,
        "You do not have permission to see this page."
    );

    browser.close().await.expect("browser closes");
    app.stop().await;
}

#[tokio::test]
async fn the_api_behind_the_pages_lists_summaries_and_knows_the_caller() {
    let app = app_with_summaries().await;
    let (status, me) = app.call(Method::GET, "/api/v1/me", &app.token, None).await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            me["company"].as_str(),
            me["role"].as_str(),
            me["language"].as_str()
        ),
        (Some("acme"), Some("admin"), None),
        "no language chosen yet: the pages follow the browser"
    );
    assert!(me["permissions"]
        .as_array()
        .is_some_and(|held| held.contains(&json!("insights.delete"))));

    let (status, refused) = app
        .call(
            Method::PUT,
            "/api/v1/me/language",
            &app.token,
            Some(json!({"language": "klingon"})),
        )
        .await;
    assert_eq!(
        (status, refused["details"]["field"].as_str()),
        (422, Some("language")),
        "{refused}"
    );
    let (status, _) = app
        .call(
            Method::PUT,
            "/api/v1/me/language",
            &app.token,
            Some(json!({"language": "pt"})),
        )
        .await;
    assert_eq!(status, 200);
    let (_, me) = app.call(Method::GET, "/api/v1/me", &app.token, None).await;
    assert_eq!(me["language"], "pt-BR");

    let (_, vpn) = app
        .call(Method::GET, "/api/v1/summaries?q=VPN", &app.token, None)
        .await;
    assert_eq!(vpn["total"], 1, "{vpn}");
    assert_eq!(vpn["summaries"][0]["session_id"], "web-2");
    let (_, page) = app
        .call(
            Method::GET,
            "/api/v1/summaries?per_page=4&page=2",
            &app.token,
            None,
        )
        .await;
    assert_eq!(
        (
            page["total"].as_u64(),
            page["summaries"].as_array().map(Vec::len)
        ),
        (Some(6), Some(2))
    );
    assert_eq!(
        page["summaries"][1]["session_id"], "web-5",
        "newest first: the oldest is last"
    );
    let (_, supporter) = app
        .call(
            Method::GET,
            "/api/v1/summaries?supporter=sup-1",
            &app.token,
            None,
        )
        .await;
    assert_eq!(supporter["total"], 3);
    app.stop().await;
}
