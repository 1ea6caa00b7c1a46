use crate::util::{json_of, session_json, TestApp};

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

#[tokio::test]
async fn metrics_count_requests_and_show_the_queues() {
    let app = TestApp::spawn().await;
    let (status, _) = json_of(
        app.post_json("/api/v1/sessions", &app.token, &session_json("s-1"))
            .send()
            .await,
    )
    .await;
    assert_eq!(status, 201);
    for _ in 0..2 {
        app.get("/api/v1/sessions/nope", &app.token)
            .send()
            .await
            .expect("answered");
    }

    let response = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .expect("answered");
    let content_type = crate::util::content_type(&response);
    let text = response.text().await.expect("text");

    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    for line in [
        r#"debrief_http_requests_total{method="GET",route="/api/v1/sessions/{id}",status="404"} 2"#,
        r#"debrief_http_requests_total{method="POST",route="/api/v1/sessions",status="201"} 1"#,
        r#"debrief_queue_depth{queue="pending_summaries"} 1"#,
        r#"debrief_queue_depth{queue="webhook_outbox"} 0"#,
    ] {
        assert!(text.contains(line), "{line} missing from\n{text}");
    }
    assert!(text.ends_with("# EOF\n"));
    app.stop().await;
}

#[tokio::test]
async fn readiness_fails_while_a_worker_makes_no_progress() {
    let app = TestApp::builder()
        .with_stall_after(std::time::Duration::from_millis(200))
        .spawn()
        .await;
    let ready = || async {
        json_of(
            app.client
                .get(format!("{}/readyz", app.address))
                .send()
                .await,
        )
        .await
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let stuck = tokio::spawn(debrief_workflows::worker::every(
        "summaries",
        std::time::Duration::from_millis(10),
        stopped,
        std::sync::Arc::clone(&app.metrics),
        |_| async {
            // A round that never ends: a hung model call, a lock never released.
            std::future::pending::<()>().await;
            Ok(())
        },
    ));
    let (before, _) = ready().await;
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let (after, body) = ready().await;

    assert_eq!(before, 200);
    assert_eq!((after, body["code"].as_str()), (503, Some("not_ready")));
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("summaries worker has made no progress"),
        "{body}"
    );
    let _ = stop.send(true);
    stuck.abort();
    app.stop().await;
}
