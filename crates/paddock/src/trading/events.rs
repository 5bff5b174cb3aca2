//! `GET /v2/events/trades`: the trade updates of the token's account as Server-Sent
//! Events (the Go SDK's transport). Each event's `id` is its sequence number and its
//! `data` the trade update the WebSocket sends; `since`/`until` (an RFC 3339 time or
//! an event id, also as `since_id`/`until_id`) bound it, and `Last-Event-ID` resumes
//! after the last event a client saw. Without `until` the stream stays open and
//! carries new events as they happen, on whichever node they happen.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::response::sse::{Event, KeepAlive, Sse};
use chrono::{DateTime, Utc};
use futures_util::Stream;
use paddock_core::env::Env;
use paddock_core::form::Params;
use paddock_core::ids::AccountId;
use paddock_core::secret::AccessToken;
use paddock_core::store::{Invalidation, StreamEvent};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

use crate::auth::{BearerGrant, check_bearer};
use crate::error::{AlpacaErrorBody, ApiError};
use crate::extract::AlpacaQuery;
use crate::state::AppState;
use crate::trading::stream::TradeUpdate;

/// Events read from the store at once.
const BATCH: u32 = 500;
/// How long one event may wait for the client before it counts as not reading.
const SEND_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the stream checks its token and events without a wake-up.
const POLL_EVERY: Duration = Duration::from_secs(1);

/// Where a bound falls: at a time, or at an event id.
#[derive(Clone, Copy, Debug)]
enum Bound {
    At(DateTime<Utc>),
    Id(i64),
}

fn bound(query: &Params, name: &str, id_name: &str) -> Result<Option<Bound>, ApiError> {
    if let Some(text) = query.get(id_name) {
        let id = text
            .parse()
            .map_err(|_| super::query_error(id_name, text, "give an event id"))?;
        return Ok(Some(Bound::Id(id)));
    }
    let Some(text) = query.get(name) else {
        return Ok(None);
    };
    if let Ok(id) = text.parse::<i64>() {
        return Ok(Some(Bound::Id(id)));
    }
    Ok(Some(Bound::At(super::query_time(name, text)?)))
}

impl Bound {
    /// Whether `event` is past this `until` bound.
    fn passed_by(self, event: &StreamEvent) -> bool {
        match self {
            Bound::At(at) => event.event.at > at,
            Bound::Id(id) => event.seq > id,
        }
    }
}

#[utoipa::path(
    get,
    path = "/v2/events/trades",
    tag = "Trading API",
    summary = "Trade updates as Server-Sent Events",
    description = "The trade updates of the token's account: `id` is the event id, `data` \
                   the trade update the `/stream` WebSocket sends. `since` and `until` take \
                   an RFC 3339 time or an event id (also `since_id`, `until_id`); \
                   `Last-Event-ID` resumes after an event. Without `until` the stream stays \
                   open. The stream ends when the token is revoked.",
    params(
        ("since" = Option<String>, Query),
        ("until" = Option<String>, Query),
        ("since_id" = Option<i64>, Query),
        ("until_id" = Option<i64>, Query),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "An event stream", content_type = "text/event-stream", body = String),
        (status = 401, description = "Missing or invalid token", body = AlpacaErrorBody),
        (status = 422, description = "A bad bound", body = AlpacaErrorBody),
    )
)]
pub async fn trade_events(
    grant: BearerGrant,
    State(state): State<AppState>,
    headers: HeaderMap,
    AlpacaQuery(query): AlpacaQuery,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let since = bound(&query, "since", "since_id")?;
    let until = bound(&query, "until", "until_id")?;
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    let account = grant.account_id;
    let start = match (resume, since) {
        (Some(id), _) => id,
        (None, Some(Bound::Id(id))) => id - 1,
        (None, Some(Bound::At(at))) => state.store.trade_event_before(account, at).await?,
        (None, None) => state.store.latest_trade_event(account).await?,
    };
    // The extractor checked it; kept to check again when a revocation comes.
    let token = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .map(|(_, token)| token.trim().to_owned())
        .unwrap_or_default();
    let (events, receiver) = mpsc::channel(64);
    tokio::spawn(produce(
        state, grant.env, token, account, start, until, events,
    ));
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|event| (Ok(event), receiver))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// Feeds the response's events: what the store has after `last`, then each new one,
/// until `until`, the client leaving or not reading, or the token's revocation.
async fn produce(
    state: AppState,
    env: Env,
    token: String,
    account: AccountId,
    mut last: i64,
    until: Option<Bound>,
    events: mpsc::Sender<Event>,
) {
    let digest = AccessToken::parse(&token).ok().map(|t| t.digest());
    let mut changes = state.changes.subscribe();
    let mut poll = tokio::time::interval(POLL_EVERY);
    loop {
        loop {
            let Ok(batch) = state.store.trade_events_after(account, last, BATCH).await else {
                return;
            };
            for event in &batch {
                if until.is_some_and(|u| u.passed_by(event)) {
                    return;
                }
                let Ok(data) = Event::default()
                    .id(event.seq.to_string())
                    .json_data(TradeUpdate::from(event))
                else {
                    return;
                };
                match tokio::time::timeout(SEND_TIMEOUT, events.send(data)).await {
                    Ok(Ok(())) => last = event.seq,
                    _ => return,
                }
            }
            if batch.len() < BATCH as usize {
                break;
            }
        }
        if let Some(Bound::At(at)) = until
            && state.clock.now() > at
        {
            return;
        }
        let recheck = tokio::select! {
            change = changes.recv() => match change {
                Ok(Invalidation::Token(d)) => Some(d) == digest,
                Ok(Invalidation::Client(_)) | Err(RecvError::Lagged(_)) => true,
                Ok(_) => false,
                Err(RecvError::Closed) => return,
            },
            _ = poll.tick() => true,
            () = events.closed() => return,
        };
        if recheck && check_bearer(&state, &token, env).await.is_err() {
            return;
        }
    }
}
