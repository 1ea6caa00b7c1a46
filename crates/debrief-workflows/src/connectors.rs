//! Connectors to ticketing systems: a summary goes into the ticket its session belongs to.
//!
//! - **ServiceNow** (Table API): with the session's incident `sys_id`,
//!   `PATCH {instance}/api/now/table/incident/{sys_id}` with `{"work_notes": TEXT}`; without one,
//!   `POST {instance}/api/now/table/incident` with `short_description` (the title),
//!   `description` and `work_notes`. Basic authentication.
//! - **Salesforce** (REST API): `POST {instance}/services/data/{version}/sobjects/CaseComment`
//!   with `{"ParentId": CASE_ID, "CommentBody": TEXT, "IsPublished": false}` and a bearer token;
//!   a session without a case is refused.
//!
//! A ticket is used only when it has the shape of the system's record ids — a ServiceNow
//! `sys_id` is 32 hexadecimal characters, a Salesforce id 15 or 18 letters and digits — and is
//! percent-encoded into the URL all the same, so that no ticket (sent by a caller or carried by
//! an ingested session) can point the request at another table or add a query.
//!
//! TEXT is the summary as the Markdown export writes it, in the company's language. The
//! password and the token are sealed at rest (`crate::secrets`).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::secrets::{SecretBox, SecretError};

/// The Salesforce REST API version used unless the company sets one.
pub const SALESFORCE_API_VERSION: &str = "v59.0";

/// A connector's settings; the secret fields hold sealed text when stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Connector {
    Servicenow {
        instance_url: String,
        username: String,
        password: String,
    },
    Salesforce {
        instance_url: String,
        access_token: String,
        #[serde(default = "default_version")]
        api_version: String,
    },
}

fn default_version() -> String {
    SALESFORCE_API_VERSION.into()
}

impl Connector {
    /// The kind as the API names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Connector::Servicenow { .. } => "servicenow",
            Connector::Salesforce { .. } => "salesforce",
        }
    }

    /// The instance URL.
    pub fn instance_url(&self) -> &str {
        match self {
            Connector::Servicenow { instance_url, .. }
            | Connector::Salesforce { instance_url, .. } => instance_url,
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
        Ok(match self {
            Connector::Servicenow {
                instance_url,
                username,
                password,
            } => Connector::Servicenow {
                instance_url: instance_url.clone(),
                username: username.clone(),
                password: convert(password)?,
            },
            Connector::Salesforce {
                instance_url,
                access_token,
                api_version,
            } => Connector::Salesforce {
                instance_url: instance_url.clone(),
                access_token: convert(access_token)?,
                api_version: api_version.clone(),
            },
        })
    }

    /// What the API shows: everything but the secret.
    pub fn shown(&self) -> Value {
        match self {
            Connector::Servicenow {
                instance_url,
                username,
                ..
            } => {
                json!({"kind": "servicenow", "instance_url": instance_url, "username": username, "password": "********"})
            }
            Connector::Salesforce {
                instance_url,
                api_version,
                ..
            } => {
                json!({"kind": "salesforce", "instance_url": instance_url, "api_version": api_version, "access_token": "********"})
            }
        }
    }
}

/// Why a push failed.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("the session names no Salesforce case: send `ticket` with the case id")]
    NoCase,
    /// The ticket is not an id of the system's records: why.
    #[error("{0}")]
    InvalidTicket(&'static str),
    #[error("the {system} request failed: {reason}")]
    Remote {
        system: &'static str,
        reason: String,
    },
}

/// What the ticketing system answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pushed {
    pub system: &'static str,
    pub method: &'static str,
    pub url: String,
    pub status: u16,
    /// The record written (an incident's `sys_id`, a comment's `id`), when the answer says.
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

/// Sends `title` and `text` to the ticket `ticket` of `connector` (opened credentials).
pub async fn push(
    client: &reqwest::Client,
    connector: &Connector,
    ticket: Option<&str>,
    title: &str,
    text: &str,
) -> Result<Pushed, PushError> {
    let base = connector.instance_url().trim_end_matches('/');
    let (system, method, url, request) = match connector {
        Connector::Servicenow {
            username, password, ..
        } => {
            let (method, url, body) = match ticket.map(servicenow_sys_id).transpose()? {
                Some(sys_id) => (
                    "PATCH",
                    format!(
                        "{base}/api/now/table/incident/{}",
                        percent_encoding::utf8_percent_encode(
                            sys_id,
                            percent_encoding::NON_ALPHANUMERIC
                        )
                    ),
                    json!({"work_notes": text}),
                ),
                None => (
                    "POST",
                    format!("{base}/api/now/table/incident"),
                    json!({"short_description": title, "description": text, "work_notes": text}),
                ),
            };
            let builder = if method == "PATCH" {
                client.patch(&url)
            } else {
                client.post(&url)
            };
            (
                "servicenow",
                method,
                url,
                builder
                    .basic_auth(username, Some(password))
                    .header("accept", "application/json")
                    .json(&body),
            )
        }
        Connector::Salesforce {
            access_token,
            api_version,
            ..
        } => {
            let case = salesforce_id(ticket.ok_or(PushError::NoCase)?)?;
            if !is_salesforce_version(api_version) {
                return Err(PushError::InvalidTicket(
                    "the connector's api_version is not of the form v59.0",
                ));
            }
            let url = format!("{base}/services/data/{api_version}/sobjects/CaseComment");
            (
                "salesforce",
                "POST",
                url.clone(),
                client
                    .post(&url)
                    .bearer_auth(access_token)
                    .header("accept", "application/json")
                    .json(&json!({"ParentId": case, "CommentBody": text, "IsPublished": false})),
            )
        }
    };
    let remote = |reason: String| PushError::Remote { system, reason };
    let response = request
        .send()
        .await
        .map_err(|error| remote(error.to_string()))?;
    let status = response.status();
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        return Err(remote(format!("answered {status}: {answer}")));
    }
    let record_id = answer["result"]["sys_id"]
        .as_str()
        .or_else(|| answer["id"].as_str())
        .map(str::to_string);
    Ok(Pushed {
        system,
        method,
        url,
        status: status.as_u16(),
        record_id,
    })
}
