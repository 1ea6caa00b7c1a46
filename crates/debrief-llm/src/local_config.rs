//! The configuration of the in-process model (`[llm.local]`), read with or without the `local`
//! feature: a server built without it still reads the setting and says why it cannot use it.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Where the in-process model is and how to run it.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct LocalConfig {
    /// The GGUF file.
    pub model_path: PathBuf,
    /// Threads for prompt and generation; every core when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<usize>,
    /// Longest prompt plus answer, in tokens (at most what the model was trained for).
    #[serde(default = "default_context_tokens")]
    pub context_tokens: u32,
}

fn default_context_tokens() -> u32 {
    8192
}

impl LocalConfig {
    /// A configuration with the defaults for everything but the model file.
    pub fn new(model_path: impl Into<PathBuf>) -> LocalConfig {
        LocalConfig {
            model_path: model_path.into(),
            threads: None,
            context_tokens: default_context_tokens(),
        }
    }
}
