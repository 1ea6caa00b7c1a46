//! The built-in engine alone, on generated support sessions of DialogSum size (ten turns):
//! summaries and issue-type tagging. Run with `cargo bench -p debrief-engine`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use debrief_core::Session;
use debrief_engine::summarize::BuiltinEngine;

const CUSTOMER: [&str; 5] = [
    "Hi Ana. Outlook keeps asking for my password since this morning.",
    "My VPN disconnects every ten minutes when I work from home.",
    "The printer on the second floor shows as offline on my computer.",
    "My computer has been extremely slow since Monday, everything takes forever.",
    "In Teams my camera is black, the others can't see me in meetings.",
];
const AGENT: [&str; 5] = [
    "Good morning, I'm sorry about that. Did you change your password recently?",
    "I'll connect to your machine and look at the client logs.",
    "The spooler had a stuck job. I cleared the queue and re-added the printer.",
    "A backup program is using almost all the disk, and the disk is nearly full.",
    "I allowed camera access for Teams and restarted it. Can you start a test call?",
];

fn sessions() -> Vec<Session> {
    (0..500)
        .map(|index| {
            let turns: Vec<serde_json::Value> = (0..10)
                .map(|turn| {
                    let (speaker, name, text) = if turn % 2 == 0 {
                        ("customer", "Bob", CUSTOMER[(index + turn / 2) % CUSTOMER.len()])
                    } else {
                        ("agent", "Ana", AGENT[(index + turn / 2) % AGENT.len()])
                    };
                    serde_json::json!({"speaker": speaker, "speaker_name": name, "text": text})
                })
                .collect();
            let record = serde_json::json!({"id": format!("s-{index}"), "turns": turns,
                "events": [{"at": "2026-11-20T10:00:00Z", "type": "app_focus", "app": "OUTLOOK.EXE"}]});
            Session::parse_json(&record.to_string()).expect("valid session")
        })
        .collect()
}

fn engine(criterion: &mut Criterion) {
    let sessions = sessions();
    let engine = BuiltinEngine::default();
    let texts: Vec<String> = sessions
        .iter()
        .map(|session| session.turns[0].text.clone())
        .collect();
    let mut group = criterion.benchmark_group("engine");
    group.throughput(Throughput::Elements(sessions.len() as u64));
    group.bench_function("summarize", |bench| {
        bench.iter(|| {
            sessions
                .iter()
                .map(|session| engine.summarize(session).summary.len())
                .sum::<usize>()
        })
    });
    group.bench_function("classify", |bench| {
        bench.iter(|| {
            texts
                .iter()
                .map(|text| engine.classifier.classify(text).len())
                .sum::<usize>()
        })
    });
    group.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
