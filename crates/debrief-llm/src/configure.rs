//! Which engines a server or a command has: the operator's configuration of the
//! OpenAI-compatible server and of the local model, and the backends built from it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use debrief_engine::judge::Judge;

use serde::{Deserialize, Serialize};

use crate::backend::{LlmBackend, LlmError};
use crate::engine::{LlmJudge, LlmOptions, ResolutionCheck};
use crate::local_config::LocalConfig;
use crate::openai::{OpenAiClient, OpenAiConfig};

/// The engines that write summaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    /// The built-in engine: no model, deterministic.
    #[default]
    Builtin,
    /// The configured OpenAI-compatible server.
    OpenAi,
    /// The configured GGUF model, in-process.
    Local,
}

impl EngineKind {
    /// Parses an engine name as the command line and the API spell it.
    pub fn from_name(name: &str) -> Option<EngineKind> {
        match name {
            "builtin" => Some(EngineKind::Builtin),
            "openai" => Some(EngineKind::OpenAi),
            "local" => Some(EngineKind::Local),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EngineKind::Builtin => "builtin",
            EngineKind::OpenAi => "openai",
            EngineKind::Local => "local",
        }
    }
}

/// The operator's LLM configuration (`[llm.openai]` and `[llm.local]` in `debrief.toml`).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct LlmConfig {
    pub openai: Option<OpenAiConfig>,
    pub local: Option<LocalConfig>,
}

/// Whether this build has the in-process engine (the `local` feature).
pub const LOCAL_ENGINE_BUILT: bool = cfg!(feature = "local");

/// The backends built from an [`LlmConfig`]: each present when configured.
#[derive(Clone, Default)]
pub struct Backends {
    openai_config: Option<OpenAiConfig>,
    openai: Option<Arc<dyn LlmBackend>>,
    local: Option<Arc<dyn LlmBackend>>,
    /// Clients of the OpenAI-compatible server for models other than the configured one, made
    /// when a company first asks for one.
    other_models: Arc<Mutex<HashMap<String, Arc<dyn LlmBackend>>>>,
}

impl Backends {
    /// Builds the configured backends (loading the local model, which takes a while for a
    /// large file).
    pub fn build(config: &LlmConfig) -> Result<Backends, LlmError> {
        let openai = config
            .openai
            .clone()
            .map(|config| {
                OpenAiClient::new(config).map(|client| Arc::new(client) as Arc<dyn LlmBackend>)
            })
            .transpose()?;
        let local = config.local.as_ref().map(load_local).transpose()?;
        Ok(Backends {
            openai_config: config.openai.clone(),
            openai,
            local,
            other_models: Arc::default(),
        })
    }

    /// The engines this server can run: `builtin` and each configured one.
    pub fn available(&self) -> Vec<EngineKind> {
        let mut kinds = vec![EngineKind::Builtin];
        if self.openai.is_some() {
            kinds.push(EngineKind::OpenAi);
        }
        if self.local.is_some() {
            kinds.push(EngineKind::Local);
        }
        kinds
    }

    /// The backend of an engine, or why there is none.
    pub fn get(&self, kind: EngineKind) -> Result<Arc<dyn LlmBackend>, LlmError> {
        let (backend, section) = match kind {
            EngineKind::Builtin => {
                return Err(LlmError::NotConfigured(
                    "the built-in engine uses no model".into(),
                ))
            }
            EngineKind::OpenAi => (&self.openai, "[llm.openai]"),
            EngineKind::Local => (&self.local, "[llm.local]"),
        };
        backend.clone().ok_or_else(|| {
            LlmError::NotConfigured(format!(
                "the {} engine is not configured: set {section} in debrief.toml or DEBRIEF_LLM__* variables",
                kind.as_str()
            ))
        })
    }

    /// The backend of an engine with a model of the company's choosing: only the
    /// OpenAI-compatible server serves more than the configured model.
    pub fn get_model(
        &self,
        kind: EngineKind,
        model: Option<&str>,
    ) -> Result<Arc<dyn LlmBackend>, LlmError> {
        let (Some(model), EngineKind::OpenAi, Some(config)) = (model, kind, &self.openai_config)
        else {
            if model.is_some() && kind == EngineKind::Local {
                return Err(LlmError::NotConfigured(
                    "the local engine runs the server's model file; a model cannot be chosen"
                        .into(),
                ));
            }
            return self.get(kind);
        };
        if model == config.model {
            return self.get(kind);
        }
        let mut others = self
            .other_models
            .lock()
            .map_err(|_| LlmError::NotConfigured("the model clients are unavailable".into()))?;
        if let Some(backend) = others.get(model) {
            return Ok(Arc::clone(backend));
        }
        let backend: Arc<dyn LlmBackend> = Arc::new(OpenAiClient::new(OpenAiConfig {
            model: model.to_string(),
            ..config.clone()
        })?);
        others.insert(model.to_string(), Arc::clone(&backend));
        Ok(backend)
    }

    /// The backend of the LLM resolution check: the OpenAI-compatible server when configured,
    /// else the local model.
    pub fn judge(&self) -> Result<Arc<dyn LlmBackend>, LlmError> {
        self.get(EngineKind::OpenAi)
            .or_else(|_| self.get(EngineKind::Local))
            .map_err(|_| {
                LlmError::NotConfigured(
                    "the LLM check needs [llm.openai] or [llm.local] in debrief.toml".into(),
                )
            })
    }

    /// The resolution check a company's setting asks for; `default` is the server's.
    pub fn resolution_check(
        &self,
        settings: &EngineSettings,
        default: &ResolutionCheck,
    ) -> Result<ResolutionCheck, LlmError> {
        Ok(match settings.resolution_check {
            CheckKind::Default => default.clone(),
            CheckKind::Builtin => ResolutionCheck::InProcess(Judge::Builtin),
            CheckKind::Llm => {
                let backend = match &settings.model {
                    Some(_) if self.openai.is_some() => {
                        self.get_model(EngineKind::OpenAi, settings.model.as_deref())?
                    }
                    _ => self.judge()?,
                };
                ResolutionCheck::Llm(Arc::new(LlmJudge::new(backend, settings.limits.clone())))
            }
        })
    }
}

/// Which judge answers a company's resolution check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckKind {
    /// The server's `resolution_judge` setting.
    #[default]
    Default,
    /// The built-in judge.
    Builtin,
    /// A model: the OpenAI-compatible server when configured, else the local model.
    Llm,
}

/// A company's engine settings (`/api/v1/settings/engine`): which engine writes its summaries,
/// which judge answers its resolution check, the model, and the limits of what is sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineSettings {
    pub summaries: EngineKind,
    pub resolution_check: CheckKind,
    /// A model of the OpenAI-compatible server other than the server's default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    pub limits: LlmOptions,
}

impl EngineSettings {
    /// Why these settings cannot run on `backends`: the field and the problem.
    pub fn check(&self, backends: &Backends) -> Result<(), (&'static str, String)> {
        if self.summaries != EngineKind::Builtin {
            backends
                .get_model(self.summaries, self.model.as_deref())
                .map_err(|error| ("summaries", error.to_string()))?;
        }
        if self.resolution_check == CheckKind::Llm {
            backends
                .resolution_check(self, &ResolutionCheck::InProcess(Judge::Builtin))
                .map_err(|error| ("resolution_check", error.to_string()))?;
        }
        if self
            .model
            .as_deref()
            .is_some_and(|model| model.trim().is_empty())
        {
            return Err(("model", "must not be empty".into()));
        }
        if !(200..=200_000).contains(&self.limits.max_transcript_chars) {
            return Err((
                "limits.max_transcript_chars",
                "must be from 200 to 200000".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(feature = "local")]
fn load_local(config: &LocalConfig) -> Result<Arc<dyn LlmBackend>, LlmError> {
    Ok(Arc::new(crate::local::LocalModel::load(config)?))
}

#[cfg(not(feature = "local"))]
fn load_local(_: &LocalConfig) -> Result<Arc<dyn LlmBackend>, LlmError> {
    Err(LlmError::NotConfigured(
        "this build has no local engine: build debrief with `--features local-llm`".into(),
    ))
}
