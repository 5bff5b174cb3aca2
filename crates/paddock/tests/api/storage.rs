//! What the database holds: digests, never a secret, token or code in plain text.

use crate::helpers::{REDIRECT_URI, USER_PASSWORD, spawn_app};

#[tokio::test]
async fn the_database_file_holds_no_secret_in_plain_text() {
    let app = spawn_app().await;
    let fx = &app.fx;
    let token = app.token_for(&fx.client, fx.paper, "trading").await;
    let broker_token = {
        let body = app.grant_body(&fx.client, fx.live, "");
        let response = app.broker_post("/v1/oauth/token", &body).await;
        let body: serde_json::Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    };
    // A code still waiting to be redeemed, and one spent.
    let pending_code = app.code_for(&fx.client, fx.paper, "").await;
    let spent_code = app.code_for(&fx.client, fx.paper, "").await;
    let response = app
        .redeem(&spent_code, (&fx.client).into(), REDIRECT_URI)
        .await;
    assert!(response.status().is_success());

    let bytes = app.db.contents().await;
    // The file is really there and really holds our rows.
    assert!(contains(&bytes, fx.client.id().as_bytes()));
    let secrets = [
        ("access token", token.as_str()),
        ("Broker API access token", broker_token.as_str()),
        ("pending code", pending_code.as_str()),
        ("spent code", spent_code.as_str()),
        ("client secret", fx.client.client_secret.as_str()),
        ("broker secret", fx.broker.secret.as_str()),
        ("user password", USER_PASSWORD),
    ];
    for (what, secret) in secrets {
        assert!(
            !contains(&bytes, secret.as_bytes()),
            "the {what} is stored in plain text"
        );
        // Nor the random part alone, past a recognisable prefix.
        if let Some(tail) = secret
            .get(secret.len().saturating_sub(24)..)
            .filter(|_| secret.len() > 30)
        {
            assert!(
                !contains(&bytes, tail.as_bytes()),
                "part of the {what} is stored"
            );
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
