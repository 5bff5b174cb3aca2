use async_trait::async_trait;
use paddock_core::ids::{BrokerId, BrokerKeyId};
use paddock_core::model::Broker;
use paddock_core::secret::Digest;
use paddock_core::store::{BrokerStore, Conflict, StoreError, StoreResult};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::{SqliteStore, backend, corrupt, parse_field, parse_ts, ts, write_error};

macro_rules! select_brokers {
    ($where:literal) => {
        concat!(
            "SELECT id, name, key_id, secret_digest, created_at FROM brokers WHERE ",
            $where
        )
    };
}

fn broker_from_row(row: &SqliteRow) -> StoreResult<Broker> {
    let key_id: String = row.try_get("key_id").map_err(backend)?;
    let digest: Vec<u8> = row.try_get("secret_digest").map_err(backend)?;
    Ok(Broker {
        id: parse_field("broker id", row.try_get("id").map_err(backend)?)?,
        name: row.try_get("name").map_err(backend)?,
        key_id: BrokerKeyId::parse(&key_id).map_err(|e| corrupt(e.to_string()))?,
        secret_digest: Digest::from_bytes(&digest)
            .ok_or_else(|| corrupt("broker secret digest".into()))?,
        created_at: parse_ts(row.try_get("created_at").map_err(backend)?)?,
    })
}

#[async_trait]
impl BrokerStore for SqliteStore {
    async fn create_broker(&self, broker: &Broker) -> StoreResult<()> {
        let mut tx = self.write().await?;
        let taken = sqlx::query("SELECT 1 FROM brokers WHERE id = $1")
            .bind(broker.id.to_string())
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?;
        if taken.is_some() {
            return Err(StoreError::Conflict(Conflict::IdTaken));
        }
        sqlx::query(
            "INSERT INTO brokers (id, name, key_id, secret_digest, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(broker.id.to_string())
        .bind(&broker.name)
        .bind(broker.key_id.as_str())
        .bind(&broker.secret_digest.as_bytes()[..])
        .bind(ts(broker.created_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| write_error(e, Conflict::BrokerKeyIdTaken))?;
        tx.commit().await
    }

    async fn broker(&self, id: BrokerId) -> StoreResult<Option<Broker>> {
        sqlx::query(select_brokers!("id = $1"))
            .bind(id.to_string())
            .fetch_optional(&self.reads)
            .await
            .map_err(backend)?
            .as_ref()
            .map(broker_from_row)
            .transpose()
    }

    async fn broker_by_key_id(&self, key_id: &BrokerKeyId) -> StoreResult<Option<Broker>> {
        sqlx::query(select_brokers!("key_id = $1"))
            .bind(key_id.as_str())
            .fetch_optional(&self.reads)
            .await
            .map_err(backend)?
            .as_ref()
            .map(broker_from_row)
            .transpose()
    }

    async fn brokers(&self) -> StoreResult<Vec<Broker>> {
        sqlx::query(select_brokers!("1 = 1 ORDER BY created_at, id"))
            .fetch_all(&self.reads)
            .await
            .map_err(backend)?
            .iter()
            .map(broker_from_row)
            .collect()
    }
}
