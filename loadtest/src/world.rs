//! One run's world on loopback: the carrier simulator in this process, the engine as a child
//! process pointed at it, a community with seeded members, and the engine's RSS sampler.

use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, Utc};
use floodgate::domain::PhoneNumber;
use floodgate_sim::{Account, Latency, SimConfig, SimHandle, Unit};

use crate::api::LeaderApi;
use crate::backend::Backend;
use crate::cli::Common;
use crate::engine_process::{ACCOUNT_SID, AUTH_TOKEN, Engine, EngineSpec};
use crate::progress::Bars;
use crate::rss::{RssSampler, RssSeries};

/// The rate the engine's profile declares when the simulator is unlimited (it must be positive).
const UNLIMITED_RATE: f64 = 1_000_000.0;

/// What the world needs beyond the common flags.
#[derive(Debug, Clone, Copy)]
pub struct WorldSpec {
    /// The simulator's limit in segments per second; 0 = unlimited.
    pub rate: f64,
    pub burst: u32,
    /// Members seeded: `PhoneNumber::example(0..members)`.
    pub members: u32,
}

/// Everything a scenario drives and inspects.
pub struct World {
    pub sim: SimHandle,
    /// The simulator's clock origin: a request's `at_ms` is measured from here.
    pub sim_epoch: Instant,
    /// The same origin on the wall clock, to compare with the engine's timestamps.
    pub sim_epoch_utc: DateTime<Utc>,
    pub engine: Engine,
    pub api: LeaderApi,
    /// The community's number, which members text.
    pub number: String,
    /// Where inbound webhooks go (and what they are signed for).
    pub inbound_url: String,
    pub backend: Backend,
    rss: RssSampler,
    _dir: tempfile::TempDir,
}

impl World {
    /// Starts the simulator and the engine, seeds members, and starts sampling the engine's RSS.
    pub async fn start(common: &Common, spec: WorldSpec, bars: &Bars) -> anyhow::Result<Self> {
        let backend = common.backend()?;
        let dir = tempfile::Builder::new()
            .prefix("floodgate-loadtest.")
            .tempdir()
            .context("creating a temporary directory")?;
        let sim = floodgate_sim::start(SimConfig {
            accounts: vec![Account {
                sid: ACCOUNT_SID.into(),
                auth_token: AUTH_TOKEN.into(),
                rate: spec.rate,
                burst: f64::from(spec.burst),
                unit: Unit::Segments,
                ..Account::default()
            }],
            latency: Latency::None,
            callbacks: common.callbacks,
            callback_delay: Duration::from_millis(100),
            callback_queue: 2_000_000,
            ..SimConfig::default()
        })
        .await
        .context("starting the carrier simulator")?;

        let unix = Utc::now().timestamp().unsigned_abs();
        let number = PhoneNumber::example(120_000_000 + (unix % 8_000_000) as u32)
            .as_str()
            .to_owned();
        let limited = spec.rate > 0.0;
        let engine_spec = EngineSpec {
            bin: common.engine_bin()?,
            backend: backend.clone(),
            dir: dir.path().to_owned(),
            sim_url: sim.base_url(),
            rate: if limited { spec.rate } else { UNLIMITED_RATE },
            burst: if limited { spec.burst.max(1) } else { 10_000 },
            max_in_flight: common.max_in_flight,
            config: common.engine_config.clone(),
            number: number.clone(),
        };
        bars.note(&format!(
            "engine: {} on {} ({}); simulator: {} at {}",
            engine_spec.bin.display(),
            backend.name(),
            dir.path().display(),
            sim.base_url(),
            if limited {
                format!("{}/s burst {}", spec.rate, spec.burst)
            } else {
                "no limit".into()
            }
        ));
        let engine = Engine::start(&engine_spec).await?;
        let api = LeaderApi::new(&engine.base, &engine.key)?;
        let rss = RssSampler::spawn(engine.pid(), Duration::from_millis(250));

        if spec.members > 0 {
            let seeding = bars.bar("seeding members", u64::from(spec.members));
            let phones: Vec<String> = (0..spec.members)
                .map(|n| PhoneNumber::example(n).as_str().to_owned())
                .collect();
            for chunk in phones.chunks(100_000) {
                api.import_members(chunk).await?;
                seeding.inc(chunk.len() as u64);
            }
            seeding.finish();
        }

        // Reset the simulator now: its clock restarts here, bracketed by our two readings.
        let before = Instant::now();
        let before_utc = Utc::now();
        sim.reset();
        Ok(Self {
            inbound_url: format!("{}/webhooks/sim/inbound", engine.base),
            sim,
            sim_epoch: before,
            sim_epoch_utc: before_utc,
            engine,
            api,
            number,
            backend,
            rss,
            _dir: dir,
        })
    }

    /// A simulator timestamp as an `Instant`.
    pub fn sim_instant(&self, at_ms: f64) -> Instant {
        self.sim_epoch + Duration::from_secs_f64(at_ms.max(0.0) / 1000.0)
    }

    /// A simulator timestamp on the wall clock.
    pub fn sim_utc(&self, at_ms: f64) -> DateTime<Utc> {
        self.sim_epoch_utc + chrono::Duration::microseconds((at_ms * 1000.0) as i64)
    }

    /// Stops RSS sampling, the engine (SIGTERM, then SIGKILL after 20 s) and the simulator.
    pub async fn stop(self) -> (RssSeries, bool) {
        let rss = self.rss.finish().await;
        let clean = self
            .engine
            .stop(Duration::from_secs(20))
            .await
            .unwrap_or(false);
        self.sim.shutdown().await;
        (rss, clean)
    }
}
