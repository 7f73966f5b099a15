//! `floodgate migrate`: apply the store's migrations and exit.

use anyhow::Context;

use crate::config::{Settings, redact_url};
use crate::store::Store;

/// Applies pending migrations to the configured store.
pub async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let url = settings.database_url.as_str();
    let store = Store::connect(url)
        .await
        .with_context(|| format!("connecting to {}", redact_url(url)))?;
    store
        .migrate()
        .await
        .with_context(|| format!("migrating {}", redact_url(url)))?;
    println!("migrated {} ({:?})", redact_url(url), store.backend());
    store.close().await;
    Ok(())
}
