//! From PostgreSQL's errors to the store's. A broken unique or foreign-key constraint
//! is recognised by its name (every one is named in the migration), so that one
//! statement does the write and its checks, with no read beforehand that a concurrent
//! writer could invalidate.

use paddock_core::store::{Conflict, Missing, StoreError};

/// The typed error a violation of `constraint` means, if it is one the store's writes
/// can break.
fn by_constraint(constraint: &str) -> Option<StoreError> {
    use StoreError::{Conflict as C, Missing as M};
    Some(match constraint {
        "brokers_pkey" | "users_pkey" | "accounts_pkey" | "clients_pkey" | "auth_codes_pkey"
        | "tokens_pkey" | "tokens_id_key" | "sessions_pkey" => C(Conflict::IdTaken),
        "brokers_key_id_key" => C(Conflict::BrokerKeyIdTaken),
        "users_email_key" => C(Conflict::EmailTaken),
        "accounts_one_live_per_user" => C(Conflict::LiveAccountExists),
        "orders_client_order_id_key" => C(Conflict::ClientOrderIdTaken),
        "orders_pkey" | "watchlists_pkey" => C(Conflict::IdTaken),
        "watchlists_name_key" => C(Conflict::WatchlistNameTaken),
        "watchlist_symbols_pkey" => C(Conflict::SymbolInWatchlist),
        "orders_account_id_fkey"
        | "positions_account_id_fkey"
        | "trade_events_account_id_fkey"
        | "account_configs_account_id_fkey"
        | "watchlists_account_id_fkey" => M(Missing::Account),
        "accounts_account_number_key" => C(Conflict::AccountNumberTaken),
        "accounts_user_id_fkey"
        | "auth_codes_user_id_fkey"
        | "tokens_user_id_fkey"
        | "sessions_user_id_fkey" => M(Missing::User),
        "accounts_broker_id_fkey" | "clients_broker_id_fkey" => M(Missing::Broker),
        "auth_codes_client_id_fkey" | "tokens_client_id_fkey" => M(Missing::Client),
        "auth_codes_live_account_id_fkey"
        | "auth_codes_paper_account_id_fkey"
        | "tokens_live_account_id_fkey"
        | "tokens_paper_account_id_fkey" => M(Missing::Account),
        _ => return None,
    })
}

/// A failed write: `Conflict` or `Missing` when it broke a constraint the store knows
/// by name, else as [`backend`].
pub(crate) fn write_error(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e
        && (db.is_unique_violation() || db.is_foreign_key_violation())
        && let Some(typed) = db.constraint().and_then(by_constraint)
    {
        return typed;
    }
    backend(e)
}

/// SQLSTATEs that mean the server cannot serve now but may soon: class 08 (connection
/// exception), and shutdown or start-up in progress.
fn is_unavailable_state(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03")
}

/// A database error: `Unavailable` when the database could not be reached in time
/// (the request may succeed later), else `Backend`.
pub(crate) fn backend(e: sqlx::Error) -> StoreError {
    let unavailable = match &e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|c| is_unavailable_state(&c)),
        _ => false,
    };
    if unavailable {
        StoreError::Unavailable(e.to_string())
    } else {
        StoreError::Backend(Box::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = include_str!("../../migrations/postgres/0001_schema.sql");

    /// The names the migration gives its unique indexes and constraints.
    fn named_in_schema() -> Vec<&'static str> {
        let words: Vec<&str> = SCHEMA.split_whitespace().collect();
        words
            .windows(2)
            .filter(|w| w[0] == "CONSTRAINT" || (w[0] == "INDEX" && !w[1].contains('(')))
            .map(|w| w[1])
            .collect()
    }

    #[test]
    fn every_named_constraint_of_a_store_write_is_mapped() {
        let names = named_in_schema();
        assert!(names.len() > 20, "{names:?}");
        // Neither is broken by a write: throttles insert with ON CONFLICT DO NOTHING,
        // invalidation sequence numbers come from an identity column.
        let unbreakable = ["throttles_pkey", "invalidations_pkey"];
        for name in names {
            let is_key = name.ends_with("_pkey")
                || name.ends_with("_key")
                || name.ends_with("_fkey")
                || name == "accounts_one_live_per_user";
            if is_key && !unbreakable.contains(&name) {
                assert!(by_constraint(name).is_some(), "{name} is not mapped");
            }
        }
    }

    #[test]
    fn each_constraint_means_what_sqlite_reports() {
        let conflict = |name| match by_constraint(name) {
            Some(StoreError::Conflict(c)) => Some(c),
            _ => None,
        };
        let missing = |name| match by_constraint(name) {
            Some(StoreError::Missing(m)) => Some(m),
            _ => None,
        };
        assert_eq!(conflict("users_email_key"), Some(Conflict::EmailTaken));
        assert_eq!(
            conflict("accounts_one_live_per_user"),
            Some(Conflict::LiveAccountExists)
        );
        assert_eq!(
            conflict("brokers_key_id_key"),
            Some(Conflict::BrokerKeyIdTaken)
        );
        assert_eq!(conflict("tokens_id_key"), Some(Conflict::IdTaken));
        assert_eq!(missing("accounts_user_id_fkey"), Some(Missing::User));
        assert_eq!(missing("clients_broker_id_fkey"), Some(Missing::Broker));
        assert_eq!(missing("tokens_client_id_fkey"), Some(Missing::Client));
        assert_eq!(
            missing("auth_codes_paper_account_id_fkey"),
            Some(Missing::Account)
        );
        assert!(by_constraint("some_other_check").is_none());
    }

    #[test]
    fn an_unreachable_database_is_unavailable() {
        assert!(matches!(
            backend(sqlx::Error::PoolTimedOut),
            StoreError::Unavailable(_)
        ));
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(matches!(
            backend(sqlx::Error::Io(refused)),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            backend(sqlx::Error::RowNotFound),
            StoreError::Backend(_)
        ));
        assert!(is_unavailable_state("08006"));
        assert!(is_unavailable_state("57P01"));
        assert!(!is_unavailable_state("23505"));
    }
}
