//! `floodgate serve`: the HTTP edge (and, with the pipeline, the workers) until SIGTERM.

use anyhow::Context;

use crate::app::Application;
use crate::config::{Env, Settings, load_profiles};
use crate::http::shutdown_signal;

/// Runs the server until SIGINT/SIGTERM, then drains.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    let carriers = load_profiles(&settings.carriers_dir, &Env::process())?;
    for profile in &carriers {
        tracing::info!(carrier = %profile.name, adapter = %profile.adapter, api = %profile.api_base, rate = profile.limits.rate_per_second, "carrier profile loaded");
    }
    let app = Application::build(settings, carriers)
        .await
        .context("starting floodgate")?;
    tracing::info!(addr = %app.local_addr(), backend = ?app.state().store.backend(), "floodgate listening");
    app.run_until(shutdown_signal())
        .await
        .context("serving HTTP")?;
    tracing::info!("stopped cleanly");
    Ok(())
}
