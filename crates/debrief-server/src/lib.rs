//! Debrief's HTTP API: routers per resource, bearer-token auth, one error type.
//!
//! Only this crate knows about HTTP status codes. Every `/api/v1` handler takes a [`auth::Caller`]
//! and scopes each store call to the caller's company.

pub mod auth;
pub mod error;
pub mod openapi;
pub mod routes;
pub mod web;

use std::future::Future;
use std::sync::Arc;

use axum::routing::get;
use axum::Router;
use debrief_store::Store;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

pub use error::ApiError;

use debrief_workflows::{clock, metrics, secrets};

/// Request limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// How long a sign-in token works: idle, and in all.
    pub sign_in: debrief_store::TokenLifetime,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 16 * 1024 * 1024,
            sign_in: debrief_store::TokenLifetime {
                idle_seconds: 60 * 60,
                max_seconds: 12 * 60 * 60,
            },
        }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub limits: Limits,
    /// The LLM check of automated resolutions for companies that did not choose one.
    pub judge: debrief_llm::engine::ResolutionCheck,
    /// The LLM engines the operator configured.
    pub llm: debrief_llm::configure::Backends,
    /// The time handlers read.
    pub clock: clock::Clock,
    /// A TrueType font file for PDF exports; `None`: one found on the system.
    pub export_font: Option<String>,
    /// Seals connector credentials; `None` when no `secret_key` is set.
    pub secrets: Option<secrets::SecretBox>,
    /// This process's metrics and its workers' heartbeats.
    pub metrics: Arc<metrics::Metrics>,
    /// The outbox deliverer, which also sends a push asked for by hand at once.
    pub deliverer: debrief_workflows::webhooks::Deliverer,
}

/// The whole HTTP application: health checks, the API under `/api/v1` and the web pages.
pub fn router(state: AppState) -> Router {
    let api = api_router()
        .layer(axum::middleware::from_fn(check_path_ids))
        .layer(axum::extract::DefaultBodyLimit::max(
            state.limits.max_body_bytes,
        ))
        .with_state(state.clone());
    let pages = web::router(api.clone(), state.clock.clone());
    Router::new()
        .route("/healthz", get(routes::health::healthz))
        .route("/readyz", get(routes::health::readyz))
        .route("/metrics", get(routes::health::metrics))
        .with_state(state.clone())
        .nest("/api/v1", api)
        .merge(pages)
        .fallback(|| async { ApiError::NotFound })
        .layer(axum::middleware::map_response(error::json_errors))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state.metrics),
            count_request,
        ))
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
}

/// Refuses an API path whose segments (the ids in it) are too long or hold control characters,
/// with a 422 on `id`, and a query parameter holding a NUL, with a 422 naming it: the same
/// answer on both backends, before any store sees the value.
async fn check_path_ids(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let parameters: Vec<(String, String)> = request
        .uri()
        .query()
        .and_then(|query| serde_urlencoded::from_str(query).ok())
        .unwrap_or_default();
    if let Some((name, _)) = parameters.iter().find(|(_, value)| value.contains('\0')) {
        return ApiError::InvalidRecord(debrief_core::RecordError::invalid(
            name.as_str(),
            "must not contain a NUL character",
        ))
        .into_response();
    }
    for segment in request.uri().path().split('/') {
        let decoded = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
        if decoded.len() > debrief_core::error::MAX_ID_BYTES
            || decoded.chars().any(char::is_control)
        {
            let error = debrief_core::error::check_id("id", &decoded)
                .err()
                .unwrap_or_else(|| debrief_core::RecordError::invalid("id", "is not an id"));
            return ApiError::InvalidRecord(error).into_response();
        }
    }
    next.run(request).await
}

/// Counts each answered request by method, route template (`unmatched` when none) and status.
async fn count_request(
    axum::extract::State(metrics): axum::extract::State<Arc<metrics::Metrics>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(
            || String::from("unmatched"),
            |path| path.as_str().to_string(),
        );
    let response = next.run(request).await;
    metrics.request(&method, &route, response.status().as_u16());
    response
}

/// The API's routes, without their `/api/v1` prefix.
fn api_router() -> Router<AppState> {
    Router::new()
        .route(
            "/sessions",
            get(routes::sessions::list_sessions).post(routes::sessions::create_sessions),
        )
        .route("/sessions/{id}", get(routes::sessions::get_session))
        .route(
            "/sessions/{id}/summary",
            get(routes::sessions::get_summary)
                .patch(routes::sessions::edit_summary)
                .delete(routes::sessions::delete_summary),
        )
        .route(
            "/sessions/{id}/summary/revisions",
            get(routes::sessions::summary_revisions),
        )
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
            "/settings/ai",
            get(routes::governance::get_ai_settings).put(routes::governance::put_ai_settings),
        )
        .route(
            "/settings/engine",
            get(routes::governance::get_engine_settings)
                .put(routes::governance::put_engine_settings),
        )
        .route("/modules", get(routes::governance::list_modules))
        .route(
            "/modules/{id}",
            get(routes::governance::get_module)
                .put(routes::governance::put_module)
                .delete(routes::governance::delete_module),
        )
        .route("/devices", get(routes::governance::list_devices))
        .route(
            "/devices/{id}",
            get(routes::governance::get_device)
                .put(routes::governance::put_device)
                .delete(routes::governance::delete_device),
        )
        .route(
            "/devices/{id}/insights-opt-out",
            axum::routing::put(routes::governance::put_device_opt_out),
        )
        .route("/policies", get(routes::governance::list_policies))
        .route(
            "/policies/{id}",
            get(routes::governance::get_policy)
                .put(routes::governance::put_policy)
                .delete(routes::governance::delete_policy),
        )
        .route(
            "/sessions/{id}/consent",
            axum::routing::post(routes::governance::post_consent),
        )
        .route(
            "/roles",
            get(routes::people::list_roles).post(routes::people::create_role),
        )
        .route(
            "/roles/{name}",
            axum::routing::put(routes::people::put_role).delete(routes::people::delete_role),
        )
        .route(
            "/users",
            get(routes::people::list_users).post(routes::people::create_user),
        )
        .route(
            "/users/{id}",
            axum::routing::patch(routes::people::update_user),
        )
        .route("/sign-in", axum::routing::post(routes::people::sign_in))
        .route("/sign-out", axum::routing::post(routes::people::sign_out))
        .route("/me", get(routes::people::get_me))
        .route(
            "/me/language",
            axum::routing::put(routes::people::put_my_language),
        )
        .route("/summaries", get(routes::insights::list_summaries))
        .route("/credits", get(routes::credits::get_credits))
        .route("/billing/statement", get(routes::billing::get_statement))
        .route(
            "/exports",
            axum::routing::post(routes::exports::post_export),
        )
        .route("/openapi.json", get(openapi::openapi_json))
        .route("/insights/overview", get(routes::insights::get_overview))
        .route("/connectors", get(routes::connectors::list_connectors))
        .route(
            "/connectors/{kind}",
            axum::routing::put(routes::connectors::put_connector)
                .delete(routes::connectors::delete_connector),
        )
        .route(
            "/connectors/{kind}/deliveries",
            get(routes::connectors::list_deliveries),
        )
        .route(
            "/connectors/{kind}/deliveries/{id}/redeliver",
            axum::routing::post(routes::connectors::redeliver),
        )
        .route(
            "/sessions/{id}/summary/push",
            axum::routing::post(routes::connectors::push_summary),
        )
        .route(
            "/webhooks",
            get(routes::webhooks::list_webhooks).post(routes::webhooks::create_webhook),
        )
        .route(
            "/webhooks/{id}",
            axum::routing::delete(routes::webhooks::delete_webhook),
        )
        .route(
            "/webhooks/{id}/deliveries",
            get(routes::webhooks::list_deliveries),
        )
        .route(
            "/webhooks/deliveries/{id}/redeliver",
            axum::routing::post(routes::webhooks::redeliver),
        )
        .route("/credits/ledger", get(routes::credits::get_ledger))
        .route(
            "/credits/purchases",
            axum::routing::post(routes::credits::post_purchase),
        )
        .route(
            "/credits/cancel-renewal",
            axum::routing::post(routes::credits::post_cancel_renewal),
        )
        .route(
            "/credits/settings",
            get(routes::credits::get_settings).put(routes::credits::put_settings),
        )
        .route("/credits/alerts", get(routes::credits::get_alerts))
        .route(
            "/sessions/{id}/ai-actions",
            axum::routing::post(routes::credits::post_ai_action),
        )
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
        )
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
