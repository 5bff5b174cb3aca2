//! The admin CLI (SPEC §4), run as the real binary against a real SQLite file.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use sqlx::Connection as _;

use crate::process::{Served, free_address};
use crate::testdb::TestDb;

/// The CLI against a fresh database of this run's backend.
struct Cli {
    db: TestDb,
}

impl Cli {
    fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        Self {
            db: runtime.block_on(TestDb::new()),
        }
    }

    fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Output {
        run(&self.db.url, args, stdin)
    }

    /// Runs `paddock --json ARGS`, expects success, returns the one JSON object printed.
    fn json(&self, args: &[&str]) -> Value {
        self.json_with_stdin(args, "")
    }

    fn json_with_stdin(&self, args: &[&str], stdin: &str) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.run_with_stdin(&all, stdin);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert_eq!(
            stdout.lines().count(),
            1,
            "one JSON object on one line: {stdout}"
        );
        serde_json::from_str(&stdout).unwrap()
    }

    /// Runs and expects failure with one clear line on stderr; returns it.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run_with_stdin(args, "");
        assert!(!out.status.success(), "{args:?} succeeded");
        one_error_line(&out)
    }
}

fn run(db: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_paddock"))
        .arg("--database")
        .arg(db)
        .args(args)
        .env_remove("PADDOCK_DATABASE_URL")
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn one_error_line(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    assert_eq!(stderr.lines().count(), 1, "one line on stderr: {stderr}");
    assert!(stderr.len() > 10, "a message that says something: {stderr}");
    stderr
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} in {value}"))
}

#[test]
fn every_admin_command_prints_one_json_object() {
    let cli = Cli::new();
    let broker = cli.json(&["broker", "create", "--name", "Acme Brokerage"]);
    let broker_id = text(&broker, "id");
    assert!(text(&broker, "key_id").starts_with("BK"));
    assert_eq!(text(&broker, "secret").len(), 40);

    let user = cli.json_with_stdin(
        &["user", "create", "--email", "Ann@Example.com"],
        "a long enough password\n",
    );
    assert_eq!(text(&user, "email"), "ann@example.com");
    let user_id = text(&user, "id");

    let live = cli.json(&[
        "account", "create", "--user", user_id, "--broker", broker_id, "--env", "live",
    ]);
    assert_eq!(text(&live, "env"), "live");
    assert!(uuid::Uuid::parse_str(text(&live, "id")).is_ok());
    assert!(!text(&live, "account_number").is_empty());
    let paper = cli.json(&[
        "account", "create", "--user", user_id, "--broker", broker_id, "--env", "paper", "--cash",
        "2500.50",
    ]);
    assert_eq!(text(&paper, "cash"), "2500.5");
    assert!(text(&paper, "account_number").starts_with("PA"));

    let client = cli.json(&[
        "client",
        "create",
        "--broker",
        broker_id,
        "--name",
        "Chart Tool",
        "--redirect-uri",
        "https://chart.example.com/cb",
        "--redirect-uri",
        "http://127.0.0.1/cb",
        "--description",
        "Charts",
        "--url",
        "https://chart.example.com",
        "--terms-of-use",
        "https://chart.example.com/tos",
        "--privacy-policy",
        "https://chart.example.com/pp",
        "--live-trading-approved",
    ]);
    let client_id = text(&client, "client_id").to_owned();
    assert_eq!(client_id.len(), 32);
    let secret = text(&client, "client_secret").to_owned();
    assert_eq!(secret.len(), 40);
    assert!(
        secret
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    assert_eq!(client["live_trading_approved"], true);
    assert_eq!(client["status"], "ACTIVE");
    assert_eq!(
        client["redirect_uri"],
        serde_json::json!(["https://chart.example.com/cb", "http://127.0.0.1/cb"])
    );

    let list = cli.json(&["client", "list"]);
    assert_eq!(list["clients"].as_array().unwrap().len(), 1);
    assert!(
        list["clients"][0].get("client_secret").is_none(),
        "secrets are shown once"
    );

    let shown = cli.json(&["client", "show", &client_id]);
    assert_eq!(text(&shown, "name"), "Chart Tool");
    assert_eq!(text(&shown, "description"), "Charts");
    let disabled = cli.json(&["client", "disable", &client_id]);
    assert_eq!(text(&disabled, "status"), "DISABLED");
    let enabled = cli.json(&["client", "enable", &client_id]);
    assert_eq!(text(&enabled, "status"), "ACTIVE");
    let rotated = cli.json(&["client", "rotate-secret", &client_id]);
    assert_ne!(text(&rotated, "client_secret"), secret);

    // Without --json: human-readable text.
    let out = cli.run_with_stdin(&["client", "show", &client_id], "");
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("Chart Tool") && !stdout.trim_start().starts_with('{'));
}

#[tokio::test]
async fn token_revoke_stops_a_token_issued_by_the_server() {
    let app = crate::helpers::spawn_app().await;
    let token = app.token_for(&app.fx.client, app.fx.paper, "").await;
    let out = run(&app.db.url, &["--json", "token", "revoke", &token], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["revoked"], true);
    let response = app.get_account(paddock_core::env::Env::Paper, &token).await;
    assert_eq!(response.status(), reqwest::StatusCode::UNAUTHORIZED);

    let out = run(&app.db.url, &["token", "revoke", "pdk_at_unknown"], "");
    assert!(!out.status.success());
    one_error_line(&out);
}

#[test]
fn operator_mistakes_get_one_clear_line_and_a_failure() {
    let cli = Cli::new();
    let broker = cli.json(&["broker", "create", "--name", "B"]);
    let broker_id = text(&broker, "id");
    let unknown = "0d18ae51-3c94-4511-b209-101e1666416b";

    let line = cli.fails(&["no-such-command"]);
    assert!(line.contains("no-such-command"), "{line}");
    cli.fails(&["broker", "create"]);
    cli.fails(&["broker", "create", "--name", "B", "--bogus"]);
    cli.fails(&[
        "account", "create", "--user", unknown, "--broker", broker_id, "--env", "live",
    ]);
    cli.fails(&[
        "account", "create", "--user", "x", "--broker", broker_id, "--env", "live",
    ]);
    cli.fails(&[
        "account", "create", "--user", unknown, "--broker", broker_id, "--env", "demo",
    ]);
    let line = cli.fails(&[
        "client",
        "create",
        "--broker",
        broker_id,
        "--name",
        "N",
        "--redirect-uri",
        "not a uri",
    ]);
    assert!(line.contains("not a uri"), "{line}");
    cli.fails(&[
        "client",
        "create",
        "--broker",
        unknown,
        "--name",
        "N",
        "--redirect-uri",
        "https://a.example/cb",
    ]);
    cli.fails(&["client", "show", "7a3c52a910e1dc2abbb14da2b6b8e711"]);
    cli.fails(&["client", "disable", "nope"]);
    let out = cli.run_with_stdin(&["user", "create", "--email", "a@b.c"], "short\n");
    assert!(!out.status.success());
    assert!(one_error_line(&out).contains("at least"));
    let out = cli.run_with_stdin(&["user", "create", "--email", "a@b.c"], "");
    assert!(!out.status.success());
    one_error_line(&out);

    // Duplicates are refused, not silently merged.
    cli.json_with_stdin(
        &["user", "create", "--email", "dup@b.c"],
        "long enough pw\n",
    );
    let out = cli.run_with_stdin(
        &["user", "create", "--email", "DUP@b.c"],
        "long enough pw\n",
    );
    assert!(!out.status.success());
    assert!(one_error_line(&out).contains("exists"));
}

#[test]
fn a_missing_directory_is_one_clear_line() {
    let out = run("/nonexistent-dir/for/paddock.db", &["client", "list"], "");
    assert!(!out.status.success());
    assert!(one_error_line(&out).contains("/nonexistent-dir/for"));
}

#[test]
fn a_port_in_use_is_one_clear_line() {
    let cli = Cli::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let out = cli.run_with_stdin(&["serve", "--listen", &address], "");
    assert!(!out.status.success());
    assert!(one_error_line(&out).contains(&address));
}

#[test]
fn listening_on_every_interface_needs_an_issuer() {
    let cli = Cli::new();
    let line = cli.fails(&["serve", "--listen", "0.0.0.0:0"]);
    assert!(line.contains("--issuer"), "{line}");
}

#[tokio::test]
async fn a_database_of_a_newer_schema_is_refused() {
    let db = TestDb::new().await;
    let ok = run(&db.url, &["client", "list"], "");
    assert!(ok.status.success());
    // The same row on each backend, in its own notation for bytes and booleans.
    match &db.path {
        Some(path) => {
            let options = sqlx::sqlite::SqliteConnectOptions::new().filename(path);
            let mut conn = sqlx::ConnectOptions::connect(&options).await.unwrap();
            sqlx::query(
                "INSERT INTO _sqlx_migrations (version, description, installed_on, success, \
                 checksum, execution_time) VALUES (99990101000000, 'from the future', \
                 CURRENT_TIMESTAMP, 1, x'00', 0)",
            )
            .execute(&mut conn)
            .await
            .unwrap();
        }
        None => {
            let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
            sqlx::query(
                "INSERT INTO _sqlx_migrations (version, description, installed_on, success, \
                 checksum, execution_time) VALUES (99990101000000, 'from the future', \
                 CURRENT_TIMESTAMP, true, '\\x00', 0)",
            )
            .execute(&mut conn)
            .await
            .unwrap();
        }
    }
    let cli = Cli { db };
    let line = cli.fails(&["client", "list"]);
    assert!(line.contains("newer"), "{line}");
}

#[test]
fn brokers_users_and_accounts_can_be_listed_and_found_again() {
    let cli = Cli::new();
    let broker = cli.json(&["broker", "create", "--name", "Acme"]);
    let user = cli.json_with_stdin(
        &["user", "create", "--email", "ann@example.com"],
        "a long enough password\n",
    );
    let account = cli.json(&[
        "account",
        "create",
        "--user",
        text(&user, "id"),
        "--broker",
        text(&broker, "id"),
        "--env",
        "paper",
    ]);

    let brokers = cli.json(&["broker", "list"]);
    assert_eq!(brokers["brokers"][0]["id"], broker["id"]);
    assert!(
        brokers["brokers"][0].get("secret").is_none(),
        "secrets are shown once"
    );
    let users = cli.json(&["user", "list"]);
    assert_eq!(users["users"][0]["email"], "ann@example.com");
    let accounts = cli.json(&["account", "list"]);
    assert_eq!(accounts["accounts"][0]["id"], account["id"]);

    // Found by id, or by what an operator is more likely to still have.
    for id in [text(&broker, "id"), text(&broker, "key_id")] {
        assert_eq!(cli.json(&["broker", "show", id])["id"], broker["id"]);
    }
    for id in [text(&user, "id"), "Ann@Example.com"] {
        let shown = cli.json(&["user", "show", id]);
        assert_eq!(shown["id"], user["id"]);
        assert_eq!(shown["accounts"][0]["id"], account["id"], "{shown}");
    }
    for id in [text(&account, "id"), text(&account, "account_number")] {
        assert_eq!(cli.json(&["account", "show", id])["id"], account["id"]);
    }

    // Text for people, one line per record.
    let out = cli.run_with_stdin(&["account", "list"], "");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1);
    assert!(stdout.contains(text(&account, "account_number")));

    // What is not there says where to look.
    for kind in ["broker", "user", "account", "client"] {
        let id = if kind == "client" {
            "7a3c52a910e1dc2abbb14da2b6b8e711"
        } else {
            "0d18ae51-3c94-4511-b209-101e1666416b"
        };
        let line = cli.fails(&[kind, "show", id]);
        assert!(line.contains(&format!("paddock {kind} list")), "{line}");
    }
}

/// Every usage mistake is one line that ends with exactly one hint.
#[test]
fn every_usage_mistake_ends_with_one_hint() {
    let cli = Cli::new();
    let line = cli.fails(&["client"]);
    for sub in [
        "create",
        "list",
        "show",
        "disable",
        "enable",
        "rotate-secret",
    ] {
        assert!(line.contains(sub), "the subcommands: {line}");
    }
    for args in [
        &["client"][..],
        &["serve", "--listen", "not-an-address"],
        &["broker", "create", "--name"],
        &["broker", "create", "--name", "B", "--bogus"],
        &["no-such-command"],
        &["user"],
    ] {
        let line = cli.fails(args);
        assert_eq!(line.matches("--help").count(), 1, "{args:?}: {line}");
        assert!(!line.contains("tip:"), "{args:?}: {line}");
    }
    let line = cli.fails(&["serve", "--listen", "not-an-address"]);
    assert!(line.contains("paddock serve --help"), "{line}");
}

fn write_config(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn config_check_reports_a_valid_file_and_the_first_mistake() {
    let cli = Cli::new();
    let dir = tempfile::tempdir().unwrap();
    let good = write_config(
        dir.path(),
        "good.toml",
        "listen = \"127.0.0.1:9123\"\ncode-ttl-secs = 300\nlog-format = \"json\"\n",
    );
    let checked = cli.json(&["config", "check", good.to_str().unwrap()]);
    assert_eq!(checked["valid"], true);
    assert_eq!(checked["listen"], "127.0.0.1:9123");
    assert_eq!(checked["issuer"], "http://127.0.0.1:9123");
    assert_eq!(checked["log_format"], "json");

    for (name, text, says) in [
        ("typo.toml", "lisen = \"127.0.0.1:1\"\n", "lisen"),
        ("range.toml", "code-ttl-secs = 900\n", "900"),
        ("address.toml", "listen = \"nowhere\"\n", "nowhere"),
        ("syntax.toml", "listen = \n", "not valid"),
        ("issuer.toml", "listen = \"0.0.0.0:8080\"\n", "--issuer"),
    ] {
        let file = write_config(dir.path(), name, text);
        let line = cli.fails(&["config", "check", file.to_str().unwrap()]);
        assert!(line.contains(says), "{name}: {line}");
    }
    let line = cli.fails(&["config", "check", "/nonexistent/paddock.toml"]);
    assert!(line.contains("/nonexistent/paddock.toml"), "{line}");
}

#[test]
fn settings_come_from_flag_then_environment_then_file() {
    let dir = tempfile::tempdir().unwrap();
    let [from_file, from_env, from_flag] = [free_address(), free_address(), free_address()];
    let config = write_config(
        dir.path(),
        "paddock.toml",
        &format!("listen = \"{from_file}\"\n"),
    );
    let config = config.to_str().unwrap();

    let served = Served::start(&["serve", "--config", config], &[], &from_file);
    drop(served);
    let served = Served::start(
        &["serve", "--config", config],
        &[("PADDOCK_LISTEN", &from_env)],
        &from_env,
    );
    drop(served);
    let _served = Served::start(
        &["serve", "--config", config, "--listen", &from_flag],
        &[("PADDOCK_LISTEN", &from_env)],
        &from_flag,
    );
}

/// A GET over a plain socket (these tests are synchronous): the status code.
fn http_get(address: &str, path: &str, bearer: &str) -> u16 {
    use std::io::Read as _;
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {bearer}\r\n\
         Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap()
}

#[test]
fn logs_are_one_json_object_per_line_and_never_hold_a_token() {
    let address = free_address();
    let served = Served::start(
        &["serve", "--listen", &address, "--log-format", "json"],
        &[],
        &address,
    );
    let token = "pdk_at_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    assert_eq!(http_get(&address, "/paper/v2/account", token), 401);
    let code = "pdk_ac_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";
    assert_eq!(
        http_get(
            &address,
            &format!("/v1/oauth/token/{code}?code={code}"),
            token
        ),
        405
    );
    let log = served.log();
    drop(served);

    assert!(!log.contains("pdk_"), "no token or code in the logs: {log}");
    assert!(!log.contains('\u{1b}'), "no colour codes in a file: {log}");
    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let requests: Vec<&Value> = lines.iter().filter(|l| l["method"].is_string()).collect();
    assert_eq!(requests.len(), 2, "each request logged once: {log}");
    let account = requests[0];
    assert_eq!(account["method"], "GET");
    assert_eq!(account["route"], "/paper/v2/account");
    assert_eq!(account["status"], 401);
    assert!(account["latency_ms"].is_number(), "{account}");
    assert_eq!(account["request_id"].as_str().unwrap().len(), 32);
    assert_eq!(requests[1]["route"], "/v1/oauth/token/{token_id}");
}

#[test]
fn text_logs_have_no_colour_codes_in_a_file() {
    let address = free_address();
    let served = Served::start(&["serve", "--listen", &address], &[], &address);
    assert_eq!(http_get(&address, "/healthz", "x"), 200);
    let log = served.log();
    drop(served);
    assert!(log.contains("/healthz"), "{log}");
    assert!(!log.contains('\u{1b}'), "{log}");
}

#[test]
fn prices_are_set_and_listed_for_listed_symbols_only() {
    let cli = Cli::new();
    let set = cli.json(&["price", "set", "aapl", "187.50"]);
    assert_eq!(set["symbol"], "AAPL");
    assert_eq!(set["price"], "187.5");
    assert_eq!(set["source"], "set");
    let list = cli.json(&["price", "list"]);
    let prices = list["prices"].as_array().unwrap();
    assert!(prices.len() >= 32);
    let aapl = prices.iter().find(|p| p["symbol"] == "AAPL").unwrap();
    assert_eq!(aapl["price"], "187.5");
    let spy = prices.iter().find(|p| p["symbol"] == "SPY").unwrap();
    assert_eq!(spy["source"], "reference");

    let line = cli.fails(&["price", "set", "NOPE", "10"]);
    assert!(line.contains("price list"), "{line}");
    cli.fails(&["price", "set", "AAPL", "0"]);
    cli.fails(&["price", "set", "AAPL", "-3"]);
    cli.fails(&["price", "set", "AAPL", "1.0000000001"]);
    cli.fails(&["price", "set", "AAPL", "ten"]);
    let unchanged = cli.json(&["price", "list"]);
    let aapl = unchanged["prices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["symbol"] == "AAPL")
        .unwrap()
        .clone();
    assert_eq!(aapl["price"], "187.5", "mistakes change nothing");
}
