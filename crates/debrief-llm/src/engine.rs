//! Summaries and resolution checks by an LLM, with the built-in engine as the safety net.
//!
//! Every call: screen and redact the transcript, ask the model for JSON, read the reply
//! against its schema (repairing what is nearly right), ask once more when it cannot be used,
//! and otherwise fall back to the built-in engine with the reason recorded. A user never gets
//! a blank summary, an error page or raw model text.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use debrief_core::resolution::{AwaitingJudge, Conversation, EventKind, Rule, Sender};
use debrief_core::summary::Summary;
use debrief_core::Session;
use debrief_engine::judge::{DialogueLine, Judge};
use debrief_engine::judgement::Judgement;
use debrief_engine::language::Language;
use debrief_engine::summarize::BuiltinEngine;
use serde::Deserialize;

use crate::backend::{ChatRequest, LlmBackend};
use crate::prompt::{
    check_instructions, judge_instructions, judge_request, render_dialogue, render_session,
    retry_request, role_label, summary_instructions, summary_request, CHECK_PROMPT_VERSION,
    JUDGE_PROMPT_VERSION, SUMMARY_PROMPT_VERSION,
};
use crate::redact::{RedactionReport, Redactor};
use crate::reply::{echoes, judge_reply, summary_reply, ReplyError};

/// What a company sets for its LLM engine.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmOptions {
    /// Longest transcript sent, in characters (the middle is left out beyond it).
    pub max_transcript_chars: usize,
    /// Fill the placeholders of personal contact data (e-mail addresses, phone numbers, IP
    /// addresses, IBANs) back into the stored summary. People's names are always filled back
    /// (they are hidden from the model only); secrets, keys and card numbers never are.
    pub restore_personal_data: bool,
}

impl Default for LlmOptions {
    fn default() -> Self {
        LlmOptions {
            max_transcript_chars: 12_000,
            restore_personal_data: false,
        }
    }
}

/// Asks `backend`, and once more when the reply cannot be read; the reason when neither
/// answer can be used.
async fn ask<T>(
    backend: &dyn LlmBackend,
    request: &ChatRequest,
    read: impl Fn(&str) -> Result<T, ReplyError>,
) -> Result<T, String> {
    let first = backend
        .complete(request)
        .await
        .map_err(|error| error.to_string())?;
    let problem = match read(&first.text) {
        Ok(answer) => return Ok(answer),
        Err(problem) => problem,
    };
    tracing::warn!(%problem, "the model's reply cannot be used; asking once more");
    let second = backend
        .complete(&retry_request(request, &first.text, &problem.to_string()))
        .await
        .map_err(|error| error.to_string())?;
    read(&second.text).map_err(|problem| format!("the model's reply was unusable twice: {problem}"))
}

/// The report as stored with a summary: kind name → count.
fn report_map(report: &RedactionReport) -> BTreeMap<String, u32> {
    report
        .0
        .iter()
        .map(|(kind, count)| (kind.as_str().to_string(), *count))
        .collect()
}

/// Summarizes sessions with a model.
pub struct LlmSummarizer {
    backend: Arc<dyn LlmBackend>,
    options: LlmOptions,
}

impl LlmSummarizer {
    pub fn new(backend: Arc<dyn LlmBackend>, options: LlmOptions) -> LlmSummarizer {
        LlmSummarizer { backend, options }
    }

    /// The engine name stored with its summaries: backend, model and prompt version.
    pub fn engine_name(&self) -> String {
        format!("{}/{SUMMARY_PROMPT_VERSION}", self.backend.model_id())
    }

    /// A summary of `session` in `language`: the model's when it gives a usable one, else the
    /// built-in engine's with [`Summary::fallback`] saying why. `builtin` carries the company's
    /// taxonomy and applications catalogue.
    pub async fn summarize(
        &self,
        session: &Session,
        language: Language,
        builtin: &BuiltinEngine,
    ) -> Summary {
        let mut summary = builtin.summarize_in(session, language);
        let mut redactor = Redactor::new();
        let transcript = render_session(session, &mut redactor, self.options.max_transcript_chars);
        summary.redactions = report_map(redactor.report());
        if transcript.text.is_empty() {
            summary.fallback = Some(format!(
                "{}: the session has no transcript to send",
                self.engine_name()
            ));
            return summary;
        }
        let instructions = summary_instructions(language, builtin.classifier.ids());
        let request = summary_request(&instructions, &transcript.text);
        let answer = ask(self.backend.as_ref(), &request, |reply| {
            let read = summary_reply(reply)?;
            if echoes(&instructions, &read.summary) || echoes(&instructions, &read.title) {
                return Err(ReplyError::EchoesPrompt);
            }
            Ok(read)
        })
        .await;
        let reply = match answer {
            Ok(reply) => reply,
            Err(reason) => {
                tracing::warn!(session = %session.id, %reason, "LLM summary fell back to the built-in engine");
                summary.fallback = Some(format!("{}: {reason}", self.engine_name()));
                return summary;
            }
        };
        let fill = |text: &str| {
            if self.options.restore_personal_data {
                redactor.restore(text)
            } else {
                redactor.restore_people(text)
            }
        };
        let known_types = builtin.classifier.ids();
        let issue_types: Vec<String> = reply
            .issue_types
            .iter()
            .filter_map(|asked| {
                known_types
                    .iter()
                    .find(|id| id.eq_ignore_ascii_case(asked))
                    .cloned()
            })
            .fold(Vec::new(), |mut kept, id| {
                if !kept.contains(&id) {
                    kept.push(id);
                }
                kept
            });
        if !issue_types.is_empty() {
            summary.issue_types = issue_types;
        }
        // Applications the model names are kept only when the transcript mentions them, next to
        // those the built-in catalogue recognised: a model does not add an application that was
        // not there.
        let lowered = transcript.text.to_lowercase();
        for application in reply.applications {
            let mentioned = lowered.contains(&application.to_lowercase());
            let known = summary
                .applications
                .iter()
                .any(|kept| kept.eq_ignore_ascii_case(&application));
            if mentioned && !known {
                summary.applications.push(application);
            }
        }
        summary.title = fill(&reply.title);
        summary.summary = fill(&reply.summary);
        summary.problem = fill(&reply.problem);
        summary.actions = reply.actions.iter().map(|action| fill(action)).collect();
        summary.outcome = reply.outcome;
        summary.outcome_label = language.outcome(reply.outcome).to_string();
        summary.follow_up = fill(&reply.follow_up);
        summary.language = language.code().to_string();
        summary.narrative_language = language.code().to_string();
        summary.engine = self.engine_name();
        summary
    }
}

/// A judgement with who gave it.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedJudgement {
    pub judgement: Judgement,
    /// `llm`, or the in-process judge's name (also after a fallback).
    pub judge: String,
    pub model: String,
    pub prompt_version: String,
    /// Set when the LLM was asked and the built-in judge answered instead: why.
    pub fallback: Option<String>,
    pub redactions: RedactionReport,
}

/// The resolution check by a model (SPEC section 7).
pub struct LlmJudge {
    backend: Arc<dyn LlmBackend>,
    options: LlmOptions,
}

/// The rationale stored when a model's repeats its instructions.
const WITHHELD_RATIONALE: &str = "the model's rationale repeated its instructions and was withheld";

impl LlmJudge {
    pub fn new(backend: Arc<dyn LlmBackend>, options: LlmOptions) -> LlmJudge {
        LlmJudge { backend, options }
    }

    /// Judges a dialogue ("was the problem solved?"): the model's verdict when it gives a
    /// usable one, else the built-in judge's with the reason in `fallback`.
    pub async fn judge(&self, lines: &[DialogueLine<'_>]) -> CheckedJudgement {
        let mut redactor = Redactor::new();
        let conversation = render_dialogue(
            lines.iter().map(|line| (role_label(line.role), line.text)),
            &mut redactor,
            self.options.max_transcript_chars,
        );
        self.ask_verdict(
            &judge_instructions(),
            "",
            &conversation.text,
            JUDGE_PROMPT_VERSION,
            redactor,
            || in_process(Judge::Builtin, lines),
        )
        .await
    }

    /// The automated-resolution check (SPEC section 7) of a conversation the rules would count
    /// under `rule`, decided at `as_of`: the whole conversation, every event kind in order,
    /// and the end user's silence after the last event, are put to the model; the built-in
    /// check answers when the model cannot.
    pub async fn check(
        &self,
        conversation: &Conversation,
        rule: Rule,
        as_of: DateTime<Utc>,
    ) -> CheckedJudgement {
        let mut redactor = Redactor::new();
        let rendered = render_events(conversation, as_of, &mut redactor, &self.options);
        let preface = format!(
            "Rule that would count it: {rule} (agent {}).\n",
            conversation.agent.family()
        );
        self.ask_verdict(
            &check_instructions(),
            &preface,
            &rendered,
            CHECK_PROMPT_VERSION,
            redactor,
            || in_process_check(Judge::Builtin, conversation, rule),
        )
        .await
    }

    async fn ask_verdict(
        &self,
        instructions: &str,
        preface: &str,
        conversation: &str,
        prompt_version: &str,
        redactor: Redactor,
        fallback: impl FnOnce() -> CheckedJudgement,
    ) -> CheckedJudgement {
        let request = judge_request(instructions, preface, conversation);
        match ask(self.backend.as_ref(), &request, judge_reply).await {
            Ok(reply) => CheckedJudgement {
                judgement: Judgement {
                    resolved: reply.resolved,
                    confidence: reply.confidence,
                    rationale: if echoes(instructions, &reply.rationale) {
                        WITHHELD_RATIONALE.to_string()
                    } else if reply.rationale.is_empty() {
                        "the model gave no rationale".to_string()
                    } else {
                        reply.rationale
                    },
                },
                judge: "llm".to_string(),
                model: self.backend.model_id(),
                prompt_version: prompt_version.to_string(),
                fallback: None,
                redactions: redactor.report().clone(),
            },
            Err(reason) => {
                tracing::warn!(%reason, "LLM check fell back to the built-in judge");
                let mut checked = fallback();
                checked.fallback = Some(format!("{}: {reason}", self.backend.model_id()));
                checked.redactions = redactor.report().clone();
                checked
            }
        }
    }
}

/// A conversation's events as lines for the model (FORMATS.md section 3): each message with its
/// sender and visibility, and every other event kind described, screened and redacted, then the
/// end user's silence from the last event to `as_of`.
fn render_events(
    conversation: &Conversation,
    as_of: DateTime<Utc>,
    redactor: &mut Redactor,
    options: &LlmOptions,
) -> String {
    let lines: Vec<(&str, String)> = conversation
        .events
        .iter()
        .map(|event| event_line(&event.kind))
        .collect();
    let mut text = render_dialogue(
        lines.iter().map(|(label, text)| (*label, text.as_str())),
        redactor,
        options.max_transcript_chars,
    )
    .text;
    if let Some(last) = conversation.events.last() {
        let hours = (as_of - last.at).num_hours().max(0);
        text.push_str(&format!(
            "\n(no event after this: the end user stayed silent for {hours} hours)"
        ));
    }
    text
}

/// The label and text of one event as the model reads it.
fn event_line(kind: &EventKind) -> (&'static str, String) {
    let id = |article: &Option<String>| article.clone().unwrap_or_else(|| "an article".into());
    match kind {
        EventKind::Message { from, text, public } => (
            match (from, public) {
                (Some(Sender::EndUser), _) => "End user",
                (Some(Sender::AiAgent), true) => "AI agent (public)",
                (Some(Sender::AiAgent), false) => "AI agent (internal)",
                (Some(Sender::HumanAgent), true) => "Human agent (public)",
                (Some(Sender::HumanAgent), false) => "Human agent (internal note)",
                (None, _) => "Unknown sender",
            },
            text.clone(),
        ),
        EventKind::InternalNote { text } => ("Internal note", text.clone()),
        EventKind::ArticleShared {
            article,
            via,
            title,
        } => (
            "Article shared",
            format!(
                "{} ({}){}",
                id(article),
                via.map_or("unknown way", |via| match via {
                    debrief_core::resolution::Via::Recommendation => "recommendation",
                    debrief_core::resolution::Via::FlowStep => "answer-flow step",
                    debrief_core::resolution::Via::Generative => "inside a generative reply",
                    debrief_core::resolution::Via::Autoreply => "autoreply",
                }),
                title
                    .as_ref()
                    .map(|title| format!(", title \"{title}\""))
                    .unwrap_or_default()
            ),
        ),
        EventKind::ArticleClick { article } => {
            ("Event", format!("the end user opened {}", id(article)))
        }
        EventKind::Feedback { positive } => (
            "Feedback",
            match positive {
                Some(true) => "positive (yes, problem solved)".into(),
                Some(false) => "negative (no, I still need help)".into(),
                None => "given without a value".into(),
            },
        ),
        EventKind::CloseRequestClick => (
            "Event",
            "the end user clicked \"yes, close my request\"".into(),
        ),
        EventKind::FlowFinalStep => (
            "Event",
            "the end user reached the final step of an answer flow".into(),
        ),
        EventKind::Escalated => ("Event", "handed to a human agent".into()),
        EventKind::LiveChatStarted => ("Event", "the end user started a live chat".into()),
        EventKind::ContactFormSubmitted => {
            ("Event", "the end user submitted a contact form".into())
        }
        EventKind::CallbackRequested => ("Event", "the end user asked for a callback".into()),
        EventKind::NotUnderstood => (
            "Event",
            "the AI agent did not understand the request".into(),
        ),
        EventKind::Autoreply => ("Event", "an automatic reply was added".into()),
        EventKind::StatusChanged { to } => (
            "Status",
            format!(
                "changed to {}",
                to.map_or_else(|| "an unknown status".to_string(), |to| format!("{to:?}"))
            ),
        ),
        EventKind::SessionClosed => ("Event", "the end user closed the widget".into()),
        EventKind::Other => ("Event", "another event".into()),
    }
}

/// The judge that answers the resolution check: one in-process, or a model.
#[derive(Clone)]
pub enum ResolutionCheck {
    InProcess(Judge),
    Llm(Arc<LlmJudge>),
}

impl ResolutionCheck {
    /// The judge, model and prompt version recorded with a verdict this check would give.
    pub fn describe(&self) -> (String, String, String) {
        match self {
            ResolutionCheck::InProcess(judge) => (
                judge.name().to_string(),
                judge.model().to_string(),
                judge.check_version().to_string(),
            ),
            ResolutionCheck::Llm(judge) => (
                "llm".to_string(),
                judge.backend.model_id(),
                CHECK_PROMPT_VERSION.to_string(),
            ),
        }
    }

    /// The "was the problem solved?" reading of a dialogue (`debrief judge`, `eval judge`): a
    /// different question from the automated-resolution check, needing positive evidence.
    pub async fn judge_dialogue(&self, lines: &[DialogueLine<'_>]) -> CheckedJudgement {
        match self {
            ResolutionCheck::InProcess(judge) => in_process(*judge, lines),
            ResolutionCheck::Llm(judge) => judge.judge(lines).await,
        }
    }

    /// The check of a conversation that the rules would count: `awaiting` names the rule and
    /// when the verdict is decided.
    pub async fn check(
        &self,
        conversation: &Conversation,
        awaiting: &AwaitingJudge,
    ) -> CheckedJudgement {
        let rule = awaiting.if_resolved.rule;
        match self {
            ResolutionCheck::InProcess(judge) => in_process_check(*judge, conversation, rule),
            ResolutionCheck::Llm(judge) => {
                let as_of = awaiting
                    .if_resolved
                    .decided_at
                    .or_else(|| conversation.events.last().map(|event| event.at))
                    .unwrap_or_else(Utc::now);
                judge.check(conversation, rule, as_of).await
            }
        }
    }
}

/// An in-process judge's automated-resolution check.
fn in_process_check(judge: Judge, conversation: &Conversation, rule: Rule) -> CheckedJudgement {
    CheckedJudgement {
        judgement: judge.check_conversation(conversation, rule),
        judge: judge.name().to_string(),
        model: judge.model().to_string(),
        prompt_version: judge.check_version().to_string(),
        fallback: None,
        redactions: RedactionReport::default(),
    }
}

/// An in-process judge's judgement.
fn in_process(judge: Judge, lines: &[DialogueLine<'_>]) -> CheckedJudgement {
    CheckedJudgement {
        judgement: judge.judge(lines),
        judge: judge.name().to_string(),
        model: judge.model().to_string(),
        prompt_version: judge.prompt_version().to_string(),
        fallback: None,
        redactions: RedactionReport::default(),
    }
}
