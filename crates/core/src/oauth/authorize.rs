//! The authorization request of the browser flow (RFC 6749 §4.1.1, RFC 7636 §4.3,
//! seed 002), checked in the order that decides where an error may go: until the client
//! and its redirect URI are trusted, an error is shown to the user and never redirected
//! (RFC 6749 §4.1.2.1, no open redirect); after that, every error goes back to the
//! client with the unchanged `state` and the issuer (RFC 9207).

use std::borrow::Cow;

use url::form_urlencoded;

use crate::env::Env;
use crate::form::Params;
use crate::ids::ClientId;
use crate::model::Client;
use crate::oauth::error::{OAuthError, OAuthErrorCode};
use crate::oauth::pkce::CodeChallenge;
use crate::oauth::scope::ScopeSet;

/// A checked authorization request from a trusted client.
#[derive(Clone, Debug)]
pub struct AuthorizationRequest {
    /// The active client that sent the request.
    pub client: Client,
    /// Exactly as sent: the code is bound to it, and the token request must repeat it.
    pub redirect_uri: String,
    pub state: Option<String>,
    pub scopes: ScopeSet,
    /// `None`: the user is asked for a live and a paper account (seed 002).
    pub env: Option<Env>,
    pub code_challenge: Option<CodeChallenge>,
}

/// Why an authorization request fails, and where the user learns of it.
#[derive(Debug)]
pub enum AuthorizeError {
    /// The client or its redirect URI cannot be trusted: shown on a page, never
    /// redirected.
    Page(Cow<'static, str>),
    /// Sent back to the client.
    Redirect(ErrorRedirect),
}

/// An error response to send to the client's redirect URI.
#[derive(Debug)]
pub struct ErrorRedirect {
    pub redirect_uri: String,
    pub state: Option<String>,
    pub error: OAuthError,
}

impl ErrorRedirect {
    /// The redirect's target: `error`, `error_description`, `state`, `iss`.
    pub fn location(&self, issuer: &str) -> String {
        let mut params = vec![
            ("error", self.error.code.as_str()),
            ("error_description", &self.error.description),
        ];
        if let Some(state) = &self.state {
            params.push(("state", state));
        }
        params.push(("iss", issuer));
        redirect_location(&self.redirect_uri, &params)
    }
}

/// The `client_id` of the request, or the page that says why there is none to trust.
pub fn client_id(params: &Params, repeated: &[String]) -> Result<ClientId, AuthorizeError> {
    if repeated.iter().any(|name| name == "client_id") {
        return Err(page(
            "The link that brought you here is broken: it names the app (client_id) twice.",
        ));
    }
    let id = params
        .get("client_id")
        .ok_or_else(|| page("The link that brought you here is broken: it does not say which app sent you (client_id is missing)."))?;
    ClientId::parse(id).map_err(|_| unknown_client())
}

fn page(message: &'static str) -> AuthorizeError {
    AuthorizeError::Page(Cow::Borrowed(message))
}

fn unknown_client() -> AuthorizeError {
    page(
        "The app that sent you here is not known to this server, or has been disabled by its operator.",
    )
}

impl AuthorizationRequest {
    /// Checks the request of `client`, the result of looking up its `client_id`.
    pub fn parse(
        params: &Params,
        repeated: &[String],
        client: Option<Client>,
    ) -> Result<Self, AuthorizeError> {
        let client = client
            .filter(Client::is_active)
            .ok_or_else(unknown_client)?;
        if repeated.iter().any(|name| name == "redirect_uri") {
            return Err(page(
                "The link that brought you here is broken: it names the address to return to (redirect_uri) twice.",
            ));
        }
        let redirect_uri = params.get("redirect_uri").ok_or_else(|| {
            page("The link that brought you here is broken: it does not say where to return (redirect_uri is missing).")
        })?;
        if client.redirect_uri_for(redirect_uri).is_none() {
            return Err(page(
                "The app asked to send you back to an address it has not registered, so this server will not send you there.",
            ));
        }

        // From here on the redirect URI is the client's own: errors go back to it.
        let redirect_uri = redirect_uri.to_owned();
        let state = params.get("state").map(str::to_owned);
        let refuse = |code: OAuthErrorCode, description: Cow<'static, str>| {
            AuthorizeError::Redirect(ErrorRedirect {
                redirect_uri: redirect_uri.clone(),
                state: state.clone(),
                error: OAuthError::new(code, description),
            })
        };
        let invalid =
            |description: String| refuse(OAuthErrorCode::InvalidRequest, description.into());
        if let Some(name) = repeated.first() {
            return Err(invalid(format!(
                "parameter `{name}` is repeated; send it once"
            )));
        }
        match params.get("response_type") {
            Some("code") => {}
            Some(_) => {
                return Err(refuse(
                    OAuthErrorCode::UnsupportedResponseType,
                    "response_type must be `code`".into(),
                ));
            }
            None => {
                return Err(invalid(
                    "response_type is required and must be `code`".into(),
                ));
            }
        }
        let scopes = ScopeSet::parse(params.get("scope").unwrap_or_default())
            .map_err(|e| refuse(OAuthErrorCode::InvalidScope, e.to_string().into()))?;
        let env = params
            .get("env")
            .map(str::parse::<Env>)
            .transpose()
            .map_err(|e| invalid(e.to_string()))?;
        let code_challenge = CodeChallenge::from_request(
            params.get("code_challenge"),
            params.get("code_challenge_method"),
        )
        .map_err(|e| invalid(e.to_string()))?;
        if env == Some(Env::Live) && !client.may_access(Env::Live) {
            return Err(refuse(
                OAuthErrorCode::AccessDenied,
                "this app is not approved for live trading; ask for env=paper".into(),
            ));
        }
        Ok(Self {
            client,
            redirect_uri,
            state,
            scopes,
            env,
            code_challenge,
        })
    }

    /// The redirect that hands `code` to the client: `code`, `state`, `iss`.
    pub fn code_location(&self, code: &str, issuer: &str) -> String {
        let mut params = vec![("code", code)];
        if let Some(state) = &self.state {
            params.push(("state", state));
        }
        params.push(("iss", issuer));
        redirect_location(&self.redirect_uri, &params)
    }

    /// The client's redirect URI with `error`, for the user who turned the request down
    /// or who has no account to connect.
    pub fn denied(&self, description: impl Into<Cow<'static, str>>) -> ErrorRedirect {
        ErrorRedirect {
            redirect_uri: self.redirect_uri.clone(),
            state: self.state.clone(),
            error: OAuthError::access_denied(description),
        }
    }
}

/// Appends `params` to the query of `redirect_uri`, keeping the registered string as
/// it is (a query of its own included, RFC 6749 §3.1.2).
fn redirect_location(redirect_uri: &str, params: &[(&str, &str)]) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let separator = match redirect_uri.find('?') {
        None => "?",
        Some(i) if i + 1 == redirect_uri.len() => "",
        Some(_) => "&",
    };
    format!("{redirect_uri}{separator}{query}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::BrokerId;
    use crate::model::{ClientStatus, test_client};

    fn client(live: bool) -> Client {
        test_client(
            BrokerId::random(),
            &["https://app.example/cb?from=paddock"],
            live,
        )
    }

    fn parse(query: &str, client: &Client) -> Result<AuthorizationRequest, AuthorizeError> {
        let (params, repeated) = Params::parse_keeping_first(query.as_bytes()).unwrap();
        AuthorizationRequest::parse(&params, &repeated, Some(client.clone()))
    }

    const OK: &str = "response_type=code&client_id=7a3c52a910e1dc2abbb14da2b6b8e711\
                      &redirect_uri=https%3A%2F%2Fapp.example%2Fcb%3Ffrom%3Dpaddock&state=s+1";

    fn redirected(result: Result<AuthorizationRequest, AuthorizeError>) -> ErrorRedirect {
        match result {
            Err(AuthorizeError::Redirect(r)) => r,
            other => panic!("expected a redirect, got {other:?}"),
        }
    }

    #[test]
    fn a_valid_request_parses_and_its_code_goes_back_with_state_and_iss() {
        let request = parse(
            &format!("{OK}&scope=trading+account%3Awrite&env=paper"),
            &client(false),
        )
        .unwrap();
        assert_eq!(request.scopes.to_string(), "account:write trading");
        assert_eq!(request.env, Some(Env::Paper));
        assert_eq!(
            request.code_location("c0de", "http://127.0.0.1:8080"),
            "https://app.example/cb?from=paddock&code=c0de&state=s+1&iss=http%3A%2F%2F127.0.0.1%3A8080"
        );
    }

    #[test]
    fn untrusted_clients_and_redirects_are_shown_on_a_page() {
        let c = client(true);
        let other = OK.replace("paddock&state", "evil&state");
        assert!(matches!(parse(&other, &c), Err(AuthorizeError::Page(_))));
        let twice = format!("{OK}&redirect_uri=https%3A%2F%2Fapp.example%2Fcb%3Ffrom%3Dpaddock");
        assert!(matches!(parse(&twice, &c), Err(AuthorizeError::Page(_))));
        // However many other parameters are repeated before it.
        let (params, repeated) =
            Params::parse_keeping_first(format!("state=a&state=b&{OK}&client_id=x").as_bytes())
                .unwrap();
        assert!(matches!(
            client_id(&params, &repeated),
            Err(AuthorizeError::Page(_))
        ));
        let mut disabled = client(true);
        disabled.status = ClientStatus::Disabled;
        assert!(matches!(parse(OK, &disabled), Err(AuthorizeError::Page(_))));
        let (params, _) = Params::parse_keeping_first(OK.as_bytes()).unwrap();
        assert!(matches!(
            AuthorizationRequest::parse(&params, &[], None),
            Err(AuthorizeError::Page(_))
        ));
    }

    #[test]
    fn other_errors_go_back_with_the_unchanged_state() {
        let c = client(false);
        let cases = [
            ("&response_type=code", "invalid_request"),
            ("&scope=admin", "invalid_scope"),
            ("&env=sandbox", "invalid_request"),
            (
                "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                "invalid_request",
            ),
            (
                "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=plain",
                "invalid_request",
            ),
            ("&env=live", "access_denied"),
        ];
        for (extra, error) in cases {
            let r = redirected(parse(&format!("{OK}{extra}"), &c));
            assert_eq!(r.error.code.as_str(), error, "{extra}");
            assert_eq!(r.state.as_deref(), Some("s 1"));
        }
        let r = redirected(parse(
            &OK.replace("response_type=code", "response_type=token"),
            &c,
        ));
        assert_eq!(r.error.code, OAuthErrorCode::UnsupportedResponseType);
        let r = redirected(parse(&OK.replace("response_type=code&", ""), &c));
        assert_eq!(r.error.code, OAuthErrorCode::InvalidRequest);
        assert_eq!(
            r.location("https://as.example"),
            "https://app.example/cb?from=paddock&error=invalid_request\
             &error_description=response_type+is+required+and+must+be+%60code%60\
             &state=s+1&iss=https%3A%2F%2Fas.example"
        );
    }
}
