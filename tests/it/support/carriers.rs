//! A Floodgate whose carrier profiles read their credentials from an explicit list, never from
//! the process environment (tests run in parallel in one process; `set_var` would leak).

use std::path::Path;

use floodgate::app::Application;
use floodgate::config::{CarrierProfile, Env, load_profiles};

use super::app::serve;
use super::{Backend, TestApp, fresh_postgres_url, fresh_sqlite_url, test_settings};

/// The profiles in `carriers/`, with `env` as the only environment they see.
pub fn carrier_profiles(env: &[(&str, &str)]) -> Vec<CarrierProfile> {
    load_profiles(Path::new("carriers"), &Env::from_pairs(env.iter().copied()))
        .expect("carrier profiles load")
}

/// Starts a server on `backend` with a fresh database and the `carriers/` profiles read
/// with `env` (e.g. `[("TWILIO_AUTH_TOKEN", "secret")]`).
pub async fn spawn_app_with_carriers(backend: Backend, env: &[(&str, &str)]) -> TestApp {
    spawn_app_with_profiles(backend, carrier_profiles(env)).await
}

/// Starts a server on `backend` with a fresh database and exactly these profiles.
pub async fn spawn_app_with_profiles(backend: Backend, profiles: Vec<CarrierProfile>) -> TestApp {
    spawn_app_with_profiles_opts(backend, profiles, true).await
}

/// As [`spawn_app_with_profiles`]; `run_pipeline = false` serves the HTTP edge only, so a
/// test sees what the edge itself did before any stage picked the work up.
pub async fn spawn_app_with_profiles_opts(
    backend: Backend,
    profiles: Vec<CarrierProfile>,
    run_pipeline: bool,
) -> TestApp {
    let (dir, url) = match backend {
        Backend::Sqlite => {
            let (dir, url) = fresh_sqlite_url();
            (Some(dir), url)
        }
        Backend::Postgres => (None, fresh_postgres_url().await),
    };
    let app = Application::build_with(test_settings(&url), profiles, run_pipeline)
        .await
        .expect("app builds");
    serve(app, dir)
}

/// Starts a server with exactly these profiles on `port`, whose public URL (the one carriers
/// call back and sign over) is `http://127.0.0.1:{port}`.
pub async fn spawn_app_with_profiles_on(
    database_url: &str,
    port: u16,
    profiles: Vec<CarrierProfile>,
) -> TestApp {
    let mut settings = test_settings(database_url);
    settings.listen = format!("127.0.0.1:{port}")
        .parse()
        .expect("a socket address");
    settings.public_url = format!("http://127.0.0.1:{port}").parse().expect("a URL");
    let app = Application::build(settings, profiles)
        .await
        .expect("app builds");
    serve(app, None)
}
