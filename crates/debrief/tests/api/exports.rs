//! Exports through the API and the command line: the formats, the labels' language, the
//! filters, and another company's sessions staying out.

use reqwest::Method;
use serde_json::json;

use crate::util::{session_json, TestApp};

async fn company_with_summaries(app: &TestApp) {
    app.enable_insights(&app.token).await;
    for (id, text) in [
        ("ex-1", "Outlook keeps asking for my password"),
        ("ex-2", "The printer on floor 2 is offline"),
        ("ex-3", "My VPN disconnects every few minutes"),
    ] {
        let mut session = session_json(id);
        session["turns"] = json!([{"speaker": "customer", "text": text}]);
        app.call(Method::POST, "/api/v1/sessions", &app.token, Some(session))
            .await;
    }
    app.summarize_now().await;
}

async fn export(app: &TestApp, token: &str, body: serde_json::Value) -> (u16, String, String) {
    let response = app
        .client
        .post(format!("{}/api/v1/exports", app.address))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("answered");
    let status = response.status().as_u16();
    let content_type = crate::util::content_type(&response);
    let bytes = response.bytes().await.expect("body");
    (
        status,
        content_type,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

#[tokio::test]
async fn summaries_export_in_each_format_with_labels_in_the_language() {
    let app = TestApp::spawn().await;
    company_with_summaries(&app).await;
    let globex = app.other_company("globex").await;

    let (markdown, markdown_type, markdown_text) = export(
        &app,
        &app.token,
        json!({"format": "markdown", "language": "de"}),
    )
    .await;
    let (_, html_type, html_text) = export(
        &app,
        &app.token,
        json!({"format": "html", "language": "pt-BR", "session_ids": ["ex-2"]}),
    )
    .await;
    let (_, _, csv_text) =
        export(&app, &app.token, json!({"format": "csv", "language": "fr"})).await;
    let (_, _, json_text) = export(
        &app,
        &app.token,
        json!({"format": "json", "issue_type": "printing"}),
    )
    .await;
    let (pdf, pdf_type, pdf_text) =
        export(&app, &app.token, json!({"format": "pdf", "language": "es"})).await;
    let (missing, _, missing_body) = export(
        &app,
        &app.token,
        json!({"format": "json", "session_ids": ["ex-1", "nope"]}),
    )
    .await;
    let (foreign, _, _) = export(
        &app,
        &globex,
        json!({"format": "json", "session_ids": ["ex-1"]}),
    )
    .await;
    let (_, _, theirs) = export(&app, &globex, json!({"format": "json"})).await;
    let (bad_language, _, _) = export(
        &app,
        &app.token,
        json!({"format": "json", "language": "tlh"}),
    )
    .await;
    let (bad_format, _, _) = export(&app, &app.token, json!({"format": "docx"})).await;
    // The summary list's filters: words and supporter, as the insights page sends them.
    let (_, _, searched) = export(
        &app,
        &app.token,
        json!({"format": "json", "q": "printer OFFLINE", "supporter": "u-17"}),
    )
    .await;
    let (_, _, nobody) = export(
        &app,
        &app.token,
        json!({"format": "json", "supporter": "u-nobody"}),
    )
    .await;

    assert_eq!(markdown, 200);
    assert!(markdown_type.starts_with("text/markdown"));
    assert!(
        markdown_text.starts_with("# Sitzungszusammenfassungen"),
        "{markdown_text}"
    );
    assert!(markdown_text.contains("**Beteiligte Anwendungen:** Microsoft Outlook"));
    assert_eq!(markdown_text.matches("## ").count(), 3);
    assert!(html_type.starts_with("text/html"));
    assert!(html_text.contains("<h1>Resumos de sessões</h1>") && html_text.contains("ex-2"));
    assert!(!html_text.contains("ex-1"));
    assert!(
        csv_text.starts_with("Session,Technicien,Début,Titre,Résumé,Problème"),
        "{csv_text}"
    );
    assert!(
        csv_text.contains("ex-2,Ana Souza,2026-11-20T10:00:00+00:00,"),
        "each row names the supporter and the start: {csv_text}"
    );
    assert_eq!(csv_text.lines().count(), 4);
    let exported: serde_json::Value = serde_json::from_str(&json_text).expect("json");
    assert_eq!(
        exported["summaries"].as_array().map(Vec::len),
        Some(1),
        "only the printing summary: {json_text}"
    );
    assert_eq!(
        exported["language"], "en",
        "the company's language by default"
    );
    if find_font() {
        assert_eq!((pdf, pdf_type.as_str()), (200, "application/pdf"));
        assert!(pdf_text.starts_with("%PDF-"));
    }
    assert_eq!(missing, 422);
    assert!(missing_body.contains("session_ids[1]"), "{missing_body}");
    assert_eq!(foreign, 422, "another company's session is not there");
    let theirs: serde_json::Value = serde_json::from_str(&theirs).expect("json");
    assert_eq!(theirs["summaries"], json!([]));
    assert_eq!((bad_language, bad_format), (422, 422));
    let searched: serde_json::Value = serde_json::from_str(&searched).expect("json");
    let ids: Vec<&str> = searched["summaries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|summary| summary["id"].as_str())
        .collect();
    assert_eq!(ids, ["ex-2"], "{searched}");
    assert_eq!(searched["summaries"][0]["supporter"], "Ana Souza");
    let nobody: serde_json::Value = serde_json::from_str(&nobody).expect("json");
    assert_eq!(nobody["summaries"], json!([]));
    app.stop().await;
}

fn find_font() -> bool {
    debrief_export::find_system_font(None).is_ok()
}
