//! What nodes share: throttles, the invalidation log, and the feed that wakes them.

use std::time::{Duration, Instant};

use paddock_core::ids::GrantId;
use paddock_core::model::ClientStatus;
use paddock_core::oauth::grant::{Redemption, RedemptionRequest, TokenIssue, redeem};
use paddock_core::secret::Digest;
use paddock_core::store::{Invalidation, StoreError};
use paddock_core::throttle::ThrottleWindow;
use sqlx::Connection as _;

use super::{Backend, Kind, at, client_id, grantable};

pub async fn throttles_are_saved_with_a_version_check(b: &Backend) {
    let store = b.store.as_ref();
    let window = |failures| ThrottleWindow {
        started: at(0),
        failures,
    };
    assert!(store.throttle("ip:1").await.unwrap().is_none());
    assert!(store.save_throttle("ip:1", &window(1), None).await.unwrap());
    assert!(
        !store.save_throttle("ip:1", &window(1), None).await.unwrap(),
        "a second first save loses"
    );
    let read = store.throttle("ip:1").await.unwrap().unwrap();
    assert_eq!(read.value, window(1));
    let version = read.version;
    assert!(
        store
            .save_throttle("ip:1", &window(2), Some(version))
            .await
            .unwrap()
    );
    assert!(
        !store
            .save_throttle("ip:1", &window(9), Some(version))
            .await
            .unwrap(),
        "a stale version loses"
    );
    let read = store.throttle("ip:1").await.unwrap().unwrap();
    assert_eq!(read.value, window(2));
    assert_ne!(read.version, version);
    let most = ThrottleWindow {
        started: at(5),
        failures: u32::MAX,
    };
    assert!(
        store
            .save_throttle("ip:1", &most, Some(read.version))
            .await
            .unwrap()
    );
    assert_eq!(store.throttle("ip:1").await.unwrap().unwrap().value, most);

    store.forget_throttle("ip:1").await.unwrap();
    assert!(store.throttle("ip:1").await.unwrap().is_none());
    store.forget_throttle("ip:1").await.unwrap();

    store.save_throttle("old", &window(1), None).await.unwrap();
    let recent = ThrottleWindow {
        started: at(100),
        failures: 1,
    };
    store.save_throttle("recent", &recent, None).await.unwrap();
    assert_eq!(store.purge_throttles(at(50)).await.unwrap(), 1);
    assert!(store.throttle("old").await.unwrap().is_none());
    assert!(store.throttle("recent").await.unwrap().is_some());
}

pub async fn every_change_is_logged_in_order(b: &Backend) {
    let store = b.store.as_ref();
    let g = grantable(store).await;
    assert_eq!(store.latest_invalidation().await.unwrap(), 0, "none yet");
    let (one, two) = (g.token("one", 0, None), g.token("two", 0, None));
    store.insert_token(&one).await.unwrap();
    store.insert_token(&two).await.unwrap();
    let code = Digest::of("code");
    store.insert_code(&code, &g.code(0)).await.unwrap();
    let request = RedemptionRequest {
        client_id: &g.client.client_id,
        redirect_uri: "https://app.example/cb",
        code_verifier: None,
    };
    let issue = TokenIssue {
        id: GrantId::random(),
        digest: Digest::of("from code"),
        issued_at: at(1),
        expires_at: None,
    };
    let first = redeem(store, &code, &request, &issue).await.unwrap();
    assert!(matches!(first, Redemption::Issued(_)));
    assert_eq!(
        store.latest_invalidation().await.unwrap(),
        0,
        "issuing logs nothing"
    );

    let id = &g.client.client_id;
    store.revoke_token(&one.digest, at(10)).await.unwrap();
    store.revoke_grant(g.user.id, two.id, at(20)).await.unwrap();
    store
        .set_client_status(id, ClientStatus::Disabled, at(30))
        .await
        .unwrap();
    store
        .set_client_secret(id, &Digest::of("new secret"), at(40))
        .await
        .unwrap();
    let late = TokenIssue {
        issued_at: at(50),
        ..issue
    };
    let replay = redeem(store, &code, &request, &late).await.unwrap();
    assert!(matches!(replay, Redemption::Replayed(_)));
    // What changes nothing logs nothing.
    store
        .revoke_token(&Digest::of("none"), at(60))
        .await
        .unwrap();
    let nobody = client_id();
    store
        .set_client_status(&nobody, ClientStatus::Active, at(60))
        .await
        .unwrap();
    store
        .revoke_grant(g.user.id, GrantId::random(), at(60))
        .await
        .unwrap();

    let log = store.invalidations_since(0).await.unwrap();
    let changes: Vec<_> = log.iter().map(|(_, c)| c.clone()).collect();
    assert_eq!(
        changes,
        [
            Invalidation::Token(one.digest),
            Invalidation::Token(two.digest),
            Invalidation::Client(id.clone()),
            Invalidation::Client(id.clone()),
            Invalidation::Token(Digest::of("from code")),
        ]
    );
    let seqs: Vec<i64> = log.iter().map(|(seq, _)| *seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    assert_eq!(store.latest_invalidation().await.unwrap(), seqs[4]);
    let since = store.invalidations_since(seqs[2]).await.unwrap();
    assert_eq!(since, log[3..].to_vec());
    assert!(store.invalidations_since(seqs[4]).await.unwrap().is_empty());

    assert_eq!(store.purge_invalidations(at(35)).await.unwrap(), 3);
    let left = store.invalidations_since(0).await.unwrap();
    assert_eq!(left, log[3..].to_vec());
    assert_eq!(store.latest_invalidation().await.unwrap(), seqs[4]);
}

/// How long `next` may take when nothing happens: the fallback wait, with slack.
const QUIET_BOUND: Duration = Duration::from_millis(1000);
/// How long PostgreSQL's notification may take, well below its 500 ms fallback.
const NOTIFIED_BOUND: Duration = Duration::from_millis(400);

pub async fn the_change_feed_wakes_after_a_change(b: &Backend) {
    let store = b.store.as_ref();
    let g = grantable(store).await;
    let mut feed = store.change_feed().await.unwrap();
    let started = Instant::now();
    feed.next().await.unwrap();
    assert!(started.elapsed() < QUIET_BOUND, "{:?}", started.elapsed());

    for round in 0..3 {
        let started = Instant::now();
        let status = [ClientStatus::Disabled, ClientStatus::Active][round % 2];
        store
            .set_client_status(&g.client.client_id, status, at(round as i64))
            .await
            .unwrap();
        feed.next().await.unwrap();
        let waited = started.elapsed();
        let bound = match b.kind {
            Kind::Sqlite => QUIET_BOUND,
            Kind::Postgres => NOTIFIED_BOUND,
        };
        assert!(waited < bound, "round {round}: woke after {waited:?}");
    }

    if b.kind == Kind::Postgres {
        a_lost_feed_says_so(b, feed).await;
    }
}

/// Ends the feed's connection from outside, as a restart or a network cut would: the
/// feed reports `Unavailable`, and a new feed works.
async fn a_lost_feed_says_so(b: &Backend, mut feed: Box<dyn paddock_core::store::ChangeFeed>) {
    let schema = b
        .schema
        .as_deref()
        .expect("a PostgreSQL backend has a schema");
    let base = std::env::var(super::DATABASE_VAR).unwrap();
    let mut admin = sqlx::PgConnection::connect(&base).await.unwrap();
    let ended: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = $1 AND query LIKE 'LISTEN%'",
    )
    .bind(schema)
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert_eq!(ended, [true], "one listening connection");
    let started = Instant::now();
    let lost = loop {
        match feed.next().await {
            Err(e) => break e,
            Ok(()) => assert!(started.elapsed() < Duration::from_secs(3), "never noticed"),
        }
    };
    assert!(matches!(lost, StoreError::Unavailable(_)), "{lost:?}");
    let mut again = b.store.change_feed().await.unwrap();
    again.next().await.unwrap();
}

/// A node follows the log by remembering the last sequence number it read: with
/// writers committing concurrently, it must still see every change (on PostgreSQL, a
/// sequence number taken early must not commit after a later one was read).
pub async fn a_follower_of_the_log_misses_nothing(b: &Backend) {
    let g = grantable(b.store.as_ref()).await;
    let tokens: Vec<_> = (0..30)
        .map(|i| g.token(&format!("t{i}"), 0, None))
        .collect();
    for t in &tokens {
        b.store.insert_token(t).await.unwrap();
    }
    let writers: Vec<_> = tokens
        .iter()
        .map(|t| {
            let (store, digest) = (b.store.clone(), t.digest);
            tokio::spawn(async move { store.revoke_token(&digest, at(1)).await })
        })
        .collect();
    let mut seen = 0;
    let mut followed = Vec::new();
    while !writers.iter().all(|w| w.is_finished()) {
        for (seq, change) in b.store.invalidations_since(seen).await.unwrap() {
            seen = seq;
            followed.push(change);
        }
        tokio::task::yield_now().await;
    }
    for writer in writers {
        assert!(writer.await.unwrap().unwrap());
    }
    let rest = b.store.invalidations_since(seen).await.unwrap();
    followed.extend(rest.into_iter().map(|(_, change)| change));
    assert_eq!(followed.len(), tokens.len(), "every revocation, once");
    for t in &tokens {
        assert!(followed.contains(&Invalidation::Token(t.digest)));
    }
}
