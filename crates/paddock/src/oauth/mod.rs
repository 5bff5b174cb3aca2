//! The authorization server: the Broker API's OAuth endpoints, the authorization
//! endpoint of the browser flow (routed with the pages), the token endpoint, and the
//! standards endpoints (metadata, introspection, revocation).

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

pub mod authorize;
pub mod broker;
pub mod introspect;
pub mod metadata;
pub mod revoke;
pub mod token;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(broker::router())
        .route("/oauth/token", post(token::token))
        .route("/oauth/introspect", post(introspect::introspect))
        .route("/oauth/revoke", post(revoke::revoke))
        .route(metadata::PATH, get(metadata::metadata))
}
