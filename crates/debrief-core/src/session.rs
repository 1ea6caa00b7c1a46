//! Sessions: one remote-support connection or support conversation (FORMATS.md section 1).
//!
//! [`Session::parse_json`] is the only way in from outside: it turns one JSON text into a
//! validated session or a [`RecordError`] that names the failing field.

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

use crate::error::RecordError;

/// Longest accepted external session id, in bytes.
pub const MAX_SESSION_ID_LEN: usize = 200;

/// Where a session took place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// A remote-control connection to a device.
    #[default]
    RemoteSession,
    Messaging,
    Chat,
    Ticket,
    Email,
    WebForm,
    WebWidget,
}

/// Who started a remote connection, seen from the company.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// A supporter of the company connects to any device.
    Outgoing,
    /// Any supporter connects to one of the company's devices.
    Incoming,
}

/// Operating system of the remote device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    Windows,
    Macos,
    Linux,
    Ios,
    Android,
    Other,
}

/// What the remote user answered when asked for consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentAnswer {
    Allowed,
    Denied,
    None,
}

impl ConsentAnswer {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentAnswer::Allowed => "allowed",
            ConsentAnswer::Denied => "denied",
            ConsentAnswer::None => "none",
        }
    }
}

impl std::str::FromStr for ConsentAnswer {
    type Err = RecordError;

    /// Reads a wire name; anything else is an error naming the three.
    fn from_str(text: &str) -> Result<Self, RecordError> {
        [
            ConsentAnswer::Allowed,
            ConsentAnswer::Denied,
            ConsentAnswer::None,
        ]
        .into_iter()
        .find(|answer| answer.as_str() == text)
        .ok_or_else(|| {
            RecordError::invalid(
                "consent",
                format!("{text:?} is not allowed, denied or none"),
            )
        })
    }
}

/// Who said a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Speaker {
    /// The person being helped.
    Customer,
    /// A human supporter.
    Agent,
    AiAgent,
    System,
}

/// A person taking part in a session (supporter or remote user).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Person {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
}

/// The remote device of a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_client: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_in_company: Option<String>,
}

/// The support module a connection went through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Module {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Whether this is a company's custom support module.
    #[serde(default)]
    pub custom: bool,
}

/// One line of the conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::timestamp::deserialize_option"
    )]
    pub at: Option<DateTime<FixedOffset>>,
    pub speaker: Speaker,
    /// The name the transcript uses for this speaker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker_name: Option<String>,
    pub text: String,
}

/// Something seen on the device during the session. Event types the engines do not know are
/// kept with the fields listed here and ignored by the engines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    #[serde(deserialize_with = "crate::timestamp::deserialize")]
    pub at: DateTime<FixedOffset>,
    /// `app_focus`, `app_start`, `command`, `file_transfer`, `setting_change`, `reboot`, `note`
    /// or any other type.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setting: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// A validated session. Build one with [`Session::parse_json`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(default)]
    pub channel: Channel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::timestamp::deserialize_option"
    )]
    pub started_at: Option<DateTime<FixedOffset>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::timestamp::deserialize_option"
    )]
    pub ended_at: Option<DateTime<FixedOffset>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supporter: Option<Person>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_user: Option<Person>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<Device>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<Module>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<ConsentAnswer>,
    /// The ticket the session belongs to in the company's ticketing system (a ServiceNow
    /// incident's `sys_id`, a Salesforce case id), for the connectors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    #[serde(default)]
    pub turns: Vec<Turn>,
    #[serde(default)]
    pub events: Vec<Event>,
}

impl Session {
    /// Parses and validates one session from JSON text. Unknown fields are ignored.
    pub fn parse_json(text: &str) -> Result<Session, RecordError> {
        let session: Session = crate::timestamp::from_json_with_path(text)?;
        session.validate()?;
        crate::error::reject_nul(text)?;
        Ok(session)
    }

    /// Checks the rules that the JSON types alone cannot express.
    fn validate(&self) -> Result<(), RecordError> {
        if self.id.trim().is_empty() {
            return Err(RecordError::invalid("id", "must not be empty"));
        }
        if self.id.len() > MAX_SESSION_ID_LEN {
            return Err(RecordError::invalid(
                "id",
                format!("is longer than {MAX_SESSION_ID_LEN} bytes"),
            ));
        }
        if self.id.chars().any(char::is_control) {
            return Err(RecordError::invalid(
                "id",
                "must not contain control characters",
            ));
        }
        let ids = [
            (
                "supporter.id",
                self.supporter.as_ref().and_then(|p| p.id.as_deref()),
            ),
            (
                "remote_user.id",
                self.remote_user.as_ref().and_then(|p| p.id.as_deref()),
            ),
            (
                "device.id",
                self.device.as_ref().and_then(|d| d.id.as_deref()),
            ),
            (
                "device.policy",
                self.device.as_ref().and_then(|d| d.policy.as_deref()),
            ),
            (
                "module.id",
                self.module.as_ref().and_then(|m| m.id.as_deref()),
            ),
            ("ticket", self.ticket.as_deref()),
            ("language", self.language.as_deref()),
        ];
        for (field, id) in ids {
            if let Some(id) = id {
                crate::error::check_id(field, id)?;
            }
        }
        for (index, event) in self.events.iter().enumerate() {
            crate::error::check_id(&format!("events[{index}].type"), &event.kind)?;
        }
        if let (Some(started), Some(ended)) = (self.started_at, self.ended_at) {
            if ended < started {
                return Err(RecordError::invalid("ended_at", "is before started_at"));
            }
        }
        if self.direction.is_some() && self.channel != Channel::RemoteSession {
            return Err(RecordError::invalid(
                "direction",
                "is only allowed for channel remote_session",
            ));
        }
        Ok(())
    }

    /// The session's start in UTC, if it has one.
    pub fn started_at_utc(&self) -> Option<DateTime<Utc>> {
        self.started_at.map(|at| at.with_timezone(&Utc))
    }

    /// The supporter's id, if the session names one.
    pub fn supporter_id(&self) -> Option<&str> {
        self.supporter.as_ref()?.id.as_deref()
    }

    /// The remote device's platform, if the session names one.
    pub fn platform(&self) -> Option<Platform> {
        self.device.as_ref()?.platform
    }
}

/// A validated session with the JSON text it was read from. The store keeps that text as it
/// came (unknown fields included), so ingest never serializes a session again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    session: Session,
    json: String,
}

impl SessionRecord {
    /// Parses and validates one session, keeping its text.
    pub fn parse(text: &str) -> Result<SessionRecord, RecordError> {
        Ok(SessionRecord {
            session: Session::parse_json(text)?,
            json: text.to_string(),
        })
    }

    /// A record of a session built in code.
    pub fn from_session(session: Session) -> SessionRecord {
        let json = serde_json::to_string(&session).unwrap_or_default();
        SessionRecord { session, json }
    }

    /// The validated session.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The JSON text of the session.
    pub fn json(&self) -> &str {
        &self.json
    }
}

impl Channel {
    /// The wire name of the channel (`remote_session`, `messaging`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::RemoteSession => "remote_session",
            Channel::Messaging => "messaging",
            Channel::Chat => "chat",
            Channel::Ticket => "ticket",
            Channel::Email => "email",
            Channel::WebForm => "web_form",
            Channel::WebWidget => "web_widget",
        }
    }
}

impl Platform {
    /// Every platform.
    pub const ALL: [Platform; 6] = [
        Platform::Windows,
        Platform::Macos,
        Platform::Linux,
        Platform::Ios,
        Platform::Android,
        Platform::Other,
    ];

    /// The wire name of the platform (`windows`, `macos`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Windows => "windows",
            Platform::Macos => "macos",
            Platform::Linux => "linux",
            Platform::Ios => "ios",
            Platform::Android => "android",
            Platform::Other => "other",
        }
    }
}

impl Direction {
    /// The wire name of the direction.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Outgoing => "outgoing",
            Direction::Incoming => "incoming",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"{
      "id": "tv-2026-000123", "company": "acme", "channel": "remote_session",
      "direction": "outgoing", "started_at": "2026-11-20T10:00:00Z",
      "ended_at": "2026-11-20T11:25:00+01:00", "language": "en",
      "supporter": {"id": "u-17", "name": "Ana Souza", "company": "acme"},
      "remote_user": {"id": "c-9", "name": "Bob"},
      "device": {"id": "d-991", "platform": "windows", "managed": true, "policy": "pol-1",
                 "full_client": true, "signed_in_company": "acme"},
      "module": {"id": "qs-acme-helpdesk", "custom": true},
      "consent": "allowed",
      "turns": [{"at": "2026-11-20T10:00:05Z", "speaker": "customer", "text": "Outlook asks"}],
      "events": [{"at": "2026-11-20T10:02:00Z", "type": "app_focus", "app": "OUTLOOK.EXE"},
                 {"at": "2026-11-20T10:03:00Z", "type": "screen_blanked", "extra": 1}],
      "some_future_field": {"ignored": true}
    }"#;

    fn field_of(text: &str) -> String {
        Session::parse_json(text)
            .expect_err("the record should be rejected")
            .field
            .unwrap_or_default()
    }

    #[test]
    fn full_session_parses_and_keeps_unknown_event_types() {
        let session = Session::parse_json(FULL).expect("valid session");
        assert_eq!(session.id, "tv-2026-000123");
        assert_eq!(session.platform(), Some(Platform::Windows));
        assert_eq!(session.supporter_id(), Some("u-17"));
        assert_eq!(session.events[1].kind, "screen_blanked");
        assert_eq!(session.turns[0].speaker, Speaker::Customer);
    }

    #[test]
    fn minimal_session_defaults_to_remote_session_channel() {
        let session = Session::parse_json(r#"{"id": "x"}"#).expect("valid session");
        assert_eq!(session.channel, Channel::RemoteSession);
        assert!(session.turns.is_empty() && session.events.is_empty());
    }

    #[test]
    fn missing_id_is_rejected_naming_the_field() {
        assert_eq!(field_of(r#"{"channel": "chat"}"#), "id");
    }

    #[test]
    fn wrong_type_names_the_nested_field() {
        assert_eq!(
            field_of(r#"{"id": "x", "device": {"platform": "beos"}}"#),
            "device.platform"
        );
        assert_eq!(
            field_of(r#"{"id": "x", "turns": [{"speaker": "customer", "text": 5}]}"#),
            "turns[0].text"
        );
        assert_eq!(
            field_of(r#"{"id": "x", "events": [{"type": "note"}]}"#),
            "events[0].at"
        );
    }

    #[test]
    fn a_record_that_is_not_an_object_names_the_root() {
        assert_eq!(field_of("5"), crate::error::ROOT_FIELD);
        assert_eq!(field_of("\"text\""), crate::error::ROOT_FIELD);
    }

    #[test]
    fn bad_timestamp_names_the_field() {
        assert_eq!(
            field_of(r#"{"id": "x", "started_at": "yesterday"}"#),
            "started_at"
        );
        assert_eq!(
            field_of(r#"{"id": "x", "started_at": "2026-11-20T10:00:00"}"#),
            "started_at"
        );
    }

    #[test]
    fn empty_or_overlong_id_is_rejected() {
        assert_eq!(field_of(r#"{"id": "  "}"#), "id");
        let long = format!(r#"{{"id": "{}"}}"#, "a".repeat(MAX_SESSION_ID_LEN + 1));
        assert_eq!(field_of(&long), "id");
    }

    #[test]
    fn end_before_start_is_rejected() {
        let text = r#"{"id": "x", "started_at": "2026-11-20T10:00:00Z",
                       "ended_at": "2026-11-20T09:00:00Z"}"#;
        assert_eq!(field_of(text), "ended_at");
    }

    #[test]
    fn direction_outside_remote_sessions_is_rejected() {
        assert_eq!(
            field_of(r#"{"id": "x", "channel": "chat", "direction": "incoming"}"#),
            "direction"
        );
    }

    #[test]
    fn syntax_error_reports_line_and_column() {
        let error = Session::parse_json("{\"id\": \"x\",\n  oops}").expect_err("malformed");
        assert!(error.field.is_none());
        assert_eq!(error.position, Some((2, 3)));
    }

    #[test]
    fn trailing_garbage_is_rejected() {
        let error = Session::parse_json(r#"{"id": "x"} {"#).expect_err("trailing data");
        assert!(error.reason.contains("trailing"), "{}", error.reason);
    }

    #[test]
    fn a_record_keeps_its_text_and_parses_back_to_the_same_session() {
        let record = SessionRecord::parse(FULL).expect("valid");
        assert_eq!(record.json(), FULL);
        let rebuilt = SessionRecord::from_session(record.session().clone());
        assert_eq!(
            Session::parse_json(rebuilt.json()).expect("valid"),
            *record.session()
        );
    }

    proptest::proptest! {
        #[test]
        fn parsing_any_text_never_panics(text in "\\PC{0,200}") {
            let _ = Session::parse_json(&text);
        }
    }
}
