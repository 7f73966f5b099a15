//! The demo's world: a simulated carrier, an engine on a fresh SQLite file, a community
//! with members, all on loopback.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use floodgate_sim::{Account, Latency, SimConfig, SimHandle, Unit};
use prost::Message as _;

use super::DemoArgs;
use super::spike::SpikePlan;
use crate::app::Application;
use crate::bus::QueueName;
use crate::config::{ConfigFlags, load_with, parse_profile};
use crate::domain::{MessageBody, PhoneNumber};
use crate::events::v1;
use crate::pipeline::Ingest;
use crate::store::{CreateBroadcast, NewBroadcast, NewCommunity, SenderKind, Store};

const ACCOUNT_SID: &str = "AC00000000000000000000000000demo";
const AUTH_TOKEN: &str = "demo-auth-token";
/// The number members text, owned by the demo community.
const COMMUNITY_NUMBER: &str = "+14155550100";
/// The broadcast everyone subscribed receives.
const BROADCAST_BODY: &str =
    "Floodgate demo: the rally moved to 6pm at the park. Reply STOP to opt out.";

/// Everything the demo drives and inspects.
pub struct World {
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

impl World {
    /// Starts the simulator and the engine, and seeds a community with `args.members` members.
    pub async fn start(args: &DemoArgs) -> anyhow::Result<Self> {
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
            latency: Latency::Uniform {
                min: Duration::from_millis(1),
                max: Duration::from_millis(5),
            },
            callback_delay: Duration::from_millis(100),
            ..SimConfig::default()
        })
        .await
        .context("starting the carrier simulator")?;

        let port = free_port()?;
        let flags = ConfigFlags {
            database_url: Some(format!("sqlite://{}", db_path.display())),
            listen: Some(format!("127.0.0.1:{port}")),
            ..ConfigFlags::default()
        };
        let settings = load_with(&flags, |_| None)?;
        let sim_url = sim.base_url();
        let env = |var: &str| -> Option<String> {
            match var {
                "FLOODGATE_CARRIER_SIM__API_BASE" => Some(sim_url.clone()),
                "FLOODGATE_CARRIER_SIM__LIMITS__RATE_PER_SECOND" => Some(args.rate.to_string()),
                "FLOODGATE_CARRIER_SIM__LIMITS__BURST" => Some(args.burst.to_string()),
                "FLOODGATE_SIM_ACCOUNT_SID" => Some(ACCOUNT_SID.into()),
                "FLOODGATE_SIM_AUTH_TOKEN" => Some(AUTH_TOKEN.into()),
                _ => None,
            }
        };
        let profile = parse_profile(
            "sim",
            "(built-in) carriers/sim.toml".as_ref(),
            include_str!("../../../carriers/sim.toml"),
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

    /// Creates the broadcast and makes its fan-out durable, as `POST /v1/broadcasts` does.
    pub async fn start_broadcast(&self) -> anyhow::Result<i64> {
        let body = MessageBody::parse(BROADCAST_BODY)?;
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
            send_at_ms: chrono::Utc::now().timestamp_millis(),
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

    /// Who texts what during the spike.
    pub fn spike_plan(&self, args: &DemoArgs) -> SpikePlan {
        SpikePlan::new(
            &self.base,
            AUTH_TOKEN,
            &self.number,
            self.members,
            args.spike,
        )
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
