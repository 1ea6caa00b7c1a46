use serde_json::json;

use crate::util::{json_of, TestApp};

#[tokio::test]
async fn a_created_token_works_until_it_is_revoked() {
    let app = TestApp::spawn().await;

    let (created_status, created) = json_of(
        app.post_json("/api/v1/tokens", &app.token, &json!({"label": "itsm"}))
            .send()
            .await,
    )
    .await;
    let secret = created["token"]
        .as_str()
        .expect("secret shown once")
        .to_string();
    let token_id = created["info"]["id"].as_str().expect("id").to_string();
    let (works, company) = json_of(app.get("/api/v1/company", &secret).send().await).await;
    let (_, listed) = json_of(app.get("/api/v1/tokens", &app.token).send().await).await;
    let revoke = app
        .client
        .delete(format!("{}/api/v1/tokens/{token_id}", app.address))
        .bearer_auth(&app.token)
        .send()
        .await
        .expect("answered");
    let (after, _) = json_of(app.get("/api/v1/company", &secret).send().await).await;

    assert_eq!(created_status, 201);
    assert_eq!((works, company["name"].as_str()), (200, Some("acme")));
    assert!(
        !listed.to_string().contains(&secret),
        "listing never shows secrets"
    );
    assert_eq!(listed.as_array().map(Vec::len), Some(2));
    assert_eq!(revoke.status().as_u16(), 204);
    assert_eq!(after, 401);
    app.stop().await;
}

#[tokio::test]
async fn another_companys_token_cannot_be_revoked() {
    let app = TestApp::spawn().await;
    let globex = app.other_company("globex").await;
    let (_, acme_tokens) = json_of(app.get("/api/v1/tokens", &app.token).send().await).await;
    let acme_token_id = acme_tokens[0]["id"].as_str().expect("id").to_string();

    let revoke = app
        .client
        .delete(format!("{}/api/v1/tokens/{acme_token_id}", app.address))
        .bearer_auth(&globex)
        .send()
        .await
        .expect("answered");
    let (still_works, _) = json_of(app.get("/api/v1/company", &app.token).send().await).await;

    assert_eq!(revoke.status().as_u16(), 404);
    assert_eq!(still_works, 200);
    app.stop().await;
}

#[tokio::test]
async fn a_token_request_without_a_label_is_a_422() {
    let app = TestApp::spawn().await;

    let (status, body) = json_of(
        app.post_json("/api/v1/tokens", &app.token, &json!({}))
            .send()
            .await,
    )
    .await;

    assert_eq!(
        (status, body["details"]["field"].as_str()),
        (422, Some("label"))
    );
    app.stop().await;
}
