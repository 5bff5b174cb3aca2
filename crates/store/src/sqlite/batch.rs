//! Group commit: SQLite has one writer, and a commit costs a sync, so every write is
//! made by one task, many to a transaction.
//!
//! Two kinds of work wait for the task. New tokens and codes (the bulk of the writes
//! under load) are rows: the task takes every row waiting (up to [`MAX_BATCH`]) and
//! writes them in one `INSERT` per table. Should that fail (a foreign key, a taken
//! id), each row is written again on its own, so that only the rows at fault are
//! refused, each with its own error. Every other write is a unit of work ([`Lent`]):
//! the task lends it the group's transaction inside a savepoint, and takes it back
//! when the unit commits (the savepoint is released) or is dropped (rolled back to the
//! savepoint), then lends it to the next. The group then commits once, and only then
//! is each row and each unit told that it is done: nothing is answered before it is
//! durable.

use std::time::Duration;

use paddock_core::oauth::grant::{CodeGrant, NewToken};
use paddock_core::secret::Digest;
use paddock_core::store::{StoreError, StoreResult};
use sqlx::{Sqlite, SqliteConnection, SqlitePool, Transaction};
use tokio::sync::{mpsc, oneshot};

use super::backend;
use super::grants::{codes_insert, insert_code, insert_token, tokens_insert};

/// The most rows in one transaction (ten bound values each, well under SQLite's limit
/// of 32,766 per statement).
const MAX_BATCH: usize = 512;

/// Requests waiting for the writer at most; more wait to hand theirs over.
const QUEUE: usize = 4_096;

/// The longest a request waits for the writer (to take its row, or to lend it the
/// transaction) before it is answered that the database is unavailable: what the
/// pool's acquire timeout was before there was a writer.
const WAIT: Duration = Duration::from_secs(30);

/// A grant to write.
pub enum Grant {
    Token(NewToken),
    Code(Digest, CodeGrant),
}

enum Job {
    Row(Grant, oneshot::Sender<StoreResult<()>>),
    Unit(oneshot::Sender<Lent>),
}

/// Told once the group's commit has ended, with how.
type Done = oneshot::Sender<StoreResult<()>>;

/// The group's transaction, lent to one unit of work inside a savepoint: statements
/// run on it as on a transaction (`&mut *lent`). [`Lent::commit`] keeps the unit's
/// changes and returns once the group is committed; dropping it undoes them.
pub struct Lent {
    tx: Option<Transaction<'static, Sqlite>>,
    back: Option<oneshot::Sender<Returned>>,
}

/// What a unit of work gives back: the transaction, and whether to keep its changes
/// (with whom to tell when they are committed).
struct Returned {
    tx: Transaction<'static, Sqlite>,
    keep: Option<Done>,
}

impl Lent {
    pub async fn commit(mut self) -> StoreResult<()> {
        let (done, committed) = oneshot::channel();
        self.give_back(Some(done));
        committed.await.map_err(|_| stopped())?
    }

    fn give_back(&mut self, keep: Option<Done>) {
        if let (Some(tx), Some(back)) = (self.tx.take(), self.back.take()) {
            // A writer that has stopped drops the transaction, which rolls it back.
            let _ = back.send(Returned { tx, keep });
        }
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        self.give_back(None);
    }
}

impl std::ops::Deref for Lent {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        self.tx.as_ref().expect("held until given back")
    }
}

impl std::ops::DerefMut for Lent {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.tx.as_mut().expect("held until given back")
    }
}

fn stopped() -> StoreError {
    StoreError::Unavailable("the database writer has stopped".into())
}

/// The handle requests write through; the task ends when the last handle is dropped.
#[derive(Clone)]
pub struct GroupCommit {
    jobs: mpsc::Sender<Job>,
}

impl GroupCommit {
    /// Starts the writer task on `writes`, the store's one write connection.
    pub fn start(writes: SqlitePool) -> Self {
        let (jobs, queue) = mpsc::channel(QUEUE);
        tokio::spawn(write_batches(writes, queue));
        Self { jobs }
    }

    /// Writes `row`, returning once it is committed.
    pub async fn write(&self, row: Grant) -> StoreResult<()> {
        let (done, answer) = oneshot::channel();
        within(WAIT, async {
            self.jobs
                .send(Job::Row(row, done))
                .await
                .map_err(|_| stopped())?;
            answer.await.map_err(|_| stopped())?
        })
        .await
    }

    /// A unit of work, on the group's transaction once the writer comes to it.
    pub async fn lend(&self) -> StoreResult<Lent> {
        let (lend, lent) = oneshot::channel();
        within(WAIT, async {
            self.jobs
                .send(Job::Unit(lend))
                .await
                .map_err(|_| stopped())?;
            // No transaction could be begun (the writer says why to the rows of its
            // group; a unit learns only that it has none).
            lent.await
                .map_err(|_| StoreError::Unavailable("no transaction could be begun".into()))
        })
        .await
    }
}

/// `work`, or `Unavailable` once `limit` has passed (a lent transaction that arrives
/// too late is dropped with the future, which gives it back).
async fn within<T>(limit: Duration, work: impl Future<Output = StoreResult<T>>) -> StoreResult<T> {
    tokio::time::timeout(limit, work).await.unwrap_or_else(|_| {
        Err(StoreError::Unavailable(format!(
            "the database writer did not answer within {} s",
            limit.as_secs()
        )))
    })
}

/// Tells the units that kept their changes that the group failed with `e`, and
/// returns it.
fn fail(kept: &mut Vec<Done>, e: StoreError) -> StoreError {
    for unit in kept.drain(..) {
        let _ = unit.send(Err(copy(&e)));
    }
    e
}

async fn write_batches(writes: SqlitePool, mut queue: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let mut rows = Vec::new();
        let mut answers = Vec::new();
        let mut units = Vec::new();
        for job in batch.drain(..) {
            match job {
                Job::Row(row, answer) => {
                    rows.push(row);
                    answers.push(answer);
                }
                Job::Unit(lend) => units.push(lend),
            }
        }
        let (results, done) = match write(&writes, &rows, units).await {
            Ok(written) => written,
            Err(e) => (rows.iter().map(|_| Err(copy(&e))).collect(), Vec::new()),
        };
        // Requests that stopped waiting have nobody to tell.
        for (answer, result) in answers.into_iter().zip(results) {
            let _ = answer.send(result);
        }
        for (unit, result) in done {
            let _ = unit.send(result);
        }
    }
}

/// The result of each row, and each unit that kept its changes with the result of
/// the commit.
type Written = (Vec<StoreResult<()>>, Vec<(Done, StoreResult<()>)>);

/// One transaction for all of `rows` and `units`, or the error that failed them all.
async fn write(
    writes: &SqlitePool,
    rows: &[Grant],
    units: Vec<oneshot::Sender<Lent>>,
) -> StoreResult<Written> {
    let mut tx = writes
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(backend)?;
    let together = insert_tokens(&mut tx, rows)
        .await
        .and(insert_codes(&mut tx, rows).await);
    let results = match together {
        Ok(()) => rows.iter().map(|_| Ok(())).collect(),
        Err(_) => {
            // A failed statement changes nothing, but one of the two may have
            // succeeded: start again from an empty transaction.
            tx.rollback().await.map_err(backend)?;
            tx = writes
                .begin_with("BEGIN IMMEDIATE")
                .await
                .map_err(backend)?;
            let mut results = Vec::with_capacity(rows.len());
            for row in rows {
                let result = match row {
                    Grant::Token(token) => insert_token(&mut tx, token, None).await,
                    Grant::Code(digest, grant) => insert_code(&mut tx, digest, grant).await,
                };
                // Only a row's own fault (a taken id, a missing party) leaves the
                // transaction as it was; anything else (a full disk, an I/O error)
                // may have rolled it back, and fails the group.
                if let Err(e @ (StoreError::Backend(_) | StoreError::Unavailable(_))) = result {
                    return Err(e);
                }
                results.push(result);
            }
            results
        }
    };
    let mut kept = Vec::new();
    for unit in units {
        sqlx::query("SAVEPOINT unit")
            .execute(&mut *tx)
            .await
            .map_err(|e| fail(&mut kept, backend(e)))?;
        let (back, returned) = oneshot::channel();
        let lent = Lent {
            tx: Some(tx),
            back: Some(back),
        };
        // A unit whose requester has gone comes straight back, and is undone.
        if let Err(mut unclaimed) = unit.send(lent) {
            unclaimed.give_back(None);
        }
        let Ok(Returned { tx: given, keep }) = returned.await else {
            // The transaction was dropped without coming back (the runtime is
            // shutting down): it is rolled back, and the group with it.
            return Err(fail(&mut kept, stopped()));
        };
        tx = given;
        let end = match keep {
            Some(_) => "RELEASE unit",
            None => "ROLLBACK TO unit; RELEASE unit",
        };
        sqlx::raw_sql(end)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        kept.extend(keep);
    }
    let committed = tx.commit().await.map_err(backend);
    let outcome = || committed.as_ref().map(|_| ()).map_err(copy);
    let results = match &committed {
        Ok(()) => results,
        Err(_) => rows.iter().map(|_| outcome()).collect(),
    };
    let done = kept.into_iter().map(|unit| (unit, outcome())).collect();
    Ok((results, done))
}

async fn insert_tokens(tx: &mut Transaction<'static, Sqlite>, rows: &[Grant]) -> StoreResult<()> {
    let tokens: Vec<_> = rows
        .iter()
        .filter_map(|row| match row {
            Grant::Token(token) => Some((token, None)),
            Grant::Code(..) => None,
        })
        .collect();
    if tokens.is_empty() {
        return Ok(());
    }
    tokens_insert(tokens)
        .build()
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
    Ok(())
}

async fn insert_codes(tx: &mut Transaction<'static, Sqlite>, rows: &[Grant]) -> StoreResult<()> {
    let codes: Vec<_> = rows
        .iter()
        .filter_map(|row| match row {
            Grant::Code(digest, grant) => Some((digest, grant)),
            Grant::Token(_) => None,
        })
        .collect();
    if codes.is_empty() {
        return Ok(());
    }
    codes_insert(codes)
        .build()
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
    Ok(())
}

/// The same error for each row of a batch that failed as a whole.
fn copy(e: &StoreError) -> StoreError {
    match e {
        StoreError::Unavailable(message) => StoreError::Unavailable(message.clone()),
        other => StoreError::Backend(other.to_string().into()),
    }
}
