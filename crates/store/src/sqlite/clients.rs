use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paddock_core::ids::ClientId;
use paddock_core::model::{Client, ClientStatus};
use paddock_core::oauth::redirect::RedirectUri;
use paddock_core::secret::Digest;
use paddock_core::store::{ClientStore, Conflict, Invalidation, Missing, StoreResult};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::batch::Lent;

use super::nodes::log_invalidation;
use super::{SqliteStore, backend, corrupt, must_exist, parse_field, parse_ts, ts, write_error};

macro_rules! select_clients {
    ($rest:literal) => {
        concat!(
            "SELECT client_id, broker_id, secret_digest, name, description, url, terms_of_use, ",
            "privacy_policy, status, redirect_uris, live_trading_approved, created_at ",
            "FROM clients ",
            $rest
        )
    };
}

fn client_from_row(row: &SqliteRow) -> StoreResult<Client> {
    let client_id: String = row.try_get("client_id").map_err(backend)?;
    let digest: Vec<u8> = row.try_get("secret_digest").map_err(backend)?;
    let redirect_uris: String = row.try_get("redirect_uris").map_err(backend)?;
    let redirect_uris: Vec<RedirectUri> = serde_json::from_str(&redirect_uris)
        .map_err(|e| corrupt(format!("redirect URIs of client {client_id}: {e}")))?;
    Ok(Client {
        client_id: ClientId::parse(&client_id).map_err(|e| corrupt(e.to_string()))?,
        broker_id: parse_field("broker id", row.try_get("broker_id").map_err(backend)?)?,
        secret_digest: Digest::from_bytes(&digest)
            .ok_or_else(|| corrupt("client secret digest".into()))?,
        name: row.try_get("name").map_err(backend)?,
        description: row.try_get("description").map_err(backend)?,
        url: row.try_get("url").map_err(backend)?,
        terms_of_use: row.try_get("terms_of_use").map_err(backend)?,
        privacy_policy: row.try_get("privacy_policy").map_err(backend)?,
        status: parse_field("client status", row.try_get("status").map_err(backend)?)?,
        redirect_uris,
        live_trading_approved: row.try_get("live_trading_approved").map_err(backend)?,
        created_at: parse_ts(row.try_get("created_at").map_err(backend)?)?,
    })
}

#[async_trait]
impl ClientStore for SqliteStore {
    async fn create_client(&self, client: &Client) -> StoreResult<()> {
        let redirect_uris = serde_json::to_string(&client.redirect_uris)
            .map_err(|e| corrupt(format!("redirect URIs: {e}")))?;
        let mut tx = self.write().await?;
        must_exist(
            &mut tx,
            "SELECT 1 FROM brokers WHERE id = $1",
            client.broker_id.to_string(),
            Missing::Broker,
        )
        .await?;
        sqlx::query(
            "INSERT INTO clients (client_id, broker_id, secret_digest, name, description, url, \
             terms_of_use, privacy_policy, status, redirect_uris, live_trading_approved, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(client.client_id.as_str())
        .bind(client.broker_id.to_string())
        .bind(&client.secret_digest.as_bytes()[..])
        .bind(&client.name)
        .bind(&client.description)
        .bind(&client.url)
        .bind(&client.terms_of_use)
        .bind(&client.privacy_policy)
        .bind(client.status.as_str())
        .bind(redirect_uris)
        .bind(client.live_trading_approved)
        .bind(ts(client.created_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| write_error(e, Conflict::IdTaken))?;
        tx.commit().await
    }

    async fn client(&self, id: &ClientId) -> StoreResult<Option<Client>> {
        sqlx::query(select_clients!("WHERE client_id = $1"))
            .bind(id.as_str())
            .fetch_optional(&self.reads)
            .await
            .map_err(backend)?
            .as_ref()
            .map(client_from_row)
            .transpose()
    }

    async fn clients(&self) -> StoreResult<Vec<Client>> {
        sqlx::query(select_clients!("ORDER BY created_at, client_id"))
            .fetch_all(&self.reads)
            .await
            .map_err(backend)?
            .iter()
            .map(client_from_row)
            .collect()
    }

    async fn set_client_status(
        &self,
        id: &ClientId,
        status: ClientStatus,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut tx = self.write().await?;
        let done = sqlx::query("UPDATE clients SET status = $1 WHERE client_id = $2")
            .bind(status.as_str())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        logged_client_change(tx, id, done.rows_affected(), now).await
    }

    async fn set_client_secret(
        &self,
        id: &ClientId,
        digest: &Digest,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut tx = self.write().await?;
        let done = sqlx::query("UPDATE clients SET secret_digest = $1 WHERE client_id = $2")
            .bind(&digest.as_bytes()[..])
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        logged_client_change(tx, id, done.rows_affected(), now).await
    }
}

/// Finishes a change of one client: logs it for every node and commits; `false` (and
/// nothing written) when there was no such client.
async fn logged_client_change(
    mut tx: Lent,
    id: &ClientId,
    changed: u64,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    if changed == 0 {
        return Ok(false);
    }
    log_invalidation(&mut tx, &Invalidation::Client(id.clone()), now).await?;
    tx.commit().await?;
    Ok(true)
}
