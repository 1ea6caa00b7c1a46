//! A company's configuration files as the API reads them: the issue-type taxonomy, the
//! applications catalogue, and the AI and engine settings.
#![no_main]

libfuzzer_sys::fuzz_target!(|text: &str| {
    let _ = debrief_engine::classify::Taxonomy::parse_json(text);
    let _ = debrief_engine::applications::CompanyApplications::parse_json(text);
    let _ = serde_json::from_str::<debrief_core::governance::AiSettings>(text);
    let _ = serde_json::from_str::<debrief_llm::configure::EngineSettings>(text);
});
