//! The engine as a separate child process (the release `floodgate` binary), so its RSS is
//! its own and the load generator's CPU and memory are not counted against it.
//!
//! It is provisioned with `floodgate community create` and `floodgate key create`, then
//! started with `floodgate serve`, all configured by environment as an operator would. It is
//! stopped by its PID: SIGTERM (the engine drains), then SIGKILL after a grace period; and
//! killed when dropped, so an error or Ctrl-C never leaves it running.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::process::{Child, Command};

use crate::backend::Backend;

/// The simulated carrier account the engine's `sim` profile uses.
pub const ACCOUNT_SID: &str = floodgate::sandbox::ACCOUNT_SID;
/// Signs webhooks both ways.
pub const AUTH_TOKEN: &str = floodgate::sandbox::AUTH_TOKEN;
/// Replies the community sends, distinct so the simulator's log tells them apart.
pub const WELCOME_REPLY: &str = "LT welcome: you're subscribed. Reply STOP to opt out.";
pub const HELP_REPLY: &str = "LT help: reply STOP to opt out.";
pub const STOP_REPLY: &str = "LT stop: you're unsubscribed.";

/// The `sim` carrier profile, written to the engine's private profile folder.
const SIM_PROFILE: &str = include_str!("../../carriers/sim.toml");

/// How to start the engine.
#[derive(Debug, Clone)]
pub struct EngineSpec {
    /// The `floodgate` binary.
    pub bin: PathBuf,
    pub backend: Backend,
    /// Where the SQLite file, the profile folder and the log go.
    pub dir: PathBuf,
    /// The simulator's API base.
    pub sim_url: String,
    /// The limit the engine's profile declares (the simulator's, or a very high one when the
    /// simulator is unlimited: the profile requires a positive rate).
    pub rate: f64,
    pub burst: u32,
    pub max_in_flight: u32,
    /// A TOML file with a `[pipeline]` table, passed as `FLOODGATE_CONFIG`.
    pub config: Option<PathBuf>,
    /// The community's number (distinct per run, so a reused PostgreSQL database works).
    pub number: String,
}

/// A running engine child.
pub struct Engine {
    child: Child,
    pid: u32,
    /// `http://127.0.0.1:port`, also the public URL webhooks are signed for.
    pub base: String,
    /// A leader API key for the community.
    pub key: String,
    pub log: PathBuf,
}

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

impl EngineSpec {
    /// The environment every `floodgate` invocation gets.
    fn env(&self, listen: &str) -> anyhow::Result<Vec<(String, String)>> {
        let carriers = self.dir.join("carriers");
        std::fs::create_dir_all(&carriers)?;
        std::fs::write(carriers.join("sim.toml"), SIM_PROFILE)?;
        let database_url = match &self.backend {
            Backend::Embedded => format!("sqlite://{}", self.dir.join("floodgate.db").display()),
            Backend::PostgresRabbitmq { database_url, .. } => database_url.clone(),
        };
        let mut env = vec![
            ("DATABASE_URL", database_url),
            ("FLOODGATE_LISTEN", listen.to_owned()),
            ("FLOODGATE_PUBLIC_URL", format!("http://{listen}")),
            ("FLOODGATE_CARRIERS_DIR", carriers.display().to_string()),
            ("FLOODGATE_CARRIER_SIM__API_BASE", self.sim_url.clone()),
            (
                "FLOODGATE_CARRIER_SIM__LIMITS__RATE_PER_SECOND",
                format!("{:.1}", self.rate),
            ),
            (
                "FLOODGATE_CARRIER_SIM__LIMITS__BURST",
                self.burst.to_string(),
            ),
            (
                "FLOODGATE_CARRIER_SIM__LIMITS__MAX_IN_FLIGHT",
                self.max_in_flight.to_string(),
            ),
            ("FLOODGATE_SIM_ACCOUNT_SID", ACCOUNT_SID.to_owned()),
            ("FLOODGATE_SIM_AUTH_TOKEN", AUTH_TOKEN.to_owned()),
            (
                "RUST_LOG",
                std::env::var("LOADTEST_ENGINE_LOG").unwrap_or_else(|_| "warn".into()),
            ),
        ];
        if let Backend::PostgresRabbitmq { amqp_url, .. } = &self.backend {
            env.push(("AMQP_URL", amqp_url.clone()));
        }
        if let Some(config) = &self.config {
            env.push(("FLOODGATE_CONFIG", config.display().to_string()));
        }
        Ok(env.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }

    fn command(&self, env: &[(String, String)]) -> Command {
        let mut cmd = Command::new(&self.bin);
        // Only what we set: a stray FLOODGATE_* or DATABASE_URL in the caller's shell must not leak in.
        cmd.env_remove("AMQP_URL").env_remove("FLOODGATE_CONFIG");
        cmd.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        cmd.stdin(Stdio::null()).kill_on_drop(true);
        cmd
    }
}

/// Runs a provisioning command to completion and returns its trimmed stdout.
async fn run_to_end(mut cmd: Command, what: &str) -> anyhow::Result<String> {
    let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .with_context(|| format!("`floodgate {what}` took over 60 s"))?
        .with_context(|| format!("running `floodgate {what}`"))?;
    if !out.status.success() {
        bail!(
            "`floodgate {what}` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

impl Engine {
    /// Provisions a community and a key, starts `floodgate serve` and waits until `/readyz`.
    pub async fn start(spec: &EngineSpec) -> anyhow::Result<Self> {
        if !spec.bin.is_file() {
            bail!(
                "engine binary {} not found: build it with `cargo build --release -p floodgate` \
                 or pass --engine-bin",
                spec.bin.display()
            );
        }
        let listen = format!("127.0.0.1:{}", free_port()?);
        let env = spec.env(&listen)?;

        let mut create = spec.command(&env);
        create.args([
            "community",
            "create",
            "--name",
            "Load test",
            "--keyword",
            "JOIN",
        ]);
        create.args(["--number", &spec.number, "--carrier", "sim"]);
        create.args(["--welcome", WELCOME_REPLY, "--help-reply", HELP_REPLY]);
        create.args(["--stop-reply", STOP_REPLY]);
        let community_id: i64 = run_to_end(create, "community create")
            .await?
            .parse()
            .context("`floodgate community create` did not print an id")?;
        let mut key = spec.command(&env);
        key.args(["key", "create", "--community", &community_id.to_string()]);
        let key = run_to_end(key, "key create").await?;

        let log = spec.dir.join("engine.log");
        let file = std::fs::File::create(&log).context("creating the engine log")?;
        let mut serve = spec.command(&env);
        serve.arg("serve").stdout(file.try_clone()?).stderr(file);
        let child = serve.spawn().context("starting `floodgate serve`")?;
        let pid = child.id().context("the engine exited at once")?;
        let mut engine = Self {
            child,
            pid,
            base: format!("http://{listen}"),
            key,
            log,
        };
        engine.wait_ready().await?;
        Ok(engine)
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "the engine exited during start ({status}); its log: {}\n{}",
                    self.log.display(),
                    tail(&self.log)
                );
            }
            let ready = client
                .get(format!("{}/readyz", self.base))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!(
            "the engine was not ready within 60 s; its log: {}",
            self.log.display()
        )
    }

    /// The child's PID, for RSS sampling.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// SIGTERM, wait up to `grace` for the drain, then SIGKILL. Returns whether it exited cleanly.
    pub async fn stop(mut self, grace: Duration) -> anyhow::Result<bool> {
        if self.child.try_wait()?.is_some() {
            return Ok(false);
        }
        let pid = libc::pid_t::try_from(self.pid).context("pid out of range")?;
        // SAFETY: kill(2) with our own child's PID; no memory is involved.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        match tokio::time::timeout(grace, self.child.wait()).await {
            Ok(status) => Ok(status?.success()),
            Err(_) => {
                self.child.kill().await?;
                Ok(false)
            }
        }
    }
}

/// The last lines of a log, for error messages.
pub fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}
