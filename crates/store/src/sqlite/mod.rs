//! The SQLite backend: one file, WAL journal, migrations embedded and applied at open.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use paddock_core::store::{Store, StoreError, StoreResult};
use sqlx::SqlitePool;
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::OpenError;

mod accounts;
mod brokers;
mod clients;
mod grants;
mod sessions;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    pub async fn open(path: &Path) -> Result<Self, OpenError> {
        let shown = path.display().to_string();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.is_dir()
        {
            return Err(OpenError::MissingDirectory {
                path: shown,
                dir: dir.display().to_string(),
            });
        }
        // Pragmas go in the connect options, so that every pooled connection has them.
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .map_err(|e| OpenError::Connect {
                path: shown.clone(),
                reason: e.to_string(),
            })?;
        MIGRATOR.run(&pool).await.map_err(|e| match e {
            // A migration the database has but this binary does not: a newer paddock
            // wrote it.
            MigrateError::VersionMissing(version) => OpenError::NewerSchema {
                path: shown.clone(),
                version,
            },
            other => OpenError::Migrate {
                path: shown.clone(),
                reason: other.to_string(),
            },
        })?;
        Ok(Self { pool })
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

/// Timestamps are stored as fixed-width RFC 3339 text in UTC, so that comparing the
/// text in SQL compares the instants.
fn ts(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_ts(text: &str) -> StoreResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| corrupt(format!("timestamp `{text}`: {e}")))
}

fn parse_opt_ts(text: Option<String>) -> StoreResult<Option<DateTime<Utc>>> {
    text.as_deref().map(parse_ts).transpose()
}

fn parse_field<T: FromStr>(what: &str, text: &str) -> StoreResult<T>
where
    T::Err: std::fmt::Display,
{
    text.parse()
        .map_err(|e| corrupt(format!("{what} `{text}`: {e}")))
}

fn corrupt(message: String) -> StoreError {
    StoreError::Backend(format!("unreadable row: {message}").into())
}

fn backend(e: sqlx::Error) -> StoreError {
    StoreError::Backend(Box::new(e))
}

/// Maps constraint violations to the store's error kinds; `unique` names the rule a
/// unique violation breaks, `missing` what a foreign-key violation means.
fn write_error(e: sqlx::Error, unique: &str, missing: &str) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        if db.is_unique_violation() {
            return StoreError::Conflict(unique.to_owned());
        }
        if db.is_foreign_key_violation() {
            return StoreError::Missing(missing.to_owned());
        }
    }
    backend(e)
}
