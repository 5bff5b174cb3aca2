use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paddock_core::ids::ClientId;
use paddock_core::ids::{AccountId, GrantId, UserId};
use paddock_core::model::ClientStatus;
use paddock_core::oauth::grant::{
    AccountBinding, CodeGrant, GrantSummary, NewToken, PresentedCode, Redemption, TokenGrant,
    TokenIssue, redeem_in,
};
use paddock_core::oauth::pkce::CodeChallenge;
use paddock_core::oauth::scope::ScopeSet;
use paddock_core::secret::Digest;
use paddock_core::store::{
    CodeState, Conflict, GrantStore, GrantTx, Invalidation, Missing, StoreError, StoreResult,
};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};

use super::batch::{Grant, Redeemed};
use super::nodes::log_invalidation;
use super::{
    SqliteStore, SqliteTx, backend, corrupt, must_exist, parse_field, parse_opt_ts, parse_ts, ts,
    write_error,
};

fn accounts_from_row(row: &SqliteRow) -> StoreResult<AccountBinding> {
    let id = |column: &str| -> StoreResult<Option<AccountId>> {
        let text: Option<String> = row.try_get(column).map_err(backend)?;
        text.as_deref()
            .map(|t| parse_field("account id", t))
            .transpose()
    };
    AccountBinding::new(id("live_account_id")?, id("paper_account_id")?)
        .ok_or_else(|| corrupt("a grant without an account".into()))
}

fn scopes_from_row(row: &SqliteRow) -> StoreResult<ScopeSet> {
    let text: String = row.try_get("scopes").map_err(backend)?;
    ScopeSet::parse(&text).map_err(|e| corrupt(e.to_string()))
}

pub(super) fn code_from_row(row: &SqliteRow) -> StoreResult<CodeGrant> {
    let challenge: Option<String> = row.try_get("code_challenge").map_err(backend)?;
    Ok(CodeGrant {
        client_id: parse_client_id(row)?,
        user_id: parse_field("user id", row.try_get("user_id").map_err(backend)?)?,
        redirect_uri: row.try_get("redirect_uri").map_err(backend)?,
        scopes: scopes_from_row(row)?,
        accounts: accounts_from_row(row)?,
        code_challenge: challenge
            .as_deref()
            .map(CodeChallenge::parse)
            .transpose()
            .map_err(|e| corrupt(e.to_string()))?,
        created_at: parse_ts(row.try_get("created_at").map_err(backend)?)?,
        expires_at: parse_ts(row.try_get("expires_at").map_err(backend)?)?,
    })
}

fn parse_client_id(row: &SqliteRow) -> StoreResult<ClientId> {
    let text: String = row.try_get("client_id").map_err(backend)?;
    ClientId::parse(&text).map_err(|e| corrupt(e.to_string()))
}

/// Appends `INSERT INTO auth_codes` of `codes`, one row each, to `insert`: the one
/// statement that writes codes, alone or in a group (batch.rs).
pub(super) fn push_codes_insert<'a>(
    insert: &mut QueryBuilder<Sqlite>,
    codes: impl IntoIterator<Item = (&'a Digest, &'a CodeGrant)>,
) {
    insert.push(
        "INSERT INTO auth_codes (digest, client_id, user_id, redirect_uri, scopes, \
         live_account_id, paper_account_id, code_challenge, created_at, expires_at) ",
    );
    insert.push_values(codes, |mut values, (digest, grant)| {
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
    });
}

/// Appends `INSERT INTO tokens` of `tokens`, one row each, to `insert`: the one
/// statement that writes tokens, alone or in a group (batch.rs).
pub(super) fn push_tokens_insert<'a>(
    insert: &mut QueryBuilder<Sqlite>,
    tokens: impl IntoIterator<Item = &'a NewToken>,
) {
    insert.push(
        "INSERT INTO tokens (digest, id, client_id, user_id, scopes, live_account_id, \
         paper_account_id, created_at, expires_at) ",
    );
    insert.push_values(tokens, |mut values, token| {
        values
            .push_bind(token.digest.as_bytes().to_vec())
            .push_bind(token.id.to_string())
            .push_bind(token.client_id.as_str().to_owned())
            .push_bind(token.user_id.to_string())
            .push_bind(token.scopes.to_string())
            .push_bind(token.accounts.live().map(|a| a.to_string()))
            .push_bind(token.accounts.paper().map(|a| a.to_string()))
            .push_bind(ts(token.created_at))
            .push_bind(token.expires_at.map(ts));
    });
}

pub(super) async fn insert_code(
    tx: &mut SqliteConnection,
    digest: &Digest,
    grant: &CodeGrant,
) -> StoreResult<()> {
    let mut insert = QueryBuilder::new("");
    push_codes_insert(&mut insert, [(digest, grant)]);
    let done = insert.build().execute(&mut *tx).await;
    match done {
        Ok(_) => Ok(()),
        Err(e) if is_foreign_key_violation(&e) => {
            Err(missing_party(tx, &grant.client_id, grant.user_id, grant.accounts).await)
        }
        Err(e) => Err(write_error(e, Conflict::IdTaken)),
    }
}

pub(super) async fn insert_token(
    executor: &mut SqliteConnection,
    token: &NewToken,
) -> StoreResult<()> {
    let mut insert = QueryBuilder::new("");
    push_tokens_insert(&mut insert, [token]);
    let done = insert.build().execute(&mut *executor).await;
    match done {
        Ok(_) => Ok(()),
        Err(e) if is_foreign_key_violation(&e) => {
            Err(missing_party(executor, &token.client_id, token.user_id, token.accounts).await)
        }
        Err(e) => Err(write_error(e, Conflict::IdTaken)),
    }
}

fn is_foreign_key_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_foreign_key_violation())
}

/// Which record a grant refers to is missing. Asked only after a foreign-key violation
/// (SQLite does not say which key failed), so the checks cost nothing on the way a
/// grant is normally written.
async fn missing_party(
    tx: &mut SqliteConnection,
    client: &ClientId,
    user: UserId,
    accounts: AccountBinding,
) -> StoreError {
    let mut checks = vec![
        (
            "SELECT 1 FROM clients WHERE client_id = $1",
            client.to_string(),
            Missing::Client,
        ),
        (
            "SELECT 1 FROM users WHERE id = $1",
            user.to_string(),
            Missing::User,
        ),
    ];
    for account in [accounts.live(), accounts.paper()].into_iter().flatten() {
        checks.push((
            "SELECT 1 FROM accounts WHERE id = $1",
            account.to_string(),
            Missing::Account,
        ));
    }
    for (exists, id, what) in checks {
        if let Err(missing) = must_exist(tx, exists, id, what).await {
            return missing;
        }
    }
    corrupt("a foreign key failed, yet every record it names exists".into())
}

#[async_trait]
impl GrantStore for SqliteStore {
    async fn redeem_code(&self, presented: PresentedCode) -> StoreResult<Redemption> {
        match self.batch.redeem(presented.clone()).await? {
            Redeemed::Done(outcome) => outcome,
            Redeemed::Yourself(lent) => {
                let mut tx = SqliteTx { tx: lent };
                let outcome = redeem_in(&mut tx, &presented).await?;
                tx.tx.commit().await?;
                Ok(outcome)
            }
        }
    }

    async fn insert_code(&self, digest: &Digest, grant: &CodeGrant) -> StoreResult<()> {
        self.batch.write(Grant::Code(*digest, grant.clone())).await
    }

    async fn insert_token(&self, token: &NewToken) -> StoreResult<()> {
        self.batch.write(Grant::Token(token.clone())).await
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
        .fetch_optional(&self.reads)
        .await
        .map_err(backend)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let status: ClientStatus =
            parse_field("client status", row.try_get("status").map_err(backend)?)?;
        Ok(Some(TokenGrant {
            id: parse_field("grant id", row.try_get("id").map_err(backend)?)?,
            client_id: parse_client_id(&row)?,
            client_broker_id: parse_field("broker id", row.try_get("broker_id").map_err(backend)?)?,
            client_active: status == ClientStatus::Active,
            user_id: parse_field("user id", row.try_get("user_id").map_err(backend)?)?,
            scopes: scopes_from_row(&row)?,
            accounts: accounts_from_row(&row)?,
            created_at: parse_ts(row.try_get("created_at").map_err(backend)?)?,
            expires_at: parse_opt_ts(row.try_get("expires_at").map_err(backend)?)?,
            last_used_at: parse_opt_ts(row.try_get("last_used_at").map_err(backend)?)?,
            revoked_at: parse_opt_ts(row.try_get("revoked_at").map_err(backend)?)?,
        }))
    }

    async fn revoke_token(&self, digest: &Digest, now: DateTime<Utc>) -> StoreResult<bool> {
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE digest = $2",
        )
        .bind(ts(now))
        .bind(&digest.as_bytes()[..])
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        log_invalidation(&mut tx, &Invalidation::Token(*digest), now).await?;
        tx.commit().await?;
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
        .bind(user.to_string())
        .bind(ts(now))
        .fetch_all(&self.reads)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|row| {
                Ok(GrantSummary {
                    id: parse_field("grant id", row.try_get("id").map_err(backend)?)?,
                    client_id: parse_client_id(row)?,
                    client_name: row.try_get("name").map_err(backend)?,
                    scopes: scopes_from_row(row)?,
                    accounts: accounts_from_row(row)?,
                    created_at: parse_ts(row.try_get("created_at").map_err(backend)?)?,
                    last_used_at: parse_opt_ts(row.try_get("last_used_at").map_err(backend)?)?,
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
        .bind(ts(now))
        .bind(grant.to_string())
        .bind(user.to_string())
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
        let Some(digest) = digest else {
            return Ok(None);
        };
        let digest = Digest::from_bytes(&digest).ok_or_else(|| corrupt("token digest".into()))?;
        log_invalidation(&mut tx, &Invalidation::Token(digest), now).await?;
        tx.commit().await?;
        Ok(Some(digest))
    }

    async fn touch_tokens(&self, used: &[(Digest, DateTime<Utc>)]) -> StoreResult<()> {
        if used.is_empty() {
            return Ok(());
        }
        let mut tx = self.write().await?;
        for (digest, at) in used {
            sqlx::query(
                "UPDATE tokens SET last_used_at = $1 \
                 WHERE digest = $2 AND (last_used_at IS NULL OR last_used_at < $1)",
            )
            .bind(ts(*at))
            .bind(&digest.as_bytes()[..])
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        }
        tx.commit().await
    }

    async fn purge_codes(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        // Callers keep spent codes well past expiry, so that a late replay is still
        // recognised and revokes the token issued from the code.
        let delete = sqlx::query("DELETE FROM auth_codes WHERE expires_at < $1").bind(ts(before));
        let done = self.write_one(delete, backend).await?;
        Ok(done.rows_affected())
    }
}

#[async_trait]
impl GrantTx for SqliteTx {
    async fn spend_code(&mut self, digest: &Digest, issue: &TokenIssue) -> StoreResult<CodeState> {
        let spent = sqlx::query(
            "UPDATE auth_codes SET redeemed_at = $1, token_digest = $2 \
             WHERE digest = $3 AND redeemed_at IS NULL \
             RETURNING client_id, user_id, redirect_uri, scopes, live_account_id, \
             paper_account_id, code_challenge, created_at, expires_at",
        )
        .bind(ts(issue.issued_at))
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
        insert_token(&mut self.tx, token).await
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
        .bind(ts(now))
        .bind(&code.as_bytes()[..])
        .fetch_all(&mut *self.tx)
        .await
        .map_err(backend)?;
        let mut digests = Vec::with_capacity(revoked.len());
        for bytes in revoked {
            let digest =
                Digest::from_bytes(&bytes).ok_or_else(|| corrupt("token digest".into()))?;
            log_invalidation(&mut self.tx, &Invalidation::Token(digest), now).await?;
            digests.push(digest);
        }
        Ok(digests)
    }
}
