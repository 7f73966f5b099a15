//! The real `floodgate serve` binary as a child process that a test can kill -9 and restart.
//!
//! Its logs go to a file (not the test's output) and are printed only when the test fails.
//! The child is killed by its PID (`Child::kill`, SIGKILL) on drop, so no engine outlives its test.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The simulated account the engine's `sim` profile sends as.
pub const ACCOUNT_SID: &str = "AC0000000000000000000000000chaos";
/// Its auth token: signs sends, status callbacks and inbound webhooks.
pub const AUTH_TOKEN: &str = "chaos-auth-token";

/// The simulator account the engine's `sim` profile sends as, at `rate` per second with a
/// burst of 10, counting segments as Twilio does.
pub fn sim_account(rate: f64) -> floodgate_sim::Account {
    floodgate_sim::Account {
        sid: ACCOUNT_SID.into(),
        auth_token: AUTH_TOKEN.into(),
        rate,
        burst: 10.0,
        unit: floodgate_sim::Unit::Segments,
        ..floodgate_sim::Account::default()
    }
}

/// How to start the engine; the same spec is used for every restart (same store, bus, port).
#[derive(Debug, Clone)]
pub struct EngineSpec {
    pub database_url: String,
    /// `None`: embedded queues in the store.
    pub amqp_url: Option<String>,
    /// The carrier simulator's base URL.
    pub sim_url: String,
    /// The `sim` profile's limit (the simulator enforces the same one).
    pub rate: f64,
    pub burst: u32,
    /// A TOML file with a `[pipeline]` table.
    pub config_file: PathBuf,
}

/// A running (or killed) engine process.
pub struct Engine {
    spec: EngineSpec,
    port: u16,
    child: Option<Child>,
    runs: u32,
    log: PathBuf,
    _log_dir: tempfile::TempDir,
}

/// A loopback port nobody listens on right now; kept for every run so the simulator's
/// status callbacks (sent to `FLOODGATE_PUBLIC_URL`) reach whichever run is alive.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// Writes a `[pipeline]` config file with short leases and retries into `dir`.
pub fn quick_pipeline_file(dir: &Path) -> PathBuf {
    let path = dir.join("floodgate.toml");
    std::fs::write(
        &path,
        "[pipeline]\n\
         # Recovery after a kill is driven by leases on PostgreSQL/RabbitMQ: keep them short.\n\
         claim_lease_ms = 3000\n\
         embedded_lease_ms = 3000\n\
         carrier_lease_ms = 2000\n\
         retry_base_ms = 100\n\
         retry_max_ms = 2000\n",
    )
    .expect("write the engine's config file");
    path
}

impl Engine {
    /// Spawns the engine and waits until `/readyz` says ready.
    pub async fn start(spec: EngineSpec) -> Self {
        let dir = tempfile::tempdir().expect("temp dir for engine logs");
        let mut engine = Self {
            spec,
            port: free_port(),
            child: None,
            runs: 0,
            log: dir.path().join("engine.log"),
            _log_dir: dir,
        };
        engine.spawn();
        engine.wait_ready(Duration::from_secs(60)).await;
        engine
    }

    /// The engine's base URL.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The process id of the current run.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    fn spawn(&mut self) {
        assert!(self.child.is_none(), "the engine is already running");
        self.runs += 1;
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("open the engine log");
        writeln!(log, "===== floodgate serve, run {} =====", self.runs).expect("write log");
        let stderr = log.try_clone().expect("clone the log handle");
        let s = &self.spec;
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_floodgate"));
        // A clean environment: nothing from the developer's shell (DATABASE_URL, AMQP_URL, ...)
        // leaks into the child. Profiles load from ./carriers, so run from the repository root.
        cmd.arg("serve")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_clear()
            .env("RUST_LOG", "info,sqlx=warn,lapin=warn,hyper=warn")
            .env("DATABASE_URL", &s.database_url)
            .env("FLOODGATE_LISTEN", format!("127.0.0.1:{}", self.port))
            .env("FLOODGATE_CONFIG", &s.config_file)
            .env("FLOODGATE_CARRIER_SIM__API_BASE", &s.sim_url)
            .env(
                "FLOODGATE_CARRIER_SIM__LIMITS__RATE_PER_SECOND",
                s.rate.to_string(),
            )
            .env("FLOODGATE_CARRIER_SIM__LIMITS__BURST", s.burst.to_string())
            .env("FLOODGATE_SIM_ACCOUNT_SID", ACCOUNT_SID)
            .env("FLOODGATE_SIM_AUTH_TOKEN", AUTH_TOKEN)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(stderr));
        if let Some(amqp) = &s.amqp_url {
            cmd.env("AMQP_URL", amqp);
        }
        self.child = Some(cmd.spawn().expect("spawn floodgate serve"));
    }

    /// Polls `/readyz` until it answers 2xx; panics (with the log) if the child exits or time runs out.
    pub async fn wait_ready(&mut self, timeout: Duration) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!(
                        "floodgate serve (run {}) exited with {status} before it was ready",
                        self.runs
                    );
                }
            }
            let ready = client
                .get(format!("{}/readyz", self.base()))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "floodgate serve (run {}) not ready within {timeout:?}",
                self.runs
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGKILL to the child's PID (no drain, no flush: a crash), then reaps it.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            // `Child::kill` is `kill(pid, SIGKILL)` on Unix.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts a new run on the same store, bus and port, and waits until it is ready.
    pub async fn restart(&mut self) {
        self.spawn();
        self.wait_ready(Duration::from_secs(60)).await;
    }

    /// The last `lines` lines of every run's log.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.kill9();
        if std::thread::panicking() {
            eprintln!(
                "---- floodgate serve log ({} runs, last 150 lines) ----\n{}\n----",
                self.runs,
                self.log_tail(150)
            );
        }
    }
}
