//! paddock's integration tests: the real server on an ephemeral port, real HTTP, a
//! real SQLite file per test (STYLE.md §10).

#![expect(
    clippy::unwrap_used,
    reason = "a test helper that cannot go on should fail loudly, as a test does"
)]

mod account_api;
mod authorize;
mod bearer;
mod broker;
mod browser;
mod chromium;
mod cli;
mod data;
mod faults;
mod garbage;
mod hardening;
mod helpers;
mod load;
mod market;
mod nodes;
mod ops;
mod order_types;
mod pages;
mod process;
mod readme;
mod standards;
mod storage;
mod stream;
mod testdb;
mod token;
mod trading;
