//! The OpenAPI 3.1 document of the HTTP API, generated from the handlers' annotations and doc
//! comments (utoipa), served at `GET /api/v1/openapi.json`. Bodies are JSON; their fields are in
//! each operation's description and in FORMATS.md.

use axum::Json;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes;

/// Adds the bearer-token scheme every `/api/v1` call but sign-in uses.
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "bearer",
                SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
            );
    }
}

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Debrief",
        description = "AI summaries of support sessions and the metering of AI credits and automated resolutions. Every call names one permission; errors are {code, message, details}."
    ),
    paths(
        routes::sessions::list_sessions,
        routes::sessions::create_sessions,
        routes::sessions::get_session,
        routes::sessions::get_summary,
        routes::sessions::edit_summary,
        routes::sessions::delete_summary,
        routes::sessions::summary_revisions,
        routes::tokens::list_tokens,
        routes::tokens::create_token,
        routes::tokens::revoke_token,
        routes::tokens::get_company,
        routes::governance::get_ai_settings,
        routes::governance::put_ai_settings,
        routes::governance::get_engine_settings,
        routes::governance::put_engine_settings,
        routes::governance::list_modules,
        routes::governance::get_module,
        routes::governance::put_module,
        routes::governance::delete_module,
        routes::governance::list_devices,
        routes::governance::get_device,
        routes::governance::put_device,
        routes::governance::delete_device,
        routes::governance::put_device_opt_out,
        routes::governance::list_policies,
        routes::governance::get_policy,
        routes::governance::put_policy,
        routes::governance::delete_policy,
        routes::governance::post_consent,
        routes::people::list_roles,
        routes::people::create_role,
        routes::people::put_role,
        routes::people::delete_role,
        routes::people::list_users,
        routes::people::create_user,
        routes::people::update_user,
        routes::people::sign_in,
        routes::credits::get_credits,
        routes::credits::get_ledger,
        routes::credits::post_purchase,
        routes::credits::post_cancel_renewal,
        routes::credits::get_settings,
        routes::credits::put_settings,
        routes::credits::get_alerts,
        routes::credits::post_ai_action,
        routes::billing::get_statement,
        routes::exports::post_export,
        routes::connectors::list_connectors,
        routes::connectors::put_connector,
        routes::connectors::delete_connector,
        routes::connectors::list_deliveries,
        routes::connectors::redeliver,
        routes::connectors::push_summary,
        routes::webhooks::list_webhooks,
        routes::webhooks::create_webhook,
        routes::webhooks::delete_webhook,
        routes::webhooks::list_deliveries,
        routes::webhooks::redeliver,
        routes::company_files::get_taxonomy,
        routes::company_files::put_taxonomy,
        routes::company_files::delete_taxonomy,
        routes::company_files::get_applications,
        routes::company_files::put_applications,
        routes::company_files::delete_applications,
        routes::conversations::upsert_conversations,
        routes::conversations::get_conversation,
        routes::conversations::append_events,
        routes::conversations::rerun_verdict,
        routes::conversations::override_verdict,
        routes::ai_agents::set_plan,
        routes::ai_agents::add_change,
        routes::ai_agents::get_status,
        routes::ai_agents::get_usage,
        routes::ai_agents::list_verdicts,
        routes::ai_agents::list_alerts,
        routes::health::healthz,
        routes::health::readyz,
        routes::health::metrics,
        routes::insights::get_overview,
        routes::insights::list_summaries,
        routes::people::get_me,
        routes::people::put_my_language,
        routes::people::sign_out,
        openapi_json,
    ),
    modifiers(&BearerToken)
)]
pub struct ApiDoc;

/// `GET /api/v1/openapi.json`: this document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "openapi", operation_id = "openapi_json",
    responses((status = 200, description = "the OpenAPI 3.1 document")))]
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
