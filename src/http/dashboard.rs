//! The dashboard's pages: `/` (401 with the login form until logged in),
//! `/login` and `/logout`.
//!
//! With `ADMIN_TOKEN` unset the dashboard is off: `/` answers 404 with a
//! line saying how to turn it on, and nothing else is routed.

use super::auth::{self, Auth, Caller};
use super::page;
use crate::domain::Timestamp;
use crate::metrics::Metrics;
use crate::submit::Submitter;
use axum::extract::{Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use std::sync::Arc;

/// What the dashboard's handlers share.
#[derive(Clone)]
pub struct Dashboard {
    pub auth: Arc<Auth>,
    pub submitter: Submitter,
    pub metrics: Arc<Metrics>,
}

/// The routes of an enabled dashboard.
pub fn routes(dashboard: Dashboard) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .merge(super::api::routes())
        .layer(axum::middleware::map_response(harden))
        .with_state(dashboard)
}

/// The only route of a disabled dashboard.
pub fn disabled() -> Router {
    Router::new().route(
        "/",
        get(|| async {
            (
                StatusCode::NOT_FOUND,
                "The admin dashboard is off. Set ADMIN_TOKEN to turn it on (see docs/admin.md).\n",
            )
        }),
    )
}

/// Headers every dashboard response carries: nothing may load from
/// elsewhere, run scripts, frame the page or be cached.
async fn harden(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let policy = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(policy));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        HeaderName::from_static("x-frame-options"),
        HeaderValue::from_static("DENY"),
    );
    headers.insert(
        HeaderName::from_static("referrer-policy"),
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// 401 with the login form, for a browser that isn't logged in.
pub fn unauthorized(failed: bool) -> Response {
    (StatusCode::UNAUTHORIZED, Html(page::login(failed))).into_response()
}

/// 303 to `to`, optionally setting a cookie.
pub fn see_other(to: &str, cookie: Option<String>) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    if let Ok(location) = HeaderValue::from_str(to) {
        headers.insert(LOCATION, location);
    }
    if let Some(cookie) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        headers.insert(SET_COOKIE, cookie);
    }
    response
}

#[derive(serde::Deserialize)]
struct HomeQuery {
    done: Option<String>,
}

async fn home(
    State(dashboard): State<Dashboard>,
    headers: HeaderMap,
    Query(query): Query<HomeQuery>,
) -> Response {
    let Some(caller) = dashboard.auth.caller(&headers) else {
        return unauthorized(false);
    };
    let view = match dashboard.submitter.view().await {
        Ok(view) => view,
        Err(error) => return (StatusCode::SERVICE_UNAVAILABLE, error.to_string()).into_response(),
    };
    let now = Timestamp::now().0;
    let (samples, live) = dashboard.metrics.history(now);
    let csrf = match &caller {
        Caller::Browser { csrf, .. } => csrf.as_str(),
        Caller::Script => "",
    };
    let main = page::Main {
        view: &view,
        samples: &samples,
        live: &live,
        csrf,
        done: query.done.as_deref(),
        now,
    };
    Html(page::main(&main)).into_response()
}

async fn login_form() -> Html<String> {
    Html(page::login(false))
}

#[derive(serde::Deserialize)]
struct LoginForm {
    token: String,
}

async fn login(State(dashboard): State<Dashboard>, Form(form): Form<LoginForm>) -> Response {
    let opened = dashboard.auth.login(form.token.trim());
    dashboard.metrics.dashboard_login(opened.is_some());
    match opened {
        Some((session, _csrf)) => {
            tracing::info!("dashboard login");
            see_other("/", Some(auth::session_cookie_header(&session)))
        }
        None => {
            tracing::warn!("dashboard login refused: wrong token");
            unauthorized(true)
        }
    }
}

#[derive(serde::Deserialize)]
struct LogoutForm {
    csrf: Option<String>,
}

async fn logout(
    State(dashboard): State<Dashboard>,
    headers: HeaderMap,
    Form(form): Form<LogoutForm>,
) -> Response {
    let Some(caller) = dashboard.auth.caller(&headers) else {
        return unauthorized(false);
    };
    match &caller {
        Caller::Browser { session, .. } if caller.may_change(form.csrf.as_deref()) => {
            dashboard.auth.logout(session);
            see_other("/login", Some(auth::expired_cookie_header()))
        }
        Caller::Browser { .. } => {
            (StatusCode::FORBIDDEN, "missing or wrong CSRF token\n").into_response()
        }
        // A script has no session to end.
        Caller::Script => see_other("/login", None),
    }
}
