//! Where the real services are, and a private database for each test.

use floodgate::store::Store;

/// Which store backend a test runs on; suites run once per variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A migrated store on its own database, plus whatever keeps that database alive.
pub struct TestDb {
    pub store: Store,
    pub url: String,
    /// Keeps the SQLite file's directory until the test ends.
    _dir: Option<tempfile::TempDir>,
}

fn required(var: &str, what: &str) -> String {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => value,
        _ => panic!(
            "{var} is not set: this test needs a real {what}. Run the suite with `scripts/test`, \
             which starts private PostgreSQL and RabbitMQ instances and exports their URLs."
        ),
    }
}

/// The maintenance URL of the private PostgreSQL server started by `scripts/test`.
pub fn postgres_admin_url() -> String {
    required("FLOODGATE_TEST_POSTGRES_URL", "PostgreSQL server")
}

/// The URL of the private RabbitMQ node started by `scripts/test`.
pub fn amqp_url() -> String {
    required("FLOODGATE_TEST_AMQP_URL", "RabbitMQ broker")
}

/// Creates an empty database on the test server and returns its URL.
pub async fn fresh_postgres_url() -> String {
    use sqlx::Connection;
    let admin = postgres_admin_url();
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| {
            panic!("cannot reach PostgreSQL at {admin}: {e}. Is `scripts/test` running it?")
        });
    let name = format!("floodgate_test_{}", uuid_like());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let (base, _) = admin
        .rsplit_once('/')
        .expect("postgres URL has a database path");
    format!("{base}/{name}")
}

/// A SQLite URL in a new temporary directory.
pub fn fresh_sqlite_url() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("floodgate.db").display());
    (dir, url)
}

/// A migrated store on a database no other test uses.
pub async fn fresh_store(backend: Backend) -> TestDb {
    let (dir, url) = match backend {
        Backend::Sqlite => {
            let (dir, url) = fresh_sqlite_url();
            (Some(dir), url)
        }
        Backend::Postgres => (None, fresh_postgres_url().await),
    };
    let store = Store::connect(&url).await.expect("connect test store");
    store.migrate().await.expect("migrate test store");
    TestDb {
        store,
        url,
        _dir: dir,
    }
}

fn uuid_like() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..16)
        .map(|_| format!("{:x}", rng.gen_range(0..16u8)))
        .collect()
}
