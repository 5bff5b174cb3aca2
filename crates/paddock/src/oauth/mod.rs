//! The authorization server: the Broker API's OAuth endpoints, the authorization
//! endpoint of the browser flow (routed with the pages) and the token endpoint.

use axum::Router;
use axum::routing::post;

use crate::state::AppState;

pub mod authorize;
pub mod broker;
pub mod token;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(broker::router())
        .route("/oauth/token", post(token::token))
}
