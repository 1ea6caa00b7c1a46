use serde_json::{json, Value};

use crate::util::{json_of, session_json, TestApp};

#[tokio::test]
async fn posting_the_same_session_twice_stores_it_once() {
    let app = TestApp::spawn().await;
    let session = session_json("tv-1");

    let (first_status, first) = json_of(
        app.post_json("/api/v1/sessions", &app.token, &session)
            .send()
            .await,
    )
    .await;
    let (second_status, second) = json_of(
        app.post_json("/api/v1/sessions", &app.token, &session)
            .send()
            .await,
    )
    .await;
    let (get_status, stored) =
        json_of(app.get("/api/v1/sessions/tv-1", &app.token).send().await).await;
    let (_, list) = json_of(app.get("/api/v1/sessions", &app.token).send().await).await;

    assert_eq!(
        (first_status, first["status"].as_str()),
        (201, Some("stored"))
    );
    assert_eq!(
        (second_status, second["status"].as_str()),
        (200, Some("duplicate"))
    );
    assert_eq!(get_status, 200);
    assert_eq!(stored["id"], "tv-1");
    assert_eq!(stored["events"][0]["app"], "OUTLOOK.EXE");
    assert!(stored["received_at"].is_string());
    assert_eq!(list["total"], 1);
    app.stop().await;
}

#[tokio::test]
async fn a_batch_answers_per_record_and_keeps_the_valid_ones() {
    let app = TestApp::spawn().await;
    let mut bad_platform = session_json("bad-1");
    bad_platform["device"]["platform"] = json!("beos");
    let batch = json!([session_json("ok-1"), bad_platform, session_json("ok-1"), {"channel": "chat"}, session_json("ok-2")]);

    let (status, body) = json_of(
        app.post_json("/api/v1/sessions", &app.token, &batch)
            .send()
            .await,
    )
    .await;

    assert_eq!(status, 200);
    assert_eq!(
        (
            body["counts"]["stored"].as_u64(),
            body["counts"]["duplicate"].as_u64(),
            body["counts"]["rejected"].as_u64()
        ),
        (Some(2), Some(1), Some(2))
    );
    let results = body["results"].as_array().expect("results");
    let statuses: Vec<&str> = results
        .iter()
        .map(|r| r["status"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        statuses,
        ["stored", "rejected", "duplicate", "rejected", "stored"]
    );
    assert_eq!(results[1]["field"], "device.platform");
    assert_eq!(results[1]["id"], "bad-1");
    assert_eq!(results[3]["field"], "id");
    let (missing, _) = json_of(app.get("/api/v1/sessions/bad-1", &app.token).send().await).await;
    assert_eq!(missing, 404);
    let (_, list) = json_of(app.get("/api/v1/sessions", &app.token).send().await).await;
    assert_eq!(list["total"], 2);
    app.stop().await;
}

#[tokio::test]
async fn malformed_json_is_a_400_naming_line_and_column() {
    let app = TestApp::spawn().await;

    let (status, body) = json_of(
        app.post_raw(
            "/api/v1/sessions",
            &app.token,
            "[\n  {\"id\": \"a\"},\n  {\"id\": }\n]",
        )
        .send()
        .await,
    )
    .await;

    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("malformed_json"))
    );
    assert_eq!(
        (
            body["details"]["line"].as_u64(),
            body["details"]["column"].as_u64()
        ),
        (Some(3), Some(10))
    );
    assert!(body["message"]
        .as_str()
        .unwrap_or("")
        .contains("line 3 column 10"));
    let (_, list) = json_of(app.get("/api/v1/sessions", &app.token).send().await).await;
    assert_eq!(list["total"], 0, "nothing of a malformed batch is stored");
    app.stop().await;
}

#[tokio::test]
async fn a_wrong_field_is_a_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let mut session = session_json("tv-2");
    session["started_at"] = json!("last tuesday");

    let (status, body) = json_of(
        app.post_json("/api/v1/sessions", &app.token, &session)
            .send()
            .await,
    )
    .await;
    let (missing_status, missing) = json_of(
        app.post_json("/api/v1/sessions", &app.token, &json!({"turns": []}))
            .send()
            .await,
    )
    .await;

    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("invalid_field"))
    );
    assert_eq!(body["details"]["field"], "started_at");
    assert_eq!(
        (missing_status, missing["details"]["field"].as_str()),
        (422, Some("id"))
    );
    let (get_status, _) = json_of(app.get("/api/v1/sessions/tv-2", &app.token).send().await).await;
    assert_eq!(get_status, 404);
    app.stop().await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413() {
    let app = TestApp::builder().with_max_body_bytes(1_000).spawn().await;
    let big = json!([
        session_json("a"),
        session_json("b"),
        session_json("c"),
        session_json("d"),
        session_json("e")
    ]);

    let (status, body) = json_of(
        app.post_json("/api/v1/sessions", &app.token, &big)
            .send()
            .await,
    )
    .await;
    let (streamed_status, _) = json_of(
        app.post_raw(
            "/api/v1/sessions",
            &app.token,
            reqwest::Body::wrap_stream(futures_stream(big.to_string())),
        )
        .send()
        .await,
    )
    .await;

    assert_eq!(
        (status, body["code"].as_str()),
        (413, Some("payload_too_large"))
    );
    assert_eq!(
        streamed_status, 413,
        "a body without content-length is cut at the limit too"
    );
    let (_, list) = json_of(app.get("/api/v1/sessions", &app.token).send().await).await;
    assert_eq!(list["total"], 0);
    app.stop().await;
}

/// The body as a chunked stream, so that no content-length is sent.
fn futures_stream(
    text: String,
) -> impl futures_core::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = text
        .into_bytes()
        .chunks(500)
        .map(|chunk| Ok(chunk.to_vec()))
        .collect();
    tokio_stream::iter(chunks)
}

#[tokio::test]
async fn a_batch_of_more_than_a_thousand_sessions_is_a_413() {
    let app = TestApp::spawn().await;
    let batch = Value::Array(
        (0..1_001)
            .map(|i| json!({"id": format!("s-{i}")}))
            .collect(),
    );

    let (status, body) = json_of(
        app.post_json("/api/v1/sessions", &app.token, &batch)
            .send()
            .await,
    )
    .await;

    assert_eq!(
        (status, body["code"].as_str()),
        (413, Some("payload_too_large"))
    );
    assert!(body["message"].as_str().unwrap_or("").contains("1000"));
    app.stop().await;
}

#[tokio::test]
async fn listing_pages_with_a_cursor_and_filters() {
    let app = TestApp::spawn().await;
    let batch = Value::Array(
        (0..12)
            .map(|i| {
                let mut session = session_json(&format!("s-{i:02}"));
                session["started_at"] = json!(format!("2026-11-{:02}T10:00:00Z", i + 1));
                if i % 4 == 0 {
                    session["device"]["platform"] = json!("macos");
                    session["supporter"]["id"] = json!("u-mac");
                }
                session
            })
            .collect(),
    );
    app.post_json("/api/v1/sessions", &app.token, &batch)
        .send()
        .await
        .expect("ingest");

    let mut seen = Vec::new();
    let mut path = "/api/v1/sessions?limit=5".to_string();
    loop {
        let (status, page) = json_of(app.get(&path, &app.token).send().await).await;
        assert_eq!((status, page["total"].as_u64()), (200, Some(12)));
        seen.extend(
            page["sessions"]
                .as_array()
                .expect("sessions")
                .iter()
                .map(|s| s["id"].as_str().unwrap_or("").to_string()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/sessions?limit=5&cursor={cursor}"),
            None => break,
        }
    }
    let expected: Vec<String> = (0..12).rev().map(|i| format!("s-{i:02}")).collect();
    assert_eq!(seen, expected, "newest first, each once");

    let (_, filtered) = json_of(
        app.get("/api/v1/sessions?platform=macos&supporter=u-mac&from=2026-11-02T00:00:00Z&to=2026-11-10T00:00:00Z&channel=remote_session", &app.token)
            .send()
            .await,
    )
    .await;
    let ids: Vec<&str> = filtered["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .map(|s| s["id"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(ids, ["s-08", "s-04"]);
    assert_eq!(filtered["total"], 2);

    for bad in [
        "limit=0",
        "limit=abc",
        "from=yesterday",
        "platform=beos",
        "cursor=xyz",
    ] {
        let (status, body) = json_of(
            app.get(&format!("/api/v1/sessions?{bad}"), &app.token)
                .send()
                .await,
        )
        .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("bad_request")),
            "{bad}"
        );
        let name = bad.split('=').next().unwrap_or("");
        assert!(
            body["message"].as_str().unwrap_or("").starts_with(name),
            "{bad}: {body}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_stored_session_gets_its_summary_from_the_background_worker() {
    let app = TestApp::spawn().await;
    app.enable_insights(&app.token).await;
    let mut session = session_json("tv-9");
    session["turns"] = json!([
        {"speaker": "customer", "speaker_name": "Bob", "text": "Hi Ana. Outlook keeps asking for my password."},
        {"speaker": "agent", "speaker_name": "Ana", "text": "I removed the old credential and restarted Outlook."},
        {"speaker": "customer", "speaker_name": "Bob", "text": "It works now, thanks!"}
    ]);
    app.post_json("/api/v1/sessions", &app.token, &session)
        .send()
        .await
        .expect("ingest");
    let globex = app.other_company("globex").await;

    let (pending, waiting) = json_of(
        app.get("/api/v1/sessions/tv-9/summary", &app.token)
            .send()
            .await,
    )
    .await;
    let stored = app.summarize_now().await;
    let again = app.summarize_now().await;
    let (ready, summary) = json_of(
        app.get("/api/v1/sessions/tv-9/summary", &app.token)
            .send()
            .await,
    )
    .await;
    let (foreign, _) = json_of(
        app.get("/api/v1/sessions/tv-9/summary", &globex)
            .send()
            .await,
    )
    .await;

    assert_eq!((pending, waiting["state"].as_str()), (202, Some("pending")));
    assert_eq!((stored, again), (1, 0), "one summary, never two");
    assert_eq!(ready, 200);
    assert_eq!(summary["outcome"], "resolved");
    assert_eq!(summary["applications"], json!(["Microsoft Outlook"]));
    assert_eq!(summary["issue_types"], json!(["email"]));
    assert!(
        summary["summary"]
            .as_str()
            .unwrap_or("")
            .contains("Bob's password"),
        "{summary}"
    );
    assert_eq!(foreign, 404);
    app.stop().await;
}

#[tokio::test]
async fn a_companys_own_taxonomy_tags_its_summaries() {
    let app = TestApp::spawn().await;
    app.enable_insights(&app.token).await;
    let globex = app.other_company("globex").await;
    let put = |token: &str, body: &str| {
        app.client
            .put(format!("{}/api/v1/taxonomy", app.address))
            .bearer_auth(token)
            .body(body.to_string())
    };
    let taxonomy = json!({"issue_types": [
        {"id": "mail-login", "name": "Mail login", "description": "mail password prompts", "examples": ["Outlook asks for my password"]},
        {"id": "hardware-repair", "name": "Hardware repair", "description": "broken devices", "examples": ["the screen is cracked"]}
    ]});

    let (bad, bad_body) = json_of(put(&app.token, r#"{"issue_types": []}"#).send().await).await;
    let (set, _) = json_of(put(&app.token, &taxonomy.to_string()).send().await).await;
    let (_, ours) = json_of(app.get("/api/v1/taxonomy", &app.token).send().await).await;
    let (_, theirs) = json_of(app.get("/api/v1/taxonomy", &globex).send().await).await;
    app.post_json("/api/v1/sessions", &app.token, &session_json("tv-1"))
        .send()
        .await
        .expect("ingest");
    app.summarize_now().await;
    let (_, summary) = json_of(
        app.get("/api/v1/sessions/tv-1/summary", &app.token)
            .send()
            .await,
    )
    .await;
    let removed = app
        .client
        .delete(format!("{}/api/v1/taxonomy", app.address))
        .bearer_auth(&app.token)
        .send()
        .await
        .expect("answered");
    let (_, after) = json_of(app.get("/api/v1/taxonomy", &app.token).send().await).await;

    assert_eq!(
        (bad, bad_body["details"]["field"].as_str()),
        (422, Some("issue_types"))
    );
    assert_eq!(set, 204);
    assert_eq!(
        (
            ours["source"].as_str(),
            ours["issue_types"].as_array().map(Vec::len)
        ),
        (Some("company"), Some(2))
    );
    assert_eq!(
        theirs["source"], "builtin",
        "another company keeps the built-in taxonomy"
    );
    assert_eq!(summary["issue_types"], json!(["mail-login"]));
    assert_eq!(removed.status().as_u16(), 204);
    assert_eq!(after["source"], "builtin");
    app.stop().await;
}

#[tokio::test]
async fn a_companys_own_applications_name_its_processes_and_stay_its_own() {
    let app = TestApp::spawn().await;
    app.enable_insights(&app.token).await;
    let globex = app.other_company("globex").await;
    app.enable_insights(&globex).await;
    let put = |token: &str, body: &str| {
        app.client
            .put(format!("{}/api/v1/applications", app.address))
            .bearer_auth(token)
            .body(body.to_string())
    };
    let ours = json!({"applications": [{"name": "Acme Ledger", "aliases": ["acmeledger.exe", "com.acme.ledger"]}]});
    let session = |id: &str| {
        let mut session = session_json(id);
        session["events"] =
            json!([{"at": "2026-11-20T10:02:00Z", "type": "app_focus", "app": "AcmeLedger.EXE"}]);
        session
    };

    let (bad, bad_body) = json_of(
        put(
            &app.token,
            r#"{"applications": [{"name": "Acme Ledger", "aliases": [""]}]}"#,
        )
        .send()
        .await,
    )
    .await;
    let (set, _) = json_of(put(&app.token, &ours.to_string()).send().await).await;
    let (_, listed) = json_of(app.get("/api/v1/applications", &app.token).send().await).await;
    let (_, theirs) = json_of(app.get("/api/v1/applications", &globex).send().await).await;
    app.post_json("/api/v1/sessions", &app.token, &session("apps-1"))
        .send()
        .await
        .expect("ingest");
    app.post_json("/api/v1/sessions", &globex, &session("apps-2"))
        .send()
        .await
        .expect("ingest");
    app.summarize_now().await;
    let (_, our_summary) = json_of(
        app.get("/api/v1/sessions/apps-1/summary", &app.token)
            .send()
            .await,
    )
    .await;
    let (_, their_summary) = json_of(
        app.get("/api/v1/sessions/apps-2/summary", &globex)
            .send()
            .await,
    )
    .await;

    assert_eq!(
        (bad, bad_body["details"]["field"].as_str()),
        (422, Some("applications[0].aliases[0]"))
    );
    assert_eq!(set, 204);
    assert_eq!(listed["applications"], ours["applications"]);
    assert!(listed["builtin_applications"].as_u64() >= Some(200));
    assert_eq!(theirs["applications"], json!([]));
    assert_eq!(
        our_summary["applications"],
        json!(["Acme Ledger", "Microsoft Outlook"])
    );
    assert_eq!(
        their_summary["applications"],
        json!(["AcmeLedger.EXE", "Microsoft Outlook"]),
        "another company's unknown process keeps its own name"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_summary_is_edited_with_its_history_kept_and_deleted_for_good() {
    use reqwest::Method;
    let app = TestApp::spawn().await;
    app.enable_insights(&app.token).await;
    let globex = app.other_company("globex").await;
    app.post_json("/api/v1/sessions", &app.token, &session_json("ed-1"))
        .send()
        .await
        .expect("ingest");
    app.summarize_now().await;
    let path = "/api/v1/sessions/ed-1/summary";
    let (_, original) = app.call(Method::GET, path, &app.token, None).await;

    let (edited, after) = app
        .call(
            Method::PATCH,
            path,
            &app.token,
            Some(json!({"title": "Outlook credential loop — fixed", "outcome": "resolved"})),
        )
        .await;
    let (again, _) = app
        .call(
            Method::PATCH,
            path,
            &app.token,
            Some(json!({"issue_types": ["email"]})),
        )
        .await;
    let (bad, bad_body) = app
        .call(
            Method::PATCH,
            path,
            &app.token,
            Some(json!({"engine": "mine"})),
        )
        .await;
    let (bad_outcome, _) = app
        .call(
            Method::PATCH,
            path,
            &app.token,
            Some(json!({"outcome": "maybe"})),
        )
        .await;
    let (foreign, _) = app
        .call(Method::PATCH, path, &globex, Some(json!({"title": "x"})))
        .await;
    let (_, current) = app.call(Method::GET, path, &app.token, None).await;
    let (_, revisions) = app
        .call(
            Method::GET,
            "/api/v1/sessions/ed-1/summary/revisions",
            &app.token,
            None,
        )
        .await;
    let (deleted, _) = app.call(Method::DELETE, path, &app.token, None).await;
    app.summarize_now().await;
    let (gone, gone_body) = app.call(Method::GET, path, &app.token, None).await;
    let (_, revisions_after) = app
        .call(
            Method::GET,
            "/api/v1/sessions/ed-1/summary/revisions",
            &app.token,
            None,
        )
        .await;
    let (session, _) = app
        .call(Method::GET, "/api/v1/sessions/ed-1", &app.token, None)
        .await;

    assert_eq!(edited, 200);
    assert_eq!(after["title"], "Outlook credential loop — fixed");
    assert_eq!(
        after["engine"], original["engine"],
        "where it came from stays"
    );
    assert_eq!(again, 200);
    assert_eq!(
        (bad, bad_body["details"]["field"].as_str()),
        (422, Some("engine"))
    );
    assert_eq!(bad_outcome, 422);
    assert_eq!(foreign, 404);
    assert_eq!(current["issue_types"], json!(["email"]));
    assert_eq!(current["title"], "Outlook credential loop — fixed");
    assert!(current["edited"]["by"].is_string() && current["edited"]["at"].is_string());
    let items = revisions["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 2);
    assert_eq!(
        items[0]["replaced"], original,
        "the original stays retrievable"
    );
    assert_eq!(
        items[1]["replaced"]["title"],
        "Outlook credential loop — fixed"
    );
    assert_eq!(deleted, 204);
    assert_eq!((gone, gone_body["state"].as_str()), (410, Some("deleted")));
    assert_eq!(
        revisions_after["items"],
        json!([]),
        "deleting is final for the text"
    );
    assert_eq!(session, 200, "the session itself stays");
    app.stop().await;
}
