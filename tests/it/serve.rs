//! `floodgate serve`'s operational routes on both backends, and readiness with the database down.

use crate::support::{Backend, problem, spawn_app, spawn_app_with, test_settings};

async fn health_ready_and_metrics_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    app.wait_ready().await;

    let health = app.get("/healthz").await;
    assert_eq!(health.status(), 200);

    let ready: serde_json::Value = app.get("/readyz").await.json().await.unwrap();
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["checks"]["store"], "ok");

    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains(
            "floodgate_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"}"
        ),
        "request counter by route missing:\n{metrics}"
    );
    assert!(
        metrics.contains("floodgate_http_request_duration_seconds_bucket"),
        "latency histogram missing"
    );
}

async fn unknown_routes_are_404_and_counted(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = problem(app.get("/nope").await, 404, "not_found").await;
    assert!(
        body["detail"].as_str().is_some_and(|d| d.contains("/nope")),
        "{body}"
    );
    problem(app.get("/v1/nope").await, 404, "not_found").await;
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains(
            "floodgate_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"}"
        ),
        "404s are counted under one label, not per path:\n{metrics}"
    );
}

async fn wrong_methods_are_405_with_allow(backend: Backend) {
    let app = spawn_app(backend).await;
    let cases = [
        (reqwest::Method::POST, "/healthz", ["GET"].as_slice()),
        (reqwest::Method::DELETE, "/v1/broadcasts", &["GET", "POST"]),
        (
            reqwest::Method::PUT,
            "/webhooks/twilio/inbound",
            &["GET", "POST"],
        ),
    ];
    for (method, path, allowed) in cases {
        let response = app
            .client
            .request(method.clone(), format!("{}{path}", app.base))
            .send()
            .await
            .expect("request");
        let allow = response
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        for m in allowed {
            assert!(
                allow.contains(m),
                "{method} {path}: Allow `{allow}` lacks {m}"
            );
        }
        let body = problem(response, 405, "method_not_allowed").await;
        assert!(
            body["detail"]
                .as_str()
                .is_some_and(|d| d.contains(method.as_str())),
            "{body}"
        );
    }
}

crate::both_backends!(
    health_ready_and_metrics_answer,
    unknown_routes_are_404_and_counted,
    wrong_methods_are_405_with_allow
);

#[tokio::test]
async fn readyz_is_503_while_the_database_is_unreachable() {
    // Port 1 on loopback: nothing listens there, so every connection is refused.
    let settings = test_settings("postgres://postgres@127.0.0.1:1/floodgate");
    let app = spawn_app_with(settings, None).await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
    assert_eq!(
        app.get("/healthz").await.status(),
        200,
        "the process itself is alive"
    );
}

/// Runs the built binary with a store in `dir`; returns its exit success and stderr.
fn floodgate(dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_floodgate"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("DATABASE_URL", format!("sqlite://{}/f.db", dir.display()))
        .env("RUST_LOG", "error")
        .output()
        .expect("the floodgate binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_start_failure_names_its_cause_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let addr = taken.local_addr().expect("address").to_string();
    let (ok, stderr) = floodgate(dir.path(), &["serve", "--listen", &addr]);
    assert!(!ok, "{stderr}");
    assert!(
        stderr.contains(&format!("cannot listen on {addr}")),
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("Address already in use").count(),
        1,
        "{stderr}"
    );
}

#[test]
fn a_store_failure_names_its_cause_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("f.db"), vec![b'x'; 8192]).expect("a file that is no database");
    let (ok, stderr) = floodgate(dir.path(), &["migrate"]);
    assert!(!ok, "{stderr}");
    assert_eq!(
        stderr.matches("file is not a database").count(),
        1,
        "{stderr}"
    );
}

#[test]
fn demo_refuses_the_database_and_broker_flags_it_would_ignore() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (flag, value) in [
        ("--database-url", "postgres://u@127.0.0.1:1/db"),
        ("--amqp-url", "amqp://127.0.0.1:1/%2f"),
    ] {
        let (ok, stderr) = floodgate(dir.path(), &["demo", flag, value, "--quiet"]);
        assert!(!ok, "{stderr}");
        assert!(
            stderr.contains(&format!("{flag}: demo does not use it")),
            "{stderr}"
        );
    }
    let (ok, stderr) = floodgate(dir.path(), &["demo", "--rate", "0", "--quiet"]);
    assert!(!ok, "{stderr}");
    assert!(
        stderr.contains("--rate 0.0: must be a number from"),
        "{stderr}"
    );
}

#[tokio::test]
async fn an_unknown_vonage_signature_method_stops_the_start() {
    let profiles = crate::support::carrier_profiles(&[
        ("VONAGE_SIGNATURE_SECRET", "secret"),
        ("VONAGE_SIGNATURE_METHOD", "sha384"),
    ]);
    let (_dir, url) = crate::support::fresh_sqlite_url();
    let Err(error) = floodgate::app::Application::build(test_settings(&url), profiles).await else {
        panic!("a start with VONAGE_SIGNATURE_METHOD=sha384 must fail");
    };
    let message = error.to_string();
    assert!(
        message.contains("VONAGE_SIGNATURE_METHOD = \"sha384\"")
            && message.contains("md5hash, md5, sha1, sha256, sha512"),
        "{message}"
    );
}
