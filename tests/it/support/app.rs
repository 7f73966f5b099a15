//! A running Floodgate on a loopback port with its own database.

use floodgate::app::Application;
use floodgate::config::{ConfigFlags, Env, Settings, load_profiles, load_with};

use super::{Backend, fresh_postgres_url, fresh_sqlite_url};

/// A server under test: its base URL, an HTTP client, and a handle that stops it on drop.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub state: floodgate::http::AppState,
    _stop: tokio::sync::oneshot::Sender<()>,
    _dir: Option<tempfile::TempDir>,
}

/// Settings for a test server on a free port and the given database URL.
pub fn test_settings(database_url: &str) -> Settings {
    let flags = ConfigFlags {
        database_url: Some(database_url.to_owned()),
        listen: Some("127.0.0.1:0".into()),
        ..Default::default()
    };
    load_with(&flags, |_| None).expect("test settings are valid")
}

/// Starts a server on `backend` with a fresh database.
pub async fn spawn_app(backend: Backend) -> TestApp {
    let (dir, url) = match backend {
        Backend::Sqlite => {
            let (dir, url) = fresh_sqlite_url();
            (Some(dir), url)
        }
        Backend::Postgres => (None, fresh_postgres_url().await),
    };
    spawn_app_with(test_settings(&url), dir).await
}

/// Starts a server with explicit settings.
pub async fn spawn_app_with(settings: Settings, dir: Option<tempfile::TempDir>) -> TestApp {
    spawn_app_opts(settings, dir, true).await
}

/// Starts a server; `run_pipeline = false` serves the HTTP edge only (work waits in its queues),
/// for tests of the API that must not reach a carrier.
pub async fn spawn_app_opts(
    settings: Settings,
    dir: Option<tempfile::TempDir>,
    run_pipeline: bool,
) -> TestApp {
    let carriers =
        load_profiles(std::path::Path::new("carriers"), &Env::default()).expect("profiles");
    let app = Application::build_with(settings, carriers, run_pipeline)
        .await
        .expect("app builds");
    serve(app, dir)
}

/// Runs a built application on its loopback port until the returned [`TestApp`] is dropped.
pub(super) fn serve(app: Application, dir: Option<tempfile::TempDir>) -> TestApp {
    let addr = app.local_addr();
    let state = app.state().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    TestApp {
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        state,
        _stop: stop,
        _dir: dir,
    }
}

impl TestApp {
    /// Waits until `/readyz` says ready (migrations run in the background).
    pub async fn wait_ready(&self) {
        for _ in 0..100 {
            if let Ok(r) = self
                .client
                .get(format!("{}/readyz", self.base))
                .send()
                .await
            {
                if r.status().is_success() {
                    return;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("{} never became ready", self.base);
    }

    /// GETs a path and returns the response.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("request")
    }
}
