//! The one RabbitMQ node the suite shares: a lock so a broker-restart test runs alone, private
//! vhosts, and `rabbitmqctl` for the node `scripts/test` started.
//!
//! Every test that talks to RabbitMQ holds [`shared_broker`] for its whole run; a test that
//! stops the broker holds [`exclusive_broker`], so it never breaks a test running beside it.

use std::time::Duration;

use tokio::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::services::amqp_url;

static BROKER: RwLock<()> = RwLock::const_new(());

/// Held by tests that only use the broker.
pub async fn shared_broker() -> RwLockReadGuard<'static, ()> {
    BROKER.read().await
}

/// Held by a test that stops or restarts the broker.
pub async fn exclusive_broker() -> RwLockWriteGuard<'static, ()> {
    BROKER.write().await
}

fn required(var: &str) -> String {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => value,
        _ => panic!(
            "{var} is not set: this test drives the RabbitMQ node with rabbitmqctl. Run the suite \
             with `scripts/test`, which starts a private node and exports it."
        ),
    }
}

/// Runs `rabbitmqctl -n <node> <args>` against the test node; panics with its output on failure.
pub async fn rabbitmqctl(args: &[&str]) {
    let ctl = required("FLOODGATE_TEST_RABBITMQCTL");
    let node = required("FLOODGATE_TEST_RABBITMQ_NODE");
    let run = tokio::process::Command::new(&ctl)
        .arg("-n")
        .arg(&node)
        .args(args)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(90), run)
        .await
        .unwrap_or_else(|_| panic!("rabbitmqctl {args:?} did not finish within 90 s"))
        .unwrap_or_else(|e| panic!("cannot run {ctl}: {e}"));
    assert!(
        output.status.success(),
        "rabbitmqctl {args:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A new vhost on the test node, with full rights for the test user; returns its AMQP URL.
pub async fn fresh_vhost() -> String {
    use rand::Rng;
    let name = format!("floodgate-test-{:016x}", rand::thread_rng().r#gen::<u64>());
    rabbitmqctl(&["add_vhost", &name]).await;
    rabbitmqctl(&["set_permissions", "-p", &name, "guest", ".*", ".*", ".*"]).await;
    let url = amqp_url();
    let (base, _) = url.rsplit_once('/').expect("AMQP URL has a vhost path");
    format!("{base}/{name}")
}
