//! The OAuth 2.0 rules: authorization requests, consent, codes and tokens, PKCE,
//! redirect matching, scopes, introspection, and OAuth's error responses.

pub mod authorize;
pub mod consent;
pub mod error;
pub mod grant;
pub mod introspection;
pub mod pkce;
pub mod redirect;
pub mod scope;
