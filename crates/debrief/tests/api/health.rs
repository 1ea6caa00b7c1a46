use crate::util::{json_of, TestApp};

#[tokio::test]
async fn health_and_readiness_answer_without_a_token() {
    let app = TestApp::spawn().await;

    let (health_status, health) = json_of(
        app.client
            .get(format!("{}/healthz", app.address))
            .send()
            .await,
    )
    .await;
    let (ready_status, ready) = json_of(
        app.client
            .get(format!("{}/readyz", app.address))
            .send()
            .await,
    )
    .await;

    assert_eq!(
        (health_status, health["status"].as_str()),
        (200, Some("ok"))
    );
    assert_eq!(
        (ready_status, ready["backend"].as_str()),
        (200, Some("sqlite"))
    );
    app.stop().await;
}

#[tokio::test]
async fn unknown_paths_are_json_404s() {
    let app = TestApp::spawn().await;

    let (status, body) = json_of(app.get("/api/v1/nothing-here", &app.token).send().await).await;

    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
    app.stop().await;
}
