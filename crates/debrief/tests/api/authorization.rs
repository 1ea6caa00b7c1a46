//! Nobody raises their own rights: tokens, users and roles grant only what their maker holds,
//! and sign-in tokens expire (issue 17, finding 3).

use chrono::{Duration, TimeZone, Utc};
use reqwest::Method;
use serde_json::{json, Value};

use crate::util::{json_of, TestApp};

/// A user with a custom role holding only `roles.manage`, signed in: their token.
async fn role_manager(app: &TestApp) -> (String, String) {
    let (status, _) = app
        .call(
            Method::POST,
            "/api/v1/roles",
            &app.token,
            Some(json!({"name": "gatekeeper", "copy_from": "viewer", "permissions": ["roles.manage"]})),
        )
        .await;
    assert_eq!(status, 201);
    let id = add_user(app, "gate", "gatekeeper").await;
    (sign_in(app, "gate@acme.test", PASSWORD).await, id)
}

/// Every test user's password.
const PASSWORD: &str = "correct horse battery";

/// Adds the user `name` (e-mail `NAME@acme.test`, password [`PASSWORD`]) with `role`: their id.
async fn add_user(app: &TestApp, name: &str, role: &str) -> String {
    let (status, user) = app
        .call(
            Method::POST,
            "/api/v1/users",
            &app.token,
            Some(json!({"name": name, "role": role,
                        "email": format!("{name}@acme.test"), "password": PASSWORD})),
        )
        .await;
    assert_eq!(status, 201, "{user}");
    user["id"].as_str().expect("id").to_string()
}

async fn sign_in(app: &TestApp, email: &str, password: &str) -> String {
    let (status, body) = json_of(
        app.client
            .post(format!("{}/api/v1/sign-in", app.address))
            .json(&json!({"company": "acme", "email": email, "password": password}))
            .send()
            .await,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["token"].as_str().expect("token").to_string()
}

fn forbidden(answer: &(u16, Value)) -> bool {
    answer.0 == 403 && answer.1["code"] == "forbidden"
}

#[tokio::test]
async fn a_role_manager_cannot_raise_their_own_rights() {
    let app = TestApp::spawn().await;
    let (token, self_id) = role_manager(&app).await;
    let (_, users) = app
        .call(Method::GET, "/api/v1/users", &app.token, None)
        .await;
    let admin_id = users["items"]
        .as_array()
        .and_then(|users| users.iter().find(|user| user["role"] == "admin"))
        .and_then(|user| user["id"].as_str())
        .expect("an admin")
        .to_string();

    let (_, tokens) = app
        .call(Method::GET, "/api/v1/tokens", &app.token, None)
        .await;
    let admin_token_id = tokens
        .as_array()
        .and_then(|tokens| {
            tokens
                .iter()
                .find(|token| token["user_id"] == admin_id.as_str())
        })
        .and_then(|token| token["id"].as_str())
        .expect("the admin's token")
        .to_string();
    let attempts = [
        (
            Method::POST,
            "/api/v1/tokens".to_string(),
            json!({"label": "x", "role": "admin"}),
        ),
        (
            Method::POST,
            "/api/v1/tokens".to_string(),
            json!({"label": "x", "user_id": admin_id}),
        ),
        (
            Method::POST,
            "/api/v1/tokens".to_string(),
            json!({"label": "x", "role": "gatekeeper", "user_id": admin_id}),
        ),
        (
            Method::DELETE,
            format!("/api/v1/tokens/{admin_token_id}"),
            json!({}),
        ),
        (
            Method::PATCH,
            format!("/api/v1/users/{self_id}"),
            json!({"role": "admin"}),
        ),
        (
            Method::PATCH,
            format!("/api/v1/users/{admin_id}"),
            json!({"password": "taken over at last"}),
        ),
        (
            Method::PUT,
            "/api/v1/roles/gatekeeper".to_string(),
            json!({"permissions": ["roles.manage", "billing.manage"]}),
        ),
        (
            Method::POST,
            "/api/v1/roles".to_string(),
            json!({"name": "boss", "copy_from": "admin"}),
        ),
        (
            Method::POST,
            "/api/v1/users".to_string(),
            json!({"name": "Sock Puppet", "role": "admin", "email": "puppet@acme.test",
                   "password": "sock puppet password"}),
        ),
    ];
    for (method, path, body) in attempts {
        let answer = app
            .call(method.clone(), &path, &token, Some(body.clone()))
            .await;
        assert!(forbidden(&answer), "{method} {path} {body}: {answer:?}");
    }

    // Nothing changed: still only roles.manage, and the admin's password still works.
    let (_, me) = app.call(Method::GET, "/api/v1/me", &token, None).await;
    assert_eq!(me["permissions"], json!(["roles.manage"]));
    let (_, roles) = app
        .call(Method::GET, "/api/v1/roles", &app.token, None)
        .await;
    let names: Vec<&str> = roles["items"]
        .as_array()
        .expect("roles")
        .iter()
        .filter_map(|role| role["name"].as_str())
        .collect();
    assert!(!names.contains(&"boss"), "{names:?}");
    // What they hold they may still grant: a token of their own role.
    let (status, own) = app
        .call(
            Method::POST,
            "/api/v1/tokens",
            &token,
            Some(json!({"label": "mine"})),
        )
        .await;
    assert_eq!(status, 201, "{own}");
    app.stop().await;
}

#[tokio::test]
async fn a_token_never_acts_with_more_than_its_creator_holds() {
    let app = TestApp::spawn().await;
    // A role manager who also holds usage.view makes a usage.view token, then loses usage.view.
    app.call(
        Method::POST,
        "/api/v1/roles",
        &app.token,
        Some(json!({"name": "keeper", "copy_from": "viewer",
                    "permissions": ["roles.manage", "usage.view"]})),
    )
    .await;
    app.call(
        Method::POST,
        "/api/v1/roles",
        &app.token,
        Some(json!({"name": "reader", "copy_from": "viewer", "permissions": ["usage.view"]})),
    )
    .await;
    add_user(&app, "kim", "keeper").await;
    let kim = sign_in(&app, "kim@acme.test", PASSWORD).await;
    let (status, made) = app
        .call(
            Method::POST,
            "/api/v1/tokens",
            &kim,
            Some(json!({"label": "reports", "role": "reader"})),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    let integration = made["token"].as_str().expect("secret").to_string();
    let usage = |token: String| {
        let app = &app;
        async move {
            app.call(Method::GET, "/api/v1/usage/alerts", &token, None)
                .await
                .0
        }
    };
    let before = usage(integration.clone()).await;

    app.call(
        Method::PUT,
        "/api/v1/roles/keeper",
        &app.token,
        Some(json!({"permissions": ["roles.manage"]})),
    )
    .await;
    let after = usage(integration).await;

    assert_ne!(before, 403, "the creator held usage.view");
    assert_eq!(after, 403, "the creator no longer holds usage.view");
    app.stop().await;
}

#[tokio::test]
async fn sign_in_tokens_expire_when_idle_and_in_all() {
    let start = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
    let clock = debrief_workflows::clock::Clock::manual(start);
    let app = TestApp::builder()
        .with_clock(clock.clone())
        .with_sign_in_lifetime(debrief_store::TokenLifetime {
            idle_seconds: 30 * 60,
            max_seconds: 2 * 60 * 60,
        })
        .spawn()
        .await;
    add_user(&app, "ana", "viewer").await;
    let me = |token: String| {
        let app = &app;
        async move { app.call(Method::GET, "/api/v1/me", &token, None).await }
    };

    // Used every 20 minutes, it lives until its absolute limit.
    let busy = sign_in(&app, "ana@acme.test", PASSWORD).await;
    for step in 1..=5 {
        clock.set(start + Duration::minutes(20 * step));
        assert_eq!(me(busy.clone()).await.0, 200, "at {} min", 20 * step);
    }
    clock.set(start + Duration::minutes(121));
    let (status, body) = me(busy).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("token_expired"))
    );
    assert!(body["message"]
        .as_str()
        .unwrap_or("")
        .contains("time limit"));

    // Unused for longer than the idle limit, it stops.
    let idle = sign_in(&app, "ana@acme.test", PASSWORD).await;
    assert_eq!(me(idle.clone()).await.0, 200);
    clock.set(start + Duration::minutes(121 + 31));
    let (status, body) = me(idle).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("token_expired"))
    );
    assert!(body["message"].as_str().unwrap_or("").contains("idle"));

    // API tokens made by hand have no limit.
    clock.set(start + Duration::days(400));
    assert_eq!(me(app.token.clone()).await.0, 200);
    app.stop().await;
}
