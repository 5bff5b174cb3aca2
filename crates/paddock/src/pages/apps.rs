//! The connected-apps page: every grant of the signed-in user, and a Revoke button that
//! stops its token at once.

use std::collections::HashMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use paddock_core::form::Params;
use paddock_core::ids::{AccountId, GrantId};
use paddock_core::model::{Account, User};
use paddock_core::store::Invalidation;

use super::login::APPS_PAGE;
use super::{Browser, Nav, PageError, scope_lines, when};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "apps.html")]
struct AppsPage {
    nav: Nav,
    notice: Option<&'static str>,
    grants: Vec<GrantView>,
}

#[derive(Template)]
#[template(path = "revoke.html")]
struct RevokePage {
    nav: Nav,
    csrf: String,
    grant: GrantView,
}

/// One grant as the user sees it. Several grants of one app differ by their accounts
/// and their date, so each is named by both.
struct GrantView {
    id: String,
    app: String,
    /// The accounts and the date, e.g. "Paper account PA1 · authorized 2026-11-25 14:03 UTC".
    title: String,
    abilities: Vec<&'static str>,
    accounts: String,
    authorized: String,
    last_used: String,
}

/// The notices a redirect back to this page may ask for, by name: the text is ours,
/// never the query's.
const NOTICES: &[(&str, &str)] = &[(
    "revoked",
    "Access revoked: that app can no longer reach your accounts.",
)];

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

/// The user's live grants, as shown.
async fn grant_views(state: &AppState, user: &User) -> Result<Vec<GrantView>, PageError> {
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
    Ok(state
        .store
        .grants_of_user(user.id, state.clock.now())
        .await?
        .into_iter()
        .map(|g| {
            let accounts = [
                g.accounts.live().map(|id| describe(id, "Live")),
                g.accounts.paper().map(|id| describe(id, "Paper")),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" and ");
            let authorized = when(g.created_at);
            GrantView {
                id: g.id.to_string(),
                app: g.client_name,
                title: format!("{accounts} · authorized {authorized}"),
                abilities: scope_lines(g.scopes),
                accounts,
                authorized,
                last_used: g.last_used_at.map_or_else(|| "never".to_owned(), when),
            }
        })
        .collect())
}

/// `GET /account/apps[?notice=revoked]`
pub async fn list(
    State(state): State<AppState>,
    browser: Browser,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let user = match signed_in(&state, &browser).await? {
        Ok(user) => user,
        Err(to_login) => return Ok(to_login),
    };
    let params = Params::parse(query.unwrap_or_default().as_bytes()).unwrap_or_default();
    let notice = params.get("notice").and_then(|name| {
        NOTICES
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, text)| *text)
    });
    let html = AppsPage {
        nav: Nav::new(&browser, Some(&user)),
        notice,
        grants: grant_views(&state, &user).await?,
    }
    .render()?;
    Ok(browser.page(StatusCode::OK, html))
}

fn no_such_grant() -> PageError {
    PageError::not_found("You have no such connected app: it may have been revoked already.")
        .next_step("Your connected apps page lists every app that can still reach your accounts.")
}

fn grant_id(grant: Result<Path<String>, PathRejection>) -> Result<GrantId, PageError> {
    grant
        .ok()
        .and_then(|Path(id)| id.parse().ok())
        .ok_or_else(no_such_grant)
}

/// `GET /account/apps/{grant_id}/revoke`: asks first, in a page of its own, so that
/// revoking needs a second, deliberate click, with or without JavaScript.
pub async fn confirm(
    State(state): State<AppState>,
    browser: Browser,
    grant: Result<Path<String>, PathRejection>,
) -> Result<Response, PageError> {
    let user = match signed_in(&state, &browser).await? {
        Ok(user) => user,
        Err(to_login) => return Ok(to_login),
    };
    let id = grant_id(grant)?.to_string();
    let grant = grant_views(&state, &user)
        .await?
        .into_iter()
        .find(|g| g.id == id)
        .ok_or_else(no_such_grant)?;
    let html = RevokePage {
        nav: Nav::new(&browser, Some(&user)),
        csrf: browser.form_token(),
        grant,
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
    let grant = grant_id(grant)?;
    let revoked = state
        .store
        .revoke_grant(user.id, grant, state.clock.now())
        .await?
        .ok_or_else(no_such_grant)?;
    state.caches.apply(&Invalidation::Token(revoked));
    Ok(browser.redirect(
        StatusCode::SEE_OTHER,
        &format!("{APPS_PAGE}?notice=revoked"),
    ))
}
