//! `POST /oauth/token` (SPEC §3.3; RFC 6749 §4.1.3, §5): the code exchange.

use std::collections::HashSet;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, HttpRequest, HttpResponse,
    RedirectUrl, RequestTokenError, TokenResponse, TokenUrl,
};
use paddock_core::env::Env;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{
    Creds, LOOPBACK_REDIRECT_URI, REDIRECT_URI, TestApp, assert_alpaca_error, assert_json,
    assert_token_error, header, spawn_app,
};

/// The `oauth2` crate's requests, sent with reqwest: a real, strict OAuth client.
async fn send(request: HttpRequest) -> Result<HttpResponse, reqwest::Error> {
    let (parts, body) = request.into_parts();
    let response = reqwest::Client::new()
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await?;
    let status = response.status();
    let headers = response.headers().clone();
    let mut out = HttpResponse::new(response.bytes().await?.to_vec());
    *out.status_mut() = status;
    *out.headers_mut() = headers;
    Ok(out)
}

fn oauth_client(
    app: &TestApp,
    auth_type: AuthType,
) -> oauth2::Client<
    oauth2::basic::BasicErrorResponse,
    oauth2::basic::BasicTokenResponse,
    oauth2::basic::BasicTokenIntrospectionResponse,
    oauth2::StandardRevocableToken,
    oauth2::basic::BasicRevocationErrorResponse,
    oauth2::EndpointSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
> {
    BasicClient::new(ClientId::new(app.fx.client.id().to_owned()))
        .set_client_secret(ClientSecret::new(app.fx.client.client_secret.clone()))
        .set_auth_uri(AuthUrl::new(app.url("/oauth/authorize")).unwrap())
        .set_token_uri(TokenUrl::new(app.url("/oauth/token")).unwrap())
        .set_redirect_uri(RedirectUrl::new(REDIRECT_URI.into()).unwrap())
        .set_auth_type(auth_type)
}

#[tokio::test]
async fn the_oauth2_crate_redeems_a_broker_code_with_basic_auth() {
    let app = spawn_app().await;
    let code = app
        .code_for(&app.fx.client, app.fx.paper, "account:write trading")
        .await;
    let token = oauth_client(&app, AuthType::BasicAuth)
        .exchange_code(AuthorizationCode::new(code))
        .request_async(&send)
        .await
        .expect("token response");
    let scopes: Vec<String> = token
        .scopes()
        .expect("scope")
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(scopes, ["account:write", "trading"]);
    let account = app
        .get_account(Env::Paper, token.access_token().secret())
        .await;
    assert_eq!(account.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_oauth2_crate_redeems_a_broker_code_with_body_auth() {
    let app = spawn_app().await;
    let code = app.code_for(&app.fx.client, app.fx.live, "trading").await;
    let token = oauth_client(&app, AuthType::RequestBody)
        .exchange_code(AuthorizationCode::new(code))
        .request_async(&send)
        .await
        .expect("token response");
    let account = app
        .get_account(Env::Live, token.access_token().secret())
        .await;
    assert_eq!(account.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_oauth2_crate_reads_our_errors() {
    let app = spawn_app().await;
    let error = oauth_client(&app, AuthType::BasicAuth)
        .exchange_code(AuthorizationCode::new("pdk_ac_nosuchcode".into()))
        .request_async(&send)
        .await
        .expect_err("an unknown code");
    match error {
        RequestTokenError::ServerResponse(response) => {
            assert_eq!(response.error().as_ref(), "invalid_grant");
        }
        other => panic!("expected an OAuth error response, got {other:?}"),
    }
}

#[tokio::test]
async fn success_answers_json_with_no_store() {
    let app = spawn_app().await;
    let code = app.code_for(&app.fx.client, app.fx.paper, "general").await;
    let response = app
        .redeem(&code, (&app.fx.client).into(), REDIRECT_URI)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_json(&response);
    assert_eq!(header(&response, "cache-control"), "no-store");
    assert_eq!(header(&response, "pragma"), "no-cache");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["scope"], "");
    assert!(body["access_token"].is_string());
    assert!(
        body.get("expires_in").is_none(),
        "tokens live until revoked by default"
    );
}

#[tokio::test]
async fn a_replayed_code_fails_and_revokes_the_first_token() {
    let app = spawn_app().await;
    let code = app.code_for(&app.fx.client, app.fx.paper, "trading").await;
    let first = app
        .redeem(&code, (&app.fx.client).into(), REDIRECT_URI)
        .await;
    assert_eq!(first.status(), StatusCode::OK);
    let token: Value = first.json().await.unwrap();
    let token = token["access_token"].as_str().unwrap();
    assert_eq!(
        app.get_account(Env::Paper, token).await.status(),
        StatusCode::OK
    );

    let second = app
        .redeem(&code, (&app.fx.client).into(), REDIRECT_URI)
        .await;
    let body = assert_token_error(second, StatusCode::BAD_REQUEST, "invalid_grant").await;
    let says = body["error_description"].as_str().unwrap();
    assert!(
        says.contains("already redeemed") && says.contains("has now been revoked"),
        "the error says what happened to the first token: {says}"
    );
    let refused = app.get_account(Env::Paper, token).await;
    assert_alpaca_error(refused, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn fifty_concurrent_redemptions_of_one_code_yield_one_token() {
    let app = spawn_app().await;
    let code = app.code_for(&app.fx.client, app.fx.paper, "trading").await;
    let c = &app.fx.client;
    let attempts: Vec<_> = (0..50)
        .map(|_| {
            let request = app.http.post(app.url("/oauth/token")).form(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", c.id()),
                ("client_secret", &c.client_secret),
                ("redirect_uri", REDIRECT_URI),
            ]);
            tokio::spawn(request.send())
        })
        .collect();
    let mut statuses = Vec::new();
    for attempt in attempts {
        statuses.push(attempt.await.unwrap().unwrap().status());
    }
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(ok, 1, "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::BAD_REQUEST),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn a_code_expires_after_ten_minutes() {
    let app = spawn_app().await;
    let code = app.code_for(&app.fx.client, app.fx.paper, "").await;
    app.clock.advance(chrono::Duration::minutes(10));
    let response = app
        .redeem(&code, (&app.fx.client).into(), REDIRECT_URI)
        .await;
    let body = assert_token_error(response, StatusCode::BAD_REQUEST, "invalid_grant").await;
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("expired")
    );

    let fresh = app.code_for(&app.fx.client, app.fx.paper, "").await;
    app.clock.advance(chrono::Duration::minutes(9));
    let response = app
        .redeem(&fresh, (&app.fx.client).into(), REDIRECT_URI)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_code_is_bound_to_its_client_and_redirect_uri() {
    let app = spawn_app().await;
    let code = app.code_for(&app.fx.client, app.fx.paper, "").await;
    let by_other = app
        .redeem(&code, (&app.fx.paper_client).into(), REDIRECT_URI)
        .await;
    assert_token_error(by_other, StatusCode::BAD_REQUEST, "invalid_grant").await;

    // A failed redemption spends the code: nothing can be guessed by retrying.
    let after = app
        .redeem(&code, (&app.fx.client).into(), REDIRECT_URI)
        .await;
    assert_token_error(after, StatusCode::BAD_REQUEST, "invalid_grant").await;

    let code = app.code_for(&app.fx.client, app.fx.paper, "").await;
    let other_redirect = app
        .redeem(&code, (&app.fx.client).into(), LOOPBACK_REDIRECT_URI)
        .await;
    assert_token_error(other_redirect, StatusCode::BAD_REQUEST, "invalid_grant").await;
}

#[tokio::test]
async fn client_authentication_failures_are_invalid_client() {
    let app = spawn_app().await;
    let code = app.code_for(&app.fx.client, app.fx.paper, "").await;
    let id = app.fx.client.id();
    let wrong = Creds {
        id,
        secret: &"0".repeat(40),
    };
    let response = app.redeem(&code, wrong, REDIRECT_URI).await;
    assert_token_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;

    let unknown = Creds {
        id: "7a3c52a910e1dc2abbb14da2b6b8e711",
        secret: &app.fx.client.client_secret,
    };
    let response = app.redeem(&code, unknown, REDIRECT_URI).await;
    assert_token_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;

    // With HTTP Basic, the 401 carries a challenge (RFC 6749 §5.2).
    let response = app
        .token_request_basic(id, &"0".repeat(40))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
        ])
        .send()
        .await
        .unwrap();
    assert!(header(&response, "www-authenticate").starts_with("Basic "));
    assert_token_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;

    // None of these spent the code.
    let response = app
        .redeem(&code, (&app.fx.client).into(), REDIRECT_URI)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn basic_credentials_are_form_decoded() {
    let app = spawn_app().await;
    let code = app.code_for(&app.fx.client, app.fx.paper, "").await;
    // Some clients form-urlencode id and secret before base64 (RFC 6749 §2.3.1);
    // hex needs no escaping, so escape every character to prove the decoding.
    let escape = |s: &str| s.bytes().map(|b| format!("%{b:02X}")).collect::<String>();
    let c = &app.fx.client;
    let basic = STANDARD.encode(format!("{}:{}", escape(c.id()), escape(&c.client_secret)));
    let response = app
        .http
        .post(app.url("/oauth/token"))
        .header("Authorization", format!("Basic {basic}"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn credentials_both_ways_are_invalid_request() {
    let app = spawn_app().await;
    let code = app.code_for(&app.fx.client, app.fx.paper, "").await;
    let c = &app.fx.client;
    let response = app
        .token_request_basic(c.id(), &c.client_secret)
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("client_id", c.id()),
            ("client_secret", &c.client_secret),
        ])
        .send()
        .await
        .unwrap();
    assert_token_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
}

#[tokio::test]
async fn request_errors_name_what_to_fix() {
    let app = spawn_app().await;
    let c = &app.fx.client;
    let post = |form: Vec<(&'static str, String)>| {
        app.token_request_basic(c.id(), &c.client_secret)
            .form(&form)
            .send()
    };
    let code = || ("code", "pdk_ac_x".to_owned());
    let redirect = || ("redirect_uri", REDIRECT_URI.to_owned());
    let grant = |g: &str| ("grant_type", g.to_owned());
    let cases = vec![
        (vec![code(), redirect()], "invalid_request", "grant_type"),
        (
            vec![grant("password"), code(), redirect()],
            "unsupported_grant_type",
            "grant_type",
        ),
        (
            vec![grant("authorization_code"), redirect()],
            "invalid_request",
            "code",
        ),
        (
            vec![grant("authorization_code"), code()],
            "invalid_request",
            "redirect_uri",
        ),
        (
            vec![
                grant("authorization_code"),
                code(),
                redirect(),
                ("code_verifier", "short".into()),
            ],
            "invalid_request",
            "code_verifier",
        ),
    ];
    for (form, error, names) in cases {
        let response = post(form).await.unwrap();
        let body = assert_token_error(response, StatusCode::BAD_REQUEST, error).await;
        let description = body["error_description"].as_str().unwrap();
        assert!(description.contains(names), "{description}");
    }

    let repeated = app
        .token_request_basic(c.id(), &c.client_secret)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("grant_type=authorization_code&code=a&code=b&redirect_uri=x")
        .send()
        .await
        .unwrap();
    assert_token_error(repeated, StatusCode::BAD_REQUEST, "invalid_request").await;

    let json = app
        .token_request_basic(c.id(), &c.client_secret)
        .json(&serde_json::json!({"grant_type": "authorization_code"}))
        .send()
        .await
        .unwrap();
    assert_token_error(json, StatusCode::BAD_REQUEST, "invalid_request").await;
}

#[tokio::test]
async fn tokens_are_distinct_and_unguessable() {
    let app = spawn_app().await;
    let mut seen = HashSet::new();
    for _ in 0..5 {
        let token = app.token_for(&app.fx.client, app.fx.paper, "").await;
        assert!(token.len() >= 40);
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "URL-safe: {token}"
        );
        assert!(seen.insert(token));
    }
}

#[tokio::test]
async fn a_disabled_client_cannot_redeem() {
    let app = spawn_app().await;
    let code = app.code_for(&app.fx.client, app.fx.paper, "").await;
    paddock::admin::set_client_status(
        app.store.as_ref(),
        app.fx.client.id(),
        paddock_core::model::ClientStatus::Disabled,
        app.clock.now(),
    )
    .await
    .unwrap();
    app.heard_of_client_status(&app.fx.client, paddock_core::model::ClientStatus::Disabled)
        .await;
    let response = app
        .redeem(&code, (&app.fx.client).into(), REDIRECT_URI)
        .await;
    assert_token_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
}

#[tokio::test]
async fn repeated_client_authentication_failures_are_throttled() {
    let app = spawn_app().await;
    let id = app.fx.client.id();
    let wrong = "0".repeat(40);
    let mut last = StatusCode::OK;
    for _ in 0..30 {
        let creds = Creds { id, secret: &wrong };
        last = app.redeem("pdk_ac_x", creds, REDIRECT_URI).await.status();
        if last == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
        assert_eq!(last, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    let creds = Creds { id, secret: &wrong };
    let throttled = app.redeem("pdk_ac_x", creds, REDIRECT_URI).await;
    assert!(header(&throttled, "retry-after").parse::<u64>().unwrap() > 0);
    // The right secret still passes: a client_id is public, and a lockout would let
    // anyone who knows it lock the app out.
    let code = app.code_for(&app.fx.client, app.fx.paper, "").await;
    let response = app
        .redeem(&code, (&app.fx.client).into(), REDIRECT_URI)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    // Wrong ones keep getting 429 until the window ends.
    let creds = Creds { id, secret: &wrong };
    let still = app.redeem("pdk_ac_x", creds, REDIRECT_URI).await;
    assert_eq!(still.status(), StatusCode::TOO_MANY_REQUESTS);
    app.clock.advance(chrono::Duration::minutes(5));
    let creds = Creds { id, secret: &wrong };
    let later = app.redeem("pdk_ac_x", creds, REDIRECT_URI).await;
    assert_eq!(later.status(), StatusCode::UNAUTHORIZED);
}
