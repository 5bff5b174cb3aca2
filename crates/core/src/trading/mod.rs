//! The paper brokerage's rules, free of I/O: each function takes `now` (and, where it
//! needs one, a seeded RNG) as a parameter, so the rules are unit- and property-tested
//! here in milliseconds.

pub mod clock;
