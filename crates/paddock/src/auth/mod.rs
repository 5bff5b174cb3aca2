//! Who may call: each kind of caller is an extractor, so a handler's signature says it.

mod basic;
mod bearer;
mod broker;
mod client;

pub use basic::{BasicCredentials, parse_basic};
pub use bearer::{
    AccountWrite, Base, BearerGrant, BearerRefusal, DataGrant, RequiredScope, Scoped, Trading,
    bearer_token, check_bearer,
};
pub use broker::{BrokerAuth, BrokerAuthError, authenticate_broker};
pub use client::{ClientCredentials, authenticate_client};
