//! The `paddock` command: the server and its admin commands (SPEC §4).

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use std::path::PathBuf;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use paddock::admin::{self, ClientRegistration};
use paddock::clock::Clock;
use paddock::config::{ConfigFile, LogFormat, ServeArgs};
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

    /// A TOML file of settings: the flags' names as keys (`listen = "127.0.0.1:9000"`,
    /// `code-ttl-secs = 300`, `database = "./paddock.db"`). Flags and environment
    /// variables override it; its `database` serves every command.
    #[arg(long, global = true, env = "PADDOCK_CONFIG")]
    config: Option<PathBuf>,

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
    /// Check settings files.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Set and list the paper market's prices.
    #[command(subcommand)]
    Price(PriceCommand),
}

#[derive(Subcommand)]
enum PriceCommand {
    /// Set a listed asset's price, for every server on this database.
    Set { symbol: String, price: Decimal },
    /// List every listed asset with its current price.
    List,
}

#[derive(Subcommand)]
enum BrokerCommand {
    /// Create a broker; prints its key id and secret (shown once).
    Create {
        #[arg(long)]
        name: String,
    },
    /// List every broker (never their secrets).
    List,
    /// Show one broker, by id or key id.
    Show { id: String },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user; the password is read from the first line of stdin.
    Create {
        #[arg(long)]
        email: String,
    },
    /// List every user.
    List,
    /// Show one user and their accounts, by id or e-mail address.
    Show { id: String },
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
    /// List every account.
    List,
    /// Show one account, by id or account number.
    Show { id: String },
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
enum ConfigCommand {
    /// Check a `--config` file: prints the settings `serve` would run with, or the
    /// first mistake.
    Check { file: PathBuf },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Revoke an access token at once.
    Revoke { token: String },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match parse_cli() {
        Ok(cli) => cli,
        Err(Mistake::Usage(e)) if !e.use_stderr() => {
            // --help and --version
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(Mistake::Usage(e)) => {
            eprintln!("error: {}", usage_error(&e));
            return ExitCode::from(2);
        }
        Err(Mistake::Config(e)) => {
            eprintln!("error: {}", one_line(&e));
            return ExitCode::from(2);
        }
    };
    let log_format = match &cli.command {
        Command::Serve(args) => args.log_format,
        _ => LogFormat::Text,
    };
    init_logging(log_format);
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

enum Mistake {
    Usage(clap::Error),
    Config(anyhow::Error),
}

/// The command line, with `--config FILE`'s values as the defaults of the flags it
/// leaves out (flag > environment > file > default).
fn parse_cli() -> Result<Cli, Mistake> {
    let matches = Cli::command().try_get_matches().map_err(Mistake::Usage)?;
    let cli = Cli::from_arg_matches(&matches).map_err(Mistake::Usage)?;
    let Some(path) = &cli.config else {
        return Ok(cli);
    };
    let file = ConfigFile::read(path).map_err(Mistake::Config)?;
    let matches = file
        .apply(Cli::command())
        .try_get_matches()
        .map_err(Mistake::Usage)?;
    Cli::from_arg_matches(&matches).map_err(Mistake::Usage)
}

/// A usage mistake on one line, ending with one hint: what clap says, without its own
/// tips, then where to look.
fn usage_error(e: &clap::Error) -> String {
    use clap::error::ErrorKind;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (path, subcommands) = command_path(&args);
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand | ErrorKind::MissingSubcommand
    ) && !subcommands.is_empty()
    {
        return format!(
            "`{path}` needs a command: {}; see `{path} --help`",
            subcommands.join(", ")
        );
    }
    format!("{}; see `{path} --help`", clap_message(e))
}

/// What clap says of a mistake, on one line, without its own tips and usage.
fn clap_message(e: &clap::Error) -> String {
    let rendered = e.render().to_string();
    let message: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .take_while(|line| !line.starts_with("Usage:"))
        .filter(|line| {
            !line.is_empty() && !line.starts_with("tip:") && !line.starts_with("For more")
        })
        .collect();
    let message = message.join(" ");
    message
        .strip_prefix("error: ")
        .unwrap_or(&message)
        .to_owned()
}

/// The command the arguments name (`paddock client`, say) and its subcommands.
fn command_path(args: &[String]) -> (String, Vec<String>) {
    let mut command = Cli::command();
    let mut path = vec!["paddock".to_owned()];
    for arg in args {
        let Some(sub) = command.find_subcommand(arg).cloned() else {
            continue;
        };
        path.push(arg.clone());
        command = sub;
    }
    let subcommands = command
        .get_subcommands()
        .filter(|c| c.get_name() != "help")
        .map(|c| c.get_name().to_owned())
        .collect();
    (path.join(" "), subcommands)
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => logs
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .init(),
        // Colour codes only for a person at a terminal, never into a file.
        LogFormat::Text => logs.with_ansi(std::io::stderr().is_terminal()).init(),
    }
}

/// An error and its causes on one line.
fn one_line(e: &anyhow::Error) -> String {
    format!("{e:#}").replace('\n', " ")
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let out = Output { json: cli.json };
    // Checks a file without opening any database.
    if let Command::Config(ConfigCommand::Check { file }) = &cli.command {
        return check_config(file, out);
    }
    let url = DatabaseUrl::parse(&cli.database)?;
    let timeout = match &cli.command {
        Command::Serve(args) => Duration::from_secs(u64::from(args.database_timeout_secs)),
        _ => Duration::from_secs(5),
    };
    let shared = paddock_store::open_with(&url, timeout).await?;
    let clock = Clock::default();
    let now = clock.now();
    let store: &dyn Store = shared.as_ref();
    match cli.command {
        Command::Serve(args) => serve(args, shared, &url, clock).await,
        Command::Broker(command) => broker_command(store, command, now, out).await,
        Command::User(command) => user_command(store, command, now, out).await,
        Command::Account(command) => account_command(store, command, now, out).await,
        Command::Client(command) => client_command(store, command, now, out).await,
        Command::Token(TokenCommand::Revoke { token }) => {
            let r = admin::revoke_token(store, &token, now).await?;
            out.print(&r, || "token revoked".to_owned())
        }
        Command::Config(_) => unreachable!("handled above"),
        Command::Price(PriceCommand::Set { symbol, price }) => {
            let p = admin::set_price(store, &symbol, price, now).await?;
            out.print(&p, || format!("{} {} (set)", p.symbol, p.price))
        }
        Command::Price(PriceCommand::List) => {
            let prices = admin::list_prices(store).await?;
            out.print_list("prices", &prices, |p| {
                format!("{:<6} {:>12}  {}", p.symbol, p.price, p.source)
            })
        }
    }
}

/// `config check FILE`: the file parsed and applied exactly as `serve --config FILE`
/// would, but with the environment left out, so that what is checked is the file.
fn check_config(file: &std::path::Path, out: Output) -> anyhow::Result<()> {
    let config = ConfigFile::read(file)?;
    let command = config
        .apply(Cli::command())
        .mut_args(|a| a.env(None))
        .mut_subcommand("serve", |s| s.mut_args(|a| a.env(None)));
    let matches = command
        .try_get_matches_from(["paddock", "serve"])
        .map_err(|e| {
            anyhow::anyhow!(
                "in {}: {}; `paddock serve --help` describes each setting",
                file.display(),
                clap_message(&e)
            )
        })?;
    let cli = Cli::from_arg_matches(&matches)?;
    let Command::Serve(args) = cli.command else {
        anyhow::bail!("in {}: not a serve configuration", file.display());
    };
    let database = DatabaseUrl::parse(&cli.database)?;
    let settings = args.settings()?;
    #[derive(Serialize)]
    struct Checked {
        valid: bool,
        database: String,
        listen: String,
        issuer: String,
        log_format: LogFormat,
    }
    let checked = Checked {
        valid: true,
        // Shown without its password.
        database: database.to_string(),
        listen: args.listen.to_string(),
        issuer: settings.issuer,
        log_format: args.log_format,
    };
    out.print(&checked, || {
        format!(
            "{} is valid: serve would listen on {} as {}, database {}",
            file.display(),
            checked.listen,
            checked.issuer,
            checked.database
        )
    })
}

async fn broker_command(
    store: &dyn Store,
    command: BrokerCommand,
    now: chrono::DateTime<chrono::Utc>,
    out: Output,
) -> anyhow::Result<()> {
    let describe =
        |b: &admin::BrokerView| format!("broker {} \"{}\" key id {}", b.id, b.name, b.key_id);
    match command {
        BrokerCommand::Create { name } => {
            let b = admin::create_broker(store, &name, now).await?;
            out.print(&b, || {
                format!(
                    "broker {}\n  key id: {}\n  secret: {}   (shown once)",
                    b.id, b.key_id, b.secret
                )
            })
        }
        BrokerCommand::List => {
            let brokers = admin::list_brokers(store).await?;
            out.print_list("brokers", &brokers, describe)
        }
        BrokerCommand::Show { id } => {
            let b = admin::show_broker(store, &id).await?;
            out.print(&b, || describe(&b))
        }
    }
}

async fn user_command(
    store: &dyn Store,
    command: UserCommand,
    now: chrono::DateTime<chrono::Utc>,
    out: Output,
) -> anyhow::Result<()> {
    let describe = |u: &admin::UserView| format!("user {} <{}>", u.id, u.email);
    match command {
        UserCommand::Create { email } => {
            let password = read_password()?;
            let u = admin::create_user(store, &email, password, now).await?;
            out.print(&u, || format!("user {} <{}>", u.id, u.email))
        }
        UserCommand::List => {
            let users = admin::list_users(store).await?;
            out.print_list("users", &users, describe)
        }
        UserCommand::Show { id } => {
            let (user, accounts) = admin::show_user(store, &id).await?;
            #[derive(Serialize)]
            struct Shown<'a> {
                #[serde(flatten)]
                user: &'a admin::UserView,
                accounts: &'a [admin::AccountView],
            }
            let shown = Shown {
                user: &user,
                accounts: &accounts,
            };
            out.print(&shown, || {
                let mut lines = vec![describe(&user)];
                lines.extend(
                    accounts
                        .iter()
                        .map(|a| format!("  {}", describe_account(a))),
                );
                lines.join("\n")
            })
        }
    }
}

fn describe_account(a: &admin::AccountView) -> String {
    format!(
        "{} account {} (number {}), user {}, broker {}, cash {}",
        a.env, a.id, a.account_number, a.user_id, a.broker_id, a.cash
    )
}

fn describe_account_detail(a: &admin::AccountDetail) -> String {
    let mut text = format!("{}, equity {}", describe_account(&a.account), a.equity);
    text.push_str(&format!("\npositions: {}", a.positions.len()));
    for p in &a.positions {
        text.push_str(&format!(
            "\n  {} {} at {} (bought at {}), worth {}",
            p.qty, p.symbol, p.price, p.avg_entry_price, p.market_value
        ));
    }
    text.push_str(&format!("\nopen orders: {}", a.open_orders.len()));
    for o in &a.open_orders {
        let amount = match (&o.qty, &o.notional) {
            (Some(qty), _) => qty.clone(),
            (None, Some(notional)) => format!("${notional} of"),
            (None, None) => String::new(),
        };
        let price = match (&o.limit_price, &o.stop_price) {
            (Some(limit), Some(stop)) => format!(" at stop {stop}, limit {limit}"),
            (Some(price), None) | (None, Some(price)) => format!(" at {price}"),
            (None, None) => String::new(),
        };
        text.push_str(&format!(
            "\n  {} {} {} {} {}{} {}, {} ({})",
            o.id,
            o.side,
            amount,
            o.symbol,
            o.kind,
            price,
            o.time_in_force,
            o.status,
            o.client_order_id
        ));
    }
    text
}

async fn account_command(
    store: &dyn Store,
    command: AccountCommand,
    now: chrono::DateTime<chrono::Utc>,
    out: Output,
) -> anyhow::Result<()> {
    match command {
        AccountCommand::Create {
            user,
            broker,
            env,
            cash,
        } => {
            let a = admin::create_account(store, user, broker, env, cash, now).await?;
            out.print(&a, || describe_account(&a))
        }
        AccountCommand::List => {
            let accounts = admin::list_accounts(store).await?;
            out.print_list("accounts", &accounts, describe_account)
        }
        AccountCommand::Show { id } => {
            let a = admin::show_account(store, &id).await?;
            out.print(&a, || describe_account_detail(&a))
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
            let clients = admin::list_clients(store).await?;
            out.print_list("clients", &clients, describe_client)
        }
        ClientCommand::Show { client_id } => {
            let c = admin::show_client(store, &client_id).await?;
            out.print(&c, || describe_client(&c))
        }
        ClientCommand::Disable { client_id } => {
            let c =
                admin::set_client_status(store, &client_id, ClientStatus::Disabled, now).await?;
            out.print(&c, || describe_client(&c))
        }
        ClientCommand::Enable { client_id } => {
            let c = admin::set_client_status(store, &client_id, ClientStatus::Active, now).await?;
            out.print(&c, || describe_client(&c))
        }
        ClientCommand::RotateSecret { client_id } => {
            let r = admin::rotate_client_secret(store, &client_id, now).await?;
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
    /// A list as `{"<name>": [...]}`, or one line each (or a line that says there are
    /// none).
    fn print_list<T: Serialize>(
        self,
        name: &str,
        items: &[T],
        describe: impl Fn(&T) -> String,
    ) -> anyhow::Result<()> {
        if self.json {
            println!("{}", serde_json::json!({ name: items }));
        } else if items.is_empty() {
            println!("no {name}");
        } else {
            for item in items {
                println!("{}", describe(item));
            }
        }
        Ok(())
    }

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
    database: &DatabaseUrl,
    clock: Clock,
) -> anyhow::Result<()> {
    let settings = args.settings()?;
    if args.demo {
        demo::seed(store.as_ref(), clock.now()).await?;
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot listen on {}: {e}; stop what uses it, or choose another --listen",
                args.listen
            )
        })?;
    if args.demo {
        println!("{}", demo::instructions(&settings.issuer));
    }
    tracing::info!(address = %args.listen, database = %database, "paddock is listening");
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A flag added to `serve` without a settings-file key would silently be left out
    /// of every file.
    #[test]
    fn every_serve_flag_has_a_settings_file_key() {
        let every_key = ConfigFile {
            database: Some("x.db".into()),
            listen: Some("127.0.0.1:1".into()),
            demo: Some(true),
            issuer: Some("http://x".into()),
            code_ttl_secs: Some(1),
            trust_proxy: Some(true),
            session_ttl_secs: Some(60),
            token_ttl_secs: Some(60),
            database_timeout_secs: Some(1),
            market: Some("always-open".into()),
            price_walk_seed: Some(1),
            price_walk_secs: Some(5),
            log_format: Some(LogFormat::Json),
        };
        let (_, keys) = every_key.values();
        let keys: Vec<&str> = keys.iter().map(|(id, _)| *id).collect();
        let command = Cli::command();
        let serve = command.find_subcommand("serve").unwrap();
        for arg in serve.get_arguments() {
            let id = arg.get_id().as_str();
            if arg.is_global_set() || ["help", "config", "json", "database"].contains(&id) {
                continue;
            }
            assert!(
                keys.contains(&id),
                "--{} has no settings-file key",
                arg.get_id()
            );
        }
    }

    #[test]
    fn a_file_that_turns_demo_on_is_overridden_by_demo_false() {
        let file = ConfigFile {
            demo: Some(true),
            ..ConfigFile::default()
        };
        let parse = |args: &[&str]| {
            let matches = file
                .apply(Cli::command())
                .try_get_matches_from(args)
                .unwrap();
            match Cli::from_arg_matches(&matches).unwrap().command {
                Command::Serve(args) => args.demo,
                _ => unreachable!(),
            }
        };
        assert!(parse(&["paddock", "serve"]));
        assert!(!parse(&["paddock", "serve", "--demo=false"]));
        assert!(parse(&["paddock", "serve", "--demo"]));
    }
}
