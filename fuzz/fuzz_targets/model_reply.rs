//! A model's reply, however broken, as the LLM engines read it.
#![no_main]

use debrief_llm::reply::{json_object, judge_reply, summary_reply};

libfuzzer_sys::fuzz_target!(|text: &str| {
    let _ = json_object(text);
    let _ = summary_reply(text);
    let _ = judge_reply(text);
});
