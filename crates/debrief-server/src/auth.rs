//! Bearer-token authentication: every `/api` call knows its company from its token.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use std::marker::PhantomData;

use debrief_core::access::{Permission, PermissionSet};
use debrief_store::{Authentication, Principal};

use crate::error::{ApiError, ApiResult};
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
        let principal = match state.store.authenticate(secret, state.clock.now()).await? {
            Authentication::Valid(principal) => principal,
            Authentication::Expired(why) => return Err(ApiError::TokenExpired(why)),
            Authentication::Unknown => return Err(ApiError::Unauthorized),
        };
        tracing::Span::current().record("tenant.id", principal.company.id.0.as_str());
        Ok(Caller(principal))
    }
}

/// A 403 unless `granted` is within the caller's own permissions: nobody grants (to a token,
/// a user or a role) a right they do not hold, nor manages one who holds more. `what` names
/// what would get them.
pub fn check_grant(principal: &Principal, granted: PermissionSet, what: &str) -> ApiResult<()> {
    let beyond = granted.beyond(principal.permissions);
    if beyond.is_empty() {
        return Ok(());
    }
    Err(ApiError::Forbidden(format!(
        "{what} holds permissions you do not: {}",
        beyond.to_text()
    )))
}

/// What a route needs: one permission, named by a marker type of [`need`].
pub trait Requirement: Send + Sync {
    const PERMISSION: Permission;
}

/// A caller holding the route's permission, `R`: the permission is in the handler's signature.
/// A caller without it gets a 403 that names the missing permission.
pub struct Permitted<R: Requirement>(pub Principal, pub PhantomData<R>);

impl<R: Requirement> FromRequestParts<AppState> for Permitted<R> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Caller(principal) = Caller::from_request_parts(parts, state).await?;
        if !principal.permissions.contains(R::PERMISSION) {
            return Err(ApiError::MissingPermission(R::PERMISSION));
        }
        Ok(Permitted(principal, PhantomData))
    }
}

/// The permission markers of [`Permitted`], one per permission.
pub mod need {
    use debrief_core::access::Permission;

    macro_rules! requirements {
        ($($name:ident),* $(,)?) => {$(
            #[doc = concat!("Needs `Permission::", stringify!($name), "`.")]
            pub struct $name;

            impl super::Requirement for $name {
                const PERMISSION: Permission = Permission::$name;
            }
        )*};
    }

    requirements!(
        SessionsIngest,
        InsightsView,
        InsightsGenerate,
        InsightsEdit,
        InsightsDelete,
        InsightsExport,
        AiSettingsManage,
        PoliciesManage,
        RolesManage,
        UsageView,
        BillingManage,
    );
}
