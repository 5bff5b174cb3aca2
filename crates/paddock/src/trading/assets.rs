//! `GET /v2/assets` and `GET /v2/assets/{symbol_or_id}`: what can be traded.

use axum::Json;
use axum::extract::Path;
use axum::extract::rejection::PathRejection;
use paddock_core::trading::assets::{self, Asset};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::BearerGrant;
use crate::error::{AlpacaErrorBody, ApiError};
use crate::extract::AlpacaQuery;

/// Alpaca's asset object, as alpaca-py's `Asset` parses it.
#[derive(Serialize, ToSchema)]
pub struct AssetResponse {
    #[schema(format = "uuid")]
    pub id: String,
    /// Always `us_equity` here.
    #[serde(rename = "class")]
    pub class: &'static str,
    pub exchange: &'static str,
    pub symbol: String,
    pub name: &'static str,
    /// Always `active` here.
    pub status: &'static str,
    pub tradable: bool,
    pub marginable: bool,
    pub maintenance_margin_requirement: u32,
    pub shortable: bool,
    pub easy_to_borrow: bool,
    pub fractionable: bool,
    pub attributes: Vec<&'static str>,
}

impl From<&Asset> for AssetResponse {
    fn from(a: &Asset) -> Self {
        Self {
            id: a.id.to_string(),
            class: "us_equity",
            exchange: a.exchange.as_str(),
            symbol: a.symbol.to_string(),
            name: a.name,
            status: "active",
            tradable: true,
            marginable: true,
            maintenance_margin_requirement: 30,
            shortable: a.shortable,
            easy_to_borrow: a.shortable,
            fractionable: a.fractionable,
            attributes: Vec::new(),
        }
    }
}

/// The exchanges Alpaca names, listed or not here: filtering by one that lists
/// nothing here is an empty list, not an error.
const KNOWN_EXCHANGES: [&str; 7] = ["AMEX", "ARCA", "BATS", "NYSE", "NASDAQ", "NYSEARCA", "OTC"];
const KNOWN_CLASSES: [&str; 3] = ["us_equity", "us_option", "crypto"];
const KNOWN_ATTRIBUTES: [&str; 6] = [
    "ptp_no_exception",
    "ptp_with_exception",
    "ipo",
    "has_options",
    "options_late_close",
    "fractional_eh_enabled",
];

fn unknown(name: &str, value: &str, known: &[&str]) -> ApiError {
    ApiError::unprocessable(format!(
        "{name}={value} is not a known value; use one of {}",
        known.join(", ")
    ))
}

#[utoipa::path(
    get,
    path = "/v2/assets",
    tag = "Trading API",
    summary = "List assets",
    description = "Every listed asset, filtered by `status` (`active`, `inactive`), \
                   `asset_class` (`us_equity`, `us_option`, `crypto`), `exchange` and \
                   `attributes` (comma-separated: assets with any of them). An unknown \
                   filter value is 422.",
    params(
        ("status" = Option<String>, Query),
        ("asset_class" = Option<String>, Query),
        ("exchange" = Option<String>, Query),
        ("attributes" = Option<String>, Query),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The assets", body = Vec<AssetResponse>),
        (status = 401, description = "Missing or invalid token", body = AlpacaErrorBody),
        (status = 422, description = "An unknown filter value", body = AlpacaErrorBody),
    )
)]
pub async fn list_assets(
    _grant: BearerGrant,
    AlpacaQuery(query): AlpacaQuery,
) -> Result<Json<Vec<AssetResponse>>, ApiError> {
    let mut listed = assets::listed();
    if let Some(status) = query.get("status") {
        match status {
            "active" => {}
            "inactive" => listed.clear(),
            other => return Err(unknown("status", other, &["active", "inactive"])),
        }
    }
    if let Some(class) = query.get("asset_class") {
        if !KNOWN_CLASSES.contains(&class) {
            return Err(unknown("asset_class", class, &KNOWN_CLASSES));
        }
        listed.retain(|_| class == "us_equity");
    }
    if let Some(exchange) = query.get("exchange") {
        if !KNOWN_EXCHANGES.contains(&exchange) {
            return Err(unknown("exchange", exchange, &KNOWN_EXCHANGES));
        }
        listed.retain(|a| a.exchange.as_str() == exchange);
    }
    if let Some(attributes) = query.get("attributes").filter(|a| !a.is_empty()) {
        for attribute in attributes.split(',') {
            if !KNOWN_ATTRIBUTES.contains(&attribute) {
                return Err(unknown("attributes", attribute, &KNOWN_ATTRIBUTES));
            }
        }
        // No asset here carries any of them.
        listed.clear();
    }
    Ok(Json(listed.iter().map(AssetResponse::from).collect()))
}

#[utoipa::path(
    get,
    path = "/v2/assets/{symbol_or_id}",
    tag = "Trading API",
    summary = "Get an asset",
    description = "One asset, by symbol (any case) or by id.",
    params(("symbol_or_id" = String, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The asset", body = AssetResponse),
        (status = 401, description = "Missing or invalid token", body = AlpacaErrorBody),
        (status = 404, description = "No such asset", body = AlpacaErrorBody),
    )
)]
pub async fn get_asset(
    _grant: BearerGrant,
    symbol_or_id: Result<Path<String>, PathRejection>,
) -> Result<Json<AssetResponse>, ApiError> {
    let Path(symbol_or_id) =
        symbol_or_id.map_err(|e| ApiError::bad_request(format!("malformed path: {e}")))?;
    let asset = assets::find(&symbol_or_id).ok_or_else(|| {
        ApiError::not_found(format!(
            "asset not found for {}; GET /v2/assets lists them",
            symbol_or_id.chars().take(40).collect::<String>()
        ))
    })?;
    Ok(Json(AssetResponse::from(&asset)))
}

#[cfg(test)]
mod tests {
    use paddock_core::trading::assets::Exchange;

    use super::*;

    #[test]
    fn every_exchange_listed_here_is_one_alpaca_names() {
        for exchange in Exchange::ALL {
            assert!(KNOWN_EXCHANGES.contains(&exchange.as_str()));
        }
    }
}
