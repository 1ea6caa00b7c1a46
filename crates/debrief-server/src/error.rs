//! The one error type of the HTTP API, with its status and code table.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use debrief_core::RecordError;
use debrief_store::StoreError;
use serde_json::{json, Map, Value};

/// Everything an API call can fail with. The body is `{"code", "message", "details"?}`.
///
/// | variant | status | code |
/// |---|---|---|
/// | `Unauthorized` | 401 | `unauthorized` |
/// | `TokenExpired` | 401 | `token_expired` |
/// | `SignInRefused` | 401 | `unauthorized` |
/// | `Forbidden` | 403 | `forbidden` |
/// | `MissingPermission` | 403 | `forbidden` (details name the permission) |
/// | `NotFound` | 404 | `not_found` |
/// | `Conflict` | 409 | `conflict` |
/// | `MalformedJson` | 400 | `malformed_json` |
/// | `BadRequest` | 400 | `bad_request` |
/// | `InvalidRecord` | 422 | `invalid_field` |
/// | `PayloadTooLarge` | 413 | `payload_too_large` |
/// | `NotReady` | 503 | `not_ready` |
/// | `Upstream` | 502 | `bad_gateway` |
/// | `Internal` | 500 | `internal` |
///
/// A workflow's [`debrief_workflows::WorkflowError`] becomes `InvalidRecord` (an invalid
/// field), the store error's status, or `Internal`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("a valid bearer token is required")]
    Unauthorized,
    /// A sign-in with an unknown company or e-mail, or a wrong password (one answer for all).
    #[error("the company, e-mail or password is not right")]
    SignInRefused,
    /// A sign-in token past its idle or absolute limit: why.
    #[error("{0}")]
    TokenExpired(&'static str),
    #[error("{0}")]
    Forbidden(String),
    #[error("this call needs the permission {0}")]
    MissingPermission(debrief_core::access::Permission),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("malformed json: {message} at line {line} column {column}")]
    MalformedJson {
        message: String,
        line: usize,
        column: usize,
    },
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    InvalidRecord(RecordError),
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The store does not answer, or a background worker has stalled: what.
    #[error("{0}")]
    NotReady(String),
    /// Another system (a ticketing system) refused or did not answer.
    #[error("{0}")]
    Upstream(String),
    /// The detail is logged, never sent.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized | ApiError::TokenExpired(_) | ApiError::SignInRefused => {
                StatusCode::UNAUTHORIZED
            }
            ApiError::Forbidden(_) | ApiError::MissingPermission(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::MalformedJson { .. } | ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::InvalidRecord(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::NotReady(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Upstream(_) => StatusCode::BAD_GATEWAY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable snake_case code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized | ApiError::SignInRefused => "unauthorized",
            ApiError::TokenExpired(_) => "token_expired",
            ApiError::Forbidden(_) | ApiError::MissingPermission(_) => "forbidden",
            ApiError::NotFound => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::MalformedJson { .. } => "malformed_json",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::InvalidRecord(_) => "invalid_field",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::NotReady(_) => "not_ready",
            ApiError::Upstream(_) => "bad_gateway",
            ApiError::Internal(_) => "internal",
        }
    }

    /// A JSON syntax error of a request body.
    pub fn malformed_json(error: &serde_json::Error) -> ApiError {
        let message = error.to_string();
        let message = match message.rfind(" at line ") {
            Some(index) => message[..index].to_string(),
            None => message,
        };
        ApiError::MalformedJson {
            message,
            line: error.line(),
            column: error.column(),
        }
    }

    fn details(&self) -> Option<Value> {
        match self {
            ApiError::MalformedJson { line, column, .. } => {
                Some(json!({"line": line, "column": column}))
            }
            ApiError::InvalidRecord(record) => {
                let mut details = Map::new();
                if let Some(field) = &record.field {
                    details.insert("field".into(), json!(field));
                }
                details.insert("reason".into(), json!(record.reason));
                Some(Value::Object(details))
            }
            ApiError::MissingPermission(permission) => {
                Some(json!({"permission": permission.as_str()}))
            }
            _ => None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            tracing::error!(error.detail = %detail, "request failed");
        }
        let mut body = json!({"code": self.code(), "message": self.to_string()});
        if let Some(details) = self.details() {
            body["details"] = details;
        }
        let mut response = (self.status(), Json(body)).into_response();
        if matches!(self, ApiError::Unauthorized | ApiError::TokenExpired(_)) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// Gives the framework's own plain-text errors (a body over the limit, a path or query that
/// does not parse, a method the route lacks) the API's JSON error shape.
pub async fn json_errors(response: Response) -> Response {
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/plain"));
    let status = response.status();
    if !(plain || response.headers().get(header::CONTENT_TYPE).is_none())
        || !(status.is_client_error() || status.is_server_error())
    {
        return response;
    }
    let text = axum::body::to_bytes(response.into_body(), 16 * 1024)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_string())
        .unwrap_or_default();
    let error = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(if text.is_empty() {
            String::from("the body is too large")
        } else {
            text
        }),
        StatusCode::NOT_FOUND => ApiError::NotFound,
        StatusCode::UNAUTHORIZED => ApiError::Unauthorized,
        StatusCode::INTERNAL_SERVER_ERROR => ApiError::Internal(text),
        _ => {
            let message = status.canonical_reason().unwrap_or("error").to_lowercase();
            let body = json!({
                "code": message.replace([' ', '-'], "_"),
                "message": if text.is_empty() { message } else { text },
            });
            return (status, Json(body)).into_response();
        }
    };
    let mut response = error.into_response();
    *response.status_mut() = status;
    response
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Conflict { constraint } => {
                ApiError::Conflict(format!("already exists ({constraint})"))
            }
            StoreError::Invalid(message) => ApiError::BadRequest(message),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<debrief_workflows::WorkflowError> for ApiError {
    fn from(error: debrief_workflows::WorkflowError) -> Self {
        use debrief_workflows::WorkflowError;
        match error {
            WorkflowError::Invalid(record) => ApiError::InvalidRecord(record),
            WorkflowError::Store(store) => store.into(),
            WorkflowError::Internal(detail) => ApiError::Internal(detail),
        }
    }
}

/// Result of handlers.
pub type ApiResult<T> = std::result::Result<T, ApiError>;
