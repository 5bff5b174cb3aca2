use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paddock_core::ClientId;
use paddock_core::ids::{AccountId, BrokerId, GrantId, UserId};
use paddock_core::model::ClientStatus;
use paddock_core::oauth::grant::{
    AccountBinding, CodeGrant, GrantSummary, NewToken, PresentedCode, Redemption, TokenGrant,
    TokenIssue, redeem_in,
};
use paddock_core::oauth::pkce::CodeChallenge;
use paddock_core::oauth::scope::ScopeSet;
use paddock_core::secret::Digest;
use paddock_core::store::{CodeState, GrantStore, GrantTx, Invalidation, StoreResult};
use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;

use super::nodes::log_invalidation;
use super::{PgStore, PgTx, backend, corrupt, digest_from, parse_field, uuid, write_error};

fn accounts_from_row(row: &PgRow) -> StoreResult<AccountBinding> {
    let id = |column: &str| -> StoreResult<Option<AccountId>> {
        let id: Option<Uuid> = row.try_get(column).map_err(backend)?;
        Ok(id.map(AccountId::from_uuid))
    };
    AccountBinding::new(id("live_account_id")?, id("paper_account_id")?)
        .ok_or_else(|| corrupt("a grant without an account".into()))
}

fn scopes_from_row(row: &PgRow) -> StoreResult<ScopeSet> {
    let text: String = row.try_get("scopes").map_err(backend)?;
    ScopeSet::parse(&text).map_err(|e| corrupt(e.to_string()))
}

fn client_id_from_row(row: &PgRow) -> StoreResult<ClientId> {
    let text: String = row.try_get("client_id").map_err(backend)?;
    ClientId::parse(&text).map_err(|e| corrupt(e.to_string()))
}

fn uuid_from_row(row: &PgRow, column: &str) -> StoreResult<Uuid> {
    row.try_get(column).map_err(backend)
}

fn code_from_row(row: &PgRow) -> StoreResult<CodeGrant> {
    let challenge: Option<String> = row.try_get("code_challenge").map_err(backend)?;
    Ok(CodeGrant {
        client_id: client_id_from_row(row)?,
        user_id: UserId::from_uuid(uuid_from_row(row, "user_id")?),
        redirect_uri: row.try_get("redirect_uri").map_err(backend)?,
        scopes: scopes_from_row(row)?,
        accounts: accounts_from_row(row)?,
        code_challenge: challenge
            .as_deref()
            .map(CodeChallenge::parse)
            .transpose()
            .map_err(|e| corrupt(e.to_string()))?,
        created_at: row.try_get("created_at").map_err(backend)?,
        expires_at: row.try_get("expires_at").map_err(backend)?,
    })
}

/// The account ids of a binding, to bind as two nullable UUIDs.
fn account_uuids(accounts: &AccountBinding) -> StoreResult<(Option<Uuid>, Option<Uuid>)> {
    Ok((
        accounts.live().map(uuid).transpose()?,
        accounts.paper().map(uuid).transpose()?,
    ))
}

async fn insert_token<'c>(
    executor: impl sqlx::PgExecutor<'c>,
    token: &NewToken,
) -> StoreResult<()> {
    let (live, paper) = account_uuids(&token.accounts)?;
    sqlx::query(
        "INSERT INTO tokens (digest, id, client_id, user_id, scopes, live_account_id, \
         paper_account_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&token.digest.as_bytes()[..])
    .bind(uuid(token.id)?)
    .bind(token.client_id.as_str())
    .bind(uuid(token.user_id)?)
    .bind(token.scopes.to_string())
    .bind(live)
    .bind(paper)
    .bind(token.created_at)
    .bind(token.expires_at)
    .execute(executor)
    .await
    .map_err(write_error)?;
    Ok(())
}

#[async_trait]
impl GrantStore for PgStore {
    async fn redeem_code(&self, presented: PresentedCode) -> StoreResult<Redemption> {
        let mut tx = PgTx {
            tx: self.write().await?,
        };
        let outcome = redeem_in(&mut tx, &presented).await?;
        tx.tx.commit().await.map_err(backend)?;
        Ok(outcome)
    }

    async fn insert_code(&self, digest: &Digest, grant: &CodeGrant) -> StoreResult<()> {
        let (live, paper) = account_uuids(&grant.accounts)?;
        sqlx::query(
            "INSERT INTO auth_codes (digest, client_id, user_id, redirect_uri, scopes, \
             live_account_id, paper_account_id, code_challenge, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&digest.as_bytes()[..])
        .bind(grant.client_id.as_str())
        .bind(uuid(grant.user_id)?)
        .bind(&grant.redirect_uri)
        .bind(grant.scopes.to_string())
        .bind(live)
        .bind(paper)
        .bind(grant.code_challenge.as_ref().map(|c| c.as_str().to_owned()))
        .bind(grant.created_at)
        .bind(grant.expires_at)
        .execute(&self.pool)
        .await
        .map_err(write_error)?;
        Ok(())
    }

    async fn insert_token(&self, token: &NewToken) -> StoreResult<()> {
        // One statement, committed on its own: one round trip, where a transaction
        // around it took three (BEGIN, INSERT, COMMIT).
        insert_token(&self.pool, token).await
    }

    async fn token(&self, digest: &Digest) -> StoreResult<Option<TokenGrant>> {
        let row = sqlx::query(
            "SELECT t.id, t.client_id, c.broker_id, c.status, t.user_id, t.scopes, \
             t.live_account_id, t.paper_account_id, t.created_at, t.expires_at, \
             t.last_used_at, t.revoked_at \
             FROM tokens t JOIN clients c ON c.client_id = t.client_id \
             WHERE t.digest = $1",
        )
        .bind(&digest.as_bytes()[..])
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let status: String = row.try_get("status").map_err(backend)?;
        let status: ClientStatus = parse_field("client status", &status)?;
        Ok(Some(TokenGrant {
            id: GrantId::from_uuid(uuid_from_row(&row, "id")?),
            client_id: client_id_from_row(&row)?,
            client_broker_id: BrokerId::from_uuid(uuid_from_row(&row, "broker_id")?),
            client_active: status == ClientStatus::Active,
            user_id: UserId::from_uuid(uuid_from_row(&row, "user_id")?),
            scopes: scopes_from_row(&row)?,
            accounts: accounts_from_row(&row)?,
            created_at: row.try_get("created_at").map_err(backend)?,
            expires_at: row.try_get("expires_at").map_err(backend)?,
            last_used_at: row.try_get("last_used_at").map_err(backend)?,
            revoked_at: row.try_get("revoked_at").map_err(backend)?,
        }))
    }

    async fn revoke_token(&self, digest: &Digest, now: DateTime<Utc>) -> StoreResult<bool> {
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE digest = $2",
        )
        .bind(now)
        .bind(&digest.as_bytes()[..])
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        log_invalidation(&mut tx, &Invalidation::Token(*digest), now).await?;
        tx.commit().await.map_err(backend)?;
        Ok(true)
    }

    async fn grants_of_user(
        &self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<GrantSummary>> {
        let rows = sqlx::query(
            "SELECT t.id, t.client_id, c.name, t.scopes, t.live_account_id, \
             t.paper_account_id, t.created_at, t.last_used_at \
             FROM tokens t JOIN clients c ON c.client_id = t.client_id \
             WHERE t.user_id = $1 AND t.revoked_at IS NULL \
             AND (t.expires_at IS NULL OR t.expires_at > $2) \
             ORDER BY t.created_at DESC, t.id",
        )
        .bind(uuid(user)?)
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|row| {
                Ok(GrantSummary {
                    id: GrantId::from_uuid(uuid_from_row(row, "id")?),
                    client_id: client_id_from_row(row)?,
                    client_name: row.try_get("name").map_err(backend)?,
                    scopes: scopes_from_row(row)?,
                    accounts: accounts_from_row(row)?,
                    created_at: row.try_get("created_at").map_err(backend)?,
                    last_used_at: row.try_get("last_used_at").map_err(backend)?,
                })
            })
            .collect()
    }

    async fn revoke_grant(
        &self,
        user: UserId,
        grant: GrantId,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Digest>> {
        let mut tx = self.write().await?;
        let digest: Option<Vec<u8>> = sqlx::query_scalar(
            "UPDATE tokens SET revoked_at = COALESCE(revoked_at, $1) \
             WHERE id = $2 AND user_id = $3 RETURNING digest",
        )
        .bind(now)
        .bind(uuid(grant)?)
        .bind(uuid(user)?)
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
        let Some(digest) = digest else {
            return Ok(None);
        };
        let digest = digest_from("token digest", &digest)?;
        log_invalidation(&mut tx, &Invalidation::Token(digest), now).await?;
        tx.commit().await.map_err(backend)?;
        Ok(Some(digest))
    }

    async fn touch_tokens(&self, used: &[(Digest, DateTime<Utc>)]) -> StoreResult<()> {
        if used.is_empty() {
            return Ok(());
        }
        let digests: Vec<&[u8]> = used.iter().map(|(d, _)| &d.as_bytes()[..]).collect();
        let times: Vec<DateTime<Utc>> = used.iter().map(|(_, at)| *at).collect();
        // One statement for the batch; a digest listed twice counts its latest use, and
        // a time never moves backwards (as SQLite's one update per pair does).
        sqlx::query(
            "UPDATE tokens t SET last_used_at = u.at \
             FROM (SELECT digest, max(at) AS at \
                   FROM UNNEST($1::bytea[], $2::timestamptz[]) AS x (digest, at) \
                   GROUP BY digest) u \
             WHERE t.digest = u.digest AND (t.last_used_at IS NULL OR t.last_used_at < u.at)",
        )
        .bind(digests)
        .bind(times)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn purge_codes(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        // Callers keep spent codes well past expiry, so that a late replay is still
        // recognised and revokes the token issued from the code.
        let done = sqlx::query("DELETE FROM auth_codes WHERE expires_at < $1")
            .bind(before)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected())
    }
}

#[async_trait]
impl GrantTx for PgTx {
    async fn spend_code(&mut self, digest: &Digest, issue: &TokenIssue) -> StoreResult<CodeState> {
        // The conditional update is the guard: a concurrent unit of work spending the
        // same code waits for this one's row lock, then re-reads the row, finds it
        // redeemed, and updates nothing. Exactly one sees the code fresh.
        let spent = sqlx::query(
            "UPDATE auth_codes SET redeemed_at = $1, token_digest = $2 \
             WHERE digest = $3 AND redeemed_at IS NULL \
             RETURNING client_id, user_id, redirect_uri, scopes, live_account_id, \
             paper_account_id, code_challenge, created_at, expires_at",
        )
        .bind(issue.issued_at)
        .bind(&issue.digest.as_bytes()[..])
        .bind(&digest.as_bytes()[..])
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(backend)?;
        if let Some(row) = spent {
            return Ok(CodeState::Fresh(code_from_row(&row)?));
        }
        let known = sqlx::query("SELECT 1 FROM auth_codes WHERE digest = $1")
            .bind(&digest.as_bytes()[..])
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(backend)?
            .is_some();
        Ok(if known {
            CodeState::Spent
        } else {
            CodeState::Unknown
        })
    }

    async fn insert_token(&mut self, token: &NewToken) -> StoreResult<()> {
        insert_token(&mut *self.tx, token).await
    }

    async fn revoke_tokens_of_code(
        &mut self,
        code: &Digest,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Digest>> {
        let revoked: Vec<Vec<u8>> = sqlx::query_scalar(
            "UPDATE tokens SET revoked_at = $1 \
             WHERE digest = (SELECT token_digest FROM auth_codes WHERE digest = $2) \
             AND revoked_at IS NULL RETURNING digest",
        )
        .bind(now)
        .bind(&code.as_bytes()[..])
        .fetch_all(&mut *self.tx)
        .await
        .map_err(backend)?;
        let mut digests = Vec::with_capacity(revoked.len());
        for bytes in revoked {
            let digest = digest_from("token digest", &bytes)?;
            log_invalidation(&mut self.tx, &Invalidation::Token(digest), now).await?;
            digests.push(digest);
        }
        Ok(digests)
    }
}
