//! Command-line arguments: one subcommand per scenario, and the flags they share.

use std::path::PathBuf;

use anyhow::Context;
use clap::{ArgAction, Args, Parser, Subcommand};
use serde::Serialize;

use crate::backend::{Backend, BackendChoice};

/// Floodgate's load scenarios, against the carrier simulator on loopback.
#[derive(Debug, Parser)]
#[command(name = "loadtest", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub scenario: Scenario,
}

/// The scenarios.
#[derive(Debug, Subcommand)]
pub enum Scenario {
    /// Signed inbound webhooks (JOIN, STOP, HELP, chatter) as fast as possible or at a rate;
    /// then checks every accepted one reached its effect.
    Spike(SpikeArgs),
    /// One broadcast to M members, the simulator unlimited or at a limit.
    Broadcast(BroadcastArgs),
    /// JOIN/STOP texts during a broadcast that saturates the simulator's limit.
    Mixed(MixedArgs),
}

/// Flags every scenario takes.
#[derive(Debug, Clone, Args, Serialize)]
pub struct Common {
    /// embedded (SQLite in a temp dir, in-process queues) or postgres-rabbitmq (DATABASE_URL and
    /// AMQP_URL). Default: postgres-rabbitmq when both URLs are set, else embedded.
    #[arg(long, value_enum, env = "LOADTEST_BACKEND")]
    pub backend: Option<BackendChoice>,
    /// PostgreSQL URL for the postgres-rabbitmq backend.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    #[serde(skip)]
    pub database_url: Option<String>,
    /// RabbitMQ URL for the postgres-rabbitmq backend.
    #[arg(long, env = "AMQP_URL", hide_env_values = true)]
    #[serde(skip)]
    pub amqp_url: Option<String>,
    /// Hard deadline for the whole run (start, load, drain); it stops by itself then.
    #[arg(long, default_value_t = 110)]
    pub deadline_secs: u64,
    /// Also write the report as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// The `floodgate` binary (default: next to this one, i.e. target/release/floodgate).
    #[arg(long)]
    pub engine_bin: Option<PathBuf>,
    /// A TOML file with a `[pipeline]` table for the engine (FLOODGATE_CONFIG).
    #[arg(long)]
    pub engine_config: Option<PathBuf>,
    /// The engine profile's concurrent carrier requests (limits.max_in_flight).
    #[arg(long, default_value_t = 64)]
    pub max_in_flight: u32,
    /// Whether the simulator posts status callbacks (sent, delivered) back to the engine.
    #[arg(long, default_value_t = true, action = ArgAction::Set)]
    pub callbacks: bool,
    /// No progress bars.
    #[arg(long)]
    pub quiet: bool,
}

impl Common {
    /// The backend from `--backend` and the URLs.
    pub fn backend(&self) -> anyhow::Result<Backend> {
        Backend::resolve(
            self.backend,
            self.database_url.clone(),
            self.amqp_url.clone(),
        )
    }

    /// `--engine-bin`, or `floodgate` next to the running executable.
    pub fn engine_bin(&self) -> anyhow::Result<PathBuf> {
        if let Some(bin) = &self.engine_bin {
            return Ok(bin.clone());
        }
        let exe = std::env::current_exe().context("locating the loadtest executable")?;
        Ok(exe.with_file_name("floodgate"))
    }
}

/// `loadtest spike`.
#[derive(Debug, Clone, Args, Serialize)]
pub struct SpikeArgs {
    #[command(flatten)]
    pub common: Common,
    /// Webhooks to post.
    #[arg(long, default_value_t = 5_000)]
    pub count: u32,
    /// Target webhooks per second; as fast as possible when absent.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Requests in flight.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Members seeded before the spike (at least as many as the STOPs need).
    #[arg(long, default_value_t = 0)]
    pub members: u32,
}

/// `loadtest broadcast`.
#[derive(Debug, Clone, Args, Serialize)]
pub struct BroadcastArgs {
    #[command(flatten)]
    pub common: Common,
    /// Members, all of whom receive the broadcast.
    #[arg(long, default_value_t = 20_000)]
    pub members: u32,
    /// The simulator's limit in segments per second; 0 = unlimited.
    #[arg(long, default_value_t = 0.0)]
    pub limit: f64,
    /// The simulator's burst (with --limit).
    #[arg(long, default_value_t = 50)]
    pub burst: u32,
    /// After the last send, wait at most this long for the delivered receipts to be applied.
    #[arg(long, default_value_t = 20)]
    pub receipts_wait_secs: u64,
}

/// `loadtest mixed`.
#[derive(Debug, Clone, Args, Serialize)]
pub struct MixedArgs {
    #[command(flatten)]
    pub common: Common,
    /// Members receiving the broadcast.
    #[arg(long, default_value_t = 30_000)]
    pub members: u32,
    /// The simulator's limit (segments per second); the broadcast saturates it.
    #[arg(long, default_value_t = 1_000.0)]
    pub limit: f64,
    /// The simulator's burst.
    #[arg(long, default_value_t = 50)]
    pub burst: u32,
    /// JOIN/STOP webhooks during the broadcast.
    #[arg(long, default_value_t = 1_000)]
    pub spike: u32,
    /// Their rate per second.
    #[arg(long, default_value_t = 100.0)]
    pub spike_rate: f64,
    /// Seconds after the broadcast starts before the first text.
    #[arg(long, default_value_t = 2.0)]
    pub spike_delay_secs: f64,
}
