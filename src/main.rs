//! The `tickhub` command line: parse, load configuration, call into the library.

use std::io::{BufRead, IsTerminal};
use std::net::SocketAddr;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use tickhub::config::Config;

#[derive(Parser)]
#[command(
    name = "tickhub",
    version,
    about = "WhatsApp team inbox and automation hub on top of WAHA"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the hub (HTTP API, webhooks, websockets, web app); applies migrations first.
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Create an admin user (password from --password or standard input).
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        password: Option<String>,
    },
    /// Run a WAHA-compatible simulator (for tests, demos and load tests).
    WahaSim {
        #[arg(long, default_value = "127.0.0.1:3000")]
        listen: SocketAddr,
        /// A global webhook (like WAHA's WHATSAPP_HOOK_URL), besides each session's own.
        #[arg(long)]
        webhook_url: Option<String>,
        /// HMAC key for the global webhook.
        #[arg(long)]
        hmac_key: Option<String>,
        /// Require this X-Api-Key on every /api call.
        #[arg(long)]
        api_key: Option<String>,
        /// Simulated customers write in at this many messages per second.
        #[arg(long)]
        rate: Option<f64>,
        /// How many simulated customers.
        #[arg(long, default_value_t = 20)]
        chats: usize,
        /// The engine reported (default: GOWS, or WEBJS for releases before 2025.1.3).
        #[arg(long)]
        engine: Option<String>,
        /// The WAHA release to behave as, e.g. 2024.10.8: below 2024.11.5 webhooks are
        /// unsigned and sent once, below 2025.3.1 envelopes have no id or timestamp, below
        /// 2026.4.3 there is no new-message-id.
        #[arg(long, default_value_t = tickhub::waha::sim::WahaVersion::CURRENT)]
        waha_version: tickhub::waha::sim::WahaVersion,
    },
    /// The hub, a WAHA simulator and customers writing in: a live inbox in one command.
    Demo,
    /// Recompute the analytics tables from the stored messages, assignments and resolves
    /// (docs/analytics.md); the live projection goes on from where it ends.
    AnalyticsRebuild,
    /// Re-encrypt every stored secret under TICKHUB_SECRET_KEY, reading old values with
    /// TICKHUB_SECRET_KEY_PREVIOUS; all or nothing.
    RotateSecrets,
}

fn init_tracing(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Logs go to stderr so that stdout carries only what scripts read ("listening on").
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

fn read_password() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("password: ");
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let log_filter = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into());
    match cli.command {
        Command::WahaSim {
            listen,
            webhook_url,
            hmac_key,
            api_key,
            rate,
            chats,
            engine,
            waha_version,
        } => {
            init_tracing(&log_filter);
            let opts = tickhub::waha::sim::SimOptions {
                listen,
                webhook_url,
                hmac_key,
                api_key,
                waha_version,
                engine,
                rate,
                chats,
                ..Default::default()
            };
            let sim = tickhub::waha::sim::start(opts)
                .await
                .context("starting the WAHA simulator")?;
            println!("waha-sim listening on http://{}", sim.addr);
            tokio::signal::ctrl_c().await.ok();
            Ok(())
        }
        command => {
            let config = Config::from_env().map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
            init_tracing(&config.log_filter);
            run(command, config).await
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => {
            let app = tickhub::app::start(config).await?;
            println!("tickhub listening on http://{}", app.addr);
            app.run_until_signalled().await.context("server")?;
            Ok(())
        }
        Command::Migrate => {
            let db = tickhub::app::connect_db(&config).await?;
            db.close().await;
            println!("migrations applied");
            Ok(())
        }
        Command::CreateAdmin {
            email,
            name,
            password,
        } => {
            let password = match password {
                Some(p) => p,
                None => read_password()?,
            };
            if !email.contains('@') {
                bail!("{email:?} is not an email address");
            }
            if let Err(why) = tickhub::domain::password::check(&password, &email) {
                bail!("the password is too weak: it {why}");
            }
            let db = tickhub::app::connect_db(&config).await?;
            let user = tickhub::demo::create_admin(&db, &email, &name, &password).await;
            db.close().await;
            let user = user?;
            println!("created admin {} (id {})", user.email, user.id);
            Ok(())
        }
        Command::Demo => tickhub::demo::run(config).await,
        Command::AnalyticsRebuild => {
            let db = tickhub::app::connect_db(&config).await?;
            let started = std::time::Instant::now();
            let now = chrono::Utc::now().timestamp_millis();
            let facts = tickhub::store::analytics::rebuild(&db, now).await;
            db.close().await;
            let facts = facts.context("rebuilding the analytics tables")?;
            println!(
                "analytics rebuilt from {facts} facts in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::RotateSecrets => {
            if config.secret_key.is_none()
                && config.database_kind == tickhub::config::DatabaseKind::Postgres
            {
                bail!("set TICKHUB_SECRET_KEY to the new key (and TICKHUB_SECRET_KEY_PREVIOUS to the old one)");
            }
            let keys = tickhub::secrets::load(&config)?;
            let db = tickhub::app::connect_db(&config).await?;
            let done = tickhub::store::secrets::rotate(&db, &keys).await;
            db.close().await;
            let done = done.context("rotating the stored secrets (nothing was changed)")?;
            println!(
                "re-encrypted {} secret(s) under key {} ({} already under it)",
                done.resealed,
                keys.current_id().unwrap_or("?"),
                done.current
            );
            Ok(())
        }
        Command::WahaSim { .. } => unreachable!("handled before the configuration is read"),
    }
}
