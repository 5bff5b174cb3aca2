//! `serve --demo`: fixed, public demo data, seeded idempotently, so that the README's
//! walk-through works as printed. Never use it on a server others can reach.

use chrono::{DateTime, Utc};
use paddock_core::env::Env;
use paddock_core::ids::{AccountId, BrokerId, BrokerKeyId, ClientId, UserId};
use paddock_core::model::{Account, Broker, Client, ClientStatus, User};
use paddock_core::oauth::redirect::RedirectUri;
use paddock_core::password::{Email, PasswordHash};
use paddock_core::secret::{BrokerSecret, ClientSecret};
use paddock_core::store::Store;
use rust_decimal::Decimal;
use uuid::uuid;

pub const BROKER_ID: BrokerId = BrokerId::from_uuid(uuid!("d88d3021-ad15-44bd-a504-8b62ea7306ff"));
pub const BROKER_KEY_ID: &str = "BK4OLDFU9OHK0DHWEBVR";
pub const BROKER_SECRET: &str = "4cd51201f5a4802abd1d46c8f167e720a5ff985a";
pub const USER_ID: UserId = UserId::from_uuid(uuid!("09d8585a-f555-4574-8b8f-9c425a3a76d8"));
pub const USER_EMAIL: &str = "demo@paddock.local";
pub const USER_PASSWORD: &str = "paddock-demo";
/// The argon2id hash of [`USER_PASSWORD`] (argon2's default parameters), made once: the
/// password is public, and hashing it at every fresh start was half of that start's
/// time (about 50 ms of 90).
const USER_PASSWORD_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$QIIY4lregXb4cLtppwamVA$bNpBnIRrrLlwJoNKBx/gasQhKW0g2q71TaaP64KgSyI";
pub const LIVE_ACCOUNT_ID: AccountId =
    AccountId::from_uuid(uuid!("ab6cde63-e019-460a-a418-5aa347549646"));
pub const PAPER_ACCOUNT_ID: AccountId =
    AccountId::from_uuid(uuid!("eb5e157c-f03e-4671-a464-6a0649a4542f"));
pub const CLIENT_ID: &str = "dfb6e06fcdb65cb9034ac9c8dcbe027f";
pub const CLIENT_SECRET: &str = "f9dd36aff4e3075d0dab4d4d177fce265a284d55";
/// A loopback redirect: any port matches (RFC 8252 §7.3).
pub const REDIRECT_URI: &str = "http://localhost:8000/callback";

fn fixed<T, E: std::fmt::Display>(what: &str, parsed: Result<T, E>) -> anyhow::Result<T> {
    parsed.map_err(|e| anyhow::anyhow!("demo {what}: {e}"))
}

/// Seeds the demo broker, user, live and paper accounts and client, leaving whatever
/// already exists in place, except that the demo client's secret and status are reset
/// so that the printed credentials work.
pub async fn seed(store: &dyn Store, now: DateTime<Utc>) -> anyhow::Result<()> {
    if store.broker(BROKER_ID).await?.is_none() {
        let secret = fixed("broker secret", BrokerSecret::parse(BROKER_SECRET))?;
        store
            .create_broker(&Broker {
                id: BROKER_ID,
                name: "Demo Brokerage".into(),
                key_id: fixed("broker key id", BrokerKeyId::parse(BROKER_KEY_ID))?,
                secret_digest: secret.digest(),
                created_at: now,
            })
            .await?;
    }
    if store.user(USER_ID).await?.is_none() {
        let hash = PasswordHash::from_stored(USER_PASSWORD_HASH.to_owned());
        store
            .create_user(&User {
                id: USER_ID,
                email: fixed("e-mail", Email::parse(USER_EMAIL))?,
                password_hash: hash,
                created_at: now,
            })
            .await?;
    }
    for (id, env, number) in [
        (LIVE_ACCOUNT_ID, Env::Live, "100000001"),
        (PAPER_ACCOUNT_ID, Env::Paper, "PADEMO000001"),
    ] {
        if store.account(id).await?.is_none() {
            store
                .create_account(&Account {
                    id,
                    user_id: USER_ID,
                    broker_id: BROKER_ID,
                    env,
                    account_number: number.into(),
                    cash: Decimal::from(100_000),
                    created_at: now,
                })
                .await?;
        }
    }
    let client_id = fixed("client id", ClientId::parse(CLIENT_ID))?;
    let secret = fixed("client secret", ClientSecret::parse(CLIENT_SECRET))?;
    if store.client(&client_id).await?.is_none() {
        store
            .create_client(&Client {
                client_id,
                broker_id: BROKER_ID,
                secret_digest: secret.digest(),
                name: "Demo Trading App".into(),
                description: "A sample third-party app that wants to trade on your behalf.".into(),
                url: "https://example.com".into(),
                terms_of_use: "https://example.com/terms".into(),
                privacy_policy: "https://example.com/privacy".into(),
                status: ClientStatus::Active,
                redirect_uris: vec![fixed("redirect URI", RedirectUri::parse(REDIRECT_URI))?],
                live_trading_approved: true,
                created_at: now,
            })
            .await?;
    } else {
        store
            .set_client_secret(&client_id, &secret.digest(), now)
            .await?;
        store
            .set_client_status(&client_id, ClientStatus::Active, now)
            .await?;
    }
    Ok(())
}

/// The demo client's authorization request: both accounts, trading scopes.
pub fn authorization_url(base: &str) -> String {
    format!(
        "{base}/oauth/authorize?response_type=code&client_id={CLIENT_ID}\
         &redirect_uri=http%3A%2F%2Flocalhost%3A8000%2Fcallback&state=demo-state\
         &scope=account%3Awrite%20trading"
    )
}

/// What `serve --demo` prints: every credential and the walk-through. The README shows
/// this text for `http://127.0.0.1:8080` word for word (a test holds them together), so
/// that the two cannot drift apart.
pub fn instructions(base: &str) -> String {
    let authorize = authorization_url(base);
    format!(
        r#"paddock demo data (public credentials: never expose this server)

  broker    key id {BROKER_KEY_ID}
            secret {BROKER_SECRET}
  client    client_id     {CLIENT_ID}
            client_secret {CLIENT_SECRET}
            redirect_uri  {REDIRECT_URI}   (any port on localhost matches)
  user      {USER_EMAIL} / {USER_PASSWORD}
  accounts  live  {LIVE_ACCOUNT_ID}
            paper {PAPER_ACCOUNT_ID}

Walk-through (the README has the same steps):

1. Open this URL in a browser, sign in as {USER_EMAIL} / {USER_PASSWORD},
   and click Allow:

   {authorize}

   The browser goes on to {REDIRECT_URI}?code=…&state=demo-state&iss=…
   Nothing listens there: copy the code from the address bar.

2. Exchange the code for an access token (put the code in CODE):

   curl -s {base}/oauth/token -d grant_type=authorization_code -d "code=$CODE" \
     -d client_id={CLIENT_ID} -d client_secret={CLIENT_SECRET} \
     --data-urlencode redirect_uri={REDIRECT_URI}

   A code works once. Sending it again fails, and revokes the token it gave
   (RFC 9700): for a new token, go back to step 1.

3. Call the Trading API with the token (put it in TOKEN), on the paper base
   and on the live base:

   curl -s {base}/paper/v2/account -H "Authorization: Bearer $TOKEN"
   curl -s {base}/v2/account -H "Authorization: Bearer $TOKEN"

4. See the app on your connected apps page, and revoke it there:

   {base}/account/apps

5. A broker skips the browser: it asks the Broker API for a code for the
   paper account, which the app exchanges as in step 2:

   curl -s -u {BROKER_KEY_ID}:{BROKER_SECRET} {base}/v1/oauth/authorize \
     -H 'Content-Type: application/json' \
     -d '{{"client_id":"{CLIENT_ID}","client_secret":"{CLIENT_SECRET}","redirect_uri":"{REDIRECT_URI}","scope":"account:write trading","account_id":"{PAPER_ACCOUNT_ID}"}}'

6. The broker revokes a token; it stops working at once:

   curl -s -X DELETE -u {BROKER_KEY_ID}:{BROKER_SECRET} {base}/v1/oauth/token/$TOKEN
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use paddock_core::password::Password;

    #[test]
    fn the_stored_hash_is_that_of_the_demo_password() {
        let hash = PasswordHash::from_stored(USER_PASSWORD_HASH.to_owned());
        let password = |p: &str| Password::new(p.to_owned()).expect("a valid password");
        assert!(hash.verify(&password(USER_PASSWORD)));
        assert!(!hash.verify(&password("paddock-demo2")));
    }
}
