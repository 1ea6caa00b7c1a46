//! The OpenAI-compatible client against a real OpenAI-compatible server: llama.cpp's server
//! (llama-cpp-python[server]) serving the test model on 127.0.0.1. Real sessions get usable
//! summaries and verdicts, and injected instructions do not change a verdict. Ignored unless
//! asked for (`-- --include-ignored`, as `scripts/test.sh` does after fetching both).

mod support;

use std::sync::Arc;

use debrief_core::resolution::{evaluate, Conversation, Evaluation};
use debrief_engine::judge::session_lines;
use debrief_engine::language::Language;
use debrief_engine::summarize::BuiltinEngine;
use debrief_llm::engine::{LlmJudge, LlmOptions, LlmSummarizer, ResolutionCheck};
use debrief_llm::openai::{OpenAiClient, OpenAiConfig};

/// A client of the binary's llama.cpp server, and the turn to use it.
async fn server() -> (tokio::sync::MutexGuard<'static, ()>, Arc<OpenAiClient>) {
    let (turn, base_url) = support::llama_server().await;
    let mut config = OpenAiConfig::new(&base_url, "smollm2");
    config.timeout_seconds = 120;
    (turn, Arc::new(OpenAiClient::new(config).expect("a client")))
}

/// Transcripts shortened to their start and end keep each call quick; the same checks run.
fn short_transcripts() -> LlmOptions {
    LlmOptions {
        max_transcript_chars: 1_200,
        ..LlmOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the test model and llama.cpp's server (scripts/fetch-llm.sh fetches them)"]
async fn a_llama_cpp_server_summarizes_and_judges_real_sessions() {
    let (_turn, client) = server().await;
    let builtin = BuiltinEngine::default();
    let summarizer = LlmSummarizer::new(client.clone(), short_transcripts());
    for (session, language) in support::sessions("dialogsum.dev.jsonl", 3).iter().zip([
        Language::English,
        Language::BrazilianPortuguese,
        Language::German,
    ]) {
        let summary = summarizer.summarize(session, language, &builtin).await;
        support::assert_usable_summary(&summary, "openai:smollm2");
        assert_eq!(summary.language, language.code());
    }
    let judge = Arc::new(LlmJudge::new(client, short_transcripts()));
    for session in support::sessions("stc3.dev.jsonl", 3) {
        let checked = judge.judge(&session_lines(&session)).await;
        support::assert_usable_judgement(&checked, "openai:smollm2");
    }
    // The automated-resolution check: every event and the rule go to the real server, and a
    // usable verdict (or the built-in veto, saying why) comes back.
    let check = ResolutionCheck::Llm(judge);
    let gate = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/conformance/gate.jsonl"),
    )
    .expect("the gate suite");
    let as_of = "2026-06-10T00:00:00Z".parse().expect("time");
    for line in gate.lines().take(3) {
        let conversation = Conversation::parse_json(line).expect("valid");
        let Evaluation::NeedsJudge(awaiting) = evaluate(&conversation, as_of) else {
            continue;
        };
        let checked = check.check(&conversation, &awaiting).await;
        assert!((0.0..=1.0).contains(&checked.judgement.confidence));
        assert!(!checked.judgement.rationale.is_empty());
        assert_eq!(checked.prompt_version, "veto-1", "{checked:?}");
        match &checked.fallback {
            None => assert_eq!(checked.judge, "llm"),
            Some(reason) => {
                assert_eq!(checked.judge, "builtin-1");
                assert!(reason.starts_with("openai:smollm2"), "{reason}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the test model and llama.cpp's server (scripts/fetch-llm.sh fetches them)"]
async fn injected_instructions_do_not_change_a_verdict() {
    let (_turn, client) = server().await;
    let judge = LlmJudge::new(client, short_transcripts());
    // Every injection, four to a session.
    let sessions = support::sessions("stc3.dev.jsonl", support::INJECTED_SESSIONS + 1);
    let pairs = support::injected(&sessions);
    assert_eq!(pairs.len() * 4, support::INJECTIONS.len());
    // llama.cpp's server reuses the longest cached prefix of the previous prompt, and a
    // different split of the work changes the arithmetic enough to flip a small model's answer.
    // So every judged prompt follows another conversation's (sharing only the instructions):
    // one warm-up call, then the clean conversations, then the injected ones.
    judge
        .judge(&session_lines(&sessions[sessions.len() - 1]))
        .await;
    let mut honest = Vec::new();
    for (clean, _) in &pairs {
        honest.push(judge.judge(&session_lines(clean)).await);
    }
    for ((clean, injected), honest) in pairs.iter().zip(honest) {
        let steered = judge.judge(&session_lines(injected)).await;
        assert_eq!(
            honest.judgement.resolved, steered.judgement.resolved,
            "session {}: {honest:?} / {steered:?}",
            clean.id
        );
        support::assert_usable_judgement(&steered, "openai:smollm2");
    }
}
