//! `paddock serve` settings: command-line flags, each with an environment variable, and
//! an optional TOML file (`--config`). Precedence: flag > environment > file > default.
//! The file's values become the flags' defaults before the command line is parsed, so
//! that clap checks them exactly as it checks flags.

use std::net::SocketAddr;
use std::path::Path;

use chrono::Duration;
use clap::ArgAction;
use paddock_core::trading::clock::{MarketClock, MarketMode};
use paddock_core::trading::walk::Walk;
use serde::{Deserialize, Serialize};
use url::Url;

#[derive(clap::Args, Clone, Debug)]
pub struct ServeArgs {
    /// The paper market's hours: `nyse` (regular hours and holidays, New York time) or
    /// `always-open`, for trying things at any hour. Default: `always-open` with
    /// `--demo`, else `nyse`.
    #[arg(long, env = "PADDOCK_MARKET")]
    pub market: Option<MarketMode>,

    /// Move every price by a seeded random walk (at most 0.2% a tick); the same seed
    /// from the same prices gives the same path. Off unless given.
    #[arg(long, env = "PADDOCK_PRICE_WALK_SEED")]
    pub price_walk_seed: Option<u64>,

    /// Seconds between the walk's ticks.
    #[arg(
        long,
        env = "PADDOCK_PRICE_WALK_SECS",
        default_value_t = 5,
        value_parser = clap::value_parser!(u32).range(1..=86_400)
    )]
    pub price_walk_secs: u32,

    /// Log lines as text (coloured only on a terminal) or as one JSON object each.
    #[arg(long, env = "PADDOCK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Address to listen on.
    #[arg(long, env = "PADDOCK_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Seed (idempotently) a demo broker, user, accounts and client, and print
    /// everything needed to try the flows by hand. The demo credentials are public:
    /// never use --demo on a server others can reach. `--demo=false` turns off a
    /// `demo = true` of the settings file.
    #[arg(long, action = ArgAction::Set, num_args = 0..=1, require_equals = true,
          default_value = "false", default_missing_value = "true")]
    pub demo: bool,

    /// The server's public base URL, as clients and browsers reach it: the OAuth
    /// issuer (`iss`) and the base of every printed URL. Default: http://LISTEN.
    #[arg(long, env = "PADDOCK_ISSUER")]
    pub issuer: Option<Url>,

    /// How long an authorization code stays redeemable, in seconds (at most 600).
    #[arg(
        long,
        env = "PADDOCK_CODE_TTL_SECS",
        default_value_t = 600,
        value_parser = clap::value_parser!(u32).range(1..=600)
    )]
    pub code_ttl_secs: u32,

    /// Behind a reverse proxy: take the client's IP address (for login throttling)
    /// from the last `X-Forwarded-For` entry, which the proxy appends. Only set this
    /// when every request comes through a proxy that does so; otherwise anyone could
    /// claim any address.
    #[arg(long, env = "PADDOCK_TRUST_PROXY", action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_value = "false", default_missing_value = "true")]
    pub trust_proxy: bool,

    /// How long a browser stays signed in, in seconds.
    #[arg(
        long,
        env = "PADDOCK_SESSION_TTL_SECS",
        default_value_t = 12 * 3600,
        value_parser = clap::value_parser!(u32).range(60..)
    )]
    pub session_ttl_secs: u32,

    /// How long a request waits for PostgreSQL (a pooled connection) before it is
    /// answered 503, in seconds; a database that went away costs a request this long
    /// at most.
    #[arg(
        long,
        env = "PADDOCK_DATABASE_TIMEOUT_SECS",
        default_value_t = 5,
        value_parser = clap::value_parser!(u32).range(1..=300)
    )]
    pub database_timeout_secs: u32,

    /// Lifetime of access tokens, in seconds. Unset (the default, as Alpaca's): tokens
    /// live until revoked.
    #[arg(
        long,
        env = "PADDOCK_TOKEN_TTL_SECS",
        value_parser = clap::value_parser!(u32).range(60..)
    )]
    pub token_ttl_secs: Option<u32>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl LogFormat {
    fn as_str(self) -> &'static str {
        match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        }
    }
}

/// A `--config` file: every `serve` setting, under the flag's name, all optional; its
/// `database` applies to every command.
/// Unknown keys are refused, so that a typo does not silently leave a default in place.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConfigFile {
    pub database: Option<String>,
    pub listen: Option<String>,
    pub demo: Option<bool>,
    pub issuer: Option<String>,
    pub code_ttl_secs: Option<u32>,
    pub trust_proxy: Option<bool>,
    pub session_ttl_secs: Option<u32>,
    pub token_ttl_secs: Option<u32>,
    pub database_timeout_secs: Option<u32>,
    pub market: Option<String>,
    pub price_walk_seed: Option<u64>,
    pub price_walk_secs: Option<u32>,
    pub log_format: Option<LogFormat>,
}

impl ConfigFile {
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            anyhow::anyhow!(
                "cannot read the config file {}: {e}; check the path given to --config",
                path.display()
            )
        })?;
        basic_toml::from_str(&text).map_err(|e| {
            let e = e.to_string().replace('\n', " ");
            anyhow::anyhow!(
                "the config file {} is not valid: {e}; its keys are the names of \
                 `paddock serve`'s flags, e.g. `listen = \"127.0.0.1:8080\"`",
                path.display()
            )
        })
    }

    /// The file's values as (argument id, value) pairs: the global `database`, then the
    /// `serve` arguments, named as clap names them (the field names of [`ServeArgs`]).
    pub fn values(&self) -> (Option<String>, Vec<(&'static str, String)>) {
        let serve = [
            ("listen", self.listen.clone()),
            ("demo", self.demo.map(|b| b.to_string())),
            ("issuer", self.issuer.clone()),
            ("code_ttl_secs", self.code_ttl_secs.map(|n| n.to_string())),
            ("trust_proxy", self.trust_proxy.map(|b| b.to_string())),
            (
                "session_ttl_secs",
                self.session_ttl_secs.map(|n| n.to_string()),
            ),
            ("token_ttl_secs", self.token_ttl_secs.map(|n| n.to_string())),
            (
                "database_timeout_secs",
                self.database_timeout_secs.map(|n| n.to_string()),
            ),
            ("market", self.market.clone()),
            (
                "price_walk_seed",
                self.price_walk_seed.map(|n| n.to_string()),
            ),
            (
                "price_walk_secs",
                self.price_walk_secs.map(|n| n.to_string()),
            ),
            ("log_format", self.log_format.map(|f| f.as_str().to_owned())),
        ];
        let serve = serve
            .into_iter()
            .filter_map(|(id, value)| value.map(|v| (id, v)))
            .collect();
        (self.database.clone(), serve)
    }

    /// `command` (the whole `paddock` command) with this file's values as the defaults
    /// of the matching arguments: what a flag or an environment variable does not set,
    /// the file does.
    pub fn apply(&self, command: clap::Command) -> clap::Command {
        let (database, serve) = self.values();
        let command = match database {
            Some(url) => command.mut_arg("database", |a| a.default_value(url)),
            None => command,
        };
        command.mut_subcommand("serve", |mut sub| {
            for (id, value) in serve {
                sub = sub.mut_arg(id, |a| a.default_value(value));
            }
            sub
        })
    }
}

/// What the running server needs of its configuration.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The public base URL without a trailing slash, e.g. `http://127.0.0.1:8080`.
    pub issuer: String,
    pub code_ttl: Duration,
    pub token_ttl: Option<Duration>,
    pub session_ttl: Duration,
    /// The paper market's hours.
    pub market: MarketClock,
    /// The random walk of prices, if on.
    pub walk: Option<Walk>,
    /// Whether the client IP comes from `X-Forwarded-For` (see `--trust-proxy`).
    pub trust_proxy: bool,
    /// How often the tokens' last-use times, gathered in memory, are written.
    pub usage_flush_every: std::time::Duration,
}

impl Settings {
    /// Whether cookies carry `Secure` (and the `__Host-` prefix): when the issuer is an
    /// https URL, the server is reached through TLS.
    pub fn secure_cookies(&self) -> bool {
        self.issuer.starts_with("https://")
    }

    /// Settings for a server reachable at `issuer`, with the defaults of `serve`.
    pub fn new(issuer: &str) -> Self {
        Self {
            issuer: issuer.trim_end_matches('/').to_owned(),
            code_ttl: Duration::minutes(10),
            token_ttl: None,
            session_ttl: Duration::hours(12),
            market: MarketClock::new(MarketMode::Nyse),
            walk: None,
            trust_proxy: false,
            usage_flush_every: std::time::Duration::from_secs(15),
        }
    }
}

impl ServeArgs {
    pub fn settings(&self) -> anyhow::Result<Settings> {
        let issuer = match &self.issuer {
            Some(url) => url.as_str().to_owned(),
            // `http://0.0.0.0:8080` is no address a client can use, and clients that
            // check `iss` (RFC 9207) would refuse every authorization response.
            None if self.listen.ip().is_unspecified() => anyhow::bail!(
                "--listen {} listens on every interface: also give --issuer, the URL \
                 clients and browsers use to reach this server",
                self.listen
            ),
            None => format!("http://{}", self.listen),
        };
        Ok(Settings {
            code_ttl: Duration::seconds(i64::from(self.code_ttl_secs)),
            token_ttl: self.token_ttl_secs.map(|s| Duration::seconds(i64::from(s))),
            session_ttl: Duration::seconds(i64::from(self.session_ttl_secs)),
            trust_proxy: self.trust_proxy,
            market: MarketClock::new(self.market.unwrap_or(if self.demo {
                MarketMode::AlwaysOpen
            } else {
                MarketMode::Nyse
            })),
            walk: self.price_walk_seed.map(|seed| Walk {
                seed,
                every: Duration::seconds(i64::from(self.price_walk_secs)),
            }),
            ..Settings::new(&issuer)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_secure_when_the_issuer_is_https() {
        assert!(Settings::new("https://auth.example.com").secure_cookies());
        assert!(!Settings::new("http://127.0.0.1:8080").secure_cookies());
    }
}
