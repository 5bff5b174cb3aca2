//! `/healthz`, `/readyz`, `/metrics` and `/openapi.json`.

use reqwest::StatusCode;
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
        .broker(reqwest::Method::DELETE, &format!("/v1/oauth/token/{token}"))
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

#[tokio::test]
async fn openapi_describes_every_json_endpoint_with_its_bodies() {
    let app = spawn_app().await;
    let response = app.http.get(app.url("/openapi.json")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let doc: Value = response.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with('3'));
    let paths = &doc["paths"];
    for (path, method) in [
        ("/v1/oauth/clients/{client_id}", "get"),
        ("/v1/oauth/token", "post"),
        ("/v1/oauth/authorize", "post"),
        ("/v1/oauth/token/{token_id}", "delete"),
        ("/oauth/token", "post"),
        ("/v2/account", "get"),
        ("/paper/v2/account", "get"),
        ("/healthz", "get"),
        ("/readyz", "get"),
    ] {
        assert!(
            paths[path][method].is_object(),
            "{method} {path} is not described"
        );
    }
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
