//! Codes and tokens: redeemed once, replays revoke, revocations stick, units of work
//! commit together or not at all.

use std::sync::Arc;

use paddock_core::ids::{GrantId, UserId};
use paddock_core::model::ClientStatus;
use paddock_core::oauth::grant::{Redemption, RedemptionRequest, TokenIssue, redeem};
use paddock_core::oauth::pkce::{CodeChallenge, CodeVerifier};
use paddock_core::secret::Digest;
use paddock_core::store::{CodeState, Missing, Store, StoreError};

use super::{Backend, Grantable, at, grantable, user};

fn request<'a>(g: &'a Grantable, verifier: Option<&'a CodeVerifier>) -> RedemptionRequest<'a> {
    RedemptionRequest {
        client_id: &g.client.client_id,
        redirect_uri: "https://app.example/cb",
        code_verifier: verifier,
    }
}

fn issue(secret: &str, secs: i64) -> TokenIssue {
    TokenIssue {
        id: GrantId::random(),
        digest: Digest::of(secret),
        issued_at: at(secs),
        expires_at: None,
    }
}

pub async fn a_code_is_redeemed_once_and_a_replay_revokes(b: &Backend) {
    let store = b.store.as_ref();
    let g = grantable(store).await;
    let verifier = CodeVerifier::parse(&"v".repeat(43)).unwrap();
    let mut grant = g.code(0);
    grant.code_challenge = Some(CodeChallenge::from_verifier(&verifier));
    let code = Digest::of("code");
    store.insert_code(&code, &grant).await.unwrap();

    let first = issue("token", 5);
    let issued = redeem(store, &code, &request(&g, Some(&verifier)), &first).await;
    let Ok(Redemption::Issued(redeemed)) = issued else {
        panic!("a fresh code issues a token: {issued:?}");
    };
    assert_eq!(redeemed.code_challenge, grant.code_challenge);
    assert_eq!(redeemed.scopes, grant.scopes);
    assert_eq!(redeemed.expires_at, grant.expires_at);
    let token = store.token(&first.digest).await.unwrap().unwrap();
    assert_eq!((token.id, token.user_id), (first.id, g.user.id));
    assert_eq!(token.scopes, grant.scopes);
    assert_eq!(token.accounts, grant.accounts);
    assert_eq!(token.client_broker_id, g.broker.id);
    assert!(token.client_active && token.revoked_at.is_none());
    assert_eq!((token.created_at, token.expires_at), (at(5), None));

    let again = redeem(store, &code, &request(&g, Some(&verifier)), &issue("t2", 9)).await;
    assert!(
        matches!(&again, Ok(Redemption::Replayed(d)) if d == &[first.digest]),
        "{again:?}"
    );
    let revoked = store.token(&first.digest).await.unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(at(9)));
    assert!(store.token(&Digest::of("t2")).await.unwrap().is_none());
    let replayed_twice = redeem(store, &code, &request(&g, None), &issue("t3", 10)).await;
    assert!(matches!(replayed_twice, Ok(Redemption::Replayed(d)) if d.is_empty()));

    let nope = Digest::of("nope");
    let unknown = redeem(store, &nope, &request(&g, None), &issue("t4", 11)).await;
    assert!(matches!(unknown, Ok(Redemption::Unknown)));

    // A refused check spends the code all the same.
    let other = Digest::of("other code");
    store.insert_code(&other, &g.code(20)).await.unwrap();
    let wrong = RedemptionRequest {
        redirect_uri: "https://app.example/elsewhere",
        ..request(&g, None)
    };
    let refused = redeem(store, &other, &wrong, &issue("t5", 21)).await;
    assert!(matches!(refused, Ok(Redemption::Refused(_))), "{refused:?}");
    let retried = redeem(store, &other, &request(&g, None), &issue("t6", 22)).await;
    assert!(matches!(retried, Ok(Redemption::Replayed(d)) if d.is_empty()));
    assert!(store.token(&Digest::of("t6")).await.unwrap().is_none());
}

pub async fn concurrent_redemptions_issue_one_token(b: &Backend) {
    let g = Arc::new(grantable(b.store.as_ref()).await);
    let code = Digest::of("contested");
    b.store.insert_code(&code, &g.code(0)).await.unwrap();
    let attempts: Vec<_> = (0..20)
        .map(|i| {
            let (store, g): (Arc<dyn Store>, _) = (b.store.clone(), g.clone());
            tokio::spawn(async move {
                let issue = issue(&format!("token {i}"), 1);
                redeem(store.as_ref(), &code, &request(&g, None), &issue).await
            })
        })
        .collect();
    let (mut issued, mut replayed) = (0, 0);
    for attempt in attempts {
        match attempt.await.unwrap().unwrap() {
            Redemption::Issued(_) => issued += 1,
            Redemption::Replayed(_) => replayed += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((issued, replayed), (1, 19));
}

/// Many codes presented at once (a backend may redeem them together) each end as
/// they would alone: fresh ones issue, a wrong redirect is refused and spends the
/// code, spent ones revoke what they issued, unknown ones are unknown.
pub async fn codes_redeemed_at_once_each_end_as_alone(b: &Backend) {
    let g = Arc::new(grantable(b.store.as_ref()).await);
    let code = |i: usize| Digest::of(&format!("code {i}"));
    for i in 0..40 {
        b.store.insert_code(&code(i), &g.code(0)).await.unwrap();
    }
    for i in 35..40 {
        let early = issue(&format!("early {i}"), 1);
        let first = redeem(b.store.as_ref(), &code(i), &request(&g, None), &early).await;
        assert!(matches!(first, Ok(Redemption::Issued(_))), "{first:?}");
    }
    let attempts: Vec<_> = (0..45)
        .map(|i| {
            let (store, g): (Arc<dyn Store>, _) = (b.store.clone(), g.clone());
            tokio::spawn(async move {
                let issue = issue(&format!("token {i}"), 2);
                let wrong = RedemptionRequest {
                    redirect_uri: "https://app.example/other",
                    ..request(&g, None)
                };
                let asked = if (30..35).contains(&i) {
                    wrong
                } else {
                    request(&g, None)
                };
                redeem(store.as_ref(), &code(i), &asked, &issue).await
            })
        })
        .collect();
    for (i, attempt) in attempts.into_iter().enumerate() {
        let outcome = attempt.await.unwrap().unwrap();
        let token = b
            .store
            .token(&Digest::of(&format!("token {i}")))
            .await
            .unwrap();
        match i {
            0..30 => {
                assert!(matches!(outcome, Redemption::Issued(_)), "{i}: {outcome:?}");
                assert!(token.unwrap().revoked_at.is_none(), "{i}");
            }
            30..35 => {
                assert!(
                    matches!(outcome, Redemption::Refused(_)),
                    "{i}: {outcome:?}"
                );
                assert!(token.is_none(), "{i}");
            }
            35..40 => {
                let Redemption::Replayed(revoked) = outcome else {
                    panic!("{i}: {outcome:?}");
                };
                assert_eq!(revoked, [Digest::of(&format!("early {i}"))], "{i}");
                assert!(token.is_none(), "{i}");
            }
            _ => assert!(matches!(outcome, Redemption::Unknown), "{i}: {outcome:?}"),
        }
    }
    // A refused code was spent all the same.
    let again = redeem(
        b.store.as_ref(),
        &code(30),
        &request(&g, None),
        &issue("t", 3),
    )
    .await;
    assert!(matches!(again, Ok(Redemption::Replayed(_))), "{again:?}");
}

pub async fn a_dropped_unit_of_work_changes_nothing(b: &Backend) {
    let store = b.store.as_ref();
    let g = grantable(store).await;
    let code = Digest::of("code");
    store.insert_code(&code, &g.code(0)).await.unwrap();
    let before = store.latest_invalidation().await.unwrap();
    {
        let mut tx = store.begin().await.unwrap();
        assert!(matches!(
            tx.spend_code(&code, &issue("dropped", 1)).await.unwrap(),
            CodeState::Fresh(_)
        ));
        tx.insert_token(&g.token("dropped", 1, None)).await.unwrap();
        tx.revoke_tokens_of_code(&code, at(1)).await.unwrap();
    }
    assert!(store.token(&Digest::of("dropped")).await.unwrap().is_none());
    assert_eq!(store.latest_invalidation().await.unwrap(), before);
    let mut tx = store.begin().await.unwrap();
    assert!(
        matches!(
            tx.spend_code(&code, &issue("t", 2)).await.unwrap(),
            CodeState::Fresh(_)
        ),
        "still fresh"
    );
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        tx.spend_code(&code, &issue("t", 3)).await.unwrap(),
        CodeState::Spent
    ));
    assert!(matches!(
        tx.spend_code(&Digest::of("never"), &issue("t", 3))
            .await
            .unwrap(),
        CodeState::Unknown
    ));
}

pub async fn tokens_are_revoked_listed_and_touched(b: &Backend) {
    let store = b.store.as_ref();
    let g = grantable(store).await;
    let old = g.token("old", 10, None);
    let new = g.token("new", 20, None);
    let expiring = g.token("expiring", 30, Some(100));
    let doomed = g.token("doomed", 40, None);
    for t in [&old, &new, &expiring, &doomed] {
        store.insert_token(t).await.unwrap();
    }
    assert!(
        store.insert_token(&old).await.is_err(),
        "a digest is stored once"
    );

    let listed = |now| async move {
        let grants = store.grants_of_user(g.user.id, at(now)).await.unwrap();
        grants.iter().map(|s| s.id).collect::<Vec<_>>()
    };
    assert_eq!(
        listed(50).await,
        [doomed.id, expiring.id, new.id, old.id],
        "newest first"
    );
    let summary = &store.grants_of_user(g.user.id, at(50)).await.unwrap()[0];
    assert_eq!(summary.client_name, g.client.name);
    assert_eq!((summary.created_at, summary.last_used_at), (at(40), None));

    // A grant is revoked by its user only.
    let stranger = UserId::random();
    assert_eq!(
        store
            .revoke_grant(stranger, doomed.id, at(60))
            .await
            .unwrap(),
        None
    );
    let revoked = store
        .revoke_grant(g.user.id, doomed.id, at(60))
        .await
        .unwrap();
    assert_eq!(revoked, Some(doomed.digest));
    let missing = store.revoke_grant(g.user.id, GrantId::random(), at(60));
    assert_eq!(missing.await.unwrap(), None);
    assert_eq!(
        listed(100).await,
        [new.id, old.id],
        "revoked and expired left out"
    );

    assert!(store.revoke_token(&old.digest, at(70)).await.unwrap());
    assert!(store.revoke_token(&old.digest, at(80)).await.unwrap());
    let read = store.token(&old.digest).await.unwrap().unwrap();
    assert_eq!(
        read.revoked_at,
        Some(at(70)),
        "the first revocation time stays"
    );
    let unknown = Digest::of("unknown");
    assert!(!store.revoke_token(&unknown, at(70)).await.unwrap());
    assert!(store.token(&unknown).await.unwrap().is_none());

    // Last use only moves forward, and a digest listed twice keeps its latest use.
    let batch = [
        (new.digest, at(200)),
        (new.digest, at(300)),
        (expiring.digest, at(90)),
        (unknown, at(90)),
    ];
    store.touch_tokens(&batch).await.unwrap();
    store.touch_tokens(&[(new.digest, at(250))]).await.unwrap();
    store.touch_tokens(&[]).await.unwrap();
    let used = |d| async move { store.token(&d).await.unwrap().unwrap().last_used_at };
    assert_eq!(used(new.digest).await, Some(at(300)));
    assert_eq!(used(expiring.digest).await, Some(at(90)));

    store
        .set_client_status(&g.client.client_id, ClientStatus::Disabled, at(400))
        .await
        .unwrap();
    let of_disabled = store.token(&new.digest).await.unwrap().unwrap();
    assert!(!of_disabled.client_active);
    assert!(of_disabled.check_usable(at(400)).is_err());

    // Tokens of one user are not another's.
    let other = user(0);
    store.create_user(&other).await.unwrap();
    assert!(
        store
            .grants_of_user(other.id, at(50))
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn expired_codes_are_purged(b: &Backend) {
    let store = b.store.as_ref();
    let g = grantable(store).await;
    // Codes expire ten minutes after they are made.
    store
        .insert_code(&Digest::of("a"), &g.code(0))
        .await
        .unwrap();
    store
        .insert_code(&Digest::of("b"), &g.code(60))
        .await
        .unwrap();
    store
        .insert_code(&Digest::of("c"), &g.code(120))
        .await
        .unwrap();
    assert!(
        store
            .insert_code(&Digest::of("a"), &g.code(0))
            .await
            .is_err(),
        "a code is stored once"
    );
    assert_eq!(store.purge_codes(at(600)).await.unwrap(), 0);
    assert_eq!(store.purge_codes(at(630)).await.unwrap(), 1);
    assert_eq!(store.purge_codes(at(10_000)).await.unwrap(), 2);
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        tx.spend_code(&Digest::of("b"), &issue("t", 0))
            .await
            .unwrap(),
        CodeState::Unknown
    ));
}

/// Many grants written at once (SQLite commits them in groups): each is stored, or
/// refused with its own reason, and a wrong one does not take the others down with it.
pub async fn grants_written_at_once_fail_only_where_they_are_wrong(b: &Backend) {
    let g = Arc::new(grantable(b.store.as_ref()).await);
    let stranger = super::client_id();
    let mut writes = Vec::new();
    for i in 0..60 {
        let store = Arc::clone(&b.store);
        let g = Arc::clone(&g);
        let stranger = stranger.clone();
        writes.push(tokio::spawn(async move {
            match i % 6 {
                // A token of a client that does not exist.
                1 => {
                    let mut token = g.token(&format!("t{i}"), i, None);
                    token.client_id = stranger;
                    store.insert_token(&token).await
                }
                // A code for a user that does not exist.
                2 => {
                    let mut code = g.code(i);
                    code.user_id = UserId::random();
                    store
                        .insert_code(&Digest::of(&format!("c{i}")), &code)
                        .await
                }
                3 => {
                    store
                        .insert_code(&Digest::of(&format!("c{i}")), &g.code(i))
                        .await
                }
                _ => {
                    store
                        .insert_token(&g.token(&format!("t{i}"), i, None))
                        .await
                }
            }
        }));
    }
    for (i, write) in writes.into_iter().enumerate() {
        let result = write.await.unwrap();
        match i % 6 {
            1 => assert!(
                matches!(result, Err(StoreError::Missing(Missing::Client))),
                "{i}: {result:?}"
            ),
            2 => assert!(
                matches!(result, Err(StoreError::Missing(Missing::User))),
                "{i}: {result:?}"
            ),
            _ => assert!(result.is_ok(), "{i}: {result:?}"),
        }
    }
    let store = b.store.as_ref();
    for i in 0..60 {
        let token = store.token(&Digest::of(&format!("t{i}"))).await.unwrap();
        assert_eq!(token.is_some(), matches!(i % 6, 0 | 4 | 5), "token {i}");
    }
    let mut tx = store.begin().await.unwrap();
    for i in (3..60).step_by(6) {
        let code = tx
            .spend_code(&Digest::of(&format!("c{i}")), &issue("t", 100))
            .await
            .unwrap();
        assert!(matches!(code, CodeState::Fresh(_)), "code {i}");
    }
    let never = tx
        .spend_code(&Digest::of("c2"), &issue("t", 100))
        .await
        .unwrap();
    assert!(matches!(never, CodeState::Unknown));
    // SQLite has one writer: the writes below wait for this unit of work to end.
    drop(tx);

    // The same digest twice: one is stored, the other is a conflict.
    let twice = g.token("twice", 1, None);
    let (first, second) = tokio::join!(store.insert_token(&twice), store.insert_token(&twice));
    assert!(first.is_ok() != second.is_ok(), "{first:?} {second:?}");
}
