//! The `paddock` command: the server and its admin commands (SPEC §4).

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use paddock::admin::{self, ClientRegistration};
use paddock::clock::Clock;
use paddock::config::ServeArgs;
use paddock::state::AppState;
use paddock::{demo, server};
use paddock_core::env::Env;
use paddock_core::ids::{BrokerId, UserId};
use paddock_core::model::ClientStatus;
use paddock_core::store::Store;
use paddock_store::DatabaseUrl;
use rust_decimal::Decimal;
use serde::Serialize;

#[derive(Parser)]
#[command(
    name = "paddock",
    version,
    about = "OAuth 2.0 authorization server for brokerages, wire-compatible with Alpaca's OAuth, with a paper Trading API v2"
)]
struct Cli {
    /// Database: a file path or sqlite://PATH (created and migrated when missing).
    #[arg(
        long,
        global = true,
        env = "PADDOCK_DATABASE_URL",
        default_value = "./paddock.db"
    )]
    database: String,

    /// Print one JSON object instead of text.
    #[arg(long, global = true)]
    json: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Manage brokers (Broker API callers).
    #[command(subcommand)]
    Broker(BrokerCommand),
    /// Manage users (people who log in to authorize apps).
    #[command(subcommand)]
    User(UserCommand),
    /// Manage brokerage accounts.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Manage OAuth clients (third-party apps).
    #[command(subcommand)]
    Client(ClientCommand),
    /// Manage access tokens.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Subcommand)]
enum BrokerCommand {
    /// Create a broker; prints its key id and secret (shown once).
    Create {
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user; the password is read from the first line of stdin.
    Create {
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand)]
enum AccountCommand {
    /// Create a live or paper account for a user at a broker.
    Create {
        #[arg(long)]
        user: UserId,
        #[arg(long)]
        broker: BrokerId,
        #[arg(long)]
        env: Env,
        /// Starting cash.
        #[arg(long, default_value = "100000")]
        cash: Decimal,
    },
}

#[derive(Subcommand)]
enum ClientCommand {
    /// Register an OAuth client; prints its client_id and client_secret (shown once).
    Create {
        #[arg(long)]
        broker: BrokerId,
        #[arg(long)]
        name: String,
        /// A redirect URI, matched exactly; repeat for several.
        #[arg(long = "redirect-uri", required = true)]
        redirect_uris: Vec<String>,
        #[arg(long, default_value = "")]
        description: String,
        #[arg(long, default_value = "")]
        url: String,
        #[arg(long, default_value = "")]
        terms_of_use: String,
        #[arg(long, default_value = "")]
        privacy_policy: String,
        /// Allow the client to be granted live accounts.
        #[arg(long)]
        live_trading_approved: bool,
    },
    /// List every client.
    List,
    /// Show one client.
    Show { client_id: String },
    /// Disable a client: it can neither start a flow nor use its tokens.
    Disable { client_id: String },
    /// Enable a disabled client again.
    Enable { client_id: String },
    /// Replace a client's secret; the old one stops working at once.
    RotateSecret { client_id: String },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Revoke an access token at once.
    Revoke { token: String },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // clap spreads one error over several lines; keep it to one, usage aside.
            let rendered = e.render().to_string();
            let message: Vec<&str> = rendered
                .lines()
                .map(str::trim)
                .take_while(|line| !line.starts_with("Usage:"))
                .filter(|line| !line.is_empty())
                .collect();
            eprintln!("{} (see `paddock --help`)", message.join(" "));
            return ExitCode::from(2);
        }
    };
    init_logging();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// An error and its causes on one line.
fn one_line(e: &anyhow::Error) -> String {
    format!("{e:#}").replace('\n', " ")
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let url = DatabaseUrl::parse(&cli.database)?;
    let shared = paddock_store::open(&url).await?;
    let clock = Clock::default();
    let now = clock.now();
    let store: &dyn Store = shared.as_ref();
    let out = Output { json: cli.json };
    match cli.command {
        Command::Serve(args) => serve(args, shared, &cli.database, clock).await,
        Command::Broker(BrokerCommand::Create { name }) => {
            let b = admin::create_broker(store, &name, now).await?;
            out.print(&b, || {
                format!(
                    "broker {}\n  key id: {}\n  secret: {}   (shown once)",
                    b.id, b.key_id, b.secret
                )
            })
        }
        Command::User(UserCommand::Create { email }) => {
            let password = read_password()?;
            let u = admin::create_user(store, &email, password, now).await?;
            out.print(&u, || format!("user {} <{}>", u.id, u.email))
        }
        Command::Account(AccountCommand::Create {
            user,
            broker,
            env,
            cash,
        }) => {
            let a = admin::create_account(store, user, broker, env, cash, now).await?;
            out.print(&a, || {
                format!(
                    "{} account {} (number {}), cash {}",
                    a.env, a.id, a.account_number, a.cash
                )
            })
        }
        Command::Client(command) => client_command(store, command, now, out).await,
        Command::Token(TokenCommand::Revoke { token }) => {
            let r = admin::revoke_token(store, &token, now).await?;
            out.print(&r, || "token revoked".to_owned())
        }
    }
}

async fn client_command(
    store: &dyn Store,
    command: ClientCommand,
    now: chrono::DateTime<chrono::Utc>,
    out: Output,
) -> anyhow::Result<()> {
    match command {
        ClientCommand::Create {
            broker,
            name,
            redirect_uris,
            description,
            url,
            terms_of_use,
            privacy_policy,
            live_trading_approved,
        } => {
            let registration = ClientRegistration {
                broker,
                name,
                redirect_uris,
                description,
                url,
                terms_of_use,
                privacy_policy,
                live_trading_approved,
            };
            let c = admin::create_client(store, registration, now).await?;
            out.print(&c, || {
                format!(
                    "{}\n  client_secret: {}   (shown once)",
                    describe_client(&c.client),
                    c.client_secret
                )
            })
        }
        ClientCommand::List => {
            #[derive(Serialize)]
            struct Clients {
                clients: Vec<admin::ClientView>,
            }
            let clients = Clients {
                clients: admin::list_clients(store).await?,
            };
            out.print(&clients, || {
                if clients.clients.is_empty() {
                    return "no clients".to_owned();
                }
                clients
                    .clients
                    .iter()
                    .map(describe_client)
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
        ClientCommand::Show { client_id } => {
            let c = admin::show_client(store, &client_id).await?;
            out.print(&c, || describe_client(&c))
        }
        ClientCommand::Disable { client_id } => {
            let c = admin::set_client_status(store, &client_id, ClientStatus::Disabled).await?;
            out.print(&c, || describe_client(&c))
        }
        ClientCommand::Enable { client_id } => {
            let c = admin::set_client_status(store, &client_id, ClientStatus::Active).await?;
            out.print(&c, || describe_client(&c))
        }
        ClientCommand::RotateSecret { client_id } => {
            let r = admin::rotate_client_secret(store, &client_id).await?;
            out.print(&r, || {
                format!(
                    "client {}\n  client_secret: {}   (shown once)",
                    r.client_id, r.client_secret
                )
            })
        }
    }
}

fn describe_client(view: &admin::ClientView) -> String {
    let c = &view.client;
    format!(
        "client {} \"{}\" [{}] broker {}, live trading {}, redirect URIs: {}",
        c.client_id,
        c.name,
        c.status,
        view.broker_id,
        if c.live_trading_approved {
            "approved"
        } else {
            "not approved"
        },
        c.redirect_uri.join(" ")
    )
}

#[derive(Clone, Copy)]
struct Output {
    json: bool,
}

impl Output {
    fn print<T: Serialize>(self, value: &T, text: impl FnOnce() -> String) -> anyhow::Result<()> {
        if self.json {
            println!("{}", serde_json::to_string(value)?);
        } else {
            println!("{}", text());
        }
        Ok(())
    }
}

fn read_password() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("password: ");
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        anyhow::bail!(
            "no password on stdin: pipe the password in, e.g. `echo 'a long password' | paddock user create --email you@example.com`"
        );
    }
    Ok(password)
}

async fn serve(
    args: ServeArgs,
    store: Arc<dyn Store>,
    database: &str,
    clock: Clock,
) -> anyhow::Result<()> {
    let settings = args.settings()?;
    if args.demo {
        demo::seed(store.as_ref(), clock.now()).await?;
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.listen))?;
    if args.demo {
        println!("{}", demo::instructions(&settings.issuer));
    }
    tracing::info!(address = %args.listen, database, "paddock is listening");
    let state = AppState::new(store, settings, clock);
    server::run(listener, state, shutdown_signal()).await?;
    tracing::info!("paddock stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
