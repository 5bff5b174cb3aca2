//! The change feed: `LISTEN` on a connection of its own, so that a node learns of
//! another's revocation as soon as it commits.

use std::time::Duration;

use async_trait::async_trait;
use paddock_core::store::{ChangeFeed, StoreError, StoreResult};
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;
use tokio::task::JoinHandle;

use super::backend;

/// The channel every invalidation is announced on (`pg_notify` in the writing
/// transaction). It is database-wide: nodes using other schemas of the database wake
/// too, and find nothing new in their own log, which costs one read.
pub(super) const CHANNEL: &str = "paddock_invalidations";

/// The longest `next` waits without a notification: a notification lost in transit
/// costs this much delay, never a stale cache.
pub(super) const FALLBACK: Duration = Duration::from_millis(500);

/// A feed fed by a task that owns the listener: the task never has its receive
/// cancelled halfway (as a timeout around it would), and wakes are coalesced in a
/// one-slot channel, since one read of the log covers any number of changes.
pub(super) struct NotifiedFeed {
    wakes: mpsc::Receiver<Result<(), String>>,
    task: JoinHandle<()>,
}

impl NotifiedFeed {
    pub(super) async fn listen(
        connect: PgConnectOptions,
        acquire_timeout: Duration,
    ) -> StoreResult<Self> {
        // One connection, held for the feed's life; the store's pool keeps its
        // capacity for queries.
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(acquire_timeout)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(connect)
            .await
            .map_err(backend)?;
        let mut listener = PgListener::connect_with(&pool).await.map_err(backend)?;
        // Reconnecting is the caller's (by asking for a new feed): notifications sent
        // while the connection was down are lost, so it must re-read the log anyway.
        listener.eager_reconnect(false);
        listener.listen(CHANNEL).await.map_err(backend)?;
        let (sender, wakes) = mpsc::channel(1);
        let task = tokio::spawn(forward(listener, sender));
        Ok(Self { wakes, task })
    }
}

/// Passes each notification on as a wake, until the connection is lost or the feed
/// is dropped.
async fn forward(mut listener: PgListener, wakes: mpsc::Sender<Result<(), String>>) {
    let lost = loop {
        match listener.try_recv().await {
            Ok(Some(_)) => match wakes.try_send(Ok(())) {
                // A wake already pending covers this one.
                Ok(()) | Err(TrySendError::Full(_)) => {}
                Err(TrySendError::Closed(_)) => return,
            },
            Ok(None) => break "the connection was lost".to_owned(),
            Err(e) => break e.to_string(),
        }
    };
    // The feed may be gone already; then nobody needs telling.
    wakes.send(Err(lost)).await.ok();
}

#[async_trait]
impl ChangeFeed for NotifiedFeed {
    async fn next(&mut self) -> StoreResult<()> {
        match tokio::time::timeout(FALLBACK, self.wakes.recv()).await {
            Ok(Some(Ok(()))) | Err(_) => Ok(()),
            Ok(Some(Err(lost))) => Err(StoreError::Unavailable(format!(
                "the change feed stopped: {lost}"
            ))),
            Ok(None) => Err(StoreError::Unavailable("the change feed stopped".into())),
        }
    }
}

impl Drop for NotifiedFeed {
    fn drop(&mut self) {
        self.task.abort();
    }
}
