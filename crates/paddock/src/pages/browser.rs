//! The browser on the other end of a page request: its cookies, its CSRF token, the
//! user its session is signed in as, and its IP address (for login throttling).
//!
//! Two cookies, both `HttpOnly; SameSite=Lax` (and `Secure` behind TLS):
//! - `paddock_csrf`, set on the first page: every form carries a token derived from it
//!   (signed double-submit), so a page of another site cannot submit our forms;
//! - `paddock_session`, set at login: found server-side by its digest.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::{COOKIE, LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use paddock_core::form::Params;
use paddock_core::model::User;
use paddock_core::secret::{CsrfSeed, SessionToken};

use super::PageError;
use crate::state::AppState;

const CSRF_COOKIE: &str = "paddock_csrf";
const SESSION_COOKIE: &str = "paddock_session";
/// The form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf";

pub struct Browser {
    csrf: CsrfSeed,
    /// The browser had no (valid) CSRF cookie: the next page sets this one.
    csrf_is_new: bool,
    session: Option<SessionToken>,
    pub ip: IpAddr,
    secure: bool,
}

impl FromRequestParts<AppState> for Browser {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        let cookie = |name: &str| cookie_value(parts, name);
        let existing = cookie(CSRF_COOKIE).and_then(|v| CsrfSeed::parse(&v).ok());
        let csrf_is_new = existing.is_none();
        let csrf = existing.unwrap_or_else(|| CsrfSeed::generate(&mut rand::rng()));
        let session = cookie(SESSION_COOKIE).and_then(|v| SessionToken::parse(&v).ok());
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |ConnectInfo(addr)| {
                addr.ip()
            });
        Ok(Self {
            csrf,
            csrf_is_new,
            session,
            ip,
            secure: state.settings.secure_cookies,
        })
    }
}

/// The value of cookie `name`, from every `Cookie` header of the request.
fn cookie_value(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|header| header.to_str().ok())
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.trim_matches('"').to_owned())
}

impl Browser {
    /// The token this browser's forms must carry.
    pub fn form_token(&self) -> String {
        self.csrf.form_token()
    }

    /// A form posted by one of our pages in this browser: parsed, and refused unless it
    /// carries this browser's CSRF token. Every page POST goes through here.
    pub fn form(&self, body: &[u8]) -> Result<Params, PageError> {
        let form = Params::parse(body).map_err(|e| PageError::bad_request(e.to_string()))?;
        self.check_form(&form)?;
        Ok(form)
    }

    fn check_form(&self, form: &Params) -> Result<(), PageError> {
        let valid = !self.csrf_is_new
            && form
                .get(CSRF_FIELD)
                .is_some_and(|token| self.csrf.accepts(token));
        if valid {
            Ok(())
        } else {
            Err(PageError::new(
                StatusCode::FORBIDDEN,
                "This form has expired",
                "The form was not sent from this site's page in this browser, or the page \
                 is too old. Go back, reload the page and try again.",
            ))
        }
    }

    /// The user this browser is signed in as, if its session is live.
    pub async fn user(&self, state: &AppState) -> Result<Option<User>, PageError> {
        let Some(session) = &self.session else {
            return Ok(None);
        };
        let now = state.clock.now();
        match state.store.session_user(&session.digest(), now).await? {
            Some(id) => Ok(state.store.user(id).await?),
            None => Ok(None),
        }
    }

    /// The session cookie this browser sent, if any.
    pub fn session(&self) -> Option<&SessionToken> {
        self.session.as_ref()
    }

    /// A page for this browser, setting its CSRF cookie when it had none.
    pub fn page(&self, status: StatusCode, html: String) -> Response {
        let mut response = (status, axum::response::Html(html)).into_response();
        if self.csrf_is_new {
            self.set_cookie(&mut response, CSRF_COOKIE, self.csrf.expose(), None);
        }
        response
    }

    /// A redirect: 302 after a GET, 303 after a POST (never 307, which would re-send a
    /// form to wherever it points).
    pub fn redirect(&self, status: StatusCode, location: &str) -> Response {
        let mut response = status.into_response();
        match HeaderValue::from_str(location) {
            Ok(value) => {
                response.headers_mut().insert(LOCATION, value);
                response
            }
            Err(_) => {
                PageError::internal(anyhow::anyhow!("unencodable Location header")).into_response()
            }
        }
    }

    /// Signs this browser in: a fresh session cookie, so that a cookie planted before
    /// login is never promoted (no session fixation).
    pub fn start_session(&self, response: &mut Response, token: &SessionToken, max_age_secs: i64) {
        self.set_cookie(response, SESSION_COOKIE, token.expose(), Some(max_age_secs));
    }

    pub fn end_session(&self, response: &mut Response) {
        self.set_cookie(response, SESSION_COOKIE, "", Some(0));
    }

    fn set_cookie(&self, response: &mut Response, name: &str, value: &str, max_age: Option<i64>) {
        let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
        if let Some(secs) = max_age {
            cookie.push_str(&format!("; Max-Age={secs}"));
        }
        if self.secure {
            cookie.push_str("; Secure");
        }
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
}
