//! The pages' one way to the data: the API router called in-process with the visitor's token,
//! so every page gets the API's permissions, validation and errors, and no second copy of them.

use axum::body::{to_bytes, Body, Bytes};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use serde_json::Value;
use tower::ServiceExt;
use tracing::Instrument;

use debrief_engine::language::Language;

use super::{labels, WebError};

/// Largest API reply a page reads (an export of many summaries as PDF stays well below).
const MAX_REPLY_BYTES: usize = 256 * 1024 * 1024;

/// The API as one visitor calls it, in the visitor's language.
#[derive(Clone)]
pub struct Api {
    router: Router,
    bearer: String,
    language: Language,
}

/// What the API answered.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The visitor's language, for [`Reply::problem`].
    language: Language,
}

impl Reply {
    /// The body as JSON (`null` when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The error the API explained, for the page: what kind of refusal it is in the visitor's
    /// language, then the API's message and each named field as the API words them (English,
    /// naming fields exactly).
    pub fn problem(&self) -> String {
        let body = self.json();
        let mut text = body["message"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("the request failed ({})", self.status));
        if self.language != Language::English {
            if let Some(lead) = body["code"]
                .as_str()
                .and_then(|code| labels::labels(self.language).get(format!("api_{code}").as_str()))
            {
                text = format!("{lead} ({text})");
            }
        }
        if let Some(details) = body["details"].as_array() {
            for detail in details {
                let field = detail["field"].as_str().or(detail["path"].as_str());
                let reason = detail["reason"].as_str().or(detail["message"].as_str());
                match (field, reason) {
                    (Some(field), Some(reason)) => text.push_str(&format!(" — {field}: {reason}")),
                    (None, Some(reason)) => text.push_str(&format!(" — {reason}")),
                    _ => {}
                }
            }
        } else if let Some(field) = body["details"]["field"].as_str() {
            // The message often says it already.
            let reason = body["details"]["reason"].as_str().unwrap_or_default();
            if !text.contains(reason) {
                text.push_str(&format!(" — {field}: {reason}"));
            }
        }
        text
    }
}

impl Reply {
    /// What a refusal means for a page that cannot do better: sign in again, the 403 or 404
    /// page, or the error page with the API's reason.
    pub fn failure(&self) -> WebError {
        match self.status {
            StatusCode::UNAUTHORIZED => WebError::SignIn,
            StatusCode::FORBIDDEN => WebError::Forbidden(self.problem()),
            StatusCode::NOT_FOUND => WebError::NotFound,
            _ => WebError::Api(self.problem()),
        }
    }
}

impl Api {
    /// The API router (routes without the `/api/v1` prefix) called with `token`, its refusals
    /// explained in English.
    pub fn new(router: Router, token: &str) -> Self {
        Api {
            router,
            bearer: format!("Bearer {token}"),
            language: Language::English,
        }
    }

    /// The same API with its refusals explained in `language`.
    pub fn in_language(self, language: Language) -> Self {
        Api { language, ..self }
    }

    /// Calls `method path` with an optional JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply, WebError> {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(AUTHORIZATION, &self.bearer)
            .header(CONTENT_TYPE, "application/json");
        let request = match body {
            Some(body) => request.body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        }
        .map_err(|error| WebError::Internal(format!("API request {path}: {error}")))?;
        let span = tracing::info_span!("api", http.path = %path, tenant.id = tracing::field::Empty);
        let response = self
            .router
            .clone()
            .oneshot(request)
            .instrument(span)
            .await
            .map_err(|error| WebError::Internal(format!("API call {path}: {error}")))?;
        let (parts, body) = response.into_parts();
        let body = to_bytes(body, MAX_REPLY_BYTES)
            .await
            .map_err(|error| WebError::Internal(format!("API reply {path}: {error}")))?;
        Ok(Reply {
            status: parts.status,
            headers: parts.headers,
            body,
            language: self.language,
        })
    }

    /// `GET path`, whose success is the page's data: a 401 sends the visitor to sign in, a 403 or
    /// 404 is the page's own, anything else unexpected is an error page.
    pub async fn read(&self, path: &str) -> Result<Value, WebError> {
        let reply = self.call(Method::GET, path, None).await?;
        if reply.status.is_success() {
            Ok(reply.json())
        } else {
            Err(reply.failure())
        }
    }

    /// `GET path` for one part of a page: `Err(why)` when the visitor may not see it (403) or
    /// it is not set up yet (404, 409), so the page says so and shows the rest.
    pub async fn read_part(&self, path: &str) -> Result<Result<Value, String>, WebError> {
        let reply = self.call(Method::GET, path, None).await?;
        match reply.status {
            status if status.is_success() => Ok(Ok(reply.json())),
            StatusCode::FORBIDDEN | StatusCode::NOT_FOUND | StatusCode::CONFLICT => {
                Ok(Err(reply.problem()))
            }
            _ => Err(reply.failure()),
        }
    }
}
