//! A billing timeline (JSON Lines) as `debrief billing simulate` reads and replays it.
#![no_main]

use debrief_core::billing::{simulate, TimedEvent};

libfuzzer_sys::fuzz_target!(|text: &str| {
    let lines = text
        .lines()
        .enumerate()
        .filter_map(|(index, line)| Some((index as u64 + 1, TimedEvent::parse_json(line).ok()?)))
        .collect();
    let _ = simulate(lines);
});
