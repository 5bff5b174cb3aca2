//! Garbage in every field: a clear 4xx, never a 5xx, never a panic, nothing changed.

use paddock_core::env::Env;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{REDIRECT_URI, TestApp, spawn_app};

/// Garbage JSON values for one field.
fn bad_json_values() -> Vec<Value> {
    vec![
        json!(null),
        json!(true),
        json!(12345),
        json!(-1.5e300),
        json!([]),
        json!(["a", 1]),
        json!({"nested": {"deeper": []}}),
        json!(""),
        json!(" "),
        json!("\u{0000}"),
        json!("\u{202e}\u{fffd}🙂"),
        json!("%ff%fe"),
        json!("x".repeat(60_000)),
        json!("' OR 1=1 --"),
        json!("<script>alert(1)</script>"),
    ]
}

/// A 4xx with a JSON body that says something; returns the status.
async fn assert_clear_4xx(response: Response, what: &str) -> StatusCode {
    let status = response.status();
    assert!(status.is_client_error(), "{what}: answered {status}");
    let body: Value = response
        .json()
        .await
        .unwrap_or_else(|e| panic!("{what}: the body is not JSON: {e}"));
    let message = body["message"]
        .as_str()
        .or_else(|| body["error_description"].as_str())
        .unwrap_or_default();
    assert!(!message.is_empty(), "{what}: no message in {body}");
    status
}

/// The fixture still works: nothing a test sent broke the server or its data.
async fn assert_still_serving(app: &TestApp) {
    let token = app.token_for(&app.fx.client, app.fx.paper, "trading").await;
    assert_eq!(
        app.get_account(Env::Paper, &token).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn broker_grant_fields_with_garbage_get_4xx() {
    let app = spawn_app().await;
    let valid = app.grant_body(&app.fx.client, app.fx.paper, "trading");
    let fields = [
        "client_id",
        "client_secret",
        "redirect_uri",
        "scope",
        "account_id",
    ];
    for path in ["/v1/oauth/token", "/v1/oauth/authorize"] {
        for field in fields {
            for value in bad_json_values() {
                // An empty scope is valid: read-only access.
                if field == "scope" && value.as_str().is_some_and(|v| v.trim().is_empty()) {
                    continue;
                }
                let mut body = valid.clone();
                body[field] = value.clone();
                let what = format!("{path} {field}={}", short(&value.to_string()));
                assert_clear_4xx(app.broker_post(path, &body).await, &what).await;
            }
        }
    }
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn raw_bodies_that_are_not_json_get_4xx() {
    let app = spawn_app().await;
    let bodies: Vec<Vec<u8>> = vec![
        b"\xff\xfe\xfd".to_vec(),
        b"{\"client_id\": \"\xff\"}".to_vec(),
        b"client_id=x&scope=y".to_vec(),
        vec![b'['; 10_000],
        vec![0u8; 1000],
        vec![b'a'; 200_000],
    ];
    for body in bodies {
        for path in ["/v1/oauth/token", "/v1/oauth/authorize"] {
            let response = app
                .broker(Method::POST, path)
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone())
                .send()
                .await
                .unwrap();
            assert_clear_4xx(response, &format!("{path} raw {}", short_bytes(&body))).await;
        }
    }
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn token_endpoint_fields_with_garbage_get_4xx() {
    let app = spawn_app().await;
    let c = &app.fx.client;
    let valid: Vec<(&str, String)> = vec![
        ("grant_type", "authorization_code".into()),
        (
            "code",
            "pdk_ac_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".into(),
        ),
        ("client_id", c.id().to_owned()),
        ("client_secret", c.client_secret.clone()),
        ("redirect_uri", REDIRECT_URI.into()),
        ("code_verifier", "v".repeat(43)),
    ];
    let garbage = [
        "%ff%fe".to_owned(),
        "%".to_owned(),
        "%zz".to_owned(),
        "%00".to_owned(),
        "x".repeat(60_000),
        "🙂".repeat(100),
        "a+b&c=d".to_owned(),
    ];
    for i in 0..valid.len() {
        for bad in &garbage {
            // Built by hand, so that the garbage reaches the server undecoded.
            let body: Vec<String> = valid
                .iter()
                .enumerate()
                .map(|(j, (name, value))| {
                    let value = if i == j {
                        bad.clone()
                    } else {
                        form_escape(value)
                    };
                    format!("{name}={value}")
                })
                .collect();
            let response = app
                .http
                .post(app.url("/oauth/token"))
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(body.join("&"))
                .send()
                .await
                .unwrap();
            let what = format!("{}={}", valid[i].0, short(bad));
            assert_clear_4xx(response, &what).await;
        }
    }
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn bad_authorization_headers_get_401() {
    let app = spawn_app().await;
    let headers: Vec<HeaderValue> = vec![
        HeaderValue::from_bytes(b"Basic \xff\xfe").unwrap(),
        HeaderValue::from_bytes(b"Bearer \xff\xfe\x80").unwrap(),
        HeaderValue::from_static("Basic"),
        HeaderValue::from_static("Basic ====="),
        // base64 of bytes that are not UTF-8
        HeaderValue::from_static("Basic //79"),
        // base64 of "no-colon"
        HeaderValue::from_static("Basic bm8tY29sb24="),
        // base64 of ":"
        HeaderValue::from_static("Basic Og=="),
        HeaderValue::from_str(&format!("Basic {}", "A".repeat(8000))).unwrap(),
        HeaderValue::from_str(&format!("Bearer {}", "A".repeat(8000))).unwrap(),
        HeaderValue::from_static("Digest username=\"x\""),
    ];
    let client_path = format!("/v1/oauth/clients/{}", app.fx.client.id());
    for header in headers {
        let requests = [
            app.http.get(app.url(&client_path)),
            app.http.delete(app.url("/v1/oauth/token/pdk_at_x")),
            app.http.get(app.api(Env::Live, "/v2/account")),
            app.http.get(app.api(Env::Paper, "/v2/account")),
        ];
        for request in requests {
            let response = request
                .header(AUTHORIZATION, header.clone())
                .send()
                .await
                .unwrap();
            let what = format!("Authorization: {}", short_bytes(header.as_bytes()));
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{what}");
            assert_clear_4xx(response, &what).await;
        }
        // On the token endpoint: invalid_client (or invalid_request), never a 5xx.
        let response = app
            .http
            .post(app.url("/oauth/token"))
            .header(AUTHORIZATION, header.clone())
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", "x"),
                ("redirect_uri", "y"),
            ])
            .send()
            .await
            .unwrap();
        assert_clear_4xx(response, "token endpoint with a bad Authorization header").await;
    }
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn garbage_in_paths_and_queries_gets_4xx() {
    let app = spawn_app().await;
    let id = app.fx.client.id().to_owned();
    let long = "a".repeat(10_000);
    let paths = [
        "/v1/oauth/clients/%ff%fe".to_owned(),
        "/v1/oauth/clients/%00".to_owned(),
        format!("/v1/oauth/clients/{long}"),
        format!("/v1/oauth/clients/{id}?scope=%ff"),
        format!("/v1/oauth/clients/{id}?scope=a&scope=b"),
        format!("/v1/oauth/clients/{id}?redirect_uri={long}"),
        format!("/v1/oauth/clients/{id}?response_type=%"),
    ];
    for path in &paths {
        let response = app.broker(Method::GET, path).send().await.unwrap();
        assert_clear_4xx(response, &short(path)).await;
    }
    for path in [
        "/v1/oauth/token/%ff%fe".to_owned(),
        format!("/v1/oauth/token/{long}"),
    ] {
        let response = app.broker(Method::DELETE, &path).send().await.unwrap();
        assert_clear_4xx(response, &short(&path)).await;
    }
    for path in ["/nowhere", "/v2/nowhere", "/paper/v3/account", "/%ff"] {
        let response = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(
            assert_clear_4xx(response, path).await,
            StatusCode::NOT_FOUND
        );
    }
    let wrong_method = app.http.put(app.url("/oauth/token")).send().await.unwrap();
    assert_eq!(
        assert_clear_4xx(wrong_method, "PUT /oauth/token").await,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_still_serving(&app).await;
}

/// Random bytes (a fixed seed, so a failure can be replayed) into every endpoint.
#[tokio::test]
async fn random_bodies_never_get_a_5xx() {
    let app = spawn_app().await;
    let mut rng = XorShift(0x5eed_5eed_5eed_5eed);
    let endpoints = [
        (Method::POST, "/v1/oauth/token", "application/json"),
        (Method::POST, "/v1/oauth/authorize", "application/json"),
        (
            Method::POST,
            "/oauth/token",
            "application/x-www-form-urlencoded",
        ),
    ];
    for _ in 0..100 {
        for (method, path, content_type) in &endpoints {
            let len = (rng.next() % 300) as usize;
            let body: Vec<u8> = (0..len)
                .map(|_| rng.pick(b"{}[]\":,=&%+ az09\xff\x00"))
                .collect();
            let response = app
                .broker(method.clone(), path)
                .header(CONTENT_TYPE, *content_type)
                .body(body.clone())
                .send()
                .await
                .unwrap();
            assert_clear_4xx(response, &format!("{path} {}", short_bytes(&body))).await;
        }
    }
    assert_still_serving(&app).await;
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick(&mut self, alphabet: &[u8]) -> u8 {
        alphabet[(self.next() % alphabet.len() as u64) as usize]
    }
}

fn form_escape(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn short(s: &str) -> String {
    s.chars().take(60).collect()
}

fn short_bytes(b: &[u8]) -> String {
    short(&String::from_utf8_lossy(b))
}
