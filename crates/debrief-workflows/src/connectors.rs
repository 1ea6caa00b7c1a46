//! Connectors to ticketing systems: a summary goes into the ticket its session belongs to, by
//! itself, through the outbox.
//!
//! - **ServiceNow** (Table API): into an incident, `PATCH {instance}/api/now/table/incident/{sys_id}`
//!   with `{"work_notes": TEXT}`; a new incident is
//!   `POST {instance}/api/now/table/incident` with `short_description` (the title),
//!   `description` and `work_notes`. Basic authentication.
//! - **Salesforce** (REST API): into a case,
//!   `POST {instance}/services/data/{version}/sobjects/CaseComment` with
//!   `{"ParentId": CASE_ID, "CommentBody": TEXT, "IsPublished": false}`; a new case is
//!   `POST …/sobjects/Case` with `Subject` and `Description`. A bearer token.
//!
//! **What is pushed.** A connector pushes the events it is set to (`summary.created`,
//! `summary.updated`, `summary.deleted`: each on or off, all three unless the company says
//! otherwise). The store writes each push to the outbox in the transaction of the summary,
//! edit or deletion; the deliverer (`crate::webhooks::Deliverer`) sends them one at a time per
//! connector, in the order they were written, so a ticket's notes arrive in order. A push asked
//! for by hand (`summary.pushed`) joins the same line.
//!
//! **Where.** Into the ticket the push names (a push by hand may name one), else the session's
//! `ticket`, else the incident or case this connector opened for the session before. With
//! none, `when_no_ticket` decides: `skip` (the default: the push is recorded as skipped, with
//! why) or `create` (a new incident or case, recorded so that later edits and the deletion note
//! go to the same one).
//!
//! **What.** TEXT is the summary as the Markdown export writes it, in the company's language,
//! from its title on and as plain text (work notes and case comments show Markdown as typed);
//! a deletion leaves a one-line note. The text comes from the event itself, so an edit pushes
//! what the edit made even when the push goes out later.
//!
//! **Failures.** No answer or an answer the system may change its mind on (5xx, 408, 409, 425,
//! 429) is retried with the webhooks' backoff for 24 hours. Any other 4xx (bad credentials, an
//! unknown ticket, a refused field) will not change: the push fails at once and says why. A
//! ticket is used only when it has the shape of the system's record ids — a ServiceNow
//! `sys_id` is 32 hexadecimal characters, a Salesforce id 15 or 18 letters and digits — and is
//! percent-encoded into the URL all the same, so that no ticket can point the request at
//! another table or add a query.
//!
//! The password and the token are sealed at rest (`crate::secrets`); a connector is saved only
//! after a test call with its credentials ([`check`]) answers.

use debrief_core::error::{check_length, MAX_URL_BYTES};
use debrief_core::governance::AiSettings;
use debrief_core::summary::Summary;
use debrief_core::RecordError;
use debrief_engine::language::Language;
use debrief_export::{render, ExportFormat, Labels};
use debrief_store::{get_typed, ObjectKind, Store, StoreError, SINGLETON};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::secrets::{SecretBox, SecretError};

/// The Salesforce REST API version used unless the company sets one.
pub const SALESFORCE_API_VERSION: &str = "v59.0";

/// The longest remote answer kept with an attempt, in characters.
const ANSWER_CHARS: usize = 2_000;

/// What a connector does with a session that names no ticket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WhenNoTicket {
    /// Nothing: the push is recorded as skipped.
    #[default]
    Skip,
    /// A new incident or case, used by the session's later pushes.
    Create,
}

/// A connector's settings, stored and sent as one object with its `kind`; the secret fields
/// hold sealed text when stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Connector {
    Servicenow(Servicenow),
    Salesforce(Salesforce),
}

/// A ServiceNow instance: basic authentication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Servicenow {
    pub instance_url: String,
    pub username: String,
    pub password: String,
    #[serde(default)]
    pub when_no_ticket: WhenNoTicket,
}

/// A Salesforce org: a bearer token and the REST API version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Salesforce {
    pub instance_url: String,
    pub access_token: String,
    #[serde(default = "default_version")]
    pub api_version: String,
    #[serde(default)]
    pub when_no_ticket: WhenNoTicket,
}

fn default_version() -> String {
    SALESFORCE_API_VERSION.into()
}

impl Connector {
    /// Reads the fields of a connector of `kind` (without the `kind` field itself), naming the
    /// field at fault: an unknown one, a wrong type, an unknown `when_no_ticket`. (A document
    /// read through the tag loses its fields' names, so the kind is chosen first.)
    pub fn from_fields(
        kind: &str,
        fields: serde_json::Map<String, Value>,
    ) -> Result<Connector, RecordError> {
        fn read<T: serde::de::DeserializeOwned>(
            fields: serde_json::Map<String, Value>,
        ) -> Result<T, RecordError> {
            serde_path_to_error::deserialize(Value::Object(fields))
                .map_err(RecordError::from_serde_path)
        }
        match kind {
            "servicenow" => read(fields).map(Connector::Servicenow),
            "salesforce" => read(fields).map(Connector::Salesforce),
            _ => Err(RecordError::invalid(
                "kind",
                "must be servicenow or salesforce",
            )),
        }
    }

    /// The kind as the API names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Connector::Servicenow { .. } => "servicenow",
            Connector::Salesforce { .. } => "salesforce",
        }
    }

    /// The system's name as people write it.
    pub fn system(&self) -> &'static str {
        match self {
            Connector::Servicenow { .. } => "ServiceNow",
            Connector::Salesforce { .. } => "Salesforce",
        }
    }

    /// The instance URL.
    pub fn instance_url(&self) -> &str {
        match self {
            Connector::Servicenow(Servicenow { instance_url, .. })
            | Connector::Salesforce(Salesforce { instance_url, .. }) => instance_url,
        }
    }

    /// What it does with a session that names no ticket.
    pub fn when_no_ticket(&self) -> WhenNoTicket {
        match self {
            Connector::Servicenow(Servicenow { when_no_ticket, .. })
            | Connector::Salesforce(Salesforce { when_no_ticket, .. }) => *when_no_ticket,
        }
    }

    /// Checks every field before anything is stored or sent: lengths, an instance URL that is
    /// an http(s) address alone, a Salesforce API version like `v59.0`.
    pub fn validate(&self) -> Result<(), RecordError> {
        let fields = match self {
            Connector::Servicenow(Servicenow {
                instance_url,
                username,
                password,
                ..
            }) => [
                ("instance_url", instance_url),
                ("username", username),
                ("password", password),
            ],
            Connector::Salesforce(Salesforce {
                instance_url,
                access_token,
                api_version,
                ..
            }) => [
                ("instance_url", instance_url),
                ("access_token", access_token),
                ("api_version", api_version),
            ],
        };
        for (field, value) in fields {
            check_length(field, value, MAX_URL_BYTES)?;
            if value.trim().is_empty() {
                return Err(RecordError::invalid(field, "must not be empty"));
            }
            if value.chars().any(char::is_control) {
                return Err(RecordError::invalid(
                    field,
                    "must not hold control characters (line breaks, tabs, NUL)",
                ));
            }
        }
        let url = reqwest::Url::parse(self.instance_url())
            .map_err(|error| RecordError::invalid("instance_url", format!("not a URL: {error}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(RecordError::invalid(
                "instance_url",
                "must be an http or https URL",
            ));
        }
        if url.query().is_some()
            || url.fragment().is_some()
            || !url.username().is_empty()
            || !url.path().trim_matches('/').is_empty()
        {
            return Err(RecordError::invalid(
                "instance_url",
                "must be the instance's address alone: no path, query, fragment or credentials",
            ));
        }
        if let Connector::Salesforce(Salesforce { api_version, .. }) = self {
            if !is_salesforce_version(api_version) {
                return Err(RecordError::invalid(
                    "api_version",
                    "must be a version like v59.0",
                ));
            }
        }
        Ok(())
    }

    /// `ticket` when it has the shape of this system's record ids.
    pub fn ticket<'t>(&self, ticket: &'t str) -> Result<&'t str, PushError> {
        match self {
            Connector::Servicenow { .. } => servicenow_sys_id(ticket),
            Connector::Salesforce { .. } => salesforce_id(ticket),
        }
    }

    /// The same connector with its secret sealed (`seal`) or opened (`!seal`).
    pub fn with_secret(&self, secrets: &SecretBox, seal: bool) -> Result<Connector, SecretError> {
        let convert = |text: &str| {
            if seal {
                secrets.seal(text)
            } else {
                secrets.open(text)
            }
        };
        let mut converted = self.clone();
        match &mut converted {
            Connector::Servicenow(servicenow) => {
                servicenow.password = convert(&servicenow.password)?;
            }
            Connector::Salesforce(salesforce) => {
                salesforce.access_token = convert(&salesforce.access_token)?;
            }
        }
        Ok(converted)
    }

    /// What the API shows: everything but the secret.
    pub fn shown(&self) -> Value {
        let mut shown = serde_json::to_value(self).unwrap_or(Value::Null);
        for secret in ["password", "access_token"] {
            if shown.get(secret).is_some() {
                shown[secret] = json!("********");
            }
        }
        shown
    }

    fn base(&self) -> &str {
        self.instance_url().trim_end_matches('/')
    }

    /// A request to `path` under the instance, authenticated.
    fn request(
        &self,
        client: &reqwest::Client,
        method: reqwest::Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        let url = format!("{}{path}", self.base());
        let builder = client
            .request(method, url)
            .header("accept", "application/json");
        match self {
            Connector::Servicenow(Servicenow {
                username, password, ..
            }) => builder.basic_auth(username, Some(password)),
            Connector::Salesforce(Salesforce { access_token, .. }) => {
                builder.bearer_auth(access_token)
            }
        }
    }

    fn salesforce_path(&self, object: &str) -> String {
        match self {
            Connector::Salesforce(Salesforce { api_version, .. }) => {
                format!("/services/data/{api_version}/sobjects/{object}")
            }
            Connector::Servicenow { .. } => String::new(),
        }
    }
}

/// Why a push (or a connector's check) failed.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error(
        "the session names no ticket and the connector opens none: send `ticket`, or set \
         when_no_ticket to create"
    )]
    NoTicket,
    /// The ticket is not an id of the system's records: why.
    #[error("{0}")]
    InvalidTicket(&'static str),
    /// No answer: the address, the connection or the time limit.
    #[error("{system} did not answer: {reason}")]
    Unreachable {
        system: &'static str,
        reason: String,
    },
    /// An answer other than success: its status, its body (cut short) and what it says in
    /// words (the system's own error message when it gives one).
    #[error("{system} answered {status}: {message}")]
    Refused {
        system: &'static str,
        status: u16,
        answer: String,
        message: String,
    },
}

impl PushError {
    /// Whether sending the same request again cannot help: a ticket that is not one, or a 4xx
    /// other than 408, 409, 425 and 429.
    pub fn is_permanent(&self) -> bool {
        match self {
            PushError::NoTicket | PushError::InvalidTicket(_) => true,
            PushError::Unreachable { .. } => false,
            PushError::Refused { status, .. } => {
                (400..500).contains(status) && !matches!(status, 408 | 409 | 425 | 429)
            }
        }
    }
}

/// What the ticketing system answered to a request that succeeded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemoteAnswer {
    pub status: u16,
    /// The answer's body, cut short.
    pub answer: String,
    /// The record written (an incident's `sys_id`, a case's or comment's `id`), when it says.
    pub record_id: Option<String>,
}

/// A ServiceNow `sys_id`: 32 hexadecimal characters.
pub fn servicenow_sys_id(ticket: &str) -> Result<&str, PushError> {
    if ticket.len() == 32 && ticket.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        Ok(ticket)
    } else {
        Err(PushError::InvalidTicket(
            "a ServiceNow ticket must be the incident's sys_id: 32 hexadecimal characters",
        ))
    }
}

/// A Salesforce record id: 15 or 18 letters and digits.
pub fn salesforce_id(ticket: &str) -> Result<&str, PushError> {
    if matches!(ticket.len(), 15 | 18) && ticket.bytes().all(|byte| byte.is_ascii_alphanumeric()) {
        Ok(ticket)
    } else {
        Err(PushError::InvalidTicket(
            "a Salesforce ticket must be the case id: 15 or 18 letters and digits",
        ))
    }
}

/// Whether `version` is a Salesforce REST API version (`v59.0`).
pub fn is_salesforce_version(version: &str) -> bool {
    version
        .strip_prefix('v')
        .and_then(|number| number.split_once('.'))
        .is_some_and(|(major, minor)| {
            (1..=3).contains(&major.len())
                && minor.len() == 1
                && major
                    .bytes()
                    .chain(minor.bytes())
                    .all(|byte| byte.is_ascii_digit())
        })
}

/// What a refusal says in words: ServiceNow's `error.message` (with its `detail`),
/// Salesforce's first `message` with its `errorCode`, else the start of the body.
fn remote_message(body: &str) -> String {
    let parsed: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let text = |value: &Value| {
        value
            .as_str()
            .filter(|text| !text.trim().is_empty())
            .map(str::to_string)
    };
    if let Some(message) = text(&parsed["error"]["message"]) {
        return match text(&parsed["error"]["detail"]) {
            Some(detail) => format!("{message} ({detail})"),
            None => message,
        };
    }
    if let Some(message) = text(&parsed[0]["message"]) {
        return match text(&parsed[0]["errorCode"]) {
            Some(code) => format!("{message} ({code})"),
            None => message,
        };
    }
    let start: String = body.trim().chars().take(200).collect();
    if start.is_empty() {
        "no explanation".to_string()
    } else {
        start
    }
}

/// The first [`ANSWER_CHARS`] characters of `text`.
fn cut(text: &str) -> String {
    text.chars().take(ANSWER_CHARS).collect()
}

/// Sends `request` for `connector`; its answer when it succeeded.
async fn send(
    connector: &Connector,
    request: reqwest::RequestBuilder,
) -> Result<RemoteAnswer, PushError> {
    let system = connector.system();
    let response = request
        .send()
        .await
        .map_err(|error| PushError::Unreachable {
            system,
            reason: if error.is_timeout() {
                "no answer within the time limit".to_string()
            } else if error.is_connect() {
                // The innermost cause says why: refused, no route, or a name with no public
                // address (`crate::outbound`).
                let mut cause: &dyn std::error::Error = &error;
                while let Some(source) = cause.source() {
                    cause = source;
                }
                format!("could not connect ({cause})")
            } else {
                error.to_string()
            },
        })?;
    let status = response.status().as_u16();
    let body = response.text().await.unwrap_or_default();
    if !(200..300).contains(&status) {
        return Err(PushError::Refused {
            system,
            status,
            answer: cut(&body),
            message: remote_message(&body),
        });
    }
    let parsed: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let record_id = parsed["result"]["sys_id"]
        .as_str()
        .or_else(|| parsed["id"].as_str())
        .map(str::to_string);
    Ok(RemoteAnswer {
        status,
        answer: cut(&body),
        record_id,
    })
}

/// A test call with the connector's (opened) credentials: ServiceNow's first incident, or
/// Salesforce's description of cases. Success means the address, the credentials and the
/// right to read the records pushes write into are all good.
pub async fn check(
    client: &reqwest::Client,
    connector: &Connector,
) -> Result<RemoteAnswer, PushError> {
    let request = match connector {
        Connector::Servicenow { .. } => connector
            .request(client, reqwest::Method::GET, "/api/now/table/incident")
            .query(&[("sysparm_limit", "1"), ("sysparm_fields", "sys_id")]),
        Connector::Salesforce { .. } => connector.request(
            client,
            reqwest::Method::GET,
            &connector.salesforce_path("Case"),
        ),
    };
    send(connector, request).await
}

/// What a push writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushText<'a> {
    /// The title of a new incident or case.
    pub title: &'a str,
    /// The note or comment.
    pub text: &'a str,
}

/// Writes `text` into `ticket` (already checked with [`Connector::ticket`]) or, without one, a
/// new incident or case; what the system answered.
pub async fn push(
    client: &reqwest::Client,
    connector: &Connector,
    ticket: Option<&str>,
    text: PushText<'_>,
) -> Result<RemoteAnswer, PushError> {
    let encoded = |ticket: &str| {
        percent_encoding::utf8_percent_encode(ticket, percent_encoding::NON_ALPHANUMERIC)
            .to_string()
    };
    let (method, path, body) = match (connector, ticket) {
        (Connector::Servicenow { .. }, Some(sys_id)) => (
            reqwest::Method::PATCH,
            format!("/api/now/table/incident/{}", encoded(sys_id)),
            json!({"work_notes": text.text}),
        ),
        (Connector::Servicenow { .. }, None) => (
            reqwest::Method::POST,
            "/api/now/table/incident".to_string(),
            json!({"short_description": text.title, "description": text.text, "work_notes": text.text}),
        ),
        (Connector::Salesforce { .. }, Some(case)) => (
            reqwest::Method::POST,
            connector.salesforce_path("CaseComment"),
            json!({"ParentId": case, "CommentBody": text.text, "IsPublished": false}),
        ),
        (Connector::Salesforce { .. }, None) => (
            reqwest::Method::POST,
            connector.salesforce_path("Case"),
            json!({"Subject": text.title, "Description": text.text}),
        ),
    };
    send(
        connector,
        connector.request(client, method, &path).json(&body),
    )
    .await
}

/// What became of sending one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendOutcome {
    Delivered,
    /// It failed; `permanent`: trying again cannot help.
    Failed {
        permanent: bool,
    },
    /// Nothing was sent, for a reason that will not change.
    Skipped,
}

/// One delivery's send: the remote status and answer, what went wrong, and the incident or
/// case opened for a session (session id, record id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub status: Option<u16>,
    pub answer: Option<String>,
    pub error: Option<String>,
    pub outcome: SendOutcome,
    pub opened: Option<(String, String)>,
}

impl Sent {
    fn failed(error: impl std::fmt::Display, permanent: bool) -> Sent {
        Sent {
            status: None,
            answer: None,
            error: Some(error.to_string()),
            outcome: SendOutcome::Failed { permanent },
            opened: None,
        }
    }

    fn skipped(why: impl std::fmt::Display) -> Sent {
        Sent {
            outcome: SendOutcome::Skipped,
            ..Sent::failed(why, true)
        }
    }
}

/// The part of an outbox payload a push reads.
#[derive(Deserialize)]
struct PushEvent {
    event: String,
    data: PushData,
}

#[derive(Deserialize)]
struct PushData {
    session_id: String,
    #[serde(default)]
    summary: Option<Summary>,
    /// A push by hand may name the ticket.
    #[serde(default)]
    ticket: Option<String>,
}

/// The Markdown export of one summary as plain text for a work note or a case comment, which
/// show Markdown as typed: from the summary's title on (without the document's own heading and
/// count), without heading marks and emphasis.
fn ticket_note(export: &str) -> String {
    let from_title = export.find("## ").map_or(export, |start| &export[start..]);
    from_title
        .lines()
        .map(|line| {
            let line = line.strip_prefix("## ").unwrap_or(line).replace("**", "");
            match line
                .strip_prefix('*')
                .and_then(|inner| inner.strip_suffix('*'))
            {
                Some(inner) => inner.to_string(),
                None => line,
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Where a push goes: the ticket it names, the session's, or the one the connector opened;
/// `None` when there is none. Only the shape is checked here; a store failure is passed on.
pub async fn push_ticket(
    store: &dyn Store,
    company: &debrief_store::CompanyId,
    kind: &str,
    session_id: &str,
    named: Option<String>,
) -> Result<Option<String>, StoreError> {
    if named.is_some() {
        return Ok(named);
    }
    let session = store.get_session(company, session_id).await?.session;
    if session.ticket.is_some() {
        return Ok(session.ticket);
    }
    store.opened_record(company, kind, session_id).await
}

/// Sends one outbox delivery to the connector `settings` (as stored, the secret sealed): the
/// summary (or the deletion note) in the company's language, into the push's ticket.
pub async fn send_push(
    store: &dyn Store,
    secrets: Option<&SecretBox>,
    client: &reqwest::Client,
    company: &debrief_store::CompanyId,
    settings: &str,
    payload: &str,
) -> Sent {
    let connector = match serde_json::from_str::<Connector>(settings) {
        Ok(connector) => connector,
        Err(error) => return Sent::failed(format!("stored connector: {error}"), true),
    };
    let Some(secrets) = secrets else {
        return Sent::failed(
            "this server has no secret_key setting to open the connector's credentials",
            false,
        );
    };
    let connector = match connector.with_secret(secrets, false) {
        Ok(connector) => connector,
        Err(error) => return Sent::failed(format!("credentials: {error}"), true),
    };
    let event: PushEvent = match serde_json::from_str(payload) {
        Ok(event) => event,
        Err(error) => return Sent::failed(format!("push payload: {error}"), true),
    };
    let session_id = event.data.session_id;
    let ticket = match push_ticket(
        store,
        company,
        connector.kind(),
        &session_id,
        event.data.ticket,
    )
    .await
    {
        Ok(ticket) => ticket,
        Err(StoreError::NotFound) => {
            return Sent::skipped(format!("session {session_id} is not stored"))
        }
        Err(error) => return Sent::failed(error, false),
    };
    let ticket = match ticket
        .as_deref()
        .map(|ticket| connector.ticket(ticket))
        .transpose()
    {
        // A ticket of another system (a company with both connectors) is no failure of this
        // one.
        Ok(ticket) => ticket,
        Err(error) => return Sent::skipped(error),
    };
    let language =
        match get_typed::<AiSettings>(store, company, ObjectKind::AiSettings, SINGLETON).await {
            Ok(settings) => Language::from_code(&settings.unwrap_or_default().insights.language)
                .unwrap_or(Language::English),
            Err(error) => return Sent::failed(error, false),
        };
    let (title, text) = match event.data.summary {
        Some(summary) if event.event != "summary.deleted" => {
            let title = summary.title.clone();
            // With the session's start and supporter and the editor's name, as exports print it.
            let exported =
                match crate::exports::exported(store, company, &session_id, summary).await {
                    Ok(exported) => exported,
                    Err(error) => return Sent::failed(error, false),
                };
            match render(&[exported], ExportFormat::Markdown, language, None) {
                Ok(bytes) => (title, ticket_note(&String::from_utf8_lossy(&bytes))),
                Err(error) => return Sent::failed(format!("rendering: {error}"), true),
            }
        }
        _ => {
            if ticket.is_none() {
                return Sent::skipped(format!(
                    "no ticket holds session {session_id}'s summary: no deletion note to leave"
                ));
            }
            let note = Labels::of(language)
                .deleted_note
                .replace("{session}", &session_id);
            (note.clone(), note)
        }
    };
    if ticket.is_none() && connector.when_no_ticket() == WhenNoTicket::Skip {
        return Sent::skipped(PushError::NoTicket);
    }
    let text = PushText {
        title: &title,
        text: &text,
    };
    match push(client, &connector, ticket, text).await {
        Ok(answer) => Sent {
            status: Some(answer.status),
            opened: ticket
                .is_none()
                .then(|| answer.record_id.clone().map(|record| (session_id, record)))
                .flatten(),
            answer: Some(answer.answer),
            error: None,
            outcome: SendOutcome::Delivered,
        },
        Err(error) => {
            let (status, answer) = match &error {
                PushError::Refused { status, answer, .. } => (Some(*status), Some(answer.clone())),
                _ => (None, None),
            };
            Sent {
                status,
                answer,
                outcome: SendOutcome::Failed {
                    permanent: error.is_permanent(),
                },
                error: Some(error.to_string()),
                opened: None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_refusals_that_cannot_change_are_permanent() {
        let refused = |status| PushError::Refused {
            system: "ServiceNow",
            status,
            answer: String::new(),
            message: String::new(),
        };
        for status in [400, 401, 403, 404, 405, 410, 422] {
            assert!(refused(status).is_permanent(), "{status}");
        }
        for status in [408, 409, 425, 429, 500, 502, 503, 504] {
            assert!(!refused(status).is_permanent(), "{status}");
        }
        assert!(!PushError::Unreachable {
            system: "Salesforce",
            reason: "refused".into()
        }
        .is_permanent());
        assert!(PushError::NoTicket.is_permanent());
    }

    #[test]
    fn connectors_read_their_defaults_and_show_no_secret() {
        let connector: Connector = serde_json::from_str(
            r#"{"kind":"salesforce","instance_url":"https://x.my.salesforce.com","access_token":"t"}"#,
        )
        .expect("parses");
        assert_eq!(connector.when_no_ticket(), WhenNoTicket::Skip);
        assert_eq!(connector.validate(), Ok(()));
        let shown = connector.shown();
        assert_eq!(
            (
                shown["access_token"].as_str(),
                shown["api_version"].as_str()
            ),
            (Some("********"), Some(SALESFORCE_API_VERSION))
        );
        assert_eq!(shown["when_no_ticket"], "skip");
    }

    #[test]
    fn instance_urls_are_addresses_alone() {
        for (url, valid) in [
            ("https://acme.service-now.com", true),
            ("https://acme.service-now.com/", true),
            ("https://acme.service-now.com/api", false),
            ("https://acme.service-now.com/?x=1", false),
            ("https://user@acme.service-now.com", false),
            ("ftp://acme.service-now.com", false),
            ("acme.service-now.com", false),
        ] {
            let connector = Connector::Servicenow(Servicenow {
                instance_url: url.into(),
                username: "admin".into(),
                password: "pw".into(),
                when_no_ticket: WhenNoTicket::Create,
            });
            assert_eq!(connector.validate().is_ok(), valid, "{url}");
        }
    }
}

#[cfg(test)]
mod note_tests {
    use super::*;

    #[test]
    fn refusals_are_told_in_the_systems_own_words() {
        assert_eq!(
            remote_message(
                r#"{"error":{"message":"No Record found","detail":"Record doesn't exist"},"status":"failure"}"#
            ),
            "No Record found (Record doesn't exist)"
        );
        assert_eq!(
            remote_message(
                r#"[{"errorCode":"INVALID_SESSION_ID","message":"Session expired or invalid"}]"#
            ),
            "Session expired or invalid (INVALID_SESSION_ID)"
        );
        assert_eq!(
            remote_message("<html>Bad gateway</html>"),
            "<html>Bad gateway</html>"
        );
        assert_eq!(remote_message(""), "no explanation");
    }

    #[test]
    fn notes_are_plain_text_from_the_title_on() {
        let export = "# Session summaries\n\n1 summary\n\n## Printer offline\n\n*Session s-1 · Language en*\n\n**Summary:** Restarted.\n\n- ran the command lpstat\n";
        assert_eq!(
            ticket_note(export),
            "Printer offline\n\nSession s-1 · Language en\n\nSummary: Restarted.\n\n- ran the command lpstat"
        );
    }
}
