//! Brokers, users, accounts, clients and sessions: stored, read back, listed oldest
//! first, and refused with the typed error each rule names.

use std::str::FromStr;

use chrono::Duration;
use paddock_core::env::Env;
use paddock_core::ids::{BrokerId, UserId};
use paddock_core::model::ClientStatus;
use paddock_core::secret::Digest;
use paddock_core::store::{Conflict, Missing, StoreError};
use rust_decimal::Decimal;

use super::{Backend, account, at, broker, client, client_id, user};

fn conflict<T: std::fmt::Debug>(result: Result<T, StoreError>) -> Conflict {
    match result {
        Err(StoreError::Conflict(c)) => c,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

fn missing<T: std::fmt::Debug>(result: Result<T, StoreError>) -> Missing {
    match result {
        Err(StoreError::Missing(m)) => m,
        other => panic!("expected a missing record, got {other:?}"),
    }
}

pub async fn brokers_are_stored_listed_and_unique(b: &Backend) {
    let store = b.store.as_ref();
    let (newer, older) = (broker(20), broker(10));
    store.create_broker(&newer).await.unwrap();
    store.create_broker(&older).await.unwrap();

    let read = store.broker(older.id).await.unwrap().unwrap();
    assert_eq!(read.name, older.name);
    assert_eq!(read.key_id, older.key_id);
    assert_eq!(read.secret_digest, older.secret_digest);
    assert_eq!(read.created_at, older.created_at, "microseconds survive");
    let by_key = store.broker_by_key_id(&newer.key_id).await.unwrap();
    assert_eq!(by_key.unwrap().id, newer.id);
    assert!(store.broker(BrokerId::random()).await.unwrap().is_none());

    let listed: Vec<_> = store
        .brokers()
        .await
        .unwrap()
        .iter()
        .map(|b| b.id)
        .collect();
    assert_eq!(listed, [older.id, newer.id], "oldest first");

    let same_id = super::Broker {
        key_id: broker(0).key_id,
        ..older.clone()
    };
    assert_eq!(
        conflict(store.create_broker(&same_id).await),
        Conflict::IdTaken
    );
    let same_key = super::Broker {
        id: BrokerId::random(),
        ..older.clone()
    };
    assert_eq!(
        conflict(store.create_broker(&same_key).await),
        Conflict::BrokerKeyIdTaken
    );
}

pub async fn users_are_stored_listed_and_unique(b: &Backend) {
    let store = b.store.as_ref();
    let (newer, older) = (user(20), user(10));
    store.create_user(&newer).await.unwrap();
    store.create_user(&older).await.unwrap();

    let read = store.user(older.id).await.unwrap().unwrap();
    assert_eq!(read.email, older.email);
    assert_eq!(read.password_hash.as_str(), older.password_hash.as_str());
    assert_eq!(read.created_at, older.created_at);
    let by_email = store.user_by_email(&newer.email).await.unwrap();
    assert_eq!(by_email.unwrap().id, newer.id);
    assert!(store.user(UserId::random()).await.unwrap().is_none());
    let listed: Vec<_> = store.users().await.unwrap().iter().map(|u| u.id).collect();
    assert_eq!(listed, [older.id, newer.id]);

    let same_email = super::User {
        id: UserId::random(),
        ..older.clone()
    };
    assert_eq!(
        conflict(store.create_user(&same_email).await),
        Conflict::EmailTaken
    );
    let same_id = super::User {
        email: user(0).email,
        ..older.clone()
    };
    assert_eq!(
        conflict(store.create_user(&same_id).await),
        Conflict::IdTaken
    );
}

pub async fn accounts_keep_exact_cash_and_their_rules(b: &Backend) {
    let store = b.store.as_ref();
    let (owner, firm) = (user(0), broker(0));
    store.create_user(&owner).await.unwrap();
    store.create_broker(&firm).await.unwrap();
    let mut live = account(&owner, &firm, Env::Live, 30);
    live.cash = Decimal::from_str("2500.123456789").unwrap();
    let paper_late = account(&owner, &firm, Env::Paper, 20);
    let mut paper_early = account(&owner, &firm, Env::Paper, 10);
    paper_early.cash = Decimal::from_str("100000.50").unwrap();
    for a in [&live, &paper_late, &paper_early] {
        store.create_account(a).await.unwrap();
    }

    let read = store.account(live.id).await.unwrap().unwrap();
    assert_eq!(
        read.cash.to_string(),
        "2500.123456789",
        "exact, never a float"
    );
    assert_eq!((read.user_id, read.broker_id), (owner.id, firm.id));
    assert_eq!((read.env, read.created_at), (Env::Live, live.created_at));
    assert_eq!(read.account_number, live.account_number);
    let early = store.account(paper_early.id).await.unwrap().unwrap();
    assert_eq!(early.cash.to_string(), "100000.5", "normalised");
    let late = store.account(paper_late.id).await.unwrap().unwrap();
    assert_eq!(late.cash.to_string(), "100000");

    let of_user: Vec<_> = store.accounts_of_user(owner.id).await.unwrap();
    let of_user: Vec<_> = of_user.iter().map(|a| a.id).collect();
    assert_eq!(
        of_user,
        [live.id, paper_early.id, paper_late.id],
        "live first"
    );
    let all: Vec<_> = store
        .accounts()
        .await
        .unwrap()
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(
        all,
        [paper_early.id, paper_late.id, live.id],
        "oldest first"
    );

    let second_live = account(&owner, &firm, Env::Live, 40);
    assert_eq!(
        conflict(store.create_account(&second_live).await),
        Conflict::LiveAccountExists
    );
    // Breaking two rules at once reports the same one on every backend.
    let live_and_number = super::Account {
        account_number: live.account_number.clone(),
        ..second_live.clone()
    };
    assert_eq!(
        conflict(store.create_account(&live_and_number).await),
        Conflict::LiveAccountExists
    );
    let same_number = super::Account {
        account_number: live.account_number.clone(),
        ..account(&owner, &firm, Env::Paper, 40)
    };
    assert_eq!(
        conflict(store.create_account(&same_number).await),
        Conflict::AccountNumberTaken
    );
    let same_id = super::Account {
        account_number: "unused-1".into(),
        ..paper_late.clone()
    };
    assert_eq!(
        conflict(store.create_account(&same_id).await),
        Conflict::IdTaken
    );

    let stranger = user(0);
    let no_user = account(&stranger, &firm, Env::Paper, 0);
    assert_eq!(missing(store.create_account(&no_user).await), Missing::User);
    let no_broker = account(&owner, &broker(0), Env::Paper, 0);
    assert_eq!(
        missing(store.create_account(&no_broker).await),
        Missing::Broker
    );

    let too_precise = super::Account {
        cash: Decimal::from_str("0.0000000001").unwrap(),
        ..account(&owner, &firm, Env::Paper, 50)
    };
    assert!(matches!(
        store.create_account(&too_precise).await,
        Err(StoreError::Backend(_))
    ));
    assert_eq!(
        store.accounts().await.unwrap().len(),
        3,
        "nothing refused was kept"
    );
}

pub async fn clients_are_stored_listed_and_changed(b: &Backend) {
    let store = b.store.as_ref();
    let firm = broker(0);
    store.create_broker(&firm).await.unwrap();
    let (newer, older) = (client(&firm, 20), client(&firm, 10));
    store.create_client(&newer).await.unwrap();
    store.create_client(&older).await.unwrap();

    let read = store.client(&older.client_id).await.unwrap().unwrap();
    assert_eq!(format!("{read:?}"), format!("{older:?}"), "every field");
    assert_eq!(
        read.redirect_uris, older.redirect_uris,
        "in registration order"
    );
    assert!(store.client(&client_id()).await.unwrap().is_none());
    let listed: Vec<_> = store.clients().await.unwrap();
    let listed: Vec<_> = listed.iter().map(|c| c.client_id.clone()).collect();
    assert_eq!(listed, [older.client_id.clone(), newer.client_id.clone()]);

    assert_eq!(
        conflict(store.create_client(&older).await),
        Conflict::IdTaken
    );
    let orphan = client(&broker(0), 30);
    assert_eq!(missing(store.create_client(&orphan).await), Missing::Broker);

    let id = &older.client_id;
    assert!(
        store
            .set_client_status(id, ClientStatus::Disabled, at(40))
            .await
            .unwrap()
    );
    let disabled = store.client(id).await.unwrap().unwrap();
    assert_eq!(disabled.status, ClientStatus::Disabled);
    let rotated = Digest::of("rotated");
    assert!(store.set_client_secret(id, &rotated, at(41)).await.unwrap());
    let read = store.client(id).await.unwrap().unwrap();
    assert_eq!(read.secret_digest, rotated);

    let unknown = client_id();
    assert!(
        !store
            .set_client_status(&unknown, ClientStatus::Active, at(42))
            .await
            .unwrap()
    );
    assert!(
        !store
            .set_client_secret(&unknown, &rotated, at(42))
            .await
            .unwrap()
    );
}

pub async fn sessions_expire_and_are_deleted(b: &Backend) {
    let store = b.store.as_ref();
    let someone = user(0);
    store.create_user(&someone).await.unwrap();
    let (short, long) = (Digest::of("short"), Digest::of("long"));
    store
        .create_session(&short, someone.id, at(0), at(60))
        .await
        .unwrap();
    store
        .create_session(&long, someone.id, at(0), at(3600))
        .await
        .unwrap();

    let found = store.session_user(&short, at(59)).await.unwrap();
    assert_eq!(found.unwrap().id, someone.id);
    assert!(
        store.session_user(&short, at(60)).await.unwrap().is_none(),
        "expired"
    );
    assert!(
        store
            .session_user(&Digest::of("unknown"), at(0))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        conflict(
            store
                .create_session(&short, someone.id, at(0), at(60))
                .await
        ),
        Conflict::IdTaken
    );

    assert_eq!(store.purge_sessions(at(61)).await.unwrap(), 1);
    assert_eq!(store.purge_sessions(at(61)).await.unwrap(), 0);
    store.delete_session(&long).await.unwrap();
    assert!(
        store
            .session_user(&long, at(1) - Duration::seconds(1))
            .await
            .unwrap()
            .is_none()
    );
}
