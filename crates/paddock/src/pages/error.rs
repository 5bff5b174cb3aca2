//! The error of the HTML pages: an error page a person can read, where the JSON
//! surfaces answer with `ApiError`. Internal errors are logged in full and shown as a
//! generic page.

use std::borrow::Cow;

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use paddock_core::store::StoreError;

#[derive(Debug)]
pub struct PageError {
    status: StatusCode,
    title: &'static str,
    message: Cow<'static, str>,
    /// What the person can do now.
    next: &'static str,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
    next: &'a str,
    nav: super::Nav,
}

/// The usual way on after a request that cannot be completed: it came from an app.
const BACK_TO_THE_APP: &str = "Go back to the app you came from and start again from \
there. If this keeps happening, tell the app's developer what this page says.";

impl PageError {
    pub fn new(
        status: StatusCode,
        title: &'static str,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            status,
            title,
            message: message.into(),
            next: BACK_TO_THE_APP,
        }
    }

    /// The same error, with another next step.
    pub fn next_step(self, next: &'static str) -> Self {
        Self { next, ..self }
    }

    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "This request cannot be completed",
            message,
        )
    }

    pub fn not_found(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "Not found", message)
    }

    pub fn internal(error: anyhow::Error) -> Self {
        tracing::error!(error = format!("{error:#}"), "internal error on a page");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "The server could not complete this request.",
        )
        .next_step("Try again in a moment. If it keeps failing, tell this server's operator.")
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let page = ErrorPage {
            title: self.title,
            message: &self.message,
            next: self.next,
            nav: super::Nav::anonymous(),
        };
        match page.render() {
            Ok(html) => (self.status, Html(html)).into_response(),
            Err(e) => {
                tracing::error!(error = %e, "could not render the error page");
                (self.status, self.message.into_owned()).into_response()
            }
        }
    }
}

impl From<StoreError> for PageError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(_) => {
                tracing::error!(error = %error, "the database is unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Temporarily unavailable",
                    "The server cannot reach its database at the moment.",
                )
                .next_step("Wait a moment and reload this page.")
            }
            error => Self::internal(error.into()),
        }
    }
}

impl From<askama::Error> for PageError {
    fn from(error: askama::Error) -> Self {
        Self::internal(error.into())
    }
}
