//! Connectors against local ServiceNow and Salesforce stand-ins (`ticketing.rs`) that check
//! every request and keep their own records: summaries pushed by themselves through the
//! outbox, in order, through an outage of more than an hour; edits and deletion notes into the
//! same incident; credentials checked when saved; refusals that cannot change; pushes by hand;
//! hostile tickets; and two servers on one PostgreSQL.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use reqwest::Method;
use serde_json::{json, Value};

use crate::ticketing::{self, StandIn, CASE, INCIDENT, OTHER_INCIDENT, SALESFORCE_TOKEN};
use crate::util::{session_json, TestApp, TEST_SECRET_KEY};

/// Saves the ServiceNow connector of the token's company; status and answer.
async fn connect_servicenow(
    app: &TestApp,
    token: &str,
    stand_in: &StandIn,
    extra: Value,
) -> (u16, Value) {
    let mut body = json!({"kind": "servicenow", "instance_url": stand_in.base,
                          "username": "admin", "password": "pw"});
    for (field, value) in extra.as_object().cloned().unwrap_or_default() {
        body[field] = value;
    }
    app.call(
        Method::PUT,
        "/api/v1/connectors/servicenow",
        token,
        Some(body),
    )
    .await
}

/// Stores a session with `ticket` for the token's company.
async fn session(app: &TestApp, token: &str, id: &str, ticket: Option<&str>) {
    let mut session = session_json(id);
    if let Some(ticket) = ticket {
        session["ticket"] = json!(ticket);
    }
    let (status, answer) = app
        .call(Method::POST, "/api/v1/sessions", token, Some(session))
        .await;
    assert!(status < 300, "{answer}");
}

async fn edit(app: &TestApp, id: &str, title: &str) {
    let (status, answer) = app
        .call(
            Method::PATCH,
            &format!("/api/v1/sessions/{id}/summary"),
            &app.token,
            Some(json!({"title": title})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
}

async fn delete(app: &TestApp, id: &str) {
    let path = format!("/api/v1/sessions/{id}/summary");
    let (status, answer) = app.call(Method::DELETE, &path, &app.token, None).await;
    assert_eq!(status, 204, "{answer}");
}

/// The connector's pushes, newest first.
async fn deliveries(app: &TestApp, kind: &str) -> Vec<Value> {
    let (status, listed) = app
        .call(
            Method::GET,
            &format!("/api/v1/connectors/{kind}/deliveries"),
            &app.token,
            None,
        )
        .await;
    assert_eq!(status, 200, "{listed}");
    listed["items"].as_array().cloned().unwrap_or_default()
}

/// The push of `event` for session `id`.
fn push_of<'a>(pushes: &'a [Value], event: &str, id: &str) -> &'a Value {
    pushes
        .iter()
        .find(|push| push["event"] == event && push["payload"]["data"]["session_id"] == id)
        .unwrap_or_else(|| panic!("no {event} push of {id} in {pushes:?}"))
}

/// Requests the stand-in answered 200 on `path`.
fn delivered_to(stand_in: &StandIn, path: &str) -> usize {
    stand_in
        .state()
        .log
        .iter()
        .filter(|(_, logged, status)| logged == path && *status == 200)
        .count()
}

fn minutes(start: DateTime<Utc>, minutes: i64) -> DateTime<Utc> {
    start + TimeDelta::minutes(minutes)
}

#[tokio::test]
async fn servicenow_incidents_get_every_summary_in_order_through_an_outage() {
    let app = TestApp::spawn().await;
    app.enable_insights(&app.token).await;
    let stand_in = ticketing::start().await;
    let (_, hook) = app
        .call(
            Method::POST,
            "/api/v1/webhooks",
            &app.token,
            Some(json!({"url": format!("{}/hooks/debrief", stand_in.base), "events": ["connector.failing"]})),
        )
        .await;
    let (saved, connector) = connect_servicenow(
        &app,
        &app.token,
        &stand_in,
        json!({"when_no_ticket": "create"}),
    )
    .await;
    assert_eq!(saved, 200, "{connector}");
    assert_eq!(connector["check"]["status"], 200, "the test call answered");
    assert_eq!(connector["password"], "********");
    assert_eq!(
        connector["events"],
        json!(["summary.created", "summary.updated", "summary.deleted"])
    );

    // A first summary arrives in its incident.
    session(&app, &app.token, "sn-1", Some(INCIDENT)).await;
    app.summarize_now().await;
    let start = Utc::now();
    app.deliverer.run_once(start).await.expect("round");
    assert_eq!(stand_in.notes(INCIDENT).len(), 1);
    assert!(stand_in.notes(INCIDENT)[0].contains("sn-1"));

    // Down for more than an hour: a second summary in the same incident, and an edit of the
    // first; every retry fails.
    stand_in.set_down(true);
    session(&app, &app.token, "sn-2", Some(INCIDENT)).await;
    app.summarize_now().await;
    edit(
        &app,
        "sn-1",
        "Outlook password prompt fixed with a new mail profile",
    )
    .await;
    for minute in 0..=70 {
        app.deliverer
            .run_once(minutes(start, minute))
            .await
            .expect("round");
    }
    let (_, failing) = app
        .call(Method::GET, "/api/v1/connectors", &app.token, None)
        .await;
    let (_, alerts) = app
        .call(
            Method::GET,
            &format!(
                "/api/v1/webhooks/{}/deliveries",
                hook["webhook"]["id"].as_str().unwrap_or_default()
            ),
            &app.token,
            None,
        )
        .await;
    assert!(
        failing["items"][0]["failing_since"].is_string(),
        "{failing}"
    );
    assert!(
        failing["items"][0]["alerted_at"].is_string(),
        "failing for an hour is an alert"
    );
    let alerts = alerts["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(alerts.len(), 1, "one alert for the stretch: {alerts:?}");
    assert_eq!(alerts[0]["payload"]["data"]["connector"], "servicenow");
    assert_eq!(
        stand_in.notes(INCIDENT).len(),
        1,
        "nothing arrived while down"
    );

    // Back: at the next retry each arrives once, in the order written.
    stand_in.set_down(false);
    for minute in 71..=130 {
        app.deliverer
            .run_once(minutes(start, minute))
            .await
            .expect("round");
    }
    let notes = stand_in.notes(INCIDENT);
    assert_eq!(notes.len(), 3, "{notes:?}");
    assert!(notes[1].contains("sn-2"), "{}", notes[1]);
    assert!(notes[2].contains("Outlook password prompt fixed with a new mail profile"));
    assert!(
        notes[2].contains("Edited") && notes[2].contains("Admin") && notes[2].contains("Ana Souza"),
        "the editor and the supporter by name: {}",
        notes[2]
    );
    assert_eq!(
        delivered_to(&stand_in, &format!("/api/now/table/incident/{INCIDENT}")),
        3,
        "each push arrived once"
    );
    let pushes = deliveries(&app, "servicenow").await;
    let late = push_of(&pushes, "summary.created", "sn-2");
    let attempts = late["attempts"].as_array().cloned().unwrap_or_default();
    assert_eq!(late["state"], "delivered");
    assert!(attempts.len() >= 7, "retried with backoff: {attempts:?}");
    assert_eq!(attempts[0]["status"], 503);
    assert!(attempts[0]["answer"]
        .as_str()
        .is_some_and(|answer| answer.contains("down for maintenance")));
    assert_eq!(
        attempts.last().map(|attempt| attempt["status"].clone()),
        Some(json!(200))
    );
    let (_, recovered) = app
        .call(Method::GET, "/api/v1/connectors", &app.token, None)
        .await;
    assert_eq!(
        (
            &recovered["items"][0]["failing_since"],
            &recovered["items"][0]["alerted_at"]
        ),
        (&Value::Null, &Value::Null)
    );

    // No ticket: a new incident, and the session's edit and deletion note go into it.
    session(&app, &app.token, "sn-3", None).await;
    app.summarize_now().await;
    edit(&app, "sn-3", "Printer queue cleared").await;
    delete(&app, "sn-3").await;
    let later = Utc::now() + TimeDelta::hours(2);
    app.deliverer.run_once(later).await.expect("round");
    let opened: Vec<(String, ticketing::Record)> = stand_in
        .state()
        .incidents
        .iter()
        .filter(|(id, _)| ![INCIDENT, OTHER_INCIDENT].contains(&id.as_str()))
        .map(|(id, record)| (id.clone(), record.clone()))
        .collect();
    assert_eq!(opened.len(), 1, "one incident opened: {opened:?}");
    let (_, incident) = &opened[0];
    assert_eq!(incident.notes.len(), 3, "{:?}", incident.notes);
    assert!(incident.notes[0].contains("sn-3"));
    assert!(incident.notes[1].contains("Printer queue cleared"));
    assert_eq!(
        incident.notes[2],
        "The Debrief summary of session sn-3 was deleted."
    );

    // An incident ServiceNow does not know: refused for good at once, sent again by hand.
    session(
        &app,
        &app.token,
        "sn-4",
        Some("0123456789abcdef0123456789abcdef"),
    )
    .await;
    app.summarize_now().await;
    app.deliverer.run_once(later).await.expect("round");
    app.deliverer
        .run_once(later + TimeDelta::hours(3))
        .await
        .expect("round");
    let pushes = deliveries(&app, "servicenow").await;
    let unknown = push_of(&pushes, "summary.created", "sn-4");
    assert_eq!(unknown["state"], "failed");
    assert_eq!(
        unknown["attempts"].as_array().map(Vec::len),
        Some(1),
        "not retried"
    );
    assert_eq!(unknown["attempts"][0]["status"], 404);
    assert!(unknown["attempts"][0]["error"]
        .as_str()
        .is_some_and(|error| error.contains("404") && error.contains("No Record found")));
    let (redelivered, _) = app
        .call(
            Method::POST,
            &format!(
                "/api/v1/connectors/servicenow/deliveries/{}/redeliver",
                unknown["id"]
            ),
            &app.token,
            None,
        )
        .await;
    assert_eq!(redelivered, 202);
    app.deliverer
        .run_once(Utc::now() + TimeDelta::seconds(1))
        .await
        .expect("round");
    let pushes = deliveries(&app, "servicenow").await;
    let again = push_of(&pushes, "summary.created", "sn-4");
    assert_eq!(
        (
            again["state"].as_str(),
            again["attempts"].as_array().map(Vec::len)
        ),
        (Some("failed"), Some(2))
    );

    // By hand, through the same line: into the session's incident, or one named.
    let (pushed, delivery) = app
        .call(
            Method::POST,
            "/api/v1/sessions/sn-2/summary/push",
            &app.token,
            Some(json!({"connector": "servicenow"})),
        )
        .await;
    assert_eq!(
        (pushed, delivery["state"].as_str()),
        (200, Some("delivered")),
        "{delivery}"
    );
    assert_eq!(stand_in.notes(INCIDENT).len(), 4);
    let (named, _) = app
        .call(
            Method::POST,
            "/api/v1/sessions/sn-2/summary/push",
            &app.token,
            Some(json!({"connector": "servicenow", "ticket": OTHER_INCIDENT})),
        )
        .await;
    assert_eq!(named, 200);
    assert_eq!(stand_in.notes(OTHER_INCIDENT).len(), 1);

    // Another company sees none of it.
    let globex = app.other_company("globex").await;
    let (theirs, _) = app
        .call(
            Method::GET,
            "/api/v1/connectors/servicenow/deliveries",
            &globex,
            None,
        )
        .await;
    let (their_list, listed) = app
        .call(Method::GET, "/api/v1/connectors", &globex, None)
        .await;
    assert_eq!(theirs, 404);
    assert_eq!(
        (their_list, listed["items"].as_array().map(Vec::len)),
        (200, Some(0))
    );
    let stored = app
        .store
        .connector(
            &app.store.company_by_name("acme").await.expect("acme").id,
            "servicenow",
        )
        .await
        .expect("read")
        .expect("set");
    assert!(
        !stored.settings.contains("\"pw\""),
        "the password is sealed at rest"
    );
    app.stop().await;
}

#[tokio::test]
async fn salesforce_cases_get_comments_new_cases_and_credentials_are_checked_when_saved() {
    let app = TestApp::spawn().await;
    app.enable_insights(&app.token).await;
    let stand_in = ticketing::start().await;
    let salesforce = |token: &str, base: &str| {
        json!({"kind": "salesforce", "instance_url": base, "access_token": token,
               "events": ["summary.created", "summary.updated"], "when_no_ticket": "create"})
    };
    let put = |body: Value| {
        let app = &app;
        async move {
            app.call(
                Method::PUT,
                "/api/v1/connectors/salesforce",
                &app.token,
                Some(body),
            )
            .await
        }
    };
    let (expired, refusal) = put(salesforce("expired", &stand_in.base)).await;
    let (nowhere, unreachable) = put(salesforce(SALESFORCE_TOKEN, "http://127.0.0.1:9")).await;
    let (bad_event, event_refusal) =
        put(json!({"kind": "salesforce", "instance_url": stand_in.base,
        "access_token": SALESFORCE_TOKEN, "events": ["summary.created", "summary.exploded"]}))
        .await;
    let (_, nothing) = app
        .call(Method::GET, "/api/v1/connectors", &app.token, None)
        .await;
    assert_eq!(
        (expired, refusal["details"]["field"].as_str()),
        (422, Some("access_token"))
    );
    assert!(refusal["message"]
        .as_str()
        .is_some_and(|message| message.contains("401") && message.contains("INVALID_SESSION_ID")));
    assert_eq!(
        (nowhere, unreachable["details"]["field"].as_str()),
        (422, Some("instance_url"))
    );
    assert_eq!(
        (bad_event, event_refusal["details"]["field"].as_str()),
        (422, Some("events[1]"))
    );
    assert_eq!(nothing["items"], json!([]), "nothing was saved");

    let (saved, connector) = put(salesforce(SALESFORCE_TOKEN, &stand_in.base)).await;
    assert_eq!(
        (saved, connector["check"]["status"].as_u64()),
        (200, Some(200)),
        "{connector}"
    );
    session(&app, &app.token, "sf-1", Some(CASE)).await;
    session(&app, &app.token, "sf-2", None).await;
    app.summarize_now().await;
    edit(&app, "sf-2", "VPN client reinstalled").await;
    delete(&app, "sf-1").await;
    app.deliverer
        .run_once(Utc::now() + TimeDelta::seconds(1))
        .await
        .expect("round");

    assert_eq!(
        stand_in.notes(CASE).len(),
        1,
        "sf-1's summary; deletions are not pushed"
    );
    assert!(stand_in.notes(CASE)[0].contains("sf-1"));
    let opened: Vec<ticketing::Record> = stand_in
        .state()
        .cases
        .iter()
        .filter(|(id, _)| id.as_str() != CASE)
        .map(|(_, record)| record.clone())
        .collect();
    assert_eq!(opened.len(), 1, "{opened:?}");
    assert_eq!(
        opened[0].notes.len(),
        2,
        "the description, then the edit's comment"
    );
    assert!(opened[0].notes[1].contains("VPN client reinstalled"));
    let pushes = deliveries(&app, "salesforce").await;
    assert_eq!(pushes.len(), 3);
    assert!(
        pushes.iter().all(|push| push["state"] == "delivered"),
        "{pushes:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn tickets_cannot_point_a_push_at_another_record_or_add_a_query() {
    let app = TestApp::spawn().await;
    app.enable_insights(&app.token).await;
    let stand_in = ticketing::start().await;
    let (servicenow, _) = connect_servicenow(&app, &app.token, &stand_in, json!({})).await;
    let (salesforce, _) = app
        .call(
            Method::PUT,
            "/api/v1/connectors/salesforce",
            &app.token,
            Some(json!({"kind": "salesforce", "instance_url": stand_in.base, "access_token": SALESFORCE_TOKEN})),
        )
        .await;
    assert_eq!((servicenow, salesforce), (200, 200));
    // A session that carries a hostile ticket itself.
    let hostile_carried = "../../sys_user/6816f79cc0a8016401c5a33be04be441?sysparm_fields=roles";
    session(&app, &app.token, "tk-evil", Some(hostile_carried)).await;
    app.summarize_now().await;
    app.deliverer
        .run_once(Utc::now() + TimeDelta::seconds(1))
        .await
        .expect("round");

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
        // The push the summary made by itself was set aside without a request.
        let pushes = deliveries(&app, connector).await;
        let pushed = push_of(&pushes, "summary.created", "tk-evil");
        assert_eq!(pushed["state"], "skipped", "{pushed}");
        assert_eq!(pushed["attempts"][0]["status"], Value::Null);
    }
    let (bad_version, _) = app
        .call(
            Method::PUT,
            "/api/v1/connectors/salesforce",
            &app.token,
            Some(
                json!({"kind": "salesforce", "instance_url": stand_in.base, "access_token": "t",
                        "api_version": "v59.0/sobjects/User"}),
            ),
        )
        .await;
    let (bad_instance, _) = connect_servicenow(
        &app,
        &app.token,
        &stand_in,
        json!({"instance_url": format!("{}/?x=1", stand_in.base)}),
    )
    .await;

    assert_eq!((bad_version, bad_instance), (422, 422));
    let log = stand_in.state().log.clone();
    assert!(
        log.iter().all(|(method, _, _)| method == "GET"),
        "the stand-in received only the two test calls: {log:?}"
    );
    assert_eq!(log.len(), 2, "{log:?}");
    app.stop().await;
}

/// What does not belong is refused by name: internal addresses (unless the operator allows
/// them), redirects, unknown or mistyped fields, control characters in credentials, another
/// connector's delivery; a ticket of the other system is skipped, not counted as a failure.
#[tokio::test]
async fn internal_targets_redirects_and_stray_fields_are_refused_by_name() {
    let guarded = TestApp::builder().with_public_targets_only().spawn().await;
    let stand_in = ticketing::start().await;
    let (internal, refusal) =
        connect_servicenow(&guarded, &guarded.token, &stand_in, json!({})).await;
    let (hook, hook_refusal) = guarded
        .call(
            Method::POST,
            "/api/v1/webhooks",
            &guarded.token,
            Some(json!({"url": "http://169.254.169.254/latest/meta-data", "events": ["summary.created"]})),
        )
        .await;
    assert_eq!(
        (internal, refusal["details"]["field"].as_str()),
        (422, Some("instance_url")),
        "{refusal}"
    );
    assert_eq!(
        (hook, hook_refusal["details"]["field"].as_str()),
        (422, Some("url"))
    );
    guarded.stop().await;

    let app = TestApp::spawn().await;
    app.enable_insights(&app.token).await;
    // A redirect to the stand-in is not followed: the test call fails on the redirect itself.
    let target = format!("{}/api/now/table/incident", stand_in.base);
    let redirector = crate::util::spawn_stand_in(axum::Router::new().fallback(move || {
        let target = target.clone();
        async move { axum::response::Redirect::temporary(&target) }
    }))
    .await;
    let (redirected, answer) = app
        .call(
            Method::PUT,
            "/api/v1/connectors/servicenow",
            &app.token,
            Some(json!({"kind": "servicenow", "instance_url": redirector, "username": "admin", "password": "pw"})),
        )
        .await;
    assert_eq!(
        (redirected, answer["details"]["field"].as_str()),
        (422, Some("instance_url")),
        "{answer}"
    );
    assert!(
        stand_in.state().log.is_empty(),
        "the redirect was not followed"
    );
    for (extra, field) in [
        (json!({"bogus": 1}), "bogus"),
        (json!({"when_no_ticket": "maybe"}), "when_no_ticket"),
        (json!({"when_no_ticket": null}), "when_no_ticket"),
        (json!({"username": 123}), "username"),
        (json!({"password": "pw\nX-Injected: 1"}), "password"),
        (json!({"kind": "jira"}), "kind"),
    ] {
        let (status, answer) = connect_servicenow(&app, &app.token, &stand_in, extra.clone()).await;
        assert_eq!(
            (status, answer["details"]["field"].as_str()),
            (422, Some(field)),
            "{extra}: {answer}"
        );
    }

    // Both connectors; a ServiceNow ticket is no Salesforce case: skipped, not failing.
    let (servicenow, _) = connect_servicenow(&app, &app.token, &stand_in, json!({})).await;
    let (salesforce, _) = app
        .call(
            Method::PUT,
            "/api/v1/connectors/salesforce",
            &app.token,
            Some(json!({"kind": "salesforce", "instance_url": stand_in.base, "access_token": SALESFORCE_TOKEN})),
        )
        .await;
    assert_eq!((servicenow, salesforce), (200, 200));
    session(&app, &app.token, "both-1", Some(INCIDENT)).await;
    app.summarize_now().await;
    app.deliverer
        .run_once(Utc::now() + TimeDelta::seconds(1))
        .await
        .expect("round");
    let salesforce_pushes = deliveries(&app, "salesforce").await;
    let skipped = push_of(&salesforce_pushes, "summary.created", "both-1");
    assert_eq!(skipped["state"], "skipped");
    let (_, listed) = app
        .call(Method::GET, "/api/v1/connectors", &app.token, None)
        .await;
    assert!(
        listed["items"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|connector| connector["failing_since"].is_null()),
        "{listed}"
    );
    assert_eq!(stand_in.notes(INCIDENT).len(), 1, "ServiceNow got it");
    // Salesforce's delivery is not ServiceNow's to send again.
    let (crossed, _) = app
        .call(
            Method::POST,
            &format!(
                "/api/v1/connectors/servicenow/deliveries/{}/redeliver",
                skipped["id"]
            ),
            &app.token,
            None,
        )
        .await;
    assert_eq!(crossed, 404);
    app.stop().await;
}

/// Two servers, each with its own deliverer and connection pool, on one PostgreSQL database
/// deliver two companies' pushes (a summary and its edit for each of ten sessions) side by side:
/// each arrives once, in the order written.
#[tokio::test]
#[ignore = "needs PostgreSQL (DEBRIEF_TEST_DATABASE_URL)"]
async fn two_servers_on_one_postgres_deliver_each_push_once() {
    let app = TestApp::builder().on_postgres().spawn().await;
    let globex = app.other_company("globex").await;
    let stand_in = ticketing::start().await;
    let companies = [(app.token.clone(), INCIDENT), (globex, OTHER_INCIDENT)];
    for (token, incident) in &companies {
        app.enable_insights(token).await;
        let (saved, answer) = connect_servicenow(&app, token, &stand_in, json!({})).await;
        assert_eq!(saved, 200, "{answer}");
        // Ten sessions: the premium tier's free credits of the month.
        for number in 0..10 {
            session(
                &app,
                token,
                &format!("pg-{number}-{incident}"),
                Some(incident),
            )
            .await;
        }
    }
    while app.summarize_now().await > 0 {}
    for (token, incident) in &companies {
        for number in 0..10 {
            let id = format!("pg-{number}-{incident}");
            let (status, _) = app
                .call(
                    Method::PATCH,
                    &format!("/api/v1/sessions/{id}/summary"),
                    token,
                    Some(json!({"title": format!("edited {id}")})),
                )
                .await;
            assert_eq!(status, 200);
        }
    }
    let second = debrief_workflows::webhooks::Deliverer::new(
        debrief_store::connect(&app.database_url())
            .await
            .expect("second pool"),
        Arc::clone(&app.metrics),
        Some(debrief_workflows::secrets::SecretBox::from_hex(TEST_SECRET_KEY).expect("key")),
        debrief_workflows::outbound::Reach::Any,
    )
    .expect("deliverer");
    let now = Utc::now() + TimeDelta::seconds(1);
    let mut sent = 0;
    loop {
        let (first, other) = tokio::join!(app.deliverer.run_once(now), second.run_once(now));
        let round = first.expect("round") + other.expect("round");
        sent += round;
        if round == 0 {
            break;
        }
    }
    assert_eq!(sent, 40, "each push sent once");
    for (token, incident) in &companies {
        let (_, listed) = app
            .call(
                Method::GET,
                "/api/v1/connectors/servicenow/deliveries",
                token,
                None,
            )
            .await;
        let mut written: Vec<(i64, String, String)> = listed["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|push| {
                assert_eq!(push["state"], "delivered");
                assert_eq!(push["attempts"].as_array().map(Vec::len), Some(1));
                (
                    push["id"].as_i64().unwrap_or_default(),
                    push["event"].as_str().unwrap_or_default().to_string(),
                    push["payload"]["data"]["session_id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                )
            })
            .collect();
        written.sort();
        let notes = stand_in.notes(incident);
        assert_eq!((written.len(), notes.len()), (20, 20));
        for ((_, event, session), note) in written.iter().zip(&notes) {
            assert!(
                note.contains(&format!("Session {session} ·")),
                "in the order written: {session} in {note}"
            );
            assert_eq!(
                note.contains(&format!("edited {session}")),
                event == "summary.updated",
                "{note}"
            );
        }
    }
    app.stop().await;
}
