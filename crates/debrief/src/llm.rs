//! The LLM engines for the commands that work on files (`summarize`, `judge`, `eval`,
//! `resolutions evaluate`): built from the `[llm]` settings, only the one a command asks for.

use std::future::Future;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use debrief_engine::judge::Judge;
use debrief_llm::backend::LlmBackend;
use debrief_llm::configure::{Backends, EngineKind, LlmConfig};
use debrief_llm::engine::{LlmJudge, LlmOptions, ResolutionCheck};

use crate::settings::Settings;

/// Runs `future` to its end from synchronous code: on the command's runtime, or on a runtime
/// of its own where there is none.
pub fn wait<F: Future>(future: F) -> F::Output {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => tokio::task::block_in_place(|| handle.block_on(future)),
        Err(_) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for one call")
            .block_on(future),
    }
}

/// The backend of one engine, built (and for `local`, loaded) from the settings.
pub fn backend(settings: &Settings, kind: EngineKind) -> anyhow::Result<Arc<dyn LlmBackend>> {
    let only = LlmConfig {
        openai: (kind == EngineKind::OpenAi)
            .then(|| settings.llm.openai.clone())
            .flatten(),
        local: (kind == EngineKind::Local)
            .then(|| settings.llm.local.clone())
            .flatten(),
    };
    let backends =
        Backends::build(&only).with_context(|| format!("the {} engine", kind.as_str()))?;
    Ok(backends.get(kind)?)
}

/// The judge a command names (`builtin`, `llm`, `always-pass`, `always-fail`), or the usage
/// error (exit status 2) after saying why.
pub fn resolution_check(
    name: &str,
    settings: impl FnOnce() -> anyhow::Result<Settings>,
) -> anyhow::Result<Result<ResolutionCheck, ExitCode>> {
    if name == "llm" {
        let settings = settings()?;
        let kind = if settings.llm.openai.is_some() {
            EngineKind::OpenAi
        } else if settings.llm.local.is_some() {
            EngineKind::Local
        } else {
            eprintln!(
                "error: the llm judge needs a model: set [llm.openai] or [llm.local] in debrief.toml \
                 (or DEBRIEF_LLM__OPENAI__BASE_URL and DEBRIEF_LLM__OPENAI__MODEL)"
            );
            return Ok(Err(ExitCode::from(2)));
        };
        let judge = LlmJudge::new(backend(&settings, kind)?, LlmOptions::default());
        return Ok(Ok(ResolutionCheck::Llm(Arc::new(judge))));
    }
    Ok(Judge::from_name(name)
        .map(ResolutionCheck::InProcess)
        .ok_or_else(|| {
            eprintln!(
                "error: unknown judge {name:?}: use builtin, llm, always-pass or always-fail"
            );
            ExitCode::from(2)
        }))
}
