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

/// Adds the error answers every operation of a kind can give, where its description
/// does not list them already: 401 for an operation behind credentials, 400 for one
/// that reads a body or a query (a malformed one is refused before the handler), 404
/// for a path with parameters (a path that names nothing), 429 where the broker's
/// credentials are throttled. Done once, on the gathered
/// document, so that no handler can forget one (schema fuzzing checks every status).
pub fn complete_responses(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::Operation;
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};

    let error = |description: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("AlpacaErrorBody")))
                        .build(),
                )
                .build(),
        )
    };
    let complete = |operation: &mut Operation, has_path_parameters: bool| {
        let schemes: Vec<String> = operation
            .security
            .iter()
            .flatten()
            .filter_map(|r| serde_json::to_value(r).ok())
            .filter_map(|v| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()))
            .flatten()
            .collect();
        let secured = !schemes.is_empty();
        // The broker's key id is throttled after repeated wrong secrets.
        if schemes.iter().any(|s| s == "broker_basic") {
            operation
                .responses
                .responses
                .entry("429".into())
                .or_insert_with(|| error("Too many failed authentications; see Retry-After"));
        }
        let responses = &mut operation.responses.responses;
        if secured {
            responses
                .entry("401".into())
                .or_insert_with(|| error("Missing, invalid or revoked credentials"));
            responses
                .entry("400".into())
                .or_insert_with(|| error("A malformed body or query string"));
        } else if operation.request_body.is_some() {
            responses
                .entry("400".into())
                .or_insert_with(|| error("A malformed body"));
        }
        if has_path_parameters {
            responses
                .entry("404".into())
                .or_insert_with(|| error("Nothing at this path"));
        }
    };
    for (path, item) in doc.paths.paths.iter_mut() {
        let has_path_parameters = path.contains('{');
        for operation in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            complete(operation, has_path_parameters);
        }
    }
}
