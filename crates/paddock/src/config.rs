//! `paddock serve` settings: command-line flags, each with an environment variable.

use std::net::SocketAddr;

use chrono::Duration;
use url::Url;

#[derive(clap::Args, Clone, Debug)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "PADDOCK_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Seed (idempotently) a demo broker, user, accounts and client, and print
    /// everything needed to try the flows by hand. The demo credentials are public:
    /// never use --demo on a server others can reach.
    #[arg(long)]
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
    #[arg(long, env = "PADDOCK_TRUST_PROXY")]
    pub trust_proxy: bool,

    /// How long a browser stays signed in, in seconds.
    #[arg(
        long,
        env = "PADDOCK_SESSION_TTL_SECS",
        default_value_t = 12 * 3600,
        value_parser = clap::value_parser!(u32).range(60..)
    )]
    pub session_ttl_secs: u32,

    /// Lifetime of access tokens, in seconds. Unset (the default, as Alpaca's): tokens
    /// live until revoked.
    #[arg(
        long,
        env = "PADDOCK_TOKEN_TTL_SECS",
        value_parser = clap::value_parser!(u32).range(60..)
    )]
    pub token_ttl_secs: Option<u32>,
}

/// What the running server needs of its configuration.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The public base URL without a trailing slash, e.g. `http://127.0.0.1:8080`.
    pub issuer: String,
    pub code_ttl: Duration,
    pub token_ttl: Option<Duration>,
    pub session_ttl: Duration,
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
