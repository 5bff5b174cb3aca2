//! The paper brokerage's rules, free of I/O: what is listed, what things cost, when the
//! market is open. Each function takes `now` (and, where it needs one, a seeded RNG) as
//! a parameter, so the rules are unit- and property-tested here in milliseconds.

pub mod assets;
pub mod bars;
pub mod clock;
pub mod config;
pub mod engine;
pub mod groups;
pub mod history;
pub mod market;
pub mod orders;
pub mod timing;
pub mod walk;
pub mod watchlists;
