//! An account's trading configuration (`/v2/account/configurations`): Alpaca's
//! settings, with what the paper brokerage makes of each. It is a cash brokerage
//! that does not sell short, so the margin multiplier is 1 and `no_shorting` stays
//! true; `suspend_trade` refuses new orders and `fractional_trading` fractional ones.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::ids::AccountId;
use crate::store::{Store, StoreError};
use crate::trading::orders::wire_enum;

wire_enum!(
    /// When a day-trading check applies: `dtbp_check` and `pdt_check`.
    CheckWhen { Both = "both", Entry = "entry", Exit = "exit" }
);

wire_enum!(
    /// `trade_confirm_email`.
    ConfirmEmail { All = "all", None = "none" }
);

/// The highest options trading level Alpaca knows.
pub const MAX_OPTIONS_LEVEL: u8 = 3;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountConfig {
    pub dtbp_check: CheckWhen,
    pub pdt_check: CheckWhen,
    pub trade_confirm_email: ConfirmEmail,
    pub suspend_trade: bool,
    pub no_shorting: bool,
    pub fractional_trading: bool,
    pub ptp_no_exception_entry: bool,
    pub max_options_trading_level: Option<u8>,
}

impl Default for AccountConfig {
    fn default() -> Self {
        Self {
            dtbp_check: CheckWhen::Entry,
            pdt_check: CheckWhen::Entry,
            trade_confirm_email: ConfirmEmail::All,
            suspend_trade: false,
            no_shorting: true,
            fractional_trading: true,
            ptp_no_exception_entry: false,
            max_options_trading_level: None,
        }
    }
}

impl AccountConfig {
    /// The margin multiplier: a paper account here is a cash account.
    pub const MARGIN_MULTIPLIER: Decimal = Decimal::ONE;
}

/// A change to the configuration: `None` leaves a setting as it is (alpaca-py sends
/// the whole object, with nulls for what it does not change).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigPatch {
    pub dtbp_check: Option<CheckWhen>,
    pub pdt_check: Option<CheckWhen>,
    pub trade_confirm_email: Option<ConfirmEmail>,
    pub suspend_trade: Option<bool>,
    pub no_shorting: Option<bool>,
    pub fractional_trading: Option<bool>,
    pub ptp_no_exception_entry: Option<bool>,
    pub max_margin_multiplier: Option<Decimal>,
    /// `Some(None)` clears the level.
    pub max_options_trading_level: Option<Option<u8>>,
}

impl ConfigPatch {
    /// `config` with this patch applied, or why not (a setting the paper brokerage
    /// cannot honour is refused rather than stored and ignored).
    pub fn apply(&self, config: &AccountConfig) -> Result<AccountConfig, String> {
        if let Some(multiplier) = self.max_margin_multiplier
            && multiplier != AccountConfig::MARGIN_MULTIPLIER
        {
            return Err(
                "max_margin_multiplier must be 1: paddock's paper accounts are cash accounts"
                    .into(),
            );
        }
        if self.no_shorting == Some(false) {
            return Err(
                "no_shorting must be true: paddock's paper brokerage does not sell short".into(),
            );
        }
        if let Some(Some(level)) = self.max_options_trading_level
            && level > MAX_OPTIONS_LEVEL
        {
            return Err(format!(
                "max_options_trading_level must be 0 to {MAX_OPTIONS_LEVEL}"
            ));
        }
        Ok(AccountConfig {
            dtbp_check: self.dtbp_check.unwrap_or(config.dtbp_check),
            pdt_check: self.pdt_check.unwrap_or(config.pdt_check),
            trade_confirm_email: self
                .trade_confirm_email
                .unwrap_or(config.trade_confirm_email),
            suspend_trade: self.suspend_trade.unwrap_or(config.suspend_trade),
            no_shorting: true,
            fractional_trading: self.fractional_trading.unwrap_or(config.fractional_trading),
            ptp_no_exception_entry: self
                .ptp_no_exception_entry
                .unwrap_or(config.ptp_no_exception_entry),
            max_options_trading_level: self
                .max_options_trading_level
                .unwrap_or(config.max_options_trading_level),
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A setting the patch cannot make: 422, with what to change.
    #[error("{0}")]
    Invalid(String),
    #[error("the account does not exist")]
    Missing,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Applies `patch` to the account's configuration in one unit of work (the account
/// locked, so that concurrent patches of different settings both land), and tells
/// every node. Returns the configuration now.
pub async fn update(
    store: &dyn Store,
    account: AccountId,
    patch: &ConfigPatch,
    now: DateTime<Utc>,
) -> Result<AccountConfig, ConfigError> {
    let mut tx = store.begin().await?;
    tx.lock_cash(account).await?.ok_or(ConfigError::Missing)?;
    let current = tx.account_config(account).await?;
    let config = patch.apply(&current).map_err(ConfigError::Invalid)?;
    tx.set_account_config(account, &config, now).await?;
    tx.touch_account(account, now).await?;
    tx.commit().await?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_patch_changes_nothing() {
        let config = AccountConfig {
            suspend_trade: true,
            ..AccountConfig::default()
        };
        assert_eq!(ConfigPatch::default().apply(&config), Ok(config));
    }

    #[test]
    fn a_patch_sets_what_it_names() {
        let patch = ConfigPatch {
            dtbp_check: Some(CheckWhen::Both),
            trade_confirm_email: Some(ConfirmEmail::None),
            fractional_trading: Some(false),
            max_margin_multiplier: Some(Decimal::ONE),
            max_options_trading_level: Some(Some(2)),
            ..ConfigPatch::default()
        };
        let config = patch.apply(&AccountConfig::default()).unwrap();
        assert_eq!(config.dtbp_check, CheckWhen::Both);
        assert_eq!(config.trade_confirm_email, ConfirmEmail::None);
        assert!(!config.fractional_trading);
        assert_eq!(config.max_options_trading_level, Some(2));
        assert_eq!(config.pdt_check, CheckWhen::Entry);
    }

    #[test]
    fn settings_the_brokerage_cannot_honour_are_refused() {
        let base = AccountConfig::default();
        for patch in [
            ConfigPatch {
                max_margin_multiplier: Some(Decimal::from(2)),
                ..ConfigPatch::default()
            },
            ConfigPatch {
                no_shorting: Some(false),
                ..ConfigPatch::default()
            },
            ConfigPatch {
                max_options_trading_level: Some(Some(4)),
                ..ConfigPatch::default()
            },
        ] {
            assert!(patch.apply(&base).is_err(), "{patch:?}");
        }
    }
}
