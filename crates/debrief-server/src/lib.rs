//! Debrief's HTTP API: routers per resource, bearer-token auth, one error type.
//!
//! Only this crate knows about HTTP status codes. Every `/api/v1` handler takes a [`auth::Caller`]
//! and scopes each store call to the caller's company.

pub mod auth;
pub mod error;
pub mod evaluation;
pub mod routes;
pub mod summaries;

use std::future::Future;
use std::sync::Arc;

use axum::routing::get;
use axum::Router;
use debrief_store::Store;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

pub use error::ApiError;

/// Request limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 16 * 1024 * 1024,
        }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub limits: Limits,
    /// The LLM check of automated resolutions.
    pub judge: debrief_engine::judge::Judge,
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route(
            "/sessions",
            get(routes::sessions::list_sessions).post(routes::sessions::create_sessions),
        )
        .route("/sessions/{id}", get(routes::sessions::get_session))
        .route("/sessions/{id}/summary", get(routes::sessions::get_summary))
        .route(
            "/tokens",
            get(routes::tokens::list_tokens).post(routes::tokens::create_token),
        )
        .route(
            "/tokens/{id}",
            axum::routing::delete(routes::tokens::revoke_token),
        )
        .route("/company", get(routes::tokens::get_company))
        .route(
            "/taxonomy",
            get(routes::company_files::get_taxonomy)
                .put(routes::company_files::put_taxonomy)
                .delete(routes::company_files::delete_taxonomy),
        )
        .route(
            "/applications",
            get(routes::company_files::get_applications)
                .put(routes::company_files::put_applications)
                .delete(routes::company_files::delete_applications),
        )
        .route(
            "/conversations",
            axum::routing::post(routes::conversations::upsert_conversations),
        )
        .route(
            "/conversations/{id}",
            get(routes::conversations::get_conversation),
        )
        .route(
            "/conversations/{id}/events",
            axum::routing::post(routes::conversations::append_events),
        )
        .route(
            "/ai-agents/plan",
            axum::routing::put(routes::ai_agents::set_plan),
        )
        .route(
            "/ai-agents/changes",
            axum::routing::post(routes::ai_agents::add_change),
        )
        .route("/ai-agents/status", get(routes::ai_agents::get_status))
        .route("/usage/resolutions", get(routes::ai_agents::get_usage))
        .route(
            "/usage/resolutions/conversations",
            get(routes::ai_agents::list_verdicts),
        )
        .route("/usage/alerts", get(routes::ai_agents::list_alerts))
        .route(
            "/conversations/{id}/rerun",
            axum::routing::post(routes::conversations::rerun_verdict),
        )
        .route(
            "/conversations/{id}/override",
            axum::routing::post(routes::conversations::override_verdict),
        );
    Router::new()
        .route("/healthz", get(routes::health::healthz))
        .route("/readyz", get(routes::health::readyz))
        .nest("/api/v1", api)
        .fallback(|| async { ApiError::NotFound })
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
                tracing::info_span!(
                    "request",
                    http.method = %request.method(),
                    http.path = %request.uri().path(),
                    tenant.id = tracing::field::Empty,
                )
            }),
        )
        .with_state(state)
}

/// Serves the application on `listener` until `shutdown` completes, then finishes the requests
/// in flight.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
