//! `GET /`: where a person who opens the server's address lands: what this server is,
//! sign in or their connected apps, and for developers the machine-readable documents.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::{Browser, Nav, PageError};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    nav: Nav,
}

pub async fn show(State(state): State<AppState>, browser: Browser) -> Result<Response, PageError> {
    let user = browser.user(&state).await?;
    let html = HomePage {
        nav: Nav::new(&browser, user.as_ref()),
    }
    .render()?;
    Ok(browser.page(StatusCode::OK, html))
}
