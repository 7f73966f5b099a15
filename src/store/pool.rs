//! Connecting to either backend and running migrations.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::StoreError;
use super::write_gate::{Turn, WriteGate};

/// Which database engine a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The connection pool of one backend.
#[derive(Debug, Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Cheap to clone: all clones share the same connections.
///
/// On SQLite, writes go through one connection and reads through a pool of their own. SQLite
/// has a single writer: several writing connections do not write in parallel, they take turns
/// by sleeping in SQLite's busy handler (1, 2, 5 … 100 ms), about 1,400 sleeps a second under
/// a saturating broadcast, which put replies at a p99 of 200–400 ms. One writer connection
/// makes writes queue in the process instead (webhook accepts first, see `write_gate`); readers
/// never wait for it (WAL).
#[derive(Debug, Clone)]
pub struct Store {
    /// Every write, and reads that must see the transaction they are in.
    pub(crate) pool: Pool,
    /// Reads only: SQLite's read-only connections, the same pool on PostgreSQL.
    pub(crate) read_pool: Pool,
    /// SQLite's queue for the one writer connection, accepts first; `None` on PostgreSQL.
    pub(crate) writes: Option<Arc<WriteGate>>,
}

/// Read connections to one SQLite file; their writes would fail (opened read-only).
const SQLITE_READERS: u32 = 6;

impl Store {
    /// Connects to `sqlite://PATH` (the file is created if missing) or `postgres://...`.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true);
            // No ping before every acquire (sqlx's default): a local file does not drop the
            // line, and on the one writer each ping was another round trip to its thread.
            let writer = SqlitePoolOptions::new()
                .max_connections(1)
                .acquire_timeout(Duration::from_secs(30))
                .test_before_acquire(false)
                .connect_with(options.clone())
                .await?;
            // An in-memory database exists once per pool: there it is read where it is written.
            let readers = if url.contains("memory") {
                writer.clone()
            } else {
                SqlitePoolOptions::new()
                    .max_connections(SQLITE_READERS)
                    .acquire_timeout(Duration::from_secs(10))
                    .test_before_acquire(false)
                    .connect_with(options.create_if_missing(false).read_only(true))
                    .await?
            };
            Ok(Self {
                pool: Pool::Sqlite(writer),
                read_pool: Pool::Sqlite(readers),
                writes: Some(Arc::default()),
            })
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(5))
                // No ping before every query (sqlx's default): it was ~9% of the engine's CPU
                // on PostgreSQL. A connection that died fails its next query, which the caller
                // retries, and sqlx drops it from the pool.
                .test_before_acquire(false)
                .connect_lazy_with(options);
            Ok(Self {
                pool: Pool::Postgres(pool.clone()),
                read_pool: Pool::Postgres(pool),
                writes: None,
            })
        } else {
            Err(StoreError::UnsupportedUrl(url.to_owned()))
        }
    }

    /// Waits for this store's turn at the writer (SQLite); holds it until dropped.
    pub(crate) async fn write_turn(&self) -> Option<Turn> {
        match &self.writes {
            Some(gate) => Some(gate.turn().await),
            None => None,
        }
    }

    /// Which engine this store runs on.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies the backend's migrations from `migrations/<backend>/`.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.pool {
            Pool::Sqlite(pool) => sqlx::migrate!("migrations/sqlite").run(pool).await?,
            Pool::Postgres(pool) => sqlx::migrate!("migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// One round trip, for readiness checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        with_pool!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))?;
        Ok(())
    }

    /// Closes every connection; used on shutdown.
    pub async fn close(&self) {
        with_read_pool!(self, pool => pool.close().await);
        with_pool!(self, pool => pool.close().await)
    }
}
