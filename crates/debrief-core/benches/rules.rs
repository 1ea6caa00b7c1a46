//! The pure rule engines alone, without file I/O: automated-resolution verdicts and billing
//! replay. Run with `cargo bench -p debrief-core`.

use chrono::{DateTime, Utc};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use debrief_core::billing::{simulate, TimedEvent};
use debrief_core::resolution::{evaluate, Conversation};

/// Ten-event conversations of every agent kind, the shape `debrief bench conversations` writes.
fn conversations() -> Vec<String> {
    let agents = [
        ("messaging_ai_agent", "handled_by_ai"),
        ("advanced_chat_agent", "handled_by_ai"),
        ("advanced_ticket_agent", "replied"),
        ("autoreply_articles", "solved"),
        ("autoreply_triage", "open"),
        ("web_widget_classic", "open"),
    ];
    let events = [
        r#"{"type": "message", "from": "end_user", "text": "How do I reset my password?"}"#,
        r#"{"type": "message", "from": "ai_agent", "text": "Open Settings > Security and choose Reset password."}"#,
        r#"{"type": "article_shared", "article": "kb-12", "via": "recommendation"}"#,
        r#"{"type": "article_click", "article": "kb-12"}"#,
        r#"{"type": "feedback", "value": "positive"}"#,
    ];
    (0..600)
        .map(|index| {
            let (agent, status) = agents[index % agents.len()];
            let list: Vec<String> = (0..10)
                .map(|position| {
                    let template = events[(index + position * 7) % events.len()];
                    format!(
                        r#"{{"at": "2026-06-01T09:{:02}:00Z", {}"#,
                        position * 3,
                        &template[1..]
                    )
                })
                .collect();
            format!(
                r#"{{"id": "c-{index}", "agent": "{agent}", "status": "{status}", "events": [{}]}}"#,
                list.join(",")
            )
        })
        .collect()
}

fn resolution_rules(criterion: &mut Criterion) {
    let texts = conversations();
    let parsed: Vec<Conversation> = texts
        .iter()
        .map(|text| Conversation::parse_json(text).expect("valid"))
        .collect();
    let as_of: DateTime<Utc> = "2026-07-01T00:00:00Z".parse().expect("time");
    let mut group = criterion.benchmark_group("resolutions");
    group.throughput(Throughput::Elements(parsed.len() as u64));
    group.bench_function("evaluate", |bench| {
        bench.iter(|| {
            parsed
                .iter()
                .map(|conversation| evaluate(conversation, as_of).resolve_with(|| true))
                .filter(|verdict| verdict.decided_at.is_some())
                .count()
        })
    });
    group.bench_function("parse_and_evaluate", |bench| {
        bench.iter(|| {
            texts
                .iter()
                .map(|text| {
                    let conversation = Conversation::parse_json(text).expect("valid");
                    evaluate(&conversation, as_of).resolve_with(|| true)
                })
                .count()
        })
    });
    group.finish();
}

fn billing_rules(criterion: &mut Criterion) {
    let account = r#"{"at": "2025-12-31T23:00:00Z", "type": "account", "time_zone": "Europe/Berlin", "tier": "corporate", "term_start": "2026-01-01", "addon": {"credits": 500, "annual_price": "900.00"}, "out_of_credits": {"mode": "allow_negative", "limit": 50}, "resolutions": {"plan": "professional", "full_seats": 40, "overage_unit_price": "1.50", "at_limit": "continue", "monthly_cap": 5000}}"#;
    let mut lines = vec![account.to_string()];
    for index in 0..10_000u64 {
        let minute = index * 150;
        let at = format!(
            "2026-{:02}-{:02}T{:02}:{:02}:00Z",
            1 + (minute / (28 * 24 * 60)) % 12,
            1 + (minute / (24 * 60)) % 28,
            (minute / 60) % 24,
            minute % 60
        );
        lines.push(if index % 2 == 0 {
            format!(
                r#"{{"at": "{at}", "type": "ai_action", "session": "s-{}"}}"#,
                index % 3000
            )
        } else {
            format!(r#"{{"at": "{at}", "type": "resolution"}}"#)
        });
    }
    let events: Vec<(u64, TimedEvent)> = lines
        .iter()
        .enumerate()
        .map(|(index, line)| {
            (
                index as u64 + 1,
                TimedEvent::parse_json(line).expect("valid"),
            )
        })
        .collect();
    let mut group = criterion.benchmark_group("billing");
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function("simulate", |bench| {
        bench.iter(|| simulate(events.clone()).expect("simulates").len())
    });
    group.finish();
}

criterion_group!(benches, resolution_rules, billing_rules);
criterion_main!(benches);
