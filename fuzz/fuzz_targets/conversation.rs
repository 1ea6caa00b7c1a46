//! An AI-agent conversation as the API reads it, merged and evaluated.
#![no_main]

use debrief_core::resolution::{evaluate, ConversationDocument};

libfuzzer_sys::fuzz_target!(|text: &str| {
    if let Ok((document, conversation)) = ConversationDocument::parse(text) {
        let _ = evaluate(&conversation, chrono::Utc::now());
        let _ = document.to_json();
    }
});
