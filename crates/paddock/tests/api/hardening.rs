//! The browser flow against the attacks a security review tried on paper: forms sent
//! from another origin, a planted CSRF cookie, bursts of concurrent login guesses,
//! throttling behind a proxy, cookies behind TLS, and what error descriptions echo.

use paddock_core::secret::CsrfSeed;
use reqwest::StatusCode;

use crate::browser::{Browser, assert_page_headers, authorize_path, hidden, redirect_param};
use crate::helpers::{REDIRECT_URI, USER_EMAIL, USER_PASSWORD, header, spawn_app, spawn_app_with};

/// The value of `name` in the response's `Set-Cookie` headers, and the whole header.
fn set_cookie(response: &reqwest::Response, name: &str) -> Option<(String, String)> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(|c| {
            let value = c[name.len() + 1..].split(';').next().unwrap_or_default();
            (value.to_owned(), c.to_owned())
        })
}

#[tokio::test]
async fn a_form_sent_from_another_origin_is_refused() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    let html = browser
        .consent_page(&authorize_path(&app.fx.client, "&env=live"))
        .await;
    let form = [
        ("csrf", hidden(&html, "csrf")),
        ("request", hidden(&html, "request")),
        ("decision", "allow".to_owned()),
    ];
    let host = app.base.trim_start_matches("http://").to_owned();
    let cases = [
        ("sec-fetch-site", "cross-site".to_owned()),
        // Another port of the same host is the same site, but not the same origin.
        ("sec-fetch-site", "same-site".to_owned()),
        ("origin", "http://127.0.0.1:1".to_owned()),
        ("origin", "https://evil.example".to_owned()),
        ("origin", "null".to_owned()),
    ];
    for (name, value) in cases {
        let response = browser
            .http
            .post(app.url("/oauth/authorize"))
            .header(name, &value)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{name}: {value}");
        assert!(response.headers().get("location").is_none());
        assert_page_headers(&response);
    }
    // The same form from our own page goes through.
    let response = browser
        .http
        .post(app.url("/oauth/authorize"))
        .header("sec-fetch-site", "same-origin")
        .header("origin", format!("http://{host}"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(redirect_param(&header(&response, "location"), "code").is_some());
}

/// A page on another port of the same host (or a sibling subdomain) can plant a CSRF
/// cookie of its own; it still cannot make a token for the victim's session.
#[tokio::test]
async fn a_planted_csrf_cookie_cannot_forge_a_signed_in_form() {
    let app = spawn_app().await;
    let victim = Browser::new(&app);
    let login = victim.sign_in_at("/login", USER_EMAIL, USER_PASSWORD).await;
    let (session, _) = set_cookie(&login, "paddock_session").unwrap();
    let html = victim
        .consent_page(&authorize_path(&app.fx.client, "&env=live"))
        .await;

    let planted = CsrfSeed::generate(&mut rand::rng());
    let response = app
        .http
        .post(app.url("/oauth/authorize"))
        .header(
            "cookie",
            format!(
                "paddock_csrf={}; paddock_session={session}",
                planted.expose()
            ),
        )
        .form(&[
            ("csrf", planted.form_token(None).as_str()),
            ("request", &hidden(&html, "request")),
            ("decision", "allow"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.headers().get("location").is_none());
}

/// A consent page shown to one user cannot be submitted once another signed in.
#[tokio::test]
async fn a_consent_form_is_bound_to_the_session_that_saw_it() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    let html = browser
        .consent_page(&authorize_path(&app.fx.client, "&env=live"))
        .await;
    // Signing out and in again makes a new session; the old page's token is void.
    let page = browser.get("/account/apps").await.text().await.unwrap();
    let out = browser
        .post("/logout", &[("csrf", &hidden(&page, "csrf"))])
        .await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let login = browser
        .sign_in_at("/login", USER_EMAIL, USER_PASSWORD)
        .await;
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    let stale = browser.decide(&html, "allow", None).await;
    assert_eq!(stale.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn concurrent_login_guesses_cannot_outrun_the_throttle() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    let html = browser.get("/login").await.text().await.unwrap();
    let csrf = hidden(&html, "csrf");
    let guesses: Vec<_> = (0..30)
        .map(|i| {
            let request = browser.http.post(app.url("/login")).form(&[
                ("csrf", csrf.clone()),
                ("email", USER_EMAIL.to_owned()),
                ("password", format!("guess number {i}")),
            ]);
            tokio::spawn(request.send())
        })
        .collect();
    let mut checked = 0;
    for guess in guesses {
        match guess.await.unwrap().unwrap().status() {
            StatusCode::UNPROCESSABLE_ENTITY => checked += 1,
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert!(
        checked <= 5,
        "{checked} passwords were checked; the limit is 5"
    );
}

/// One machine guessing at many accounts at once: the per-address limit (20) holds
/// however the guesses race, even though each e-mail address is fresh.
#[tokio::test]
async fn a_burst_of_guesses_at_many_accounts_cannot_outrun_the_address_limit() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    let html = browser.get("/login").await.text().await.unwrap();
    let csrf = hidden(&html, "csrf");
    let guesses: Vec<_> = (0..60)
        .map(|i| {
            let request = browser.http.post(app.url("/login")).form(&[
                ("csrf", csrf.clone()),
                ("email", format!("someone{i}@example.com")),
                ("password", "a wrong password".to_owned()),
            ]);
            tokio::spawn(request.send())
        })
        .collect();
    let mut checked = 0;
    for guess in guesses {
        match guess.await.unwrap().unwrap().status() {
            StatusCode::UNPROCESSABLE_ENTITY => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert!(
        checked <= 20,
        "{checked} passwords were checked; the limit is 20"
    );
}

/// Wrong client secrets in a burst: at most the limit (20) are checked, the rest wait.
#[tokio::test]
async fn a_burst_of_wrong_client_secrets_cannot_outrun_the_throttle() {
    let app = spawn_app().await;
    let wrong = "0".repeat(40);
    let attempts: Vec<_> = (0..60)
        .map(|_| {
            let request = app
                .token_request_basic(app.fx.client.id(), &wrong)
                .form(&[("grant_type", "authorization_code"), ("code", "x")]);
            tokio::spawn(request.send())
        })
        .collect();
    let mut refused = 0;
    for attempt in attempts {
        match attempt.await.unwrap().unwrap().status() {
            StatusCode::UNAUTHORIZED => refused += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert!(
        refused <= 20,
        "{refused} secrets were checked; the limit is 20"
    );
}

/// A wrong password for `email`, through a proxy that says the client is `from`.
async fn guess_from(app: &crate::helpers::TestApp, from: &str, email: &str) -> StatusCode {
    let browser = Browser::new(app);
    let html = browser.get("/login").await.text().await.unwrap();
    browser
        .http
        .post(app.url("/login"))
        .header("x-forwarded-for", format!("203.0.113.7, {from}"))
        .form(&[
            ("csrf", hidden(&html, "csrf").as_str()),
            ("email", email),
            ("password", "wrong password"),
        ])
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_address_is_throttled_apart() {
    let app = spawn_app_with(|s| s.trust_proxy = true).await;
    let mut last = StatusCode::OK;
    for i in 0..25 {
        last = guess_from(&app, "10.0.0.1", &format!("a{i}@example.com")).await;
        if last == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    // Another user behind the same proxy is not locked out with the first.
    let other = guess_from(&app, "10.0.0.2", "b@example.com").await;
    assert_eq!(other, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn without_trust_the_forwarded_header_is_ignored() {
    let app = spawn_app().await;
    let mut last = StatusCode::OK;
    for i in 0..25 {
        let browser = Browser::new(&app);
        let html = browser.get("/login").await.text().await.unwrap();
        last = browser
            .http
            .post(app.url("/login"))
            .header("x-forwarded-for", format!("10.9.{i}.1"))
            .form(&[
                ("csrf", hidden(&html, "csrf")),
                ("email", format!("c{i}@example.com")),
                ("password", "wrong password".to_owned()),
            ])
            .send()
            .await
            .unwrap()
            .status();
        if last == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
    }
    assert_eq!(
        last,
        StatusCode::TOO_MANY_REQUESTS,
        "one peer, however it claims otherwise"
    );
}

#[tokio::test]
async fn behind_tls_cookies_are_secure_and_host_prefixed() {
    let app = spawn_app_with(|s| {
        s.issuer = "https://auth.example.com".into();
    })
    .await;
    // A plain client: cookies marked Secure are not stored over http, so carry them by hand.
    let page = app.http.get(app.url("/login")).send().await.unwrap();
    let (csrf_cookie, header_value) = set_cookie(&page, "__Host-paddock_csrf").unwrap();
    assert!(header_value.contains("; Secure"), "{header_value}");
    assert!(header_value.contains("Path=/") && !header_value.contains("Domain"));
    let html = page.text().await.unwrap();
    let login = app
        .http
        .post(app.url("/login"))
        .header("cookie", format!("__Host-paddock_csrf={csrf_cookie}"))
        .form(&[
            ("csrf", hidden(&html, "csrf").as_str()),
            ("email", USER_EMAIL),
            ("password", USER_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    let (_, session) = set_cookie(&login, "__Host-paddock_session").unwrap();
    for attribute in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
        assert!(session.contains(attribute), "{attribute} in {session}");
    }
    // And the issuer is what the redirects name.
    let denied = app
        .http
        .get(app.url(&authorize_path(&app.fx.client, "&scope=admin")))
        .send()
        .await
        .unwrap();
    let location = header(&denied, "location");
    assert_eq!(
        redirect_param(&location, "iss").as_deref(),
        Some("https://auth.example.com")
    );
}

#[tokio::test]
async fn error_descriptions_keep_to_rfc_6749_characters() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    // A scope and a repeated parameter name full of characters RFC 6749 forbids.
    for extra in [
        "&scope=%22quoted%22%5Cback%0Aline%C3%A9",
        "&x%22%0A%5C=1&x%22%0A%5C=2",
        "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM4&code_challenge_method=S256",
    ] {
        let response = browser.get(&authorize_path(&app.fx.client, extra)).await;
        assert_eq!(response.status(), StatusCode::FOUND, "{extra}");
        let location = header(&response, "location");
        assert!(location.starts_with(REDIRECT_URI));
        let description = redirect_param(&location, "error_description").unwrap();
        assert!(
            description
                .chars()
                .all(|c| matches!(c, ' '..='!' | '#'..='[' | ']'..='~')),
            "{extra}: {description:?}"
        );
        assert_eq!(
            redirect_param(&location, "error").as_deref(),
            Some(if extra.contains("scope") {
                "invalid_scope"
            } else {
                "invalid_request"
            })
        );
    }
}
