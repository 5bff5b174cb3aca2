//! The browser flow in real headless Chromium, driven through WebDriver (chromedriver):
//! a person types the login, clicks Allow, and the app's callback receives the code.
//!
//! WebDriver is plain HTTP and JSON, spoken here with reqwest. Where Chromium or
//! chromedriver is not installed, the test prints a SKIP line and passes.

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use paddock_core::env::Env;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::browser::redirect_param;
use paddock::demo;

use crate::helpers::spawn_app;

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct WebDriver {
    http: reqwest::Client,
    /// `http://127.0.0.1:PORT/session/ID`; `None` once the session has ended.
    session: Option<String>,
    driver_port: u16,
    /// Declared last: dropped after the session has ended. `None` once `quit` stopped them.
    processes: Option<Processes>,
}

fn find(candidates: &[&str]) -> Option<PathBuf> {
    candidates.iter().map(PathBuf::from).find(|p| p.is_file())
}

/// chromedriver and every Chromium process it starts, with the one directory they all
/// write to (profile and temporary files). Dropping it ends them all and removes the
/// directory, whether the test passed, failed or panicked.
struct Processes {
    driver: Child,
    /// Every Chromium process names this directory in its command line (the profile
    /// is inside it), which is how strays are found.
    scratch: tempfile::TempDir,
}

impl Processes {
    /// The processes started for this browser that are still alive, chromedriver aside.
    fn alive(&self) -> Vec<u32> {
        alive_of(Some(self.driver.id()), self.scratch.path())
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        // chromedriver leads its own process group (see `start`): end the group, then
        // anything that left it but still names our directory.
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        for pid in self.alive() {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
        }
    }
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
        let scratch = tempfile::Builder::new()
            .prefix("paddock-chromium-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let tmp = scratch.path().join("tmp");
        std::fs::create_dir(&tmp).map_err(|e| e.to_string())?;
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            // Chromium's own temporary files go into the scratch directory too.
            .env("TMPDIR", &tmp)
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", chromedriver.display()))?;
        let processes = Processes { driver, scratch };
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
        let profile = processes.scratch.path().join("profile");
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--disable-dev-shm-usage", "--no-first-run",
                    "--hide-scrollbars", "--window-size=1200,900",
                    format!("--user-data-dir={}", profile.display()),
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
            session: Some(format!("{base}/session/{session}")),
            driver_port: port,
            processes: Some(processes),
        })
    }

    /// Ends the session (chromedriver closes Chromium), gives Chromium a moment to exit
    /// on its own, then stops chromedriver and whatever is left; returns the processes
    /// of this browser still alive afterwards.
    async fn quit(mut self) -> Vec<u32> {
        if let Some(session) = self.session.take() {
            let _ = self.http.delete(&session).send().await;
        }
        let Some(processes) = self.processes.take() else {
            return Vec::new();
        };
        let scratch = processes.scratch.path().to_owned();
        let group = processes.driver.id();
        let started = Instant::now();
        while !processes.alive().is_empty() && started.elapsed() < Duration::from_secs(5) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        drop(processes);
        assert!(!scratch.exists(), "the scratch directory is removed");
        alive_of(Some(group), &scratch)
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let session = self.session.as_deref().expect("a live session");
        let mut request = self.http.request(method, format!("{session}{path}"));
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

    /// Waits until the page's title is `expected`: after a form is sent the URL may
    /// not change (the login page is shown at the authorization URL), the title does.
    async fn wait_for_title(&self, expected: &str) {
        let started = Instant::now();
        loop {
            let title = self.title().await;
            if title == expected {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the title stayed {title:?}, not {expected:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
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

    /// Resizes the window; headless Chromium has no browser UI, so this is the viewport.
    async fn resize(&self, width: u32, height: u32) {
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            json!({"width": width, "height": height}),
        )
        .await;
    }

    /// The height of the first element matching `css`, in CSS pixels.
    async fn height(&self, css: &str) -> f64 {
        let id = self.element(css).await;
        let rect = self
            .call(
                reqwest::Method::GET,
                &format!("/element/{id}/rect"),
                Value::Null,
            )
            .await;
        rect["height"].as_f64().unwrap()
    }

    /// The rendered text of the first element matching `css`.
    async fn text(&self, css: &str) -> String {
        let id = self.element(css).await;
        let text = self
            .call(
                reqwest::Method::GET,
                &format!("/element/{id}/text"),
                Value::Null,
            )
            .await;
        text.as_str().unwrap().to_owned()
    }

    /// Saves a screenshot as `name` in `PADDOCK_SCREENSHOT_DIR`, when that is set (the
    /// README's pictures are made this way, from the demo data).
    async fn screenshot_as(&self, name: &str) {
        if let Ok(dir) = std::env::var("PADDOCK_SCREENSHOT_DIR") {
            self.screenshot(&Path::new(&dir).join(name)).await;
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
    /// A test that failed or panicked ends here without `quit`: end the session all the
    /// same, synchronously (no runtime to await on in a drop), so that chromedriver
    /// closes Chromium; `Processes` then stops whatever is left.
    fn drop(&mut self) {
        let Some(session) = self.session.take() else {
            return;
        };
        let Some(path) = session.split_once("/session/").map(|(_, id)| id) else {
            return;
        };
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", self.driver_port)) {
            use std::io::{Read as _, Write as _};
            let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
            let request = format!(
                "DELETE /session/{path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\
                 Content-Length: 0\r\nConnection: close\r\n\r\n"
            );
            if stream.write_all(request.as_bytes()).is_ok() {
                let _ = stream.read_to_end(&mut Vec::new());
            }
        }
    }
}

/// The processes alive (zombies aside) that are in process group `group` or whose
/// command line names `marker`.
fn alive_of(group: Option<u32>, marker: &Path) -> Vec<u32> {
    let marker = marker.to_string_lossy().into_owned();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| Some(pid) != group)
        .filter(|pid| {
            // `pid (comm) state ppid pgrp …`; comm may hold spaces, so read after it.
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            let mut fields = stat
                .rsplit_once(')')
                .map_or("", |(_, rest)| rest)
                .split_whitespace();
            let state = fields.next();
            let pgrp = fields.nth(1).and_then(|f| f.parse::<u32>().ok());
            if state == Some("Z") {
                return false;
            }
            group.is_some() && pgrp == group
                || std::fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).contains(&marker))
        })
        .collect()
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

/// Desktop and phone widths, in CSS pixels.
const DESKTOP: (u32, u32) = (1200, 900);
const PHONE: (u32, u32) = (390, 844);

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
    // The demo's own data, so that the screenshots show what a new user will see.
    let app = spawn_app().await;
    demo::seed(app.store.as_ref(), app.clock.now())
        .await
        .unwrap();
    let (callback, mut requests) = callback_server().await;
    // The demo client's redirect is a loopback one: any port of localhost matches.
    let callback = callback.replace("127.0.0.1", "localhost");
    let redirect: String = url::form_urlencoded::byte_serialize(callback.as_bytes()).collect();
    let authorize = demo::authorization_url(&app.base)
        .replace("http%3A%2F%2Flocalhost%3A8000%2Fcallback", &redirect);

    driver.goto(&app.url("/")).await;
    assert_eq!(driver.title().await, "Home · paddock");
    driver.screenshot_as("home.png").await;

    driver.goto(&authorize).await;
    assert_eq!(driver.title().await, "Sign in · paddock");
    driver.type_into("#email", demo::USER_EMAIL).await;
    driver.type_into("#password", demo::USER_PASSWORD).await;
    driver.click("button[type=submit]").await;

    driver
        .wait_for_title("Connect Demo Trading App · paddock")
        .await;
    driver.screenshot_as("consent.png").await;
    driver.resize(PHONE.0, PHONE.1).await;
    let phone_header = driver.height("header.top").await;
    driver.screenshot_as("consent-phone.png").await;
    driver.resize(DESKTOP.0, DESKTOP.1).await;
    let desktop_header = driver.height("header.top").await;
    // One row of links at both widths: nothing wraps onto a second or third line.
    assert!(
        phone_header < 64.0 && (phone_header - desktop_header).abs() < 2.0,
        "header {phone_header}px on a phone, {desktop_header}px on a desktop"
    );
    driver.click("button[value=allow]").await;

    let landed = driver.wait_for_url(&callback).await;
    assert_eq!(
        redirect_param(&landed, "state").as_deref(),
        Some("demo-state")
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

    let response = app
        .http
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("client_id", demo::CLIENT_ID),
            ("client_secret", demo::CLIENT_SECRET),
            ("redirect_uri", callback.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(body["scope"], "account:write trading");
    for env in [Env::Live, Env::Paper] {
        assert_eq!(app.get_account(env, token).await.status(), StatusCode::OK);
    }

    // The connected apps page, then revoking, which asks first and leaves a notice.
    driver.goto(&app.url("/account/apps")).await;
    driver.wait_for_title("Connected apps · paddock").await;
    driver.screenshot_as("apps.png").await;
    for (width, height) in [PHONE, DESKTOP] {
        driver.resize(width, height).await;
        let header = driver.height("header.top").await;
        assert!(header < 64.0, "header {header}px at {width}px wide");
    }
    driver.click("a.button.danger").await;
    driver
        .wait_for_title("Revoke Demo Trading App · paddock")
        .await;
    driver.screenshot_as("revoke.png").await;
    driver.click("button.danger").await;
    driver
        .wait_for_url(&app.url("/account/apps?notice=revoked"))
        .await;
    assert_eq!(
        driver.text(".notice").await,
        "Access revoked: that app can no longer reach your accounts."
    );
    assert_eq!(
        app.get_account(Env::Paper, token).await.status(),
        StatusCode::UNAUTHORIZED
    );

    driver.click("button.link").await;
    driver.wait_for_url(&app.url("/login")).await;
    assert_eq!(driver.text(".notice").await, "You have signed out.");

    let left = driver.quit().await;
    assert!(left.is_empty(), "browser processes left running: {left:?}");
}
