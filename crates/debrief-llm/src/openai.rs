//! A client of any OpenAI-compatible chat-completions server: OpenAI, Azure OpenAI, vLLM,
//! Ollama, llama.cpp's server.
//!
//! Retries a 429, a 5xx, a timeout or a refused connection with exponential backoff (0.5, 1,
//! 2 … s, at most 30 s apart), waiting as long as a `Retry-After` header says when there is
//! one (at most 60 s); limits how many requests are in flight at once; asks for JSON with
//! `response_format` and stops asking when the server says it does not support it.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde::Deserialize;
use tokio::sync::Semaphore;

use crate::backend::{ChatRequest, Completion, LlmBackend, LlmError};

/// How to reach a server.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct OpenAiConfig {
    /// The API's root, up to and including its version: `https://api.openai.com/v1`,
    /// `http://127.0.0.1:8080/v1`.
    pub base_url: String,
    pub model: String,
    /// The environment variable holding the API key.
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// A file holding the API key (read once, surrounding white space dropped).
    #[serde(default)]
    pub api_key_file: Option<PathBuf>,
    /// Send the key as `api-key: …` (Azure OpenAI) rather than `Authorization: Bearer …`.
    #[serde(default)]
    pub azure_key_header: bool,
    /// Seconds one request may take.
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u64,
    /// Retries after the first attempt.
    #[serde(default = "default_max_retries")]
    pub max_retries: u32,
    /// Requests in flight at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Ask for JSON with `response_format` (dropped by itself when the server refuses it).
    #[serde(default = "default_true")]
    pub json_mode: bool,
}

fn default_timeout_seconds() -> u64 {
    60
}
fn default_max_retries() -> u32 {
    3
}
fn default_concurrency() -> usize {
    4
}
fn default_true() -> bool {
    true
}

impl OpenAiConfig {
    /// A configuration with the defaults for everything but the address and model.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> OpenAiConfig {
        OpenAiConfig {
            base_url: base_url.into(),
            model: model.into(),
            api_key_env: None,
            api_key_file: None,
            azure_key_header: false,
            timeout_seconds: default_timeout_seconds(),
            max_retries: default_max_retries(),
            concurrency: default_concurrency(),
            json_mode: true,
        }
    }
}

/// Longest wait between two attempts without a `Retry-After`.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Longest wait a `Retry-After` may ask for.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// A chat-completions client.
pub struct OpenAiClient {
    config: OpenAiConfig,
    api_key: Option<String>,
    http: reqwest::Client,
    in_flight: Semaphore,
    /// Cleared when the server refused `response_format`.
    json_mode: AtomicBool,
}

impl OpenAiClient {
    /// A client for `config`, with its API key read from the environment or file it names.
    pub fn new(config: OpenAiConfig) -> Result<OpenAiClient, LlmError> {
        let api_key = match (&config.api_key_env, &config.api_key_file) {
            (Some(variable), _) => Some(std::env::var(variable).map_err(|_| {
                LlmError::NotConfigured(format!("the API key variable {variable} is not set"))
            })?),
            (None, Some(path)) => Some(
                std::fs::read_to_string(path)
                    .map_err(|error| {
                        LlmError::NotConfigured(format!(
                            "the API key file {} cannot be read: {error}",
                            path.display()
                        ))
                    })?
                    .trim()
                    .to_string(),
            ),
            (None, None) => None,
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.timeout_seconds))
            .build()
            .map_err(|error| LlmError::NotConfigured(error.to_string()))?;
        Ok(OpenAiClient {
            in_flight: Semaphore::new(config.concurrency.max(1)),
            json_mode: AtomicBool::new(config.json_mode),
            api_key,
            http,
            config,
        })
    }

    fn body(&self, request: &ChatRequest) -> serde_json::Value {
        let mut body = serde_json::json!({
            "model": self.config.model,
            "messages": request.messages,
            "max_tokens": request.max_tokens,
            "temperature": 0,
            "seed": 0,
        });
        if request.json && self.json_mode.load(Ordering::Relaxed) {
            body["response_format"] = serde_json::json!({"type": "json_object"});
        }
        body
    }

    /// One attempt.
    async fn attempt(&self, request: &ChatRequest) -> Result<Completion, Attempt> {
        let url = format!(
            "{}/chat/completions",
            self.config.base_url.trim_end_matches('/')
        );
        let mut call = self.http.post(url).json(&self.body(request));
        if let Some(key) = &self.api_key {
            call = if self.config.azure_key_header {
                call.header("api-key", key)
            } else {
                call.bearer_auth(key)
            };
        }
        let response = call
            .send()
            .await
            .map_err(|error| self.transport_error(&error))?;
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let text = response
            .text()
            .await
            .map_err(|error| self.transport_error(&error))?;
        if !status.is_success() {
            let error = LlmError::Status {
                status: status.as_u16(),
                body: text.chars().take(500).collect(),
            };
            return Err(if status.as_u16() == 429 || status.is_server_error() {
                Attempt::Retry(error, retry_after)
            } else if status.as_u16() == 400
                && request.json
                && self.json_mode.load(Ordering::Relaxed)
                && text.contains("response_format")
            {
                self.json_mode.store(false, Ordering::Relaxed);
                Attempt::Retry(error, Some(Duration::ZERO))
            } else {
                Attempt::Fail(error)
            });
        }
        parse_completion(&text).map_err(Attempt::Fail)
    }
}

impl OpenAiClient {
    /// A request that did not complete: a timeout or a connection failure, both worth another
    /// attempt.
    fn transport_error(&self, error: &reqwest::Error) -> Attempt {
        let error = if error.is_timeout() {
            LlmError::Timeout(Duration::from_secs(self.config.timeout_seconds))
        } else {
            LlmError::Connection(error.to_string())
        };
        Attempt::Retry(error, None)
    }
}

/// What one attempt's failure means.
enum Attempt {
    /// Worth another attempt, after the server's `Retry-After` when it gave one.
    Retry(LlmError, Option<Duration>),
    Fail(LlmError),
}

/// The wait a `Retry-After` header asks for: seconds or an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let wait = match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => httpdate::parse_http_date(value)
            .ok()?
            .duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// The wait before retry number `retry` (0 for the first) without a `Retry-After`.
fn backoff(retry: u32) -> Duration {
    (Duration::from_millis(500) * 2u32.saturating_pow(retry.min(16))).min(MAX_BACKOFF)
}

#[derive(Deserialize)]
struct CompletionBody {
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Choice {
    message: Message,
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    content: Option<String>,
}

#[derive(Deserialize)]
struct Usage {
    #[serde(default)]
    prompt_tokens: u32,
    #[serde(default)]
    completion_tokens: u32,
}

fn parse_completion(text: &str) -> Result<Completion, LlmError> {
    let body: CompletionBody =
        serde_json::from_str(text).map_err(|error| LlmError::InvalidResponse(error.to_string()))?;
    let content = body
        .choices
        .into_iter()
        .next()
        .and_then(|choice| choice.message.content)
        .ok_or_else(|| LlmError::InvalidResponse("no message in the first choice".into()))?;
    let usage = body.usage.unwrap_or(Usage {
        prompt_tokens: 0,
        completion_tokens: 0,
    });
    Ok(Completion {
        text: content,
        prompt_tokens: usage.prompt_tokens,
        completion_tokens: usage.completion_tokens,
    })
}

#[async_trait::async_trait]
impl LlmBackend for OpenAiClient {
    fn model_id(&self) -> String {
        format!("openai:{}", self.config.model)
    }

    async fn complete(&self, request: &ChatRequest) -> Result<Completion, LlmError> {
        let _permit = self
            .in_flight
            .acquire()
            .await
            .map_err(|_| LlmError::NotConfigured("the client is shutting down".into()))?;
        let mut retry = 0;
        loop {
            match self.attempt(request).await {
                Ok(completion) => return Ok(completion),
                Err(Attempt::Fail(error)) => return Err(error),
                Err(Attempt::Retry(error, wait)) => {
                    if retry >= self.config.max_retries {
                        return Err(error);
                    }
                    let wait = wait.unwrap_or_else(|| backoff(retry));
                    tracing::warn!(%error, ?wait, retry, "retrying the model server");
                    tokio::time::sleep(wait).await;
                    retry += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        assert_eq!(backoff(0), Duration::from_millis(500));
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(4));
        assert_eq!(backoff(20), MAX_BACKOFF);
    }

    #[test]
    fn retry_after_reads_seconds_and_dates_and_is_capped() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "2".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
        headers.insert(RETRY_AFTER, "3600".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(MAX_RETRY_AFTER));
        headers.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&headers), Some(Duration::ZERO));
        headers.insert(RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn a_completion_without_content_is_invalid() {
        assert!(parse_completion(r#"{"choices":[{"message":{"content":"hi"}}]}"#).is_ok());
        assert!(matches!(
            parse_completion(r#"{"choices":[]}"#),
            Err(LlmError::InvalidResponse(_))
        ));
        assert!(matches!(
            parse_completion("<html>"),
            Err(LlmError::InvalidResponse(_))
        ));
    }
}
