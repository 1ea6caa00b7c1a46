//! `debrief judge`, `debrief eval judge` and `debrief eval issue-types`: per-session judgements
//! and tags, and how well they agree with human labels.

use std::io::{BufRead, BufReader, Read, Write};

use debrief_core::summary::Summary;
use debrief_core::{RecordError, Session};
use debrief_engine::judge::session_lines;
use debrief_engine::metrics::BinaryCounts;
use debrief_engine::summarize::BuiltinEngine;
use debrief_llm::engine::{LlmSummarizer, ResolutionCheck};

use crate::llm::wait;

/// The engine a command summarizes with: the built-in one, or an LLM engine backed by it.
pub enum SummaryEngine<'a> {
    Builtin(&'a BuiltinEngine),
    Llm(LlmSummarizer, &'a BuiltinEngine),
}

impl SummaryEngine<'_> {
    fn summarize(
        &self,
        session: &Session,
        language: debrief_engine::language::Language,
    ) -> Summary {
        match self {
            SummaryEngine::Builtin(engine) => engine.summarize_in(session, language),
            SummaryEngine::Llm(llm, builtin) => wait(llm.summarize(session, language, builtin)),
        }
    }
}
use serde::{Deserialize, Serialize};

/// One judged session.
#[derive(Debug, Serialize)]
struct JudgeLine<'a> {
    id: &'a str,
    resolved: bool,
    confidence: f64,
    rationale: String,
}

/// The evaluation labels of a record (read only by `eval`).
#[derive(Deserialize)]
struct GoldLabel {
    #[serde(default)]
    reference_summaries: Vec<String>,
    #[serde(default)]
    resolved_majority: Option<bool>,
    #[serde(default)]
    issue_type: Option<String>,
}

/// What a session is about, for tagging: the customer's words, or every turn without them.
fn customer_text(session: &Session) -> String {
    use debrief_core::session::Speaker;
    let customer: Vec<&str> = session
        .turns
        .iter()
        .filter(|turn| turn.speaker == Speaker::Customer)
        .map(|turn| turn.text.as_str())
        .collect();
    if customer.is_empty() {
        session
            .turns
            .iter()
            .map(|turn| turn.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    } else {
        customer.join("\n")
    }
}

/// `debrief eval issue-types`: accuracy and macro-F1 of the first issue type against
/// `issue_type`. With `hold_out`, a record's own text is left out of the examples, which
/// estimates the figures on records the taxonomy was not written from. Predictions go to
/// `predictions` as `{"id", "issue_types"}` lines when given.
pub fn eval_issue_types(
    input: impl Read,
    errors: &mut dyn Write,
    classifier: &debrief_engine::classify::IssueClassifier,
    hold_out: bool,
    mut predictions: Option<&mut dyn Write>,
) -> anyhow::Result<(debrief_engine::metrics::MulticlassCounts, u64)> {
    let mut counts = debrief_engine::metrics::MulticlassCounts::default();
    let rejected = for_each_session(input, errors, |text, session| {
        let gold: GoldLabel = serde_json::from_str(text)?;
        let Some(gold) = gold.issue_type else {
            return Err(missing_label("issue_type", &session));
        };
        let words = customer_text(&session);
        let best = classifier.best(&words, hold_out.then_some(words.as_str()));
        let predicted = match &best {
            Some(best) if best.score >= debrief_engine::classify::UNKNOWN_BELOW => best.id.as_str(),
            _ => debrief_engine::classify::UNKNOWN,
        };
        counts.add(predicted, &gold);
        if let Some(out) = predictions.as_deref_mut() {
            serde_json::to_writer(
                &mut *out,
                &serde_json::json!({"id": session.id, "issue_types": [predicted]}),
            )?;
            out.write_all(b"\n")?;
        }
        Ok(())
    })?;
    if let Some(out) = predictions {
        out.flush()?;
    }
    Ok((counts, rejected))
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
    check: &ResolutionCheck,
) -> anyhow::Result<u64> {
    let rejected = for_each_session(input, errors, |_, session| {
        let judgement = wait(check.judge_dialogue(&session_lines(&session))).judgement;
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
    check: &ResolutionCheck,
    limit: Option<u64>,
) -> anyhow::Result<(BinaryCounts, u64)> {
    let mut counts = BinaryCounts::default();
    let rejected = for_each_session(input, errors, |text, session| {
        if limit.is_some_and(|limit| counts.total() >= limit) {
            return Ok(());
        }
        let gold: GoldLabel = serde_json::from_str(text)?;
        let Some(gold) = gold.resolved_majority else {
            return Err(missing_label("resolved_majority", &session));
        };
        let checked = wait(check.judge_dialogue(&session_lines(&session)));
        counts.add(checked.judgement.resolved, gold);
        Ok(())
    })?;
    Ok((counts, rejected))
}

/// `debrief train judge`: the dialogues' cues and labels, cross-validated and fitted by
/// [`debrief_engine::solved::train`] (`None` without a labelled dialogue).
pub fn train_judge(
    input: impl Read,
    errors: &mut dyn Write,
    trained_on: &str,
) -> anyhow::Result<(Option<TrainedJudge>, u64)> {
    let mut examples = Vec::new();
    let rejected = for_each_session(input, errors, |text, session| {
        let gold: GoldLabel = serde_json::from_str(text)?;
        let Some(gold) = gold.resolved_majority else {
            return Err(missing_label("resolved_majority", &session));
        };
        examples.push((
            debrief_engine::solved::features(&session_lines(&session)),
            gold,
        ));
        Ok(())
    })?;
    let trained = if examples.is_empty() {
        None
    } else {
        debrief_engine::solved::train(
            &examples,
            &format!("{trained_on} ({} dialogues)", examples.len()),
        )
    };
    Ok((trained, rejected))
}

/// A trained judge and its cross-validation table.
pub type TrainedJudge = (
    debrief_engine::solved::Model,
    Vec<debrief_engine::solved::Trial>,
);

/// The error of a record without the label an evaluation reads.
fn missing_label(field: &str, session: &Session) -> anyhow::Error {
    anyhow::anyhow!(
        "{}",
        RecordError::invalid(field, format!("is missing in record {}", session.id))
    )
}

/// `debrief summarize`: one summary per session.
pub fn summarize_stream(
    input: impl Read,
    output: &mut dyn Write,
    errors: &mut dyn Write,
    engine: &SummaryEngine<'_>,
    language: debrief_engine::language::Language,
) -> anyhow::Result<u64> {
    let mut line_out = Vec::with_capacity(1024);
    let rejected = for_each_session(input, errors, |_, session| {
        let summary = engine.summarize(&session, language);
        line_out.clear();
        serde_json::to_writer(&mut line_out, &summary)?;
        line_out.push(b'\n');
        output.write_all(&line_out)?;
        Ok(())
    })?;
    output.flush()?;
    Ok(rejected)
}

/// What `debrief eval summaries` measured.
pub struct SummaryEval {
    pub scores: debrief_engine::rouge::RougeScores,
    /// Records scored.
    pub records: u64,
    /// Summaries an LLM engine left to the built-in engine.
    pub fallbacks: u64,
    /// Summaries with a readability fault (`debrief_engine::readability`).
    pub faulty: u64,
    pub rejected: u64,
}

/// `debrief eval summaries`: mean ROUGE-1/2/L F1 (best reference per record) of an engine's
/// summaries against `reference_summaries`, as percentages; the first `limit` records only
/// when given (a small model on a CPU takes seconds per summary).
pub fn eval_summaries(
    input: impl Read,
    errors: &mut dyn Write,
    engine: &SummaryEngine<'_>,
    limit: Option<u64>,
) -> anyhow::Result<SummaryEval> {
    let rouge = debrief_engine::rouge::Rouge::default();
    let mut total = debrief_engine::rouge::RougeScores::default();
    let mut records = 0u64;
    let mut fallbacks = 0u64;
    let mut faulty = 0u64;
    let rejected = for_each_session(input, errors, |text, session| {
        let gold: GoldLabel = serde_json::from_str(text)?;
        if gold.reference_summaries.is_empty() || limit.is_some_and(|limit| records >= limit) {
            return Ok(());
        }
        let summary = engine.summarize(&session, debrief_engine::language::Language::English);
        fallbacks += u64::from(summary.fallback.is_some());
        faulty += u64::from(!debrief_engine::readability::faults(&summary).is_empty());
        let best = rouge.best(&gold.reference_summaries, &summary.summary);
        total.rouge1 += best.rouge1;
        total.rouge2 += best.rouge2;
        total.rouge_l += best.rouge_l;
        records += 1;
        Ok(())
    })?;
    let mean = |sum: f64| 100.0 * sum / records.max(1) as f64;
    Ok(SummaryEval {
        scores: debrief_engine::rouge::RougeScores {
            rouge1: mean(total.rouge1),
            rouge2: mean(total.rouge2),
            rouge_l: mean(total.rouge_l),
        },
        records,
        fallbacks,
        faulty,
        rejected,
    })
}

/// Most issue types `classify` lists for a session.
const LISTED_ISSUE_TYPES: usize = 3;

/// `debrief classify`: issue types (best first; `unknown` when none fits) and applications
/// per session.
pub fn classify_stream(
    input: impl Read,
    output: &mut dyn Write,
    errors: &mut dyn Write,
    engine: &BuiltinEngine,
) -> anyhow::Result<u64> {
    let rejected = for_each_session(input, errors, |_, session| {
        let words = customer_text(&session);
        let mut issue_types: Vec<String> = engine
            .classifier
            .rank(&words, None)
            .into_iter()
            .take(LISTED_ISSUE_TYPES)
            .filter(|ranked| ranked.score >= debrief_engine::classify::UNKNOWN_BELOW)
            .map(|ranked| ranked.id)
            .collect();
        if issue_types.is_empty() {
            issue_types.push(debrief_engine::classify::UNKNOWN.to_string());
        }
        let line = serde_json::json!({
            "id": session.id,
            "issue_types": issue_types,
            "applications": engine.applications.of_session(&session),
        });
        serde_json::to_writer(&mut *output, &line)?;
        output.write_all(b"\n")?;
        Ok(())
    })?;
    output.flush()?;
    Ok(rejected)
}
