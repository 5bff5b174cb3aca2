use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paddock_core::ids::{AccountId, UserId};
use paddock_core::model::{Account, User};
use paddock_core::money::{from_nanos, to_nanos};
use paddock_core::password::{Email, PasswordHash};
use paddock_core::store::{AccountStore, Conflict, Missing, StoreError, StoreResult, UserStore};
use paddock_core::trading::config::{AccountConfig, CheckWhen, ConfirmEmail};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection, SqliteExecutor};

use super::trading::wire;

use super::{SqliteStore, backend, corrupt, must_exist, parse_field, parse_ts, ts, write_error};

macro_rules! select_users {
    ($where:literal) => {
        concat!(
            "SELECT id, email, password_hash, created_at FROM users WHERE ",
            $where
        )
    };
}

macro_rules! select_accounts {
    ($where:literal) => {
        concat!(
            "SELECT id, user_id, broker_id, env, account_number, cash_nanos, created_at ",
            "FROM accounts WHERE ",
            $where
        )
    };
}

pub(super) fn user_from_row(row: &SqliteRow) -> StoreResult<User> {
    let email: String = row.try_get("email").map_err(backend)?;
    Ok(User {
        id: parse_field("user id", row.try_get("id").map_err(backend)?)?,
        email: Email::parse(&email).map_err(|e| corrupt(e.to_string()))?,
        password_hash: PasswordHash::from_stored(row.try_get("password_hash").map_err(backend)?),
        created_at: parse_ts(row.try_get("created_at").map_err(backend)?)?,
    })
}

fn account_from_row(row: &SqliteRow) -> StoreResult<Account> {
    Ok(Account {
        id: parse_field("account id", row.try_get("id").map_err(backend)?)?,
        user_id: parse_field("user id", row.try_get("user_id").map_err(backend)?)?,
        broker_id: parse_field("broker id", row.try_get("broker_id").map_err(backend)?)?,
        env: parse_field("env", row.try_get("env").map_err(backend)?)?,
        account_number: row.try_get("account_number").map_err(backend)?,
        cash: from_nanos(row.try_get("cash_nanos").map_err(backend)?),
        created_at: parse_ts(row.try_get("created_at").map_err(backend)?)?,
    })
}

#[async_trait]
impl UserStore for SqliteStore {
    async fn create_user(&self, user: &User) -> StoreResult<()> {
        let mut tx = self.write().await?;
        let taken = sqlx::query("SELECT 1 FROM users WHERE id = $1")
            .bind(user.id.to_string())
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?;
        if taken.is_some() {
            return Err(StoreError::Conflict(Conflict::IdTaken));
        }
        sqlx::query(
            "INSERT INTO users (id, email, password_hash, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(user.id.to_string())
        .bind(user.email.as_str())
        .bind(user.password_hash.as_str())
        .bind(ts(user.created_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| write_error(e, Conflict::EmailTaken))?;
        tx.commit().await
    }

    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        sqlx::query(select_users!("id = $1"))
            .bind(id.to_string())
            .fetch_optional(&self.reads)
            .await
            .map_err(backend)?
            .as_ref()
            .map(user_from_row)
            .transpose()
    }

    async fn user_by_email(&self, email: &Email) -> StoreResult<Option<User>> {
        sqlx::query(select_users!("email = $1"))
            .bind(email.as_str())
            .fetch_optional(&self.reads)
            .await
            .map_err(backend)?
            .as_ref()
            .map(user_from_row)
            .transpose()
    }

    async fn users(&self) -> StoreResult<Vec<User>> {
        sqlx::query(select_users!("1 = 1 ORDER BY created_at, id"))
            .fetch_all(&self.reads)
            .await
            .map_err(backend)?
            .iter()
            .map(user_from_row)
            .collect()
    }
}

#[async_trait]
impl AccountStore for SqliteStore {
    async fn create_account(&self, account: &Account) -> StoreResult<()> {
        let cash = to_nanos(account.cash).map_err(|e| corrupt(format!("cash: {e}")))?;
        let mut tx = self.write().await?;
        let user = account.user_id.to_string();
        must_exist(
            &mut tx,
            "SELECT 1 FROM users WHERE id = $1",
            user.clone(),
            Missing::User,
        )
        .await?;
        must_exist(
            &mut tx,
            "SELECT 1 FROM brokers WHERE id = $1",
            account.broker_id.to_string(),
            Missing::Broker,
        )
        .await?;
        let clash = sqlx::query(
            "SELECT id = $1 AS same_id FROM accounts \
             WHERE id = $1 OR (user_id = $2 AND env = 'live' AND $3 = 'live')",
        )
        .bind(account.id.to_string())
        .bind(&user)
        .bind(account.env.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
        if let Some(row) = clash {
            let same_id: bool = row.try_get("same_id").map_err(backend)?;
            return Err(StoreError::Conflict(if same_id {
                Conflict::IdTaken
            } else {
                Conflict::LiveAccountExists
            }));
        }
        sqlx::query(
            "INSERT INTO accounts (id, user_id, broker_id, env, account_number, cash_nanos, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(account.id.to_string())
        .bind(&user)
        .bind(account.broker_id.to_string())
        .bind(account.env.as_str())
        .bind(&account.account_number)
        .bind(cash)
        .bind(ts(account.created_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| write_error(e, Conflict::AccountNumberTaken))?;
        tx.commit().await
    }

    async fn account(&self, id: AccountId) -> StoreResult<Option<Account>> {
        sqlx::query(select_accounts!("id = $1"))
            .bind(id.to_string())
            .fetch_optional(&self.reads)
            .await
            .map_err(backend)?
            .as_ref()
            .map(account_from_row)
            .transpose()
    }

    async fn accounts_of_user(&self, user: UserId) -> StoreResult<Vec<Account>> {
        sqlx::query(select_accounts!("user_id = $1 ORDER BY env, created_at"))
            .bind(user.to_string())
            .fetch_all(&self.reads)
            .await
            .map_err(backend)?
            .iter()
            .map(account_from_row)
            .collect()
    }

    async fn accounts(&self) -> StoreResult<Vec<Account>> {
        sqlx::query(select_accounts!("1 = 1 ORDER BY created_at, id"))
            .fetch_all(&self.reads)
            .await
            .map_err(backend)?
            .iter()
            .map(account_from_row)
            .collect()
    }

    async fn account_config(&self, id: AccountId) -> StoreResult<AccountConfig> {
        read_config(&self.reads, id).await
    }
}

/// Writes the account's configuration in the transaction `tx`.
pub(super) async fn write_config(
    tx: &mut SqliteConnection,
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
    .bind(id.to_string())
    .bind(config.dtbp_check.as_str())
    .bind(config.pdt_check.as_str())
    .bind(config.trade_confirm_email.as_str())
    .bind(config.suspend_trade)
    .bind(config.no_shorting)
    .bind(config.fractional_trading)
    .bind(config.ptp_no_exception_entry)
    .bind(config.max_options_trading_level.map(i64::from))
    .bind(ts(now))
    .execute(&mut *tx)
    .await
    .map_err(backend)?;
    Ok(())
}

/// The account's configuration, or the default when none was set.
pub(super) async fn read_config<'c>(
    executor: impl SqliteExecutor<'c>,
    account: AccountId,
) -> StoreResult<AccountConfig> {
    let Some(row) = sqlx::query(
        "SELECT dtbp_check, pdt_check, trade_confirm_email, suspend_trade, no_shorting, \
         fractional_trading, ptp_no_exception_entry, max_options_trading_level \
         FROM account_configs WHERE account_id = $1",
    )
    .bind(account.to_string())
    .fetch_optional(executor)
    .await
    .map_err(backend)?
    else {
        return Ok(AccountConfig::default());
    };
    let flag = |column: &str| -> StoreResult<bool> { row.try_get(column).map_err(backend) };
    let level: Option<i64> = row.try_get("max_options_trading_level").map_err(backend)?;
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
