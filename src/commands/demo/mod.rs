//! `floodgate demo`: the whole engine on the embedded default against the carrier
//! simulator, with a broadcast and an inbound spike at once, ending in a summary that
//! checks the promises: nothing lost, nothing sent twice, no limit exceeded, nobody
//! texted after their STOP.

mod spike;
mod summary;
mod watch;

use std::time::{Duration, Instant};

use anyhow::{Context, bail};

pub use summary::Summary;

use crate::config::{ConfigFlags, check_burst, check_rate};
use crate::sandbox::{AUTH_TOKEN, Sandbox, SandboxConfig};

/// The broadcast everyone subscribed receives.
pub(crate) const BROADCAST_BODY: &str =
    "Floodgate demo: the rally moved to 6pm at the park. Reply STOP to opt out.";

/// What the demo runs.
#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// Members seeded before the broadcast.
    #[arg(long, default_value_t = 10_000)]
    pub members: u32,
    /// The simulated carrier's rate limit (segments per second), which Floodgate must respect.
    #[arg(long, default_value_t = 500.0)]
    pub rate: f64,
    /// The simulated carrier's burst.
    #[arg(long, default_value_t = 10)]
    pub burst: u32,
    /// Inbound webhooks in the spike (JOIN, STOP, HELP and chatter).
    #[arg(long, default_value_t = 2_000)]
    pub spike: u32,
    /// Give up waiting for the pipeline to finish after this many seconds.
    #[arg(long, default_value_t = 600)]
    pub timeout_secs: u64,
    /// Keep the demo database here instead of a temporary directory.
    #[arg(long)]
    pub keep_db: Option<std::path::PathBuf>,
    /// No progress bars (for logs and CI).
    #[arg(long)]
    pub quiet: bool,
}

impl DemoArgs {
    /// Checks the simulated carrier's limits, naming the flag (not the profile it goes into).
    fn check(&self) -> anyhow::Result<()> {
        check_rate(self.rate)
            .map_err(|problem| anyhow::anyhow!("--rate {:?}: {problem}", self.rate))?;
        check_burst(self.burst)
            .map_err(|problem| anyhow::anyhow!("--burst {}: {problem}", self.burst))?;
        Ok(())
    }
}

/// Refuses the global settings flags `demo` would ignore: it runs a world of its own (a
/// temporary SQLite database, in-process queues, a free loopback port, the simulator's
/// profile), so a `--database-url` given to it must not look honoured. Only `--log-format`
/// applies. The same settings from the environment or a file are ignored, as documented.
pub fn refuse_ignored_flags(flags: &ConfigFlags) -> anyhow::Result<()> {
    let given = [
        ("--database-url", flags.database_url.is_some()),
        ("--amqp-url", flags.amqp_url.is_some()),
        ("--listen", flags.listen.is_some()),
        ("--public-url", flags.public_url.is_some()),
        ("--carriers-dir", flags.carriers_dir.is_some()),
        ("--config", flags.config.is_some()),
    ];
    if let Some((flag, _)) = given.iter().find(|(_, set)| *set) {
        bail!(
            "{flag}: demo does not use it; it runs on a temporary SQLite database with in-process \
             queues, its own loopback port and the carrier simulator (--keep-db PATH keeps the \
             database); use `floodgate serve` for a configured engine"
        );
    }
    Ok(())
}

/// Runs the demo and prints its summary; fails if a promise was broken.
pub async fn demo(args: DemoArgs) -> anyhow::Result<()> {
    args.check()?;
    let started = Instant::now();
    let config = SandboxConfig {
        members: args.members,
        rate: args.rate,
        burst: args.burst,
        keep_db: args.keep_db.clone(),
        ..SandboxConfig::default()
    };
    let world = Sandbox::start(config)
        .await
        .context("starting the demo world")?;
    let bars = watch::Bars::new(args.quiet, u64::from(args.members), u64::from(args.spike));
    bars.note(&format!(
        "engine on {} (SQLite at {}), simulated carrier on {} at {}/s burst {}",
        world.base,
        world.db_path.display(),
        world.sim.base_url(),
        args.rate,
        args.burst
    ));

    let broadcast = world
        .start_broadcast(BROADCAST_BODY)
        .await
        .context("creating the broadcast")?;
    let spike = tokio::spawn(spike::run(
        spike::SpikePlan::new(
            &world.base,
            AUTH_TOKEN,
            &world.number,
            world.members,
            args.spike,
        ),
        bars.spike.clone(),
    ));
    let deadline = started + Duration::from_secs(args.timeout_secs);
    watch::until_broadcast_done(&world, broadcast, &bars, deadline).await?;
    let spike = spike.await.context("spike task")??;
    watch::until_quiet(&world, broadcast, &spike, &bars, deadline).await?;
    bars.finish();

    let summary = summary::collect(&world, broadcast, &spike, &args, started.elapsed()).await?;
    println!("{summary}");
    world.stop().await;
    if summary.promises_held() {
        Ok(())
    } else {
        anyhow::bail!("a promise was broken; see the summary above")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> DemoArgs {
        DemoArgs {
            members: 10,
            rate: 500.0,
            burst: 10,
            spike: 0,
            timeout_secs: 10,
            keep_db: None,
            quiet: true,
        }
    }

    #[test]
    fn a_rate_or_burst_of_zero_names_the_flag() {
        let rate = DemoArgs {
            rate: 0.0,
            ..args()
        }
        .check()
        .unwrap_err()
        .to_string();
        assert!(rate.starts_with("--rate 0.0:"), "{rate}");
        let burst = DemoArgs { burst: 0, ..args() }
            .check()
            .unwrap_err()
            .to_string();
        assert!(burst.starts_with("--burst 0:"), "{burst}");
        assert!(!format!("{rate}{burst}").contains("sim.toml"));
        assert!(args().check().is_ok());
    }

    #[test]
    fn settings_flags_the_demo_ignores_are_refused() {
        let flags = ConfigFlags {
            database_url: Some("postgres://u@h/db".into()),
            ..ConfigFlags::default()
        };
        let message = refuse_ignored_flags(&flags).unwrap_err().to_string();
        assert!(
            message.starts_with("--database-url: demo does not use it"),
            "{message}"
        );
        let flags = ConfigFlags {
            amqp_url: Some("amqp://h".into()),
            ..ConfigFlags::default()
        };
        assert!(
            refuse_ignored_flags(&flags)
                .unwrap_err()
                .to_string()
                .starts_with("--amqp-url")
        );
        let flags = ConfigFlags {
            log_format: Some("json".into()),
            ..ConfigFlags::default()
        };
        assert!(
            refuse_ignored_flags(&flags).is_ok(),
            "--log-format applies to the demo"
        );
    }
}
