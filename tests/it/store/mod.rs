//! The store's behaviour, proven on both backends: every case runs once on SQLite and once
//! on PostgreSQL, and the test names (`store::<file>::sqlite::<case>`, `...::postgres::<case>`)
//! show that both ran.

/// Turns each `async fn case(db: TestDb)` in the calling module into `sqlite::case` and
/// `postgres::case` tests, each on its own freshly migrated database.
macro_rules! on_both_backends {
    ($($case:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let db = crate::support::fresh_store(crate::support::Backend::Sqlite).await;
                    super::$case(db).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let db = crate::support::fresh_store(crate::support::Backend::Postgres).await;
                    super::$case(db).await;
                }
            )+
        }
    };
}

mod bench;
mod broadcasts;
mod fixtures;
mod inbound;
mod inbound_parts;
mod members;
mod message_parts;
mod messages;
mod schema;
