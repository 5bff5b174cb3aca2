//! `GET /v2/events/trades`: the trade updates of the token's account as Server-Sent
//! Events (the Go SDK's transport). Each event's `id` is its sequence number and its
//! `data` the trade update the WebSocket sends; `since` (events after an event id, or
//! from an RFC 3339 time) and `until` (up to an event id, or a time), also as
//! `since_id`/`until_id`, bound it, and `Last-Event-ID` resumes after the last event a
//! client saw. Without `until` the stream stays open and
//! carries new events as they happen, on whichever node they happen.

use std::convert::Infallible;

use axum::extract::State;
use axum::http::HeaderMap;
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

use crate::auth::{BearerGrant, bearer_token};
use crate::error::{AlpacaErrorBody, ApiError};
use crate::extract::AlpacaQuery;
use crate::state::AppState;
use crate::trading::stream::{
    BATCH, POLL_EVERY, Recheck, SEND_TIMEOUT, Since, TradeUpdate, recheck,
};

/// One Server-Sent Event as OpenAPI (before 3.2) describes a `text/event-stream`
/// body: its `id`, and its `data`, a trade update as JSON text.
#[derive(utoipa::ToSchema)]
#[allow(
    dead_code,
    reason = "a schema of the document, not a value the code builds"
)]
pub struct SseEvent {
    id: String,
    /// A `TradeUpdate`, as JSON.
    data: String,
}

/// Where the stream stops: after an event id, or at a time.
#[derive(Clone, Copy, Debug)]
enum Until {
    At(DateTime<Utc>),
    Id(i64),
}

impl Until {
    /// Whether `event` is past it.
    fn passed_by(self, event: &StreamEvent) -> bool {
        match self {
            Until::At(at) => event.event.at > at,
            Until::Id(id) => event.seq > id,
        }
    }

    /// Whether nothing more can come: the time has passed, or the stream has sent the
    /// last event it may.
    fn reached(self, last: i64, now: DateTime<Utc>) -> bool {
        match self {
            Until::At(at) => now > at,
            Until::Id(id) => last >= id,
        }
    }
}

/// A bound given as `name` (an event id or a time) or `id_name` (an event id).
fn bound(query: &Params, name: &str, id_name: &str) -> Result<Option<Since>, ApiError> {
    let (name, text) = match (query.get(id_name), query.get(name)) {
        (Some(text), _) => (id_name, text),
        (None, Some(text)) => (name, text),
        (None, None) => return Ok(None),
    };
    let parsed = if name == id_name {
        text.trim().parse().ok().map(Since::After)
    } else {
        Since::parse(text)
    };
    parsed
        .map(Some)
        .ok_or_else(|| super::query_error(name, text, "give an event id or an RFC 3339 time"))
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
        (status = 200, description = "An event stream: each event's `data` is a trade update (the JSON of `TradeUpdate`)", content_type = "text/event-stream", body = SseEvent),
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
    let until = bound(&query, "until", "until_id")?.map(|u| match u {
        Since::After(id) => Until::Id(id),
        Since::At(at) => Until::At(at),
    });
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    let account = grant.account_id;
    let start = match (resume, since) {
        (Some(id), _) => id,
        (None, Some(since)) => since.resume_after(&state, account).await?,
        (None, None) => state.store.latest_trade_event(account).await?,
    };
    // The extractor checked it; kept to check again when a revocation comes.
    let token = bearer_token(&headers)?.to_owned();
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
    until: Option<Until>,
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
            // A long backlog: the token may have been revoked meanwhile.
            if !matches!(recheck(&state, &token, env).await, Recheck::Valid) {
                return;
            }
        }
        if until.is_some_and(|u| u.reached(last, state.clock.now())) {
            return;
        }
        // Woken by its account's change (read the events), by its token's or client's
        // (check it), or by the poll (check it).
        loop {
            let check = tokio::select! {
                change = changes.recv() => match change {
                    Ok(Invalidation::Account(id)) if id == account => break,
                    Ok(Invalidation::Token(d)) => Some(d) == digest,
                    Ok(Invalidation::Client(_)) => true,
                    Err(RecvError::Lagged(_)) => break,
                    Ok(_) => false,
                    Err(RecvError::Closed) => return,
                },
                _ = poll.tick() => true,
                () = events.closed() => return,
            };
            if check && !matches!(recheck(&state, &token, env).await, Recheck::Valid) {
                return;
            }
            if until.is_some_and(|u| u.reached(last, state.clock.now())) {
                return;
            }
        }
    }
}
