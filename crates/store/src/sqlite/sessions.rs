use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paddock_core::ids::UserId;
use paddock_core::model::User;
use paddock_core::secret::Digest;
use paddock_core::store::{Conflict, SessionStore, StoreResult};

use super::accounts::user_from_row;
use super::{SqliteStore, backend, ts, write_error};

#[async_trait]
impl SessionStore for SqliteStore {
    async fn create_session(
        &self,
        digest: &Digest,
        user: UserId,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let insert = sqlx::query(
            "INSERT INTO sessions (digest, user_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&digest.as_bytes()[..])
        .bind(user.to_string())
        .bind(ts(created_at))
        .bind(ts(expires_at));
        self.write_one(insert, |e| write_error(e, Conflict::IdTaken))
            .await?;
        Ok(())
    }

    async fn session_user(&self, digest: &Digest, now: DateTime<Utc>) -> StoreResult<Option<User>> {
        sqlx::query(
            "SELECT u.id, u.email, u.password_hash, u.created_at \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.digest = $1 AND s.expires_at > $2",
        )
        .bind(&digest.as_bytes()[..])
        .bind(ts(now))
        .fetch_optional(&self.reads)
        .await
        .map_err(backend)?
        .as_ref()
        .map(user_from_row)
        .transpose()
    }

    async fn delete_session(&self, digest: &Digest) -> StoreResult<()> {
        let delete =
            sqlx::query("DELETE FROM sessions WHERE digest = $1").bind(&digest.as_bytes()[..]);
        self.write_one(delete, backend).await?;
        Ok(())
    }

    async fn purge_sessions(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let delete = sqlx::query("DELETE FROM sessions WHERE expires_at < $1").bind(ts(before));
        let done = self.write_one(delete, backend).await?;
        Ok(done.rows_affected())
    }
}
