//! `floodgate demo`: the whole engine on the embedded default against the carrier
//! simulator, with a broadcast and an inbound spike at once, ending in a summary that
//! checks the promises: nothing lost, nothing sent twice, no limit exceeded, nobody
//! texted after their STOP.

mod spike;
mod summary;
mod watch;

use std::time::{Duration, Instant};

use anyhow::Context;

pub use summary::Summary;

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

/// Runs the demo and prints its summary; fails if a promise was broken.
pub async fn demo(args: DemoArgs) -> anyhow::Result<()> {
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
