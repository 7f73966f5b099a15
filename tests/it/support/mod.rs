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
