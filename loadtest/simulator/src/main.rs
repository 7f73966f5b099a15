//! `floodgate-sim`: run the carrier simulator until Ctrl-C, then print its report.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use floodgate_sim::{Account, Latency, SimConfig, Unit};

/// A Twilio-compatible carrier simulator with rate limits, faults and callbacks.
#[derive(Debug, Parser)]
#[command(name = "floodgate-sim", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9090")]
    listen: SocketAddr,
    /// The one account's SID.
    #[arg(long, default_value = "AC00000000000000000000000000000000")]
    account_sid: String,
    /// The one account's auth token.
    #[arg(
        long,
        env = "FLOODGATE_SIM_AUTH_TOKEN",
        default_value = "test-token",
        hide_env_values = true
    )]
    auth_token: String,
    /// Account limit in units per second (0 = unlimited).
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// Account burst.
    #[arg(long, default_value_t = 0.0)]
    burst: f64,
    /// What the limits count.
    #[arg(long, value_enum, default_value_t = Unit::Requests)]
    unit: Unit,
    /// Per-sender limit in units per second (0 = unlimited).
    #[arg(long, default_value_t = 0.0)]
    sender_rate: f64,
    /// Per-sender burst.
    #[arg(long, default_value_t = 0.0)]
    sender_burst: f64,
    /// Fixed response latency.
    #[arg(long, conflicts_with_all = ["latency_min_ms", "latency_max_ms"])]
    latency_ms: Option<u64>,
    /// Uniform latency lower bound (with --latency-max-ms).
    #[arg(long, requires = "latency_max_ms")]
    latency_min_ms: Option<u64>,
    /// Uniform latency upper bound.
    #[arg(long, requires = "latency_min_ms")]
    latency_max_ms: Option<u64>,
    /// Fraction of sends answered 500.
    #[arg(long, default_value_t = 0.0)]
    failure_ratio: f64,
    /// Fraction of messages finally undelivered (30003).
    #[arg(long, default_value_t = 0.0)]
    undelivered_ratio: f64,
    /// Delay before each status callback.
    #[arg(long, default_value_t = 200)]
    callback_delay_ms: u64,
    /// Callback URL for sends without StatusCallback.
    #[arg(long)]
    default_callback_url: Option<String>,
    /// Send no status callbacks.
    #[arg(long)]
    no_callbacks: bool,
    /// Seed for every random choice.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// A number that answers 21610 (repeatable).
    #[arg(long = "opt-out")]
    opt_outs: Vec<String>,
}

impl Args {
    fn into_config(self) -> SimConfig {
        let latency = match (self.latency_ms, self.latency_min_ms, self.latency_max_ms) {
            (Some(ms), _, _) if ms > 0 => Latency::Fixed(Duration::from_millis(ms)),
            (_, Some(min), Some(max)) => Latency::Uniform {
                min: Duration::from_millis(min),
                max: Duration::from_millis(max),
            },
            _ => Latency::None,
        };
        SimConfig {
            listen: self.listen,
            accounts: vec![Account {
                sid: self.account_sid,
                auth_token: self.auth_token,
                rate: self.rate,
                burst: self.burst,
                unit: self.unit,
                sender_rate: self.sender_rate,
                sender_burst: self.sender_burst,
            }],
            latency,
            failure_ratio: self.failure_ratio,
            undelivered_ratio: self.undelivered_ratio,
            callbacks: !self.no_callbacks,
            callback_delay: Duration::from_millis(self.callback_delay_ms),
            default_callback_url: self.default_callback_url,
            seed: self.seed,
            opted_out: self.opt_outs.into_iter().collect(),
            ..SimConfig::default()
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let sim = floodgate_sim::start(Args::parse().into_config())
        .await
        .context("starting the simulator")?;
    println!("{}", sim.base_url());
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    let report = sim.shutdown().await;
    println!(
        "{}",
        serde_json::to_string_pretty(&report).context("encoding the report")?
    );
    Ok(())
}
