//! The OpenAPI 3 document served at `/openapi.json`: here, what the whole document
//! says (info, tags, security schemes). Its paths are not listed here: each endpoint's
//! description is registered with its route, by `utoipa_axum::routes!`, and
//! [`crate::server::api`] starts from [`ApiDoc`] and gathers them all.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "paddock",
        description = "OAuth 2.0 authorization server for brokerages, wire-compatible with \
                       Alpaca's OAuth, with the paper Trading API v2 its tokens unlock. \
                       Trading API paths are served on the live base (the root) and on the \
                       paper base (`/paper`)."
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "Broker API", description = "For brokers, with HTTP Basic key id and secret (seeds 000, 001, 003)"),
        (name = "OAuth", description = "For apps: the token endpoint (seed 002); and the standards endpoints: metadata (RFC 8414), introspection (RFC 7662, for apps and for brokers' API gateways), revocation (RFC 7009)"),
        (name = "Trading API", description = "For apps, with a Bearer access token"),
        (name = "Operations", description = "Health checks"),
    )
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "broker_basic",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}
