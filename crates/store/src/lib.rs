//! paddock's database backends. [`open`] picks one from a database URL, creates and
//! migrates the database, and hands back the core [`Store`] trait object that every
//! handler uses.

use std::path::PathBuf;
use std::sync::Arc;

use paddock_core::store::Store;

mod sqlite;

pub use sqlite::SqliteStore;

/// Where the data lives: `postgres://…` for PostgreSQL, `sqlite://PATH` or a bare path
/// for SQLite (SPEC §4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(s: &str) -> Result<Self, OpenError> {
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return Ok(Self::Postgres(s.to_owned()));
        }
        let path = s
            .strip_prefix("sqlite://")
            .or_else(|| s.strip_prefix("sqlite:"))
            .unwrap_or(s);
        if path.is_empty() || path.contains("://") {
            return Err(OpenError::BadUrl(s.to_owned()));
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("database URL `{0}` is neither a file path, sqlite://PATH, nor postgres://…")]
    BadUrl(String),
    #[error("PostgreSQL is not supported by this build of paddock yet; use a SQLite path")]
    PostgresUnsupported,
    #[error(
        "cannot create the database {path}: directory {dir} does not exist; create it, or \
         give another --database"
    )]
    MissingDirectory { path: String, dir: String },
    #[error("cannot open the database {path}: {reason}; check the path and its permissions")]
    Connect { path: String, reason: String },
    #[error(
        "the database {path} has schema version {version}, newer than this paddock knows; \
         upgrade paddock to use it"
    )]
    NewerSchema { path: String, version: i64 },
    #[error("cannot migrate the database {path}: {reason}")]
    Migrate { path: String, reason: String },
}

/// Opens (creating and migrating when needed) the database `url` names.
pub async fn open(url: &DatabaseUrl) -> Result<Arc<dyn Store>, OpenError> {
    match url {
        DatabaseUrl::Sqlite(path) => Ok(Arc::new(SqliteStore::open(path).await?)),
        DatabaseUrl::Postgres(_) => Err(OpenError::PostgresUnsupported),
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
}
