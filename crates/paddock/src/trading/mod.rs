//! The Trading API v2: the resource server the access tokens unlock (SPEC §3.4).
//! One router, mounted twice: at the root for the live base and under `/paper` for
//! the paper base.

use axum::routing::get;
use axum::{Extension, Router};
use paddock_core::env::Env;

use crate::auth::Base;
use crate::state::AppState;

pub mod account;

pub fn router(env: Env) -> Router<AppState> {
    Router::new()
        .route("/v2/account", get(account::get_account))
        .layer(Extension(Base(env)))
}
