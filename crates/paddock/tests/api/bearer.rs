//! The Bearer check in front of the Trading API (SPEC §3.4; RFC 6750).

use paddock_core::env::Env;
use paddock_core::model::ClientStatus;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{assert_alpaca_error, assert_json, header, spawn_app, within_a_second};

#[tokio::test]
async fn a_token_reaches_its_account_on_its_own_base_only() {
    let app = spawn_app().await;
    let paper = app.token_for(&app.fx.client, app.fx.paper, "").await;
    let live = app.token_for(&app.fx.client, app.fx.live, "").await;

    let body: Value = app
        .get_account(Env::Paper, &paper)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["id"], app.fx.paper.to_string());
    let body: Value = app
        .get_account(Env::Live, &live)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["id"], app.fx.live.to_string());

    for (env, token) in [(Env::Live, &paper), (Env::Paper, &live)] {
        let response = app.get_account(env, token).await;
        assert!(header(&response, "www-authenticate").contains("error=\"invalid_token\""));
        assert_alpaca_error(response, StatusCode::UNAUTHORIZED).await;
    }
}

/// The fields and types alpaca-py's `TradeAccount` model requires (SPEC §6).
#[tokio::test]
async fn the_account_object_has_alpacas_fields_and_types() {
    let app = spawn_app().await;
    let token = app.token_for(&app.fx.client, app.fx.paper, "").await;
    let response = app.get_account(Env::Paper, &token).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_json(&response);
    let body: Value = response.json().await.unwrap();
    let id = body["id"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok());
    assert!(body["account_number"].as_str().unwrap().starts_with("PA"));
    assert_eq!(body["status"], "ACTIVE");
    assert_eq!(body["currency"], "USD");
    for money in [
        "cash",
        "buying_power",
        "regt_buying_power",
        "daytrading_buying_power",
        "non_marginable_buying_power",
        "portfolio_value",
        "equity",
        "last_equity",
        "long_market_value",
        "short_market_value",
        "initial_margin",
        "maintenance_margin",
        "last_maintenance_margin",
        "sma",
        "multiplier",
        "accrued_fees",
    ] {
        let text = body[money]
            .as_str()
            .unwrap_or_else(|| panic!("{money} is a string"));
        assert!(text.parse::<f64>().is_ok(), "{money} = {text}");
    }
    assert_eq!(body["cash"], "100000");
    for flag in [
        "pattern_day_trader",
        "trading_blocked",
        "transfers_blocked",
        "account_blocked",
        "trade_suspended_by_user",
        "shorting_enabled",
    ] {
        assert!(body[flag].is_boolean(), "{flag}");
    }
    assert!(body["daytrade_count"].is_u64());
    let created = body["created_at"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(created).is_ok(),
        "{created}"
    );
}

#[tokio::test]
async fn missing_and_malformed_tokens_get_rfc_6750_challenges() {
    let app = spawn_app().await;
    let url = app.api(Env::Paper, "/v2/account");

    let none = app.http.get(&url).send().await.unwrap();
    // No token at all: a bare challenge, no error code (RFC 6750 §3.1).
    assert_eq!(
        header(&none, "www-authenticate"),
        "Bearer realm=\"paddock\""
    );
    assert_alpaca_error(none, StatusCode::UNAUTHORIZED).await;

    for value in [
        "Bearer pdk_at_nosuchtoken",
        "Bearer ",
        "Basic Zm9vOmJhcg==",
        "bearer",
        "Bearer pdk_at_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    ] {
        let response = app
            .http
            .get(&url)
            .header("Authorization", value)
            .send()
            .await
            .unwrap();
        assert!(
            header(&response, "www-authenticate").starts_with("Bearer realm=\"paddock\""),
            "{value}"
        );
        assert_alpaca_error(response, StatusCode::UNAUTHORIZED).await;
    }
}

/// The admin CLI is another process: its changes reach the server's grant cache
/// through the store's invalidation log, within a second.
#[tokio::test]
async fn a_disabled_clients_tokens_stop_within_a_second_and_return_when_enabled() {
    let app = spawn_app().await;
    let token = app.token_for(&app.fx.client, app.fx.paper, "").await;
    let id = app.fx.client.id().to_owned();
    let store = app.store.as_ref();
    // Cached by a first use.
    assert_eq!(
        app.get_account(Env::Paper, &token).await.status(),
        StatusCode::OK
    );

    paddock::admin::set_client_status(store, &id, ClientStatus::Disabled, app.clock.now())
        .await
        .unwrap();
    within_a_second(|| async {
        app.get_account(Env::Paper, &token).await.status() == StatusCode::UNAUTHORIZED
    })
    .await;
    let response = app.get_account(Env::Paper, &token).await;
    let body = assert_alpaca_error(response, StatusCode::UNAUTHORIZED).await;
    assert!(body["message"].as_str().unwrap().contains("disabled"));

    paddock::admin::set_client_status(store, &id, ClientStatus::Active, app.clock.now())
        .await
        .unwrap();
    within_a_second(|| async {
        app.get_account(Env::Paper, &token).await.status() == StatusCode::OK
    })
    .await;
}

#[tokio::test]
async fn a_token_revoked_by_the_admin_cli_stops_within_a_second() {
    let app = spawn_app().await;
    let token = app.token_for(&app.fx.client, app.fx.paper, "").await;
    assert_eq!(
        app.get_account(Env::Paper, &token).await.status(),
        StatusCode::OK
    );
    let now = app.clock.now();
    paddock::admin::revoke_token(app.store.as_ref(), &token, now)
        .await
        .unwrap();
    within_a_second(|| async {
        app.get_account(Env::Paper, &token).await.status() == StatusCode::UNAUTHORIZED
    })
    .await;
    assert_alpaca_error(
        app.get_account(Env::Paper, &token).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

#[tokio::test]
async fn use_is_recorded_without_a_write_per_request() {
    let app = spawn_app().await;
    let token = app.token_for(&app.fx.client, app.fx.paper, "").await;
    let digest = paddock_core::secret::AccessToken::parse(&token)
        .unwrap()
        .digest();
    let last_used = async || {
        app.store
            .token(&digest)
            .await
            .unwrap()
            .unwrap()
            .last_used_at
    };
    assert!(last_used().await.is_none());
    for _ in 0..3 {
        assert_eq!(
            app.get_account(Env::Paper, &token).await.status(),
            StatusCode::OK
        );
    }
    // Nothing is written per request; the batch lands on the next flush.
    assert!(last_used().await.is_none());
    paddock::server::flush_last_used(&app.state).await;
    assert!(last_used().await.is_some_and(|at| at <= app.clock.now()));
}
