//! The authorization server: the Broker API's OAuth endpoints, the authorization
//! endpoint of the browser flow (routed with the pages), the token endpoint, and the
//! standards endpoints (metadata, introspection, revocation).

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub mod authorize;
pub mod broker;
pub mod introspect;
pub mod metadata;
pub mod revoke;
pub mod token;

/// The JSON endpoints, each registered with its description. The authorization
/// endpoint answers with pages and is routed with them ([`crate::pages::router`]).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .merge(broker::router())
        .routes(routes!(token::token))
        .routes(routes!(introspect::introspect))
        .routes(routes!(revoke::revoke))
        .routes(routes!(metadata::metadata))
}
