//! Debrief's LLM engines (SPEC section 9): one [`backend::LlmBackend`] abstraction with two
//! implementations — any OpenAI-compatible chat-completions server ([`openai`]) and, with the
//! `local` feature, a GGUF model in-process (`local`) — used for summaries in the company's
//! language and for the automated-resolution check ([`engine`]).
//!
//! What leaves the process is screened and redacted first ([`prompt`], [`redact`]); what comes
//! back is read against a schema, repaired or asked for once more, and otherwise replaced by
//! the built-in engine's answer ([`reply`], [`engine`]).

pub mod backend;
pub mod configure;
pub mod engine;
#[cfg(feature = "local")]
pub mod local;
pub mod local_config;
pub mod openai;
pub mod prompt;
pub mod redact;
pub mod reply;
