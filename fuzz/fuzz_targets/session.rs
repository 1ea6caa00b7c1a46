//! A session record as the API and `debrief import` read it.
#![no_main]

libfuzzer_sys::fuzz_target!(|text: &str| {
    let _ = debrief_core::SessionRecord::parse(text);
});
