//! Every reader of outside input — sessions, conversations, billing timelines (and the
//! simulator that replays them) — answers any text with a value or an error, never a panic:
//! arbitrary text, and valid records broken by random edits (the inputs a fuzzer finds first).
//! The same readers have cargo-fuzz targets in `fuzz/`.

use debrief_core::billing::{simulate, TimedEvent};
use debrief_core::resolution::{evaluate, Conversation, ConversationDocument};
use debrief_core::Session;
use proptest::prelude::*;

const SESSION: &str = r#"{"id": "s-1", "channel": "remote_session", "direction": "outgoing",
 "started_at": "2026-11-20T10:00:00Z", "ended_at": "2026-11-20T11:30:00+01:00",
 "supporter": {"id": "u-17", "name": "Ana"}, "remote_user": {"name": "Bob"},
 "device": {"id": "d-1", "platform": "windows", "managed": true, "policy": "p-1"},
 "module": {"id": "m-1", "custom": true}, "consent": "allowed", "ticket": "INC1",
 "turns": [{"speaker": "customer", "speaker_name": "Bob", "text": "Outlook crashes"},
           {"speaker": "agent", "text": "Fixed, \u00e9 \ud83d\ude00"}],
 "events": [{"at": "2026-11-20T10:05:00Z", "type": "command", "command": "sfc /scannow"}]}"#;

const CONVERSATION: &str = r#"{"id": "c-1", "agent": "advanced_chat_agent", "channel": "web",
 "status": "closed", "session_duration_hours": 24,
 "events": [{"at": "2026-11-20T10:00:00Z", "type": "message", "role": "end_user", "text": "hi"},
            {"at": "2026-11-20T10:01:00Z", "type": "message", "role": "ai_agent", "text": "hello"},
            {"at": "2026-11-20T10:02:00Z", "type": "article_shared", "article_id": "a-1"},
            {"at": "2026-11-20T10:03:00Z", "type": "escalated"}]}"#;

const TIMELINE: [&str; 5] = [
    r#"{"at": "2026-01-10T09:00:00Z", "type": "account", "time_zone": "Europe/Berlin", "tier": "premium", "term_start": "2026-01-01", "addon": {"credits": 120, "annual_price": "365.00"}, "out_of_credits": {"mode": "stop"}, "resolutions": {"plan": "team", "full_seats": 2, "overage_unit_price": "1.50", "at_limit": "continue"}}"#,
    r#"{"at": "2026-01-10T10:00:00Z", "type": "ai_action", "session": "s1"}"#,
    r#"{"at": "2026-01-10T10:05:00Z", "type": "ai_action", "session": "s1"}"#,
    r#"{"at": "2026-01-11T10:00:00Z", "type": "resolution"}"#,
    r#"{"at": "2026-02-11T10:00:00Z", "type": "resolution"}"#,
];

/// `seed` with `edits` applied: each deletes, duplicates or replaces one character.
fn mutated(seed: &str, edits: &[(usize, u8, char)]) -> String {
    let mut chars: Vec<char> = seed.chars().collect();
    for (position, kind, replacement) in edits {
        if chars.is_empty() {
            chars.push(*replacement);
            continue;
        }
        let at = position % chars.len();
        match kind % 3 {
            0 => {
                chars.remove(at);
            }
            1 => chars.insert(at, *replacement),
            _ => chars[at] = *replacement,
        }
    }
    chars.into_iter().collect()
}

fn edits() -> impl Strategy<Value = Vec<(usize, u8, char)>> {
    let replacement = prop_oneof![
        Just('{'),
        Just('}'),
        Just('['),
        Just(']'),
        Just('"'),
        Just(':'),
        Just(','),
        Just('\\'),
        Just('9'),
        Just('-'),
        any::<char>(),
    ];
    proptest::collection::vec((any::<usize>(), any::<u8>(), replacement), 1..8)
}

fn read_conversation(text: &str) {
    if let Ok(conversation) = Conversation::parse_json(text) {
        let _ = evaluate(&conversation, chrono::Utc::now());
    }
    let _ = ConversationDocument::parse(text);
}

fn read_timeline(lines: &[String]) {
    let parsed: Vec<(u64, TimedEvent)> = lines
        .iter()
        .enumerate()
        .filter_map(|(index, line)| Some((index as u64 + 1, TimedEvent::parse_json(line).ok()?)))
        .collect();
    let _ = simulate(parsed);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_broken_session_is_an_error_not_a_panic(edits in edits()) {
        let _ = Session::parse_json(&mutated(SESSION, &edits));
    }

    #[test]
    fn a_broken_conversation_is_an_error_not_a_panic(edits in edits()) {
        read_conversation(&mutated(CONVERSATION, &edits));
    }

    #[test]
    fn a_broken_timeline_is_an_error_not_a_panic(line in 0usize..5, edits in edits()) {
        let mut lines: Vec<String> = TIMELINE.iter().map(|line| line.to_string()).collect();
        lines[line] = mutated(&lines[line], &edits);
        read_timeline(&lines);
    }

    #[test]
    fn any_text_is_read_without_a_panic(text in "\\PC{0,300}") {
        let _ = Session::parse_json(&text);
        read_conversation(&text);
        read_timeline(&[TIMELINE[0].to_string(), text]);
    }
}

/// The seeds are valid records, so that their mutations reach past the first character.
#[test]
fn the_seeds_are_valid_records() {
    Session::parse_json(SESSION).expect("a valid session");
    Conversation::parse_json(CONVERSATION).expect("a valid conversation");
    let lines: Vec<(u64, TimedEvent)> = TIMELINE
        .iter()
        .enumerate()
        .map(|(index, line)| (index as u64 + 1, TimedEvent::parse_json(line).expect(line)))
        .collect();
    let months = simulate(lines).expect("the timeline replays");
    assert!(!months.is_empty());
}
