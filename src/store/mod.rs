//! Persistence on SQLite (embedded default) or PostgreSQL (at scale), behind one API.
//!
//! Every query is written once in SQL both engines accept (`$1` placeholders,
//! `ON CONFLICT`, `RETURNING`) and run on whichever pool is configured through
//! `with_pool!`, so the two backends cannot drift apart.

/// Runs `$body` with `$pool` bound to the concrete pool, once per backend.
///
/// The body is type-checked against both drivers, so a query that one backend
/// cannot bind fails to compile rather than at run time.
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pool {
            crate::store::pool::Pool::Sqlite($pool) => $body,
            crate::store::pool::Pool::Postgres($pool) => $body,
        }
    };
}

mod error;
mod pool;
mod queue_items;

pub use error::StoreError;
pub use pool::{Backend, Store};
pub use queue_items::QueueItem;
