//! `/healthz`, `/readyz`, `/metrics` and `/openapi.json`.

use paddock::server;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn health_and_readiness_answer_ok() {
    let app = spawn_app().await;
    for path in ["/healthz", "/readyz"] {
        let response = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], "ok");
    }
}

#[tokio::test]
async fn metrics_count_requests_by_route_never_by_raw_path() {
    let app = spawn_app().await;
    let token = app.token_for(&app.fx.client, app.fx.paper, "").await;
    let response = app
        .broker(Method::DELETE, &format!("/v1/oauth/token/{token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        crate::helpers::header(&response, "content-type").starts_with("text/plain; version=0.0.4")
    );
    let text = response.text().await.unwrap();
    assert!(text.contains("paddock_http_requests_total"), "{text}");
    assert!(
        text.contains("route=\"/v1/oauth/token/{token_id}\""),
        "{text}"
    );
    assert!(text.contains("paddock_http_request_duration_seconds_bucket"));
    assert!(!text.contains(&token), "a token reached the metrics");
}

/// Every path and method the document lists is routed: each is called (without
/// credentials, path parameters filled with a placeholder) and none gets the
/// fallback's 404 or 405. The converse, every JSON route documented, holds by
/// construction: see `paddock::server::api`.
#[tokio::test]
async fn openapi_describes_every_json_endpoint_with_its_bodies() {
    let app = spawn_app().await;
    let response = app.http.get(app.url("/openapi.json")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let doc: Value = response.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with('3'));
    let paths = &doc["paths"];
    let mut operations = 0;
    for (path, item) in paths.as_object().unwrap() {
        let methods = item.as_object().unwrap().keys();
        for method in methods.filter(|m| METHODS.contains(&m.as_str())) {
            operations += 1;
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let url = app.url(&with_placeholders(path));
            let response = app.http.request(method.clone(), url).send().await.unwrap();
            let status = response.status();
            let body: Value = response.json().await.unwrap_or_default();
            let fallback = match status {
                StatusCode::NOT_FOUND => body["message"] == server::NO_ENDPOINT,
                StatusCode::METHOD_NOT_ALLOWED => body["message"] == server::NO_METHOD,
                _ => false,
            };
            assert!(
                !fallback,
                "{method} {path} is documented but not routed: {status}"
            );
        }
        if let Some(live) = path.strip_prefix("/paper") {
            assert!(paths[live].is_object(), "{path} has no live twin");
        } else if path.starts_with("/v2/") && !path.starts_with("/v2/stocks/") {
            // The Trading API is on both bases; the Data API, like Alpaca's, on one.
            assert!(
                paths[format!("/paper{path}")].is_object(),
                "{path} has no paper twin"
            );
        }
    }
    // A floor, so that a module whose router is no longer merged (gone from the router
    // and the document alike) does not pass unseen.
    assert!(operations >= 12, "only {operations} operations documented");
    let post = &paths["/v1/oauth/token"]["post"];
    assert!(post["requestBody"]["content"]["application/json"].is_object());
    assert!(post["responses"]["401"]["content"]["application/json"].is_object());
    assert!(post["responses"]["422"]["content"]["application/json"].is_object());
    let token = &paths["/oauth/token"]["post"];
    assert!(token["requestBody"]["content"]["application/x-www-form-urlencoded"].is_object());
    let schemas = &doc["components"]["schemas"];
    for schema in [
        "AlpacaErrorBody",
        "TokenErrorBody",
        "ClientResponse",
        "AccountResponse",
    ] {
        assert!(schemas[schema].is_object(), "schema {schema} is missing");
    }
}

/// The keys of an OpenAPI path item that name an operation.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// `path` with each `{parameter}` replaced by a value no record has.
fn with_placeholders(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "placeholder"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}
