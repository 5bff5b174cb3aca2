//! paddock's protocol and domain rules, free of web and database code.
//!
//! Everything a request carries is parsed here into a typed value at the boundary
//! (`ClientId`, `ScopeSet`, `RedirectUri`, `AccessToken`, …); once built, those values
//! cannot hold an invalid state. The store traits the backends implement live in
//! [`store`].

pub mod authorize;
pub mod consent;
pub mod env;
pub mod error;
pub mod form;
pub mod grant;
pub mod ids;
pub mod introspection;
pub mod model;
pub mod money;
pub mod password;
pub mod pkce;
pub mod redirect;
pub mod scope;
pub mod secret;
pub mod store;
pub mod throttle;
pub mod trading;

pub use env::Env;
pub use error::{OAuthError, OAuthErrorCode};
pub use ids::{AccountId, BrokerId, ClientId, GrantId, UserId};
pub use scope::{Scope, ScopeSet};
