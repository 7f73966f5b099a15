//! Building a sandbox on each backend.

use std::time::Duration;

use floodgate::config::PipelineConfig;
use floodgate::sandbox::{Sandbox, SandboxConfig};

use crate::support::{fresh_postgres_url, fresh_vhost};

/// Which store and bus a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setup {
    SqliteEmbedded,
    PostgresEmbedded,
    PostgresRabbit,
}

/// Pipeline knobs that make tests quick: short leases and retries.
pub fn quick_pipeline() -> PipelineConfig {
    PipelineConfig {
        retry_base_ms: 100,
        retry_max_ms: 2000,
        claim_lease_ms: 3000,
        embedded_lease_ms: 3000,
        ..PipelineConfig::default()
    }
}

/// A sandbox on `setup` with `config` (its store and bus URLs are filled in here).
pub async fn sandbox(setup: Setup, mut config: SandboxConfig) -> Sandbox {
    crate::support::init_test_logs();
    match setup {
        Setup::SqliteEmbedded => {}
        Setup::PostgresEmbedded => config.database_url = Some(fresh_postgres_url().await),
        Setup::PostgresRabbit => {
            config.database_url = Some(fresh_postgres_url().await);
            config.amqp_url = Some(fresh_vhost().await);
        }
    }
    Sandbox::start(config).await.expect("sandbox starts")
}

/// Polls `check` every 100 ms until it holds or `timeout` passes (then panics with `what`).
pub async fn eventually<F, Fut>(timeout: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + timeout;
    while !check().await {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
