//! The admin CLI (SPEC §4), run as the real binary against a real SQLite file.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

struct Cli {
    db: PathBuf,
    _dir: tempfile::TempDir,
}

impl Cli {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        Self {
            db: dir.path().join("admin.db"),
            _dir: dir,
        }
    }

    fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Output {
        run(&self.db, args, stdin)
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

fn run(db: &Path, args: &[&str], stdin: &str) -> Output {
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
    let out = run(&app.db_path, &["--json", "token", "revoke", &token], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["revoked"], true);
    let response = app.get_account(paddock_core::env::Env::Paper, &token).await;
    assert_eq!(response.status(), reqwest::StatusCode::UNAUTHORIZED);

    let out = run(&app.db_path, &["token", "revoke", "pdk_at_unknown"], "");
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
    let out = run(
        Path::new("/nonexistent-dir/for/paddock.db"),
        &["client", "list"],
        "",
    );
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
    let cli = Cli::new();
    cli.json(&["client", "list"]);
    {
        let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&cli.db);
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
    let line = cli.fails(&["client", "list"]);
    assert!(line.contains("newer"), "{line}");
}
