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
            let (method, url, body) = match ticket {
                Some(sys_id) => (
                    "PATCH",
                    format!("{base}/api/now/table/incident/{sys_id}"),
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
            let case = ticket.ok_or(PushError::NoCase)?;
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
