//! What a person sees around the flow: the home page, the connected-apps page with its
//! confirmation step and notices, signing out, and error pages with a next step.

use reqwest::StatusCode;

use crate::browser::{Browser, assert_page_headers, hidden, revoke_link};
use crate::helpers::{USER_EMAIL, USER_PASSWORD, header, spawn_app};

#[tokio::test]
async fn the_home_page_says_what_this_is_and_where_to_go() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    let home = browser.get("/").await;
    assert_eq!(home.status(), StatusCode::OK);
    assert_page_headers(&home);
    assert!(header(&home, "content-type").starts_with("text/html"));
    let html = home.text().await.unwrap();
    assert!(html.contains("authorization server"), "{html}");
    assert!(html.contains("href=\"/login\""), "a way to sign in: {html}");
    for link in ["/openapi.json", "/.well-known/oauth-authorization-server"] {
        assert!(html.contains(&format!("href=\"{link}\"")), "{link}: {html}");
    }

    browser
        .sign_in_at("/login", USER_EMAIL, USER_PASSWORD)
        .await;
    let html = browser.get("/").await.text().await.unwrap();
    assert!(html.contains(USER_EMAIL), "who is signed in: {html}");
    assert!(html.contains("href=\"/account/apps\""), "{html}");
}

#[tokio::test]
async fn grants_of_one_app_are_told_apart_by_accounts_and_date() {
    let app = spawn_app().await;
    app.token_for(&app.fx.client, app.fx.paper, "trading").await;
    app.token_for(&app.fx.client, app.fx.paper2, "").await;
    let browser = Browser::new(&app);
    browser
        .sign_in_at("/login", USER_EMAIL, USER_PASSWORD)
        .await;
    let html = browser.get("/account/apps").await.text().await.unwrap();

    let accounts = app
        .store
        .accounts_of_user(user_id(&app).await)
        .await
        .unwrap();
    let number = |id| {
        accounts
            .iter()
            .find(|a| a.id == id)
            .map(|a| a.account_number.clone())
            .unwrap()
    };
    let titles: Vec<&str> = html
        .split("<p class=\"grant-name\">")
        .skip(1)
        .map(|rest| &rest[..rest.find("</p>").unwrap()])
        .collect();
    assert_eq!(titles.len(), 2, "{html}");
    assert_ne!(titles[0], titles[1]);
    for account in [app.fx.paper, app.fx.paper2] {
        let named = titles
            .iter()
            .filter(|t| t.contains(&number(account)))
            .count();
        assert_eq!(named, 1, "each grant names its own account: {titles:?}");
    }
    assert!(
        titles.iter().all(|t| t.contains("authorized")),
        "{titles:?}"
    );
    let links: Vec<&str> = html.matches("Revoke access").collect();
    assert_eq!(links.len(), 2, "one revoke link each");
}

async fn user_id(app: &crate::helpers::TestApp) -> paddock_core::ids::UserId {
    let email = paddock_core::password::Email::parse(USER_EMAIL).unwrap();
    app.store.user_by_email(&email).await.unwrap().unwrap().id
}

#[tokio::test]
async fn signing_out_leaves_a_notice() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    browser
        .sign_in_at("/login", USER_EMAIL, USER_PASSWORD)
        .await;
    let html = browser.get("/account/apps").await.text().await.unwrap();
    let out = browser
        .post("/logout", &[("csrf", &hidden(&html, "csrf"))])
        .await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let location = header(&out, "location");
    let page = browser.get(&location).await.text().await.unwrap();
    assert!(page.contains("You have signed out."), "{page}");
    // The notice is ours: a crafted query shows none.
    let crafted = browser
        .get("/login?notice=you-won")
        .await
        .text()
        .await
        .unwrap();
    assert!(!crafted.contains("class=\"notice\""), "{crafted}");
}

#[tokio::test]
async fn a_crafted_notice_shows_nothing_on_the_apps_page() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    browser
        .sign_in_at("/login", USER_EMAIL, USER_PASSWORD)
        .await;
    let html = browser
        .get("/account/apps?notice=%3Cb%3Eyou+won%3C%2Fb%3E")
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("class=\"notice\""), "{html}");
}

#[tokio::test]
async fn confirming_an_unknown_grant_is_a_page_with_a_way_on() {
    let app = spawn_app().await;
    let token = app.token_for(&app.fx.client, app.fx.paper, "").await;
    let browser = Browser::new(&app);
    browser
        .sign_in_at("/login", USER_EMAIL, USER_PASSWORD)
        .await;
    let html = browser.get("/account/apps").await.text().await.unwrap();
    let path = revoke_link(&html);
    for unknown in [
        "/account/apps/not-a-grant/revoke",
        "/account/apps/0d18ae51-3c94-4511-b209-101e1666416b/revoke",
    ] {
        let page = browser.get(unknown).await;
        assert_eq!(page.status(), StatusCode::NOT_FOUND, "{unknown}");
        let text = page.text().await.unwrap();
        assert!(text.contains("connected apps page"), "{text}");
    }
    // The real one asks, and asking revokes nothing.
    assert_eq!(browser.get(&path).await.status(), StatusCode::OK);
    let account = app.get_account(paddock_core::env::Env::Paper, &token).await;
    assert_eq!(account.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_unknown_client_page_is_a_sentence_with_a_next_step() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    let page = browser
        .get(
            "/oauth/authorize?response_type=code&client_id=00000000000000000000000000000000\
             &redirect_uri=https%3A%2F%2Fapp.example.com%2Foauth%2Fcallback",
        )
        .await;
    assert_eq!(page.status(), StatusCode::BAD_REQUEST);
    let html = page.text().await.unwrap();
    let message = html
        .split("<p>")
        .nth(1)
        .map(|rest| &rest[..rest.find("</p>").unwrap()])
        .unwrap();
    assert!(
        message.starts_with(|c: char| c.is_uppercase()),
        "a sentence: {message}"
    );
    assert!(html.contains("Go back to the app"), "a next step: {html}");
    assert!(html.contains("href=\"/\""), "a way home: {html}");
}
