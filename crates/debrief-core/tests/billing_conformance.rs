//! The shared billing conformance samples: every timeline gives exactly its statement.

use std::path::PathBuf;

use debrief_core::billing::{simulate, TimedEvent};
use serde_json::Value;

fn samples() -> Vec<(String, PathBuf, PathBuf)> {
    let directory =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/billing");
    let mut samples: Vec<_> = std::fs::read_dir(&directory)
        .unwrap_or_else(|error| panic!("{} is readable: {error}", directory.display()))
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let name = path
                .file_name()?
                .to_str()?
                .strip_suffix(".timeline.jsonl")?
                .to_string();
            let statement = directory.join(format!("{name}.statement.jsonl"));
            Some((name, path, statement))
        })
        .collect();
    samples.sort();
    samples
}

#[test]
fn every_sample_timeline_gives_its_statement() {
    let samples = samples();
    assert!(samples.len() >= 4);
    for (name, timeline, statement) in samples {
        let lines: Vec<_> = std::fs::read_to_string(&timeline)
            .expect("timeline")
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(index, line)| {
                (
                    index as u64 + 1,
                    TimedEvent::parse_json(line).expect("valid line"),
                )
            })
            .collect();

        let months =
            simulate(lines).unwrap_or_else(|(line, error)| panic!("{name}: line {line}: {error}"));

        let expected: Vec<Value> = std::fs::read_to_string(&statement)
            .expect("statement")
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| serde_json::from_str(line).expect("json"))
            .collect();
        let actual: Vec<Value> = months
            .iter()
            .map(|month| serde_json::to_value(month).expect("json"))
            .collect();
        assert_eq!(actual.len(), expected.len(), "{name}: number of months");
        for (actual, expected) in actual.iter().zip(&expected) {
            assert_eq!(actual, expected, "{name}: month {}", expected["month"]);
        }
    }
}
