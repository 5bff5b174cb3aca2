//! The OpenAPI 3 document served at `/openapi.json`.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::{oauth, ops, trading};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "paddock",
        description = "OAuth 2.0 authorization server for brokerages, wire-compatible with \
                       Alpaca's OAuth, with the paper Trading API v2 its tokens unlock. \
                       Trading API paths are served on the live base (the root) and on the \
                       paper base (`/paper`)."
    ),
    paths(
        oauth::broker::get_client,
        oauth::broker::issue_token,
        oauth::broker::issue_code,
        oauth::broker::revoke_token,
        oauth::token::token,
        oauth::introspect::introspect,
        oauth::revoke::revoke,
        oauth::metadata::metadata,
        trading::account::get_account,
        ops::healthz,
        ops::readyz,
    ),
    modifiers(&SecuritySchemes, &PaperBase),
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

/// Every Trading API path exists on the paper base too, under `/paper`.
struct PaperBase;

impl Modify for PaperBase {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let paper: Vec<_> = openapi
            .paths
            .paths
            .iter()
            .filter(|(path, _)| path.starts_with("/v2/"))
            .map(|(path, item)| (format!("/paper{path}"), item.clone()))
            .collect();
        openapi.paths.paths.extend(paper);
    }
}
