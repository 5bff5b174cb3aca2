//! The pages people see: login, consent, connected apps. askama templates (in
//! `templates/`), plain HTML that works without JavaScript, one local stylesheet.
//! Every HTML response goes through [`html_headers`].

use axum::http::HeaderValue;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Router, middleware};
use chrono::{DateTime, Utc};
use paddock_core::model::User;
use paddock_core::oauth::scope::ScopeSet;
use url::Url;

use crate::oauth::authorize;
use crate::state::AppState;

pub mod apps;
mod browser;
mod error;
mod home;
pub mod login;

pub use browser::Browser;
pub use error::PageError;

pub fn router() -> Router<AppState> {
    Router::new()
        // The authorization endpoint is OAuth, but answers with pages: it is routed
        // here so that its responses get the same headers as every other page.
        .route(
            "/oauth/authorize",
            get(authorize::show).post(authorize::decide),
        )
        .route("/login", get(login::show).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/account/apps", get(apps::list))
        .route(
            "/account/apps/{grant_id}/revoke",
            get(apps::confirm).post(apps::revoke),
        )
        .route("/", get(home::show))
        .layer(middleware::map_response(html_headers))
        .route("/static/paddock.css", get(stylesheet))
}

/// No framing (clickjacking), no script at all, no referrer that could carry a code or
/// a state onwards, nothing cached.
async fn html_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let set = [
        (X_FRAME_OPTIONS, "DENY"),
        (
            CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; \
             frame-ancestors 'none'",
        ),
        (REFERRER_POLICY, "no-referrer"),
        (CACHE_CONTROL, "no-store"),
        (X_CONTENT_TYPE_OPTIONS, "nosniff"),
    ];
    for (name, value) in set {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

async fn stylesheet() -> Response {
    (
        [
            (CONTENT_TYPE, "text/css; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=3600"),
            (X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        include_str!("../../static/paddock.css"),
    )
        .into_response()
}

/// What the header of every page shows: who is signed in, and the token its sign-out
/// form carries.
pub struct Nav {
    pub user: Option<String>,
    pub csrf: String,
}

impl Nav {
    pub fn new(browser: &Browser, user: Option<&User>) -> Self {
        Self {
            user: user.map(|u| u.email.to_string()),
            csrf: browser.form_token(),
        }
    }

    pub fn anonymous() -> Self {
        Self {
            user: None,
            csrf: String::new(),
        }
    }
}

/// What a grant lets an app do, in plain words: read-only access always, then each
/// scope.
pub fn scope_lines(scopes: ScopeSet) -> Vec<&'static str> {
    let mut lines =
        vec!["See your account, orders, positions, activities, watchlists and configuration"];
    lines.extend(scopes.iter().map(|s| s.describe()));
    lines
}

/// `url` as a link target, if it is an http(s) URL (percent-encoded as the URL
/// standard writes it); anything else (a `javascript:` URL, say) is shown as text,
/// never linked.
pub fn safe_link(url: &str) -> Option<String> {
    Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .map(String::from)
}

pub fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}
