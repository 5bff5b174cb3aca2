//! paddock: an OAuth 2.0 authorization server for brokerages, wire-compatible with
//! Alpaca's OAuth, with the paper Trading API v2 its tokens unlock.
//!
//! Reading order: `main.rs` (the CLI) → [`server::app`] (every route) → the module of
//! the surface you care about: [`oauth::broker`], [`oauth::token`], [`trading`].

pub mod admin;
pub mod auth;
pub mod cache;
pub mod clock;
pub mod config;
pub mod data;
pub mod demo;
pub mod error;
pub mod extract;
pub mod oauth;
pub mod openapi;
pub mod ops;
pub mod pages;
pub mod server;
pub mod state;
pub mod throttle;
pub mod trading;
pub mod wire;
