//! paddock's database backends. [`open`] picks one from a database URL, creates and
//! migrates the database, and hands back the core [`Store`] trait object that every
//! handler uses.

use std::path::PathBuf;
use std::sync::Arc;

use paddock_core::store::Store;

mod postgres;
mod sqlite;

pub use postgres::{PgOptions, PgStore};
pub use sqlite::SqliteStore;

/// Where the data lives: `postgres://…` for PostgreSQL, `sqlite://PATH` or a bare path
/// for SQLite (SPEC §4). Shown (`Display`, `Debug`) with any password replaced, so
/// that it can be logged.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(PostgresUrl),
}

/// A PostgreSQL connection URL, which may carry a password: [`PostgresUrl::expose`]
/// gives it whole to the driver; every other use sees `***` in its place.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresUrl(String);

impl PostgresUrl {
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with its password, if any, replaced by `***`, wherever it is given: in
    /// the user information or as a `password` query parameter.
    pub fn redacted(&self) -> String {
        let Ok(mut url) = url::Url::parse(&self.0) else {
            return "postgres://(a URL that does not parse)".to_owned();
        };
        if url.password().is_some() {
            let _ = url.set_password(Some("***"));
        }
        if url.query_pairs().any(|(key, _)| key == "password") {
            let pairs: Vec<(String, String)> = url
                .query_pairs()
                .map(|(key, value)| {
                    let value = if key == "password" {
                        "***".into()
                    } else {
                        value
                    };
                    (key.into_owned(), value.into_owned())
                })
                .collect();
            url.query_pairs_mut().clear().extend_pairs(pairs);
        }
        url.to_string()
    }
}

impl std::fmt::Display for PostgresUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl std::fmt::Debug for PostgresUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PostgresUrl({})", self.redacted())
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DatabaseUrl::Sqlite(path) => write!(f, "{}", path.display()),
            DatabaseUrl::Postgres(url) => url.fmt(f),
        }
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DatabaseUrl::Sqlite(path) => write!(f, "Sqlite({})", path.display()),
            DatabaseUrl::Postgres(url) => write!(f, "Postgres({url})"),
        }
    }
}

impl DatabaseUrl {
    pub fn parse(s: &str) -> Result<Self, OpenError> {
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return Ok(Self::Postgres(PostgresUrl(s.to_owned())));
        }
        let path = s
            .strip_prefix("sqlite://")
            .or_else(|| s.strip_prefix("sqlite:"))
            .unwrap_or(s);
        if path.is_empty() || path.contains("://") {
            return Err(OpenError::BadUrl);
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(
        "the database URL is neither a file path, sqlite://PATH, nor postgres://…; \
         give one of those to --database"
    )]
    BadUrl,
    #[error(
        "cannot create the database {path}: directory {dir} does not exist; create it, or \
         give another --database"
    )]
    MissingDirectory { path: String, dir: String },
    #[error("cannot open the database {path}: {reason}")]
    Connect { path: String, reason: String },
    #[error(
        "the database {path} has schema version {version}, newer than this paddock knows; \
         upgrade paddock to use it"
    )]
    NewerSchema { path: String, version: i64 },
    #[error("cannot migrate the database {path}: {reason}")]
    Migrate { path: String, reason: String },
}

/// Opens (creating and migrating when needed) the database `url` names. A PostgreSQL
/// database must exist; its tables are created in the first schema of the URL's
/// search path.
pub async fn open(url: &DatabaseUrl) -> Result<Arc<dyn Store>, OpenError> {
    open_with(url, PgOptions::ACQUIRE_TIMEOUT).await
}

/// [`open`], with how long a request may wait for a PostgreSQL connection before the
/// store answers `Unavailable` (SQLite, a local file, keeps its own lock timeout).
pub async fn open_with(
    url: &DatabaseUrl,
    timeout: std::time::Duration,
) -> Result<Arc<dyn Store>, OpenError> {
    match url {
        DatabaseUrl::Sqlite(path) => Ok(Arc::new(SqliteStore::open(path).await?)),
        DatabaseUrl::Postgres(url) => {
            let options = PgOptions {
                acquire_timeout: timeout,
                ..PgOptions::default()
            };
            Ok(Arc::new(PgStore::open(url, options).await?))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls() {
        assert_eq!(
            DatabaseUrl::parse("./paddock.db").unwrap(),
            DatabaseUrl::Sqlite("./paddock.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///tmp/x.db").unwrap(),
            DatabaseUrl::Sqlite("/tmp/x.db".into())
        );
        assert!(matches!(
            DatabaseUrl::parse("postgres://localhost/test").unwrap(),
            DatabaseUrl::Postgres(_)
        ));
        assert!(DatabaseUrl::parse("mysql://x").is_err());
    }

    #[test]
    fn a_postgres_password_is_never_shown() {
        for (url, shown) in [
            (
                "postgres://paddock:s3cr%40t@db.example:5432/paddock?sslmode=require",
                "postgres://paddock:***@db.example:5432/paddock?sslmode=require",
            ),
            (
                "postgres://postgres@127.0.0.1/test",
                "postgres://postgres@127.0.0.1/test",
            ),
            ("postgresql://u:p@h/d", "postgresql://u:***@h/d"),
            (
                "postgres://u@h/d?password=s3cret&sslmode=disable",
                "postgres://u@h/d?password=***&sslmode=disable",
            ),
        ] {
            let parsed = DatabaseUrl::parse(url).unwrap();
            assert_eq!(parsed.to_string(), shown);
            assert!(!format!("{parsed:?}").contains("s3cr"), "{parsed:?}");
        }
    }
}
