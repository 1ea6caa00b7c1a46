//! The rule engine of SPEC.md section 7: when a conversation becomes decidable and which
//! verdict the rules give it (or the two that wait on the LLM check).

use std::borrow::Cow;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::conversation::*;
use super::rules::{self, Rule};

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
