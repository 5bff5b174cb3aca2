//! The Broker API's OAuth endpoints (SPEC §3.1; seeds 000, 001, 003).

use paddock_core::env::Env;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    LOOPBACK_REDIRECT_URI, REDIRECT_URI, assert_alpaca_error, assert_json, header, spawn_app,
};

fn with_query(path: &str, pairs: &[(&str, &str)]) -> String {
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("{path}?{query}")
}

fn assert_keys(body: &Value, keys: &[&str]) {
    let object = body.as_object().expect("a JSON object");
    let mut found: Vec<&str> = object.keys().map(String::as_str).collect();
    found.sort_unstable();
    let mut expected = keys.to_vec();
    expected.sort_unstable();
    assert_eq!(found, expected);
}

#[tokio::test]
async fn get_client_answers_the_seed_003_object() {
    let app = spawn_app().await;
    let path = with_query(
        &format!("/v1/oauth/clients/{}", app.fx.client.id()),
        &[
            ("response_type", "token"),
            ("redirect_uri", REDIRECT_URI),
            ("scope", "general"),
        ],
    );
    let response = app.broker(Method::GET, &path).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_json(&response);
    let body: Value = response.json().await.unwrap();
    assert_keys(
        &body,
        &[
            "client_id",
            "name",
            "description",
            "url",
            "terms_of_use",
            "privacy_policy",
            "status",
            "redirect_uri",
            "live_trading_approved",
        ],
    );
    assert_eq!(body["client_id"], app.fx.client.id());
    assert_eq!(body["name"], "Charting App");
    assert_eq!(body["description"], "Charting App, for tests");
    assert_eq!(body["url"], "https://app.example.com");
    assert_eq!(body["terms_of_use"], "https://app.example.com/terms");
    assert_eq!(body["privacy_policy"], "https://app.example.com/privacy");
    assert_eq!(body["status"], "ACTIVE");
    assert_eq!(
        body["redirect_uri"],
        json!([REDIRECT_URI, LOOPBACK_REDIRECT_URI])
    );
    assert_eq!(body["live_trading_approved"], true);
}

#[tokio::test]
async fn get_client_needs_no_query_and_checks_the_one_it_gets() {
    let app = spawn_app().await;
    let path = format!("/v1/oauth/clients/{}", app.fx.paper_client.id());
    let response = app.broker(Method::GET, &path).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["live_trading_approved"], false);

    for (name, value) in [
        ("response_type", "id_token"),
        ("redirect_uri", "https://evil.example.com/cb"),
        ("scope", "trading admin"),
    ] {
        let response = app
            .broker(Method::GET, &with_query(&path, &[(name, value)]))
            .send()
            .await
            .unwrap();
        let body = assert_alpaca_error(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(body["message"].as_str().unwrap().contains(name), "{body}");
    }
}

#[tokio::test]
async fn get_client_answers_401_for_unknown_and_foreign_clients_alike() {
    let app = spawn_app().await;
    let unknown = "7a3c52a910e1dc2abbb14da2b6b8e711";
    let foreign = app.fx.foreign_client.id().to_owned();
    let mut messages = Vec::new();
    for id in [unknown, foreign.as_str(), "not-a-client-id"] {
        let response = app
            .broker(Method::GET, &format!("/v1/oauth/clients/{id}"))
            .send()
            .await
            .unwrap();
        let body = assert_alpaca_error(response, StatusCode::UNAUTHORIZED).await;
        messages.push(body["message"].clone());
    }
    // Nothing tells a broker whether someone else's client exists.
    assert_eq!(messages[0], messages[1]);
}

#[tokio::test]
async fn issue_token_answers_the_seed_001_object_and_the_token_works() {
    let app = spawn_app().await;
    let body = app.grant_body(&app.fx.client, app.fx.paper, "account:write trading");
    let response = app.broker_post("/v1/oauth/token", &body).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_json(&response);
    assert_eq!(header(&response, "cache-control"), "no-store");
    let body: Value = response.json().await.unwrap();
    assert_keys(&body, &["access_token", "token_type", "scope"]);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "account:write trading");
    let token = body["access_token"].as_str().unwrap();
    assert!(token.len() >= 40, "at least 160 random bits");

    let account = app.get_account(Env::Paper, token).await;
    assert_eq!(account.status(), StatusCode::OK);
    let account: Value = account.json().await.unwrap();
    assert_eq!(account["id"], app.fx.paper.to_string());
}

#[tokio::test]
async fn issue_code_answers_the_seed_000_object() {
    let app = spawn_app().await;
    let body = app.grant_body(&app.fx.client, app.fx.live, "general");
    let response = app.broker_post("/v1/oauth/authorize", &body).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_json(&response);
    let body: Value = response.json().await.unwrap();
    assert_keys(&body, &["code", "client_id", "redirect_uri", "scope"]);
    assert!(body["code"].as_str().is_some_and(|c| !c.is_empty()));
    assert_eq!(body["client_id"], app.fx.client.id());
    assert_eq!(body["redirect_uri"], REDIRECT_URI);
    // `general` is the default read-only access: the granted scope string is empty.
    assert_eq!(body["scope"], "");
}

#[tokio::test]
async fn granted_scope_is_canonical() {
    let app = spawn_app().await;
    for (requested, granted) in [
        ("trading account:write", "account:write trading"),
        ("data general trading", "trading data"),
        ("", ""),
        ("data  trading   data", "trading data"),
    ] {
        let body = app.grant_body(&app.fx.client, app.fx.paper, requested);
        let response = app.broker_post("/v1/oauth/authorize", &body).await;
        assert_eq!(response.status(), StatusCode::OK, "{requested:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["scope"], granted, "{requested:?}");
    }
}

#[tokio::test]
async fn delete_token_answers_204_and_the_token_stops_working() {
    let app = spawn_app().await;
    let token = app.token_for(&app.fx.client, app.fx.paper, "trading").await;
    assert_eq!(
        app.get_account(Env::Paper, &token).await.status(),
        StatusCode::OK
    );

    let path = format!("/v1/oauth/token/{token}");
    let response = app.broker(Method::DELETE, &path).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(response.bytes().await.unwrap().is_empty());
    assert_alpaca_error(
        app.get_account(Env::Paper, &token).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    // Revoking again is harmless.
    let again = app.broker(Method::DELETE, &path).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_broker_cannot_revoke_another_brokers_token() {
    let app = spawn_app().await;
    let token = app.token_for(&app.fx.client, app.fx.paper, "").await;
    let other = &app.fx.other_broker;
    let response = app
        .http
        .delete(app.url(&format!("/v1/oauth/token/{token}")))
        .basic_auth(&other.key_id, Some(&other.secret))
        .send()
        .await
        .unwrap();
    assert_alpaca_error(response, StatusCode::NOT_FOUND).await;
    assert_eq!(
        app.get_account(Env::Paper, &token).await.status(),
        StatusCode::OK
    );

    let unknown = app
        .broker(Method::DELETE, "/v1/oauth/token/not-a-token")
        .send()
        .await
        .unwrap();
    assert_alpaca_error(unknown, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn broker_credentials_are_required_and_checked() {
    let app = spawn_app().await;
    let path = format!("/v1/oauth/clients/{}", app.fx.client.id());
    let b = &app.fx.broker;
    let cases: Vec<reqwest::RequestBuilder> = vec![
        app.http.get(app.url(&path)),
        app.http
            .get(app.url(&path))
            .basic_auth(&b.key_id, Some("0".repeat(40))),
        app.http
            .get(app.url(&path))
            .basic_auth("BKNOSUCHKEY000000000", Some(&b.secret)),
        app.http
            .get(app.url(&path))
            .basic_auth(&b.key_id, None::<&str>),
        app.http.get(app.url(&path)).bearer_auth(&b.secret),
        app.http
            .get(app.url(&path))
            .header("Authorization", "Basic !!!not-base64"),
        // The other broker's secret with this broker's key id.
        app.http
            .get(app.url(&path))
            .basic_auth(&b.key_id, Some(&app.fx.other_broker.secret)),
    ];
    for request in cases {
        let response = request.send().await.unwrap();
        assert!(header(&response, "www-authenticate").starts_with("Basic "));
        assert_alpaca_error(response, StatusCode::UNAUTHORIZED).await;
    }
    for method in [Method::POST] {
        for path in ["/v1/oauth/token", "/v1/oauth/authorize"] {
            let body = app.grant_body(&app.fx.client, app.fx.paper, "");
            let response = app
                .http
                .request(method.clone(), app.url(path))
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_alpaca_error(response, StatusCode::UNAUTHORIZED).await;
        }
    }
}

/// Each documented error status of `POST /v1/oauth/token` and `/v1/oauth/authorize`.
#[tokio::test]
async fn grant_errors_answer_the_documented_statuses() {
    let app = spawn_app().await;
    let fx = &app.fx;
    let valid = app.grant_body(&fx.client, fx.paper, "trading");
    let with = |name: &str, value: Value| {
        let mut body = valid.clone();
        body[name] = value;
        body
    };
    let cases: Vec<(&str, Value, StatusCode)> = vec![
        (
            "unknown client",
            with("client_id", json!("7a3c52a910e1dc2abbb14da2b6b8e711")),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "another broker's client",
            app.grant_body(&fx.foreign_client, fx.paper, "trading"),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "wrong client_secret",
            with(
                "client_secret",
                json!("bbb14da2b6b8e7117a3c52a910e1dc2abbb14da2"),
            ),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "another client's secret",
            with("client_secret", json!(fx.paper_client.client_secret)),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "redirect_uri not registered",
            with(
                "redirect_uri",
                json!("https://app.example.com/oauth/callback/"),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "invalid scope",
            with("scope", json!("trading admin")),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "numeric scope",
            with("scope", json!(42)),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "another broker's account",
            with("account_id", json!(fx.foreign_account.to_string())),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "unknown account",
            with("account_id", json!("0d18ae51-3c94-4511-b209-101e1666416b")),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "live account for a client not approved for live",
            app.grant_body(&fx.paper_client, fx.live, "trading"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "missing account_id",
            {
                let mut b = valid.clone();
                b.as_object_mut().unwrap().remove("account_id");
                b
            },
            StatusCode::BAD_REQUEST,
        ),
        (
            "client_id of the wrong type",
            with("client_id", json!(7)),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a body that is not an object",
            json!(["client_id"]),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for path in ["/v1/oauth/token", "/v1/oauth/authorize"] {
        for (what, body, status) in &cases {
            let response = app.broker_post(path, body).await;
            assert_eq!(response.status(), *status, "{path}: {what}");
            assert_alpaca_error(response, *status).await;
        }
    }
}

#[tokio::test]
async fn a_disabled_client_gets_no_new_grants() {
    let app = spawn_app().await;
    let id = app.fx.client.id().to_owned();
    paddock::admin::set_client_status(
        app.store.as_ref(),
        &id,
        paddock_core::model::ClientStatus::Disabled,
        app.clock.now(),
    )
    .await
    .unwrap();
    let body = app.grant_body(&app.fx.client, app.fx.paper, "");
    for path in ["/v1/oauth/token", "/v1/oauth/authorize"] {
        assert_alpaca_error(app.broker_post(path, &body).await, StatusCode::UNAUTHORIZED).await;
    }
    // The broker still sees its client, with its status.
    let response = app
        .broker(Method::GET, &format!("/v1/oauth/clients/{id}"))
        .send()
        .await
        .unwrap();
    let client: Value = response.json().await.unwrap();
    assert_eq!(client["status"], "DISABLED");
}

#[tokio::test]
async fn malformed_json_is_400_with_a_clear_message() {
    let app = spawn_app().await;
    for raw in ["{", "", "null", "{\"client_id\": }", "[]"] {
        let response = app
            .broker(Method::POST, "/v1/oauth/token")
            .header("Content-Type", "application/json")
            .body(raw)
            .send()
            .await
            .unwrap();
        let body = assert_alpaca_error(response, StatusCode::BAD_REQUEST).await;
        assert!(
            body["message"].as_str().unwrap().len() > 10,
            "{raw:?}: {body}"
        );
    }
}

#[tokio::test]
async fn a_live_approved_client_may_be_granted_the_live_account() {
    let app = spawn_app().await;
    let token = app.token_for(&app.fx.client, app.fx.live, "trading").await;
    let response = app.get_account(Env::Live, &token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["id"], app.fx.live.to_string());
    // Paper accounts are fine for the paper-only client.
    let token = app.token_for(&app.fx.paper_client, app.fx.paper2, "").await;
    let body: Value = app
        .get_account(Env::Paper, &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["id"], app.fx.paper2.to_string());
}
