//! Orders: place (`POST /v2/orders`), list, get (by id or `client_order_id`), cancel
//! one or all. Placing and canceling need the `trading` scope; reading needs none.
//! Market orders fill at once while the market is open; the others rest until the
//! price crosses (see `server::match_orders`).

use std::collections::HashSet;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use paddock_core::ids::{AccountId, OrderId};
use paddock_core::store::{Conflict, Invalidation, OrderQuery, StoreError};
use paddock_core::trading::assets::{self, Symbol};
use paddock_core::trading::engine::{self, EngineError};
use paddock_core::trading::groups::{OrderRequest, StopLoss};
use paddock_core::trading::orders::{
    Amount, NewOrder, Order, OrderClass, OrderPatch, OrderRejection, OrderStatus, OrderType, Side,
    TimeInForce,
};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::auth::{BearerGrant, Scoped, Trading};
use crate::error::{AlpacaErrorBody, ApiError};
use crate::extract::{AlpacaJson, AlpacaQuery};
use crate::state::AppState;
use crate::wire;

/// Alpaca's order object, as alpaca-py's `Order` parses it: amounts as strings.
#[derive(Serialize, ToSchema)]
pub struct OrderResponse {
    #[schema(format = "uuid")]
    pub id: String,
    pub client_order_id: String,
    #[serde(serialize_with = "wire::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "wire::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
    #[serde(serialize_with = "wire::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub submitted_at: DateTime<Utc>,
    #[serde(serialize_with = "wire::optional_timestamp")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub filled_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "wire::optional_timestamp")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expired_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "wire::optional_timestamp")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub canceled_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "wire::optional_timestamp")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub failed_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "wire::optional_timestamp")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub replaced_at: Option<DateTime<Utc>>,
    #[schema(format = "uuid")]
    pub replaced_by: Option<String>,
    #[schema(format = "uuid")]
    pub replaces: Option<String>,
    #[schema(format = "uuid")]
    pub asset_id: String,
    pub symbol: String,
    pub asset_class: &'static str,
    pub notional: Option<String>,
    pub qty: Option<String>,
    pub filled_qty: String,
    pub filled_avg_price: Option<String>,
    pub order_class: &'static str,
    pub order_type: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub side: &'static str,
    pub time_in_force: &'static str,
    pub limit_price: Option<String>,
    pub stop_price: Option<String>,
    pub status: &'static str,
    pub extended_hours: bool,
    /// The legs of a bracket, OCO or OTO order; `null` for simple orders.
    #[schema(no_recursion)]
    pub legs: Option<Vec<OrderResponse>>,
    pub trail_percent: Option<String>,
    pub trail_price: Option<String>,
    pub hwm: Option<String>,
    pub position_intent: &'static str,
}

impl From<&Order> for OrderResponse {
    fn from(o: &Order) -> Self {
        let (qty, notional) = match o.amount {
            Amount::Qty(qty) => (Some(wire::amount(qty)), None),
            Amount::Notional(notional) => (None, Some(wire::amount(notional))),
        };
        Self {
            id: o.id.to_string(),
            client_order_id: o.client_order_id.clone(),
            created_at: o.created_at,
            updated_at: o.updated_at,
            submitted_at: o.submitted_at,
            filled_at: o.filled_at,
            expired_at: o.expired_at,
            canceled_at: o.canceled_at,
            failed_at: (o.status == OrderStatus::Rejected).then_some(o.updated_at),
            replaced_at: o.replaced_at,
            replaced_by: o.replaced_by.map(|id| id.to_string()),
            replaces: o.replaces.map(|id| id.to_string()),
            asset_id: o.asset_id.to_string(),
            symbol: o.symbol.to_string(),
            asset_class: "us_equity",
            notional,
            qty,
            filled_qty: wire::amount(o.filled_qty),
            filled_avg_price: o.filled_avg_price.map(wire::amount),
            order_class: o.class.as_str(),
            order_type: o.kind.as_str(),
            kind: o.kind.as_str(),
            side: o.side.as_str(),
            time_in_force: o.time_in_force.as_str(),
            limit_price: o.trigger.limit_price.map(wire::amount),
            stop_price: o.trigger.stop_price.map(wire::amount),
            status: o.status.as_str(),
            extended_hours: o.extended_hours,
            legs: None,
            trail_percent: o.trigger.trail_percent.map(wire::amount),
            trail_price: o.trigger.trail_price.map(wire::amount),
            hwm: o.trigger.water_mark.map(wire::amount),
            position_intent: match o.side {
                Side::Buy => "buy_to_open",
                Side::Sell => "sell_to_close",
            },
        }
    }
}

impl OrderResponse {
    /// A group's first order with its legs (those of `legs` whose parent it is).
    pub fn with_legs(order: &Order, legs: &[Order]) -> Self {
        let mut response = Self::from(order);
        if order.class != OrderClass::Simple && order.parent_id.is_none() {
            // Alpaca's order: the take-profit leg (a limit), then the stop-loss.
            // A replaced leg is no longer one: its replacement is.
            let mut mine: Vec<&Order> = legs
                .iter()
                .filter(|leg| leg.parent_id == Some(order.id))
                .filter(|leg| leg.status != OrderStatus::Replaced)
                .collect();
            mine.sort_by_key(|leg| (leg.submitted_at, leg.kind != OrderType::Limit));
            response.legs = Some(mine.into_iter().map(Self::from).collect());
        }
        response
    }
}

fn number(body: &Map<String, Value>, name: &str) -> Result<Option<Decimal>, ApiError> {
    super::body_decimal(body, name)
}

/// A field of the order body that takes one of a type's values: `default` when absent.
fn choice<T>(
    body: &Map<String, Value>,
    name: &str,
    parse: fn(&str) -> Option<T>,
    names: fn() -> String,
    default: Option<T>,
) -> Result<T, ApiError> {
    super::body_choice(body, name, parse, names)?
        .or(default)
        .ok_or_else(|| ApiError::unprocessable(format!("{name} is required")))
}

/// A leg's object (`take_profit`, `stop_loss`), if sent.
fn leg<'a>(
    body: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a Map<String, Value>>, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(leg)) => Ok(Some(leg)),
        Some(_) => Err(ApiError::unprocessable(format!("{name} must be an object"))),
    }
}

/// The order body as alpaca-py's order requests send it.
fn parse_order(body: &Map<String, Value>) -> Result<(assets::Asset, OrderRequest), ApiError> {
    let symbol = match body.get("symbol") {
        Some(Value::String(s)) => s.as_str(),
        _ => return Err(ApiError::unprocessable("symbol is required")),
    };
    let asset = assets::find_listed(symbol).map_err(ApiError::unprocessable)?;
    let class = choice(
        body,
        "order_class",
        OrderClass::parse,
        OrderClass::names,
        Some(OrderClass::Simple),
    )?;
    let amount = match (number(body, "qty")?, number(body, "notional")?) {
        (Some(qty), None) => Amount::Qty(qty),
        (None, Some(notional)) => Amount::Notional(notional),
        (Some(_), Some(_)) => {
            return Err(ApiError::unprocessable(
                "qty and notional cannot both be given",
            ));
        }
        (None, None) => return Err(ApiError::unprocessable("qty or notional is required")),
    };
    let extended_hours = match body.get("extended_hours") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(ApiError::unprocessable(
                "extended_hours must be true or false",
            ));
        }
    };
    let client_order_id = client_order_id(body)?;
    let new = NewOrder {
        amount,
        side: choice(body, "side", Side::parse, Side::names, None)?,
        kind: choice(body, "type", OrderType::parse, OrderType::names, None)?,
        time_in_force: choice(
            body,
            "time_in_force",
            TimeInForce::parse,
            TimeInForce::names,
            None,
        )?,
        limit_price: number(body, "limit_price")?,
        stop_price: number(body, "stop_price")?,
        trail_price: number(body, "trail_price")?,
        trail_percent: number(body, "trail_percent")?,
        extended_hours,
        client_order_id,
    };
    let take_profit = match leg(body, "take_profit")? {
        Some(leg) => Some(
            number(leg, "limit_price")?
                .ok_or_else(|| ApiError::unprocessable("take_profit.limit_price is required"))?,
        ),
        None => None,
    };
    let stop_loss = match leg(body, "stop_loss")? {
        Some(leg) => Some(StopLoss {
            stop_price: number(leg, "stop_price")?
                .ok_or_else(|| ApiError::unprocessable("stop_loss.stop_price is required"))?,
            limit_price: number(leg, "limit_price")?,
        }),
        None => None,
    };
    Ok((
        asset,
        OrderRequest {
            order: new,
            class,
            take_profit,
            stop_loss,
        },
    ))
}

/// How the engine's refusals look on the wire: 422 for what can never be valid, 403
/// for what the account cannot afford (Alpaca's split).
pub(super) fn engine_error(error: EngineError) -> ApiError {
    match error {
        EngineError::Rejected(OrderRejection::Invalid(message)) => ApiError::unprocessable(message),
        EngineError::Rejected(refusal) => ApiError::forbidden(refusal.to_string()),
        EngineError::NotFound => ApiError::not_found("order not found"),
        EngineError::NotCancelable(_) | EngineError::NotReplaceable(_) => {
            ApiError::unprocessable(error.to_string())
        }
        EngineError::Store(StoreError::Conflict(Conflict::ClientOrderIdTaken)) => {
            ApiError::unprocessable(Conflict::ClientOrderIdTaken.to_string())
        }
        EngineError::Store(e) => e.into(),
    }
}

#[utoipa::path(
    post,
    path = "/v2/orders",
    tag = "Trading API",
    summary = "Place an order",
    description = "A simple market, limit, stop, stop_limit or trailing_stop order, by `qty` \
                   or (market, day) `notional`. Needs the `trading` scope. Market orders \
                   fill at once while the market is open.",
    request_body(content = Object, description = "Alpaca's order request"),
    security(("bearer" = ["trading"])),
    responses(
        (status = 200, description = "The order", body = OrderResponse),
        (status = 401, description = "Missing or invalid token", body = AlpacaErrorBody),
        (status = 403, description = "No `trading` scope, insufficient buying power or qty", body = AlpacaErrorBody),
        (status = 422, description = "An invalid order", body = AlpacaErrorBody),
    )
)]
pub async fn submit_order(
    scoped: Scoped<Trading>,
    State(state): State<AppState>,
    AlpacaJson(body): AlpacaJson<Value>,
) -> Result<Json<OrderResponse>, ApiError> {
    let Value::Object(body) = body else {
        return Err(ApiError::bad_request("the body must be a JSON object"));
    };
    let (asset, request) = parse_order(&body)?;
    let now = state.clock.now();
    let account = scoped.grant.account_id;
    let result = engine::submit_request(
        state.store.as_ref(),
        account,
        &asset,
        &request,
        state.settings.market,
        now,
    )
    .await;
    state.caches.apply(&Invalidation::Account(account));
    let (order, legs) = result.map_err(engine_error)?;
    Ok(Json(OrderResponse::with_legs(&order, &legs)))
}

/// The replacement body as alpaca-py's `ReplaceOrderRequest` sends it.
fn parse_patch(body: &Map<String, Value>) -> Result<OrderPatch, ApiError> {
    const KNOWN: [&str; 6] = [
        "qty",
        "time_in_force",
        "limit_price",
        "stop_price",
        "trail",
        "client_order_id",
    ];
    if let Some(unknown) = body.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(ApiError::unprocessable(format!(
            "{} cannot be replaced; send {}",
            unknown.chars().take(40).collect::<String>(),
            KNOWN.join(", ")
        )));
    }
    let time_in_force = match body.get("time_in_force") {
        None | Some(Value::Null) => None,
        Some(_) => Some(choice(
            body,
            "time_in_force",
            TimeInForce::parse,
            TimeInForce::names,
            None,
        )?),
    };
    Ok(OrderPatch {
        qty: number(body, "qty")?,
        time_in_force,
        limit_price: number(body, "limit_price")?,
        stop_price: number(body, "stop_price")?,
        trail: number(body, "trail")?,
        client_order_id: client_order_id(body)?,
    })
}

fn client_order_id(body: &Map<String, Value>) -> Result<Option<String>, ApiError> {
    match body.get("client_order_id") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::unprocessable("client_order_id must be a string")),
    }
}

#[utoipa::path(
    patch,
    path = "/v2/orders/{order_id}",
    tag = "Trading API",
    summary = "Replace an order",
    description = "Replaces an open order with a new one carrying the changes (`qty`, \
                   `time_in_force`, `limit_price`, `stop_price`, `trail`, \
                   `client_order_id`). The old order ends as `replaced`, its \
                   `replaced_by` naming the new one. Needs the `trading` scope.",
    params(("order_id" = String, Path)),
    request_body(content = Object, description = "Alpaca's replace request"),
    security(("bearer" = ["trading"])),
    responses(
        (status = 200, description = "The new order", body = OrderResponse),
        (status = 403, description = "No `trading` scope, insufficient buying power or qty", body = AlpacaErrorBody),
        (status = 404, description = "No such order of this account", body = AlpacaErrorBody),
        (status = 422, description = "An invalid change, or an order no longer open", body = AlpacaErrorBody),
    )
)]
pub async fn replace_order(
    scoped: Scoped<Trading>,
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    AlpacaJson(body): AlpacaJson<Value>,
) -> Result<Json<OrderResponse>, ApiError> {
    let Value::Object(body) = body else {
        return Err(ApiError::bad_request("the body must be a JSON object"));
    };
    let id = order_id(id)?;
    let patch = parse_patch(&body)?;
    let account = scoped.grant.account_id;
    let now = state.clock.now();
    let clock = state.settings.market;
    let result = engine::replace(state.store.as_ref(), account, id, &patch, clock, now).await;
    state.caches.apply(&Invalidation::Account(account));
    let order = result.map_err(engine_error)?;
    Ok(Json(with_stored_legs(&state, &order).await?))
}

/// Alpaca's list filters; an unknown value is 422, never ignored.
/// The filters, and whether legs are nested under their first order.
fn order_query(query: &paddock_core::form::Params) -> Result<(OrderQuery, bool), ApiError> {
    let open = match query.get("status").unwrap_or("open") {
        "open" => Some(true),
        "closed" => Some(false),
        "all" => None,
        other => {
            return Err(super::query_error(
                "status",
                other,
                "use open, closed or all",
            ));
        }
    };
    let limit = match query.raw("limit") {
        None => 50,
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=500).contains(n))
            .ok_or_else(|| super::query_error("limit", text, "give 1 to 500"))?,
    };
    let ascending = match query.get("direction").unwrap_or("desc") {
        "asc" => true,
        "desc" => false,
        other => return Err(super::query_error("direction", other, "use asc or desc")),
    };
    let nested = super::query_bool(query, "nested")?;
    let side = match query.get("side") {
        None => None,
        Some(text) => Some(
            Side::parse(text).ok_or_else(|| super::query_error("side", text, "use buy or sell"))?,
        ),
    };
    let symbols = match query.get("symbols").filter(|s| !s.is_empty()) {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|s| {
                Symbol::parse(s).map_err(|_| {
                    super::query_error("symbols", s, "give symbols separated by commas")
                })
            })
            .collect::<Result<_, _>>()?,
    };
    let query = OrderQuery {
        open,
        after: query
            .get("after")
            .map(|v| super::query_time("after", v))
            .transpose()?,
        until: query
            .get("until")
            .map(|v| super::query_time("until", v))
            .transpose()?,
        limit,
        ascending,
        symbols,
        side,
    };
    Ok((query, nested))
}

#[utoipa::path(
    get,
    path = "/v2/orders",
    tag = "Trading API",
    summary = "List orders",
    description = "Filters: `status` (open, closed, all; default open), `limit` (1–500, \
                   default 50), `after`, `until`, `direction` (asc, desc), `nested`, \
                   `symbols` (comma-separated), `side`. An unknown value is 422.",
    params(
        ("status" = Option<String>, Query, description = "open, closed or all"),
        ("limit" = Option<u32>, Query, description = "1 to 500"),
        ("after" = Option<String>, Query, description = "RFC 3339 time or date"),
        ("until" = Option<String>, Query, description = "RFC 3339 time or date"),
        ("direction" = Option<String>, Query, description = "asc or desc"),
        ("nested" = Option<bool>, Query),
        ("symbols" = Option<String>, Query, description = "comma-separated"),
        ("side" = Option<String>, Query, description = "buy or sell"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The orders", body = Vec<OrderResponse>),
        (status = 401, description = "Missing or invalid token", body = AlpacaErrorBody),
        (status = 422, description = "An unknown filter value", body = AlpacaErrorBody),
    )
)]
pub async fn list_orders(
    grant: BearerGrant,
    State(state): State<AppState>,
    AlpacaQuery(query): AlpacaQuery,
) -> Result<Json<Vec<OrderResponse>>, ApiError> {
    let (query, nested) = order_query(&query)?;
    let account = grant.account_id;
    let orders = state.store.orders(account, &query).await?;
    if !nested {
        return Ok(Json(orders.iter().map(OrderResponse::from).collect()));
    }
    // Nested: a leg goes under its first order when that is listed too, else it is
    // listed itself (the working legs of a filled entry, under status=open).
    let listed: HashSet<OrderId> = orders.iter().map(|o| o.id).collect();
    let roots: Vec<OrderId> = orders
        .iter()
        .filter(|o| o.class != OrderClass::Simple && o.parent_id.is_none())
        .map(|o| o.id)
        .collect();
    let legs = state.store.legs(account, &roots).await?;
    Ok(Json(
        orders
            .iter()
            .filter(|o| o.parent_id.is_none_or(|parent| !listed.contains(&parent)))
            .map(|o| OrderResponse::with_legs(o, &legs))
            .collect(),
    ))
}

/// The order as the API shows it, with its legs when it is a group's first order.
async fn with_stored_legs(state: &AppState, order: &Order) -> Result<OrderResponse, ApiError> {
    if order.class == OrderClass::Simple || order.parent_id.is_some() {
        return Ok(OrderResponse::from(order));
    }
    let legs = state.store.legs(order.account_id, &[order.id]).await?;
    Ok(OrderResponse::with_legs(order, &legs))
}

fn order_id(path: Result<Path<String>, PathRejection>) -> Result<OrderId, ApiError> {
    path.ok()
        .and_then(|Path(id)| id.parse().ok())
        .ok_or_else(|| ApiError::not_found("order not found"))
}

#[utoipa::path(
    get,
    path = "/v2/orders/{order_id}",
    tag = "Trading API",
    summary = "Get an order",
    params(("order_id" = String, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The order", body = OrderResponse),
        (status = 404, description = "No such order of this account", body = AlpacaErrorBody),
    )
)]
pub async fn get_order(
    grant: BearerGrant,
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<OrderResponse>, ApiError> {
    let order = state
        .store
        .order(grant.account_id, order_id(id)?)
        .await?
        .ok_or_else(|| ApiError::not_found("order not found"))?;
    Ok(Json(with_stored_legs(&state, &order).await?))
}

#[utoipa::path(
    get,
    path = "/v2/orders:by_client_order_id",
    tag = "Trading API",
    summary = "Get an order by client_order_id",
    params(("client_order_id" = String, Query)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The order", body = OrderResponse),
        (status = 404, description = "No such order of this account", body = AlpacaErrorBody),
        (status = 422, description = "client_order_id missing", body = AlpacaErrorBody),
    )
)]
pub async fn order_by_client_id(
    grant: BearerGrant,
    State(state): State<AppState>,
    AlpacaQuery(query): AlpacaQuery,
) -> Result<Json<OrderResponse>, ApiError> {
    let id = query
        .get("client_order_id")
        .ok_or_else(|| ApiError::unprocessable("client_order_id is required"))?;
    let order = state
        .store
        .order_by_client_id(grant.account_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("order not found"))?;
    Ok(Json(with_stored_legs(&state, &order).await?))
}

#[utoipa::path(
    delete,
    path = "/v2/orders/{order_id}",
    tag = "Trading API",
    summary = "Cancel an order",
    params(("order_id" = String, Path)),
    security(("bearer" = ["trading"])),
    responses(
        (status = 204, description = "Canceled"),
        (status = 403, description = "No `trading` scope", body = AlpacaErrorBody),
        (status = 404, description = "No such order of this account", body = AlpacaErrorBody),
        (status = 422, description = "The order is no longer open", body = AlpacaErrorBody),
    )
)]
pub async fn cancel_order(
    scoped: Scoped<Trading>,
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let account = scoped.grant.account_id;
    let result = engine::cancel(
        state.store.as_ref(),
        account,
        order_id(id)?,
        state.clock.now(),
    )
    .await;
    state.caches.apply(&Invalidation::Account(account));
    result.map_err(engine_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// One order of `DELETE /v2/orders`: its id, the status of its cancelation, and the
/// order (or the error) as the single cancel would answer.
#[derive(Serialize, ToSchema)]
pub struct CancelStatus {
    #[schema(format = "uuid")]
    pub id: String,
    pub status: u16,
    #[schema(value_type = Object)]
    pub body: Value,
}

#[utoipa::path(
    delete,
    path = "/v2/orders",
    tag = "Trading API",
    summary = "Cancel every open order",
    security(("bearer" = ["trading"])),
    responses(
        (status = 207, description = "Each open order's cancelation", body = Vec<CancelStatus>),
        (status = 403, description = "No `trading` scope", body = AlpacaErrorBody),
    )
)]
pub async fn cancel_all(
    scoped: Scoped<Trading>,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let statuses = cancel_every_open(&state, scoped.grant.account_id).await?;
    Ok((StatusCode::MULTI_STATUS, Json(statuses)).into_response())
}

/// Cancels each open order of `account`, saying how each went.
pub(super) async fn cancel_every_open(
    state: &AppState,
    account: AccountId,
) -> Result<Vec<CancelStatus>, ApiError> {
    let mut statuses = Vec::new();
    for order in state.store.orders(account, &OrderQuery::all_open()).await? {
        let now = state.clock.now();
        let result = match engine::cancel(state.store.as_ref(), account, order.id, now).await {
            // Canceled already, with its group earlier in this list: canceled all the same.
            Err(EngineError::NotCancelable(OrderStatus::Canceled)) => state
                .store
                .order(account, order.id)
                .await?
                .ok_or(EngineError::NotFound),
            result => result,
        };
        statuses.push(match result {
            Ok(canceled) => CancelStatus {
                id: order.id.to_string(),
                status: 200,
                body: serde_json::to_value(OrderResponse::from(&canceled)).unwrap_or(Value::Null),
            },
            Err(e) => {
                let (status, body) = engine_error(e).parts();
                CancelStatus {
                    id: order.id.to_string(),
                    status: status.as_u16(),
                    body: serde_json::to_value(body).unwrap_or(Value::Null),
                }
            }
        });
    }
    state.caches.apply(&Invalidation::Account(account));
    Ok(statuses)
}
