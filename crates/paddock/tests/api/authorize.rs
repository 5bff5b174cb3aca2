//! The browser authorization flow (SPEC §3.2; issue #3), walked with a cookie-keeping
//! HTTP client: login, consent, redirect, redemption, connected apps.

use paddock::admin::{self, ClientRegistration};
use paddock_core::env::Env;
use reqwest::StatusCode;
use serde_json::Value;

use crate::browser::{
    Browser, assert_page_headers, authorize_path, hidden, redirect_param, revoke_link, unescape,
};
use crate::helpers::{
    Creds, LOOPBACK_REDIRECT_URI, OTHER_EMAIL, REDIRECT_URI, TestApp, USER_EMAIL, USER_PASSWORD,
    assert_alpaca_error, assert_token_error, header, spawn_app,
};

async fn redeem(app: &TestApp, code: &str) -> String {
    let response = app
        .redeem(code, (&app.fx.client).into(), REDIRECT_URI)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

async fn account_id(app: &TestApp, env: Env, token: &str) -> Option<String> {
    let response = app.get_account(env, token).await;
    if response.status() != StatusCode::OK {
        assert_alpaca_error(response, StatusCode::UNAUTHORIZED).await;
        return None;
    }
    let body: Value = response.json().await.unwrap();
    Some(body["id"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn the_whole_flow_from_login_to_revoke() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    let path = authorize_path(&app.fx.client, "&scope=trading+account%3Awrite");

    // Not signed in: the login page, at the authorization URL itself.
    let first = browser.get(&path).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_page_headers(&first);
    let html = browser.consent_page(&path).await;
    assert!(html.contains("Charting App"));
    assert!(html.contains("Place, change and cancel orders"));
    assert!(html.contains("Change your account configuration and watchlists"));

    let paper2 = app.fx.paper2.to_string();
    let allowed = browser.decide(&html, "allow", Some(&paper2)).await;
    assert_eq!(allowed.status(), StatusCode::SEE_OTHER);
    let location = header(&allowed, "location");
    assert!(
        location.starts_with(&format!("{REDIRECT_URI}?code=")),
        "{location}"
    );
    assert_eq!(redirect_param(&location, "state").as_deref(), Some("st4te"));
    assert_eq!(
        redirect_param(&location, "iss").as_deref(),
        Some(app.base.as_str())
    );
    let code = redirect_param(&location, "code").unwrap();

    let response = app
        .redeem(&code, (&app.fx.client).into(), REDIRECT_URI)
        .await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["scope"], "account:write trading");
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(
        account_id(&app, Env::Live, token).await,
        Some(app.fx.live.to_string())
    );
    assert_eq!(
        account_id(&app, Env::Paper, token).await,
        Some(paper2.clone())
    );

    // Use is written in batches; once it is, the page shows when.
    paddock::server::flush_last_used(&app.state).await;
    let apps = browser.get("/account/apps").await;
    assert_eq!(apps.status(), StatusCode::OK);
    assert_page_headers(&apps);
    let html = apps.text().await.unwrap();
    assert!(html.contains("Charting App"), "{html}");
    assert!(html.contains("Live account") && html.contains("Paper account"));
    assert!(html.contains("Authorized"));
    assert!(
        html.contains("Last used") && !html.contains("<dd>never</dd>"),
        "{html}"
    );
    // Revoke asks first, on a page of its own.
    let revoke_path = revoke_link(&html);
    let confirm = browser.get(&revoke_path).await;
    assert_eq!(confirm.status(), StatusCode::OK);
    let confirm = confirm.text().await.unwrap();
    assert!(confirm.contains("Revoke Charting App?"), "{confirm}");
    assert_eq!(
        account_id(&app, Env::Paper, token).await,
        Some(paper2.clone()),
        "asking changes nothing"
    );
    let revoked = browser
        .post(&revoke_path, &[("csrf", &hidden(&confirm, "csrf"))])
        .await;
    assert_eq!(revoked.status(), StatusCode::SEE_OTHER);
    assert_eq!(header(&revoked, "location"), "/account/apps?notice=revoked");

    assert_eq!(account_id(&app, Env::Paper, token).await, None);
    assert_eq!(account_id(&app, Env::Live, token).await, None);
    let html = browser
        .get("/account/apps?notice=revoked")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("No app has access"), "{html}");
    assert!(html.contains("Access revoked"), "a notice: {html}");
}

#[tokio::test]
async fn untrusted_clients_and_redirects_get_an_error_page_never_a_redirect() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    let c = app.fx.client.id();
    let redirect = "redirect_uri=https%3A%2F%2Fapp.example.com%2Foauth%2Fcallback";
    let disabled = admin::create_client(
        app.store.as_ref(),
        ClientRegistration {
            broker: app.fx.broker.id,
            name: "Switched Off".into(),
            redirect_uris: vec![REDIRECT_URI.into()],
            description: String::new(),
            url: String::new(),
            terms_of_use: String::new(),
            privacy_policy: String::new(),
            live_trading_approved: false,
        },
        app.clock.now(),
    )
    .await
    .unwrap();
    let disabled_id = disabled.id().to_owned();
    admin::set_client_status(
        app.store.as_ref(),
        &disabled_id,
        paddock_core::model::ClientStatus::Disabled,
        app.clock.now(),
    )
    .await
    .unwrap();
    let cases = [
        format!("response_type=code&{redirect}"),
        format!("response_type=code&client_id=7a3c52a910e1dc2abbb14da2b6b8e711&{redirect}"),
        format!("response_type=code&client_id=not-an-id&{redirect}"),
        format!("response_type=code&client_id={disabled_id}&{redirect}"),
        format!("response_type=code&client_id={c}"),
        format!("response_type=code&client_id={c}&redirect_uri=https%3A%2F%2Fevil.example%2Fcb"),
        format!(
            "response_type=code&client_id={c}&redirect_uri=https%3A%2F%2Fapp.example.com%2Foauth%2Fcallback%2F"
        ),
        format!(
            "response_type=code&client_id={c}&redirect_uri=https%3A%2F%2Fapp.example.com%2Foauth%2Fcallback%3Fx%3D1"
        ),
        format!(
            "response_type=code&client_id={c}&redirect_uri=http%3A%2F%2F127.0.0.1%3A5000%2Fother"
        ),
        format!("response_type=code&client_id={c}&client_id={c}&{redirect}"),
        format!("response_type=code&client_id={c}&{redirect}&{redirect}"),
        format!("response_type=code&client_id={c}&{redirect}&state=%ff"),
    ];
    for query in cases {
        let response = browser.get(&format!("/oauth/authorize?{query}")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        assert!(response.headers().get("location").is_none(), "{query}");
        assert_page_headers(&response);
        let html = response.text().await.unwrap();
        assert!(html.contains("<h1>"), "an error page: {html}");
    }
}

#[tokio::test]
async fn a_loopback_redirect_may_vary_its_port_only() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    let c = &app.fx.client;
    let path = |redirect: &str| {
        let encoded: String = url::form_urlencoded::byte_serialize(redirect.as_bytes()).collect();
        format!(
            "/oauth/authorize?response_type=code&client_id={}&redirect_uri={encoded}&env=paper",
            c.id()
        )
    };
    let ok = browser.get(&path("http://127.0.0.1:54321/callback")).await;
    assert_eq!(ok.status(), StatusCode::OK, "the login page");
    let code = browser
        .authorize(
            &path("http://127.0.0.1:54321/callback"),
            Some(&app.fx.paper.to_string()),
        )
        .await;
    // The code is bound to the redirect URI as sent, port included.
    let wrong = app.redeem(&code, c.into(), LOOPBACK_REDIRECT_URI).await;
    assert_token_error(wrong, StatusCode::BAD_REQUEST, "invalid_grant").await;

    let code = browser
        .authorize(
            &path("http://127.0.0.1:54321/callback"),
            Some(&app.fx.paper.to_string()),
        )
        .await;
    let right = app
        .redeem(&code, c.into(), "http://127.0.0.1:54321/callback")
        .await;
    assert_eq!(right.status(), StatusCode::OK);

    for bad in [
        "https://127.0.0.1:54321/callback",
        "http://127.0.0.2:54321/callback",
    ] {
        let response = browser.get(&path(bad)).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test]
async fn other_errors_redirect_with_error_state_and_iss() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    let c = app.fx.client.id();
    let p = app.fx.paper_client.id();
    let redirect = "redirect_uri=https%3A%2F%2Fapp.example.com%2Foauth%2Fcallback";
    // A state with characters that need encoding comes back unchanged.
    let state = "a b/c?d&e=f%ü";
    let state_q: String = url::form_urlencoded::byte_serialize(state.as_bytes()).collect();
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let base = format!("client_id={c}&{redirect}&state={state_q}");
    let cases = [
        (base.clone(), "invalid_request"),
        (
            format!("response_type=token&{base}"),
            "unsupported_response_type",
        ),
        (
            format!("response_type=code+token&{base}"),
            "unsupported_response_type",
        ),
        (
            format!("response_type=code&{base}&scope=trading+admin"),
            "invalid_scope",
        ),
        (
            format!("response_type=code&{base}&env=sandbox"),
            "invalid_request",
        ),
        (
            format!("response_type=code&{base}&code_challenge={challenge}"),
            "invalid_request",
        ),
        (
            format!(
                "response_type=code&{base}&code_challenge={challenge}&code_challenge_method=plain"
            ),
            "invalid_request",
        ),
        (
            format!("response_type=code&{base}&code_challenge=short&code_challenge_method=S256"),
            "invalid_request",
        ),
        (
            format!("response_type=code&{base}&code_challenge_method=S256"),
            "invalid_request",
        ),
        (
            format!("response_type=code&{base}&scope=trading&scope=data"),
            "invalid_request",
        ),
        (
            format!("response_type=code&{base}&env=paper&env=live"),
            "invalid_request",
        ),
        (
            format!("response_type=code&client_id={p}&{redirect}&state={state_q}&env=live"),
            "access_denied",
        ),
    ];
    for (query, error) in cases {
        let response = browser.get(&format!("/oauth/authorize?{query}")).await;
        assert_eq!(response.status(), StatusCode::FOUND, "{query}");
        let location = header(&response, "location");
        assert!(
            location.starts_with(&format!("{REDIRECT_URI}?")),
            "{location}"
        );
        assert_eq!(
            redirect_param(&location, "error").as_deref(),
            Some(error),
            "{query}"
        );
        assert!(redirect_param(&location, "error_description").is_some_and(|d| !d.is_empty()));
        assert_eq!(
            redirect_param(&location, "state").as_deref(),
            Some(state),
            "{query}"
        );
        assert_eq!(
            redirect_param(&location, "iss").as_deref(),
            Some(app.base.as_str())
        );
        assert!(redirect_param(&location, "code").is_none());
    }
}

#[tokio::test]
async fn the_user_who_denies_is_sent_back_with_access_denied() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    let html = browser
        .consent_page(&authorize_path(&app.fx.client, "&env=live"))
        .await;
    let denied = browser.decide(&html, "deny", None).await;
    assert_eq!(denied.status(), StatusCode::SEE_OTHER);
    let location = header(&denied, "location");
    assert_eq!(
        redirect_param(&location, "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(redirect_param(&location, "state").as_deref(), Some("st4te"));
    assert_eq!(
        redirect_param(&location, "iss").as_deref(),
        Some(app.base.as_str())
    );
    assert!(redirect_param(&location, "code").is_none());
    let html = browser.get("/account/apps").await.text().await.unwrap();
    assert!(html.contains("No app has access"));
}

#[tokio::test]
async fn env_live_offers_the_live_account_only() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    let path = authorize_path(&app.fx.client, "&env=live");
    let html = browser.consent_page(&path).await;
    assert!(html.contains("Live account"));
    assert!(!html.contains("Paper account"), "{html}");
    let code = browser.authorize(&path, None).await;
    let token = redeem(&app, &code).await;
    assert_eq!(
        account_id(&app, Env::Live, &token).await,
        Some(app.fx.live.to_string())
    );
    assert_eq!(account_id(&app, Env::Paper, &token).await, None);
}

#[tokio::test]
async fn env_paper_offers_a_choice_among_the_paper_accounts() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    let path = authorize_path(&app.fx.client, "&env=paper");
    let html = browser.consent_page(&path).await;
    assert!(!html.contains("Live account"), "{html}");
    assert!(html.contains(&app.fx.paper.to_string()) && html.contains(&app.fx.paper2.to_string()));
    assert!(html.contains("type=\"radio\""));
    let code = browser
        .authorize(&path, Some(&app.fx.paper2.to_string()))
        .await;
    let token = redeem(&app, &code).await;
    assert_eq!(
        account_id(&app, Env::Paper, &token).await,
        Some(app.fx.paper2.to_string())
    );
    assert_eq!(account_id(&app, Env::Live, &token).await, None);
}

#[tokio::test]
async fn without_env_a_client_not_approved_for_live_gets_paper_only() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    let path = authorize_path(&app.fx.paper_client, "");
    let html = browser.consent_page(&path).await;
    assert!(!html.contains("Live account"), "{html}");
    assert!(html.contains("Paper account"));
    let code = browser
        .authorize(&path, Some(&app.fx.paper.to_string()))
        .await;
    let response = app
        .redeem(&code, (&app.fx.paper_client).into(), REDIRECT_URI)
        .await;
    let body: Value = response.json().await.unwrap();
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(account_id(&app, Env::Live, token).await, None);
    assert_eq!(
        account_id(&app, Env::Paper, token).await,
        Some(app.fx.paper.to_string())
    );
}

#[tokio::test]
async fn without_env_an_approved_client_gets_live_and_one_paper_account() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    let html = browser
        .consent_page(&authorize_path(&app.fx.client, ""))
        .await;
    assert!(html.contains("Live account") && html.contains("type=\"radio\""));
    // A paper account must be picked among those offered: nothing else is accepted.
    for pick in [
        None,
        Some(app.fx.foreign_account.to_string()),
        Some("nope".into()),
    ] {
        let response = browser.decide(&html, "allow", pick.as_deref()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{pick:?}");
        assert!(response.headers().get("location").is_none());
    }
}

#[tokio::test]
async fn a_user_without_an_account_to_offer_sees_why_and_goes_back_denied() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    let path = authorize_path(&app.fx.client, "&env=paper");
    let login = browser.sign_in_at(&path, OTHER_EMAIL, USER_PASSWORD).await;
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    let page = browser.get(&path).await;
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    assert_page_headers(&page);
    let html = page.text().await.unwrap();
    assert!(html.contains("no paper account"), "{html}");
    let start = html.find("class=\"button\" href=\"").unwrap() + "class=\"button\" href=\"".len();
    let back = unescape(&html[start..start + html[start..].find('"').unwrap()]);
    assert!(back.starts_with(REDIRECT_URI));
    assert_eq!(
        redirect_param(&back, "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(redirect_param(&back, "state").as_deref(), Some("st4te"));
}

#[tokio::test]
async fn pkce_is_enforced_whenever_a_challenge_was_sent() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    let verifier = "dBjftJeZ4CVP-mB92K9uhvFKm4lkQ43NwJUhAaMrjbHj0";
    let challenge = "_sc8dag_km-0C56-Y9DPn7LEz3xUk7as86GZQPpbCV4";
    let with_pkce = authorize_path(
        &app.fx.client,
        &format!("&env=live&code_challenge={challenge}&code_challenge_method=S256"),
    );
    let c = &app.fx.client;
    let redeem_with = |code: String, verifier: Option<&'static str>| {
        let mut form = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code),
            ("redirect_uri", REDIRECT_URI.to_owned()),
        ];
        if let Some(v) = verifier {
            form.push(("code_verifier", v.to_owned()));
        }
        app.token_request_basic(c.id(), &c.client_secret)
            .form(&form)
            .send()
    };

    let code = browser.authorize(&with_pkce, None).await;
    assert_eq!(
        redeem_with(code, Some(verifier)).await.unwrap().status(),
        StatusCode::OK
    );

    let code = browser.authorize(&with_pkce, None).await;
    let wrong = redeem_with(code, Some("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
    assert_token_error(
        wrong.await.unwrap(),
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;

    let code = browser.authorize(&with_pkce, None).await;
    let missing = redeem_with(code, None).await.unwrap();
    assert_token_error(missing, StatusCode::BAD_REQUEST, "invalid_grant").await;

    // Downgrade: a verifier for a code that was issued without a challenge.
    let code = browser
        .authorize(&authorize_path(&app.fx.client, "&env=live"), None)
        .await;
    let downgraded = redeem_with(code, Some(verifier)).await.unwrap();
    assert_token_error(downgraded, StatusCode::BAD_REQUEST, "invalid_grant").await;
}

#[tokio::test]
async fn a_post_without_a_valid_csrf_token_changes_nothing() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    let html = browser
        .consent_page(&authorize_path(&app.fx.client, "&env=live"))
        .await;
    let request = hidden(&html, "request");
    let other = Browser::new(&app);
    let other_token = hidden(&other.get("/login").await.text().await.unwrap(), "csrf");
    for csrf in [None, Some("wrong"), Some(other_token.as_str()), Some("")] {
        let mut form = vec![("request", request.as_str()), ("decision", "allow")];
        if let Some(csrf) = csrf {
            form.push(("csrf", csrf));
        }
        let response = browser.post("/oauth/authorize", &form).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{csrf:?}");
        assert!(response.headers().get("location").is_none());
        assert_page_headers(&response);
    }
    // A forged login and a forged logout fail the same way.
    let login = other
        .post(
            "/login",
            &[
                ("email", USER_EMAIL),
                ("password", USER_PASSWORD),
                ("csrf", "x"),
            ],
        )
        .await;
    assert_eq!(login.status(), StatusCode::FORBIDDEN);
    assert!(login.headers().get("set-cookie").is_none());
    let logout = browser.post("/logout", &[]).await;
    assert_eq!(logout.status(), StatusCode::FORBIDDEN);

    // Still signed in, still nothing granted; the genuine form works.
    let apps = browser.get("/account/apps").await.text().await.unwrap();
    assert!(apps.contains("No app has access"));
    let allowed = browser.decide(&html, "allow", None).await;
    assert_eq!(allowed.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn revoking_from_the_apps_page_needs_the_csrf_token_and_the_owner() {
    let app = spawn_app().await;
    let token = app.token_for(&app.fx.client, app.fx.paper, "").await;
    let owner = Browser::new(&app);
    assert_eq!(
        owner
            .sign_in_at("/login", USER_EMAIL, USER_PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let html = owner.get("/account/apps").await.text().await.unwrap();
    let revoke_path = revoke_link(&html);

    let forged = owner.post(&revoke_path, &[]).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let stranger = Browser::new(&app);
    assert_eq!(
        stranger
            .sign_in_at("/login", OTHER_EMAIL, USER_PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let stranger_csrf = hidden(
        &stranger.get("/account/apps").await.text().await.unwrap(),
        "csrf",
    );
    let not_theirs = stranger
        .post(&revoke_path, &[("csrf", &stranger_csrf)])
        .await;
    assert_eq!(not_theirs.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        account_id(&app, Env::Paper, &token).await,
        Some(app.fx.paper.to_string())
    );
}

#[tokio::test]
async fn login_failures_are_generic_and_throttled() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    let wrong_password = browser
        .sign_in_at("/login", USER_EMAIL, "not the password")
        .await;
    assert_eq!(wrong_password.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong_password
            .headers()
            .get("set-cookie")
            .is_none_or(|c| { !c.to_str().unwrap().starts_with("paddock_session") })
    );
    let wrong_text = wrong_password.text().await.unwrap();
    let unknown = browser
        .sign_in_at("/login", "nobody@example.com", USER_PASSWORD)
        .await;
    let unknown_text = unknown.text().await.unwrap();
    let message = |html: &str| {
        let start = html.find("role=\"alert\">").unwrap() + "role=\"alert\">".len();
        html[start..start + html[start..].find('<').unwrap()].to_owned()
    };
    assert_eq!(
        message(&wrong_text),
        message(&unknown_text),
        "the same words either way"
    );
    assert!(!message(&wrong_text).contains("unknown"));

    // Five failures for one address: then even the right password waits.
    for _ in 0..4 {
        let r = browser
            .sign_in_at("/login", USER_EMAIL, "still wrong")
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let locked = browser
        .sign_in_at("/login", USER_EMAIL, USER_PASSWORD)
        .await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(header(&locked, "retry-after").parse::<u64>().unwrap() > 0);
    assert_page_headers(&locked);
    let html = locked.text().await.unwrap();
    assert!(html.contains("Too many failed sign-in attempts"), "{html}");
    // Another address from the same machine is not locked yet…
    let other = browser
        .sign_in_at("/login", OTHER_EMAIL, USER_PASSWORD)
        .await;
    assert_eq!(other.status(), StatusCode::SEE_OTHER);
    // …and the lock ends with its window.
    app.clock.advance(chrono::Duration::minutes(15));
    let again = Browser::new(&app)
        .sign_in_at("/login", USER_EMAIL, USER_PASSWORD)
        .await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn one_address_guessing_many_accounts_is_throttled() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    let mut last = StatusCode::OK;
    for i in 0..25 {
        last = browser
            .sign_in_at("/login", &format!("guess{i}@example.com"), "password1")
            .await
            .status();
        if last == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    let real = browser
        .sign_in_at("/login", USER_EMAIL, USER_PASSWORD)
        .await;
    assert_eq!(real.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site_lax() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    let login = browser
        .sign_in_at("/login", USER_EMAIL, USER_PASSWORD)
        .await;
    let cookies: Vec<String> = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().to_owned())
        .collect();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("paddock_session="))
        .unwrap();
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax"),
        "{session}"
    );
    assert!(!session.contains("Secure"), "plain http here: {session}");
    assert_eq!(header(&login, "location"), "/account/apps");

    // Signing out ends the session on the server, not just in this browser.
    let html = browser.get("/account/apps").await.text().await.unwrap();
    let out = browser
        .post("/logout", &[("csrf", &hidden(&html, "csrf"))])
        .await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let apps = browser.get("/account/apps").await;
    assert_eq!(apps.status(), StatusCode::FOUND);
    assert_eq!(header(&apps, "location"), "/login?return_to=/account/apps");
    let value = session.split(';').next().unwrap();
    let replayed = app
        .http
        .get(app.url("/account/apps"))
        .header("Cookie", value)
        .send()
        .await
        .unwrap();
    assert_eq!(
        replayed.status(),
        StatusCode::FOUND,
        "the old cookie is dead"
    );
}

#[tokio::test]
async fn a_login_never_redirects_off_site() {
    let app = spawn_app().await;
    for target in [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
    ] {
        let browser = Browser::new(&app);
        let html = browser.get("/login").await.text().await.unwrap();
        let response = browser
            .post(
                "/login",
                &[
                    ("csrf", &hidden(&html, "csrf")),
                    ("return_to", target),
                    ("email", USER_EMAIL),
                    ("password", USER_PASSWORD),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(header(&response, "location"), "/account/apps", "{target}");
    }
}

#[tokio::test]
async fn script_in_a_client_name_and_description_is_rendered_inert() {
    let app = spawn_app().await;
    let evil = admin::create_client(
        app.store.as_ref(),
        ClientRegistration {
            broker: app.fx.broker.id,
            name: "<script>alert('name')</script>".into(),
            redirect_uris: vec![REDIRECT_URI.into()],
            description: "<img src=x onerror=alert(1)>\"><b>bold</b>".into(),
            url: "javascript:alert(document.cookie)".into(),
            terms_of_use: "https://ok.example/terms\" onmouseover=\"alert(1)".into(),
            privacy_policy: "data:text/html,<script>alert(1)</script>".into(),
            live_trading_approved: true,
        },
        app.clock.now(),
    )
    .await
    .unwrap();
    let browser = Browser::new(&app);
    let login = browser
        .get(&authorize_path(&evil, "&env=live"))
        .await
        .text()
        .await
        .unwrap();
    let html = browser
        .consent_page(&authorize_path(&evil, "&env=live"))
        .await;
    for page in [&login, &html] {
        assert!(!page.contains("<script"), "{page}");
        assert!(!page.contains("<img"), "{page}");
        assert!(!page.contains("<b>"), "{page}");
        assert!(!page.contains("href=\"javascript:"), "{page}");
        assert!(!page.contains("href=\"data:"), "{page}");
        assert!(!page.contains("\" onmouseover=\""), "{page}");
    }
    assert!(
        html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"),
        "{html}"
    );
    // The app's name is there, as text.
    assert!(unescape(&html).contains("<script>alert('name')</script>"));

    let code = browser
        .authorize(&authorize_path(&evil, "&env=live"), None)
        .await;
    let response = app.redeem(&code, Creds::from(&evil), REDIRECT_URI).await;
    assert_eq!(response.status(), StatusCode::OK);
    let apps = browser.get("/account/apps").await.text().await.unwrap();
    assert!(!apps.contains("<script"), "{apps}");
}

#[tokio::test]
async fn a_consent_after_the_session_ended_asks_to_sign_in_again() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    let path = authorize_path(&app.fx.client, "&env=live");
    let html = browser.consent_page(&path).await;
    app.clock.advance(chrono::Duration::hours(13));
    let response = browser.decide(&html, "allow", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = response.text().await.unwrap();
    assert!(page.contains("action=\"/login\""), "{page}");
    assert_eq!(hidden(&page, "return_to"), path);
}

/// Every visible form field has a label; every page has a viewport for phones.
#[tokio::test]
async fn every_form_field_is_labelled_and_every_page_fits_a_phone() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    let login = browser.get("/login").await.text().await.unwrap();
    let consent = browser
        .consent_page(&authorize_path(&app.fx.client, "&env=paper"))
        .await;
    let code = browser
        .authorize(&authorize_path(&app.fx.client, "&env=live"), None)
        .await;
    redeem(&app, &code).await;
    let apps = browser.get("/account/apps").await.text().await.unwrap();
    let error = browser
        .get("/oauth/authorize?client_id=x")
        .await
        .text()
        .await
        .unwrap();
    for (name, html) in [
        ("login", &login),
        ("consent", &consent),
        ("apps", &apps),
        ("error", &error),
    ] {
        assert!(
            html.contains(
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            ),
            "{name}"
        );
        for input in html.split("<input").skip(1) {
            let tag = &input[..input.find('>').unwrap()];
            if tag.contains("type=\"hidden\"") {
                continue;
            }
            let id_start = tag
                .find("id=\"")
                .unwrap_or_else(|| panic!("{name}: no id in {tag}"))
                + 4;
            let id = &tag[id_start..id_start + tag[id_start..].find('"').unwrap()];
            assert!(
                html.contains(&format!("<label for=\"{id}\"")),
                "{name}: no label for {id}"
            );
        }
    }
    // The consent page with several paper accounts has labelled radio buttons.
    assert!(consent.matches("type=\"radio\"").count() >= 2);
}
