//! Each company's choice of engines (`/api/v1/settings/engine`), read by the summarizer and
//! the evaluator: which engine writes its summaries and which judge answers its resolution
//! check, among those the operator configured.

use debrief_llm::configure::{Backends, EngineSettings};
use debrief_llm::engine::ResolutionCheck;
use debrief_store::{get_typed, CompanyId, ObjectKind, Store, SINGLETON};

/// The company's engine settings (the built-in engine and the server's judge when it never
/// set them).
pub async fn engine_settings(
    store: &dyn Store,
    company: &CompanyId,
) -> Result<EngineSettings, debrief_store::StoreError> {
    Ok(
        get_typed::<EngineSettings>(store, company, ObjectKind::EngineSettings, SINGLETON)
            .await?
            .unwrap_or_default(),
    )
}

/// The resolution check of a company: its choice, or `default` when it made none or when its
/// choice cannot run on this server any more (logged).
pub async fn resolution_check_for(
    store: &dyn Store,
    backends: &Backends,
    default: &ResolutionCheck,
    company: &CompanyId,
) -> Result<ResolutionCheck, debrief_store::StoreError> {
    let settings = engine_settings(store, company).await?;
    Ok(backends
        .resolution_check(&settings, default)
        .unwrap_or_else(|error| {
            tracing::warn!(tenant.id = %company, %error, "the company's resolution check cannot run here: the server's is used");
            default.clone()
        }))
}
