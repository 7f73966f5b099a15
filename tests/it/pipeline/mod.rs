//! The pipeline's guarantees, end to end against the carrier simulator, on every backend:
//! SQLite + embedded queues, PostgreSQL + embedded queues, PostgreSQL + RabbitMQ.

mod back_pressure;
mod completion;
mod events;
mod poison;
mod receipts;
mod schedule;
pub(crate) mod setup;
mod stop;

/// Generates one test per backend from `async fn name(setup: Setup)`.
#[macro_export]
macro_rules! all_setups {
    ($($name:ident),* $(,)?) => {
        pub mod sqlite_embedded {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name($crate::pipeline::setup::Setup::SqliteEmbedded).await
            })*
        }
        pub mod postgres_embedded {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name($crate::pipeline::setup::Setup::PostgresEmbedded).await
            })*
        }
        pub mod postgres_rabbitmq {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let _broker = $crate::support::shared_broker().await;
                super::$name($crate::pipeline::setup::Setup::PostgresRabbit).await
            })*
        }
    };
}
