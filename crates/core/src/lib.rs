//! paddock's protocol and domain rules, free of web and database code.
//!
//! Everything a request carries is parsed here into a typed value at the boundary
//! (`ClientId`, `ScopeSet`, `RedirectUri`, `AccessToken`, …); once built, those values
//! cannot hold an invalid state. The store traits the backends implement live in
//! [`store`]; the OAuth rules in [`oauth`], the paper brokerage's in [`trading`].

pub mod env;
pub mod form;
pub mod ids;
pub mod model;
pub mod money;
pub mod oauth;
pub mod password;
pub mod secret;
pub mod store;
pub mod throttle;
pub mod trading;

pub use env::Env;
pub use ids::{AccountId, BrokerId, ClientId, GrantId, UserId};
pub use oauth::error::{OAuthError, OAuthErrorCode};
pub use oauth::scope::{Scope, ScopeSet};
