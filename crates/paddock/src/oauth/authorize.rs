//! The authorization endpoint of the browser flow (SPEC §3.2, seed 002):
//! `GET /oauth/authorize` checks the request and shows the login or the consent page;
//! `POST /oauth/authorize` is the user's Allow or Deny, which ends in a redirect back
//! to the app with a code or an error.
//!
//! The consent form sends the original query back with the decision, and the request
//! is checked again from scratch: the one parser decides both times.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use paddock_core::form::Params;
use paddock_core::ids::AccountId;
use paddock_core::model::User;
use paddock_core::oauth::authorize::{self, AuthorizationRequest, AuthorizeError};
use paddock_core::oauth::consent::Offer;
use paddock_core::oauth::grant::CodeGrant;
use paddock_core::secret::AuthCode;

use crate::pages::login::{self, LoginContext};
use crate::pages::{Browser, Nav, PageError, safe_link, scope_lines};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentPage<'a> {
    nav: Nav,
    csrf: String,
    /// The authorization request's query, sent back with the decision.
    request: &'a str,
    app_name: &'a str,
    description: &'a str,
    links: Vec<Link>,
    read_only: bool,
    abilities: Vec<&'static str>,
    live: Option<&'a str>,
    /// The one paper account offered, when there is no choice to make.
    single_paper: Option<&'a str>,
    /// The paper accounts to choose from, when there are several.
    paper_choices: Vec<PaperChoice<'a>>,
    redirect_uri: &'a str,
}

struct Link {
    label: &'static str,
    /// Only http(s) URLs are linked; anything else is shown as text.
    href: Option<String>,
    text: String,
}

struct PaperChoice<'a> {
    id: String,
    number: &'a str,
}

#[derive(Template)]
#[template(path = "no_account.html")]
struct NoAccountPage<'a> {
    nav: Nav,
    app_name: &'a str,
    message: String,
    back: String,
}

/// `GET /oauth/authorize`
pub async fn show(
    State(state): State<AppState>,
    browser: Browser,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let query = query.unwrap_or_default();
    let request = match checked(&state, &browser, &query, StatusCode::FOUND).await {
        Ok(request) => request,
        Err(ended) => return Ok(ended),
    };
    let Some(user) = browser.user(&state).await? else {
        return sign_in_first(&browser, &query, &request);
    };
    let accounts = state.store.accounts_of_user(user.id).await?;
    let offer = match Offer::new(&request.client, request.env, &accounts) {
        Ok(offer) => offer,
        Err(nothing) => {
            let back = request
                .denied(nothing.to_string())
                .location(&state.settings.issuer);
            let html = NoAccountPage {
                nav: Nav::new(&browser, Some(&user)),
                app_name: &request.client.name,
                message: format!(
                    "{} wants to connect to your account, but {nothing}.",
                    request.client.name
                ),
                back,
            }
            .render()?;
            return Ok(browser.page(StatusCode::FORBIDDEN, html));
        }
    };
    let html = consent_page(&browser, &user, &query, &request, &offer).render()?;
    Ok(browser.page(StatusCode::OK, html))
}

fn consent_page<'a>(
    browser: &Browser,
    user: &User,
    query: &'a str,
    request: &'a AuthorizationRequest,
    offer: &'a Offer,
) -> ConsentPage<'a> {
    let client = &request.client;
    let links = [
        ("Website", &client.url),
        ("Terms of use", &client.terms_of_use),
        ("Privacy policy", &client.privacy_policy),
    ]
    .into_iter()
    .filter(|(_, url)| !url.is_empty())
    .map(|(label, url)| Link {
        label,
        href: safe_link(url),
        text: url.clone(),
    })
    .collect();
    let paper_choices = if offer.needs_paper_choice() {
        offer
            .paper
            .iter()
            .map(|a| PaperChoice {
                id: a.id.to_string(),
                number: &a.account_number,
            })
            .collect()
    } else {
        Vec::new()
    };
    ConsentPage {
        nav: Nav::new(browser, Some(user)),
        csrf: browser.form_token(),
        request: query,
        app_name: &client.name,
        description: &client.description,
        links,
        read_only: request.scopes.is_read_only(),
        abilities: scope_lines(request.scopes),
        live: offer.live.as_ref().map(|a| a.account_number.as_str()),
        single_paper: match offer.paper.as_slice() {
            [only] => Some(&only.account_number),
            _ => None,
        },
        paper_choices,
        redirect_uri: &request.redirect_uri,
    }
}

/// The login page, coming back to this very request once signed in.
fn sign_in_first(
    browser: &Browser,
    query: &str,
    request: &AuthorizationRequest,
) -> Result<Response, PageError> {
    let context = LoginContext {
        app_name: Some(&request.client.name),
        ..LoginContext::default()
    };
    login::page(
        browser,
        StatusCode::OK,
        &format!("/oauth/authorize?{query}"),
        context,
    )
}

/// `POST /oauth/authorize`: the user's decision on the consent page.
pub async fn decide(
    State(state): State<AppState>,
    browser: Browser,
    body: Bytes,
) -> Result<Response, PageError> {
    let form = browser.form(&body)?;
    let query = form.get("request").ok_or_else(|| {
        PageError::bad_request("The form lost the app's request. Start again from the app.")
    })?;
    let request = match checked(&state, &browser, query, StatusCode::SEE_OTHER).await {
        Ok(request) => request,
        Err(ended) => return Ok(ended),
    };
    let Some(user) = browser.user(&state).await? else {
        return sign_in_first(&browser, query, &request);
    };
    let issuer = &state.settings.issuer;
    let deny = |description: String| {
        let location = request.denied(description).location(issuer);
        browser.redirect(StatusCode::SEE_OTHER, &location)
    };
    match form.get("decision") {
        Some("allow") => {}
        Some("deny") => return Ok(deny("the user denied the request".into())),
        _ => return Err(PageError::bad_request("Choose Allow or Deny.")),
    }
    let accounts = state.store.accounts_of_user(user.id).await?;
    let offer = match Offer::new(&request.client, request.env, &accounts) {
        Ok(offer) => offer,
        Err(nothing) => return Ok(deny(nothing.to_string())),
    };
    let pick = form
        .get("paper_account")
        .map(str::parse::<AccountId>)
        .transpose()
        .map_err(|_| PageError::bad_request("paper_account is not an account id."))?;
    let accounts = offer
        .bind(pick)
        .ok_or_else(|| PageError::bad_request("Choose one of the paper accounts offered."))?;

    let code = AuthCode::generate(&mut rand::rng());
    let now = state.clock.now();
    let grant = CodeGrant {
        client_id: request.client.client_id.clone(),
        user_id: user.id,
        redirect_uri: request.redirect_uri.clone(),
        scopes: request.scopes,
        accounts,
        code_challenge: request.code_challenge.clone(),
        created_at: now,
        expires_at: now + state.settings.code_ttl,
    };
    state.store.insert_code(&code.digest(), &grant).await?;
    let location = request.code_location(code.expose(), issuer);
    Ok(browser.redirect(StatusCode::SEE_OTHER, &location))
}

/// The checked request, or the response that ends the flow here: an error page when
/// the client or its redirect URI cannot be trusted, else an error redirect to the
/// client (`status`: 302 after a GET, 303 after a POST).
async fn checked(
    state: &AppState,
    browser: &Browser,
    query: &str,
    status: StatusCode,
) -> Result<AuthorizationRequest, Response> {
    let ended = |error: AuthorizeError| match error {
        AuthorizeError::Page(message) => PageError::bad_request(message).into_response(),
        AuthorizeError::Redirect(redirect) => {
            browser.redirect(status, &redirect.location(&state.settings.issuer))
        }
    };
    let (params, repeated) = Params::parse_keeping_first(query.as_bytes())
        .map_err(|e| PageError::bad_request(e.to_string()).into_response())?;
    let client_id = authorize::client_id(&params, &repeated).map_err(ended)?;
    let client = state
        .store
        .client(&client_id)
        .await
        .map_err(|e| PageError::from(e).into_response())?;
    AuthorizationRequest::parse(&params, &repeated, client).map_err(ended)
}
