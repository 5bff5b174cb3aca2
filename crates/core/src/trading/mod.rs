//! The paper brokerage's rules, with no I/O: what is listed, what things cost, when
//! the market is open. Time and randomness come in as parameters.

pub mod assets;
