//! A complete Floodgate on loopback: the carrier simulator, an engine on its own store
//! (a fresh SQLite file unless told otherwise) and bus, and a community with members.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use floodgate_sim::{Account, Latency, SimConfig, SimHandle, Unit};
use prost::Message as _;

use crate::app::Application;
use crate::bus::QueueName;
use crate::config::{ConfigFlags, Env, PipelineConfig, load_with, parse_profile};
use crate::domain::{MessageBody, PhoneNumber};
use crate::events::v1;
use crate::pipeline::Ingest;
use crate::store::{CreateBroadcast, NewBroadcast, NewCommunity, SenderKind, Store};

/// The simulated account's SID.
pub const ACCOUNT_SID: &str = "AC00000000000000000000000000demo";
/// The simulated account's auth token: it signs webhooks both ways.
pub const AUTH_TOKEN: &str = "demo-auth-token";
/// The number members text, owned by the sandbox community.
pub const COMMUNITY_NUMBER: &str = "+14155550100";

/// How to build a sandbox.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// `None`: a fresh SQLite file in a temporary directory.
    pub database_url: Option<String>,
    /// `None`: the embedded bus.
    pub amqp_url: Option<String>,
    /// Members seeded (numbers from `PhoneNumber::example`).
    pub members: u32,
    /// The simulated carrier's limit, which the engine's profile also gets.
    pub rate: f64,
    /// The simulated carrier's burst, which the engine's profile also gets.
    pub burst: u32,
    /// The simulator's answer latency.
    pub latency: Latency,
    /// Fraction of sends the simulator answers 500.
    pub failure_ratio: f64,
    /// Delay before each status callback.
    pub callback_delay: Duration,
    /// The engine's pipeline knobs.
    pub pipeline: PipelineConfig,
    /// Keep the SQLite file at this path.
    pub keep_db: Option<PathBuf>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            database_url: None,
            amqp_url: None,
            members: 1000,
            rate: 500.0,
            burst: 10,
            latency: Latency::Uniform {
                min: Duration::from_millis(1),
                max: Duration::from_millis(5),
            },
            failure_ratio: 0.0,
            callback_delay: Duration::from_millis(100),
            pipeline: PipelineConfig::default(),
            keep_db: None,
        }
    }
}

/// Everything a demo, test or load test drives and inspects.
pub struct Sandbox {
    pub base: String,
    pub db_path: PathBuf,
    pub sim: SimHandle,
    /// When the simulator's clock started (request times are relative to it).
    pub sim_epoch: Instant,
    pub store: Store,
    pub ingest: Ingest,
    pub community_id: i64,
    pub number: PhoneNumber,
    pub members: u32,
    pub rate: f64,
    pub burst: u32,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    _dir: Option<tempfile::TempDir>,
}

fn free_port() -> anyhow::Result<u16> {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").context("finding a free loopback port")?;
    Ok(listener.local_addr()?.port())
}

impl Sandbox {
    /// Starts the simulator and the engine, and seeds a community with `config.members` members.
    pub async fn start(args: SandboxConfig) -> anyhow::Result<Self> {
        let (dir, db_path) = match &args.keep_db {
            Some(path) => (None, path.clone()),
            None => {
                let dir = tempfile::tempdir().context("creating a temporary directory")?;
                let path = dir.path().join("floodgate-demo.db");
                (Some(dir), path)
            }
        };
        let sim_epoch = Instant::now();
        let sim = floodgate_sim::start(SimConfig {
            listen: "127.0.0.1:0".parse()?,
            accounts: vec![Account {
                sid: ACCOUNT_SID.into(),
                auth_token: AUTH_TOKEN.into(),
                rate: args.rate,
                burst: f64::from(args.burst),
                unit: Unit::Segments,
                ..Account::default()
            }],
            latency: args.latency,
            failure_ratio: args.failure_ratio,
            callback_delay: args.callback_delay,
            callback_queue: 1_000_000,
            ..SimConfig::default()
        })
        .await
        .context("starting the carrier simulator")?;

        let port = free_port()?;
        let flags = ConfigFlags {
            database_url: Some(
                args.database_url
                    .clone()
                    .unwrap_or_else(|| format!("sqlite://{}", db_path.display())),
            ),
            amqp_url: args.amqp_url.clone(),
            listen: Some(format!("127.0.0.1:{port}")),
            ..ConfigFlags::default()
        };
        let mut settings = load_with(&flags, |_| None)?;
        settings.pipeline = args.pipeline.clone();
        let sim_url = sim.base_url();
        let env = Env::from_pairs([
            ("FLOODGATE_CARRIER_SIM__API_BASE", sim_url),
            (
                "FLOODGATE_CARRIER_SIM__LIMITS__RATE_PER_SECOND",
                args.rate.to_string(),
            ),
            (
                "FLOODGATE_CARRIER_SIM__LIMITS__BURST",
                args.burst.to_string(),
            ),
            ("FLOODGATE_SIM_ACCOUNT_SID", ACCOUNT_SID.into()),
            ("FLOODGATE_SIM_AUTH_TOKEN", AUTH_TOKEN.into()),
        ]);
        let profile = parse_profile(
            "sim",
            "(built-in) carriers/sim.toml".as_ref(),
            include_str!("../../carriers/sim.toml"),
            &env,
        )?;
        let app = Application::build(settings, vec![profile]).await?;
        let base = format!("http://{}", app.local_addr());
        let store = app.state().store.clone();
        let ingest = app.state().ingest.clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async move {
            let _ = stopped.await;
        }));
        wait_ready(&base).await?;

        let number = PhoneNumber::parse(COMMUNITY_NUMBER)?;
        let community = store
            .create_community(&NewCommunity::new("Demo community"))
            .await?;
        store
            .add_sender_number(community.id, "sim", &number, SenderKind::LongCode, None)
            .await?;
        let members: Vec<PhoneNumber> = (0..args.members).map(PhoneNumber::example).collect();
        for chunk in members.chunks(10_000) {
            store
                .import_members(community.id, chunk, chrono::Utc::now())
                .await?;
        }
        Ok(Self {
            base,
            db_path,
            sim,
            sim_epoch,
            store,
            ingest,
            community_id: community.id,
            number,
            members: args.members,
            rate: args.rate,
            burst: args.burst,
            stop,
            server,
            _dir: dir,
        })
    }

    /// Creates a broadcast for now and makes its fan-out durable, as `POST /v1/broadcasts` does.
    pub async fn start_broadcast(&self, text: &str) -> anyhow::Result<i64> {
        self.start_broadcast_at(text, chrono::Utc::now().timestamp_millis())
            .await
    }

    /// Creates a broadcast that must not start before `send_at_ms`.
    pub async fn start_broadcast_at(&self, text: &str, send_at_ms: i64) -> anyhow::Result<i64> {
        let body = MessageBody::parse(text)?;
        let recipients = self
            .store
            .count_members(
                self.community_id,
                Some(crate::domain::MemberStatus::Subscribed),
            )
            .await?;
        let new = NewBroadcast {
            community_id: self.community_id,
            body: &body,
            idempotency_key: None,
            request_hash: None,
            send_at_ms,
            recipients,
        };
        let broadcast = match self.store.create_broadcast(&new).await? {
            CreateBroadcast::Created(b) | CreateBroadcast::Existing(b) => b,
        };
        let work = v1::FanOutBroadcast {
            broadcast_id: broadcast.id,
        };
        self.ingest
            .accept(&QueueName::fanout(), Bytes::from(work.encode_to_vec()))
            .await?;
        Ok(broadcast.id)
    }

    /// Posts a member's text to the engine, signed as Twilio signs; returns the HTTP status.
    pub async fn text(
        &self,
        from: &PhoneNumber,
        body: &str,
        message_sid: &str,
    ) -> anyhow::Result<u16> {
        let hook = floodgate_sim::inbound::signed_twilio_inbound(
            &format!("{}/webhooks/sim/inbound", self.base),
            AUTH_TOKEN,
            message_sid,
            from.as_str(),
            self.number.as_str(),
            body,
        );
        let response = hook.request(&reqwest::Client::new()).send().await?;
        Ok(response.status().as_u16())
    }

    /// Waits (bounded) until the broadcast is fanned out and none of its messages waits to be sent.
    pub async fn wait_until_sent(
        &self,
        broadcast: i64,
        timeout: Duration,
    ) -> anyhow::Result<crate::store::StatusCounts> {
        let deadline = Instant::now() + timeout;
        loop {
            let counts = self.store.message_counts(broadcast).await?;
            let b = self.store.broadcast(self.community_id, broadcast).await?;
            let fanned_out =
                b.is_some_and(|b| b.status.rank() >= crate::store::BroadcastStatus::Sending.rank());
            if fanned_out && counts.queued + counts.sending == 0 {
                return Ok(counts);
            }
            if Instant::now() > deadline {
                anyhow::bail!("broadcast {broadcast} not sent within {timeout:?}: {counts:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Stops the engine (draining the pipeline) and the simulator.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.server.await;
        self.sim.shutdown().await;
    }
}

async fn wait_ready(base: &str) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await {
            if r.status().is_success() {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("the engine at {base} did not become ready within 10 s")
}
