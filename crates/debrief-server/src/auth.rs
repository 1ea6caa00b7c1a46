//! Bearer-token authentication: every `/api` call knows its company from its token.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use debrief_core::tenancy::Role;
use debrief_store::Principal;

use crate::error::ApiError;
use crate::AppState;

/// The caller of an API route, authenticated by `Authorization: Bearer TOKEN`. Every query a
/// handler makes is scoped to `principal.company.id`.
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let secret = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|secret| !secret.is_empty())
            .ok_or(ApiError::Unauthorized)?;
        let principal = state
            .store
            .authenticate(secret)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        tracing::Span::current().record("tenant.id", principal.company.id.0.as_str());
        Ok(Caller(principal))
    }
}

/// A caller with the `admin` role (token and company management). Fine-grained permissions
/// replace this with the governance work.
pub struct AdminCaller(pub Principal);

impl FromRequestParts<AppState> for AdminCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Caller(principal) = Caller::from_request_parts(parts, state).await?;
        if principal.role != Role::Admin {
            return Err(ApiError::Forbidden("this call needs the admin role".into()));
        }
        Ok(AdminCaller(principal))
    }
}
