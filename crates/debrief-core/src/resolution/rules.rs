//! The rules of SPEC.md section 7 by name (`family.rule`): every verdict names the one that
//! decided it.

use std::fmt;

use serde::Serialize;

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
pub const AUTOREPLY_ARTICLES_CLICKED_NO_REPLY: Rule = Rule("autoreply_articles.clicked_no_reply");
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
