//! The trade-updates stream (`/stream` and `/stream/` on both bases; SPEC §3.5), a
//! WebSocket that speaks Alpaca's protocol:
//!
//! 1. the client sends `{"action":"authenticate","data":{"oauth_token":"…"}}` and the
//!    very next message is `{"stream":"authorization","data":{"status":"authorized",…}}`
//!    (or `unauthorized`, and the connection closes); nothing is sent before it;
//! 2. `{"action":"listen","data":{"streams":["trade_updates"]}}` is answered
//!    `{"stream":"listening","data":{"streams":["trade_updates"]}}`;
//! 3. then each order event of the token's account on that base is one
//!    `{"stream":"trade_updates","data":{"event","timestamp","order",…}}` message.
//!
//! Events are the `trade_events` rows written in each order's transaction, read back
//! from the store after the last one sent, so a stream on any node sees every event of
//! every node once and in order. The node's change feed wakes a stream when its
//! account trades (a once-a-second poll covers a missed wake-up); a revoked token's
//! stream is closed within a second; a client that does not read is cut off rather than
//! buffered for.

use std::time::Duration;

use axum::Extension;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use paddock_core::env::Env;
use paddock_core::ids::{AccountId, ClientId};
use paddock_core::secret::{AccessToken, Digest};
use paddock_core::store::{Invalidation, StoreResult, StreamEvent};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use crate::auth::{Base, BearerRefusal, check_bearer};
use crate::state::AppState;
use crate::trading::orders::OrderResponse;
use crate::wire;

/// Where a stream resumes: after an event id, or from a time.
#[derive(Clone, Copy, Debug)]
pub enum Since {
    After(i64),
    At(chrono::DateTime<chrono::Utc>),
}

impl Since {
    /// An event id or an RFC 3339 time (or a date), as a client writes it.
    pub fn parse(text: &str) -> Option<Self> {
        if let Ok(id) = text.trim().parse::<i64>() {
            return Some(Since::After(id));
        }
        super::query_time("since", text).ok().map(Since::At)
    }

    /// The sequence number the stream goes on after.
    pub async fn resume_after(self, state: &AppState, account: AccountId) -> StoreResult<i64> {
        match self {
            Since::After(id) => Ok(id),
            Since::At(at) => state.store.trade_event_before(account, at).await,
        }
    }
}

/// What a stream's token says when checked again.
pub enum Recheck {
    Valid,
    /// Revoked, expired, or its client disabled: the stream ends.
    Refused,
    /// The database could not say: the stream ends, and the client may reconnect.
    Unavailable,
}

pub async fn recheck(state: &AppState, token: &str, env: Env) -> Recheck {
    match check_bearer(state, token, env).await {
        Ok(_) => Recheck::Valid,
        Err(BearerRefusal::Store(_)) => Recheck::Unavailable,
        Err(_) => Recheck::Refused,
    }
}

/// How long a new connection may take to authenticate.
const AUTH_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one message may take to go out before the client counts as not reading.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(5);
/// How often a stream checks its token without a wake-up (a revocation's wake-up may
/// be lost to a full buffer; events never are, since they are read from the store).
pub const POLL_EVERY: Duration = Duration::from_secs(1);
/// Idle connections are pinged this often, so that proxies keep them open.
const PING_EVERY: Duration = Duration::from_secs(20);
/// Events read from the store at once.
pub const BATCH: u32 = 500;
/// The one stream there is.
const TRADE_UPDATES: &str = "trade_updates";

/// The largest client message read: the protocol's are a few hundred bytes.
const MAX_MESSAGE: usize = 64 * 1024;

pub async fn trade_stream(
    upgrade: WebSocketUpgrade,
    State(state): State<AppState>,
    Extension(Base(env)): Extension<Base>,
) -> Response {
    upgrade
        .max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        .on_upgrade(move |socket| async move {
            let mut stream = Stream { socket, state, env };
            stream.run().await;
        })
}

/// A trade update's `data`, as Alpaca sends it (on the WebSocket, and as an SSE
/// event's `data`).
#[derive(Serialize)]
pub struct TradeUpdate {
    event: &'static str,
    /// When it happened (the Go SDK reads `at`, the others `timestamp`).
    #[serde(serialize_with = "wire::timestamp")]
    at: chrono::DateTime<chrono::Utc>,
    /// The event's sequence number: a stream resumes after it (`since` on SSE).
    event_id: String,
    #[serde(serialize_with = "wire::timestamp")]
    timestamp: chrono::DateTime<chrono::Utc>,
    order: OrderResponse,
    #[serde(skip_serializing_if = "Option::is_none")]
    price: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    qty: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    position_qty: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    execution_id: Option<String>,
}

impl From<&StreamEvent> for TradeUpdate {
    fn from(e: &StreamEvent) -> Self {
        let fill = e.event.fill;
        Self {
            event: e.event.kind.as_str(),
            at: e.event.at,
            event_id: e.seq.to_string(),
            timestamp: e.event.at,
            order: OrderResponse::from(&e.order.as_of(&e.event)),
            price: fill.map(|f| wire::amount(f.price)),
            qty: fill.map(|f| wire::amount(f.qty)),
            position_qty: fill.map(|f| wire::amount(f.position_qty)),
            execution_id: fill.map(|f| f.execution_id.to_string()),
        }
    }
}

/// `{"stream": "trade_updates", "data": …}` for `event`.
pub fn trade_update_message(event: &StreamEvent) -> Value {
    json!({"stream": TRADE_UPDATES, "data": TradeUpdate::from(event)})
}

fn authorization(status: &str, action: &str) -> Value {
    json!({"stream": "authorization", "data": {"status": status, "action": action}})
}

/// Who the stream is for, once authenticated.
struct Listener {
    token: String,
    digest: Digest,
    client_id: ClientId,
    account: AccountId,
}

/// Why a stream ends.
enum End {
    /// The client left, or the socket failed.
    Gone,
    /// The server ends it, telling the client why.
    Close(&'static str),
}

struct Stream {
    socket: WebSocket,
    state: AppState,
    env: Env,
}

impl Stream {
    async fn run(&mut self) {
        let listener = match tokio::time::timeout(AUTH_TIMEOUT, self.authenticate()).await {
            Ok(Ok(listener)) => listener,
            Ok(Err(End::Gone)) => return,
            Ok(Err(End::Close(reason))) => return self.close(reason).await,
            Err(_) => return self.close("authenticate within 30 seconds").await,
        };
        if let End::Close(reason) = self.serve(&listener).await {
            self.close(reason).await;
        }
    }

    async fn send(&mut self, value: &Value) -> Result<(), End> {
        let text = Utf8Bytes::from(value.to_string());
        match tokio::time::timeout(SEND_TIMEOUT, self.socket.send(Message::Text(text))).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(End::Gone),
            Err(_) => Err(End::Close(
                "the client is not reading its messages; reconnect and resume",
            )),
        }
    }

    async fn close(&mut self, reason: &'static str) {
        let frame = CloseFrame {
            code: axum::extract::ws::close_code::POLICY,
            reason: Utf8Bytes::from_static(reason),
        };
        let _ =
            tokio::time::timeout(SEND_TIMEOUT, self.socket.send(Message::Close(Some(frame)))).await;
    }

    /// The next JSON message from the client (text or binary frames); `End::Gone` when
    /// the client has gone. A frame that is not JSON is answered with an error message.
    async fn receive(&mut self) -> Result<Value, End> {
        loop {
            let bytes = match self.socket.recv().await {
                Some(Ok(Message::Text(text))) => text.as_bytes().to_vec(),
                Some(Ok(Message::Binary(bytes))) => bytes.to_vec(),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return Err(End::Gone),
            };
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(value) if value.is_object() => return Ok(value),
                _ => {
                    let error = json!({"stream": "error",
                        "data": {"error": "messages must be JSON objects with an action"}});
                    self.send(&error).await?;
                }
            }
        }
    }

    /// Waits for `authenticate` and answers it, as the very next message.
    async fn authenticate(&mut self) -> Result<Listener, End> {
        let message = self.receive().await?;
        let action = message["action"].as_str().unwrap_or("");
        let token = message["data"]["oauth_token"].as_str().unwrap_or("");
        if action != "authenticate" || token.is_empty() {
            let reply_to = if action == "listen" {
                "listen"
            } else {
                "authenticate"
            };
            self.send(&authorization("unauthorized", reply_to)).await?;
            return Err(End::Close(
                "authenticate first: {\"action\":\"authenticate\",\"data\":{\"oauth_token\":\"…\"}}",
            ));
        }
        let Ok(parsed) = AccessToken::parse(token) else {
            self.send(&authorization("unauthorized", "authenticate"))
                .await?;
            return Err(End::Close("the access token is not valid"));
        };
        match check_bearer(&self.state, token, self.env).await {
            Ok(grant) => {
                self.send(&authorization("authorized", "authenticate"))
                    .await?;
                Ok(Listener {
                    token: token.to_owned(),
                    digest: parsed.digest(),
                    client_id: grant.client_id,
                    account: grant.account_id,
                })
            }
            Err(BearerRefusal::Store(_)) => Err(End::Close(
                "the database is unavailable; reconnect in a moment",
            )),
            Err(_) => {
                self.send(&authorization("unauthorized", "authenticate"))
                    .await?;
                Err(End::Close("the access token is not valid on this base URL"))
            }
        }
    }

    /// Answers `listen`, and sends the account's events while listening, until the
    /// client leaves or the token stops being valid.
    async fn serve(&mut self, listener: &Listener) -> End {
        let mut changes = self.state.changes.subscribe();
        let mut listening = false;
        let mut last = 0;
        let mut poll = tokio::time::interval(POLL_EVERY);
        let mut ping = tokio::time::interval(PING_EVERY);
        ping.reset();
        loop {
            let result = tokio::select! {
                message = self.receive() => match message {
                    Ok(message) => self.answer(&message, &mut listening, &mut last, listener).await,
                    Err(end) => Err(end),
                },
                change = changes.recv() => {
                    let (ours, recheck) = match &change {
                        Ok(Invalidation::Account(id)) => (*id == listener.account, false),
                        Ok(Invalidation::Token(digest)) => (false, *digest == listener.digest),
                        Ok(Invalidation::Client(id)) => (false, *id == listener.client_id),
                        Ok(Invalidation::Prices) => (false, false),
                        // Fell behind the node's changes: read what there is.
                        Err(RecvError::Lagged(_)) => (true, true),
                        Err(RecvError::Closed) => return End::Close("the server is shutting down"),
                    };
                    self.react(listener, listening && ours, recheck, &mut last).await
                }
                _ = poll.tick() => self.react(listener, false, true, &mut last).await,
                _ = ping.tick() => {
                    let ping = self.socket.send(Message::Ping(Default::default()));
                    match tokio::time::timeout(SEND_TIMEOUT, ping).await {
                        Ok(Ok(())) => Ok(()),
                        Ok(Err(_)) => Err(End::Gone),
                        Err(_) => Err(End::Close(
                            "the client is not reading its messages; reconnect and resume",
                        )),
                    }
                }
            };
            if let Err(end) = result {
                return end;
            }
        }
    }

    async fn answer(
        &mut self,
        message: &Value,
        listening: &mut bool,
        last: &mut i64,
        listener: &Listener,
    ) -> Result<(), End> {
        match message["action"].as_str() {
            Some("listen") => {
                let asked: Vec<&str> = message["data"]["streams"]
                    .as_array()
                    .map(|streams| streams.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let now_listening = asked.contains(&TRADE_UPDATES);
                if now_listening && !*listening {
                    // Events from now on, or (paddock's addition, for a client that
                    // reconnects) after `since`: an event id, or an RFC 3339 time.
                    let unavailable = |_| End::Close("the database is unavailable; reconnect");
                    let given = &message["data"]["since"];
                    let since = match given {
                        Value::Number(n) => n.as_i64().map(Since::After),
                        Value::String(text) => Since::parse(text),
                        _ => None,
                    };
                    if since.is_none() && !given.is_null() {
                        let error = json!({"stream": "error", "data": {"error":
                            "since must be an event id or an RFC 3339 time"}});
                        return self.send(&error).await;
                    }
                    *last = match since {
                        Some(since) => since
                            .resume_after(&self.state, listener.account)
                            .await
                            .map_err(unavailable)?,
                        None => self
                            .state
                            .store
                            .latest_trade_event(listener.account)
                            .await
                            .map_err(unavailable)?,
                    };
                }
                *listening = now_listening;
                let streams: Vec<&str> = if now_listening {
                    vec![TRADE_UPDATES]
                } else {
                    vec![]
                };
                self.send(&json!({"stream": "listening", "data": {"streams": streams}}))
                    .await?;
                // What happened after `since`, at once.
                self.react(listener, now_listening, false, last).await
            }
            // Authenticated already: the same token is confirmed, another is refused
            // (a stream serves one token's account).
            Some("authenticate") => {
                let same = message["data"]["oauth_token"].as_str() == Some(listener.token.as_str());
                let status = if same { "authorized" } else { "unauthorized" };
                self.send(&authorization(status, "authenticate")).await
            }
            other => {
                let error = json!({"stream": "error", "data": {"error": format!(
                    "unknown action {}; use listen",
                    other.unwrap_or("(none)").chars().take(40).collect::<String>()
                )}});
                self.send(&error).await
            }
        }
    }

    /// Ends the stream, saying why, unless its token is still valid.
    async fn still_valid(&mut self, listener: &Listener) -> Result<(), End> {
        match recheck(&self.state, &listener.token, self.env).await {
            Recheck::Valid => Ok(()),
            Recheck::Unavailable => Err(End::Close("the database is unavailable; reconnect")),
            Recheck::Refused => {
                self.send(&authorization("unauthorized", "authenticate"))
                    .await?;
                Err(End::Close("the access token was revoked"))
            }
        }
    }

    /// Rechecks the token when asked to (closing the stream once it is revoked), and
    /// sends the account's new events when `deliver`.
    async fn react(
        &mut self,
        listener: &Listener,
        deliver: bool,
        recheck: bool,
        last: &mut i64,
    ) -> Result<(), End> {
        if recheck {
            self.still_valid(listener).await?;
        }
        if !deliver {
            return Ok(());
        }
        loop {
            let events = self
                .state
                .store
                .trade_events_after(listener.account, *last, BATCH)
                .await
                .map_err(|_| End::Close("the database is unavailable; reconnect"))?;
            for event in &events {
                self.send(&trade_update_message(event)).await?;
                *last = event.seq;
            }
            if events.len() < BATCH as usize {
                return Ok(());
            }
            // A long backlog: the token may have been revoked meanwhile.
            self.still_valid(listener).await?;
        }
    }
}
