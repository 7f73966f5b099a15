//! `floodgate serve`'s operational routes on both backends, and readiness with the database down.

use crate::support::{Backend, spawn_app, spawn_app_with, test_settings};

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
    assert_eq!(app.get("/nope").await.status(), 404);
}

crate::both_backends!(
    health_ready_and_metrics_answer,
    unknown_routes_are_404_and_counted
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
