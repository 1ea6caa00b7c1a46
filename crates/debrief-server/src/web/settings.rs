//! The settings pages: AI settings and scopes (with the consent defaults), the engine and LLM
//! settings and the issue-type taxonomy as checked JSON documents; modules, devices and
//! policies as lists of documents by id; roles with their permissions; users; and the
//! visitor's own language. Each section needs the permission the API asks to change it.

use axum::extract::Path;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use debrief_core::access::PermissionSet;
use minijinja::context;
use serde_json::{json, Value};

use super::insights::url_escape;
use super::{form_field as field, Visitor, WebError};

/// What a section holds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// The AI settings as a form.
    AiForm,
    /// One JSON document read and replaced at an API path.
    Document,
    /// JSON documents by id under an API path.
    Collection,
    Roles,
    Users,
    Language,
}

/// One settings section: its key (the URL's last segment), label, API path, kind and the
/// permission that shows it (`None`: everyone signed in).
struct Section {
    key: &'static str,
    label: &'static str,
    path: &'static str,
    kind: Kind,
    permission: Option<&'static str>,
}

const SECTIONS: [Section; 9] = [
    Section {
        key: "ai",
        label: "settings_ai",
        path: "/settings/ai",
        kind: Kind::AiForm,
        permission: Some("ai.settings.manage"),
    },
    Section {
        key: "engine",
        label: "settings_engine",
        path: "/settings/engine",
        kind: Kind::Document,
        permission: Some("ai.settings.manage"),
    },
    Section {
        key: "taxonomy",
        label: "settings_taxonomy",
        path: "/taxonomy",
        kind: Kind::Document,
        permission: Some("ai.settings.manage"),
    },
    Section {
        key: "modules",
        label: "settings_modules",
        path: "/modules",
        kind: Kind::Collection,
        permission: Some("ai.settings.manage"),
    },
    Section {
        key: "devices",
        label: "settings_devices",
        path: "/devices",
        kind: Kind::Collection,
        permission: Some("ai.settings.manage"),
    },
    Section {
        key: "policies",
        label: "settings_policies",
        path: "/policies",
        kind: Kind::Collection,
        permission: Some("policies.manage"),
    },
    Section {
        key: "roles",
        label: "settings_roles",
        path: "/roles",
        kind: Kind::Roles,
        permission: Some("roles.manage"),
    },
    Section {
        key: "users",
        label: "settings_users",
        path: "/users",
        kind: Kind::Users,
        permission: Some("roles.manage"),
    },
    Section {
        key: "language",
        label: "settings_language",
        path: "/me",
        kind: Kind::Language,
        permission: None,
    },
];

fn allowed(visitor: &Visitor, section: &Section) -> bool {
    section
        .permission
        .is_none_or(|permission| visitor.can(permission))
}

/// `GET /settings`: the first section the visitor may see.
pub async fn index(visitor: Visitor) -> Response {
    let first = SECTIONS
        .iter()
        .find(|section| allowed(&visitor, section))
        .map_or("language", |section| section.key);
    Redirect::to(&format!("/settings/{first}")).into_response()
}

/// `GET /settings/{section}`.
pub async fn page(visitor: Visitor, Path(key): Path<String>) -> Response {
    let result = render(&visitor, &key, None).await;
    visitor.finish(result)
}

/// What the visitor sent that the API refused, with its reason: drawn back into the form.
struct Refused {
    fields: Value,
    problem: String,
}

fn section(key: &str) -> Result<&'static Section, WebError> {
    SECTIONS
        .iter()
        .find(|section| section.key == key)
        .ok_or(WebError::NotFound)
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

async fn render(
    visitor: &Visitor,
    key: &str,
    refused: Option<Refused>,
) -> Result<Response, WebError> {
    let current = section(key)?;
    if let Some(permission) = current.permission {
        visitor.require(permission)?;
    }
    let mut content = json!({"kind": match current.kind {
        Kind::AiForm => "ai_form",
        Kind::Document => "document",
        Kind::Collection => "collection",
        Kind::Roles => "roles",
        Kind::Users => "users",
        Kind::Language => "language",
    }});
    match current.kind {
        Kind::AiForm => {
            content["settings"] = visitor.api.read(current.path).await?;
        }
        Kind::Document => {
            let mut document = visitor.api.read(current.path).await?;
            if current.key == "taxonomy" {
                content["source"] = document["source"].clone();
                document = json!({"issue_types": document["issue_types"]});
            }
            content["text"] = json!(pretty(&document));
        }
        Kind::Collection => {
            let listed = visitor.api.read(current.path).await?;
            let items: Vec<Value> = listed["items"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|item| {
                    let mut body = item.clone();
                    let id = body.as_object_mut().and_then(|fields| fields.remove("id"));
                    json!({"id": id, "text": pretty(&body)})
                })
                .collect();
            content["items"] = json!(items);
            content["text"] = json!("{\n}");
        }
        Kind::Roles => {
            content["items"] = visitor.api.read(current.path).await?["items"].clone();
            content["all_permissions"] = json!(PermissionSet::all()
                .iter()
                .map(|permission| permission.as_str())
                .collect::<Vec<_>>());
        }
        Kind::Users => {
            content["items"] = visitor.api.read(current.path).await?["items"].clone();
            content["roles"] = json!(visitor.api.read("/roles").await?["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|role| role["name"].as_str())
                .collect::<Vec<_>>());
        }
        Kind::Language => {}
    }
    let status = if refused.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    if let Some(refused) = refused {
        content["refused"] = refused.fields;
        content["problem"] = json!(refused.problem);
    }
    let sections: Vec<Value> = SECTIONS
        .iter()
        .filter(|section| allowed(visitor, section))
        .map(|section| json!({"key": section.key, "label": section.label, "href": format!("/settings/{}", section.key)}))
        .collect();
    visitor.render_status(
        status,
        "settings.html",
        "settings",
        context! { sections => sections, section => current.key, section_label => current.label, content => content },
    )
}

/// `POST /settings/{section}`: `action` says what — `save` a document, `put` or `delete` one
/// by id, `role` (create or change), `delete_role`, `add_user`, `user_role`, `language`.
pub async fn save(
    visitor: Visitor,
    Path(key): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let result = async {
        visitor.check_csrf(field(&fields, "csrf"))?;
        let current = section(&key)?;
        if let Some(permission) = current.permission {
            visitor.require(permission)?;
        }
        let text = field(&fields, "document");
        let id = field(&fields, "id").trim();
        let parsed =
            || serde_json::from_str::<Value>(text).map_err(|error| format!("document: {error}"));
        let (method, path, body): (Method, String, Option<Value>) = match field(&fields, "action") {
            "save" => match parsed() {
                Ok(document) => (Method::PUT, current.path.to_string(), Some(document)),
                Err(problem) => return refuse(&visitor, &key, &fields, problem).await,
            },
            "put" if id.is_empty() => {
                return refuse(&visitor, &key, &fields, "id: must not be empty".into()).await
            }
            "put" => match parsed() {
                Ok(document) => (
                    Method::PUT,
                    format!("{}/{}", current.path, url_escape(id)),
                    Some(document),
                ),
                Err(problem) => return refuse(&visitor, &key, &fields, problem).await,
            },
            "delete" => (
                Method::DELETE,
                format!("{}/{}", current.path, url_escape(id)),
                None,
            ),
            "ai_form" => {
                let mut settings = visitor.api.read(current.path).await?;
                let on = |name: &str| json!(field(&fields, name) == "on");
                settings["ai"]["enabled"] = on("ai_enabled");
                for direction in ["outgoing", "incoming"] {
                    let insights = &mut settings["insights"][direction];
                    insights["enabled"] = on(&format!("{direction}_enabled"));
                    insights["scope"] = json!(field(&fields, &format!("{direction}_scope")));
                }
                settings["insights"]["language"] = json!(field(&fields, "language"));
                (Method::PUT, current.path.to_string(), Some(settings))
            }
            "role" => {
                let permissions: Vec<&str> = fields
                    .iter()
                    .filter(|(name, _)| name == "permission")
                    .map(|(_, value)| value.as_str())
                    .collect();
                if field(&fields, "existing") == "1" {
                    (
                        Method::PUT,
                        format!("/roles/{}", url_escape(id)),
                        Some(json!({"permissions": permissions})),
                    )
                } else {
                    (
                        Method::POST,
                        "/roles".into(),
                        Some(json!({"name": id, "permissions": permissions})),
                    )
                }
            }
            "delete_role" => (Method::DELETE, format!("/roles/{}", url_escape(id)), None),
            "add_user" => {
                let optional = |name: &str| {
                    Some(field(&fields, name).trim()).filter(|value| !value.is_empty())
                };
                (
                    Method::POST,
                    "/users".into(),
                    Some(json!({
                        "name": field(&fields, "name").trim(),
                        "role": field(&fields, "role"),
                        "email": optional("email"),
                        "password": optional("password"),
                        "supporter_id": optional("supporter_id"),
                        "log_sessions": field(&fields, "log_sessions") == "on",
                    })),
                )
            }
            "user_role" => (
                Method::PATCH,
                format!("/users/{}", url_escape(id)),
                Some(json!({"role": field(&fields, "role")})),
            ),
            "language" => (
                Method::PUT,
                "/me/language".into(),
                Some(json!({"language": field(&fields, "language")})),
            ),
            _ => return Err(WebError::NotFound),
        };
        let reply = visitor.api.call(method, &path, body.as_ref()).await?;
        match reply.status {
            status if status.is_success() => {
                Ok(Redirect::to(&format!("/settings/{key}?saved=1")).into_response())
            }
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(reply.failure()),
            _ => refuse(&visitor, &key, &fields, reply.problem()).await,
        }
    }
    .await;
    visitor.finish(result)
}

/// The section again with what was sent (never the password) and why it was refused.
async fn refuse(
    visitor: &Visitor,
    key: &str,
    fields: &[(String, String)],
    problem: String,
) -> Result<Response, WebError> {
    let kept: serde_json::Map<String, Value> = fields
        .iter()
        .filter(|(name, _)| name != "password" && name != "csrf")
        .map(|(name, value)| (name.clone(), json!(value)))
        .collect();
    render(
        visitor,
        key,
        Some(Refused {
            fields: Value::Object(kept),
            problem,
        }),
    )
    .await
}
