use async_trait::async_trait;
use paddock_core::ids::{BrokerId, BrokerKeyId};
use paddock_core::model::Broker;
use paddock_core::store::{BrokerStore, StoreResult};
use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;

use super::{PgStore, backend, corrupt, digest_from, uuid, write_error};

macro_rules! select_brokers {
    ($rest:literal) => {
        concat!(
            "SELECT id, name, key_id, secret_digest, created_at FROM brokers ",
            $rest
        )
    };
}

fn broker_from_row(row: &PgRow) -> StoreResult<Broker> {
    let key_id: String = row.try_get("key_id").map_err(backend)?;
    let digest: Vec<u8> = row.try_get("secret_digest").map_err(backend)?;
    Ok(Broker {
        id: BrokerId::from_uuid(row.try_get::<Uuid, _>("id").map_err(backend)?),
        name: row.try_get("name").map_err(backend)?,
        key_id: BrokerKeyId::parse(&key_id).map_err(|e| corrupt(e.to_string()))?,
        secret_digest: digest_from("broker secret digest", &digest)?,
        created_at: row.try_get("created_at").map_err(backend)?,
    })
}

#[async_trait]
impl BrokerStore for PgStore {
    async fn create_broker(&self, broker: &Broker) -> StoreResult<()> {
        // The primary key is checked before the key id (its index is older), so a
        // taken id is reported first, as on SQLite.
        sqlx::query(
            "INSERT INTO brokers (id, name, key_id, secret_digest, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(uuid(broker.id)?)
        .bind(&broker.name)
        .bind(broker.key_id.as_str())
        .bind(&broker.secret_digest.as_bytes()[..])
        .bind(broker.created_at)
        .execute(&self.pool)
        .await
        .map_err(write_error)?;
        Ok(())
    }

    async fn broker(&self, id: BrokerId) -> StoreResult<Option<Broker>> {
        sqlx::query(select_brokers!("WHERE id = $1"))
            .bind(uuid(id)?)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?
            .as_ref()
            .map(broker_from_row)
            .transpose()
    }

    async fn broker_by_key_id(&self, key_id: &BrokerKeyId) -> StoreResult<Option<Broker>> {
        sqlx::query(select_brokers!("WHERE key_id = $1"))
            .bind(key_id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?
            .as_ref()
            .map(broker_from_row)
            .transpose()
    }

    async fn brokers(&self) -> StoreResult<Vec<Broker>> {
        sqlx::query(select_brokers!("ORDER BY created_at, id"))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?
            .iter()
            .map(broker_from_row)
            .collect()
    }
}
