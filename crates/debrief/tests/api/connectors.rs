//! Connectors against a local server that checks each request as ServiceNow's Table API and
//! Salesforce's REST API document them: method, path, authentication, and the body's fields.

use std::sync::{Arc, Mutex};

use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use reqwest::Method;
use serde_json::{json, Value};

use crate::util::{session_json, TestApp};

/// Requests the fake systems accepted: method, path and body.
type Accepted = Arc<Mutex<Vec<(String, String, Value)>>>;

fn header(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// ServiceNow wants basic auth as admin:pw (base64 "YWRtaW46cHc="), JSON, and `work_notes`;
/// Salesforce a bearer token and a CaseComment with ParentId and CommentBody.
async fn ticketing(accepted: Accepted) -> String {
    let unexpected = accepted.clone();
    let (patch, create, comment) = (accepted.clone(), accepted.clone(), accepted);
    let app = axum::Router::new()
        .route(
            "/api/now/table/incident/{sys_id}",
            axum::routing::patch(
                move |Path(sys_id): Path<String>, headers: HeaderMap, Json(body): Json<Value>| {
                    let accepted = patch.clone();
                    async move {
                        let valid = header(&headers, "authorization") == "Basic YWRtaW46cHc="
                            && header(&headers, "content-type").starts_with("application/json")
                            && body["work_notes"]
                                .as_str()
                                .is_some_and(|notes| !notes.is_empty());
                        if !valid {
                            return (
                                StatusCode::BAD_REQUEST,
                                Json(json!({"error": "bad request"})),
                            );
                        }
                        accepted.lock().expect("lock").push((
                            "PATCH".into(),
                            format!("incident/{sys_id}"),
                            body,
                        ));
                        (StatusCode::OK, Json(json!({"result": {"sys_id": sys_id}})))
                    }
                },
            ),
        )
        .route(
            "/api/now/table/incident",
            axum::routing::post(move |headers: HeaderMap, Json(body): Json<Value>| {
                let accepted = create.clone();
                async move {
                    let valid = header(&headers, "authorization") == "Basic YWRtaW46cHc="
                        && body["short_description"].is_string()
                        && body["work_notes"].is_string();
                    if !valid {
                        return (StatusCode::BAD_REQUEST, Json(json!({})));
                    }
                    accepted
                        .lock()
                        .expect("lock")
                        .push(("POST".into(), "incident".into(), body));
                    (
                        StatusCode::CREATED,
                        Json(json!({"result": {"sys_id": "new-incident-1"}})),
                    )
                }
            }),
        )
        .route(
            "/services/data/v59.0/sobjects/CaseComment",
            axum::routing::post(move |headers: HeaderMap, Json(body): Json<Value>| {
                let accepted = comment.clone();
                async move {
                    let valid = header(&headers, "authorization") == "Bearer sf-token"
                        && body["ParentId"].is_string()
                        && body["CommentBody"].is_string();
                    if !valid {
                        return (
                            StatusCode::UNAUTHORIZED,
                            Json(json!([{"errorCode": "INVALID_SESSION_ID"}])),
                        );
                    }
                    accepted.lock().expect("lock").push((
                        "POST".into(),
                        "CaseComment".into(),
                        body,
                    ));
                    (
                        StatusCode::CREATED,
                        Json(json!({"id": "00a000000000001", "success": true, "errors": []})),
                    )
                }
            }),
        );
    // Anything else reaching the stand-in is recorded as what it is: a request that should not
    // have been sent.
    let stray = unexpected;
    let app = app.fallback(move |method: Method, uri: axum::http::Uri| {
        let stray = stray.clone();
        async move {
            stray
                .lock()
                .expect("lock")
                .push((method.to_string(), uri.to_string(), Value::Null));
            StatusCode::NOT_FOUND
        }
    });
    let address = crate::util::spawn_stand_in(app).await;
    address
}

#[tokio::test]
async fn summaries_go_into_servicenow_incidents_and_salesforce_cases() {
    let app = TestApp::spawn().await;
    app.enable_insights(&app.token).await;
    let globex = app.other_company("globex").await;
    let accepted: Accepted = Arc::default();
    let base = ticketing(accepted.clone()).await;
    let mut with_ticket = session_json("tk-1");
    with_ticket["ticket"] = json!("46d44a5cdb1232003c4f2a8c4b961941");
    app.call(
        Method::POST,
        "/api/v1/sessions",
        &app.token,
        Some(with_ticket),
    )
    .await;
    app.call(
        Method::POST,
        "/api/v1/sessions",
        &app.token,
        Some(session_json("tk-2")),
    )
    .await;
    app.summarize_now().await;

    let (set, shown) = app
        .call(
            Method::PUT,
            "/api/v1/connectors/servicenow",
            &app.token,
            Some(json!({"kind": "servicenow", "instance_url": base, "username": "admin", "password": "pw"})),
        )
        .await;
    app.call(
        Method::PUT,
        "/api/v1/connectors/salesforce",
        &app.token,
        Some(json!({"kind": "salesforce", "instance_url": base, "access_token": "sf-token"})),
    )
    .await;
    let push = |id: &str, body: Value| {
        let path = format!("/api/v1/sessions/{id}/summary/push");
        let app = &app;
        async move { app.call(Method::POST, &path, &app.token, Some(body)).await }
    };
    let (patched, patch_answer) = push("tk-1", json!({"connector": "servicenow"})).await;
    let (created, create_answer) = push("tk-2", json!({"connector": "servicenow"})).await;
    let (commented, comment_answer) = push(
        "tk-1",
        json!({"connector": "salesforce", "ticket": "500XX00000ABCDE"}),
    )
    .await;
    let (no_case, no_case_body) = push("tk-2", json!({"connector": "salesforce"})).await;
    app.call(
        Method::PUT,
        "/api/v1/connectors/salesforce",
        &app.token,
        Some(json!({"kind": "salesforce", "instance_url": base, "access_token": "expired"})),
    )
    .await;
    let (refused, refused_body) = push(
        "tk-1",
        json!({"connector": "salesforce", "ticket": "500XX00000ABCDE"}),
    )
    .await;
    let (_, listed) = app
        .call(Method::GET, "/api/v1/connectors", &app.token, None)
        .await;
    let (theirs, _) = app
        .call(
            Method::POST,
            "/api/v1/sessions/tk-1/summary/push",
            &globex,
            Some(json!({"connector": "servicenow"})),
        )
        .await;
    let stored = debrief_store::get_typed::<Value>(
        app.store.as_ref(),
        &app.store.company_by_name("acme").await.expect("acme").id,
        debrief_store::ObjectKind::Connector,
        "servicenow",
    )
    .await
    .expect("stored")
    .unwrap_or_default();

    assert_eq!(set, 200);
    assert_eq!(shown["password"], "********");
    assert_eq!(
        (patched, patch_answer["method"].as_str()),
        (200, Some("PATCH"))
    );
    assert_eq!(
        patch_answer["record_id"],
        "46d44a5cdb1232003c4f2a8c4b961941"
    );
    assert_eq!(
        (created, create_answer["record_id"].as_str()),
        (200, Some("new-incident-1"))
    );
    assert_eq!(
        (commented, comment_answer["record_id"].as_str()),
        (200, Some("00a000000000001"))
    );
    assert_eq!(
        (no_case, no_case_body["details"]["field"].as_str()),
        (422, Some("ticket"))
    );
    assert_eq!(refused, 502);
    assert!(refused_body["message"]
        .as_str()
        .is_some_and(|message| message.contains("401")));
    let accepted = accepted.lock().expect("lock").clone();
    assert_eq!(accepted.len(), 3);
    assert_eq!(
        (accepted[0].0.as_str(), accepted[0].1.as_str()),
        ("PATCH", "incident/46d44a5cdb1232003c4f2a8c4b961941")
    );
    assert!(accepted[0].2["work_notes"]
        .as_str()
        .is_some_and(|notes| notes.contains("Microsoft Outlook")));
    assert_eq!(accepted[2].2["ParentId"], "500XX00000ABCDE");
    assert_eq!(accepted[2].2["IsPublished"], false);
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        theirs, 422,
        "another company has no connector and no such session"
    );
    assert_ne!(stored["password"], "pw", "the password is sealed at rest");
    assert!(stored["password"]
        .as_str()
        .is_some_and(|sealed| sealed.len() > 40));
    app.stop().await;
}

#[tokio::test]
async fn tickets_cannot_point_a_push_at_another_record_or_add_a_query() {
    let app = TestApp::spawn().await;
    app.enable_insights(&app.token).await;
    let accepted: Accepted = Arc::default();
    let base = ticketing(accepted.clone()).await;
    for connector in [
        json!({"kind": "servicenow", "instance_url": base, "username": "admin", "password": "pw"}),
        json!({"kind": "salesforce", "instance_url": base, "access_token": "sf-token"}),
    ] {
        let kind = connector["kind"].as_str().unwrap_or_default().to_string();
        let (status, _) = app
            .call(
                Method::PUT,
                &format!("/api/v1/connectors/{kind}"),
                &app.token,
                Some(connector),
            )
            .await;
        assert_eq!(status, 200);
    }
    // A session that carries a hostile ticket itself.
    let mut carried = session_json("tk-evil");
    carried["ticket"] =
        json!("../../sys_user/6816f79cc0a8016401c5a33be04be441?sysparm_fields=roles");
    app.call(Method::POST, "/api/v1/sessions", &app.token, Some(carried))
        .await;
    app.summarize_now().await;

    let hostile = [
        "../sys_user/6816f79cc0a8016401c5a33be04be441?sysparm_fields=roles",
        "46d44a5cdb1232003c4f2a8c4b961941?sysparm_fields=roles",
        "46d44a5cdb1232003c4f2a8c4b961941/../../sys_user",
        "%2e%2e%2fsys_user%2f6816f79cc0a8016401c5a33be04be441",
        "46d44a5cdb1232003c4f2a8c4b96194#",
        "500XX00000ABCDE\",\"IsPublished\":true,\"x\":\"",
        "500XX00000ABCD/../../sobjects/User",
    ];
    for connector in ["servicenow", "salesforce"] {
        // Each hostile ticket, then none: the session's own.
        for ticket in hostile.into_iter().map(Some).chain([None]) {
            let mut request = json!({"connector": connector});
            if let Some(ticket) = ticket {
                request["ticket"] = json!(ticket);
            }
            let (status, body) = app
                .call(
                    Method::POST,
                    "/api/v1/sessions/tk-evil/summary/push",
                    &app.token,
                    Some(request),
                )
                .await;
            assert_eq!(
                (status, body["details"]["field"].as_str()),
                (422, Some("ticket")),
                "{connector} {ticket:?}: {body}"
            );
        }
    }
    let (bad_version, _) = app
        .call(
            Method::PUT,
            "/api/v1/connectors/salesforce",
            &app.token,
            Some(
                json!({"kind": "salesforce", "instance_url": base, "access_token": "t",
                        "api_version": "v59.0/sobjects/User"}),
            ),
        )
        .await;
    let (bad_instance, _) = app
        .call(
            Method::PUT,
            "/api/v1/connectors/servicenow",
            &app.token,
            Some(
                json!({"kind": "servicenow", "instance_url": format!("{base}/?x=1"),
                        "username": "admin", "password": "pw"}),
            ),
        )
        .await;

    assert_eq!((bad_version, bad_instance), (422, 422));
    assert!(
        accepted.lock().expect("lock").is_empty(),
        "the stand-in received nothing: {:?}",
        accepted.lock().expect("lock")
    );
    app.stop().await;
}
