//! Governance through the API: a company walked through each scenario of SPEC section 2
//! (settings → modules, devices, policies → ingest → a summary or the skip reason), the
//! consent flow, enforced policies, users and their settings, roles and sign-in, every
//! endpoint refused without its permission, and tenant isolation of the new endpoints.

use reqwest::Method;
use serde_json::{json, Value};

use crate::util::{json_of, session_json, TestApp};

/// A remote session `id` with the given direction, device, module and consent.
fn remote_session(id: &str, direction: &str, device: Value, module: Option<Value>) -> Value {
    let mut session = session_json(id);
    session["direction"] = json!(direction);
    session["device"] = device;
    match module {
        Some(module) => session["module"] = module,
        None => {
            if let Some(object) = session.as_object_mut() {
                object.remove("module");
            }
        }
    }
    session
}

impl TestApp {
    async fn ingest(&self, session: &Value) {
        let (status, body) = self
            .call(
                Method::POST,
                "/api/v1/sessions",
                &self.token,
                Some(session.clone()),
            )
            .await;
        assert!(status == 200 || status == 201, "{status} {body}");
    }

    /// The state of a session's summary after a worker round: `"ready"`, or the skip reason.
    async fn summary_outcome(&self, id: &str) -> String {
        self.summarize_now().await;
        let (status, body) = self
            .call(
                Method::GET,
                &format!("/api/v1/sessions/{id}/summary"),
                &self.token,
                None,
            )
            .await;
        match status {
            200 => "ready".into(),
            409 => body["reason"].as_str().unwrap_or_default().to_string(),
            other => format!("status {other}: {body}"),
        }
    }

    async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::PUT, path, &self.token, Some(body)).await
    }
}

#[tokio::test]
async fn a_company_walks_through_every_rule_of_section_2() {
    let app = TestApp::spawn().await;
    let windows = |id: &str| json!({"id": id, "platform": "windows", "full_client": true, "signed_in_company": "acme"});

    // Everything is off by default.
    let (_, defaults) = app
        .call(Method::GET, "/api/v1/settings/ai", &app.token, None)
        .await;
    app.ingest(&remote_session("s-off", "outgoing", windows("d-1"), None))
        .await;
    let off = app.summary_outcome("s-off").await;

    // Turning AI and outgoing insights on makes the waiting session eligible.
    let (set, _) = app
        .put(
            "/api/v1/settings/ai",
            json!({"ai": {"enabled": true}, "insights": {"outgoing": {"enabled": true, "scope": "all"}}}),
        )
        .await;
    let after_on = app.summary_outcome("s-off").await;

    // custom_modules_only: a custom module whose insights are off, then on.
    app.put(
        "/api/v1/settings/ai",
        json!({"ai": {"enabled": true}, "insights": {"outgoing": {"enabled": true, "scope": "custom_modules_only"}}}),
    )
    .await;
    app.ingest(&remote_session(
        "s-mod",
        "outgoing",
        windows("d-1"),
        Some(json!({"id": "qs-1", "custom": true})),
    ))
    .await;
    let module_off = app.summary_outcome("s-mod").await;
    let (_, registered) = app
        .call(Method::GET, "/api/v1/modules/qs-1", &app.token, None)
        .await;
    app.put(
        "/api/v1/modules/qs-1",
        json!({"name": "Helpdesk", "custom": true, "insights_enabled": true}),
    )
    .await;
    let module_on = app.summary_outcome("s-mod").await;
    app.ingest(&remote_session(
        "s-std",
        "outgoing",
        windows("d-1"),
        Some(json!({"id": "qs-std", "custom": false})),
    ))
    .await;
    let not_custom = app.summary_outcome("s-std").await;

    // Incoming, all devices: the device's user must be signed in with a company account.
    app.put(
        "/api/v1/settings/ai",
        json!({"ai": {"enabled": true}, "insights": {"incoming": {"enabled": true, "scope": "all_devices"}}}),
    )
    .await;
    app.ingest(&remote_session(
        "s-in",
        "incoming",
        json!({"id": "d-2", "platform": "macos", "managed": true}),
        None,
    ))
    .await;
    let not_signed_in = app.summary_outcome("s-in").await;
    app.put(
        "/api/v1/devices/d-2",
        json!({"platform": "macos", "managed": true, "signed_in_company_account": true}),
    )
    .await;
    let signed_in = app.summary_outcome("s-in").await;

    // Incoming, managed with policy.
    app.put(
        "/api/v1/settings/ai",
        json!({"ai": {"enabled": true}, "insights": {"incoming": {"enabled": true, "scope": "managed_with_policy"}}}),
    )
    .await;
    app.put(
        "/api/v1/policies/pol-1",
        json!({"name": "Standard", "reports_enabled": true, "insights_enabled": false}),
    )
    .await;
    let (unmanaged, unmanaged_body) = app
        .put(
            "/api/v1/devices/d-3",
            json!({"managed": false, "policy": "pol-1"}),
        )
        .await;
    app.put(
        "/api/v1/devices/d-3",
        json!({"platform": "windows", "managed": true, "policy": "pol-1"}),
    )
    .await;
    app.ingest(&remote_session(
        "s-pol",
        "incoming",
        json!({"id": "d-3", "platform": "windows"}),
        None,
    ))
    .await;
    let policy_off = app.summary_outcome("s-pol").await;
    let (in_use, _) = app
        .call(Method::DELETE, "/api/v1/policies/pol-1", &app.token, None)
        .await;
    app.put(
        "/api/v1/policies/pol-1",
        json!({"reports_enabled": true, "insights_enabled": true}),
    )
    .await;
    let policy_on = app.summary_outcome("s-pol").await;

    // Platforms other than Windows and macOS are stored, not summarized.
    app.ingest(&remote_session(
        "s-linux",
        "incoming",
        json!({"id": "d-3", "platform": "linux"}),
        None,
    ))
    .await;
    let linux = app.summary_outcome("s-linux").await;

    assert_eq!(
        defaults,
        json!({"ai": {"enabled": false}, "insights": {
            "outgoing": {"enabled": false, "scope": "all"},
            "incoming": {"enabled": false, "scope": "all_devices"},
            "language": "en"}})
    );
    assert_eq!(off, "ai.enabled is off for the company");
    assert_eq!(set, 200);
    assert_eq!(after_on, "ready");
    assert_eq!(
        module_off,
        "outgoing scope is custom_modules_only and module qs-1 has insights disabled"
    );
    assert_eq!(
        registered,
        json!({"id": "qs-1", "name": null, "custom": true, "insights_enabled": false}),
        "an ingested session registers its unknown module"
    );
    assert_eq!(module_on, "ready");
    assert_eq!(
        not_custom,
        "outgoing scope is custom_modules_only and module qs-std is not custom"
    );
    assert_eq!(
        not_signed_in,
        "incoming scope is all_devices and the user of device d-2 is not signed in with an account of the company"
    );
    assert_eq!(signed_in, "ready");
    assert_eq!(
        (unmanaged, unmanaged_body["details"]["field"].as_str()),
        (422, Some("policy"))
    );
    assert!(unmanaged_body["details"]["reason"]
        .as_str()
        .is_some_and(|reason| reason.contains("only be assigned to managed devices")));
    assert_eq!(policy_off, "policy pol-1 has session insights disabled");
    assert_eq!(in_use, 409, "a policy a device has cannot be deleted");
    assert_eq!(policy_on, "ready");
    assert_eq!(linux, "platform linux is not supported");
    app.stop().await;
}

#[tokio::test]
async fn consent_enforced_policies_users_and_language() {
    let app = TestApp::spawn().await;
    app.put(
        "/api/v1/settings/ai",
        json!({"ai": {"enabled": true}, "insights": {
            "outgoing": {"enabled": true}, "incoming": {"enabled": true, "scope": "managed_with_policy"},
            "language": "de"}}),
    )
    .await;
    let device = json!({"id": "d-9", "platform": "windows"});
    let unanswered = |id: &str| {
        let mut session = remote_session(id, "outgoing", device.clone(), None);
        session["consent"] = json!("none");
        session
    };

    // after_confirmation: no answer yet, then allowed; another denied, which is final.
    app.ingest(&unanswered("c-1")).await;
    app.ingest(&unanswered("c-2")).await;
    let waiting = app.summary_outcome("c-1").await;
    let consent = |id: &str, answer: &str| {
        let path = format!("/api/v1/sessions/{id}/consent");
        let body = json!({"consent": answer});
        let app = &app;
        async move { app.call(Method::POST, &path, &app.token, Some(body)).await }
    };
    let (allowed, _) = consent("c-1", "allowed").await;
    let after_allowed = app.summary_outcome("c-1").await;
    let (denied, _) = consent("c-2", "denied").await;
    let (again, _) = consent("c-2", "allowed").await;
    let after_denied = app.summary_outcome("c-2").await;
    let (_, final_body) = app
        .call(
            Method::GET,
            "/api/v1/sessions/c-2/summary",
            &app.token,
            None,
        )
        .await;
    let (unknown_answer, unknown_body) = consent("c-2", "maybe").await;

    // A device whose consent mode is denied: final.
    app.put(
        "/api/v1/devices/d-8",
        json!({"platform": "windows", "consent_mode": "denied"}),
    )
    .await;
    app.ingest(&remote_session(
        "c-3",
        "outgoing",
        json!({"id": "d-8", "platform": "windows"}),
        None,
    ))
    .await;
    let device_denies = app.summary_outcome("c-3").await;
    let (not_asked, _) = consent("c-3", "allowed").await;

    // An enforced policy: the device side cannot opt out; without enforcement it can.
    app.put(
        "/api/v1/policies/locked",
        json!({"reports_enabled": true, "insights_enabled": true, "enforced": true}),
    )
    .await;
    app.put(
        "/api/v1/policies/open",
        json!({"reports_enabled": true, "insights_enabled": true}),
    )
    .await;
    app.put(
        "/api/v1/devices/m-1",
        json!({"platform": "windows", "managed": true, "policy": "locked", "consent_mode": "allowed"}),
    )
    .await;
    app.put(
        "/api/v1/devices/m-2",
        json!({"platform": "windows", "managed": true, "policy": "open", "consent_mode": "allowed"}),
    )
    .await;
    let (enforced, enforced_body) = app
        .put(
            "/api/v1/devices/m-1/insights-opt-out",
            json!({"opted_out": true}),
        )
        .await;
    let (opted_out, _) = app
        .put(
            "/api/v1/devices/m-2/insights-opt-out",
            json!({"opted_out": true}),
        )
        .await;
    app.ingest(&remote_session(
        "p-1",
        "incoming",
        json!({"id": "m-1", "platform": "windows"}),
        None,
    ))
    .await;
    app.ingest(&remote_session(
        "p-2",
        "incoming",
        json!({"id": "m-2", "platform": "windows"}),
        None,
    ))
    .await;
    let under_enforced = app.summary_outcome("p-1").await;
    let under_open = app.summary_outcome("p-2").await;
    let (_, german) = app
        .call(
            Method::GET,
            "/api/v1/sessions/p-1/summary",
            &app.token,
            None,
        )
        .await;

    // A supporter whose "log sessions for connection reports" is off; on again.
    let (created, user) = app
        .call(
            Method::POST,
            "/api/v1/users",
            &app.token,
            Some(json!({"name": "Ana", "role": "supporter", "supporter_id": "u-ana", "log_sessions": false})),
        )
        .await;
    let mut by_ana = remote_session(
        "u-1",
        "outgoing",
        json!({"id": "m-1", "platform": "windows"}),
        None,
    );
    by_ana["supporter"] = json!({"id": "u-ana", "name": "Ana"});
    app.ingest(&by_ana).await;
    let not_logged = app.summary_outcome("u-1").await;
    let user_id = user["id"].as_str().unwrap_or_default().to_string();
    let (patched, _) = app
        .call(
            Method::PATCH,
            &format!("/api/v1/users/{user_id}"),
            &app.token,
            Some(json!({"log_sessions": true})),
        )
        .await;
    let logged = app.summary_outcome("u-1").await;

    assert_eq!(waiting, "waiting for the remote user's consent");
    assert_eq!((allowed, after_allowed.as_str()), (200, "ready"));
    assert_eq!((denied, again), (200, 409));
    assert_eq!(after_denied, "remote user denied consent");
    assert_eq!(final_body["final"], true);
    assert_eq!(
        (unknown_answer, unknown_body["details"]["field"].as_str()),
        (422, Some("consent"))
    );
    assert_eq!(
        device_denies,
        "device d-8 denies session insights (consent mode denied)"
    );
    assert_eq!(not_asked, 409);
    assert_eq!(enforced, 403);
    assert!(enforced_body["message"]
        .as_str()
        .is_some_and(|message| message.contains("policy locked is enforced")));
    assert_eq!(opted_out, 200);
    assert_eq!(under_enforced, "ready");
    assert_eq!(
        under_open,
        "the user of device m-2 turned session insights off on the device"
    );
    assert_eq!(german["language"], "de");
    assert_eq!(created, 201);
    assert_eq!(
        not_logged,
        "the supporter does not log sessions for connection reports"
    );
    assert_eq!((patched, logged.as_str()), (200, "ready"));
    app.stop().await;
}

#[tokio::test]
async fn bad_settings_name_the_field() {
    let app = TestApp::spawn().await;
    let (language, language_body) = app
        .put(
            "/api/v1/settings/ai",
            json!({"insights": {"language": "klingon"}}),
        )
        .await;
    let (scope, scope_body) = app
        .put(
            "/api/v1/settings/ai",
            json!({"insights": {"outgoing": {"enabled": true, "scope": "everything"}}}),
        )
        .await;
    let (_, unchanged) = app
        .call(Method::GET, "/api/v1/settings/ai", &app.token, None)
        .await;
    assert_eq!(
        (language, language_body["details"]["field"].as_str()),
        (422, Some("insights.language"))
    );
    assert_eq!(
        (scope, scope_body["details"]["field"].as_str()),
        (422, Some("insights.outgoing.scope"))
    );
    assert_eq!(
        unchanged["ai"]["enabled"], false,
        "nothing of a rejected body is stored"
    );
    app.stop().await;
}

/// Every endpoint, with the permission it needs.
const GUARDED: &[(&str, &str, &str)] = &[
    ("POST", "/api/v1/sessions", "sessions.ingest"),
    ("GET", "/api/v1/sessions", "insights.view"),
    ("GET", "/api/v1/sessions/x", "insights.view"),
    ("GET", "/api/v1/sessions/x/summary", "insights.view"),
    ("PATCH", "/api/v1/sessions/x/summary", "insights.edit"),
    ("DELETE", "/api/v1/sessions/x/summary", "insights.delete"),
    (
        "GET",
        "/api/v1/sessions/x/summary/revisions",
        "insights.view",
    ),
    ("POST", "/api/v1/sessions/x/consent", "sessions.ingest"),
    ("GET", "/api/v1/tokens", "roles.manage"),
    ("POST", "/api/v1/tokens", "roles.manage"),
    ("DELETE", "/api/v1/tokens/x", "roles.manage"),
    ("GET", "/api/v1/taxonomy", "insights.view"),
    ("PUT", "/api/v1/taxonomy", "ai.settings.manage"),
    ("DELETE", "/api/v1/taxonomy", "ai.settings.manage"),
    ("GET", "/api/v1/applications", "insights.view"),
    ("PUT", "/api/v1/applications", "ai.settings.manage"),
    ("DELETE", "/api/v1/applications", "ai.settings.manage"),
    ("GET", "/api/v1/settings/ai", "insights.view"),
    ("PUT", "/api/v1/settings/ai", "ai.settings.manage"),
    ("GET", "/api/v1/settings/engine", "insights.view"),
    ("PUT", "/api/v1/settings/engine", "ai.settings.manage"),
    ("GET", "/api/v1/modules", "insights.view"),
    ("GET", "/api/v1/modules/x", "insights.view"),
    ("PUT", "/api/v1/modules/x", "ai.settings.manage"),
    ("DELETE", "/api/v1/modules/x", "ai.settings.manage"),
    ("GET", "/api/v1/devices", "insights.view"),
    ("GET", "/api/v1/devices/x", "insights.view"),
    ("DELETE", "/api/v1/devices/x", "policies.manage"),
    ("PUT", "/api/v1/devices/x", "policies.manage"),
    (
        "PUT",
        "/api/v1/devices/x/insights-opt-out",
        "sessions.ingest",
    ),
    ("GET", "/api/v1/policies", "insights.view"),
    ("GET", "/api/v1/policies/x", "insights.view"),
    ("PUT", "/api/v1/policies/x", "policies.manage"),
    ("DELETE", "/api/v1/policies/x", "policies.manage"),
    ("GET", "/api/v1/roles", "roles.manage"),
    ("POST", "/api/v1/roles", "roles.manage"),
    ("PUT", "/api/v1/roles/x", "roles.manage"),
    ("DELETE", "/api/v1/roles/x", "roles.manage"),
    ("GET", "/api/v1/users", "roles.manage"),
    ("POST", "/api/v1/users", "roles.manage"),
    ("PATCH", "/api/v1/users/x", "roles.manage"),
    ("POST", "/api/v1/conversations", "sessions.ingest"),
    ("GET", "/api/v1/conversations/x", "usage.view"),
    ("POST", "/api/v1/conversations/x/events", "sessions.ingest"),
    ("POST", "/api/v1/conversations/x/rerun", "billing.manage"),
    ("POST", "/api/v1/conversations/x/override", "billing.manage"),
    ("PUT", "/api/v1/ai-agents/plan", "billing.manage"),
    ("POST", "/api/v1/ai-agents/changes", "billing.manage"),
    ("GET", "/api/v1/ai-agents/status", "usage.view"),
    ("GET", "/api/v1/usage/resolutions", "usage.view"),
    (
        "GET",
        "/api/v1/usage/resolutions/conversations",
        "usage.view",
    ),
    ("GET", "/api/v1/usage/alerts", "usage.view"),
    ("GET", "/api/v1/credits", "usage.view"),
    ("GET", "/api/v1/credits/ledger", "usage.view"),
    ("GET", "/api/v1/credits/alerts", "usage.view"),
    ("GET", "/api/v1/credits/settings", "usage.view"),
    ("PUT", "/api/v1/credits/settings", "billing.manage"),
    ("POST", "/api/v1/credits/purchases", "billing.manage"),
    ("GET", "/api/v1/billing/statement", "usage.view"),
    ("GET", "/api/v1/insights/overview", "insights.view"),
    ("GET", "/api/v1/summaries", "insights.view"),
    ("POST", "/api/v1/exports", "insights.export"),
    ("GET", "/api/v1/webhooks", "ai.settings.manage"),
    ("GET", "/api/v1/connectors", "ai.settings.manage"),
    ("PUT", "/api/v1/connectors/servicenow", "ai.settings.manage"),
    (
        "DELETE",
        "/api/v1/connectors/servicenow",
        "ai.settings.manage",
    ),
    ("POST", "/api/v1/sessions/x/summary/push", "insights.export"),
    ("POST", "/api/v1/webhooks", "ai.settings.manage"),
    ("DELETE", "/api/v1/webhooks/x", "ai.settings.manage"),
    ("GET", "/api/v1/webhooks/x/deliveries", "ai.settings.manage"),
    (
        "POST",
        "/api/v1/webhooks/deliveries/1/redeliver",
        "ai.settings.manage",
    ),
    ("POST", "/api/v1/credits/cancel-renewal", "billing.manage"),
    ("POST", "/api/v1/sessions/x/ai-actions", "insights.generate"),
];

#[tokio::test]
async fn every_endpoint_refuses_a_token_without_its_permission_and_names_it() {
    let app = TestApp::spawn().await;
    let (created, _) = app
        .call(
            Method::POST,
            "/api/v1/roles",
            &app.token,
            Some(json!({"name": "nobody", "copy_from": "viewer", "permissions": []})),
        )
        .await;
    let (_, token) = app
        .call(
            Method::POST,
            "/api/v1/tokens",
            &app.token,
            Some(json!({"label": "no rights", "role": "nobody"})),
        )
        .await;
    let powerless = token["token"].as_str().unwrap_or_default().to_string();

    let mut wrong = Vec::new();
    for (method, path, permission) in GUARDED.iter().copied() {
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        let (status, body) = app
            .call(method.clone(), path, &powerless, Some(json!({})))
            .await;
        if status != 403 || body["details"]["permission"] != permission {
            wrong.push(format!("{method} {path}: {status} {body}"));
        }
    }
    // A viewer may look but not change.
    let (_, viewer_token) = app
        .call(
            Method::POST,
            "/api/v1/tokens",
            &app.token,
            Some(json!({"label": "viewer", "role": "viewer"})),
        )
        .await;
    let viewer = viewer_token["token"].as_str().unwrap_or_default();
    let (looks, _) = app
        .call(Method::GET, "/api/v1/sessions", viewer, None)
        .await;
    let (changes, _) = app
        .call(Method::PUT, "/api/v1/settings/ai", viewer, Some(json!({})))
        .await;

    assert_eq!(created, 201);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!((looks, changes), (200, 403));
    app.stop().await;
}

#[tokio::test]
async fn custom_roles_users_and_sign_in() {
    let app = TestApp::spawn().await;
    let (created, role) = app
        .call(
            Method::POST,
            "/api/v1/roles",
            &app.token,
            Some(json!({"name": "auditor", "copy_from": "viewer"})),
        )
        .await;
    let (edited, _) = app
        .put(
            "/api/v1/roles/auditor",
            json!({"permissions": ["insights.view", "usage.view", "insights.export"]}),
        )
        .await;
    let (builtin, _) = app
        .put("/api/v1/roles/admin", json!({"permissions": []}))
        .await;
    let (bad_permission, bad_body) = app
        .put(
            "/api/v1/roles/auditor",
            json!({"permissions": ["insights.view", "everything"]}),
        )
        .await;
    let (user_created, _) = app
        .call(
            Method::POST,
            "/api/v1/users",
            &app.token,
            Some(json!({"name": "Olga", "role": "auditor", "email": "olga@acme.test", "password": "correct horse battery"})),
        )
        .await;
    let (short, _) = app
        .call(
            Method::POST,
            "/api/v1/users",
            &app.token,
            Some(json!({"name": "Ivo", "role": "viewer", "email": "ivo@acme.test", "password": "short"})),
        )
        .await;
    let (unknown_role, _) = app
        .call(
            Method::POST,
            "/api/v1/users",
            &app.token,
            Some(json!({"name": "Ivo", "role": "ghost"})),
        )
        .await;
    let sign_in = |password: &str| {
        app.client
            .post(format!("{}/api/v1/sign-in", app.address))
            .json(&json!({"company": "acme", "email": "Olga@acme.test", "password": password}))
            .send()
    };
    let (signed_in, session) = json_of(sign_in("correct horse battery").await).await;
    let (wrong, _) = json_of(sign_in("wrong horse battery").await).await;
    let olga = session["token"].as_str().unwrap_or_default();
    let (may_view, _) = app.call(Method::GET, "/api/v1/sessions", olga, None).await;
    let (may_not_manage, _) = app.call(Method::GET, "/api/v1/users", olga, None).await;
    let (held, _) = app
        .call(Method::DELETE, "/api/v1/roles/auditor", &app.token, None)
        .await;
    let (_, users) = app
        .call(Method::GET, "/api/v1/users", &app.token, None)
        .await;

    assert_eq!(created, 201);
    assert_eq!(
        role["permissions"],
        json!(["insights.view", "usage.view"]),
        "a copy of viewer"
    );
    assert_eq!(edited, 200);
    assert_eq!(builtin, 409);
    assert_eq!(
        (bad_permission, bad_body["details"]["field"].as_str()),
        (422, Some("permissions[1]"))
    );
    assert_eq!((user_created, short, unknown_role), (201, 422, 422));
    assert_eq!((signed_in, wrong), (201, 401));
    assert_eq!((may_view, may_not_manage), (200, 403));
    assert_eq!(held, 409, "a role a user holds cannot be deleted");
    let listed = users["items"].as_array().cloned().unwrap_or_default();
    assert!(listed
        .iter()
        .all(|user| user.get("password_hash").is_none() && user.get("password").is_none()));
    assert!(listed
        .iter()
        .any(|user| user["email"] == "olga@acme.test" && user["has_password"] == true));
    app.stop().await;
}

#[tokio::test]
async fn governance_objects_stay_inside_their_company() {
    let app = TestApp::spawn().await;
    let globex = app.other_company("globex").await;
    app.put(
        "/api/v1/policies/pol-1",
        json!({"reports_enabled": true, "insights_enabled": true}),
    )
    .await;
    app.put(
        "/api/v1/devices/d-1",
        json!({"managed": true, "policy": "pol-1"}),
    )
    .await;
    app.put("/api/v1/modules/qs-1", json!({"custom": true}))
        .await;
    app.call(
        Method::POST,
        "/api/v1/roles",
        &app.token,
        Some(json!({"name": "auditor", "copy_from": "viewer"})),
    )
    .await;
    app.put("/api/v1/settings/ai", json!({"ai": {"enabled": true}}))
        .await;
    let mut session = session_json("iso-1");
    session["consent"] = json!("none");
    app.ingest(&session).await;

    let mut seen = Vec::new();
    for path in [
        "/api/v1/devices/d-1",
        "/api/v1/policies/pol-1",
        "/api/v1/modules/qs-1",
    ] {
        seen.push((path, app.call(Method::GET, path, &globex, None).await.0));
    }
    let (_, devices) = app
        .call(Method::GET, "/api/v1/devices", &globex, None)
        .await;
    let (_, roles) = app.call(Method::GET, "/api/v1/roles", &globex, None).await;
    let (_, users) = app.call(Method::GET, "/api/v1/users", &globex, None).await;
    let (_, settings) = app
        .call(Method::GET, "/api/v1/settings/ai", &globex, None)
        .await;
    let (consent, _) = app
        .call(
            Method::POST,
            "/api/v1/sessions/iso-1/consent",
            &globex,
            Some(json!({"consent": "denied"})),
        )
        .await;
    let (assign_foreign, _) = app
        .call(
            Method::PUT,
            "/api/v1/devices/g-1",
            &globex,
            Some(json!({"managed": true, "policy": "pol-1"})),
        )
        .await;
    let (opt_out, _) = app
        .call(
            Method::PUT,
            "/api/v1/devices/d-1/insights-opt-out",
            &globex,
            Some(json!({"opted_out": true})),
        )
        .await;

    assert_eq!(
        seen,
        vec![
            ("/api/v1/devices/d-1", 404),
            ("/api/v1/policies/pol-1", 404),
            ("/api/v1/modules/qs-1", 404)
        ]
    );
    assert_eq!(devices["items"], json!([]));
    assert_eq!(
        roles["items"].as_array().map(Vec::len),
        Some(3),
        "only the built-in roles"
    );
    assert_eq!(
        users["items"].as_array().map(Vec::len),
        Some(1),
        "only globex's own admin"
    );
    assert_eq!(settings["ai"]["enabled"], false);
    assert_eq!(consent, 404);
    assert_eq!(
        assign_foreign, 422,
        "another company's policy does not exist here"
    );
    assert_eq!(opt_out, 404);
    app.stop().await;
}

#[tokio::test]
async fn the_openapi_document_covers_every_endpoint_with_its_permission() {
    let app = TestApp::spawn().await;
    let (status, document) = json_of(
        app.client
            .get(format!("{}/api/v1/openapi.json", app.address))
            .send()
            .await,
    )
    .await;
    let paths = document["paths"].as_object().cloned().unwrap_or_default();
    let mut operations: Vec<String> = Vec::new();
    for (path, methods) in &paths {
        for (method, operation) in methods.as_object().into_iter().flatten() {
            let forbidden = operation["responses"]["403"]["description"]
                .as_str()
                .unwrap_or("public or any token");
            operations.push(format!("{} {path} — {forbidden}", method.to_uppercase()));
        }
    }
    operations.sort();
    let mut missing = Vec::new();
    for (method, path, permission) in GUARDED.iter().copied() {
        let documented = paths.iter().any(|(template, methods)| {
            let same_shape = template.split('/').count() == path.split('/').count()
                && template
                    .split('/')
                    .zip(path.split('/'))
                    .all(|(left, right)| left.starts_with('{') || left == right);
            same_shape
                && methods[method.to_lowercase()]["responses"]["403"]["description"]
                    .as_str()
                    .is_some_and(|text| text.ends_with(permission))
        });
        if !documented {
            missing.push(format!("{method} {path} ({permission})"));
        }
    }

    assert_eq!(status, 200);
    assert_eq!(document["openapi"], "3.1.0");
    assert!(missing.is_empty(), "not documented: {missing:?}");
    assert!(document["components"]["securitySchemes"]["bearer"].is_object());
    insta::assert_snapshot!(operations.join("\n"));
    app.stop().await;
}

#[tokio::test]
async fn the_overview_counts_summaries_skips_with_their_reasons_and_tags() {
    let app = TestApp::spawn().await;
    app.enable_insights(&app.token).await;
    app.ingest(&session_json("ov-1")).await;
    let mut linux = session_json("ov-2");
    linux["device"] = json!({"id": "d-9", "platform": "linux"});
    app.ingest(&linux).await;
    let mut waiting = session_json("ov-3");
    waiting["consent"] = json!("none");
    app.ingest(&waiting).await;
    app.summarize_now().await;

    let (status, overview) = app
        .call(Method::GET, "/api/v1/insights/overview", &app.token, None)
        .await;
    let (_, empty) = app
        .call(
            Method::GET,
            "/api/v1/insights/overview?from=2020-01-01T00:00:00Z&to=2020-02-01T00:00:00Z",
            &app.token,
            None,
        )
        .await;

    assert_eq!(status, 200);
    assert_eq!(
        (overview["sessions"].clone(), overview["summarized"].clone()),
        (json!(3), json!(1))
    );
    let reasons: Vec<&str> = overview["skipped"]
        .as_array()
        .map(|skipped| {
            skipped
                .iter()
                .filter_map(|skip| skip["reason"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        reasons.contains(&"platform linux is not supported"),
        "{overview}"
    );
    assert!(
        reasons.contains(&"waiting for the remote user's consent"),
        "{overview}"
    );
    assert_eq!(
        overview["by_application"],
        json!([{"application": "Microsoft Outlook", "summaries": 1}])
    );
    assert_eq!(overview["by_issue_type"].as_array().map(Vec::len), Some(1));
    assert_eq!(empty["sessions"], 0);
    app.stop().await;
}
