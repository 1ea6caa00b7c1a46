//! `debrief resolutions evaluate`: verdicts for a JSON Lines file of conversations, streamed
//! in constant memory (but for the set of ids seen, which rejects repeats), on several threads.
//!
//! The input is read in rounds of [`LINES_PER_THREAD`] lines a thread; each thread parses and
//! evaluates its contiguous share, and the round is written in input order, where the
//! duplicate-id check runs too, while the threads evaluate the next round. So the output and
//! the messages are byte for byte those of one thread, whatever the number of threads.

use anyhow::Context;
use chrono::{DateTime, Utc};
use debrief_core::resolution::{evaluate, Conversation, Evaluation};
use debrief_core::RecordError;
use debrief_llm::engine::ResolutionCheck;

use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};
use std::io::{BufRead, BufReader, Read, Write};
use std::ops::Range;

/// Lines each thread evaluates in one round.
const LINES_PER_THREAD: usize = 4096;

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

/// One input line evaluated: its number, and the conversation's id with its verdict as one
/// output line, or why the line was rejected.
type Evaluated = (u64, Result<(String, Vec<u8>), RecordError>);

/// One round of input: its lines' text one after the other, and each non-blank line's number
/// and place in it.
#[derive(Default)]
struct Round {
    text: String,
    lines: Vec<(u64, Range<usize>)>,
}

/// Parses and evaluates `lines` of `text`, asking `check` (through `runtime` when the command
/// runs in one) where the rules need it.
fn evaluate_lines(
    text: &str,
    lines: &[(u64, Range<usize>)],
    as_of: DateTime<Utc>,
    check: &ResolutionCheck,
    runtime: Option<&tokio::runtime::Handle>,
) -> anyhow::Result<Vec<Evaluated>> {
    let mut evaluated = Vec::with_capacity(lines.len());
    for (line_number, place) in lines {
        let conversation = match Conversation::parse_json(text[place.clone()].trim()) {
            Ok(conversation) => conversation,
            Err(error) => {
                evaluated.push((*line_number, Err(error)));
                continue;
            }
        };
        let verdict = match evaluate(&conversation, as_of) {
            Evaluation::Final(verdict) => verdict,
            Evaluation::NeedsJudge(awaiting) => {
                let asked = check.check(&conversation, &awaiting);
                let checked = match runtime {
                    Some(runtime) => runtime.block_on(asked),
                    None => crate::llm::wait(asked),
                };
                awaiting.decide(checked.judgement.resolved)
            }
        };
        let mut line_out = Vec::with_capacity(256);
        serde_json::to_writer(&mut line_out, &verdict)?;
        line_out.push(b'\n');
        evaluated.push((*line_number, Ok((conversation.id, line_out))));
    }
    Ok(evaluated)
}

/// Evaluates every line of `input` at `as_of` on `threads` threads, writing one verdict per
/// valid conversation to `output` and one message per rejected line to `errors`, in input
/// order.
pub fn evaluate_stream(
    input: impl Read,
    output: &mut dyn Write,
    errors: &mut dyn Write,
    as_of: DateTime<Utc>,
    check: &ResolutionCheck,
    threads: usize,
) -> anyhow::Result<EvaluateReport> {
    let threads = threads.max(1);
    // The threads ask the command's runtime (an LLM check's client lives in it); from a
    // thread of their own, blocking on it is allowed.
    let runtime = tokio::runtime::Handle::try_current().ok();
    let mut reader = BufReader::with_capacity(1 << 20, input);
    let mut line_number = 0u64;
    let mut seen_ids = SeenIds::new();
    let mut report = EvaluateReport::default();
    let round_lines = threads * LINES_PER_THREAD;
    // Reads the next round: up to `round_lines` non-blank lines with their numbers.
    let mut read_round = |round: &mut Round| -> anyhow::Result<()> {
        round.text.clear();
        round.lines.clear();
        while round.lines.len() < round_lines {
            let start = round.text.len();
            if reader
                .read_line(&mut round.text)
                .context("reading the input")?
                == 0
            {
                break;
            }
            line_number += 1;
            if !round.text[start..].trim().is_empty() {
                round.lines.push((line_number, start..round.text.len()));
            }
        }
        Ok(())
    };
    // Writes a round's results in input order, rejecting ids seen before.
    let mut write_round = |evaluated: Vec<Vec<Evaluated>>| -> anyhow::Result<()> {
        for (line_number, outcome) in evaluated.into_iter().flatten() {
            let written = outcome.and_then(|(id, line_out)| {
                if seen_ids.insert(&id) {
                    Ok(line_out)
                } else {
                    Err(RecordError::invalid(
                        "id",
                        format!("{id:?} was already seen earlier in this input"),
                    ))
                }
            });
            match written {
                Ok(line_out) => {
                    output.write_all(&line_out)?;
                    report.written += 1;
                }
                Err(error) => {
                    writeln!(errors, "line {line_number}: {error}")?;
                    report.rejected += 1;
                }
            }
        }
        Ok(())
    };
    let mut round = Round::default();
    let mut next = Round::default();
    read_round(&mut round)?;
    let mut finished: Vec<Vec<Evaluated>> = Vec::new();
    while !round.lines.is_empty() {
        // While the threads evaluate this round, the last one is written and the next read.
        let share = round.lines.len().div_ceil(threads);
        let evaluated = std::thread::scope(|scope| -> anyhow::Result<Vec<Vec<Evaluated>>> {
            let workers: Vec<_> = round
                .lines
                .chunks(share)
                .map(|lines| {
                    let (text, runtime) = (round.text.as_str(), runtime.as_ref());
                    scope.spawn(move || evaluate_lines(text, lines, as_of, check, runtime))
                })
                .collect();
            write_round(std::mem::take(&mut finished))?;
            read_round(&mut next)?;
            workers
                .into_iter()
                .map(|worker| worker.join().expect("an evaluation thread panicked"))
                .collect()
        })?;
        finished = evaluated;
        std::mem::swap(&mut round, &mut next);
    }
    write_round(finished)?;
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
            1,
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

    /// A thousand conversations (with repeated ids, bad lines, blank lines and conversations
    /// that wait on the check) give the same bytes on one thread and on three, with the rounds
    /// cut where the shares end.
    #[test]
    fn several_threads_write_what_one_thread_writes() {
        let mut input = String::new();
        for n in 0..10_000 {
            let line = match n % 7 {
                0 => format!(r#"{{"id": "c-{}", "agent": "robot"}}"#, n),
                1 => String::new(),
                2 => format!(
                    r#"{{"id": "c-{}", "agent": "advanced_ticket_agent"}}"#,
                    n / 3
                ),
                3 => format!(
                    r#"{{"id": "c-{n}", "agent": "messaging_ai_agent", "status": "handled_by_ai", "events": [{{"at": "2026-06-01T09:00:00Z", "type": "message", "from": "end_user", "text": "my password"}}, {{"at": "2026-06-01T09:01:00Z", "type": "message", "from": "ai_agent", "text": "reset it here"}}, {{"at": "2026-06-01T09:02:00Z", "type": "feedback", "value": "positive"}}]}}"#
                ),
                _ => format!(
                    r#"{{"id": "c-{n}", "agent": "messaging_ai_agent", "status": "handled_by_ai", "events": [{{"at": "2026-06-01T09:00:00Z", "type": "message", "from": "end_user", "text": "my password"}}, {{"at": "2026-06-01T09:01:00Z", "type": "message", "from": "ai_agent", "text": "reset it here"}}]}}"#
                ),
            };
            input.push_str(&line);
            input.push('\n');
        }
        let as_of = "2026-07-01T00:00:00Z".parse().expect("time");
        let check =
            debrief_llm::engine::ResolutionCheck::InProcess(debrief_engine::judge::Judge::Builtin);
        let run = |threads| {
            let (mut output, mut errors) = (Vec::new(), Vec::new());
            let report = evaluate_stream(
                input.as_bytes(),
                &mut output,
                &mut errors,
                as_of,
                &check,
                threads,
            )
            .expect("runs");
            (report, output, errors)
        };
        let one = run(1);
        assert!(
            one.0.written > 5_000 && one.0.rejected > 1_000,
            "{:?}",
            one.0
        );
        assert!(String::from_utf8_lossy(&one.2).contains("was already seen"));
        assert!(String::from_utf8_lossy(&one.1).contains("\"counted\""));
        assert_eq!(run(2), one);
        assert_eq!(run(3), one);
    }
}
