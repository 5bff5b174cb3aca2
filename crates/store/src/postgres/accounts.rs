use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paddock_core::ids::{AccountId, BrokerId, UserId};
use paddock_core::model::{Account, User};
use paddock_core::money::to_nanos;
use paddock_core::password::{Email, PasswordHash};
use paddock_core::store::{AccountStore, StoreResult, UserStore};
use paddock_core::trading::config::{AccountConfig, CheckWhen, ConfirmEmail};
use rust_decimal::Decimal;
use sqlx::postgres::PgRow;
use sqlx::{PgExecutor, Postgres, Row, Transaction};
use uuid::Uuid;

use super::trading::wire;
use super::{PgStore, backend, corrupt, parse_field, uuid, write_error};

macro_rules! select_users {
    ($rest:literal) => {
        concat!(
            "SELECT id, email, password_hash, created_at FROM users ",
            $rest
        )
    };
}

macro_rules! select_accounts {
    ($rest:literal) => {
        concat!(
            "SELECT id, user_id, broker_id, env, account_number, cash, created_at ",
            "FROM accounts ",
            $rest
        )
    };
}

pub(super) fn user_from_row(row: &PgRow) -> StoreResult<User> {
    let email: String = row.try_get("email").map_err(backend)?;
    Ok(User {
        id: UserId::from_uuid(row.try_get::<Uuid, _>("id").map_err(backend)?),
        email: Email::parse(&email).map_err(|e| corrupt(e.to_string()))?,
        password_hash: PasswordHash::from_stored(row.try_get("password_hash").map_err(backend)?),
        created_at: row.try_get("created_at").map_err(backend)?,
    })
}

fn account_from_row(row: &PgRow) -> StoreResult<Account> {
    let env: String = row.try_get("env").map_err(backend)?;
    let cash: Decimal = row.try_get("cash").map_err(backend)?;
    Ok(Account {
        id: AccountId::from_uuid(row.try_get::<Uuid, _>("id").map_err(backend)?),
        user_id: UserId::from_uuid(row.try_get::<Uuid, _>("user_id").map_err(backend)?),
        broker_id: BrokerId::from_uuid(row.try_get::<Uuid, _>("broker_id").map_err(backend)?),
        env: parse_field("env", &env)?,
        account_number: row.try_get("account_number").map_err(backend)?,
        // NUMERIC keeps the scale it was given; normalised, amounts read back as
        // they do from SQLite (`100000`, `2500.5`).
        cash: cash.normalize(),
        created_at: row.try_get("created_at").map_err(backend)?,
    })
}

#[async_trait]
impl UserStore for PgStore {
    async fn create_user(&self, user: &User) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO users (id, email, password_hash, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(uuid(user.id)?)
        .bind(user.email.as_str())
        .bind(user.password_hash.as_str())
        .bind(user.created_at)
        .execute(&self.pool)
        .await
        .map_err(write_error)?;
        Ok(())
    }

    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        sqlx::query(select_users!("WHERE id = $1"))
            .bind(uuid(id)?)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?
            .as_ref()
            .map(user_from_row)
            .transpose()
    }

    async fn user_by_email(&self, email: &Email) -> StoreResult<Option<User>> {
        sqlx::query(select_users!("WHERE email = $1"))
            .bind(email.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?
            .as_ref()
            .map(user_from_row)
            .transpose()
    }

    async fn users(&self) -> StoreResult<Vec<User>> {
        sqlx::query(select_users!("ORDER BY created_at, id"))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?
            .iter()
            .map(user_from_row)
            .collect()
    }
}

#[async_trait]
impl AccountStore for PgStore {
    async fn create_account(&self, account: &Account) -> StoreResult<()> {
        // The same bound as SQLite's billionths, so that an amount one backend refuses
        // the other refuses too.
        to_nanos(account.cash).map_err(|e| corrupt(format!("cash: {e}")))?;
        // One statement: the unique indexes (id, one live account per user, account
        // number, checked in that order) and the foreign keys (user, then broker) name
        // what the insert broke.
        sqlx::query(
            "INSERT INTO accounts (id, user_id, broker_id, env, account_number, cash, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(uuid(account.id)?)
        .bind(uuid(account.user_id)?)
        .bind(uuid(account.broker_id)?)
        .bind(account.env.as_str())
        .bind(&account.account_number)
        .bind(account.cash)
        .bind(account.created_at)
        .execute(&self.pool)
        .await
        .map_err(write_error)?;
        Ok(())
    }

    async fn account(&self, id: AccountId) -> StoreResult<Option<Account>> {
        sqlx::query(select_accounts!("WHERE id = $1"))
            .bind(uuid(id)?)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?
            .as_ref()
            .map(account_from_row)
            .transpose()
    }

    async fn accounts_of_user(&self, user: UserId) -> StoreResult<Vec<Account>> {
        sqlx::query(select_accounts!(
            "WHERE user_id = $1 ORDER BY env, created_at"
        ))
        .bind(uuid(user)?)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?
        .iter()
        .map(account_from_row)
        .collect()
    }

    async fn accounts(&self) -> StoreResult<Vec<Account>> {
        sqlx::query(select_accounts!("ORDER BY created_at, id"))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?
            .iter()
            .map(account_from_row)
            .collect()
    }

    async fn account_config(&self, id: AccountId) -> StoreResult<AccountConfig> {
        read_config(&self.pool, id).await
    }
}

/// Writes the account's configuration in the transaction `tx`; `Missing` when the
/// account does not exist.
pub(super) async fn write_config(
    tx: &mut Transaction<'static, Postgres>,
    id: AccountId,
    config: &AccountConfig,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO account_configs (account_id, dtbp_check, pdt_check, \
             trade_confirm_email, suspend_trade, no_shorting, fractional_trading, \
             ptp_no_exception_entry, max_options_trading_level, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (account_id) DO UPDATE \
             SET dtbp_check = $2, pdt_check = $3, trade_confirm_email = $4, suspend_trade = $5, \
             no_shorting = $6, fractional_trading = $7, ptp_no_exception_entry = $8, \
             max_options_trading_level = $9, updated_at = $10",
    )
    .bind(id.as_uuid())
    .bind(config.dtbp_check.as_str())
    .bind(config.pdt_check.as_str())
    .bind(config.trade_confirm_email.as_str())
    .bind(config.suspend_trade)
    .bind(config.no_shorting)
    .bind(config.fractional_trading)
    .bind(config.ptp_no_exception_entry)
    .bind(config.max_options_trading_level.map(i16::from))
    .bind(now)
    .execute(&mut **tx)
    .await
    .map_err(write_error)?;
    Ok(())
}

/// The account's configuration, or the default when none was set.
pub(super) async fn read_config<'c>(
    executor: impl PgExecutor<'c>,
    account: AccountId,
) -> StoreResult<AccountConfig> {
    let Some(row) = sqlx::query(
        "SELECT dtbp_check, pdt_check, trade_confirm_email, suspend_trade, no_shorting, \
         fractional_trading, ptp_no_exception_entry, max_options_trading_level \
         FROM account_configs WHERE account_id = $1",
    )
    .bind(account.as_uuid())
    .fetch_optional(executor)
    .await
    .map_err(backend)?
    else {
        return Ok(AccountConfig::default());
    };
    let flag = |column: &str| -> StoreResult<bool> { row.try_get(column).map_err(backend) };
    let level: Option<i16> = row.try_get("max_options_trading_level").map_err(backend)?;
    Ok(AccountConfig {
        dtbp_check: wire(&row, "dtbp_check", CheckWhen::parse)?,
        pdt_check: wire(&row, "pdt_check", CheckWhen::parse)?,
        trade_confirm_email: wire(&row, "trade_confirm_email", ConfirmEmail::parse)?,
        suspend_trade: flag("suspend_trade")?,
        no_shorting: flag("no_shorting")?,
        fractional_trading: flag("fractional_trading")?,
        ptp_no_exception_entry: flag("ptp_no_exception_entry")?,
        max_options_trading_level: level
            .map(|l| u8::try_from(l).map_err(|_| corrupt(format!("options level {l}"))))
            .transpose()?,
    })
}
