//! Group commit of issued grants: SQLite has one writer, and a commit costs a sync, so
//! new tokens and codes are written by one task, many to a transaction.
//!
//! A request hands its row to the task and waits. The task takes every row waiting
//! (up to [`MAX_BATCH`]), writes them in one `INSERT` per table inside one
//! transaction, commits once, and only then answers each request: a grant is answered
//! only when it is durable. Should the combined insert fail (a foreign key, a taken
//! id), each row is written again on its own in that transaction, so that only the
//! rows at fault are refused, each with its own error.

use paddock_core::oauth::grant::{CodeGrant, NewToken};
use paddock_core::secret::Digest;
use paddock_core::store::{StoreError, StoreResult};
use sqlx::{QueryBuilder, Sqlite, SqlitePool, Transaction};
use tokio::sync::{mpsc, oneshot};

use super::grants::{insert_code, insert_token};
use super::{backend, ts};

/// The most rows in one transaction (ten bound values each, well under SQLite's limit
/// of 32,766 per statement).
const MAX_BATCH: usize = 512;

/// Requests waiting for the writer at most; more wait to hand theirs over.
const QUEUE: usize = 4_096;

/// A grant to write.
pub enum Grant {
    Token(NewToken),
    Code(Digest, CodeGrant),
}

type Job = (Grant, oneshot::Sender<StoreResult<()>>);

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
        let gone = || StoreError::Unavailable("the database writer has stopped".into());
        self.jobs.send((row, done)).await.map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

async fn write_batches(writes: SqlitePool, mut queue: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (rows, answers): (Vec<Grant>, Vec<_>) = batch.drain(..).unzip();
        let results = match write(&writes, &rows).await {
            Ok(results) => results,
            Err(e) => rows.iter().map(|_| Err(copy(&e))).collect(),
        };
        for (answer, result) in answers.into_iter().zip(results) {
            // A request that stopped waiting has nobody to tell.
            let _ = answer.send(result);
        }
    }
}

/// One transaction for all of `rows`: the result of each, or the error that failed
/// them all (no transaction, no commit).
async fn write(writes: &SqlitePool, rows: &[Grant]) -> StoreResult<Vec<StoreResult<()>>> {
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
                results.push(match row {
                    Grant::Token(token) => insert_token(&mut tx, token, None).await,
                    Grant::Code(digest, grant) => insert_code(&mut tx, digest, grant).await,
                });
            }
            results
        }
    };
    tx.commit().await.map_err(backend)?;
    Ok(results)
}

async fn insert_tokens(tx: &mut Transaction<'static, Sqlite>, rows: &[Grant]) -> StoreResult<()> {
    let tokens: Vec<&NewToken> = rows
        .iter()
        .filter_map(|row| match row {
            Grant::Token(token) => Some(token),
            Grant::Code(..) => None,
        })
        .collect();
    if tokens.is_empty() {
        return Ok(());
    }
    QueryBuilder::<Sqlite>::new(
        "INSERT INTO tokens (digest, id, client_id, user_id, scopes, live_account_id, \
         paper_account_id, code_digest, created_at, expires_at) ",
    )
    .push_values(tokens, |mut values, token| {
        values
            .push_bind(token.digest.as_bytes().to_vec())
            .push_bind(token.id.to_string())
            .push_bind(token.client_id.as_str().to_owned())
            .push_bind(token.user_id.to_string())
            .push_bind(token.scopes.to_string())
            .push_bind(token.accounts.live().map(|a| a.to_string()))
            .push_bind(token.accounts.paper().map(|a| a.to_string()))
            .push_bind(None::<Vec<u8>>)
            .push_bind(ts(token.created_at))
            .push_bind(token.expires_at.map(ts));
    })
    .build()
    .execute(&mut **tx)
    .await
    .map_err(backend)?;
    Ok(())
}

async fn insert_codes(tx: &mut Transaction<'static, Sqlite>, rows: &[Grant]) -> StoreResult<()> {
    let codes: Vec<(&Digest, &CodeGrant)> = rows
        .iter()
        .filter_map(|row| match row {
            Grant::Code(digest, grant) => Some((digest, grant)),
            Grant::Token(_) => None,
        })
        .collect();
    if codes.is_empty() {
        return Ok(());
    }
    QueryBuilder::<Sqlite>::new(
        "INSERT INTO auth_codes (digest, client_id, user_id, redirect_uri, scopes, \
         live_account_id, paper_account_id, code_challenge, created_at, expires_at) ",
    )
    .push_values(codes, |mut values, (digest, grant)| {
        values
            .push_bind(digest.as_bytes().to_vec())
            .push_bind(grant.client_id.as_str().to_owned())
            .push_bind(grant.user_id.to_string())
            .push_bind(grant.redirect_uri.clone())
            .push_bind(grant.scopes.to_string())
            .push_bind(grant.accounts.live().map(|a| a.to_string()))
            .push_bind(grant.accounts.paper().map(|a| a.to_string()))
            .push_bind(grant.code_challenge.as_ref().map(|c| c.as_str().to_owned()))
            .push_bind(ts(grant.created_at))
            .push_bind(ts(grant.expires_at));
    })
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
