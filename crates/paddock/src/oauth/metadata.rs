//! `GET /.well-known/oauth-authorization-server` (SPEC §3.6): the authorization server
//! metadata of RFC 8414, so that a standard OAuth library configures itself from the
//! issuer alone.

use axum::Json;
use axum::extract::State;
use paddock_core::oauth::scope::Scope;
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

/// The path RFC 8414 §3 derives from an issuer without a path component.
pub const PATH: &str = "/.well-known/oauth-authorization-server";

/// How clients may authenticate at the token, introspection and revocation endpoints:
/// RFC 6749 §2.3.1, in HTTP Basic or in the body.
const CLIENT_AUTH_METHODS: [&str; 2] = ["client_secret_basic", "client_secret_post"];

/// Authorization server metadata (RFC 8414 §2). Every list that paddock supports is
/// given, even where the RFC's default would say the same, so that a reader need not
/// know the defaults; members paddock has nothing for (`jwks_uri`, a registration
/// endpoint, signing algorithms) are left out, as §2 asks of empty ones.
#[derive(Serialize, ToSchema)]
pub struct AuthorizationServerMetadata {
    /// The issuer identifier: the `iss` of every authorization response (RFC 9207).
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    /// RFC 7662.
    pub introspection_endpoint: String,
    /// RFC 7009.
    pub revocation_endpoint: String,
    /// `account:write`, `trading`, `data`; read-only access needs no scope.
    pub scopes_supported: Vec<&'static str>,
    /// `code` only: no implicit flow (RFC 9700 §2.1.2).
    pub response_types_supported: [&'static str; 1],
    pub response_modes_supported: [&'static str; 1],
    pub grant_types_supported: [&'static str; 1],
    pub token_endpoint_auth_methods_supported: [&'static str; 2],
    pub introspection_endpoint_auth_methods_supported: [&'static str; 2],
    pub revocation_endpoint_auth_methods_supported: [&'static str; 2],
    /// `S256` only: `plain` is refused (RFC 9700 §2.1.1).
    pub code_challenge_methods_supported: [&'static str; 1],
    /// Authorization responses carry `iss` (RFC 9207 §3).
    pub authorization_response_iss_parameter_supported: bool,
    /// Where the API is described: the OpenAPI document.
    pub service_documentation: String,
}

impl AuthorizationServerMetadata {
    /// The metadata of the server whose issuer is `issuer` (without a trailing slash).
    pub fn for_issuer(issuer: &str) -> Self {
        Self {
            issuer: issuer.to_owned(),
            authorization_endpoint: format!("{issuer}/oauth/authorize"),
            token_endpoint: format!("{issuer}/oauth/token"),
            introspection_endpoint: format!("{issuer}/oauth/introspect"),
            revocation_endpoint: format!("{issuer}/oauth/revoke"),
            scopes_supported: Scope::ALL.iter().map(|s| s.as_str()).collect(),
            response_types_supported: ["code"],
            response_modes_supported: ["query"],
            grant_types_supported: ["authorization_code"],
            token_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
            introspection_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
            revocation_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
            code_challenge_methods_supported: ["S256"],
            authorization_response_iss_parameter_supported: true,
            service_documentation: format!("{issuer}/openapi.json"),
        }
    }
}

/// RFC 8414 §3.2: a 200 JSON document. Brokers call the introspection endpoint with
/// their own HTTP Basic credentials too, which no registered auth method names; the
/// README and the OpenAPI document say so.
#[utoipa::path(
    get,
    path = PATH,
    tag = "OAuth",
    summary = "Authorization server metadata (RFC 8414)",
    responses((status = 200, description = "The metadata", body = AuthorizationServerMetadata))
)]
pub async fn metadata(State(state): State<AppState>) -> Json<AuthorizationServerMetadata> {
    Json(AuthorizationServerMetadata::for_issuer(
        &state.settings.issuer,
    ))
}
