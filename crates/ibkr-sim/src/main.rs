//! `ibkr-sim`: runs the simulated IBKR Web API on loopback with fresh credentials until Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Parser;
use ibkr_sim::{Sim, SimConfig, TestCredentials};

/// A simulated IBKR Client Portal Web API (first-party OAuth 1.0a) for tests and demos.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 5055)]
    port: u16,
    /// Write an env file (OAUTH_* and SKIM_* settings) for skimd here.
    #[arg(long)]
    write_env: Option<PathBuf>,
    /// Directory for the generated key files (default: a fresh temporary directory).
    #[arg(long)]
    keys_dir: Option<PathBuf>,
    /// Load a few ASX contracts, quotes, scanner rows and announcements.
    #[arg(long)]
    demo_market: bool,
    /// The consumer key the sim accepts.
    #[arg(long, default_value = "SKIMSIM01")]
    consumer_key: String,
    /// Answer 429 when a documented IBKR rate limit is exceeded.
    #[arg(long)]
    enforce_rate_limits: bool,
    /// Date the announcements page shows (YYYY-MM-DD; default: today in Sydney), so a daemon
    /// running with `clock.start` on another trading day finds its announcements.
    #[arg(long)]
    announcements_date: Option<chrono::NaiveDate>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let config = SimConfig {
        consumer_key: args.consumer_key.clone(),
        enforce_rate_limits: args.enforce_rate_limits,
        ..SimConfig::default()
    };
    let (ck, token, realm) = (
        config.consumer_key.clone(),
        config.access_token.clone(),
        config.realm.clone(),
    );
    let creds = tokio::task::spawn_blocking(move || TestCredentials::generate(&ck, &token, &realm))
        .await
        .context("key generation task")?
        .context("generating credentials")?;
    let keys_dir = match args.keys_dir {
        Some(dir) => dir,
        None => std::env::temp_dir().join(format!("ibkr-sim-keys-{}", std::process::id())),
    };
    let key_env = creds
        .write_to_dir(&keys_dir)
        .with_context(|| format!("writing keys to {}", keys_dir.display()))?;
    let sim = Sim::start_on(config, creds, SocketAddr::from(([127, 0, 0, 1], args.port)))
        .await
        .with_context(|| format!("starting on port {}", args.port))?;
    if args.demo_market {
        ibkr_sim::demo::load(&sim.market());
    }
    sim.market().set_announcements_date(args.announcements_date);
    if let Some(path) = &args.write_env {
        let mut env = std::fs::read_to_string(&key_env).context("reading the key env file")?;
        env.push_str(&format!(
            "SKIM_IBKR__BASE_URL={}\nSKIM_ASX__ANNOUNCEMENTS_URL={}\n",
            sim.base_url(),
            sim.announcements_url()
        ));
        write_private(path, &env).with_context(|| format!("writing {}", path.display()))?;
        println!("env file: {}", path.display());
    }
    println!("keys: {}", keys_dir.display());
    println!("{}", sim.base_url());
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    sim.shutdown().await;
    Ok(())
}

/// Writes a file only its owner can read: it holds the access token secret.
fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)?.write_all(contents.as_bytes())
}
