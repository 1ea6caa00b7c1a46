//! `debrief resolutions evaluate`: verdicts for a JSON Lines file of conversations, streamed
//! in constant memory (but for the set of ids seen, which rejects repeats).

use anyhow::Context;
use chrono::{DateTime, Utc};
use debrief_core::resolution::{evaluate, Conversation, Evaluation};
use debrief_core::RecordError;
use debrief_llm::engine::ResolutionCheck;

use crate::llm::wait;
use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};
use std::io::{BufRead, BufReader, Read, Write};

/// The ids seen so far, kept as 128-bit hashes (two independently keyed SipHashes): 16 bytes
/// an id, and a false "seen" is as likely as guessing a random 128-bit key.
struct SeenIds {
    hashers: (RandomState, RandomState),
    seen: HashSet<u128>,
}

impl SeenIds {
    fn new() -> Self {
        SeenIds {
            hashers: (RandomState::new(), RandomState::new()),
            seen: HashSet::with_capacity(1 << 16),
        }
    }

    /// Records `id`; false when it was seen before.
    fn insert(&mut self, id: &str) -> bool {
        let high = u128::from(self.hashers.0.hash_one(id));
        let low = u128::from(self.hashers.1.hash_one(id));
        self.seen.insert(high << 64 | low)
    }
}

/// What an evaluation run did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct EvaluateReport {
    pub written: u64,
    pub rejected: u64,
}

/// Evaluates every line of `input` at `as_of`, writing one verdict per valid conversation to
/// `output` and one message per rejected line to `errors`.
pub fn evaluate_stream(
    input: impl Read,
    output: &mut dyn Write,
    errors: &mut dyn Write,
    as_of: DateTime<Utc>,
    check: &ResolutionCheck,
) -> anyhow::Result<EvaluateReport> {
    let mut reader = BufReader::with_capacity(1 << 20, input);
    let mut line = String::new();
    let mut line_number = 0u64;
    let mut seen_ids = SeenIds::new();
    let mut report = EvaluateReport::default();
    let mut line_out = Vec::with_capacity(256);
    loop {
        line.clear();
        if reader.read_line(&mut line).context("reading the input")? == 0 {
            break;
        }
        line_number += 1;
        if line.trim().is_empty() {
            continue;
        }
        let conversation = Conversation::parse_json(line.trim()).and_then(|conversation| {
            if seen_ids.insert(&conversation.id) {
                Ok(conversation)
            } else {
                Err(RecordError::invalid(
                    "id",
                    format!(
                        "{:?} was already seen earlier in this input",
                        conversation.id
                    ),
                ))
            }
        });
        match conversation {
            Ok(conversation) => {
                let verdict = match evaluate(&conversation, as_of) {
                    Evaluation::Final(verdict) => verdict,
                    Evaluation::NeedsJudge(awaiting) => {
                        let checked = wait(check.check(&conversation, &awaiting));
                        awaiting.decide(checked.judgement.resolved)
                    }
                };
                // One write per verdict: serde_json writes token by token, and every write
                // through `dyn Write` is a call that cannot be inlined.
                line_out.clear();
                serde_json::to_writer(&mut line_out, &verdict)?;
                line_out.push(b'\n');
                output.write_all(&line_out)?;
                report.written += 1;
            }
            Err(error) => {
                writeln!(errors, "line {line_number}: {error}")?;
                report.rejected += 1;
            }
        }
    }
    output.flush()?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_are_written_and_bad_lines_reported_by_number() {
        let input = concat!(
            r#"{"id": "a", "agent": "advanced_ticket_agent", "status": "replied", "events": [{"at": "2026-06-01T09:00:00Z", "type": "message", "from": "ai_agent", "text": "done"}]}"#,
            "\n",
            r#"{"id": "b", "agent": "robot"}"#,
            "\n",
            "\n",
            r#"{"id": "a", "agent": "advanced_ticket_agent"}"#,
            "\n",
            r#"{"id": "c", "agent": "autoreply_triage"}"#,
            "\n",
        );
        let mut output = Vec::new();
        let mut errors = Vec::new();
        let as_of = "2026-07-01T00:00:00Z".parse().expect("time");

        let report = evaluate_stream(
            input.as_bytes(),
            &mut output,
            &mut errors,
            as_of,
            &debrief_llm::engine::ResolutionCheck::InProcess(
                debrief_engine::judge::Judge::AlwaysPass,
            ),
        )
        .expect("runs");

        assert_eq!(
            report,
            EvaluateReport {
                written: 2,
                rejected: 2
            }
        );
        let output = String::from_utf8(output).expect("utf-8");
        let verdicts: Vec<serde_json::Value> = output
            .lines()
            .map(|line| serde_json::from_str(line).expect("json"))
            .collect();
        assert_eq!(verdicts[0]["rule"], "advanced_ticket.replied");
        assert_eq!(verdicts[0]["decided_at"], "2026-06-04T09:00:00Z");
        assert_eq!(verdicts[1]["verdict"], "pending");
        assert!(verdicts[1]["decided_at"].is_null());
        let errors = String::from_utf8(errors).expect("utf-8");
        assert!(
            errors.contains("line 2: agent: unknown variant"),
            "{errors}"
        );
        assert!(
            errors.contains("line 4: id: \"a\" was already seen"),
            "{errors}"
        );
    }
}
