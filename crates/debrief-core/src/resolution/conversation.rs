//! The conversation format (FORMATS.md section 3): records, events, and the merge of a
//! conversation sent again with more events.

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::error::RecordError;

use super::rules::{self, Rule};

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

    pub(super) fn window_open_rule(self) -> Rule {
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
