//! Group commit: SQLite has one writer, and a commit costs a sync, so every write is
//! made by one task, many to a transaction, on a connection of its own.
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
//!
//! Each statement sent to SQLite is a round trip to the connection's own thread, and
//! on a busy machine each costs as much as the writing, so the task sends what it can
//! at once: `BEGIN`, the rows' inserts and `COMMIT` are one trip when the group has no
//! unit, and the end of one unit's savepoint goes with the start of the next.

use std::time::Duration;

use paddock_core::oauth::grant::{CodeGrant, NewToken};
use paddock_core::secret::Digest;
use paddock_core::store::{StoreError, StoreResult};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, QueryBuilder, Sqlite, SqliteConnection};
use tokio::sync::{mpsc, oneshot};

use super::backend;
use super::grants::{insert_code, insert_token, push_codes_insert, push_tokens_insert};

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

/// The writer's connection, inside the group's transaction, lent to one unit of work
/// inside a savepoint: statements run on it as on a transaction (`&mut *lent`).
/// [`Lent::commit`] keeps the unit's changes and returns once the group is committed;
/// dropping it undoes them.
pub struct Lent {
    conn: Option<SqliteConnection>,
    back: Option<oneshot::Sender<Returned>>,
}

/// What a unit of work gives back: the connection, and whether to keep its changes
/// (with whom to tell when they are committed).
struct Returned {
    conn: SqliteConnection,
    keep: Option<Done>,
}

impl Lent {
    pub async fn commit(mut self) -> StoreResult<()> {
        let (done, committed) = oneshot::channel();
        self.give_back(Some(done));
        committed.await.map_err(|_| stopped())?
    }

    fn give_back(&mut self, keep: Option<Done>) {
        if let (Some(conn), Some(back)) = (self.conn.take(), self.back.take()) {
            // A writer that has stopped drops the connection, which rolls back.
            let _ = back.send(Returned { conn, keep });
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
        self.conn.as_ref().expect("held until given back")
    }
}

impl std::ops::DerefMut for Lent {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.conn.as_mut().expect("held until given back")
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
    /// Starts the writer task on `conn`, the store's one write connection (opened
    /// again with `options` should a failed group leave it in doubt).
    pub fn start(options: SqliteConnectOptions, conn: SqliteConnection) -> Self {
        let (jobs, queue) = mpsc::channel(QUEUE);
        tokio::spawn(write_batches(options, conn, queue));
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

async fn write_batches(
    options: SqliteConnectOptions,
    conn: SqliteConnection,
    mut queue: mpsc::Receiver<Job>,
) {
    let mut conn = Some(conn);
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
        let connected = match conn.take() {
            Some(open) => Ok(open),
            None => options.connect().await.map_err(backend),
        };
        let written = match connected {
            Ok(open) => {
                let mut group = Group {
                    conn: Some(open),
                    kept: Vec::new(),
                };
                let written = group.write(&rows, units).await;
                // A group that failed may have left its transaction open: the
                // connection is closed (which rolls it back), and opened afresh.
                if written.is_ok() {
                    conn = group.conn.take();
                }
                written.map_err(|e| group.fail(e))
            }
            // The units' requests learn that no transaction could be begun.
            Err(e) => Err(e),
        };
        let (results, done) = match written {
            Ok(written) => written,
            Err(e) => (rows.iter().map(|_| Err(copy(&e))).collect(), Vec::new()),
        };
        // Requests that stopped waiting have nobody to tell.
        for (answer, result) in answers.into_iter().zip(results) {
            let _ = answer.send(result);
        }
        for unit in done {
            let _ = unit.send(Ok(()));
        }
    }
}

/// The result of each row, and the units that kept their changes, once committed.
type Written = (Vec<StoreResult<()>>, Vec<Done>);

/// One group's transaction on the writer's connection (`None` while a unit holds it,
/// or once lost), and the units that kept their changes in it.
struct Group {
    conn: Option<SqliteConnection>,
    kept: Vec<Done>,
}

impl Group {
    fn conn(&mut self) -> StoreResult<&mut SqliteConnection> {
        self.conn.as_mut().ok_or_else(stopped)
    }

    /// Runs `sql` (statements without parameters).
    async fn run(&mut self, sql: &'static str) -> StoreResult<()> {
        sqlx::raw_sql(sql)
            .execute(self.conn()?)
            .await
            .map_err(backend)?;
        Ok(())
    }

    /// Tells the units that kept their changes that the group failed with `e`, and
    /// returns it.
    fn fail(&mut self, e: StoreError) -> StoreError {
        for unit in self.kept.drain(..) {
            let _ = unit.send(Err(copy(&e)));
        }
        e
    }

    /// One transaction for all of `rows` and `units`, or the error that failed them all.
    async fn write(
        &mut self,
        rows: &[Grant],
        units: Vec<oneshot::Sender<Lent>>,
    ) -> StoreResult<Written> {
        // What follows the rows: the first unit's savepoint, or the end.
        let then = if units.is_empty() {
            "COMMIT"
        } else {
            "SAVEPOINT unit"
        };
        let mut together = QueryBuilder::new("BEGIN IMMEDIATE; ");
        push_inserts(&mut together, rows);
        together.push(then);
        let results = match together.build().execute(self.conn()?).await {
            Ok(_) => rows.iter().map(|_| Ok(())).collect(),
            Err(_) => {
                // A statement failed (or the commit did): undo whatever went in, and
                // write each row on its own, so that only the rows at fault fail.
                let _ = self.run("ROLLBACK").await;
                let results = self.write_one_by_one(rows).await?;
                self.run(then).await?;
                results
            }
        };
        let count = units.len();
        for (i, unit) in units.into_iter().enumerate() {
            let (back, returned) = oneshot::channel();
            let lent = Lent {
                conn: self.conn.take(),
                back: Some(back),
            };
            // A unit whose requester has gone comes straight back, and is undone.
            if let Err(mut unclaimed) = unit.send(lent) {
                unclaimed.give_back(None);
            }
            // A connection dropped without coming back (the runtime is shutting
            // down) rolls back, and the group with it.
            let Returned { conn, keep } = returned.await.map_err(|_| stopped())?;
            self.conn = Some(conn);
            let last = i + 1 == count;
            let end_and_next = match (keep.is_some(), last) {
                (true, false) => "RELEASE unit; SAVEPOINT unit",
                (true, true) => "RELEASE unit; COMMIT",
                (false, false) => "ROLLBACK TO unit; RELEASE unit; SAVEPOINT unit",
                (false, true) => "ROLLBACK TO unit; RELEASE unit; COMMIT",
            };
            self.kept.extend(keep);
            self.run(end_and_next).await?;
        }
        Ok((results, std::mem::take(&mut self.kept)))
    }

    /// Begins again, and writes each row on its own: only a row's own fault (a taken
    /// id, a missing party) fails it alone.
    async fn write_one_by_one(&mut self, rows: &[Grant]) -> StoreResult<Vec<StoreResult<()>>> {
        self.run("BEGIN IMMEDIATE").await?;
        let conn = self.conn()?;
        let mut results = Vec::with_capacity(rows.len());
        for row in rows {
            let result = match row {
                Grant::Token(token) => insert_token(conn, token, None).await,
                Grant::Code(digest, grant) => insert_code(conn, digest, grant).await,
            };
            // Anything else (a full disk, an I/O error) may have rolled the
            // transaction back, and fails the group.
            if let Err(e @ (StoreError::Backend(_) | StoreError::Unavailable(_))) = result {
                return Err(e);
            }
            results.push(result);
        }
        Ok(results)
    }
}

/// Appends to `sql` one `INSERT` for the tokens and one for the codes among `rows`,
/// each followed by `; `.
fn push_inserts(sql: &mut QueryBuilder<Sqlite>, rows: &[Grant]) {
    let tokens: Vec<_> = rows
        .iter()
        .filter_map(|row| match row {
            Grant::Token(token) => Some((token, None)),
            Grant::Code(..) => None,
        })
        .collect();
    if !tokens.is_empty() {
        push_tokens_insert(sql, tokens);
        sql.push("; ");
    }
    let codes: Vec<_> = rows
        .iter()
        .filter_map(|row| match row {
            Grant::Code(digest, grant) => Some((digest, grant)),
            Grant::Token(_) => None,
        })
        .collect();
    if !codes.is_empty() {
        push_codes_insert(sql, codes);
        sql.push("; ");
    }
}

/// The same error for each row of a batch that failed as a whole.
fn copy(e: &StoreError) -> StoreError {
    match e {
        StoreError::Unavailable(message) => StoreError::Unavailable(message.clone()),
        other => StoreError::Backend(other.to_string().into()),
    }
}
