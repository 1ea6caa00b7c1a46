//! The shared conformance suite of automated-resolution rules (`../shared/conformance/`), under
//! both test judges.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use debrief_core::resolution::{evaluate, rules, Conversation, VerdictKind};
use serde_json::Value;

/// The as-of time of the suite: after every window of the 2026-06-01 cases, inside the
/// windows of the 2026-06-08 ones.
const AS_OF: &str = "2026-06-10T00:00:00Z";

fn cases() -> Vec<(Value, Conversation)> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/conformance/resolutions.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "the conformance suite at {} is readable: {error}",
            path.display()
        )
    });
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let record: Value = serde_json::from_str(line).expect("a case is JSON");
            let conversation =
                Conversation::parse_json(line).expect("a case is a valid conversation");
            (record["expect"].clone(), conversation)
        })
        .collect()
}

fn as_of() -> DateTime<Utc> {
    AS_OF.parse().expect("valid time")
}

#[test]
fn every_case_agrees_under_always_pass() {
    let cases = cases();
    assert!(cases.len() >= 28);
    for (expected, conversation) in cases {
        let verdict = evaluate(&conversation, as_of()).resolve_with(|| true);

        let verdict_json = serde_json::to_value(&verdict).expect("serializes");
        assert_eq!(
            verdict_json["verdict"], expected["verdict"],
            "{}",
            conversation.id
        );
        assert_eq!(
            verdict_json["rule"], expected["rule"],
            "{}",
            conversation.id
        );
        assert_eq!(
            verdict.decided_at.is_none(),
            verdict.verdict == VerdictKind::Pending,
            "{}",
            conversation.id
        );
    }
}

#[test]
fn every_case_agrees_under_always_fail() {
    for (expected, conversation) in cases() {
        let verdict = evaluate(&conversation, as_of()).resolve_with(|| false);

        let (verdict_word, rule) = match (expected["verdict"].as_str(), expected["rule"].as_str()) {
            (Some("counted"), Some("messaging.ai_judged_resolved")) => {
                ("not_counted", rules::MESSAGING_NOT_RESOLVED.as_str())
            }
            (Some("counted"), _) => ("not_counted", rules::LLM_CHECK_FAILED.as_str()),
            (Some(verdict), Some(rule)) => (verdict, rule),
            _ => panic!("case {} has no expectation", conversation.id),
        };
        let verdict_json = serde_json::to_value(&verdict).expect("serializes");
        assert_eq!(verdict_json["verdict"], verdict_word, "{}", conversation.id);
        assert_eq!(verdict_json["rule"], rule, "{}", conversation.id);
    }
}
