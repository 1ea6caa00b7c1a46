use serde_json::json;

use crate::util::{json_of, session_json, TestApp};

async fn assert_tenants_are_isolated(app: &TestApp) {
    let globex = app.other_company("globex").await;
    app.post_json(
        "/api/v1/sessions",
        &app.token,
        &json!([session_json("acme-secret"), session_json("same-id")]),
    )
    .send()
    .await
    .expect("ingest");

    let (get_status, get_body) = json_of(
        app.get("/api/v1/sessions/acme-secret", &globex)
            .send()
            .await,
    )
    .await;
    let (_, globex_list) = json_of(app.get("/api/v1/sessions", &globex).send().await).await;
    let (same_status, same) = json_of(
        app.post_json("/api/v1/sessions", &globex, &session_json("same-id"))
            .send()
            .await,
    )
    .await;
    let mut foreign = session_json("foreign");
    foreign["company"] = json!("acme");
    let (foreign_status, foreign_body) = json_of(
        app.post_json("/api/v1/sessions", &globex, &foreign)
            .send()
            .await,
    )
    .await;

    assert_eq!(
        (get_status, get_body["code"].as_str()),
        (404, Some("not_found"))
    );
    assert!(
        !get_body.to_string().contains("Outlook"),
        "no data of another company"
    );
    assert_eq!(globex_list["total"], 0);
    assert_eq!(globex_list["sessions"], json!([]));
    assert_eq!(
        (same_status, same["status"].as_str()),
        (201, Some("stored")),
        "ids are per company"
    );
    assert_eq!(
        (foreign_status, foreign_body["details"]["field"].as_str()),
        (422, Some("company"))
    );
    let (_, acme_list) = json_of(app.get("/api/v1/sessions", &app.token).send().await).await;
    assert_eq!(acme_list["total"], 2);
    let (_, globex_after) = json_of(app.get("/api/v1/sessions", &globex).send().await).await;
    assert_eq!(globex_after["total"], 1);
}

#[tokio::test]
async fn another_companys_sessions_are_invisible_on_every_session_endpoint() {
    let app = TestApp::spawn().await;
    assert_tenants_are_isolated(&app).await;
    app.stop().await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: DEBRIEF_TEST_DATABASE_URL (scripts/setup.sh sets it up)"]
async fn tenants_are_isolated_on_postgres_too() {
    let builder = TestApp::builder().on_postgres();
    let app = builder.spawn().await;
    assert_tenants_are_isolated(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn requests_without_a_valid_token_are_401() {
    let app = TestApp::spawn().await;

    let no_header = app
        .client
        .get(format!("{}/api/v1/sessions", app.address))
        .send()
        .await
        .expect("answered");
    let (wrong_status, wrong) =
        json_of(app.get("/api/v1/sessions", "dbf_wrong").send().await).await;
    let (post_status, _) = json_of(
        app.post_json("/api/v1/sessions", "dbf_wrong", &session_json("x"))
            .send()
            .await,
    )
    .await;

    assert_eq!(no_header.status().as_u16(), 401);
    assert_eq!(
        no_header
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer")
    );
    assert_eq!(
        (wrong_status, wrong["code"].as_str()),
        (401, Some("unauthorized"))
    );
    assert_eq!(post_status, 401);
    app.stop().await;
}
