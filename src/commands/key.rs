//! `floodgate key create|revoke`: a leader's API keys; the key itself is shown once and never stored.

use anyhow::bail;

use crate::api::keys;
use crate::config::Settings;

use super::open_store;

/// Creates a key for `community_id` and returns it (the caller prints it once).
pub async fn create_key(settings: &Settings, community_id: i64) -> anyhow::Result<String> {
    let store = open_store(settings).await?;
    if store.community(community_id).await?.is_none() {
        bail!("--community {community_id}: no such community");
    }
    let (key, _) = keys::create(&store, community_id).await?;
    store.close().await;
    Ok(key)
}

/// Revokes the key with `prefix`; its requests are refused from now on.
pub async fn revoke_key(settings: &Settings, prefix: &str) -> anyhow::Result<()> {
    let store = open_store(settings).await?;
    let revoked = keys::revoke(&store, prefix).await?;
    store.close().await;
    if !revoked {
        bail!("--prefix {prefix}: no such key");
    }
    Ok(())
}
