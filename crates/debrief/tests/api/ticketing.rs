//! Local stand-ins for ServiceNow's Table API and Salesforce's REST API. They check every
//! request as the systems document them (method, path, authentication, the body's fields, that
//! the record exists), keep their own records (incidents with their work notes, cases with their
//! comments) and a log of every request with the status they answered, and can be taken down
//! (every request answered 503) and brought back.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// ServiceNow's user `admin` with password `pw`, as a basic-authentication header.
const SERVICENOW_AUTH: &str = "Basic YWRtaW46cHc=";
/// Salesforce's valid access token.
pub const SALESFORCE_TOKEN: &str = "sf-token";
/// An incident that exists before the test.
pub const INCIDENT: &str = "46d44a5cdb1232003c4f2a8c4b961941";
/// A second incident that exists before the test.
pub const OTHER_INCIDENT: &str = "9c573169c611228700193229fff72400";
/// A case that exists before the test.
pub const CASE: &str = "500XX00000ABCDEFGH";

/// A record of the stand-in: its title and the notes (or comments) written into it, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    pub title: String,
    pub notes: Vec<String>,
}

/// What the stand-in holds and saw.
#[derive(Debug, Default)]
pub struct Ticketing {
    pub incidents: BTreeMap<String, Record>,
    pub cases: BTreeMap<String, Record>,
    /// Every request: method, path, the status answered.
    pub log: Vec<(String, String, u16)>,
    /// Answer every request 503.
    pub down: bool,
    next_id: u64,
}

/// The stand-in, shared with the test.
#[derive(Clone)]
pub struct StandIn {
    pub base: String,
    state: Arc<Mutex<Ticketing>>,
}

impl StandIn {
    /// What it holds and saw now.
    pub fn state(&self) -> MutexGuard<'_, Ticketing> {
        self.state.lock().expect("stand-in lock")
    }

    /// Takes it down (`true`) or brings it back.
    pub fn set_down(&self, down: bool) {
        self.state().down = down;
    }

    /// The notes of an incident (ServiceNow) or the comments of a case (Salesforce).
    pub fn notes(&self, id: &str) -> Vec<String> {
        let state = self.state();
        state
            .incidents
            .get(id)
            .or_else(|| state.cases.get(id))
            .map(|record| record.notes.clone())
            .unwrap_or_default()
    }
}

type Shared = State<Arc<Mutex<Ticketing>>>;

fn header(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

fn text_field<'a>(body: &'a Value, field: &str) -> Option<&'a str> {
    body[field].as_str().filter(|text| !text.trim().is_empty())
}

fn servicenow_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"message": message, "detail": null}, "status": "failure"})),
    )
        .into_response()
}

fn salesforce_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!([{"errorCode": code, "message": message}])),
    )
        .into_response()
}

/// ServiceNow's answer to a request without the right basic authentication.
fn servicenow_refusal(headers: &HeaderMap) -> Option<Response> {
    (header(headers, "authorization") != SERVICENOW_AUTH)
        .then(|| servicenow_error(StatusCode::UNAUTHORIZED, "User Not Authenticated"))
}

/// Salesforce's answer to a request without the valid bearer token.
fn salesforce_refusal(headers: &HeaderMap) -> Option<Response> {
    (header(headers, "authorization") != format!("Bearer {SALESFORCE_TOKEN}")).then(|| {
        salesforce_error(
            StatusCode::UNAUTHORIZED,
            "INVALID_SESSION_ID",
            "Session expired or invalid",
        )
    })
}

fn new_id(state: &mut Ticketing, width: usize) -> String {
    state.next_id += 1;
    format!("{:0width$x}", 0xabc0_0000_u64 + state.next_id)
}

async fn servicenow_list(headers: HeaderMap) -> Response {
    if let Some(refusal) = servicenow_refusal(&headers) {
        return refusal;
    }
    Json(json!({"result": [{"sys_id": INCIDENT}]})).into_response()
}

async fn servicenow_create(
    State(state): Shared,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(refusal) = servicenow_refusal(&headers) {
        return refusal;
    }
    let (Some(title), Some(notes)) = (
        text_field(&body, "short_description"),
        text_field(&body, "work_notes"),
    ) else {
        return servicenow_error(StatusCode::BAD_REQUEST, "short_description and work_notes");
    };
    let mut state = state.lock().expect("lock");
    let sys_id = new_id(&mut state, 32);
    state.incidents.insert(
        sys_id.clone(),
        Record {
            title: title.into(),
            notes: vec![notes.into()],
        },
    );
    (
        StatusCode::CREATED,
        Json(json!({"result": {"sys_id": sys_id, "short_description": title}})),
    )
        .into_response()
}

async fn servicenow_note(
    State(state): Shared,
    Path(sys_id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(refusal) = servicenow_refusal(&headers) {
        return refusal;
    }
    let Some(notes) = text_field(&body, "work_notes") else {
        return servicenow_error(StatusCode::BAD_REQUEST, "work_notes is required");
    };
    if body.as_object().is_some_and(|fields| fields.len() != 1) {
        return servicenow_error(StatusCode::BAD_REQUEST, "only work_notes may change");
    }
    let mut state = state.lock().expect("lock");
    let Some(incident) = state.incidents.get_mut(&sys_id) else {
        return servicenow_error(StatusCode::NOT_FOUND, "No Record found");
    };
    incident.notes.push(notes.into());
    Json(json!({"result": {"sys_id": sys_id}})).into_response()
}

async fn salesforce_describe(headers: HeaderMap) -> Response {
    if let Some(refusal) = salesforce_refusal(&headers) {
        return refusal;
    }
    Json(json!({"objectDescribe": {"name": "Case", "createable": true}, "recentItems": []}))
        .into_response()
}

async fn salesforce_case(
    State(state): Shared,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(refusal) = salesforce_refusal(&headers) {
        return refusal;
    }
    let (Some(subject), Some(description)) = (
        text_field(&body, "Subject"),
        text_field(&body, "Description"),
    ) else {
        return salesforce_error(
            StatusCode::BAD_REQUEST,
            "REQUIRED_FIELD_MISSING",
            "Subject, Description",
        );
    };
    let mut state = state.lock().expect("lock");
    let id = format!("500{}", &new_id(&mut state, 15)[..15]);
    state.cases.insert(
        id.clone(),
        Record {
            title: subject.into(),
            notes: vec![description.into()],
        },
    );
    (
        StatusCode::CREATED,
        Json(json!({"id": id, "success": true, "errors": []})),
    )
        .into_response()
}

async fn salesforce_comment(
    State(state): Shared,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(refusal) = salesforce_refusal(&headers) {
        return refusal;
    }
    let (Some(parent), Some(comment)) = (
        text_field(&body, "ParentId"),
        text_field(&body, "CommentBody"),
    ) else {
        return salesforce_error(
            StatusCode::BAD_REQUEST,
            "REQUIRED_FIELD_MISSING",
            "ParentId, CommentBody",
        );
    };
    if body["IsPublished"] != json!(false) {
        return salesforce_error(
            StatusCode::BAD_REQUEST,
            "FIELD_INTEGRITY_EXCEPTION",
            "IsPublished must be false here",
        );
    }
    let mut state = state.lock().expect("lock");
    let id = format!("00a{}", &new_id(&mut state, 15)[..12]);
    let Some(case) = state.cases.get_mut(parent) else {
        return salesforce_error(
            StatusCode::BAD_REQUEST,
            "INVALID_CROSS_REFERENCE_KEY",
            "invalid cross reference id",
        );
    };
    case.notes.push(comment.into());
    (
        StatusCode::CREATED,
        Json(json!({"id": id, "success": true, "errors": []})),
    )
        .into_response()
}

/// Answers 503 while down, and logs every request with the status answered.
async fn gate(State(state): Shared, request: Request, next: Next) -> Response {
    let (method, path) = (request.method().to_string(), request.uri().to_string());
    let down = state.lock().expect("lock").down;
    let response = if down {
        servicenow_error(StatusCode::SERVICE_UNAVAILABLE, "down for maintenance")
    } else {
        next.run(request).await
    };
    state
        .lock()
        .expect("lock")
        .log
        .push((method, path, response.status().as_u16()));
    response
}

/// Starts both stand-ins on one port, with [`INCIDENT`], [`OTHER_INCIDENT`] and [`CASE`].
pub async fn start() -> StandIn {
    let mut ticketing = Ticketing::default();
    for incident in [INCIDENT, OTHER_INCIDENT] {
        ticketing.incidents.insert(
            incident.into(),
            Record {
                title: "Outlook asks for the password again and again".into(),
                notes: Vec::new(),
            },
        );
    }
    ticketing.cases.insert(
        CASE.into(),
        Record {
            title: "VPN drops every hour".into(),
            notes: Vec::new(),
        },
    );
    let state = Arc::new(Mutex::new(ticketing));
    let salesforce = "/services/data/v59.0/sobjects";
    let app = axum::Router::new()
        .route(
            "/api/now/table/incident",
            axum::routing::get(servicenow_list).post(servicenow_create),
        )
        .route(
            "/api/now/table/incident/{sys_id}",
            axum::routing::patch(servicenow_note),
        )
        .route(
            &format!("{salesforce}/Case"),
            axum::routing::get(salesforce_describe).post(salesforce_case),
        )
        .route(
            &format!("{salesforce}/CaseComment"),
            axum::routing::post(salesforce_comment),
        )
        .fallback(|| async { StatusCode::NOT_FOUND })
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            gate,
        ))
        .with_state(Arc::clone(&state));
    StandIn {
        base: crate::util::spawn_stand_in(app).await,
        state,
    }
}
