//! What the `floodgate` subcommands do; `main.rs` only parses arguments and dispatches here.

mod community;
mod demo;
mod key;
mod limits;
mod migrate;
mod serve;

use anyhow::Context;

pub use community::{CreateCommunity, create_community};
pub use demo::{DemoArgs, Summary, demo, refuse_ignored_flags as refuse_demo_flags};
pub use key::{create_key, revoke_key};
pub use limits::{
    LimitsChanged, LimitsView, RateSource, ResetLimits, SenderView, SetLimits, reset_limits,
    set_limits, show_limits,
};
pub use migrate::migrate;
pub use serve::serve;

use crate::config::{Settings, redact_url};
use crate::store::Store;

/// Connects to the configured store and migrates it, so an admin command works on a fresh database.
async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    let url = settings.database_url.as_str();
    let store = Store::connect(url)
        .await
        .with_context(|| format!("connecting to {}", redact_url(url)))?;
    store
        .migrate()
        .await
        .with_context(|| format!("migrating {}", redact_url(url)))?;
    Ok(store)
}
