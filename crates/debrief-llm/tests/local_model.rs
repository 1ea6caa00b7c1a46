//! The in-process engine with a real GGUF model (SmolLM2-135M-Instruct): summaries and
//! verdicts of real sessions come back valid, from the model or marked as the built-in
//! engine's. Runs with the `local` feature; ignored unless asked for (`-- --include-ignored`, as
//! `scripts/test.sh` does after fetching the model).
#![cfg(feature = "local")]

mod support;

use std::sync::Arc;

use debrief_engine::judge::session_lines;
use debrief_engine::language::Language;
use debrief_engine::summarize::BuiltinEngine;
use debrief_llm::backend::{ChatMessage, ChatRequest, ChatRole, LlmBackend};
use debrief_llm::engine::{LlmJudge, LlmOptions, LlmSummarizer};
use debrief_llm::local::LocalModel;
use debrief_llm::local_config::LocalConfig;

fn model() -> Arc<LocalModel> {
    let mut config = LocalConfig::new(support::gguf());
    config.threads = Some(support::THREADS);
    Arc::new(LocalModel::load(&config).expect("the test model loads"))
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the test model (scripts/fetch-llm.sh fetches it)"]
async fn the_local_model_completes_with_its_chat_template_and_json_grammar() {
    let model = model();
    assert_eq!(model.model_id(), "local:SmolLM2-135M-Instruct.Q4_1");
    let request = ChatRequest {
        messages: vec![
            ChatMessage::new(
                ChatRole::System,
                "Reply with a JSON object with a field \"colour\".",
            ),
            ChatMessage::new(ChatRole::User, "What colour is the sky?"),
        ],
        max_tokens: 60,
        json: true,
    };
    let completion = model.complete(&request).await.expect("a completion");
    assert!(completion.prompt_tokens > 10, "{completion:?}");
    assert!(completion.completion_tokens > 0 && completion.completion_tokens <= 60);
    let (object, _) = debrief_llm::reply::json_object(&completion.text).expect("JSON");
    assert!(!object.is_empty(), "{}", completion.text);
    // Greedy decoding: the same request gets the same answer.
    assert_eq!(
        model.complete(&request).await.expect("again").text,
        completion.text
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the test model (scripts/fetch-llm.sh fetches it)"]
async fn the_local_engine_summarizes_and_judges_real_sessions() {
    let model = model();
    let builtin = BuiltinEngine::default();
    // Transcripts shortened to their start and end keep each call quick; the same checks run.
    let options = LlmOptions {
        max_transcript_chars: 1_200,
        ..LlmOptions::default()
    };
    let summarizer = LlmSummarizer::new(model.clone(), options.clone());
    for session in support::sessions("dialogsum.dev.jsonl", 3) {
        let summary = summarizer
            .summarize(&session, Language::English, &builtin)
            .await;
        support::assert_usable_summary(&summary, "local:SmolLM2-135M-Instruct.Q4_1");
    }
    let judge = LlmJudge::new(model, options);
    for session in support::sessions("stc3.dev.jsonl", 3) {
        let checked = judge.judge(&session_lines(&session)).await;
        support::assert_usable_judgement(&checked, "local:SmolLM2-135M-Instruct.Q4_1");
    }
}
