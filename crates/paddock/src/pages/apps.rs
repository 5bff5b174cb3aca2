//! The connected-apps page: every grant of the signed-in user, and a Revoke button that
//! stops its token at once.

use std::collections::HashMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use paddock_core::ids::{AccountId, GrantId};
use paddock_core::model::{Account, User};

use super::login::APPS_PAGE;
use super::{Browser, Nav, PageError, scope_lines, when};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "apps.html")]
struct AppsPage {
    nav: Nav,
    csrf: String,
    grants: Vec<GrantView>,
}

struct GrantView {
    id: String,
    app: String,
    abilities: Vec<&'static str>,
    accounts: Vec<String>,
    authorized: String,
    last_used: String,
}

/// The signed-in user, or a redirect to the login page that comes back here.
async fn signed_in(
    state: &AppState,
    browser: &Browser,
) -> Result<Result<User, Response>, PageError> {
    Ok(match browser.user(state).await? {
        Some(user) => Ok(user),
        None => Err(browser.redirect(StatusCode::FOUND, &format!("/login?return_to={APPS_PAGE}"))),
    })
}

/// `GET /account/apps`
pub async fn list(State(state): State<AppState>, browser: Browser) -> Result<Response, PageError> {
    let user = match signed_in(&state, &browser).await? {
        Ok(user) => user,
        Err(to_login) => return Ok(to_login),
    };
    let accounts: HashMap<AccountId, Account> = state
        .store
        .accounts_of_user(user.id)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let describe = |id: AccountId, env: &str| match accounts.get(&id) {
        Some(a) => format!("{env} account {}", a.account_number),
        None => format!("{env} account"),
    };
    let grants = state
        .store
        .grants_of_user(user.id, state.clock.now())
        .await?
        .into_iter()
        .map(|g| GrantView {
            id: g.id.to_string(),
            app: g.client_name,
            abilities: scope_lines(g.scopes),
            accounts: [
                g.accounts.live().map(|id| describe(id, "Live")),
                g.accounts.paper().map(|id| describe(id, "Paper")),
            ]
            .into_iter()
            .flatten()
            .collect(),
            authorized: when(g.created_at),
            last_used: g.last_used_at.map_or_else(|| "never".to_owned(), when),
        })
        .collect();
    let html = AppsPage {
        nav: Nav::new(&browser, Some(&user)),
        csrf: browser.form_token(),
        grants,
    }
    .render()?;
    Ok(browser.page(StatusCode::OK, html))
}

/// `POST /account/apps/{grant_id}/revoke`
pub async fn revoke(
    State(state): State<AppState>,
    browser: Browser,
    grant: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Result<Response, PageError> {
    browser.form(&body)?;
    let user = match signed_in(&state, &browser).await? {
        Ok(user) => user,
        Err(to_login) => return Ok(to_login),
    };
    let not_found = || PageError::not_found("You have no such connected app.");
    let grant: GrantId = grant
        .ok()
        .and_then(|Path(id)| id.parse().ok())
        .ok_or_else(not_found)?;
    if !state
        .store
        .revoke_grant(user.id, grant, state.clock.now())
        .await?
    {
        return Err(not_found());
    }
    Ok(browser.redirect(StatusCode::SEE_OTHER, APPS_PAGE))
}
