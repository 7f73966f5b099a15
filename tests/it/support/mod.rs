//! Shared test harness: fresh databases per test, service URLs, and loud failures when a service is missing.

#![allow(dead_code, unused_imports)]

mod app;
mod broker;
mod carriers;
pub mod engine;
mod leaders;
mod services;
pub mod settle;
pub mod world;

pub use app::{TestApp, spawn_app, spawn_app_opts, spawn_app_with, test_settings};
pub use broker::{exclusive_broker, fresh_vhost, rabbitmqctl, shared_broker};
pub use carriers::{
    carrier_profiles, spawn_app_with_carriers, spawn_app_with_profiles, spawn_app_with_profiles_on,
    spawn_app_with_profiles_opts,
};
pub use leaders::{Leader, problem, spawn_api, test_phone};
pub use services::{
    Backend, TestDb, amqp_url, fresh_postgres_url, fresh_sqlite_url, fresh_store,
    postgres_admin_url,
};

/// Generates one `#[tokio::test]` per store backend from `async fn name(backend: Backend)`,
/// named `sqlite_<name>` and `postgres_<name>` so the output shows both ran.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        pub mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name($crate::support::Backend::Sqlite).await
            })*
        }
        pub mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name($crate::support::Backend::Postgres).await
            })*
        }
    };
}

/// Engine logs in the test's output when `TEST_LOG=1` (e.g. `TEST_LOG=1 RUST_LOG=debug`);
/// silent otherwise. Run one test at a time with it: the suite's tests share one process.
pub fn init_test_logs() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            let filter = tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_test_writer()
                .try_init();
        }
    });
}
