//! The browser flow in real headless Chromium, driven through WebDriver (chromedriver):
//! a person types the login, clicks Allow, and the app's callback receives the code.
//!
//! WebDriver is plain HTTP and JSON, spoken here with reqwest. Where Chromium or
//! chromedriver is not installed, the test prints a SKIP line and passes.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use paddock_core::env::Env;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::browser::redirect_param;
use crate::helpers::{USER_EMAIL, USER_PASSWORD, spawn_app};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct WebDriver {
    http: reqwest::Client,
    session: String,
    driver: Child,
    _profile: tempfile::TempDir,
}

fn find(candidates: &[&str]) -> Option<PathBuf> {
    candidates.iter().map(PathBuf::from).find(|p| p.is_file())
}

impl WebDriver {
    /// Starts chromedriver and a headless Chromium session, or says why it cannot.
    async fn start() -> Result<Self, String> {
        let chromium = std::env::var("PADDOCK_CHROMIUM")
            .ok()
            .map(PathBuf::from)
            .or_else(|| {
                find(&[
                    "/usr/bin/chromium",
                    "/usr/bin/chromium-browser",
                    "/usr/bin/google-chrome",
                ])
            })
            .ok_or("no Chromium (install Debian's chromium, or set PADDOCK_CHROMIUM)")?;
        let chromedriver = std::env::var("PADDOCK_CHROMEDRIVER")
            .ok()
            .map(PathBuf::from)
            .or_else(|| find(&["/usr/bin/chromedriver"]))
            .ok_or(
                "no chromedriver (install Debian's chromium-driver, or set PADDOCK_CHROMEDRIVER)",
            )?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", chromedriver.display()))?;
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        loop {
            let ready = http.get(format!("{base}/status")).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            if started.elapsed() > Duration::from_secs(20) {
                return Err("chromedriver did not come up within 20 s".into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().map_err(|e| e.to_string())?;
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--disable-dev-shm-usage", "--no-first-run",
                    "--window-size=430,1200",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            },
        }}});
        let created: Value = http
            .post(format!("{base}/session"))
            .json(&capabilities)
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        let session = created["value"]["sessionId"]
            .as_str()
            .ok_or_else(|| format!("Chromium did not start: {created}"))?;
        Ok(Self {
            http,
            session: format!("{base}/session/{session}"),
            driver,
            _profile: profile,
        })
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.session));
        if !body.is_null() {
            request = request.json(&body);
        }
        let response: Value = request.send().await.unwrap().json().await.unwrap();
        assert!(
            response["value"]["error"].is_null(),
            "WebDriver {path}: {response}"
        );
        response["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", json!({"url": url}))
            .await;
    }

    async fn element(&self, css: &str) -> String {
        let found = self
            .call(
                reqwest::Method::POST,
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .await;
        found[ELEMENT].as_str().unwrap().to_owned()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            json!({"text": text}),
        )
        .await;
    }

    async fn click(&self, css: &str) {
        let id = self.element(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            json!({}),
        )
        .await;
    }

    async fn url(&self) -> String {
        let url = self.call(reqwest::Method::GET, "/url", Value::Null).await;
        url.as_str().unwrap().to_owned()
    }

    async fn title(&self) -> String {
        let title = self.call(reqwest::Method::GET, "/title", Value::Null).await;
        title.as_str().unwrap().to_owned()
    }

    /// Waits until the page's URL starts with `prefix`.
    async fn wait_for_url(&self, prefix: &str) -> String {
        let started = Instant::now();
        loop {
            let url = self.url().await;
            if url.starts_with(prefix) {
                return url;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "stuck at {url}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn screenshot(&self, to: &Path) {
        use base64::Engine as _;
        let png = self
            .call(reqwest::Method::GET, "/screenshot", Value::Null)
            .await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        std::fs::write(to, bytes).unwrap();
    }
}

impl Drop for WebDriver {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The app's side of the redirect: a loopback server that answers every request with a
/// small page and reports the request line.
async fn callback_server() -> (String, mpsc::UnboundedReceiver<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut buffer = vec![0u8; 8192];
            let n = stream.read(&mut buffer).await.unwrap_or(0);
            let request = String::from_utf8_lossy(&buffer[..n]);
            let line = request.lines().next().unwrap_or_default().to_owned();
            let _ = tx.send(line);
            let body = "<!doctype html><title>callback</title><p>The app got its answer.</p>";
            let reply = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(reply.as_bytes()).await;
        }
    });
    (format!("http://127.0.0.1:{}/callback", address.port()), rx)
}

#[tokio::test]
async fn a_person_signs_in_and_allows_in_headless_chromium() {
    let driver = match WebDriver::start().await {
        Ok(driver) => driver,
        Err(why) => {
            // Straight to stderr, past the test harness's capture, so the skip is seen.
            let line = format!("SKIP a_person_signs_in_and_allows_in_headless_chromium: {why}\n");
            let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
            return;
        }
    };
    let app = spawn_app().await;
    let (callback, mut requests) = callback_server().await;
    let redirect: String = url::form_urlencoded::byte_serialize(callback.as_bytes()).collect();
    let authorize = app.url(&format!(
        "/oauth/authorize?response_type=code&client_id={}&redirect_uri={redirect}\
         &state=chromium-state&scope=account%3Awrite%20trading",
        app.fx.client.id()
    ));

    driver.goto(&authorize).await;
    assert_eq!(driver.title().await, "Sign in · paddock");
    driver.type_into("#email", USER_EMAIL).await;
    driver.type_into("#password", USER_PASSWORD).await;
    driver.click("button[type=submit]").await;

    driver.wait_for_url(&app.url("/oauth/authorize?")).await;
    assert_eq!(driver.title().await, "Connect Charting App · paddock");
    if let Ok(dir) = std::env::var("PADDOCK_SCREENSHOT_DIR") {
        driver
            .screenshot(&Path::new(&dir).join("consent.png"))
            .await;
    }
    driver.click("button[value=allow]").await;

    let landed = driver.wait_for_url(&callback).await;
    assert_eq!(
        redirect_param(&landed, "state").as_deref(),
        Some("chromium-state")
    );
    assert_eq!(
        redirect_param(&landed, "iss").as_deref(),
        Some(app.base.as_str())
    );
    let code = redirect_param(&landed, "code").expect("a code in the redirect");
    let seen = requests.recv().await.unwrap();
    assert!(
        seen.starts_with("GET /callback?code="),
        "the app saw {seen}"
    );

    let response = app.redeem(&code, (&app.fx.client).into(), &callback).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(body["scope"], "account:write trading");
    assert_eq!(
        app.get_account(Env::Live, token).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get_account(Env::Paper, token).await.status(),
        StatusCode::OK
    );
}
