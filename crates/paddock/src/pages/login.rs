//! Signing in and out. A failed login says only that the e-mail address or the password
//! is wrong, never which, and takes as long either way; failures are throttled per
//! e-mail address and per client IP address.

use std::sync::OnceLock;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use paddock_core::form::Params;
use paddock_core::model::User;
use paddock_core::password::{Email, Password, PasswordHash};
use paddock_core::secret::SessionToken;

use super::{Browser, Nav, PageError};
use crate::state::AppState;
use crate::throttle::retry_after_secs;

/// Where a login goes when it interrupted nothing.
pub const APPS_PAGE: &str = "/account/apps";

const SIGNED_OUT: &str = "You have signed out.";

const LOGIN_FAILED: &str = "The e-mail address or the password is not correct.";

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    nav: Nav,
    csrf: String,
    return_to: &'a str,
    email: &'a str,
    error: Option<&'a str>,
    notice: Option<&'a str>,
    /// The app whose authorization request the login interrupted.
    app_name: Option<&'a str>,
}

/// What a login page shows besides the form.
#[derive(Default)]
pub struct LoginContext<'a> {
    pub email: &'a str,
    pub error: Option<&'a str>,
    pub notice: Option<&'a str>,
    pub app_name: Option<&'a str>,
}

/// The login page, which sends the browser on to `return_to` once signed in.
pub fn page(
    browser: &Browser,
    status: StatusCode,
    return_to: &str,
    context: LoginContext<'_>,
) -> Result<Response, PageError> {
    let html = LoginPage {
        nav: Nav::anonymous(),
        csrf: browser.form_token(),
        return_to,
        email: context.email,
        error: context.error,
        notice: context.notice,
        app_name: context.app_name,
    }
    .render()?;
    Ok(browser.page(status, html))
}

/// Where a login may send the browser afterwards: the authorization request it
/// interrupted, or the connected-apps page. Anything else, another site above all,
/// falls back to the connected-apps page (no open redirect).
pub fn return_to(requested: Option<&str>) -> &str {
    match requested {
        Some(path)
            if path == APPS_PAGE
                || (path.starts_with("/oauth/authorize?") && !path.contains(char::is_control)) =>
        {
            path
        }
        _ => APPS_PAGE,
    }
}

/// `GET /login?return_to=…[&notice=signed-out]`
pub async fn show(
    State(state): State<AppState>,
    browser: Browser,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let params = Params::parse(query.unwrap_or_default().as_bytes()).unwrap_or_default();
    let return_to = return_to(params.get("return_to"));
    if browser.user(&state).await?.is_some() {
        return Ok(browser.redirect(StatusCode::FOUND, return_to));
    }
    let context = LoginContext {
        notice: (params.get("notice") == Some("signed-out")).then_some(SIGNED_OUT),
        ..LoginContext::default()
    };
    page(&browser, StatusCode::OK, return_to, context)
}

/// `POST /login`
pub async fn submit(
    State(state): State<AppState>,
    browser: Browser,
    body: Bytes,
) -> Result<Response, PageError> {
    let form = browser.form(&body)?;
    let return_to = return_to(form.get("return_to"));
    let typed: String = form
        .get("email")
        .unwrap_or_default()
        .chars()
        .take(254)
        .collect();
    let context = |error| LoginContext {
        email: &typed,
        error: Some(error),
        ..LoginContext::default()
    };

    let now = state.clock.now();
    let store = state.store.as_ref();
    if let Err(wait) = state
        .throttles
        .login
        .attempt(store, &typed, browser.ip, now)
        .await?
    {
        let secs = retry_after_secs(wait);
        let message = format!(
            "Too many failed sign-in attempts. Wait {} minute(s) and try again.",
            secs.div_ceil(60)
        );
        let mut response = page(
            &browser,
            StatusCode::TOO_MANY_REQUESTS,
            return_to,
            context(&message),
        )?;
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(secs));
        return Ok(response);
    }

    let user = match Email::parse(&typed) {
        Ok(email) => state.store.user_by_email(&email).await?,
        Err(_) => None,
    };
    let password = form
        .get("password")
        .and_then(|p| Password::presented(p.to_owned()));
    let verified = match password {
        Some(password) => verify(&state, user, password).await?,
        None => None,
    };
    let Some(user) = verified else {
        return page(
            &browser,
            StatusCode::UNPROCESSABLE_ENTITY,
            return_to,
            context(LOGIN_FAILED),
        );
    };
    state
        .throttles
        .login
        .succeeded(store, &typed, browser.ip)
        .await?;

    if let Some(old) = browser.session() {
        state.store.delete_session(&old.digest()).await?;
    }
    let token = SessionToken::generate(&mut rand::rng());
    let ttl = state.settings.session_ttl;
    state
        .store
        .create_session(&token.digest(), user.id, now, now + ttl)
        .await?;
    let mut response = browser.redirect(StatusCode::SEE_OTHER, return_to);
    browser.start_session(&mut response, &token, ttl.num_seconds());
    Ok(response)
}

/// Checks the password off the async workers (argon2 is slow on purpose), at most
/// `state.password_checks` at once. Without a user, a dummy hash is checked, so that an
/// unknown address takes as long as a wrong password and timing does not tell which
/// addresses have accounts.
async fn verify(
    state: &AppState,
    user: Option<User>,
    password: Password,
) -> Result<Option<User>, PageError> {
    let busy = || {
        PageError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "The server is busy",
            "Too many sign-ins are being checked right now. Try again in a moment.",
        )
    };
    let permit = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        state.password_checks.clone().acquire_owned(),
    )
    .await
    .map_err(|_| busy())?
    .map_err(|_| busy())?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        match user {
            Some(user) => user.password_hash.verify(&password).then_some(user),
            None => {
                if let Some(dummy) = dummy_hash() {
                    dummy.verify(&password);
                }
                None
            }
        }
    })
    .await
    .map_err(|e| PageError::internal(e.into()))
}

fn dummy_hash() -> Option<&'static PasswordHash> {
    static DUMMY: OnceLock<Option<PasswordHash>> = OnceLock::new();
    DUMMY
        .get_or_init(|| {
            let password = Password::new("no account has this password".into()).ok()?;
            PasswordHash::new(&password).ok()
        })
        .as_ref()
}

/// `POST /logout`
pub async fn logout(
    State(state): State<AppState>,
    browser: Browser,
    body: Bytes,
) -> Result<Response, PageError> {
    browser.form(&body)?;
    if let Some(session) = browser.session() {
        state.store.delete_session(&session.digest()).await?;
    }
    let mut response = browser.redirect(StatusCode::SEE_OTHER, "/login?notice=signed-out");
    browser.end_session(&mut response);
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_returns_only_to_our_own_pages() {
        assert_eq!(
            return_to(Some("/oauth/authorize?client_id=x")),
            "/oauth/authorize?client_id=x"
        );
        assert_eq!(return_to(Some(APPS_PAGE)), APPS_PAGE);
        for elsewhere in [
            "https://evil.example/",
            "//evil.example/oauth/authorize?",
            "/oauth/authorize/../../x",
            "/oauth/authorize\\?evil",
            "/oauth/authorize?\r\nLocation: https://evil.example",
            "/account/apps/../x",
        ] {
            assert_eq!(return_to(Some(elsewhere)), APPS_PAGE, "{elsewhere}");
        }
        assert_eq!(return_to(None), APPS_PAGE);
    }
}
