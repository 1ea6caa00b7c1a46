//! `debrief judge` and `debrief eval judge`: did the customer's problem get solved, per
//! session, and how well the judge agrees with human annotators.

use std::io::{BufRead, BufReader, Read, Write};

use debrief_core::{RecordError, Session};
use debrief_engine::judge::Judge;
use debrief_engine::metrics::BinaryCounts;
use serde::{Deserialize, Serialize};

/// One judged session.
#[derive(Debug, Serialize)]
struct JudgeLine<'a> {
    id: &'a str,
    resolved: bool,
    confidence: f64,
    rationale: String,
}

/// The evaluation label of a record (read only by `eval`).
#[derive(Deserialize)]
struct GoldLabel {
    #[serde(default)]
    resolved_majority: Option<bool>,
}

/// Reads sessions line by line; rejected lines go to `errors` with their number.
fn for_each_session(
    input: impl Read,
    errors: &mut dyn Write,
    mut handle: impl FnMut(&str, Session) -> anyhow::Result<()>,
) -> anyhow::Result<u64> {
    let mut reader = BufReader::with_capacity(1 << 20, input);
    let mut line = String::new();
    let mut line_number = 0u64;
    let mut rejected = 0;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(rejected);
        }
        line_number += 1;
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        match Session::parse_json(text) {
            Ok(session) => handle(text, session)?,
            Err(error) => {
                writeln!(errors, "line {line_number}: {error}")?;
                rejected += 1;
            }
        }
    }
}

/// `debrief judge`: one judgement per session. Returns the number of rejected lines.
pub fn judge_stream(
    input: impl Read,
    output: &mut dyn Write,
    errors: &mut dyn Write,
    judge: Judge,
) -> anyhow::Result<u64> {
    let rejected = for_each_session(input, errors, |_, session| {
        let judgement = judge.judge_session(&session);
        let line = JudgeLine {
            id: &session.id,
            resolved: judgement.resolved,
            confidence: judgement.confidence,
            rationale: judgement.rationale,
        };
        serde_json::to_writer(&mut *output, &line)?;
        output.write_all(b"\n")?;
        Ok(())
    })?;
    output.flush()?;
    Ok(rejected)
}

/// `debrief eval judge`: precision, recall and F1 of `resolved` against `resolved_majority`.
pub fn eval_judge(
    input: impl Read,
    errors: &mut dyn Write,
    judge: Judge,
) -> anyhow::Result<(BinaryCounts, u64)> {
    let mut counts = BinaryCounts::default();
    let rejected = for_each_session(input, errors, |text, session| {
        let gold: GoldLabel = serde_json::from_str(text)?;
        let Some(gold) = gold.resolved_majority else {
            return Err(anyhow::anyhow!(
                "{}",
                RecordError::invalid(
                    "resolved_majority",
                    format!("is missing in record {}", session.id)
                )
            ));
        };
        counts.add(judge.judge_session(&session).resolved, gold);
        Ok(())
    })?;
    Ok((counts, rejected))
}
