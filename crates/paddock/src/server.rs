//! The HTTP application: every router merged in one place, the middleware around them,
//! and the background work a running server does.

use std::any::Any;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Router, middleware};
use chrono::Duration as TimeDelta;
use paddock_core::env::Env;
use tokio::net::TcpListener;
use tokio::time::Instant;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tracing::Instrument;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::error::ApiError;
use crate::extract::BODY_LIMIT;
use crate::openapi::ApiDoc;
use crate::state::{AppState, Throttles};
use crate::{data, oauth, ops, pages, trading};
use paddock_core::store::Invalidation;
use paddock_core::trading::walk::Walk;
use paddock_core::trading::{assets, engine};

/// Every JSON endpoint, each registered together with its OpenAPI description by
/// `utoipa_axum::routes!`, which takes both the path and the method from the handler's
/// `#[utoipa::path]`: the document cannot list a route the router lacks, nor describe
/// one at another path or method. The other way round (no JSON route left out of the
/// document) holds by construction, not by test (axum cannot list its routes): every
/// JSON route is registered on an [`OpenApiRouter`] merged here, whose undocumented
/// `route`, `route_service` and `nest_service` are banned by `clippy.toml`. HTML pages,
/// `/metrics`, `/openapi.json` and the trade stream's WebSocket are not JSON APIs, and
/// are plain axum routes.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(ops::router())
        .merge(oauth::router())
        .merge(trading::router(Env::Live))
        .merge(data::router())
        // The paper base: `/paper/v2/...` in the router and in the document alike.
        .nest("/paper", trading::router(Env::Paper))
}

pub fn app(state: AppState) -> Router {
    // Installed before the first request, so that no request goes uncounted.
    ops::prometheus();
    let (api, mut doc) = api().split_for_parts();
    crate::openapi::complete_responses(&mut doc);
    Router::new()
        .merge(api)
        .merge(ops::plain_router(Arc::new(doc)))
        .merge(pages::router())
        .merge(trading::stream_router(Env::Live))
        .nest("/paper", trading::stream_router(Env::Paper))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(run_to_completion))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(30),
        ))
        .layer(CatchPanicLayer::custom(panic_response))
        // Outermost, so that every request is logged and counted once, panics and
        // timeouts included.
        .layer(middleware::from_fn(ops::track))
        .with_state(state)
}

/// The `message` of the 404 answered where no route matches the path.
pub const NO_ENDPOINT: &str = "no endpoint at this path; /openapi.json lists them";

/// The `message` of the 405 answered where a route matches the path but not the method.
pub const NO_METHOD: &str = "this endpoint does not accept this method";

async fn not_found() -> ApiError {
    ApiError::not_found(NO_ENDPOINT)
}

async fn method_not_allowed() -> ApiError {
    ApiError::Alpaca {
        status: StatusCode::METHOD_NOT_ALLOWED,
        message: NO_METHOD.into(),
        challenge: None,
        retry_after: None,
    }
}

/// Runs each changing request's handler on a task of its own, so that it finishes
/// even when the client goes away or the timeout answers first. A handler dropped
/// between two statements of a unit of work would leave a write half done and, on
/// PostgreSQL, its connection back in the pool still inside the transaction (sqlx's
/// `begin` is not cancel-safe there), where the next request's statements would join
/// it. Reads (GET, HEAD) change nothing, and skip the task.
async fn run_to_completion(request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        return next.run(request).await;
    }
    // In the request's span, so that its log lines still carry its request id.
    match tokio::spawn(next.run(request).in_current_span()).await {
        Ok(response) => response,
        // Panics go on up to the catch-panic layer, which answers 500.
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => {
            ApiError::Internal(anyhow::anyhow!("a request's task ended: {e}")).into_response()
        }
    }
}

fn panic_response(_panic: Box<dyn Any + Send + 'static>) -> Response {
    ApiError::Internal(anyhow::anyhow!("a request handler panicked")).into_response()
}

/// Serves `state` on `listener` until `shutdown` resolves, then writes what is pending.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Where the invalidation log stands before the first request can fill a cache, so
    // that no change after it is missed.
    let seen = state.store.latest_invalidation().await.ok();
    let background = tokio::spawn(background_work(state.clone()));
    let follower = tokio::spawn(follow_invalidations(state.clone(), seen));
    let matcher = tokio::spawn(match_orders(state.clone()));
    let walker = state
        .settings
        .walk
        .map(|walk| tokio::spawn(walk_prices(state.clone(), walk)));
    let service = app(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let served = axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await;
    background.abort();
    follower.abort();
    matcher.abort();
    if let Some(walker) = walker {
        walker.abort();
    }
    flush_last_used(&state).await;
    served
}

/// Writes token last-use times in batches and purges what has expired.
async fn background_work(state: AppState) {
    // Both start one period from now: there is nothing to flush at start, and the
    // purge can wait for the server to settle.
    let every = |period: Duration| tokio::time::interval_at(Instant::now() + period, period);
    let mut flush = every(state.settings.usage_flush_every);
    let mut purge = every(Duration::from_secs(3600));
    loop {
        tokio::select! {
            _ = flush.tick() => flush_last_used(&state).await,
            _ = purge.tick() => purge_expired(&state).await,
        }
    }
}

/// Keeps this node's caches in step with every other process: reads the store's
/// invalidation log from `seen` on whenever the change feed wakes it (a PostgreSQL
/// notification, or a short poll), and drops what each entry makes stale. When the
/// log could not be read at start, the caches are emptied once it can, since what
/// they took meanwhile may predate a change. Errors are logged and waited out, the
/// caches' lifetime bounding staleness meanwhile.
async fn follow_invalidations(state: AppState, seen: Option<i64>) {
    let store = state.store.as_ref();
    let mut seen = match seen {
        Some(seq) => seq,
        None => loop {
            match store.latest_invalidation().await {
                Ok(seq) => {
                    state.caches.clear();
                    break seq;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the invalidation log; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        },
    };
    loop {
        let mut feed = match store.change_feed().await {
            Ok(feed) => feed,
            Err(e) => {
                tracing::warn!(error = %e, "cannot follow the invalidation log; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        loop {
            if let Err(e) = feed.next().await {
                tracing::warn!(error = %e, "lost the change feed; reconnecting");
                break;
            }
            match store.invalidations_since(seen).await {
                Ok(changes) => {
                    for (seq, change) in changes {
                        state.caches.apply(&change);
                        // No receiver (no stream open) is not an error.
                        let _ = state.changes.send(change);
                        seen = seq;
                    }
                }
                Err(e) => {
                    // Once a second, not at every poll, while the database is away.
                    tracing::warn!(error = %e, "cannot read the invalidation log");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// How often resting orders are checked against the market.
const MATCH_EVERY: Duration = Duration::from_millis(250);

/// Takes the price walk's ticks as they come (whichever node takes one, the others
/// find it taken); the matcher then works what the new prices cross.
async fn walk_prices(state: AppState, walk: Walk) {
    let every = walk.every.to_std().unwrap_or(Duration::from_secs(5));
    let mut tick = tokio::time::interval(every.min(MATCH_EVERY * 4));
    loop {
        tick.tick().await;
        match paddock_core::trading::walk::advance(state.store.as_ref(), &walk, state.clock.now())
            .await
        {
            Ok(true) => state.caches.apply(&Invalidation::Prices),
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "could not move the prices"),
        }
    }
}

/// Fills resting orders when the price crosses, starts orders placed while the market
/// was closed, and expires day orders after their session, on every node: the engine's
/// account lock lets one node do each, and the price a CLI sets in another process
/// reaches the market cache through the invalidation log.
async fn match_orders(state: AppState) {
    let mut tick = tokio::time::interval(MATCH_EVERY);
    loop {
        tick.tick().await;
        let open = match state.store.open_orders().await {
            Ok(open) => open,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read open orders");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if open.is_empty() {
            continue;
        }
        let Ok(market) = trading::market(&state).await else {
            continue;
        };
        let now = state.clock.now();
        for order in open.iter().filter(|o| engine::needs_work(o, &market, now)) {
            let Some(asset) = assets::find(order.symbol.as_str()) else {
                continue;
            };
            match engine::work(state.store.as_ref(), order, &asset, market.clock(), now).await {
                Ok(Some(_)) => state.caches.apply(&Invalidation::Account(order.account_id)),
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, order = %order.id, "could not work an order"),
            }
        }
    }
}

/// Deletes expired sessions, ended throttle windows, old invalidations, and codes a day
/// past expiry: spent codes are kept that long so that a late replay is still
/// recognised and revokes the token issued from it.
async fn purge_expired(state: &AppState) {
    let now = state.clock.now();
    let store = state.store.as_ref();
    match store.purge_codes(now - TimeDelta::days(1)).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(purged = n, "purged expired authorization codes"),
        Err(e) => tracing::warn!(error = %e, "could not purge expired codes"),
    }
    if let Err(e) = store.purge_sessions(now).await {
        tracing::warn!(error = %e, "could not purge expired sessions");
    }
    if let Err(e) = store.purge_throttles(now - Throttles::LONGEST_WINDOW).await {
        tracing::warn!(error = %e, "could not purge ended throttle windows");
    }
    // Every node reads the log within a second; an hour is ample for one that was
    // briefly cut off, and the grant cache's lifetime covers longer.
    if let Err(e) = store.purge_invalidations(now - TimeDelta::hours(1)).await {
        tracing::warn!(error = %e, "could not purge old invalidations");
    }
}

/// Writes the pending last-use times of tokens in one batch.
pub async fn flush_last_used(state: &AppState) {
    let used = state.last_used.take();
    if let Err(e) = state.store.touch_tokens(&used).await {
        tracing::warn!(error = %e, tokens = used.len(), "could not record token last use");
    }
}
