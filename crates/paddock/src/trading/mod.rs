//! The Trading API v2: the resource server the access tokens unlock (SPEC §3.4).
//! One router, mounted twice: at the root for the live base and under `/paper` for
//! the paper base (so the OpenAPI document lists each path on both bases).

use axum::Extension;
use paddock_core::env::Env;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Base;
use crate::state::AppState;

pub mod account;
pub mod assets;
pub mod clock;

/// The Trading API on the `env` base, each endpoint registered with its description.
pub fn router(env: Env) -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(account::get_account))
        .routes(routes!(assets::list_assets))
        .routes(routes!(assets::get_asset))
        .routes(routes!(clock::get_clock))
        .routes(routes!(clock::get_calendar))
        .layer(Extension(Base(env)))
}
