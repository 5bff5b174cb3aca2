//! The paper market: assets on both bases, and prices the admin CLI sets.

use paddock_core::env::Env;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, assert_alpaca_error, spawn_app};

async fn get(app: &TestApp, env: Env, path: &str, token: &str) -> reqwest::Response {
    app.http
        .get(app.api(env, path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn assets_are_listed_as_alpaca_shapes_them_on_both_bases() {
    let app = spawn_app().await;
    let token = app.token_for(&app.fx.client, app.fx.paper, "").await;
    let live = app.token_for(&app.fx.client, app.fx.live, "").await;
    for (env, token) in [(Env::Paper, &token), (Env::Live, &live)] {
        let response = get(&app, env, "/v2/assets", token).await;
        assert_eq!(response.status(), StatusCode::OK);
        let assets: Vec<Value> = response.json().await.unwrap();
        assert!(assets.len() >= 32, "{}", assets.len());
        for symbol in ["SPY", "QQQ", "AAPL"] {
            assert!(assets.iter().any(|a| a["symbol"] == symbol), "{symbol}");
        }
        let aapl = assets.iter().find(|a| a["symbol"] == "AAPL").unwrap();
        assert!(uuid::Uuid::parse_str(aapl["id"].as_str().unwrap()).is_ok());
        assert_eq!(aapl["class"], "us_equity");
        assert_eq!(aapl["exchange"], "NASDAQ");
        assert_eq!(aapl["status"], "active");
        for flag in [
            "tradable",
            "marginable",
            "shortable",
            "easy_to_borrow",
            "fractionable",
        ] {
            assert!(aapl[flag].is_boolean(), "{flag}");
        }
    }
    let anonymous = app
        .http
        .get(app.api(Env::Paper, "/v2/assets"))
        .send()
        .await
        .unwrap();
    assert_alpaca_error(anonymous, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn asset_filters_narrow_the_list_and_unknown_values_are_422() {
    let app = spawn_app().await;
    let token = app.token_for(&app.fx.client, app.fx.paper, "").await;
    let list = |query: &'static str| {
        let (app, token) = (&app, &token);
        async move {
            let response = get(app, Env::Paper, &format!("/v2/assets?{query}"), token).await;
            assert_eq!(response.status(), StatusCode::OK, "{query}");
            response.json::<Vec<Value>>().await.unwrap()
        }
    };
    let nasdaq = list("exchange=NASDAQ&status=active&asset_class=us_equity").await;
    assert!(!nasdaq.is_empty() && nasdaq.iter().all(|a| a["exchange"] == "NASDAQ"));
    assert!(list("status=inactive").await.is_empty());
    assert!(list("asset_class=crypto").await.is_empty());
    assert!(list("exchange=OTC").await.is_empty());
    assert!(list("attributes=has_options").await.is_empty());
    for query in [
        "status=sleeping",
        "exchange=MOON",
        "asset_class=bonds",
        "attributes=x",
    ] {
        let response = get(&app, Env::Paper, &format!("/v2/assets?{query}"), &token).await;
        let body = assert_alpaca_error(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(
            body["message"].as_str().unwrap().contains("use one of"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn an_asset_is_found_by_symbol_or_id() {
    let app = spawn_app().await;
    let token = app.token_for(&app.fx.client, app.fx.paper, "").await;
    let by_symbol: Value = get(&app, Env::Paper, "/v2/assets/aapl", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_symbol["symbol"], "AAPL");
    let id = by_symbol["id"].as_str().unwrap();
    let by_id: Value = get(&app, Env::Paper, &format!("/v2/assets/{id}"), &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_id, by_symbol);
    let missing = get(&app, Env::Paper, "/v2/assets/NOPE", &token).await;
    assert_alpaca_error(missing, StatusCode::NOT_FOUND).await;
}
