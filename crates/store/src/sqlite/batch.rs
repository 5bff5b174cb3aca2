//! Group commit: SQLite has one writer, and a commit costs a sync, so every write is
//! made by one task, many to a transaction, on a connection of its own.
//!
//! Three kinds of work wait for the task. New tokens and codes (the bulk of the writes
//! under load) are rows: the task takes every row waiting (up to [`MAX_BATCH`]) and
//! writes them in one `INSERT` per table. Should that fail (a foreign key, a taken
//! id), each row is written again on its own, so that only the rows at fault are
//! refused, each with its own error. Codes presented for redemption are spent in one
//! `UPDATE`, and the tokens that the fresh ones grant stored in one `INSERT`; a code
//! that was not fresh (spent, unknown, presented twice in the group) and every code
//! of a group where that failed is redeemed as a unit of work, on its own, by core's
//! rule. Every other write is a unit of work ([`Lent`]):
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

use std::collections::HashSet;
use std::time::Duration;

use paddock_core::oauth::grant::{CodeGrant, NewToken, PresentedCode, Redemption};
use paddock_core::secret::Digest;
use paddock_core::store::{StoreError, StoreResult};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, QueryBuilder, Row, Sqlite, SqliteConnection};
use tokio::sync::{mpsc, oneshot};

use super::grants::{
    code_from_row, insert_code, insert_token, push_codes_insert, push_tokens_insert,
};
use super::{backend, corrupt, ts};

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
    Redeem(PresentedCode, oneshot::Sender<Redeemed>),
}

/// How the writer dealt with a code presented for redemption.
pub enum Redeemed {
    /// Redeemed with the others of its group, and committed (or not, with why).
    Done(StoreResult<Redemption>),
    /// Not a plain case: redeem it in this unit of work.
    Yourself(Lent),
}

/// Who a unit of work's transaction is lent to.
enum Borrower {
    Unit(oneshot::Sender<Lent>),
    Redemption(oneshot::Sender<Redeemed>),
}

impl Borrower {
    /// Lends `lent`, or gives it back when nobody waits for it any more.
    fn lend(self, lent: Lent) -> Result<(), Lent> {
        match self {
            Borrower::Unit(to) => to.send(lent),
            Borrower::Redemption(to) => match to.send(Redeemed::Yourself(lent)) {
                Err(Redeemed::Yourself(lent)) => Err(lent),
                Ok(()) | Err(Redeemed::Done(_)) => Ok(()),
            },
        }
    }
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
    ///
    /// The task has a thread and a runtime of its own. On the server's runtime, each
    /// of a group's statements (one round trip to the connection's thread) woke it
    /// behind the requests queued there, and the one writer, which every write waits
    /// for, spent a quarter of each group waiting to run (BENCHMARKS.md).
    pub fn start(options: SqliteConnectOptions, conn: SqliteConnection) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel(QUEUE);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        std::thread::Builder::new()
            .name("paddock-writer".into())
            .spawn(move || runtime.block_on(write_batches(options, conn, queue)))?;
        Ok(Self { jobs })
    }

    /// Writes `row`, returning once it is committed.
    pub async fn write(&self, row: Grant) -> StoreResult<()> {
        self.ask(|done| Job::Row(row, done)).await?
    }

    /// Redeems `presented` with the others of its group, or lends a unit of work to
    /// redeem it in.
    pub async fn redeem(&self, presented: PresentedCode) -> StoreResult<Redeemed> {
        self.ask(|done| Job::Redeem(presented, done)).await
    }

    /// A unit of work, on the group's transaction once the writer comes to it.
    pub async fn lend(&self) -> StoreResult<Lent> {
        self.ask(Job::Unit).await
    }

    /// Hands the writer the job `make` builds around its reply, and waits for the
    /// reply, or `Unavailable` once [`WAIT`] has passed (a lent transaction that
    /// arrives too late is dropped with the future, which gives it back).
    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Job) -> StoreResult<T> {
        let (reply, answer) = oneshot::channel();
        let asked = async {
            self.jobs.send(make(reply)).await.map_err(|_| stopped())?;
            // The writer drops a reply unsent when it could begin no transaction for
            // it (it says why to the rows of its group), or when it stopped.
            answer
                .await
                .map_err(|_| StoreError::Unavailable("no transaction could be begun".into()))
        };
        tokio::time::timeout(WAIT, asked).await.unwrap_or_else(|_| {
            Err(StoreError::Unavailable(format!(
                "the database writer did not answer within {} s",
                WAIT.as_secs()
            )))
        })
    }
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
        let mut presented = Vec::new();
        let mut units = Vec::new();
        for job in batch.drain(..) {
            match job {
                Job::Row(row, answer) => {
                    rows.push(row);
                    answers.push(answer);
                }
                // A requester that has gone is not answered: its code stays fresh.
                Job::Redeem(_, answer) if answer.is_closed() => {}
                Job::Redeem(code, answer) => presented.push((code, answer)),
                Job::Unit(lend) => units.push(Borrower::Unit(lend)),
            }
        }
        let connected = match conn.take() {
            Some(open) => Ok(open),
            None => options.connect().await.map_err(backend),
        };
        let results = match connected {
            Ok(open) => {
                let mut group = Group {
                    conn: Some(open),
                    pending: Vec::new(),
                    kept: Vec::new(),
                    redeemed: Vec::new(),
                };
                match group.write(&rows, presented, units).await {
                    Ok(results) => {
                        conn = group.conn.take();
                        for unit in group.kept {
                            let _ = unit.send(Ok(()));
                        }
                        for (answer, outcome) in group.redeemed {
                            let _ = answer.send(Redeemed::Done(Ok(outcome)));
                        }
                        results
                    }
                    // A group that failed may have left its transaction open: the
                    // connection is closed (which rolls it back), and opened afresh.
                    Err(e) => {
                        group.fail(&e);
                        rows.iter().map(|_| Err(copy(&e))).collect()
                    }
                }
            }
            // The units and redemptions learn that no transaction could be begun.
            Err(e) => rows.iter().map(|_| Err(copy(&e))).collect(),
        };
        // Requests that stopped waiting have nobody to tell.
        for (answer, result) in answers.into_iter().zip(results) {
            let _ = answer.send(result);
        }
    }
}

/// One group's transaction on the writer's connection (`None` while a unit holds it,
/// or once lost); the statements without parameters to send with the next; and who
/// is told once the group commits: the units that kept their changes, the
/// redemptions done together.
struct Group {
    conn: Option<SqliteConnection>,
    pending: Vec<&'static str>,
    kept: Vec<Done>,
    redeemed: Vec<(oneshot::Sender<Redeemed>, Redemption)>,
}

/// A code presented, and who waits for its redemption.
type Presented = (PresentedCode, oneshot::Sender<Redeemed>);

impl Group {
    fn conn(&mut self) -> StoreResult<&mut SqliteConnection> {
        self.conn.as_mut().ok_or_else(stopped)
    }

    /// A statement that begins with the pending ones.
    fn after_pending(&mut self) -> QueryBuilder<Sqlite> {
        let mut sql = QueryBuilder::new("");
        for statement in self.pending.drain(..) {
            sql.push(statement).push("; ");
        }
        sql
    }

    /// Sends the pending statements.
    async fn flush(&mut self) -> StoreResult<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut sql = self.after_pending();
        sql.build().execute(self.conn()?).await.map_err(backend)?;
        Ok(())
    }

    /// Tells everyone waiting for the group's commit that it failed with `e`.
    fn fail(&mut self, e: &StoreError) {
        for unit in self.kept.drain(..) {
            let _ = unit.send(Err(copy(e)));
        }
        for (answer, _) in self.redeemed.drain(..) {
            let _ = answer.send(Redeemed::Done(Err(copy(e))));
        }
    }

    /// One transaction for all of `rows`, `presented` and `units`, or the error that
    /// failed them all; returns each row's result.
    async fn write(
        &mut self,
        rows: &[Grant],
        presented: Vec<Presented>,
        mut units: Vec<Borrower>,
    ) -> StoreResult<Vec<StoreResult<()>>> {
        self.pending.push("BEGIN IMMEDIATE");
        let codes: Vec<&PresentedCode> = presented.iter().map(|(code, _)| code).collect();
        let units_follow = !units.is_empty();
        let (results, outcomes, committed) = match self.together(rows, &codes, units_follow).await {
            Ok(done) => done,
            Err(_) => {
                // A statement failed (or the commit did): undo whatever went in, and
                // write each row on its own, so that only the rows at fault fail;
                // every code is then redeemed on its own.
                self.pending.clear();
                let _ = sqlx::raw_sql("ROLLBACK").execute(self.conn()?).await;
                self.pending.push("BEGIN IMMEDIATE");
                let results = self.write_one_by_one(rows).await?;
                (results, codes.iter().map(|_| None).collect(), false)
            }
        };
        for ((_, answer), outcome) in presented.into_iter().zip(outcomes) {
            match outcome {
                Some(outcome) => self.redeemed.push((answer, outcome)),
                None => units.push(Borrower::Redemption(answer)),
            }
        }
        for unit in units {
            self.pending.push("SAVEPOINT unit");
            self.flush().await?;
            let (back, returned) = oneshot::channel();
            let lent = Lent {
                conn: self.conn.take(),
                back: Some(back),
            };
            // A unit whose requester has gone comes straight back, and is undone.
            if let Err(mut unclaimed) = unit.lend(lent) {
                unclaimed.give_back(None);
            }
            // A connection dropped without coming back (the runtime is shutting
            // down) rolls back, and the group with it.
            let Returned { conn, keep } = returned.await.map_err(|_| stopped())?;
            self.conn = Some(conn);
            if keep.is_none() {
                self.pending.push("ROLLBACK TO unit");
            }
            self.pending.push("RELEASE unit");
            self.kept.extend(keep);
        }
        // Also a group with nothing to write (its redemptions' requesters all gone)
        // ends the transaction it began.
        if !committed {
            self.pending.push("COMMIT");
        }
        self.flush().await?;
        Ok(results)
    }

    /// The quick way: every row in one `INSERT` per table; every code spent in one
    /// `UPDATE`, and the tokens the fresh ones grant in one `INSERT`. The last of
    /// these statements carries the group's `COMMIT` when nothing follows it (no unit
    /// waits, `units_follow`, and no code is left to redeem on its own): one round
    /// trip fewer. Returns each row's result; each code's redemption, `None` for the
    /// codes to redeem on their own (not fresh, or presented twice); and whether the
    /// group is committed.
    async fn together(
        &mut self,
        rows: &[Grant],
        codes: &[&PresentedCode],
        units_follow: bool,
    ) -> StoreResult<(Vec<StoreResult<()>>, Vec<Option<Redemption>>, bool)> {
        let mut outcomes: Vec<Option<Redemption>> = codes.iter().map(|_| None).collect();
        // Nothing follows the statement about to be sent: no unit waits, and every
        // code is decided (none at all, before the codes are spent).
        let last =
            |outcomes: &[Option<Redemption>]| !units_follow && outcomes.iter().all(Option::is_some);
        let mut committed = false;
        if !rows.is_empty() {
            let mut sql = self.after_pending();
            push_inserts(&mut sql, rows);
            if last(&outcomes) {
                sql.push("COMMIT");
                committed = true;
            }
            sql.build().execute(self.conn()?).await.map_err(backend)?;
        }
        let results = rows.iter().map(|_| Ok(())).collect();
        if codes.is_empty() {
            return Ok((results, outcomes, committed));
        }
        let mut spend = self.after_pending();
        spend
            .push("UPDATE auth_codes SET redeemed_at = v.column2, token_digest = v.column3 FROM (");
        // Each code once: which of two rows `UPDATE ... FROM` takes is SQLite's choice.
        let mut seen = HashSet::new();
        let once = codes.iter().filter(|code| seen.insert(code.code));
        spend.push_values(once, |mut values, code| {
            values
                .push_bind(code.code.as_bytes().to_vec())
                .push_bind(ts(code.issue.issued_at))
                .push_bind(code.issue.digest.as_bytes().to_vec());
        });
        spend.push(
            ") AS v WHERE auth_codes.digest = v.column1 AND auth_codes.redeemed_at IS NULL \
             RETURNING digest, client_id, user_id, redirect_uri, scopes, live_account_id, \
             paper_account_id, code_challenge, created_at, expires_at",
        );
        let spent = spend
            .build()
            .fetch_all(self.conn()?)
            .await
            .map_err(backend)?;
        let mut tokens = Vec::new();
        for row in &spent {
            let bytes: Vec<u8> = row.try_get("digest").map_err(backend)?;
            let digest = Digest::from_bytes(&bytes).ok_or_else(|| corrupt("code digest".into()))?;
            let grant = code_from_row(row)?;
            // The first to present it has it; any other finds it spent.
            let Some(first) = codes.iter().position(|code| code.code == digest) else {
                return Err(corrupt("a code spent that was not presented".into()));
            };
            outcomes[first] = Some(match codes[first].decide(&grant) {
                Ok(token) => {
                    tokens.push(token);
                    Redemption::Issued(grant)
                }
                Err(refusal) => Redemption::Refused(refusal),
            });
        }
        if !tokens.is_empty() {
            let mut insert = self.after_pending();
            push_tokens_insert(&mut insert, &tokens);
            if last(&outcomes) {
                insert.push("; COMMIT");
                committed = true;
            }
            insert
                .build()
                .execute(self.conn()?)
                .await
                .map_err(backend)?;
        }
        Ok((results, outcomes, committed))
    }

    /// Writes each row on its own: only a row's own fault (a taken id, a missing
    /// party) fails it alone.
    async fn write_one_by_one(&mut self, rows: &[Grant]) -> StoreResult<Vec<StoreResult<()>>> {
        self.flush().await?;
        let conn = self.conn()?;
        let mut results = Vec::with_capacity(rows.len());
        for row in rows {
            let result = match row {
                Grant::Token(token) => insert_token(conn, token).await,
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
            Grant::Token(token) => Some(token),
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
