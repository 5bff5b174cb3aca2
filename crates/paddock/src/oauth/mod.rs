//! The authorization server: the Broker API's OAuth endpoints and the token endpoint.

use axum::Router;
use axum::routing::post;

use crate::state::AppState;

pub mod broker;
pub mod token;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(broker::router())
        .route("/oauth/token", post(token::token))
}
