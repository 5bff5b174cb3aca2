//! A browser as the page tests need one: its own cookie jar, no redirects followed, and
//! the few bits of HTML reading that walking the forms takes.

use paddock::admin::CreatedClient;
use reqwest::{Response, StatusCode};
use url::Url;

use crate::helpers::{REDIRECT_URI, TestApp, USER_PASSWORD, header};

pub struct Browser<'a> {
    pub app: &'a TestApp,
    pub http: reqwest::Client,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .build()
            .unwrap();
        Self { app, http }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.http.get(self.app.url(path)).send().await.unwrap()
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.http
            .post(self.app.url(path))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Signs in through the login page that `GET path` shows; returns the response to
    /// the login form (a 303 on success).
    pub async fn sign_in_at(&self, path: &str, email: &str, password: &str) -> Response {
        let page = self.get(path).await;
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(
            html.contains("action=\"/login\""),
            "not a login page: {html}"
        );
        self.post(
            "/login",
            &[
                ("csrf", &hidden(&html, "csrf")),
                ("return_to", &hidden(&html, "return_to")),
                ("email", email),
                ("password", password),
            ],
        )
        .await
    }

    /// Signs in as the fixture's user on the way to `authorize_path`, follows the login's
    /// redirect back, and returns the consent page's HTML.
    pub async fn consent_page(&self, authorize_path: &str) -> String {
        self.consent_page_as(authorize_path, crate::helpers::USER_EMAIL)
            .await
    }

    /// The consent page of `authorize_path`, signing in as `email` first when the
    /// browser is not signed in yet.
    pub async fn consent_page_as(&self, authorize_path: &str, email: &str) -> String {
        let page = self.get(authorize_path).await;
        assert_eq!(page.status(), StatusCode::OK);
        let mut html = page.text().await.unwrap();
        if html.contains("action=\"/login\"") {
            let login = self
                .post(
                    "/login",
                    &[
                        ("csrf", &hidden(&html, "csrf")),
                        ("return_to", &hidden(&html, "return_to")),
                        ("email", email),
                        ("password", USER_PASSWORD),
                    ],
                )
                .await;
            assert_eq!(login.status(), StatusCode::SEE_OTHER);
            let back = header(&login, "location");
            assert_eq!(
                back, authorize_path,
                "the login returns to the same request"
            );
            let consent = self.get(&back).await;
            assert_eq!(consent.status(), StatusCode::OK);
            html = consent.text().await.unwrap();
        }
        assert!(
            html.contains("value=\"allow\""),
            "not a consent page: {html}"
        );
        html
    }

    /// Submits the consent form of `html` with `decision` and, if given, a paper account.
    pub async fn decide(&self, html: &str, decision: &str, paper: Option<&str>) -> Response {
        let mut form = vec![
            ("csrf", hidden(html, "csrf")),
            ("request", hidden(html, "request")),
            ("decision", decision.to_owned()),
        ];
        if let Some(paper) = paper {
            form.push(("paper_account", paper.to_owned()));
        }
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.post("/oauth/authorize", &form).await
    }

    /// Walks the flow for `path` and returns the code the redirect carries.
    pub async fn authorize(&self, path: &str, paper: Option<&str>) -> String {
        let html = self.consent_page(path).await;
        let allowed = self.decide(&html, "allow", paper).await;
        assert_eq!(allowed.status(), StatusCode::SEE_OTHER);
        redirect_param(&header(&allowed, "location"), "code").expect("a code")
    }
}

/// The first "Revoke access…" link of a connected-apps page: the path of the
/// confirmation page, to whose form the revocation is posted.
pub fn revoke_link(html: &str) -> String {
    let start = html.find("href=\"/account/apps/").expect("a revoke link") + "href=\"".len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

/// `/oauth/authorize?…` for `client` with the fixture's redirect URI and `extra`
/// parameters (already encoded).
pub fn authorize_path(client: &CreatedClient, extra: &str) -> String {
    let redirect =
        url::form_urlencoded::byte_serialize(REDIRECT_URI.as_bytes()).collect::<String>();
    format!(
        "/oauth/authorize?response_type=code&client_id={}&redirect_uri={redirect}&state=st4te{extra}",
        client.id()
    )
}

/// The value of the hidden field `name` in `html`, unescaped.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no field {name} in {html}"))
        + marker.len();
    let end = start + html[start..].find('"').unwrap();
    unescape(&html[start..end])
}

/// Undoes HTML escaping: `&#NN;` and the named entities askama writes.
pub fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest.find(';').unwrap();
        let entity = &rest[1..end];
        let c = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            _ => {
                let n: u32 = entity.trim_start_matches('#').parse().unwrap();
                char::from_u32(n).unwrap()
            }
        };
        out.push(c);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// A query parameter of a redirect's target.
pub fn redirect_param(location: &str, name: &str) -> Option<String> {
    Url::parse(location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The security headers every HTML response carries.
pub fn assert_page_headers(response: &Response) {
    assert_eq!(header(response, "x-frame-options"), "DENY");
    let csp = header(response, "content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("script-src"),
        "{csp}"
    );
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert_eq!(header(response, "referrer-policy"), "no-referrer");
    assert_eq!(header(response, "cache-control"), "no-store");
}
