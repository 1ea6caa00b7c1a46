//! The one abstraction over language models: a chat completion.

use std::time::Duration;

/// Who says a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatRole {
    System,
    User,
    Assistant,
}

impl ChatRole {
    /// The role's name in chat templates and the chat-completions API.
    pub fn as_str(self) -> &'static str {
        match self {
            ChatRole::System => "system",
            ChatRole::User => "user",
            ChatRole::Assistant => "assistant",
        }
    }
}

/// One message of a chat.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChatMessage {
    pub role: ChatRole,
    pub content: String,
}

impl ChatMessage {
    pub fn new(role: ChatRole, content: impl Into<String>) -> ChatMessage {
        ChatMessage {
            role,
            content: content.into(),
        }
    }
}

/// A request for one completion, decoded greedily (temperature 0) so that the same request
/// gets the same answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatRequest {
    pub messages: Vec<ChatMessage>,
    /// Longest answer, in tokens.
    pub max_tokens: u32,
    /// Ask for a JSON object (the server's JSON mode, or a JSON grammar in-process).
    pub json: bool,
}

/// A model's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub text: String,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
}

/// Why a completion failed.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("the model server answered {status}: {body}")]
    Status { status: u16, body: String },
    #[error("the model did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the model server could not be reached: {0}")]
    Connection(String),
    #[error("the model server's answer is not a chat completion: {0}")]
    InvalidResponse(String),
    #[error("the local model failed: {0}")]
    Local(String),
    #[error("the LLM engine is not configured: {0}")]
    NotConfigured(String),
}

/// A language model that completes chats: an OpenAI-compatible server
/// ([`crate::openai::OpenAiClient`]) or a GGUF model in-process (`crate::local::LocalModel`,
/// with the `local` feature).
#[async_trait::async_trait]
pub trait LlmBackend: Send + Sync {
    /// The engine and model, as recorded with everything the model wrote: `openai:gpt-4o-mini`,
    /// `local:SmolLM2-135M-Instruct.Q4_1`.
    fn model_id(&self) -> String;

    /// Completes one chat.
    async fn complete(&self, request: &ChatRequest) -> Result<Completion, LlmError>;
}
