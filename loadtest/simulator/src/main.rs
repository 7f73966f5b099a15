//! `floodgate-sim`: run the carrier simulator until Ctrl-C, then print its report.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use floodgate_sim::{
    Account, Carrier, Latency, SimConfig, Storm, Timeouts, Unit, VonageSignatureMethod,
};

/// A carrier simulator (Twilio, Telnyx and Vonage send APIs) with rate limits, faults and
/// signed status callbacks.
#[derive(Debug, Parser)]
#[command(name = "floodgate-sim", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9090")]
    listen: SocketAddr,
    /// Accounts as a JSON array of `Account` objects (any carriers); replaces the
    /// single-account flags below.
    #[arg(long)]
    accounts_file: Option<std::path::PathBuf>,
    /// The one account's carrier API.
    #[arg(long, value_enum, default_value_t = Carrier::Twilio)]
    carrier: Carrier,
    /// The one account's SID (Twilio), name (Telnyx) or api_key (Vonage).
    #[arg(long, default_value = "AC00000000000000000000000000000000")]
    account_sid: String,
    /// The one account's auth token (Twilio), API key (Telnyx) or api_secret (Vonage).
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
    /// Vonage: the secret that signs DLRs (empty: unsigned).
    #[arg(
        long,
        env = "FLOODGATE_SIM_SIGNATURE_SECRET",
        default_value = "test-signature-secret",
        hide_env_values = true
    )]
    signature_secret: String,
    /// Vonage: the DLR signature digest.
    #[arg(long, value_enum, default_value_t = VonageSignatureMethod::Md5hash)]
    signature_method: VonageSignatureMethod,
    /// Telnyx: the Ed25519 seed (64 hex digits) that signs webhooks; the public key is
    /// logged at start. Default: the RFC 8032 TEST 1 seed.
    #[arg(long, env = "FLOODGATE_SIM_TELNYX_SEED", hide_env_values = true)]
    telnyx_seed: Option<String>,
    /// Fixed response latency.
    #[arg(long, conflicts_with_all = ["latency_min_ms", "latency_max_ms", "latency_p50_ms"])]
    latency_ms: Option<u64>,
    /// Uniform latency lower bound (with --latency-max-ms).
    #[arg(long, requires = "latency_max_ms")]
    latency_min_ms: Option<u64>,
    /// Uniform latency upper bound.
    #[arg(long, requires = "latency_min_ms")]
    latency_max_ms: Option<u64>,
    /// Log-normal latency median (with --latency-p99-ms).
    #[arg(long, requires = "latency_p99_ms", conflicts_with = "latency_min_ms")]
    latency_p50_ms: Option<u64>,
    /// Log-normal latency 99th percentile.
    #[arg(long, requires = "latency_p50_ms")]
    latency_p99_ms: Option<u64>,
    /// Fraction of sends answered with a server error (500; Vonage status 5).
    #[arg(long, default_value_t = 0.0)]
    failure_ratio: f64,
    /// Fraction of sends that hang before answering.
    #[arg(long, default_value_t = 0.0)]
    timeout_ratio: f64,
    /// How long a hung send waits before answering.
    #[arg(long, default_value_t = 30_000)]
    timeout_hang_ms: u64,
    /// Start of the 429 storm, ms after start (with --storm-duration-ms).
    #[arg(long, default_value_t = 0, requires = "storm_duration_ms")]
    storm_start_ms: u64,
    /// Length of the 429 storm.
    #[arg(long)]
    storm_duration_ms: Option<u64>,
    /// Fraction of requests in the storm answered over-limit.
    #[arg(long, default_value_t = 1.0)]
    storm_ratio: f64,
    /// Fraction of messages finally undelivered (Twilio 30005).
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
    /// An opted-out number (repeatable): Twilio 21610, Telnyx 40300, Vonage status 7.
    #[arg(long = "opt-out")]
    opt_outs: Vec<String>,
}

impl Args {
    fn into_config(self) -> anyhow::Result<SimConfig> {
        let ms = Duration::from_millis;
        let latency = match self.latency_ms {
            Some(fixed) if fixed > 0 => Latency::Fixed(ms(fixed)),
            _ => match (self.latency_min_ms, self.latency_max_ms) {
                (Some(min), Some(max)) => Latency::Uniform {
                    min: ms(min),
                    max: ms(max),
                },
                _ => match (self.latency_p50_ms, self.latency_p99_ms) {
                    (Some(p50), Some(p99)) => Latency::LogNormal {
                        p50: ms(p50),
                        p99: ms(p99),
                    },
                    _ => Latency::None,
                },
            },
        };
        let accounts = match &self.accounts_file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                serde_json::from_str(&text)
                    .with_context(|| format!("parsing accounts in {}", path.display()))?
            }
            None => vec![self.account()?],
        };
        Ok(SimConfig {
            listen: self.listen,
            accounts,
            latency,
            failure_ratio: self.failure_ratio,
            timeouts: Timeouts {
                ratio: self.timeout_ratio,
                hang: ms(self.timeout_hang_ms),
            },
            storm: self.storm_duration_ms.map(|duration| Storm {
                start: ms(self.storm_start_ms),
                duration: ms(duration),
                ratio: self.storm_ratio,
            }),
            undelivered_ratio: self.undelivered_ratio,
            callbacks: !self.no_callbacks,
            callback_delay: ms(self.callback_delay_ms),
            default_callback_url: self.default_callback_url,
            seed: self.seed,
            opted_out: self.opt_outs.into_iter().collect(),
            ..SimConfig::default()
        })
    }

    fn account(&self) -> anyhow::Result<Account> {
        let mut account = Account {
            sid: self.account_sid.clone(),
            auth_token: self.auth_token.clone(),
            rate: self.rate,
            burst: self.burst,
            unit: self.unit,
            sender_rate: self.sender_rate,
            sender_burst: self.sender_burst,
            carrier: self.carrier,
            signature_secret: self.signature_secret.clone(),
            signature_method: self.signature_method,
            ..Account::default()
        };
        if let Some(seed) = &self.telnyx_seed {
            let bytes = hex::decode(seed.trim()).context("--telnyx-seed is not hex")?;
            account.signing_seed = bytes
                .try_into()
                .map_err(|_| anyhow::anyhow!("--telnyx-seed must be 32 bytes (64 hex digits)"))?;
        }
        Ok(account)
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
    let config = Args::parse().into_config()?;
    for account in config
        .accounts
        .iter()
        .filter(|a| a.carrier == Carrier::Telnyx)
    {
        tracing::info!(
            account = %account.sid,
            public_key = %account.telnyx_public_key(),
            "Telnyx webhooks are signed; verify them with this public key"
        );
    }
    let sim = floodgate_sim::start(config)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn config(args: &[&str]) -> SimConfig {
        let args = std::iter::once("floodgate-sim").chain(args.iter().copied());
        Args::try_parse_from(args)
            .expect("flags parse")
            .into_config()
            .expect("a config")
    }

    #[test]
    fn every_fault_is_reachable_from_flags() {
        let c = config(&[
            "--carrier=vonage",
            "--account-sid=key",
            "--signature-method=sha256",
            "--latency-p50-ms=10",
            "--latency-p99-ms=50",
            "--timeout-ratio=0.1",
            "--timeout-hang-ms=5000",
            "--storm-start-ms=1000",
            "--storm-duration-ms=500",
            "--storm-ratio=0.5",
        ]);
        let account = &c.accounts[0];
        assert_eq!(account.carrier, Carrier::Vonage);
        assert_eq!(account.signature_method, VonageSignatureMethod::Sha256);
        assert_eq!(
            c.latency,
            Latency::LogNormal {
                p50: Duration::from_millis(10),
                p99: Duration::from_millis(50)
            }
        );
        assert_eq!(
            (c.timeouts.ratio, c.timeouts.hang),
            (0.1, Duration::from_secs(5))
        );
        let storm = c.storm.expect("a storm");
        assert_eq!(storm.start, Duration::from_secs(1));
        assert_eq!(
            (storm.duration, storm.ratio),
            (Duration::from_millis(500), 0.5)
        );
        assert!(c.validate().is_ok());
    }

    #[test]
    fn a_telnyx_seed_is_64_hex_digits() {
        let c = config(&[
            "--carrier=telnyx",
            &format!("--telnyx-seed={}", "01".repeat(32)),
        ]);
        assert_eq!(c.accounts[0].signing_seed, [1; 32]);
        let short = Args::try_parse_from(["floodgate-sim", "--telnyx-seed=0101"])
            .expect("flags parse")
            .into_config();
        assert!(short.is_err());
    }

    #[test]
    fn defaults_are_one_quiet_twilio_account() {
        let c = config(&[]);
        assert_eq!(c.accounts[0].carrier, Carrier::Twilio);
        assert_eq!((c.latency, c.storm), (Latency::None, None));
    }
}
