//! The standards endpoints (SPEC §3.6): authorization server metadata (RFC 8414),
//! token introspection (RFC 7662) and token revocation (RFC 7009), driven where it can
//! be by the `oauth2` crate as a real client.

use oauth2::basic::{BasicClient, BasicTokenType};
use oauth2::{
    AccessToken, AuthType, ClientId, ClientSecret, EndpointNotSet, EndpointSet, HttpRequest,
    HttpResponse, IntrospectionUrl, RequestTokenError, RevocationUrl, TokenIntrospectionResponse,
};
use paddock::admin::{self, CreatedBroker, CreatedClient};
use paddock_core::env::Env;
use paddock_core::ids::AccountId;
use paddock_core::model::ClientStatus;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    Creds, FetchJson, TestApp, assert_alpaca_error, assert_json, assert_token_error, header,
    spawn_app, spawn_app_with,
};

/// Exactly what an inactive token answers: nothing else.
fn inactive() -> Value {
    json!({"active": false})
}

/// The `oauth2` crate's requests, sent with reqwest.
///
/// The crate refuses a revocation URL that is not https (RFC 7009 §2 says clients MUST
/// check), and the test server speaks plain HTTP on loopback: the client is given the
/// https form of the URL, and this transport, standing in for a TLS-terminating proxy,
/// sends it to the server's http address.
async fn send(request: HttpRequest) -> Result<HttpResponse, reqwest::Error> {
    let (parts, body) = request.into_parts();
    let url = parts.uri.to_string().replacen("https://", "http://", 1);
    let response = reqwest::Client::new()
        .request(parts.method, url)
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

type StandardsClient =
    BasicClient<EndpointNotSet, EndpointNotSet, EndpointSet, EndpointSet, EndpointNotSet>;

/// An `oauth2` client with `creds`, configured from the server's metadata document.
async fn oauth_client(app: &TestApp, creds: Creds<'_>, auth_type: AuthType) -> StandardsClient {
    let metadata: Value = app
        .http
        .get(app.url("/.well-known/oauth-authorization-server"))
        .fetch_json()
        .await;
    let endpoint = |name: &str| metadata[name].as_str().unwrap().to_owned();
    let revocation = endpoint("revocation_endpoint").replacen("http://", "https://", 1);
    BasicClient::new(ClientId::new(creds.id.to_owned()))
        .set_client_secret(ClientSecret::new(creds.secret.to_owned()))
        .set_introspection_url(IntrospectionUrl::new(endpoint("introspection_endpoint")).unwrap())
        .set_revocation_url(RevocationUrl::new(revocation).unwrap())
        .set_auth_type(auth_type)
}

impl TestApp {
    /// `POST path` with `form` and HTTP Basic `user:secret`.
    async fn post_basic(
        &self,
        path: &str,
        user: &str,
        secret: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .basic_auth(user, Some(secret))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Introspects `token` as `client` (client_secret_basic) and returns the body.
    async fn introspect_as_client(&self, client: &CreatedClient, token: &str) -> Value {
        let response = self
            .post_basic(
                "/oauth/introspect",
                client.id(),
                &client.client_secret,
                &[("token", token)],
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_json(&response);
        assert_eq!(header(&response, "cache-control"), "no-store");
        response.json().await.unwrap()
    }

    /// Introspects `token` as `broker`, with its Broker API credentials.
    async fn introspect_as_broker(&self, broker: &CreatedBroker, token: &str) -> Value {
        let response = self
            .post_basic(
                "/oauth/introspect",
                &broker.key_id,
                &broker.secret,
                &[("token", token)],
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_json(&response);
        assert_eq!(header(&response, "cache-control"), "no-store");
        response.json().await.unwrap()
    }

    /// Revokes `token` as `client` (client_secret_basic) and checks the empty 200.
    async fn revoke_as(&self, client: &CreatedClient, token: &str) {
        let response = self
            .post_basic(
                "/oauth/revoke",
                client.id(),
                &client.client_secret,
                &[("token", token)],
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header(&response, "cache-control"), "no-store");
        assert!(response.bytes().await.unwrap().is_empty());
    }

    /// A token of `other_broker`'s client, issued through the Broker API by that broker.
    async fn foreign_token(&self) -> String {
        let body = self.grant_body(&self.fx.foreign_client, self.fx.foreign_account, "trading");
        let response = self
            .http
            .post(self.url("/v1/oauth/token"))
            .basic_auth(
                &self.fx.other_broker.key_id,
                Some(&self.fx.other_broker.secret),
            )
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    async fn user_of(&self, account: AccountId) -> String {
        let account = self.store.account(account).await.unwrap().unwrap();
        account.user_id.to_string()
    }

    async fn set_status(&self, client: &CreatedClient, status: ClientStatus) {
        admin::set_client_status(self.store.as_ref(), client.id(), status, self.clock.now())
            .await
            .unwrap();
        self.heard_of_client_status(client, status).await;
    }
}

// ---- metadata (RFC 8414) ----

#[tokio::test]
async fn metadata_describes_the_server() {
    let app = spawn_app().await;
    let response = app
        .http
        .get(app.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_json(&response);
    let body: Value = response.json().await.unwrap();
    let issuer = &app.base;
    let client_auth = json!(["client_secret_basic", "client_secret_post"]);
    assert_eq!(
        body,
        json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/oauth/authorize"),
            "token_endpoint": format!("{issuer}/oauth/token"),
            "introspection_endpoint": format!("{issuer}/oauth/introspect"),
            "revocation_endpoint": format!("{issuer}/oauth/revoke"),
            "scopes_supported": ["account:write", "trading", "data"],
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "token_endpoint_auth_methods_supported": client_auth,
            "introspection_endpoint_auth_methods_supported": client_auth,
            "revocation_endpoint_auth_methods_supported": client_auth,
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": true,
            "service_documentation": format!("{issuer}/openapi.json"),
        })
    );
}

#[tokio::test]
async fn metadata_follows_the_configured_issuer() {
    let app = spawn_app_with(|s| s.issuer = "https://auth.broker.example".into()).await;
    let body: Value = app
        .http
        .get(app.url("/.well-known/oauth-authorization-server"))
        .fetch_json()
        .await;
    assert_eq!(body["issuer"], "https://auth.broker.example");
    assert_eq!(
        body["token_endpoint"],
        "https://auth.broker.example/oauth/token"
    );
}

#[tokio::test]
async fn every_endpoint_the_metadata_names_answers() {
    let app = spawn_app().await;
    let body: Value = app
        .http
        .get(app.url("/.well-known/oauth-authorization-server"))
        .fetch_json()
        .await;
    let cases = [
        ("authorization_endpoint", Method::GET),
        ("token_endpoint", Method::POST),
        ("introspection_endpoint", Method::POST),
        ("revocation_endpoint", Method::POST),
        ("service_documentation", Method::GET),
    ];
    for (name, method) in cases {
        let url = body[name].as_str().unwrap();
        let response = app.http.request(method, url).send().await.unwrap();
        let status = response.status();
        assert!(
            status != StatusCode::NOT_FOUND && status != StatusCode::METHOD_NOT_ALLOWED,
            "{name} {url}: {status}"
        );
        assert!(!status.is_server_error(), "{name} {url}: {status}");
    }
}

// ---- introspection (RFC 7662) ----

#[tokio::test]
async fn the_oauth2_crate_introspects_with_basic_and_body_auth() {
    let app = spawn_app().await;
    let token = app
        .token_for(&app.fx.client, app.fx.paper, "account:write trading")
        .await;
    let user = app.user_of(app.fx.paper).await;
    for auth_type in [AuthType::BasicAuth, AuthType::RequestBody] {
        let client = oauth_client(&app, (&app.fx.client).into(), auth_type).await;
        let answer = client
            .introspect(&AccessToken::new(token.clone()))
            .set_token_type_hint("access_token")
            .request_async(&send)
            .await
            .expect("introspection response");
        assert!(answer.active());
        let scopes: Vec<String> = answer
            .scopes()
            .unwrap()
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(scopes, ["account:write", "trading"]);
        assert_eq!(answer.client_id().unwrap().as_str(), app.fx.client.id());
        assert_eq!(answer.token_type(), Some(&BasicTokenType::Bearer));
        assert_eq!(answer.sub(), Some(user.as_str()));
        assert_eq!(answer.iss(), Some(app.base.as_str()));
        assert!(answer.iat().is_some());
        assert!(
            answer.exp().is_none(),
            "tokens live until revoked by default"
        );
    }

    // And a token that is not the client's reads as inactive, with nothing else.
    let client = oauth_client(&app, (&app.fx.client).into(), AuthType::BasicAuth).await;
    let answer = client
        .introspect(&AccessToken::new("pdk_at_unknown".into()))
        .request_async(&send)
        .await
        .expect("introspection response");
    assert!(!answer.active());
    assert!(answer.scopes().is_none() && answer.client_id().is_none() && answer.sub().is_none());
}

#[tokio::test]
async fn an_active_token_answers_every_field() {
    let app = spawn_app().await;
    let before = app.clock.now().timestamp();
    let response = app
        .broker_post(
            "/v1/oauth/token",
            &app.grant_body(&app.fx.client, app.fx.live, "data trading"),
        )
        .await;
    let issued: Value = response.json().await.unwrap();
    let token = issued["access_token"].as_str().unwrap();
    let body = app.introspect_as_client(&app.fx.client, token).await;
    let iat = body["iat"].as_i64().unwrap();
    assert!(iat >= before && iat <= app.clock.now().timestamp(), "{iat}");
    assert_eq!(
        body,
        json!({
            "active": true,
            "scope": issued["scope"],
            "client_id": app.fx.client.id(),
            "token_type": "Bearer",
            "sub": app.user_of(app.fx.live).await,
            "iat": iat,
            "iss": app.base,
            "live_account_id": app.fx.live.to_string(),
        })
    );
    assert_eq!(body["scope"], "trading data");

    // The same answer for the client's broker, read-only scope as the empty string.
    let token = app.token_for(&app.fx.client, app.fx.paper, "general").await;
    let body = app.introspect_as_broker(&app.fx.broker, &token).await;
    assert_eq!(body["active"], true);
    assert_eq!(body["scope"], "");
    assert_eq!(body["paper_account_id"], app.fx.paper.to_string());
    assert!(body.get("live_account_id").is_none());
}

#[tokio::test]
async fn a_token_with_a_lifetime_shows_exp_and_turns_inactive() {
    let app = spawn_app_with(|s| s.token_ttl = Some(chrono::Duration::minutes(5))).await;
    let token = app.token_for(&app.fx.client, app.fx.paper, "trading").await;
    let body = app.introspect_as_client(&app.fx.client, &token).await;
    assert_eq!(body["active"], true);
    assert_eq!(
        body["exp"].as_i64().unwrap(),
        body["iat"].as_i64().unwrap() + 300
    );
    app.clock.advance(chrono::Duration::minutes(5));
    assert_eq!(
        app.introspect_as_client(&app.fx.client, &token).await,
        inactive()
    );
    assert_eq!(
        app.introspect_as_broker(&app.fx.broker, &token).await,
        inactive()
    );
}

#[tokio::test]
async fn inactive_tokens_answer_active_false_and_nothing_else() {
    let app = spawn_app().await;
    let client = &app.fx.client;
    let unknown = format!("pdk_at_{}", "A".repeat(43));
    for token in [unknown.as_str(), "pdk_at_short", "garbage", "\u{e9}t\u{e9}"] {
        assert_eq!(
            app.introspect_as_client(client, token).await,
            inactive(),
            "{token}"
        );
        assert_eq!(
            app.introspect_as_broker(&app.fx.broker, token).await,
            inactive()
        );
    }

    // Another client's token, though both clients belong to the same broker.
    let theirs = app
        .token_for(&app.fx.paper_client, app.fx.paper, "trading")
        .await;
    assert_eq!(app.introspect_as_client(client, &theirs).await, inactive());
    assert_eq!(
        app.introspect_as_client(&app.fx.paper_client, &theirs)
            .await["active"],
        true
    );

    // A revoked token.
    let token = app.token_for(client, app.fx.paper, "trading").await;
    let revoked = app
        .broker(Method::DELETE, &format!("/v1/oauth/token/{token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.introspect_as_client(client, &token).await, inactive());
    assert_eq!(
        app.introspect_as_broker(&app.fx.broker, &token).await,
        inactive()
    );
}

#[tokio::test]
async fn a_disabled_clients_tokens_are_inactive_to_its_broker() {
    let app = spawn_app().await;
    let token = app.token_for(&app.fx.client, app.fx.paper, "trading").await;
    app.set_status(&app.fx.client, ClientStatus::Disabled).await;
    assert_eq!(
        app.introspect_as_broker(&app.fx.broker, &token).await,
        inactive()
    );
    app.set_status(&app.fx.client, ClientStatus::Active).await;
    assert_eq!(
        app.introspect_as_broker(&app.fx.broker, &token).await["active"],
        true
    );
}

#[tokio::test]
async fn a_broker_sees_only_its_own_clients_tokens() {
    let app = spawn_app().await;
    let ours = app.token_for(&app.fx.client, app.fx.paper, "trading").await;
    let theirs = app.foreign_token().await;

    let body = app.introspect_as_broker(&app.fx.broker, &ours).await;
    assert_eq!(body["active"], true);
    assert_eq!(body["client_id"], app.fx.client.id());
    assert_eq!(
        app.introspect_as_broker(&app.fx.broker, &theirs).await,
        inactive()
    );

    let body = app
        .introspect_as_broker(&app.fx.other_broker, &theirs)
        .await;
    assert_eq!(body["active"], true);
    assert_eq!(body["client_id"], app.fx.foreign_client.id());
    assert_eq!(body["paper_account_id"], app.fx.foreign_account.to_string());
    assert_eq!(
        app.introspect_as_broker(&app.fx.other_broker, &ours).await,
        inactive()
    );
}

#[tokio::test]
async fn introspection_refuses_bad_credentials() {
    let app = spawn_app().await;
    let token = app.token_for(&app.fx.client, app.fx.paper, "").await;
    let wrong = "0".repeat(40);

    // A client with a wrong secret, in HTTP Basic: 401 with a challenge.
    let response = app
        .post_basic(
            "/oauth/introspect",
            app.fx.client.id(),
            &wrong,
            &[("token", &token)],
        )
        .await;
    assert!(header(&response, "www-authenticate").starts_with("Basic "));
    assert_token_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;

    // The oauth2 crate, in the body, sees the error too.
    let creds = Creds {
        id: app.fx.client.id(),
        secret: &wrong,
    };
    let client = oauth_client(&app, creds, AuthType::RequestBody).await;
    let error = client
        .introspect(&AccessToken::new(token.clone()))
        .request_async(&send)
        .await
        .expect_err("a wrong secret");
    match error {
        RequestTokenError::ServerResponse(e) => assert_eq!(e.error().as_ref(), "invalid_client"),
        other => panic!("expected an OAuth error response, got {other:?}"),
    }

    // A broker with a wrong secret.
    let response = app
        .post_basic(
            "/oauth/introspect",
            &app.fx.broker.key_id,
            &wrong,
            &[("token", &token)],
        )
        .await;
    assert!(header(&response, "www-authenticate").starts_with("Basic "));
    assert_token_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;

    // No credentials at all.
    let response = app
        .http
        .post(app.url("/oauth/introspect"))
        .form(&[("token", &token)])
        .send()
        .await
        .unwrap();
    assert_token_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;

    // Broker credentials in the header and a client's in the body: one way only.
    let response = app
        .post_basic(
            "/oauth/introspect",
            &app.fx.broker.key_id,
            &app.fx.broker.secret,
            &[
                ("token", &token),
                ("client_id", app.fx.client.id()),
                ("client_secret", &app.fx.client.client_secret),
            ],
        )
        .await;
    assert_token_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
}

#[tokio::test]
async fn introspection_needs_a_token_in_a_form() {
    let app = spawn_app().await;
    let c = &app.fx.client;
    for (user, secret) in [
        (c.id(), c.client_secret.as_str()),
        (app.fx.broker.key_id.as_str(), app.fx.broker.secret.as_str()),
    ] {
        let response = app.post_basic("/oauth/introspect", user, secret, &[]).await;
        let body = assert_token_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
        assert!(
            body["error_description"]
                .as_str()
                .unwrap()
                .contains("token")
        );
    }
    let json = app
        .http
        .post(app.url("/oauth/introspect"))
        .basic_auth(c.id(), Some(&c.client_secret))
        .json(&json!({"token": "pdk_at_x"}))
        .send()
        .await
        .unwrap();
    assert_token_error(json, StatusCode::BAD_REQUEST, "invalid_request").await;
    let repeated = app
        .http
        .post(app.url("/oauth/introspect"))
        .basic_auth(c.id(), Some(&c.client_secret))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("token=a&token=b")
        .send()
        .await
        .unwrap();
    assert_token_error(repeated, StatusCode::BAD_REQUEST, "invalid_request").await;
}

#[tokio::test]
async fn introspection_does_not_count_as_a_use() {
    let app = spawn_app().await;
    let token = app.token_for(&app.fx.client, app.fx.paper, "").await;
    app.introspect_as_client(&app.fx.client, &token).await;
    app.introspect_as_broker(&app.fx.broker, &token).await;
    assert!(app.state.last_used.take().is_empty());
    // Whereas a Trading API call does.
    assert_eq!(
        app.get_account(Env::Paper, &token).await.status(),
        StatusCode::OK
    );
    assert_eq!(app.state.last_used.take().len(), 1);
}

#[tokio::test]
async fn a_disabled_client_cannot_introspect_or_revoke() {
    let app = spawn_app().await;
    let token = app.token_for(&app.fx.client, app.fx.paper, "").await;
    app.set_status(&app.fx.client, ClientStatus::Disabled).await;
    let c = &app.fx.client;
    for path in ["/oauth/introspect", "/oauth/revoke"] {
        let response = app
            .post_basic(path, c.id(), &c.client_secret, &[("token", &token)])
            .await;
        assert_token_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
    }
    // The refused revocation changed nothing: enabled again, the token works.
    app.set_status(&app.fx.client, ClientStatus::Active).await;
    assert_eq!(
        app.get_account(Env::Paper, &token).await.status(),
        StatusCode::OK
    );
}

// ---- revocation (RFC 7009) ----

#[tokio::test]
async fn the_oauth2_crate_revokes_and_the_token_stops_working_at_once() {
    let app = spawn_app().await;
    for auth_type in [AuthType::BasicAuth, AuthType::RequestBody] {
        let token = app.token_for(&app.fx.client, app.fx.paper, "trading").await;
        assert_eq!(
            app.get_account(Env::Paper, &token).await.status(),
            StatusCode::OK
        );
        let client = oauth_client(&app, (&app.fx.client).into(), auth_type).await;
        let access = AccessToken::new(token.clone());
        client
            .revoke_token((&access).into())
            .unwrap()
            .request_async(&send)
            .await
            .expect("revoked");
        let refused = app.get_account(Env::Paper, &token).await;
        assert_alpaca_error(refused, StatusCode::UNAUTHORIZED).await;
        assert_eq!(
            app.introspect_as_client(&app.fx.client, &token).await,
            inactive()
        );
        // Revoking again is still a success (RFC 7009 §2.2).
        client
            .revoke_token((&access).into())
            .unwrap()
            .request_async(&send)
            .await
            .expect("revoked again");
    }
}

#[tokio::test]
async fn revoking_another_clients_token_changes_nothing() {
    let app = spawn_app().await;
    let token = app.token_for(&app.fx.client, app.fx.paper, "trading").await;
    app.revoke_as(&app.fx.paper_client, &token).await;
    let foreign = app
        .post_basic(
            "/oauth/revoke",
            app.fx.foreign_client.id(),
            &app.fx.foreign_client.client_secret,
            &[("token", &token)],
        )
        .await;
    assert_eq!(foreign.status(), StatusCode::OK);
    assert_eq!(
        app.get_account(Env::Paper, &token).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.introspect_as_client(&app.fx.client, &token).await["active"],
        true
    );
}

/// Tokens issued before tokens began with their time (43 characters after the prefix,
/// stored as their plain SHA-256) keep working after an upgrade, until revoked.
#[tokio::test]
async fn a_token_of_the_older_form_works_until_revoked() {
    use paddock_core::oauth::grant::NewToken;
    use paddock_core::secret::{AccessToken, Digest};

    let app = spawn_app().await;
    let c = &app.fx.client;
    let issued = app.token_for(c, app.fx.paper, "").await;
    assert_eq!(issued.len(), "pdk_at_".len() + 54, "{issued}");
    let digest = AccessToken::parse(&issued).unwrap().digest();
    let grant = app.store.token(&digest).await.unwrap().unwrap();
    let older = format!("pdk_at_{}", "0lder-token_".repeat(4).get(..43).unwrap());
    app.store
        .insert_token(&NewToken {
            id: paddock_core::ids::GrantId::timed(),
            digest: Digest::of(&older),
            client_id: grant.client_id,
            user_id: grant.user_id,
            scopes: grant.scopes,
            accounts: grant.accounts,
            created_at: grant.created_at,
            expires_at: None,
        })
        .await
        .unwrap();

    let status = app.get_account(Env::Paper, &older).await.status();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.introspect_as_client(c, &older).await["active"], true);
    app.revoke_as(c, &older).await;
    let status = app.get_account(Env::Paper, &older).await.status();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.introspect_as_client(c, &older).await["active"], false);
    // The token issued beside it is untouched.
    assert_eq!(app.introspect_as_client(c, &issued).await["active"], true);
}

#[tokio::test]
async fn revocation_answers_200_for_revoked_unknown_and_malformed_tokens() {
    let app = spawn_app().await;
    let c = &app.fx.client;
    let token = app.token_for(c, app.fx.paper, "").await;
    app.revoke_as(c, &token).await;
    app.revoke_as(c, &token).await;
    app.revoke_as(c, &format!("pdk_at_{}", "A".repeat(43)))
        .await;
    app.revoke_as(c, "garbage").await;

    // A hint other than access_token is ignored: the token is found all the same.
    let token = app.token_for(c, app.fx.paper, "").await;
    let response = app
        .post_basic(
            "/oauth/revoke",
            c.id(),
            &c.client_secret,
            &[("token", &token), ("token_type_hint", "refresh_token")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let refused = app.get_account(Env::Paper, &token).await;
    assert_alpaca_error(refused, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn revocation_refuses_bad_requests() {
    let app = spawn_app().await;
    let c = &app.fx.client;
    let token = app.token_for(c, app.fx.paper, "").await;

    let missing = app
        .post_basic("/oauth/revoke", c.id(), &c.client_secret, &[])
        .await;
    let body = assert_token_error(missing, StatusCode::BAD_REQUEST, "invalid_request").await;
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("token")
    );

    let wrong = app
        .post_basic(
            "/oauth/revoke",
            c.id(),
            &"0".repeat(40),
            &[("token", &token)],
        )
        .await;
    assert!(header(&wrong, "www-authenticate").starts_with("Basic "));
    assert_token_error(wrong, StatusCode::UNAUTHORIZED, "invalid_client").await;

    let both = app
        .post_basic(
            "/oauth/revoke",
            c.id(),
            &c.client_secret,
            &[("token", &token), ("client_secret", &c.client_secret)],
        )
        .await;
    assert_token_error(both, StatusCode::BAD_REQUEST, "invalid_request").await;

    // A broker revokes with DELETE /v1/oauth/token, not here.
    let broker = app
        .post_basic(
            "/oauth/revoke",
            &app.fx.broker.key_id,
            &app.fx.broker.secret,
            &[("token", &token)],
        )
        .await;
    assert_token_error(broker, StatusCode::UNAUTHORIZED, "invalid_client").await;

    // None of these revoked the token.
    assert_eq!(
        app.get_account(Env::Paper, &token).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn openapi_documents_the_standards_endpoints() {
    let app = spawn_app().await;
    let doc: Value = app.http.get(app.url("/openapi.json")).fetch_json().await;
    let paths = &doc["paths"];
    for path in ["/oauth/introspect", "/oauth/revoke"] {
        let post = &paths[path]["post"];
        assert!(
            post["requestBody"]["content"]["application/x-www-form-urlencoded"].is_object(),
            "{path}"
        );
        for status in ["200", "400", "401"] {
            assert!(post["responses"][status].is_object(), "{path} {status}");
        }
    }
    let introspection = &paths["/oauth/introspect"]["post"]["responses"]["200"];
    assert!(introspection["content"]["application/json"]["schema"].is_object());
    let metadata = &paths["/.well-known/oauth-authorization-server"]["get"];
    assert!(metadata["responses"]["200"]["content"]["application/json"].is_object());
}
