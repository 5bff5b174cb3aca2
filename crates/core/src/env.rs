//! The two trading environments of an account and of an API base URL.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Env {
    Live,
    Paper,
}

impl Env {
    pub const fn as_str(self) -> &'static str {
        match self {
            Env::Live => "live",
            Env::Paper => "paper",
        }
    }
}

impl fmt::Display for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("env must be `live` or `paper`")]
pub struct InvalidEnv;

impl FromStr for Env {
    type Err = InvalidEnv;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "live" => Ok(Env::Live),
            "paper" => Ok(Env::Paper),
            _ => Err(InvalidEnv),
        }
    }
}
