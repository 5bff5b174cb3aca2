//! The browser on the other end of a page request: its cookies, its CSRF token, the
//! user its session is signed in as, and its IP address (for login throttling).
//!
//! Two cookies, both `HttpOnly; SameSite=Lax` (and, behind TLS, `Secure` with the
//! `__Host-` prefix, which no other host or path can set):
//! - `paddock_csrf`, set on the first page: every form carries a token derived from it
//!   and from the session (signed double-submit), so a page of another site cannot
//!   submit our forms;
//! - `paddock_session`, set at login: found server-side by its digest.
//!
//! A page POST must also come from one of our pages: a browser's `Sec-Fetch-Site`
//! (or, without it, `Origin`) must say so. SameSite=Lax alone would let another port
//! of the same host, or a sibling subdomain, through.

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

/// The cookies' names, plain and behind TLS.
struct CookieNames {
    csrf: &'static str,
    session: &'static str,
}

const PLAIN: CookieNames = CookieNames {
    csrf: "paddock_csrf",
    session: "paddock_session",
};
const HOST_PREFIXED: CookieNames = CookieNames {
    csrf: "__Host-paddock_csrf",
    session: "__Host-paddock_session",
};
/// The form field that carries the CSRF token (the templates name it too).
const CSRF_FIELD: &str = "csrf";

pub struct Browser {
    csrf: CsrfSeed,
    /// The browser had no (valid) CSRF cookie: the next page sets this one.
    csrf_is_new: bool,
    session: Option<SessionToken>,
    pub ip: IpAddr,
    secure: bool,
    /// The request says it comes from a page of another origin.
    cross_origin: bool,
}

impl FromRequestParts<AppState> for Browser {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        let secure = state.settings.secure_cookies();
        let names = if secure { &HOST_PREFIXED } else { &PLAIN };
        let existing = cookie_value(parts, names.csrf).and_then(|v| CsrfSeed::parse(&v).ok());
        let csrf_is_new = existing.is_none();
        let csrf = existing.unwrap_or_else(|| CsrfSeed::generate(&mut rand::rng()));
        let session = cookie_value(parts, names.session).and_then(|v| SessionToken::parse(&v).ok());
        Ok(Self {
            csrf,
            csrf_is_new,
            session,
            ip: client_ip(parts, state.settings.trust_proxy),
            secure,
            cross_origin: is_cross_origin(parts),
        })
    }
}

/// The peer's address or, behind a trusted proxy, the last `X-Forwarded-For` entry
/// (the one the proxy itself appended).
fn client_ip(parts: &Parts, trust_proxy: bool) -> IpAddr {
    let forwarded = || {
        let header = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .next_back()?;
        header
            .to_str()
            .ok()?
            .rsplit(',')
            .next()?
            .trim()
            .parse()
            .ok()
    };
    let peer = || {
        parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())
    };
    trust_proxy
        .then(forwarded)
        .flatten()
        .or_else(peer)
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// What the browser says of where the request comes from: `Sec-Fetch-Site` where it
/// sends it (every current browser), else whether `Origin` names the host the request
/// went to. A request with neither (not from a browser) is left to the CSRF token.
fn is_cross_origin(parts: &Parts) -> bool {
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site") {
        return !matches!(site, "same-origin" | "none");
    }
    match (header("origin"), header("host")) {
        (None, _) => false,
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_none_or(|(_, authority)| !authority.eq_ignore_ascii_case(host)),
        (Some(_), None) => true,
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
        self.csrf.form_token(self.session.as_ref())
    }

    /// A form posted by one of our pages in this browser: parsed, and refused unless it
    /// carries this browser's CSRF token. Every page POST goes through here.
    pub fn form(&self, body: &[u8]) -> Result<Params, PageError> {
        let form = Params::parse(body).map_err(|e| PageError::bad_request(e.to_string()))?;
        self.check_form(&form)?;
        Ok(form)
    }

    fn check_form(&self, form: &Params) -> Result<(), PageError> {
        if self.cross_origin {
            return Err(PageError::new(
                StatusCode::FORBIDDEN,
                "This form came from another site",
                "Only this site's own pages may send this form. If you followed a link or a \
                 button elsewhere, start again from this site.",
            ));
        }
        let valid = !self.csrf_is_new
            && form
                .get(CSRF_FIELD)
                .is_some_and(|token| self.csrf.accepts(token, self.session.as_ref()));
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
        Ok(state.store.session_user(&session.digest(), now).await?)
    }

    /// The session cookie this browser sent, if any.
    pub fn session(&self) -> Option<&SessionToken> {
        self.session.as_ref()
    }

    /// A page for this browser, setting its CSRF cookie when it had none.
    pub fn page(&self, status: StatusCode, html: String) -> Response {
        let mut response = (status, axum::response::Html(html)).into_response();
        if self.csrf_is_new {
            self.set_cookie(&mut response, self.names().csrf, self.csrf.expose(), None);
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
        self.set_cookie(
            response,
            self.names().session,
            token.expose(),
            Some(max_age_secs),
        );
    }

    pub fn end_session(&self, response: &mut Response) {
        self.set_cookie(response, self.names().session, "", Some(0));
    }

    fn names(&self) -> &'static CookieNames {
        if self.secure { &HOST_PREFIXED } else { &PLAIN }
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
