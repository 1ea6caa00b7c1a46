//! The web pages: server-rendered HTML (minijinja templates and one stylesheet, embedded in the
//! binary) for people who sign in with a password. Every page reads and writes through the API
//! router in-process with the visitor's own token ([`client::Api`]), so the pages have exactly
//! the API's permissions, validation and tenant scoping.
//!
//! Sign-in creates an API token (`sign-in`) whose secret is the `debrief_session` cookie
//! (HttpOnly, SameSite=Lax, path `/`); sign-out revokes it. Every form carries a CSRF token
//! derived from the session secret (or, before sign-in, a random `debrief_csrf` cookie's value)
//! and is refused without it. Pages work without JavaScript; `app.js` only adds keyboard
//! shortcuts (Escape closes the side panel).

mod billing;
mod charts;
mod client;
mod insights;
mod labels;
mod settings;

use std::sync::Arc;

use axum::extract::{FromRequestParts, Query, State};
use axum::http::header::{ACCEPT_LANGUAGE, CACHE_CONTROL, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use debrief_engine::language::Language;
use minijinja::{context, Environment};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub use client::Api;
use debrief_workflows::clock::Clock;

/// The session cookie: the secret of the visitor's sign-in token.
const SESSION_COOKIE: &str = "debrief_session";
/// Before sign-in, the value the sign-in form must send back.
const PRE_SESSION_COOKIE: &str = "debrief_csrf";

/// What the page handlers share.
#[derive(Clone)]
pub struct WebState {
    /// The API routes (without `/api/v1`), called in-process.
    api: Router,
    clock: Clock,
    templates: Arc<Environment<'static>>,
}

/// Why a page could not be shown.
#[derive(Debug)]
pub enum WebError {
    /// No valid session: sign in first.
    SignIn,
    /// The visitor lacks a permission (the API's explanation).
    Forbidden(String),
    NotFound,
    /// A form came without its CSRF token.
    Csrf,
    /// The API refused in a way the page does not expect.
    Api(String),
    Internal(String),
}

/// Every template: name and source.
const TEMPLATES: [(&str, &str); 8] = [
    ("base.html", include_str!("../../web/templates/base.html")),
    (
        "macros.html",
        include_str!("../../web/templates/macros.html"),
    ),
    (
        "sign_in.html",
        include_str!("../../web/templates/sign_in.html"),
    ),
    ("error.html", include_str!("../../web/templates/error.html")),
    (
        "insights.html",
        include_str!("../../web/templates/insights.html"),
    ),
    (
        "settings.html",
        include_str!("../../web/templates/settings.html"),
    ),
    (
        "credits.html",
        include_str!("../../web/templates/credits.html"),
    ),
    ("usage.html", include_str!("../../web/templates/usage.html")),
];

/// The templates, each compiled once.
fn templates() -> Environment<'static> {
    let mut environment = Environment::new();
    environment.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
    for (name, source) in TEMPLATES {
        if let Err(error) = environment.add_template(name, source) {
            // The templates are compiled into the binary: a broken one is a build mistake that
            // the template test catches.
            tracing::error!(template = name, %error, "web template does not compile");
        }
    }
    environment
}

/// The pages' routes, served beside `/api/v1`.
pub fn router(api: Router, clock: Clock) -> Router {
    let state = WebState {
        api,
        clock,
        templates: Arc::new(templates()),
    };
    Router::new()
        .route("/", get(|| async { Redirect::to("/insights") }))
        .route("/static/app.css", get(stylesheet))
        .route("/static/app.js", get(script))
        .route("/favicon.ico", get(favicon))
        .route("/static/favicon.svg", get(favicon))
        .route("/sign-in", get(sign_in_page).post(sign_in))
        .route("/sign-out", post(sign_out))
        .route("/language", post(set_language))
        .route("/insights", get(insights::page))
        .route("/insights/{id}/edit", post(insights::edit))
        .route("/insights/{id}/delete", post(insights::delete))
        .route("/insights/{id}/export", post(insights::export))
        .route("/insights/export", post(insights::export_list))
        .route("/settings", get(settings::index))
        .route(
            "/settings/{section}",
            get(settings::page).post(settings::save),
        )
        .route(
            "/credits",
            get(billing::credits).post(billing::change_credits),
        )
        .route("/usage", get(billing::usage))
        .route("/usage/{id}/override", post(billing::override_verdict))
        .with_state(state)
}

async fn stylesheet() -> Response {
    static_file(
        "text/css; charset=utf-8",
        include_str!("../../web/static/app.css"),
    )
}

async fn script() -> Response {
    static_file(
        "text/javascript; charset=utf-8",
        include_str!("../../web/static/app.js"),
    )
}

/// The icon browsers ask every page for.
async fn favicon() -> Response {
    static_file(
        "image/svg+xml",
        include_str!("../../web/static/favicon.svg"),
    )
}

fn static_file(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (CONTENT_TYPE, content_type),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// The CSRF token of a session secret: only its holder can compute it.
fn csrf_of(secret: &str) -> String {
    hex::encode(&Sha256::digest(format!("debrief-csrf\0{secret}"))[..16])
}

/// Compares two tokens in time independent of where they differ.
fn same_token(left: &str, right: &str) -> bool {
    left.len() == right.len()
        && left
            .bytes()
            .zip(right.bytes())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

/// A safe place to go back to: a path on this site.
fn local_path(path: Option<&str>, fallback: &str) -> String {
    match path {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_string()
        }
        _ => fallback.to_string(),
    }
}

/// The signed-in person a page is for: their API, who they are (`GET /api/v1/me`), their
/// language and their form token.
pub struct Visitor {
    api: Api,
    me: Value,
    language: Language,
    csrf: String,
    /// The page's path and query, to come back to.
    here: String,
    state: WebState,
}

impl FromRequestParts<WebState> for Visitor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Response> {
        let here = parts
            .uri
            .path_and_query()
            .map_or("/insights".to_string(), |path| path.as_str().to_string());
        let to_sign_in = || {
            let next = if parts.method == Method::GET {
                here.as_str()
            } else {
                "/insights"
            };
            let target = format!(
                "/sign-in?{}",
                serde_urlencoded::to_string([("next", next)]).unwrap_or_default()
            );
            (
                CookieJar::new().remove(Cookie::build(SESSION_COOKIE).path("/")),
                Redirect::to(&target),
            )
                .into_response()
        };
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(secret) = jar
            .get(SESSION_COOKIE)
            .map(|cookie| cookie.value().to_string())
        else {
            return Err(to_sign_in());
        };
        let api = Api::new(state.api.clone(), &secret);
        let me = match api.read("/me").await {
            Ok(me) => me,
            Err(WebError::SignIn) => return Err(to_sign_in()),
            Err(error) => {
                tracing::error!(?error, "reading the signed-in user");
                return Err((StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response());
            }
        };
        // The visitor's own choice, else their browser's language: never the company's
        // summary language.
        let language = labels::negotiate(
            me["language"].as_str(),
            parts
                .headers
                .get(ACCEPT_LANGUAGE)
                .and_then(|value| value.to_str().ok()),
        );
        Ok(Visitor {
            api: api.in_language(language),
            me,
            language,
            csrf: csrf_of(&secret),
            here,
            state: state.clone(),
        })
    }
}

impl Visitor {
    /// Whether the visitor holds a permission (`insights.edit`, …).
    pub fn can(&self, permission: &str) -> bool {
        self.me["permissions"]
            .as_array()
            .is_some_and(|held| held.iter().any(|held| held == permission))
    }

    /// A page needs `permission`: without it, the 403 page.
    pub fn require(&self, permission: &str) -> Result<(), WebError> {
        if self.can(permission) {
            Ok(())
        } else {
            Err(WebError::Forbidden(format!(
                "missing permission {permission}"
            )))
        }
    }

    /// A form's CSRF token must be the session's.
    pub fn check_csrf(&self, submitted: &str) -> Result<(), WebError> {
        if same_token(submitted, &self.csrf) {
            Ok(())
        } else {
            Err(WebError::Csrf)
        }
    }

    /// What every page's frame reads.
    fn frame(&self, nav: &str) -> minijinja::Value {
        let permissions = |names: &[&str]| names.iter().any(|name| self.can(name));
        context! {
            me => self.me,
            L => labels::labels(self.language),
            lang => self.language.code(),
            languages => LANGUAGES,
            csrf => self.csrf,
            here => self.here,
            nav => nav,
            can => context! {
                insights => permissions(&["insights.view"]),
                edit => permissions(&["insights.edit"]),
                delete => permissions(&["insights.delete"]),
                export => permissions(&["insights.export"]),
                ai_settings => permissions(&["ai.settings.manage"]),
                policies => permissions(&["policies.manage"]),
                roles => permissions(&["roles.manage"]),
                settings => permissions(&["ai.settings.manage", "policies.manage", "roles.manage", "insights.view"]),
                usage => permissions(&["usage.view"]),
                billing => permissions(&["billing.manage"]),
            },
        }
    }

    /// Renders `template` with the frame and the page's own `values`.
    pub fn render(
        &self,
        template: &str,
        nav: &str,
        values: minijinja::Value,
    ) -> Result<Response, WebError> {
        self.render_status(StatusCode::OK, template, nav, values)
    }

    /// Renders with a status other than 200 (a form sent back with its error, say).
    pub fn render_status(
        &self,
        status: StatusCode,
        template: &str,
        nav: &str,
        values: minijinja::Value,
    ) -> Result<Response, WebError> {
        let context = context! { ..values, ..self.frame(nav) };
        render(&self.state.templates, template, context)
            .map(|html| (status, axum::response::Html(html)).into_response())
    }

    /// The page, or the visitor's error page for what went wrong.
    pub fn finish(&self, result: Result<Response, WebError>) -> Response {
        let error = match result {
            Ok(response) => return response,
            Err(error) => error,
        };
        let (status, key, detail) = match error {
            WebError::SignIn => return Redirect::to("/sign-in").into_response(),
            WebError::Forbidden(why) => (StatusCode::FORBIDDEN, "forbidden", why),
            WebError::NotFound => (StatusCode::NOT_FOUND, "not_found", String::new()),
            WebError::Csrf => (StatusCode::FORBIDDEN, "form_expired", String::new()),
            WebError::Api(why) => (StatusCode::BAD_GATEWAY, "error", why),
            WebError::Internal(why) => {
                tracing::error!(error.detail = %why, "page failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "error", String::new())
            }
        };
        self.render_status(
            status,
            "error.html",
            "",
            context! { message_key => key, detail => detail },
        )
        .unwrap_or_else(|_| (status, key).into_response())
    }
}

/// The value of a form field sent as name–value pairs (`""` when absent).
fn form_field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(key, _)| key == name)
        .map_or("", |(_, value)| value.as_str())
}

/// The languages of the language menus: code and own name.
const LANGUAGES: [(&str, &str); 5] = [
    ("en", "English"),
    ("pt-BR", "Português (Brasil)"),
    ("es", "Español"),
    ("de", "Deutsch"),
    ("fr", "Français"),
];

fn render(
    templates: &Environment<'static>,
    template: &str,
    context: minijinja::Value,
) -> Result<String, WebError> {
    templates
        .get_template(template)
        .and_then(|template| template.render(context))
        .map_err(|error| WebError::Internal(format!("template {template}: {error}")))
}

/// Query of `GET /sign-in`.
#[derive(Deserialize)]
pub struct SignInQuery {
    next: Option<String>,
    lang: Option<String>,
}

/// The sign-in form's fields.
// A missing field reads as empty: the form is then refused with its reason on the page.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SignInForm {
    company: String,
    email: String,
    password: String,
    csrf: String,
    next: Option<String>,
    lang: Option<String>,
}

/// Draws the sign-in page; gives the browser a pre-session CSRF cookie when it has none.
fn sign_in_form(
    state: &WebState,
    jar: CookieJar,
    headers: &axum::http::HeaderMap,
    form: (&str, &str, Option<&str>, Option<&str>),
    failed: bool,
) -> Response {
    let (company, email, next, requested_language) = form;
    let language = labels::negotiate(
        requested_language,
        headers
            .get(ACCEPT_LANGUAGE)
            .and_then(|value| value.to_str().ok()),
    );
    let (jar, token) = match jar.get(PRE_SESSION_COOKIE) {
        Some(cookie) => (jar.clone(), cookie.value().to_string()),
        None => {
            let mut bytes = [0u8; 16];
            if getrandom::fill(&mut bytes).is_err() {
                return (StatusCode::INTERNAL_SERVER_ERROR, "no randomness").into_response();
            }
            let token = hex::encode(bytes);
            let cookie = Cookie::build((PRE_SESSION_COOKIE, token.clone()))
                .path("/")
                .http_only(true)
                .same_site(SameSite::Strict)
                .build();
            (jar.add(cookie), token)
        }
    };
    let values = context! {
        me => Value::Null,
        L => labels::labels(language),
        lang => language.code(),
        languages => LANGUAGES,
        csrf => token,
        here => "/sign-in",
        nav => "",
        can => context! {},
        company => company,
        email => email,
        next => local_path(next, "/insights"),
        failed => failed,
    };
    let status = if failed {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    match render(&state.templates, "sign_in.html", values) {
        Ok(html) => (status, jar, axum::response::Html(html)).into_response(),
        Err(error) => {
            tracing::error!(?error, "sign-in page");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// `GET /sign-in`.
async fn sign_in_page(
    State(state): State<WebState>,
    jar: CookieJar,
    headers: axum::http::HeaderMap,
    Query(query): Query<SignInQuery>,
) -> Response {
    sign_in_form(
        &state,
        jar,
        &headers,
        ("", "", query.next.as_deref(), query.lang.as_deref()),
        false,
    )
}

/// `POST /sign-in`: the API checks the password and issues the session's token.
async fn sign_in(
    State(state): State<WebState>,
    jar: CookieJar,
    headers: axum::http::HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let expected = jar
        .get(PRE_SESSION_COOKIE)
        .map(|cookie| cookie.value().to_string());
    let fields = (
        form.company.as_str(),
        form.email.as_str(),
        form.next.as_deref(),
        form.lang.as_deref(),
    );
    if !expected.is_some_and(|expected| same_token(&form.csrf, &expected)) {
        return sign_in_form(&state, jar, &headers, fields, true);
    }
    let request =
        json!({"company": form.company.trim(), "email": form.email, "password": form.password});
    let reply = match Api::new(state.api.clone(), "")
        .call(Method::POST, "/sign-in", Some(&request))
        .await
    {
        Ok(reply) => reply,
        Err(error) => {
            tracing::error!(?error, "sign-in");
            return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
        }
    };
    let Some(token) = reply
        .status
        .is_success()
        .then(|| reply.json()["token"].as_str().map(str::to_string))
        .flatten()
    else {
        return sign_in_form(&state, jar, &headers, fields, true);
    };
    let session = Cookie::build((SESSION_COOKIE, token))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .build();
    let jar = jar
        .remove(Cookie::build(PRE_SESSION_COOKIE).path("/"))
        .add(session);
    (
        jar,
        Redirect::to(&local_path(form.next.as_deref(), "/insights")),
    )
        .into_response()
}

/// A form with only its CSRF token.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TokenForm {
    csrf: String,
}

/// `POST /sign-out`: revokes the session's token and forgets the cookie.
async fn sign_out(visitor: Visitor, jar: CookieJar, Form(form): Form<TokenForm>) -> Response {
    let result = async {
        visitor.check_csrf(&form.csrf)?;
        visitor.api.call(Method::POST, "/sign-out", None).await?;
        Ok((
            jar.remove(Cookie::build(SESSION_COOKIE).path("/")),
            Redirect::to("/sign-in"),
        )
            .into_response())
    }
    .await;
    visitor.finish(result)
}

/// The language menu's fields.
// A missing field reads as empty: the form is then refused with its reason on the page.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LanguageForm {
    csrf: String,
    language: String,
    back: Option<String>,
}

/// `POST /language`: the visitor's own language, then back to their page.
async fn set_language(visitor: Visitor, Form(form): Form<LanguageForm>) -> Response {
    let result = async {
        visitor.check_csrf(&form.csrf)?;
        let reply = visitor
            .api
            .call(
                Method::PUT,
                "/me/language",
                Some(&json!({"language": form.language})),
            )
            .await?;
        if !reply.status.is_success() {
            return Err(reply.failure());
        }
        Ok(Redirect::to(&local_path(form.back.as_deref(), "/insights")).into_response())
    }
    .await;
    visitor.finish(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles_and_names_only_known_labels() {
        let english = labels::labels(Language::English);
        for (name, source) in TEMPLATES {
            let mut environment = Environment::new();
            for (other, other_source) in TEMPLATES {
                if other != name {
                    environment
                        .add_template(other, other_source)
                        .expect("compiles");
                }
            }
            assert!(
                environment.add_template(name, source).is_ok(),
                "{name} compiles"
            );
            for (index, _) in source.match_indices("L.") {
                let key: String = source[index + 2..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                assert!(
                    english.contains_key(key.as_str()),
                    "{name}: label {key} is not in labels.tsv"
                );
            }
        }
    }

    #[test]
    fn forms_go_back_only_to_this_site_and_tokens_compare_whole() {
        assert_eq!(local_path(Some("/insights?q=1"), "/"), "/insights?q=1");
        for outside in [
            "//evil.example/x",
            "https://evil.example",
            "/\\evil",
            "insights",
        ] {
            assert_eq!(
                local_path(Some(outside), "/insights"),
                "/insights",
                "{outside}"
            );
        }
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd") && !same_token("abc", "ab"));
        assert_ne!(csrf_of("one"), csrf_of("two"));
    }
}
