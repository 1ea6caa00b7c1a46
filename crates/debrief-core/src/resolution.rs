//! Automated resolutions: the conversation format (FORMATS.md section 3) and the rule engine
//! of SPEC.md section 7 that decides whether a conversation counts.
//!
//! [`evaluate`] is pure: it never calls the LLM check itself. When the rules leave the answer
//! to the check it returns [`Evaluation::NeedsJudge`] with both possible verdicts, so the
//! caller runs whichever judge is configured (sync or async) and picks one.

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::error::RecordError;

/// The default evaluation window, and the session duration of an advanced chat agent when the
/// record names none.
pub const WINDOW_HOURS: i64 = 72;

/// Which AI agent (or automation) handled the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentKind {
    MessagingAiAgent,
    AdvancedChatAgent,
    AdvancedTicketAgent,
    AutoreplyArticles,
    AutoreplyTriage,
    WebWidgetClassic,
}

impl AgentKind {
    /// The rule family of this agent kind (the prefix of its rules).
    pub fn family(self) -> &'static str {
        match self {
            AgentKind::MessagingAiAgent => "messaging",
            AgentKind::AdvancedChatAgent => "advanced_chat",
            AgentKind::AdvancedTicketAgent => "advanced_ticket",
            AgentKind::AutoreplyArticles => "autoreply_articles",
            AgentKind::AutoreplyTriage => "autoreply_triage",
            AgentKind::WebWidgetClassic => "web_widget",
        }
    }

    fn window_open_rule(self) -> Rule {
        match self {
            AgentKind::MessagingAiAgent => rules::MESSAGING_WINDOW_OPEN,
            AgentKind::AdvancedChatAgent => rules::ADVANCED_CHAT_WINDOW_OPEN,
            AgentKind::AdvancedTicketAgent => rules::ADVANCED_TICKET_WINDOW_OPEN,
            AgentKind::AutoreplyArticles => rules::AUTOREPLY_ARTICLES_WINDOW_OPEN,
            AgentKind::AutoreplyTriage => rules::AUTOREPLY_TRIAGE_WINDOW_OPEN,
            AgentKind::WebWidgetClassic => rules::WEB_WIDGET_WINDOW_OPEN,
        }
    }
}

/// A conversation's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationStatus {
    Open,
    HandledByAi,
    Replied,
    Escalated,
    Solved,
    Closed,
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sender {
    EndUser,
    AiAgent,
    HumanAgent,
}

/// How an article was shared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    Recommendation,
    FlowStep,
    Generative,
    Autoreply,
}

/// What a conversation event is, with the fields the rules read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    Message {
        from: Option<Sender>,
        text: String,
        public: bool,
    },
    InternalNote {
        text: String,
    },
    ArticleShared {
        article: Option<String>,
        via: Option<Via>,
        /// The article's title, when given: what the LLM check reads for relevance.
        title: Option<String>,
    },
    ArticleClick {
        article: Option<String>,
    },
    /// `Some(true)` positive, `Some(false)` negative.
    Feedback {
        positive: Option<bool>,
    },
    CloseRequestClick,
    FlowFinalStep,
    Escalated,
    LiveChatStarted,
    ContactFormSubmitted,
    CallbackRequested,
    NotUnderstood,
    Autoreply,
    StatusChanged {
        to: Option<ConversationStatus>,
    },
    SessionClosed,
    /// An event type the rules do not know: kept out of every rule.
    Other,
}

/// One event of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationEvent {
    pub at: DateTime<Utc>,
    pub kind: EventKind,
}

/// A validated conversation, its events in time order (equal times in input order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    pub id: String,
    pub company: Option<String>,
    pub channel: Option<String>,
    pub agent: AgentKind,
    /// The configured session duration (advanced chat agents).
    pub session_duration: TimeDelta,
    pub status: Option<ConversationStatus>,
    pub events: Vec<ConversationEvent>,
}

#[derive(Deserialize)]
struct RawConversation<'a> {
    id: String,
    #[serde(default)]
    company: Option<String>,
    #[serde(default)]
    channel: Option<String>,
    agent: AgentKind,
    #[serde(default)]
    session_duration_hours: Option<f64>,
    #[serde(default)]
    status: Option<ConversationStatus>,
    #[serde(default, borrow)]
    events: Option<Vec<RawEvent<'a>>>,
}

#[derive(Deserialize)]
struct RawEvent<'a> {
    #[serde(deserialize_with = "crate::timestamp::deserialize")]
    at: DateTime<FixedOffset>,
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default)]
    from: Option<Sender>,
    #[serde(default, borrow)]
    text: Option<Cow<'a, str>>,
    #[serde(default)]
    public: Option<bool>,
    #[serde(default, borrow)]
    article: Option<Cow<'a, str>>,
    #[serde(default)]
    via: Option<Via>,
    #[serde(default, borrow)]
    title: Option<Cow<'a, str>>,
    #[serde(default)]
    value: Option<FeedbackValue>,
    /// A status for `status_changed`; free text for `escalated`.
    #[serde(default, borrow)]
    to: Option<Cow<'a, str>>,
    // Validated but not read by the rules:
    #[serde(default, rename = "where")]
    _place: Option<ClickPlace>,
    #[serde(default, rename = "trigger")]
    _trigger: Option<AutoreplyTrigger>,
    #[serde(default, rename = "reason")]
    _reason: Option<CloseReason>,
}

/// `feedback.value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum FeedbackValue {
    Positive,
    Negative,
}

/// `close_request_click.where`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ClickPlace {
    ArticlePage,
    Email,
    WebForm,
}

/// `autoreply.trigger`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum AutoreplyTrigger {
    Articles,
    Triage,
}

/// `session_closed.reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum CloseReason {
    BrowserClosed,
    TabClosed,
}

impl RawEvent<'_> {
    fn into_event(self, index: usize) -> Result<ConversationEvent, RecordError> {
        let text = || self.text.as_deref().unwrap_or_default().to_string();
        let kind = match self.kind.as_ref() {
            "message" => EventKind::Message {
                from: self.from,
                text: text(),
                public: self.public.unwrap_or(true),
            },
            "internal_note" => EventKind::InternalNote { text: text() },
            "article_shared" => EventKind::ArticleShared {
                article: self.article.map(Cow::into_owned),
                via: self.via,
                title: self.title.map(Cow::into_owned),
            },
            "article_click" => EventKind::ArticleClick {
                article: self.article.map(Cow::into_owned),
            },
            "feedback" => EventKind::Feedback {
                positive: self.value.map(|value| value == FeedbackValue::Positive),
            },
            "close_request_click" => EventKind::CloseRequestClick,
            "flow_final_step" => EventKind::FlowFinalStep,
            "escalated" => EventKind::Escalated,
            "live_chat_started" => EventKind::LiveChatStarted,
            "contact_form_submitted" => EventKind::ContactFormSubmitted,
            "callback_requested" => EventKind::CallbackRequested,
            "not_understood" => EventKind::NotUnderstood,
            "autoreply" => EventKind::Autoreply,
            "status_changed" => EventKind::StatusChanged {
                to: self
                    .to
                    .as_deref()
                    .map(|to| {
                        ConversationStatus::deserialize(serde::de::value::StrDeserializer::<
                            serde::de::value::Error,
                        >::new(to))
                        .map_err(|error| {
                            RecordError::invalid(format!("events[{index}].to"), error.to_string())
                        })
                    })
                    .transpose()?,
            },
            "session_closed" => EventKind::SessionClosed,
            _ => EventKind::Other,
        };
        Ok(ConversationEvent {
            at: self.at.with_timezone(&Utc),
            kind,
        })
    }
}

impl Conversation {
    /// Parses and validates one conversation from JSON text; unknown fields and event types
    /// are ignored, events are put in time order.
    pub fn parse_json(text: &str) -> Result<Conversation, RecordError> {
        let raw: RawConversation<'_> = crate::timestamp::from_json_with_path(text)?;
        crate::error::check_id("id", &raw.id)?;
        if let Some(channel) = &raw.channel {
            crate::error::check_id("channel", channel)?;
        }
        crate::error::reject_nul(text)?;
        let hours = raw.session_duration_hours.unwrap_or(WINDOW_HOURS as f64);
        if !(hours > 0.0 && hours.is_finite() && hours < 1.0e6) {
            return Err(RecordError::invalid(
                "session_duration_hours",
                format!("must be a positive number of hours, not {hours}"),
            ));
        }
        let mut events = raw
            .events
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(index, event)| event.into_event(index))
            .collect::<Result<Vec<_>, _>>()?;
        events.sort_by_key(|event| event.at);
        Ok(Conversation {
            id: raw.id,
            company: raw.company,
            channel: raw.channel,
            agent: raw.agent,
            session_duration: TimeDelta::milliseconds((hours * 3_600_000.0).round() as i64),
            status: raw.status,
            events,
        })
    }
}

/// A conversation's JSON document as received, merged across writes: later writes replace its
/// fields, and its events are the union of every write's (an event with an `id` is the same
/// event as another with that `id`; one without is the same as an identical one).
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationDocument {
    fields: serde_json::Map<String, serde_json::Value>,
}

impl ConversationDocument {
    /// Parses and validates a document.
    pub fn parse(text: &str) -> Result<(ConversationDocument, Conversation), RecordError> {
        let conversation = Conversation::parse_json(text)?;
        let fields = match serde_json::from_str(text) {
            Ok(serde_json::Value::Object(fields)) => fields,
            _ => {
                return Err(RecordError::invalid(
                    crate::error::ROOT_FIELD,
                    "must be an object",
                ))
            }
        };
        Ok((ConversationDocument { fields }, conversation))
    }

    /// Adds the events not already present; returns how many were added.
    pub fn append_events(&mut self, incoming: Vec<serde_json::Value>) -> usize {
        let mut events = match self.fields.remove("events") {
            Some(serde_json::Value::Array(events)) => events,
            _ => Vec::new(),
        };
        let mut added = 0;
        for event in incoming {
            let duplicate = match event.get("id") {
                Some(id) => events.iter().any(|known| known.get("id") == Some(id)),
                None => events.contains(&event),
            };
            if !duplicate {
                events.push(event);
                added += 1;
            }
        }
        self.fields
            .insert("events".into(), serde_json::Value::Array(events));
        added
    }

    /// The document's events as received.
    pub fn events(&self) -> &[serde_json::Value] {
        match self.fields.get("events") {
            Some(serde_json::Value::Array(events)) => events,
            _ => &[],
        }
    }

    /// The same document with `events` instead of its own.
    pub fn with_events(&self, events: Vec<serde_json::Value>) -> ConversationDocument {
        let mut fields = self.fields.clone();
        fields.insert("events".into(), serde_json::Value::Array(events));
        ConversationDocument { fields }
    }

    /// Takes `newer`'s fields and adds its new events.
    pub fn merge(&mut self, mut newer: ConversationDocument) {
        let incoming = match newer.fields.remove("events") {
            Some(serde_json::Value::Array(events)) => events,
            _ => Vec::new(),
        };
        for (key, value) in newer.fields {
            self.fields.insert(key, value);
        }
        self.append_events(incoming);
    }

    /// The document as JSON text.
    pub fn to_json(&self) -> String {
        serde_json::Value::Object(self.fields.clone()).to_string()
    }

    /// The validated conversation the document describes.
    pub fn conversation(&self) -> Result<Conversation, RecordError> {
        Conversation::parse_json(&self.to_json())
    }
}

/// A rule of SPEC.md section 7, named `family.rule`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rule(&'static str);

impl Rule {
    /// The rule's name.
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.0)
    }
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0)
    }
}

/// Every rule name.
pub mod rules {
    use super::Rule;

    pub const NEVER_ESCALATED: Rule = Rule("never.escalated");
    pub const NEVER_LIVE_CHAT: Rule = Rule("never.live_chat");
    pub const NEVER_CONTACT_FORM: Rule = Rule("never.contact_form");
    pub const NEVER_CALLBACK: Rule = Rule("never.callback");
    pub const NEVER_NEGATIVE_FEEDBACK: Rule = Rule("never.negative_feedback");
    pub const NEVER_NOT_UNDERSTOOD: Rule = Rule("never.not_understood");
    pub const LLM_CHECK_FAILED: Rule = Rule("llm_check.failed");
    /// A verdict set by an admin, with the admin's reason.
    pub const ADMIN_OVERRIDE: Rule = Rule("admin.override");

    pub const MESSAGING_WINDOW_OPEN: Rule = Rule("messaging.window_open");
    pub const MESSAGING_POSITIVE_FEEDBACK: Rule = Rule("messaging.positive_feedback");
    pub const MESSAGING_GENERATIVE_ARTICLE: Rule = Rule("messaging.generative_article");
    pub const MESSAGING_ARTICLE_CLICKED: Rule = Rule("messaging.article_clicked");
    pub const MESSAGING_FLOW_FINAL_STEP: Rule = Rule("messaging.flow_final_step");
    pub const MESSAGING_AI_JUDGED_RESOLVED: Rule = Rule("messaging.ai_judged_resolved");
    pub const MESSAGING_NOT_RESOLVED: Rule = Rule("messaging.not_resolved");

    pub const ADVANCED_CHAT_WINDOW_OPEN: Rule = Rule("advanced_chat.window_open");
    pub const ADVANCED_CHAT_HANDLED: Rule = Rule("advanced_chat.handled");
    pub const ADVANCED_CHAT_NOT_HANDLED: Rule = Rule("advanced_chat.not_handled");

    pub const ADVANCED_TICKET_WINDOW_OPEN: Rule = Rule("advanced_ticket.window_open");
    pub const ADVANCED_TICKET_REPLIED: Rule = Rule("advanced_ticket.replied");
    pub const ADVANCED_TICKET_INTERNAL_ONLY: Rule = Rule("advanced_ticket.internal_only");

    pub const AUTOREPLY_ARTICLES_WINDOW_OPEN: Rule = Rule("autoreply_articles.window_open");
    pub const AUTOREPLY_ARTICLES_CLOSE_REQUEST: Rule = Rule("autoreply_articles.close_request");
    pub const AUTOREPLY_ARTICLES_CLICKED_NO_REPLY: Rule =
        Rule("autoreply_articles.clicked_no_reply");
    pub const AUTOREPLY_ARTICLES_NO_CLICK: Rule = Rule("autoreply_articles.no_click");
    pub const AUTOREPLY_ARTICLES_REPLIED: Rule = Rule("autoreply_articles.replied");

    pub const AUTOREPLY_TRIAGE_WINDOW_OPEN: Rule = Rule("autoreply_triage.window_open");
    pub const AUTOREPLY_TRIAGE_NO_REPLY: Rule = Rule("autoreply_triage.no_reply");
    pub const AUTOREPLY_TRIAGE_REPLIED: Rule = Rule("autoreply_triage.replied");
    pub const AUTOREPLY_TRIAGE_NO_AUTOREPLY: Rule = Rule("autoreply_triage.no_autoreply");

    pub const WEB_WIDGET_WINDOW_OPEN: Rule = Rule("web_widget.window_open");
    pub const WEB_WIDGET_ARTICLE_CLICKED: Rule = Rule("web_widget.article_clicked");
    pub const WEB_WIDGET_POSITIVE_FEEDBACK: Rule = Rule("web_widget.positive_feedback");
    pub const WEB_WIDGET_NO_ARTICLE_ENGAGEMENT: Rule = Rule("web_widget.no_article_engagement");
}

/// Whether a conversation counts as an automated resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictKind {
    Counted,
    NotCounted,
    /// Its evaluation time has not come yet.
    Pending,
}

/// The verdict on one conversation (FORMATS.md section 4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub id: String,
    pub verdict: VerdictKind,
    pub rule: Rule,
    pub decided_at: Option<DateTime<Utc>>,
    pub reason: Cow<'static, str>,
}

/// A verdict that waits for the LLM check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwaitingJudge {
    /// The verdict when the check confirms the conversation was resolved.
    pub if_resolved: Verdict,
    /// The verdict when it does not.
    pub if_not_resolved: Verdict,
}

impl AwaitingJudge {
    /// The verdict for the judge's answer.
    pub fn decide(self, resolved: bool) -> Verdict {
        if resolved {
            self.if_resolved
        } else {
            self.if_not_resolved
        }
    }
}

/// What the rules say about a conversation at a moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evaluation {
    /// The rules alone decided.
    Final(Verdict),
    /// The rules would count it if the LLM check agrees.
    NeedsJudge(AwaitingJudge),
}

impl Evaluation {
    /// The verdict, asking `judge` only when the rules need it.
    pub fn resolve_with(self, judge: impl FnOnce() -> bool) -> Verdict {
        match self {
            Evaluation::Final(verdict) => verdict,
            Evaluation::NeedsJudge(awaiting) => awaiting.decide(judge()),
        }
    }
}

/// The earliest moment at which [`evaluate`] gives a final verdict: at once (the minimum
/// time) for a conversation with a human request or an escalated status, which every event
/// time decides alike, or else when it becomes due. `None` while it has no events: it stays
/// pending.
pub fn decidable_at(conversation: &Conversation) -> Option<DateTime<Utc>> {
    let view = Timeline::new(conversation);
    if view.human_request().is_some() || conversation.status == Some(ConversationStatus::Escalated)
    {
        return Some(DateTime::<Utc>::MIN_UTC);
    }
    view.due()
}

/// Evaluates `conversation` at `as_of` under SPEC.md section 7.
pub fn evaluate(conversation: &Conversation, as_of: DateTime<Utc>) -> Evaluation {
    let view = Timeline::new(conversation);
    let verdict = |verdict: VerdictKind, rule: Rule, decided_at, reason: &'static str| Verdict {
        id: conversation.id.clone(),
        verdict,
        rule,
        decided_at,
        reason: Cow::Borrowed(reason),
    };
    let due = view.due();

    // 1. A human request anywhere: never counted, decided by the earliest such event.
    if let Some((at, rule, reason)) = view.human_request() {
        return Evaluation::Final(verdict(VerdictKind::NotCounted, rule, Some(at), reason));
    }
    if conversation.status == Some(ConversationStatus::Escalated) {
        return Evaluation::Final(verdict(
            VerdictKind::NotCounted,
            rules::NEVER_ESCALATED,
            due,
            "the conversation's status is escalated",
        ));
    }

    // 2. Not due yet (a conversation without events is never due).
    let due = match due {
        Some(due) if as_of >= due => due,
        _ => {
            return Evaluation::Final(verdict(
                VerdictKind::Pending,
                conversation.agent.window_open_rule(),
                None,
                "the evaluation window is still open",
            ))
        }
    };

    // 3. Negative feedback, then a request the agent did not understand.
    if let Some(at) = view.last_feedback_negative() {
        return Evaluation::Final(verdict(
            VerdictKind::NotCounted,
            rules::NEVER_NEGATIVE_FEEDBACK,
            Some(at),
            "the end user's last feedback was negative",
        ));
    }
    if let Some(at) = view.not_understood_in_last_exchange() {
        return Evaluation::Final(verdict(
            VerdictKind::NotCounted,
            rules::NEVER_NOT_UNDERSTOOD,
            Some(at),
            "the AI agent did not understand the end user's last request",
        ));
    }

    // 4. The family's rules, then the LLM check.
    let decided = Some(due);
    let counted_if_judged = |rule: Rule, reason: &'static str| {
        Evaluation::NeedsJudge(AwaitingJudge {
            if_resolved: verdict(VerdictKind::Counted, rule, decided, reason),
            if_not_resolved: verdict(
                VerdictKind::NotCounted,
                rules::LLM_CHECK_FAILED,
                decided,
                "the LLM check did not confirm a resolution without a human",
            ),
        })
    };
    let not_counted = |rule: Rule, reason: &'static str| {
        Evaluation::Final(verdict(VerdictKind::NotCounted, rule, decided, reason))
    };

    match conversation.agent {
        AgentKind::MessagingAiAgent => match view.messaging_signal() {
            Some((rule, reason)) => counted_if_judged(rule, reason),
            None => Evaluation::NeedsJudge(AwaitingJudge {
                if_resolved: verdict(
                    VerdictKind::Counted,
                    rules::MESSAGING_AI_JUDGED_RESOLVED,
                    decided,
                    "no feedback or article signal; the AI evaluation judged it resolved",
                ),
                if_not_resolved: verdict(
                    VerdictKind::NotCounted,
                    rules::MESSAGING_NOT_RESOLVED,
                    decided,
                    "no feedback or article signal; the AI evaluation did not judge it resolved",
                ),
            }),
        },
        AgentKind::AdvancedChatAgent => {
            if conversation.status == Some(ConversationStatus::HandledByAi) {
                counted_if_judged(
                    rules::ADVANCED_CHAT_HANDLED,
                    "the conversation was handled by the AI agent",
                )
            } else {
                not_counted(
                    rules::ADVANCED_CHAT_NOT_HANDLED,
                    "the conversation's status is not handled by the AI agent",
                )
            }
        }
        AgentKind::AdvancedTicketAgent => {
            let replied_status = matches!(
                conversation.status,
                Some(ConversationStatus::Replied | ConversationStatus::Solved)
            );
            if replied_status && view.has_public_ai_reply() {
                counted_if_judged(
                    rules::ADVANCED_TICKET_REPLIED,
                    "the AI agent sent a public reply",
                )
            } else {
                not_counted(
                    rules::ADVANCED_TICKET_INTERNAL_ONLY,
                    "no public AI reply with the ticket replied or solved",
                )
            }
        }
        AgentKind::AutoreplyArticles => match view.autoreply_articles() {
            ArticlesOutcome::CloseRequest => counted_if_judged(
                rules::AUTOREPLY_ARTICLES_CLOSE_REQUEST,
                "the user clicked \"yes, close my request\"",
            ),
            ArticlesOutcome::ClickedNoReply => counted_if_judged(
                rules::AUTOREPLY_ARTICLES_CLICKED_NO_REPLY,
                "the user opened a suggested article and nobody replied before the ticket was solved",
            ),
            ArticlesOutcome::NoClick => not_counted(
                rules::AUTOREPLY_ARTICLES_NO_CLICK,
                "no suggested article was opened within 72 hours",
            ),
            ArticlesOutcome::Replied => not_counted(
                rules::AUTOREPLY_ARTICLES_REPLIED,
                "a reply came before the ticket was solved",
            ),
        },
        AgentKind::AutoreplyTriage => match view.autoreply_triage() {
            TriageOutcome::NoAutoreply => not_counted(
                rules::AUTOREPLY_TRIAGE_NO_AUTOREPLY,
                "no autoreply was added",
            ),
            TriageOutcome::Replied => not_counted(
                rules::AUTOREPLY_TRIAGE_REPLIED,
                "a reply came within 72 hours of the autoreply",
            ),
            TriageOutcome::NoReply => counted_if_judged(
                rules::AUTOREPLY_TRIAGE_NO_REPLY,
                "no reply within 72 hours of the autoreply",
            ),
        },
        AgentKind::WebWidgetClassic => match view.web_widget_signal() {
            Some((rule, reason)) => counted_if_judged(rule, reason),
            None => not_counted(
                rules::WEB_WIDGET_NO_ARTICLE_ENGAGEMENT,
                "no recommended article was clicked and no positive feedback followed one",
            ),
        },
    }
}

enum ArticlesOutcome {
    CloseRequest,
    ClickedNoReply,
    NoClick,
    Replied,
}

enum TriageOutcome {
    NoAutoreply,
    Replied,
    NoReply,
}

/// Read-only questions about a conversation's ordered events.
struct Timeline<'a> {
    conversation: &'a Conversation,
    events: &'a [ConversationEvent],
}

fn window() -> TimeDelta {
    TimeDelta::hours(WINDOW_HOURS)
}

impl<'a> Timeline<'a> {
    fn new(conversation: &'a Conversation) -> Self {
        Timeline {
            conversation,
            events: &conversation.events,
        }
    }

    fn first_at(&self) -> Option<DateTime<Utc>> {
        self.events.first().map(|event| event.at)
    }

    fn last_at(&self) -> Option<DateTime<Utc>> {
        self.events.last().map(|event| event.at)
    }

    fn position(&self, predicate: impl Fn(&EventKind) -> bool) -> Option<usize> {
        self.events.iter().position(|event| predicate(&event.kind))
    }

    /// When the conversation's evaluation becomes due; `None` without events.
    fn due(&self) -> Option<DateTime<Utc>> {
        let first = self.first_at()?;
        let first_of = |predicate: fn(&EventKind) -> bool| {
            self.position(predicate)
                .map(|index| self.events[index].at)
                .unwrap_or(first)
        };
        Some(match self.conversation.agent {
            AgentKind::MessagingAiAgent => self.last_at()? + window(),
            AgentKind::AdvancedChatAgent => first + self.conversation.session_duration,
            AgentKind::AdvancedTicketAgent => first + window(),
            AgentKind::AutoreplyArticles => {
                first_of(|kind| matches!(kind, EventKind::ArticleShared { .. })) + window()
            }
            AgentKind::AutoreplyTriage => {
                first_of(|kind| matches!(kind, EventKind::Autoreply)) + window()
            }
            AgentKind::WebWidgetClassic => {
                match self.position(|kind| matches!(kind, EventKind::SessionClosed)) {
                    Some(index) => self.events[index].at,
                    None => self.last_at()? + window(),
                }
            }
        })
    }

    /// The earliest request for a human, with its rule.
    fn human_request(&self) -> Option<(DateTime<Utc>, Rule, &'static str)> {
        self.events.iter().find_map(|event| {
            let (rule, reason) = match event.kind {
                EventKind::Escalated => (rules::NEVER_ESCALATED, "escalated to a human agent"),
                EventKind::StatusChanged {
                    to: Some(ConversationStatus::Escalated),
                } => (rules::NEVER_ESCALATED, "the status changed to escalated"),
                EventKind::LiveChatStarted => {
                    (rules::NEVER_LIVE_CHAT, "the user started a live chat")
                }
                EventKind::ContactFormSubmitted => (
                    rules::NEVER_CONTACT_FORM,
                    "the user submitted a contact form",
                ),
                EventKind::CallbackRequested => {
                    (rules::NEVER_CALLBACK, "the user asked for a callback")
                }
                _ => return None,
            };
            Some((event.at, rule, reason))
        })
    }

    /// The time of the last feedback when it is negative.
    fn last_feedback_negative(&self) -> Option<DateTime<Utc>> {
        self.events
            .iter()
            .rev()
            .find_map(|event| match event.kind {
                EventKind::Feedback {
                    positive: Some(positive),
                } => Some((event.at, positive)),
                _ => None,
            })
            .filter(|(_, positive)| !positive)
            .map(|(at, _)| at)
    }

    /// The events after the end user's last message (all of them without one).
    fn last_exchange(&self) -> &'a [ConversationEvent] {
        let last_message = self.events.iter().rposition(|event| {
            matches!(
                event.kind,
                EventKind::Message {
                    from: Some(Sender::EndUser),
                    ..
                }
            )
        });
        match last_message {
            Some(index) => &self.events[index + 1..],
            None => self.events,
        }
    }

    fn not_understood_in_last_exchange(&self) -> Option<DateTime<Utc>> {
        self.last_exchange()
            .iter()
            .find(|event| matches!(event.kind, EventKind::NotUnderstood))
            .map(|event| event.at)
    }

    /// The first messaging signal of the last exchange, in the table's order.
    fn messaging_signal(&self) -> Option<(Rule, &'static str)> {
        let exchange = self.last_exchange();
        let any =
            |predicate: fn(&EventKind) -> bool| exchange.iter().any(|event| predicate(&event.kind));
        if any(|kind| {
            matches!(
                kind,
                EventKind::Feedback {
                    positive: Some(true)
                }
            )
        }) {
            return Some((
                rules::MESSAGING_POSITIVE_FEEDBACK,
                "the end user gave positive feedback",
            ));
        }
        if any(|kind| {
            matches!(
                kind,
                EventKind::ArticleShared {
                    via: Some(Via::Generative),
                    ..
                }
            )
        }) {
            return Some((
                rules::MESSAGING_GENERATIVE_ARTICLE,
                "the agent shared an article in a generative reply",
            ));
        }
        if clicked_after_share(exchange, |via| {
            matches!(via, Some(Via::Recommendation | Via::FlowStep))
        }) {
            return Some((
                rules::MESSAGING_ARTICLE_CLICKED,
                "the end user clicked an article the agent recommended",
            ));
        }
        if any(|kind| matches!(kind, EventKind::FlowFinalStep)) {
            return Some((
                rules::MESSAGING_FLOW_FINAL_STEP,
                "the end user reached the final step of an answer flow",
            ));
        }
        None
    }

    fn has_public_ai_reply(&self) -> bool {
        self.events.iter().any(|event| {
            matches!(
                event.kind,
                EventKind::Message {
                    from: Some(Sender::AiAgent),
                    public: true,
                    ..
                }
            )
        })
    }

    fn autoreply_articles(&self) -> ArticlesOutcome {
        if self
            .events
            .iter()
            .any(|event| matches!(event.kind, EventKind::CloseRequestClick))
        {
            return ArticlesOutcome::CloseRequest;
        }
        let Some(first_suggestion) =
            self.position(|kind| matches!(kind, EventKind::ArticleShared { .. }))
        else {
            return ArticlesOutcome::NoClick;
        };
        let deadline = self.events[first_suggestion].at + window();
        let clicked = self.events.iter().enumerate().any(|(index, event)| {
            let EventKind::ArticleClick {
                article: Some(article),
            } = &event.kind
            else {
                return false;
            };
            event.at <= deadline
                && self.events[..index].iter().any(|earlier| {
                    matches!(&earlier.kind, EventKind::ArticleShared { article: Some(shared), .. } if shared == article)
                })
        });
        if !clicked {
            return ArticlesOutcome::NoClick;
        }
        let from_suggestion = &self.events[first_suggestion..];
        let first_reply = from_suggestion
            .iter()
            .position(|event| is_reply(&event.kind));
        let solved = from_suggestion.iter().position(|event| {
            matches!(
                event.kind,
                EventKind::StatusChanged {
                    to: Some(ConversationStatus::Solved)
                }
            )
        });
        match (first_reply, solved) {
            (None, _) => ArticlesOutcome::ClickedNoReply,
            (Some(reply), Some(solved)) if solved < reply => ArticlesOutcome::ClickedNoReply,
            _ => ArticlesOutcome::Replied,
        }
    }

    fn autoreply_triage(&self) -> TriageOutcome {
        let Some(autoreply) = self.position(|kind| matches!(kind, EventKind::Autoreply)) else {
            return TriageOutcome::NoAutoreply;
        };
        let deadline = self.events[autoreply].at + window();
        let replied = self.events[autoreply..]
            .iter()
            .any(|event| is_reply(&event.kind) && event.at <= deadline);
        if replied {
            TriageOutcome::Replied
        } else {
            TriageOutcome::NoReply
        }
    }

    fn web_widget_signal(&self) -> Option<(Rule, &'static str)> {
        if clicked_after_share(self.events, |via| via == Some(Via::Recommendation)) {
            return Some((
                rules::WEB_WIDGET_ARTICLE_CLICKED,
                "the user clicked a recommended article",
            ));
        }
        let recommended = self.events.iter().any(|event| {
            matches!(
                event.kind,
                EventKind::ArticleShared {
                    via: Some(Via::Recommendation),
                    ..
                }
            )
        });
        let positive = self.events.iter().any(|event| {
            matches!(
                event.kind,
                EventKind::Feedback {
                    positive: Some(true)
                }
            )
        });
        (recommended && positive).then_some((
            rules::WEB_WIDGET_POSITIVE_FEEDBACK,
            "the user gave positive feedback after an article recommendation",
        ))
    }
}

/// A reply: an end-user message or a public human-agent message (public ones only).
fn is_reply(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::Message {
            from: Some(Sender::EndUser | Sender::HumanAgent),
            public: true,
            ..
        }
    )
}

/// Whether `events` hold a click on an article that was shared earlier in `events` by a way
/// `via_matches` accepts.
fn clicked_after_share(
    events: &[ConversationEvent],
    via_matches: impl Fn(Option<Via>) -> bool,
) -> bool {
    events.iter().enumerate().any(|(index, event)| {
        let EventKind::ArticleClick {
            article: Some(article),
        } = &event.kind
        else {
            return false;
        };
        events[..index].iter().any(|earlier| {
            matches!(&earlier.kind, EventKind::ArticleShared { article: Some(shared), via, .. } if shared == article && via_matches(*via))
        })
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{json, Value};

    use super::*;

    const T0: &str = "2026-06-01T09:00:00Z";

    fn at(minutes: i64) -> String {
        (T0.parse::<DateTime<Utc>>().expect("time") + TimeDelta::minutes(minutes)).to_rfc3339()
    }

    fn conversation(agent: &str, status: Option<&str>, events: Vec<Value>) -> Conversation {
        let mut record = json!({"id": "c-1", "agent": agent, "events": events});
        if let Some(status) = status {
            record["status"] = json!(status);
        }
        Conversation::parse_json(&record.to_string()).expect("valid conversation")
    }

    fn event(minutes: i64, kind: &str, fields: Value) -> Value {
        let mut event = json!({"at": at(minutes), "type": kind});
        if let (Some(target), Some(extra)) = (event.as_object_mut(), fields.as_object()) {
            target.extend(extra.clone());
        }
        event
    }

    fn user(minutes: i64) -> Value {
        event(
            minutes,
            "message",
            json!({"from": "end_user", "text": "help"}),
        )
    }

    fn ai(minutes: i64) -> Value {
        event(
            minutes,
            "message",
            json!({"from": "ai_agent", "text": "try this"}),
        )
    }

    fn days_later(days: i64) -> DateTime<Utc> {
        T0.parse::<DateTime<Utc>>().expect("time") + TimeDelta::days(days)
    }

    fn rule_of(
        conversation: &Conversation,
        as_of: DateTime<Utc>,
        judge: bool,
    ) -> (VerdictKind, &'static str) {
        let verdict = evaluate(conversation, as_of).resolve_with(|| judge);
        (verdict.verdict, verdict.rule.as_str())
    }

    #[test]
    fn a_human_request_decides_even_while_the_window_is_open() {
        let escalated = conversation(
            "messaging_ai_agent",
            Some("handled_by_ai"),
            vec![
                user(0),
                ai(1),
                event(2, "escalated", json!({"to": "tier2"})),
            ],
        );

        let verdict = evaluate(&escalated, days_later(0)).resolve_with(|| true);

        assert_eq!(
            (verdict.verdict, verdict.rule),
            (VerdictKind::NotCounted, rules::NEVER_ESCALATED)
        );
        assert_eq!(verdict.decided_at, Some(escalated.events[2].at));
    }

    #[test]
    fn the_earliest_human_request_decides_the_rule_whatever_the_input_order() {
        let both = conversation(
            "web_widget_classic",
            None,
            vec![
                event(9, "live_chat_started", json!({})),
                user(0),
                event(5, "callback_requested", json!({})),
            ],
        );

        assert_eq!(
            rule_of(&both, days_later(10), true),
            (VerdictKind::NotCounted, "never.callback")
        );
    }

    #[test]
    fn an_escalated_status_alone_decides_at_the_due_time() {
        let escalated = conversation(
            "advanced_ticket_agent",
            Some("escalated"),
            vec![user(0), ai(1)],
        );
        let empty = conversation("advanced_ticket_agent", Some("escalated"), vec![]);

        let verdict = evaluate(&escalated, days_later(0)).resolve_with(|| true);
        let empty_verdict = evaluate(&empty, days_later(0)).resolve_with(|| true);

        assert_eq!(verdict.rule, rules::NEVER_ESCALATED);
        assert_eq!(verdict.decided_at, Some(escalated.events[0].at + window()));
        assert_eq!(
            (empty_verdict.verdict, empty_verdict.decided_at),
            (VerdictKind::NotCounted, None)
        );
    }

    #[test]
    fn a_conversation_without_events_is_pending() {
        let empty = conversation("messaging_ai_agent", Some("handled_by_ai"), vec![]);

        assert_eq!(
            rule_of(&empty, days_later(400), true),
            (VerdictKind::Pending, "messaging.window_open")
        );
    }

    #[test]
    fn due_is_inclusive() {
        let ticket = conversation(
            "advanced_ticket_agent",
            Some("replied"),
            vec![user(0), ai(1)],
        );
        let due = ticket.events[0].at + window();

        assert_eq!(
            rule_of(&ticket, due - TimeDelta::seconds(1), true).0,
            VerdictKind::Pending
        );
        let verdict = evaluate(&ticket, due).resolve_with(|| true);
        assert_eq!(
            (verdict.rule, verdict.decided_at),
            (rules::ADVANCED_TICKET_REPLIED, Some(due))
        );
    }

    #[test]
    fn advanced_chat_uses_its_configured_session_duration() {
        let mut record = json!({"id": "c", "agent": "advanced_chat_agent", "status": "handled_by_ai",
                                "session_duration_hours": 2, "events": [user(0), ai(1)]});
        let short = Conversation::parse_json(&record.to_string()).expect("valid");
        record["session_duration_hours"] = json!(0);

        assert_eq!(
            rule_of(&short, days_later(0) + TimeDelta::hours(2), true).1,
            "advanced_chat.handled"
        );
        assert_eq!(
            rule_of(&short, days_later(0) + TimeDelta::minutes(119), true).0,
            VerdictKind::Pending
        );
        assert_eq!(
            Conversation::parse_json(&record.to_string())
                .expect_err("zero hours")
                .field
                .as_deref(),
            Some("session_duration_hours")
        );
    }

    #[test]
    fn negative_feedback_is_checked_before_not_understood() {
        let both = conversation(
            "messaging_ai_agent",
            Some("handled_by_ai"),
            vec![
                user(0),
                event(1, "not_understood", json!({})),
                event(2, "feedback", json!({"value": "negative"})),
            ],
        );
        let understood_earlier = conversation(
            "messaging_ai_agent",
            Some("handled_by_ai"),
            vec![
                user(0),
                event(1, "not_understood", json!({})),
                user(2),
                ai(3),
            ],
        );

        assert_eq!(
            rule_of(&both, days_later(5), true).1,
            "never.negative_feedback"
        );
        assert_eq!(
            rule_of(&understood_earlier, days_later(5), true).1,
            "messaging.ai_judged_resolved"
        );
    }

    #[test]
    fn a_click_counts_only_after_its_share_with_equal_times_in_input_order() {
        let share = event(
            1,
            "article_shared",
            json!({"article": "kb-1", "via": "recommendation"}),
        );
        let click = event(1, "article_click", json!({"article": "kb-1"}));
        let in_order = conversation(
            "messaging_ai_agent",
            None,
            vec![user(0), share.clone(), click.clone()],
        );
        let reversed = conversation("messaging_ai_agent", None, vec![user(0), click, share]);

        assert_eq!(
            rule_of(&in_order, days_later(5), true).1,
            "messaging.article_clicked"
        );
        assert_eq!(
            rule_of(&reversed, days_later(5), true).1,
            "messaging.ai_judged_resolved"
        );
        assert_eq!(
            rule_of(&reversed, days_later(5), false).1,
            "messaging.not_resolved"
        );
    }

    #[test]
    fn messaging_signals_before_the_last_user_message_do_not_count() {
        let earlier_feedback = conversation(
            "messaging_ai_agent",
            None,
            vec![
                user(0),
                event(1, "feedback", json!({"value": "positive"})),
                user(2),
                ai(3),
            ],
        );

        assert_eq!(
            rule_of(&earlier_feedback, days_later(5), false).1,
            "messaging.not_resolved"
        );
    }

    #[test]
    fn a_private_ai_message_is_not_a_ticket_reply() {
        let private = conversation(
            "advanced_ticket_agent",
            Some("replied"),
            vec![
                user(0),
                event(
                    1,
                    "message",
                    json!({"from": "ai_agent", "text": "x", "public": false}),
                ),
            ],
        );

        assert_eq!(
            rule_of(&private, days_later(5), true).1,
            "advanced_ticket.internal_only"
        );
    }

    #[test]
    fn autoreply_articles_follow_the_exact_readings() {
        let share = || {
            event(
                0,
                "article_shared",
                json!({"article": "kb-1", "via": "autoreply"}),
            )
        };
        let click_at = |minutes| event(minutes, "article_click", json!({"article": "kb-1"}));
        let solved_at = |minutes| event(minutes, "status_changed", json!({"to": "solved"}));
        let late_click = conversation(
            "autoreply_articles",
            None,
            vec![share(), click_at(72 * 60 + 1)],
        );
        let click_in_time =
            conversation("autoreply_articles", None, vec![share(), click_at(72 * 60)]);
        let reply_first = conversation(
            "autoreply_articles",
            None,
            vec![share(), click_at(5), user(6), solved_at(7)],
        );
        let solved_first = conversation(
            "autoreply_articles",
            None,
            vec![share(), click_at(5), solved_at(6), user(7)],
        );
        let close_only = conversation(
            "autoreply_articles",
            None,
            vec![
                user(0),
                event(3, "close_request_click", json!({"where": "email"})),
            ],
        );

        assert_eq!(
            rule_of(&late_click, days_later(10), true).1,
            "autoreply_articles.no_click"
        );
        assert_eq!(
            rule_of(&click_in_time, days_later(10), true).1,
            "autoreply_articles.clicked_no_reply"
        );
        assert_eq!(
            rule_of(&reply_first, days_later(10), true).1,
            "autoreply_articles.replied"
        );
        assert_eq!(
            rule_of(&solved_first, days_later(10), true).1,
            "autoreply_articles.clicked_no_reply"
        );
        assert_eq!(
            rule_of(&close_only, days_later(10), true).1,
            "autoreply_articles.close_request"
        );
    }

    #[test]
    fn autoreply_triage_counts_replies_within_72_hours_inclusive() {
        let autoreply = || event(0, "autoreply", json!({"trigger": "triage"}));
        let at_limit = conversation("autoreply_triage", None, vec![autoreply(), user(72 * 60)]);
        let after_limit = conversation(
            "autoreply_triage",
            None,
            vec![autoreply(), user(72 * 60 + 1)],
        );
        let internal = conversation(
            "autoreply_triage",
            None,
            vec![
                autoreply(),
                event(
                    5,
                    "message",
                    json!({"from": "human_agent", "text": "x", "public": false}),
                ),
            ],
        );
        let none = conversation("autoreply_triage", None, vec![user(0)]);

        assert_eq!(
            rule_of(&at_limit, days_later(10), true).1,
            "autoreply_triage.replied"
        );
        assert_eq!(
            rule_of(&after_limit, days_later(10), true).1,
            "autoreply_triage.no_reply"
        );
        assert_eq!(
            rule_of(&internal, days_later(10), true).1,
            "autoreply_triage.no_reply"
        );
        assert_eq!(
            rule_of(&none, days_later(10), true).1,
            "autoreply_triage.no_autoreply"
        );
    }

    #[test]
    fn web_widget_sessions_end_when_the_tab_closes() {
        let recommend = event(
            1,
            "article_shared",
            json!({"article": "kb-1", "via": "recommendation"}),
        );
        let closed = conversation(
            "web_widget_classic",
            None,
            vec![
                user(0),
                recommend.clone(),
                event(3, "feedback", json!({"value": "positive"})),
                event(4, "session_closed", json!({"reason": "tab_closed"})),
            ],
        );
        let feedback_only = conversation(
            "web_widget_classic",
            None,
            vec![user(0), event(3, "feedback", json!({"value": "positive"}))],
        );

        let verdict =
            evaluate(&closed, days_later(0) + TimeDelta::minutes(4)).resolve_with(|| true);
        assert_eq!(verdict.rule.as_str(), "web_widget.positive_feedback");
        assert_eq!(verdict.decided_at, Some(closed.events[3].at));
        assert_eq!(
            rule_of(&feedback_only, days_later(10), true).1,
            "web_widget.no_article_engagement"
        );
    }

    #[test]
    fn documents_merge_fields_and_take_each_event_once() {
        let (mut stored, _) = ConversationDocument::parse(
            &json!({"id": "c", "agent": "advanced_ticket_agent", "status": "open",
                    "events": [user(0), {"id": "e-1", "at": at(1), "type": "message", "from": "ai_agent", "text": "x"}]})
                .to_string(),
        )
        .expect("valid");
        let (newer, _) = ConversationDocument::parse(
            &json!({"id": "c", "agent": "advanced_ticket_agent", "status": "replied",
                    "events": [user(0), {"id": "e-1", "at": at(1), "type": "message", "from": "ai_agent", "text": "changed"}, ai(5)]})
                .to_string(),
        )
        .expect("valid");

        stored.merge(newer);
        let added = stored.append_events(vec![
            ai(5),
            event(6, "feedback", json!({"id": "f", "value": "positive"})),
        ]);

        let conversation = stored.conversation().expect("valid");
        assert_eq!(conversation.status, Some(ConversationStatus::Replied));
        assert_eq!(conversation.events.len(), 4);
        assert_eq!(added, 1);
    }

    #[test]
    fn invalid_records_name_the_field() {
        let field = |record: Value| {
            Conversation::parse_json(&record.to_string())
                .expect_err("rejected")
                .field
                .unwrap_or_default()
        };

        assert_eq!(field(json!({"id": "c", "agent": "robot"})), "agent");
        assert_eq!(field(json!({"agent": "messaging_ai_agent"})), "id");
        assert_eq!(
            field(
                json!({"id": "c", "agent": "messaging_ai_agent", "events": [user(0), {"at": at(1), "type": "message", "from": "alien"}]})
            ),
            "events[1].from"
        );
        assert_eq!(
            field(
                json!({"id": "c", "agent": "messaging_ai_agent", "events": [{"type": "message"}]})
            ),
            "events[0].at"
        );
        assert_eq!(
            field(
                json!({"id": "c", "agent": "messaging_ai_agent", "events": [{"at": at(0), "type": "feedback", "value": "meh"}]})
            ),
            "events[0].value"
        );
        assert_eq!(
            field(
                json!({"id": "c", "agent": "messaging_ai_agent", "events": [{"at": at(0), "type": "autoreply", "trigger": "magic"}]})
            ),
            "events[0].trigger"
        );
        assert_eq!(
            field(
                json!({"id": "c", "agent": "messaging_ai_agent", "events": [{"at": at(0), "type": "status_changed", "to": "gone"}]})
            ),
            "events[0].to"
        );
        let unknown_type = json!({"id": "c", "agent": "messaging_ai_agent", "events": [{"at": at(0), "type": "typing", "speed": 3}]});
        let parsed =
            Conversation::parse_json(&unknown_type.to_string()).expect("unknown types are ignored");
        assert_eq!(parsed.events[0].kind, EventKind::Other);
    }

    fn event_strategy() -> impl Strategy<Value = Value> {
        let kinds = prop_oneof![
            Just(json!({"type": "message", "from": "end_user", "text": "hi"})),
            Just(json!({"type": "message", "from": "ai_agent", "text": "answer"})),
            Just(
                json!({"type": "message", "from": "human_agent", "text": "note", "public": false})
            ),
            Just(json!({"type": "article_shared", "article": "kb-1", "via": "recommendation"})),
            Just(json!({"type": "article_shared", "article": "kb-1", "via": "generative"})),
            Just(json!({"type": "article_shared", "article": "kb-2", "via": "autoreply"})),
            Just(json!({"type": "article_click", "article": "kb-1"})),
            Just(json!({"type": "article_click", "article": "kb-2"})),
            Just(json!({"type": "feedback", "value": "positive"})),
            Just(json!({"type": "close_request_click"})),
            Just(json!({"type": "flow_final_step"})),
            Just(json!({"type": "autoreply", "trigger": "triage"})),
            Just(json!({"type": "status_changed", "to": "solved"})),
            Just(json!({"type": "session_closed"})),
        ];
        (kinds, 0i64..6000).prop_map(|(mut event, minutes)| {
            event["at"] = json!(at(minutes));
            event
        })
    }

    fn agent_strategy() -> impl Strategy<Value = (&'static str, &'static str)> {
        prop_oneof![
            Just(("messaging_ai_agent", "handled_by_ai")),
            Just(("advanced_chat_agent", "handled_by_ai")),
            Just(("advanced_ticket_agent", "replied")),
            Just(("autoreply_articles", "open")),
            Just(("autoreply_triage", "open")),
            Just(("web_widget_classic", "open")),
        ]
    }

    proptest! {
        #[test]
        fn the_verdict_is_final_from_its_decidable_moment_on(
            (agent, status) in agent_strategy(),
            events in proptest::collection::vec(event_strategy(), 0..12),
            escalate in any::<bool>(),
        ) {
            let mut events = events;
            if escalate {
                events.push(event(30, "escalated", json!({})));
            }
            let conversation = conversation(agent, Some(status), events);

            match decidable_at(&conversation) {
                None => prop_assert_eq!(
                    evaluate(&conversation, days_later(400)).resolve_with(|| true).verdict,
                    VerdictKind::Pending
                ),
                Some(at) => {
                    prop_assert_ne!(evaluate(&conversation, at).resolve_with(|| true).verdict, VerdictKind::Pending);
                    if at > DateTime::<Utc>::MIN_UTC {
                        let before = at - TimeDelta::seconds(1);
                        prop_assert_eq!(evaluate(&conversation, before).resolve_with(|| true).verdict, VerdictKind::Pending);
                    }
                }
            }
        }

        #[test]
        fn a_human_request_makes_any_conversation_not_counted(
            (agent, status) in agent_strategy(),
            events in proptest::collection::vec(event_strategy(), 1..12),
            request in prop_oneof![Just("escalated"), Just("live_chat_started"), Just("contact_form_submitted"), Just("callback_requested")],
            minutes in 0i64..6000,
        ) {
            let mut with_request = events.clone();
            with_request.push(event(minutes, request, json!({})));
            let conversation = conversation(agent, Some(status), with_request);

            let verdict = evaluate(&conversation, days_later(30)).resolve_with(|| true);

            prop_assert_eq!(verdict.verdict, VerdictKind::NotCounted);
            prop_assert!(verdict.rule.as_str().starts_with("never."));
        }

        #[test]
        fn the_verdict_does_not_depend_on_the_order_events_were_received(
            (agent, status) in agent_strategy(),
            events in proptest::collection::vec(event_strategy(), 1..12),
            seed in any::<u64>(),
            as_of_days in 0i64..8,
        ) {
            // Distinct times, so that time order alone fixes the sequence.
            let distinct: Vec<Value> = events.into_iter().enumerate().map(|(index, mut event)| {
                let minutes = index as i64 * 997 % 6000 * 10 + index as i64;
                event["at"] = json!(at(minutes));
                event
            }).collect();
            let mut shuffled = distinct.clone();
            let mut state = seed;
            for index in (1..shuffled.len()).rev() {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                shuffled.swap(index, (state >> 33) as usize % (index + 1));
            }
            let as_of = days_later(as_of_days);

            let original = evaluate(&conversation(agent, Some(status), distinct), as_of).resolve_with(|| true);
            let received = evaluate(&conversation(agent, Some(status), shuffled), as_of).resolve_with(|| true);

            prop_assert_eq!(original, received);
        }
    }
}
