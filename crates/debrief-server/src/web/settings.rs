//! The settings pages, every one a form: AI settings and scopes; the engine (summaries, the
//! resolution check, model and limits); the issue-type taxonomy as rows of id, name,
//! description and examples; support modules with their insights switch; devices with their
//! consent mode and policy (and a bulk change of consent); policies with their switches and
//! enforcement; roles with their permissions; users; and the visitor's own language. Each
//! section needs the permission the API asks to change it.

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
    /// The engine settings as a form.
    Engine,
    /// The taxonomy as rows of issue types.
    Taxonomy,
    /// Support modules by id.
    Modules,
    /// Devices by id.
    Devices,
    /// Policies by id.
    Policies,
    /// The automated-resolution plan, seats, commitments, limits and the AI-agent switch.
    AiAgents,
    /// The ServiceNow and Salesforce connectors.
    Connectors,
    /// Webhook endpoints.
    Webhooks,
    /// API tokens.
    Tokens,
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

/// How many of a connector's latest pushes its settings page lists.
const CONNECTOR_DELIVERIES_SHOWN: usize = 20;

const SECTIONS: [Section; 13] = [
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
        kind: Kind::Engine,
        permission: Some("ai.settings.manage"),
    },
    Section {
        key: "taxonomy",
        label: "settings_taxonomy",
        path: "/taxonomy",
        kind: Kind::Taxonomy,
        permission: Some("ai.settings.manage"),
    },
    Section {
        key: "modules",
        label: "settings_modules",
        path: "/modules",
        kind: Kind::Modules,
        permission: Some("ai.settings.manage"),
    },
    Section {
        key: "devices",
        label: "settings_devices",
        path: "/devices",
        kind: Kind::Devices,
        permission: Some("ai.settings.manage"),
    },
    Section {
        key: "policies",
        label: "settings_policies",
        path: "/policies",
        kind: Kind::Policies,
        permission: Some("policies.manage"),
    },
    Section {
        key: "ai-agents",
        label: "settings_ai_agents",
        path: "/ai-agents/status",
        kind: Kind::AiAgents,
        permission: Some("billing.manage"),
    },
    Section {
        key: "connectors",
        label: "settings_connectors",
        path: "/connectors",
        kind: Kind::Connectors,
        permission: Some("ai.settings.manage"),
    },
    Section {
        key: "webhooks",
        label: "settings_webhooks",
        path: "/webhooks",
        kind: Kind::Webhooks,
        permission: Some("ai.settings.manage"),
    },
    Section {
        key: "tokens",
        label: "settings_tokens",
        path: "/tokens",
        kind: Kind::Tokens,
        permission: Some("roles.manage"),
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
    let result = render(&visitor, &key, None, None).await;
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

/// The names of the company's roles, built-in ones first.
async fn role_names(visitor: &Visitor) -> Result<Value, WebError> {
    Ok(json!(items_of(visitor, "/roles")
        .await?
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|role| role["name"].as_str())
        .collect::<Vec<_>>()))
}

/// The items of a list the API answered (`{"items": [...]}`).
async fn items_of(visitor: &Visitor, path: &str) -> Result<Value, WebError> {
    Ok(visitor.api.read(path).await?["items"].clone())
}

async fn render(
    visitor: &Visitor,
    key: &str,
    refused: Option<Refused>,
    created: Option<Value>,
) -> Result<Response, WebError> {
    let current = section(key)?;
    if let Some(permission) = current.permission {
        visitor.require(permission)?;
    }
    let mut content = json!({"kind": match current.kind {
        Kind::AiForm => "ai_form",
        Kind::Engine => "engine",
        Kind::Taxonomy => "taxonomy",
        Kind::Modules => "modules",
        Kind::Devices => "devices",
        Kind::Policies => "policies",
        Kind::AiAgents => "ai_agents",
        Kind::Connectors => "connectors",
        Kind::Webhooks => "webhooks",
        Kind::Tokens => "tokens",
        Kind::Roles => "roles",
        Kind::Users => "users",
        Kind::Language => "language",
    }});
    match current.kind {
        Kind::AiForm | Kind::Engine | Kind::Taxonomy | Kind::AiAgents => {
            content["settings"] = visitor.api.read(current.path).await?;
        }
        Kind::Modules | Kind::Policies => {
            content["items"] = items_of(visitor, current.path).await?;
        }
        Kind::Connectors => {
            let items = items_of(visitor, current.path).await?;
            let mut deliveries = serde_json::Map::new();
            for kind in items
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|item| item["kind"].as_str())
            {
                let path = format!("{}/{}/deliveries", current.path, url_escape(kind));
                let mut listed = items_of(visitor, &path).await?;
                if let Some(listed) = listed.as_array_mut() {
                    listed.truncate(CONNECTOR_DELIVERIES_SHOWN);
                }
                deliveries.insert(kind.to_string(), listed);
            }
            content["items"] = items;
            content["deliveries"] = Value::Object(deliveries);
            // A push whose next try has passed waits for the ones before it.
            content["now"] =
                json!(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
            content["events"] = json!(debrief_store::CONNECTOR_EVENTS);
        }
        Kind::Webhooks => {
            content["items"] = items_of(visitor, current.path).await?;
            content["events"] = json!(debrief_store::WEBHOOK_EVENTS);
        }
        Kind::Tokens => {
            content["items"] = visitor.api.read(current.path).await?;
            content["users"] = items_of(visitor, "/users").await?;
            content["roles"] = role_names(visitor).await?;
        }
        Kind::Devices => {
            content["items"] = items_of(visitor, current.path).await?;
            content["policies"] = items_of(visitor, "/policies").await?;
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
            content["roles"] = role_names(visitor).await?;
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
    if let Some(created) = created {
        content["created"] = created;
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

/// `POST /settings/{section}`: `action` says what — `engine`, `taxonomy` (or `taxonomy_reset`),
/// `module`, `device`, `devices_consent` (the consent mode of every checked device), `policy`,
/// `delete` one by id, `plan`, `seats`, `commitment`, `limits`, `agents_switch`, `connector`
/// (shows what the system answered to the test call), `redeliver` (a connector's push),
/// `webhook`, `token` (the last two show the new secret once), `role` (create or change),
/// `delete_role`, `add_user`, `user` (role and "log sessions"), `users_log` (every checked
/// user's "log sessions"), `language`.
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
        let id = field(&fields, "id").trim();
        let on = |name: &str| field(&fields, name) == "on";
        if matches!(field(&fields, "action"), "module" | "device" | "policy") && id.is_empty() {
            return refuse(&visitor, &key, &fields, "id: must not be empty".into()).await;
        }
        let (method, path, body): (Method, String, Option<Value>) = match field(&fields, "action") {
            "engine" => {
                let mut settings = visitor.api.read(current.path).await?["settings"].clone();
                settings["summaries"] = json!(field(&fields, "summaries"));
                settings["resolution_check"] = json!(field(&fields, "resolution_check"));
                let model = field(&fields, "model").trim();
                settings["model"] = if model.is_empty() { Value::Null } else { json!(model) };
                settings["limits"]["restore_personal_data"] = json!(on("restore_personal_data"));
                match field(&fields, "max_transcript_chars").trim().parse::<u64>() {
                    Ok(chars) => settings["limits"]["max_transcript_chars"] = json!(chars),
                    Err(_) => {
                        let problem = "max_transcript_chars: must be a whole number".to_string();
                        return refuse(&visitor, &key, &fields, problem).await;
                    }
                }
                (Method::PUT, current.path.to_string(), Some(settings))
            }
            "taxonomy" => (
                Method::PUT,
                current.path.to_string(),
                Some(json!({"issue_types": issue_types_of(&fields)})),
            ),
            "taxonomy_reset" => (Method::DELETE, current.path.to_string(), None),
            "module" => (
                Method::PUT,
                format!("{}/{}", current.path, url_escape(id)),
                Some(json!({
                    "name": Some(field(&fields, "name").trim()).filter(|name| !name.is_empty()),
                    "custom": on("custom"),
                    "insights_enabled": on("insights_enabled"),
                })),
            ),
            "policy" => (
                Method::PUT,
                format!("{}/{}", current.path, url_escape(id)),
                Some(json!({
                    "name": Some(field(&fields, "name").trim()).filter(|name| !name.is_empty()),
                    "reports_enabled": on("reports_enabled"),
                    "insights_enabled": on("insights_enabled"),
                    "enforced": on("enforced"),
                })),
            ),
            "device" => {
                let mut device = visitor
                    .api
                    .read(&format!("{}/{}", current.path, url_escape(id)))
                    .await?;
                if let Some(fields_of) = device.as_object_mut() {
                    fields_of.remove("id");
                }
                device["consent_mode"] = json!(field(&fields, "consent_mode"));
                let policy = field(&fields, "policy");
                device["policy"] = if policy.is_empty() { Value::Null } else { json!(policy) };
                (
                    Method::PUT,
                    format!("{}/{}", current.path, url_escape(id)),
                    Some(device),
                )
            }
            "devices_consent" => {
                let mode = field(&fields, "consent_mode");
                let chosen = values(&fields, "device");
                if chosen.is_empty() {
                    let problem = "devices: choose at least one".to_string();
                    return refuse(&visitor, &key, &fields, problem).await;
                }
                let mut changes = Vec::with_capacity(chosen.len());
                for device_id in chosen {
                    let path = format!("{}/{}", current.path, url_escape(device_id));
                    let mut device = visitor.api.read(&path).await?;
                    if let Some(fields_of) = device.as_object_mut() {
                        fields_of.remove("id");
                    }
                    device["consent_mode"] = json!(mode);
                    changes.push((Method::PUT, path, device));
                }
                return apply_each(&visitor, &key, &fields, changes).await;
            }
            "delete" => (
                Method::DELETE,
                format!("{}/{}", current.path, url_escape(id)),
                None,
            ),
            "plan" => {
                let seats = field(&fields, "full_seats").trim().parse::<i64>();
                let cap = optional_number(field(&fields, "monthly_cap"));
                let (Ok(seats), Ok(cap)) = (seats, cap) else {
                    let problem = "full_seats, monthly_cap: must be whole numbers".to_string();
                    return refuse(&visitor, &key, &fields, problem).await;
                };
                (
                    Method::PUT,
                    "/ai-agents/plan".into(),
                    Some(json!({
                        "plan": field(&fields, "plan"),
                        "full_seats": seats,
                        "overage_unit_price": field(&fields, "overage_unit_price").trim(),
                        "at_limit": field(&fields, "at_limit"),
                        "monthly_cap": cap,
                    })),
                )
            }
            "seats" => match field(&fields, "full_seats").trim().parse::<i64>() {
                Ok(full) => (
                    Method::POST,
                    "/ai-agents/changes".into(),
                    Some(json!({"type": "seats", "full": full})),
                ),
                Err(_) => {
                    let problem = "full_seats: must be a whole number".to_string();
                    return refuse(&visitor, &key, &fields, problem).await;
                }
            },
            "commitment" => match field(&fields, "units").trim().parse::<i64>() {
                Ok(units) => (
                    Method::POST,
                    "/ai-agents/changes".into(),
                    Some(json!({"type": "commitment", "units": units,
                                "unit_price": field(&fields, "unit_price").trim()})),
                ),
                Err(_) => {
                    let problem = "units: must be a whole number".to_string();
                    return refuse(&visitor, &key, &fields, problem).await;
                }
            },
            "limits" => match optional_number(field(&fields, "monthly_cap")) {
                Ok(cap) => (
                    Method::POST,
                    "/ai-agents/changes".into(),
                    Some(json!({"type": "settings", "at_limit": field(&fields, "at_limit"),
                                "monthly_cap": cap})),
                ),
                Err(_) => {
                    let problem = "monthly_cap: must be a whole number".to_string();
                    return refuse(&visitor, &key, &fields, problem).await;
                }
            },
            "agents_switch" => (
                Method::POST,
                "/ai-agents/changes".into(),
                Some(json!({"type": "ai_agents", "enabled": field(&fields, "enabled") == "on"})),
            ),
            "connector" => {
                let kind = field(&fields, "kind");
                let text = |name: &str| field(&fields, name).trim().to_string();
                let mut body = match kind {
                    "servicenow" => json!({"kind": kind, "instance_url": text("instance_url"),
                        "username": text("username"), "password": text("secret")}),
                    _ => json!({"kind": kind, "instance_url": text("instance_url"),
                        "access_token": text("secret"),
                        "api_version": Some(text("api_version")).filter(|version| !version.is_empty())
                            .unwrap_or_else(|| "v59.0".into())}),
                };
                body["events"] = json!(values(&fields, "event"));
                body["when_no_ticket"] = json!(field(&fields, "when_no_ticket"));
                let path = format!("/connectors/{}", url_escape(kind));
                return show_answer(&visitor, &key, &fields, Method::PUT, &path, body).await;
            }
            "redeliver" => (
                Method::POST,
                format!(
                    "/connectors/{}/deliveries/{}/redeliver",
                    url_escape(field(&fields, "kind")),
                    url_escape(id)
                ),
                None,
            ),
            "webhook" => {
                let secret = Some(field(&fields, "secret").trim()).filter(|secret| !secret.is_empty());
                let body = json!({"url": field(&fields, "url").trim(), "events": values(&fields, "event"),
                                  "secret": secret});
                return show_answer(&visitor, &key, &fields, Method::POST, "/webhooks", body).await;
            }
            "token" => {
                let role = Some(field(&fields, "role")).filter(|role| !role.is_empty());
                let body = json!({"label": field(&fields, "label").trim(), "role": role});
                return show_answer(&visitor, &key, &fields, Method::POST, "/tokens", body).await;
            }
            "ai_form" => {
                let mut settings = visitor.api.read(current.path).await?;
                settings["ai"]["enabled"] = json!(on("ai_enabled"));
                for direction in ["outgoing", "incoming"] {
                    let insights = &mut settings["insights"][direction];
                    insights["enabled"] = json!(on(&format!("{direction}_enabled")));
                    insights["scope"] = json!(field(&fields, &format!("{direction}_scope")));
                }
                settings["insights"]["language"] = json!(field(&fields, "language"));
                (Method::PUT, current.path.to_string(), Some(settings))
            }
            "role" => {
                let permissions = values(&fields, "permission");
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
            "user" => (
                Method::PATCH,
                format!("/users/{}", url_escape(id)),
                Some(json!({"role": field(&fields, "role"), "log_sessions": on("log_sessions")})),
            ),
            "users_log" => {
                let log_sessions = field(&fields, "log_sessions") == "on";
                let chosen = values(&fields, "user");
                if chosen.is_empty() {
                    let problem = "users: choose at least one".to_string();
                    return refuse(&visitor, &key, &fields, problem).await;
                }
                let changes = chosen
                    .into_iter()
                    .map(|user| {
                        let body = json!({"log_sessions": log_sessions});
                        (Method::PATCH, format!("/users/{}", url_escape(user)), body)
                    })
                    .collect();
                return apply_each(&visitor, &key, &fields, changes).await;
            }
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

/// Sends each change of a bulk action in turn: back to the section when all are saved, or with
/// the API's reason at the first refusal.
async fn apply_each(
    visitor: &Visitor,
    key: &str,
    fields: &[(String, String)],
    changes: Vec<(Method, String, Value)>,
) -> Result<Response, WebError> {
    for (method, path, body) in changes {
        let reply = visitor.api.call(method, &path, Some(&body)).await?;
        match reply.status {
            status if status.is_success() => {}
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => return Err(reply.failure()),
            _ => return refuse(visitor, key, fields, reply.problem()).await,
        }
    }
    Ok(Redirect::to(&format!("/settings/{key}?saved=1")).into_response())
}

/// Every value sent for the field `name` (checkboxes, table rows), in order.
fn values<'a>(fields: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    fields
        .iter()
        .filter(|(field_name, _)| field_name == name)
        .map(|(_, value)| value.as_str())
        .collect()
}

/// An empty field as `None`, else the whole number it holds.
fn optional_number(text: &str) -> Result<Option<i64>, std::num::ParseIntError> {
    let text = text.trim();
    if text.is_empty() {
        Ok(None)
    } else {
        text.parse().map(Some)
    }
}

/// Makes a change whose answer is shown once (a webhook's secret, a token, a connector's test
/// call): the section again with the answer as `created`, or with the API's reason.
async fn show_answer(
    visitor: &Visitor,
    key: &str,
    fields: &[(String, String)],
    method: Method,
    path: &str,
    body: Value,
) -> Result<Response, WebError> {
    let reply = visitor.api.call(method, path, Some(&body)).await?;
    match reply.status {
        status if status.is_success() => render(visitor, key, None, Some(reply.json())).await,
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(reply.failure()),
        _ => refuse(visitor, key, fields, reply.problem()).await,
    }
}

/// The taxonomy's rows as sent: `type_id`, `type_name`, `type_description` and
/// `type_examples` (one per line) in row order; a row with an empty id, or marked `type_remove`,
/// is left out.
fn issue_types_of(fields: &[(String, String)]) -> Vec<Value> {
    let column = |name: &str| values(fields, name);
    let (ids, names, descriptions, examples) = (
        column("type_id"),
        column("type_name"),
        column("type_description"),
        column("type_examples"),
    );
    let removed = column("type_remove");
    ids.iter()
        .enumerate()
        .filter(|(_, id)| !id.trim().is_empty() && !removed.contains(&id.trim()))
        .map(|(row, id)| {
            let examples: Vec<&str> = examples
                .get(row)
                .map(|text| {
                    text.lines()
                        .map(str::trim)
                        .filter(|line| !line.is_empty())
                        .collect()
                })
                .unwrap_or_default();
            json!({
                "id": id.trim(),
                "name": names.get(row).map_or("", |name| name.trim()),
                "description": descriptions.get(row).map_or("", |text| text.trim()),
                "examples": examples,
            })
        })
        .collect()
}

/// The section again with what was sent (never the password) and why it was refused.
async fn refuse(
    visitor: &Visitor,
    key: &str,
    fields: &[(String, String)],
    problem: String,
) -> Result<Response, WebError> {
    // What was typed, but no secret; a field sent more than once (checkboxes) as a list.
    let mut kept = serde_json::Map::new();
    for (name, value) in fields
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "password" | "secret" | "csrf"))
    {
        match kept.get_mut(name) {
            Some(Value::Array(values)) => values.push(json!(value)),
            Some(first) => *first = json!([first.take(), value]),
            None => {
                kept.insert(name.clone(), json!(value));
            }
        }
    }
    render(
        visitor,
        key,
        Some(Refused {
            fields: Value::Object(kept),
            problem,
        }),
        None,
    )
    .await
}
