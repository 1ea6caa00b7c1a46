//! Webhooks end to end: a receiver on a real socket that is down at first, signed deliveries
//! written in the same transaction as their event, retries until the receiver is back, the
//! attempts listed, a delivery sent again by hand, and another company seeing none of it.

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use chrono::{Duration, Utc};
use debrief_workflows::outbound::Reach;
use debrief_workflows::webhooks::{signature, Deliverer};
use reqwest::Method;
use serde_json::{json, Value};

use crate::util::{session_json, TestApp};

/// What the receiver saw: event, delivery id, signature and body of each request.
type Seen = Arc<Mutex<Vec<(String, String, String, String)>>>;

/// A receiver that answers 503 while `down` is set.
async fn receiver(seen: Seen, down: Arc<Mutex<bool>>) -> String {
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let (seen, down) = (seen.clone(), down.clone());
            async move {
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|value| value.to_str().ok())
                        .unwrap_or_default()
                        .to_string()
                };
                seen.lock().expect("lock").push((
                    header("debrief-event"),
                    header("debrief-delivery"),
                    header("debrief-signature"),
                    body,
                ));
                if *down.lock().expect("lock") {
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::NO_CONTENT
                }
            }
        }),
    );
    let address = format!("{}/hook", crate::util::spawn_stand_in(app).await);
    address
}

#[tokio::test]
async fn deliveries_are_signed_retried_until_received_and_listed() {
    let app = TestApp::spawn().await;
    app.enable_insights(&app.token).await;
    let globex = app.other_company("globex").await;
    let seen: Seen = Arc::default();
    let down = Arc::new(Mutex::new(true));
    let url = receiver(seen.clone(), down.clone()).await;

    let (bad_event, bad_event_body) = app
        .call(
            Method::POST,
            "/api/v1/webhooks",
            &app.token,
            Some(json!({"url": url, "events": ["summary.created", "summary.exploded"]})),
        )
        .await;
    let (bad_url, _) = app
        .call(
            Method::POST,
            "/api/v1/webhooks",
            &app.token,
            Some(json!({"url": "ftp://example.test/x", "events": ["summary.created"]})),
        )
        .await;
    let (created, webhook) = app
        .call(
            Method::POST,
            "/api/v1/webhooks",
            &app.token,
            Some(json!({"url": url, "events": ["summary.created", "summary.deleted"]})),
        )
        .await;
    let secret = webhook["secret"].as_str().unwrap_or_default().to_string();
    let id = webhook["webhook"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    app.call(
        Method::POST,
        "/api/v1/sessions",
        &app.token,
        Some(session_json("wh-1")),
    )
    .await;
    app.summarize_now().await;
    let deliverer = app.deliverer.clone();
    let now = Utc::now();
    let first = deliverer.run_once(now).await.expect("round");
    let too_early = deliverer
        .run_once(now + Duration::seconds(30))
        .await
        .expect("round");
    *down.lock().expect("lock") = false;
    let second = deliverer
        .run_once(now + Duration::minutes(2))
        .await
        .expect("round");
    let (_, deliveries) = app
        .call(
            Method::GET,
            &format!("/api/v1/webhooks/{id}/deliveries"),
            &app.token,
            None,
        )
        .await;
    let delivery_id = deliveries["items"][0]["id"].as_i64().unwrap_or_default();
    let (redelivered, _) = app
        .call(
            Method::POST,
            &format!("/api/v1/webhooks/deliveries/{delivery_id}/redeliver"),
            &app.token,
            None,
        )
        .await;
    let third = deliverer.run_once(Utc::now()).await.expect("round");
    app.call(
        Method::DELETE,
        "/api/v1/sessions/wh-1/summary",
        &app.token,
        None,
    )
    .await;
    deliverer.run_once(Utc::now()).await.expect("round");
    let (_, theirs) = app
        .call(Method::GET, "/api/v1/webhooks", &globex, None)
        .await;
    let (their_view, _) = app
        .call(
            Method::GET,
            &format!("/api/v1/webhooks/{id}/deliveries"),
            &globex,
            None,
        )
        .await;
    let (foreign_redeliver, _) = app
        .call(
            Method::POST,
            &format!("/api/v1/webhooks/deliveries/{delivery_id}/redeliver"),
            &globex,
            None,
        )
        .await;

    assert_eq!(
        (bad_event, bad_event_body["details"]["field"].as_str()),
        (422, Some("events[1]"))
    );
    assert_eq!(bad_url, 422);
    assert_eq!(created, 201);
    assert!(secret.starts_with("whsec_"));
    assert_eq!((first, too_early, second, third), (1, 0, 1, 1));
    assert_eq!(redelivered, 202);
    let seen = seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 4, "down, up, by hand, then the deletion");
    let (event, delivery, signed, body) = &seen[1];
    assert_eq!(event, "summary.created");
    assert_eq!(delivery, &seen[0].1, "a retry keeps its delivery id");
    let timestamp: i64 = signed
        .trim_start_matches("t=")
        .split(',')
        .next()
        .and_then(|t| t.parse().ok())
        .unwrap_or_default();
    assert_eq!(
        signed,
        &signature(&secret, timestamp, body),
        "the signature checks out"
    );
    let payload: Value = serde_json::from_str(body).expect("json");
    assert_eq!(payload["event"], "summary.created");
    assert_eq!(payload["data"]["session_id"], "wh-1");
    assert!(payload["data"]["summary"]["title"].is_string());
    assert_eq!(seen[3].0, "summary.deleted");
    let attempts = deliveries["items"][0]["attempts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        attempts
            .iter()
            .map(|attempt| attempt["status"].as_i64())
            .collect::<Vec<_>>(),
        vec![Some(503), Some(204)]
    );
    assert_eq!(deliveries["items"][0]["state"], "delivered");
    assert_eq!(theirs["items"], json!([]));
    assert_eq!(their_view, 404, "another company's webhook is not found");
    assert_eq!(foreign_redeliver, 404);
    app.stop().await;
}

#[tokio::test]
async fn a_receiver_down_for_a_while_gets_every_event_in_order_and_a_crash_loses_none() {
    let app = TestApp::spawn().await;
    app.enable_insights(&app.token).await;
    let seen: Seen = Arc::default();
    let down = Arc::new(Mutex::new(true));
    let url = receiver(seen.clone(), down.clone()).await;
    let (_, webhook) = app
        .call(
            Method::POST,
            "/api/v1/webhooks",
            &app.token,
            Some(json!({"url": url, "events": ["summary.created", "summary.updated"], "secret": "0123456789abcdef-secret"})),
        )
        .await;
    for id in ["o-1", "o-2", "o-3"] {
        app.call(
            Method::POST,
            "/api/v1/sessions",
            &app.token,
            Some(session_json(id)),
        )
        .await;
    }
    app.summarize_now().await;
    app.call(
        Method::PATCH,
        "/api/v1/sessions/o-1/summary",
        &app.token,
        Some(json!({"title": "Edited while the receiver was down"})),
    )
    .await;
    let deliverer = app.deliverer.clone();
    let start = Utc::now();
    // Down for an hour of retries: only the oldest event is tried, the others wait behind it.
    for minutes in [0, 2, 5, 10, 30, 60] {
        deliverer
            .run_once(start + Duration::minutes(minutes))
            .await
            .expect("round");
    }
    let while_down = seen.lock().expect("lock").len();
    let tried: Vec<String> = seen
        .lock()
        .expect("lock")
        .iter()
        .map(|seen| seen.1.clone())
        .collect();
    *down.lock().expect("lock") = false;
    // A deliverer claims and crashes before sending; after its lease another one sends all.
    let crashed = app
        .store
        .claim_deliveries(start + Duration::hours(2), 50, 60)
        .await
        .expect("claim");
    let during_lease = deliverer
        .run_once(start + Duration::hours(2))
        .await
        .expect("round");
    let after_lease = Deliverer::new(
        app.store.clone(),
        Arc::clone(&app.metrics),
        None,
        Reach::Any,
    )
    .expect("deliverer")
    .run_once(start + Duration::hours(2) + Duration::seconds(61))
    .await
    .expect("round");

    let seen = seen.lock().expect("lock").clone();
    let delivered: Vec<&(String, String, String, String)> = seen.iter().skip(while_down).collect();
    assert!(while_down >= 3, "retried while down: {while_down}");
    assert!(
        tried.iter().all(|id| id == &tried[0]),
        "only the oldest is tried: {tried:?}"
    );
    assert_eq!(crashed.len(), 1, "one per endpoint, the oldest");
    assert_eq!(
        during_lease, 0,
        "a leased delivery is not sent twice meanwhile"
    );
    assert_eq!(after_lease, 4);
    assert_eq!(
        delivered
            .iter()
            .map(|seen| seen.0.as_str())
            .collect::<Vec<_>>(),
        vec![
            "summary.created",
            "summary.created",
            "summary.created",
            "summary.updated"
        ],
        "every event once, in order"
    );
    let ids: Vec<i64> = delivered
        .iter()
        .map(|seen| seen.1.parse().unwrap_or(0))
        .collect();
    assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "{ids:?}");
    for (_, _, signed, body) in &delivered {
        let timestamp: i64 = signed
            .trim_start_matches("t=")
            .split(',')
            .next()
            .and_then(|t| t.parse().ok())
            .unwrap_or_default();
        assert_eq!(
            signed,
            &signature("0123456789abcdef-secret", timestamp, body)
        );
    }
    assert_eq!(webhook["secret"], "0123456789abcdef-secret");
    app.stop().await;
}

/// Two receivers that each answer only once the other's request is open: they are both
/// delivered only when the deliverer serves endpoints side by side (one at a time, each would
/// wait for the other until the client's timeout).
async fn receivers_that_need_each_other() -> (String, String) {
    let (slow_open, slow_opened) = tokio::sync::watch::channel(false);
    let (fast_arrived, fast_seen) = tokio::sync::watch::channel(false);
    let wait_for = |mut flag: tokio::sync::watch::Receiver<bool>| async move {
        tokio::time::timeout(
            std::time::Duration::from_secs(30),
            flag.wait_for(|set| *set),
        )
        .await
        .is_ok_and(|seen| seen.is_ok())
    };
    let app = axum::Router::new()
        .route(
            "/slow",
            axum::routing::post(move || {
                let (slow_open, fast_seen) = (slow_open.clone(), fast_seen.clone());
                async move {
                    let _ = slow_open.send(true);
                    if wait_for(fast_seen).await {
                        StatusCode::NO_CONTENT
                    } else {
                        StatusCode::GATEWAY_TIMEOUT
                    }
                }
            }),
        )
        .route(
            "/fast",
            axum::routing::post(move || {
                let (fast_arrived, slow_opened) = (fast_arrived.clone(), slow_opened.clone());
                async move {
                    if wait_for(slow_opened).await {
                        let _ = fast_arrived.send(true);
                        StatusCode::NO_CONTENT
                    } else {
                        StatusCode::GATEWAY_TIMEOUT
                    }
                }
            }),
        );
    let base = crate::util::spawn_stand_in(app).await;
    (format!("{base}/slow"), format!("{base}/fast"))
}

#[tokio::test]
async fn a_slow_receiver_does_not_hold_up_another_endpoint() {
    let app = TestApp::spawn().await;
    let globex = app.other_company("globex").await;
    let (slow, fast) = receivers_that_need_each_other().await;
    let mut webhooks = Vec::new();
    for (token, url, session) in [(&app.token, &slow, "slow-1"), (&globex, &fast, "fast-1")] {
        app.enable_insights(token).await;
        let (status, created) = app
            .call(
                Method::POST,
                "/api/v1/webhooks",
                token,
                Some(json!({"url": url, "events": ["summary.created"]})),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        webhooks.push((
            token.clone(),
            created["webhook"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        ));
        app.call(
            Method::POST,
            "/api/v1/sessions",
            token,
            Some(session_json(session)),
        )
        .await;
    }
    app.summarize_now().await;

    let deliverer = app.deliverer.clone();
    let attempted = deliverer.run_once(Utc::now()).await.expect("round");

    assert_eq!(attempted, 2);
    for (token, id) in webhooks {
        let (_, deliveries) = app
            .call(
                Method::GET,
                &format!("/api/v1/webhooks/{id}/deliveries"),
                &token,
                None,
            )
            .await;
        assert_eq!(deliveries["items"][0]["state"], "delivered", "{deliveries}");
    }
    app.stop().await;
}

#[tokio::test]
async fn deliveries_of_an_unknown_webhook_are_a_404() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .call(
            Method::GET,
            "/api/v1/webhooks/no-such-hook/deliveries",
            &app.token,
            None,
        )
        .await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
    app.stop().await;
}
