//! Creating broadcasts: validation, idempotency, the daily cap, paging, progress and cancel.

use reqwest::Method;
use serde_json::{Value, json};

use crate::both_backends;
use crate::support::{Backend, problem, spawn_api};

async fn create_validates_and_describes_the_body(backend: Backend) {
    let app = spawn_api(backend).await;
    let leader = app.leader("+14155550100", None).await;
    app.members(&leader, 0..3).await;

    let r = app
        .post_json(
            &leader,
            "/v1/broadcasts",
            json!({"body": "Rally at 6pm", "send_at": "2030-01-01T10:00:00+02:00"}),
        )
        .await;
    assert_eq!(r.status(), 202);
    let b: Value = r.json().await.expect("json");
    assert_eq!(b["status"], "scheduled");
    assert_eq!(b["encoding"], "gsm7");
    assert_eq!(b["segments"], 1);
    assert_eq!(b["recipients"], 3);
    assert_eq!(b["send_at"], "2030-01-01T08:00:00Z");

    let cyrillic = "П".repeat(71);
    let b: Value = app
        .post_json(&leader, "/v1/broadcasts", json!({"body": cyrillic}))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        (b["encoding"].as_str(), b["segments"].as_i64()),
        (Some("ucs2"), Some(2))
    );

    problem(
        app.post_json(&leader, "/v1/broadcasts", json!({"body": ""}))
            .await,
        422,
        "invalid_body",
    )
    .await;
    let long = "a".repeat(1601);
    let p = problem(
        app.post_json(&leader, "/v1/broadcasts", json!({"body": long}))
            .await,
        422,
        "invalid_body",
    )
    .await;
    assert!(
        p["detail"].as_str().expect("detail").contains("1601"),
        "{p}"
    );
    // PostgreSQL cannot store a NUL: refused up front on both backends, never a 500.
    let p = problem(
        app.post_json(&leader, "/v1/broadcasts", json!({"body": "Rally\u{0}at 6"}))
            .await,
        422,
        "invalid_body",
    )
    .await;
    assert!(p["detail"].as_str().expect("detail").contains("NUL"), "{p}");
    problem(
        app.post_json(
            &leader,
            "/v1/broadcasts",
            json!({"body": "x", "send_at": "tomorrow"}),
        )
        .await,
        422,
        "invalid_send_at",
    )
    .await;
    problem(
        app.post_json(&leader, "/v1/broadcasts", json!({"text": "x"}))
            .await,
        400,
        "invalid_json",
    )
    .await;

    let malformed = app
        .api(&leader, Method::POST, "/v1/broadcasts")
        .header("content-type", "application/json")
        .body("{\"body\": ")
        .send()
        .await
        .expect("request");
    problem(malformed, 400, "invalid_json").await;
    let not_json = app
        .api(&leader, Method::POST, "/v1/broadcasts")
        .body("body=x")
        .send()
        .await
        .expect("request");
    problem(not_json, 415, "unsupported_media_type").await;
}

async fn idempotency_key_replays_or_conflicts(backend: Backend) {
    let app = spawn_api(backend).await;
    let leader = app.leader("+14155550100", None).await;
    let send = |body: &'static str, key: &'static str| {
        app.api(&leader, Method::POST, "/v1/broadcasts")
            .header("Idempotency-Key", key)
            .json(&json!({"body": body}))
            .send()
    };
    let first = send("Hello", "k-1").await.expect("request");
    assert_eq!(first.status(), 202);
    let first: Value = first.json().await.expect("json");
    let again = send("Hello", "k-1").await.expect("request");
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.expect("json");
    assert_eq!(again["id"], first["id"]);
    let p = problem(
        send("Goodbye", "k-1").await.expect("request"),
        422,
        "idempotency_key_reused",
    )
    .await;
    assert_eq!(p["broadcast_id"], first["id"]);
    let other = send("Hello", "k-2").await.expect("request");
    assert_eq!(other.status(), 202);
    let list: Value = app
        .get_as(&leader, "/v1/broadcasts")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list["broadcasts"].as_array().map(Vec::len), Some(2));
}

async fn daily_cap_refuses_with_the_numbers(backend: Backend) {
    let app = spawn_api(backend).await;
    let leader = app.leader("+14155550100", Some(10)).await;
    app.members(&leader, 0..5).await;
    for _ in 0..2 {
        assert_eq!(
            app.post_json(&leader, "/v1/broadcasts", json!({"body": "hi"}))
                .await
                .status(),
            202
        );
    }
    let p = problem(
        app.post_json(&leader, "/v1/broadcasts", json!({"body": "hi"}))
            .await,
        422,
        "daily_cap_exceeded",
    )
    .await;
    assert_eq!(
        (
            p["daily_cap"].as_i64(),
            p["committed_today"].as_i64(),
            p["requested"].as_i64(),
            p["remaining"].as_i64()
        ),
        (Some(10), Some(10), Some(5), Some(0)),
        "{p}"
    );
    // Cancelling frees the budget its unsent messages held.
    let list: Value = app
        .get_as(&leader, "/v1/broadcasts")
        .await
        .json()
        .await
        .expect("json");
    let id = list["broadcasts"][0]["id"].as_i64().expect("id");
    let cancelled = app
        .api(
            &leader,
            Method::POST,
            &format!("/v1/broadcasts/{id}/cancel"),
        )
        .send()
        .await
        .expect("request");
    assert_eq!(cancelled.status(), 200);
    assert_eq!(
        app.post_json(&leader, "/v1/broadcasts", json!({"body": "hi"}))
            .await
            .status(),
        202
    );
}

async fn broadcasts_page_newest_first_without_gaps(backend: Backend) {
    let app = spawn_api(backend).await;
    let leader = app.leader("+14155550100", None).await;
    let mut created = Vec::new();
    for i in 0..7 {
        let b: Value = app
            .post_json(&leader, "/v1/broadcasts", json!({"body": format!("n{i}")}))
            .await
            .json()
            .await
            .expect("json");
        created.push(b["id"].as_i64().expect("id"));
    }
    let mut seen = Vec::new();
    let mut path = "/v1/broadcasts?limit=3".to_owned();
    for _ in 0..10 {
        let page: Value = app.get_as(&leader, &path).await.json().await.expect("json");
        seen.extend(
            page["broadcasts"]
                .as_array()
                .expect("array")
                .iter()
                .map(|b| b["id"].as_i64().expect("id")),
        );
        match page["next"].as_i64() {
            Some(next) => path = format!("/v1/broadcasts?limit=3&before={next}"),
            None => break,
        }
    }
    created.reverse();
    assert_eq!(seen, created);
    problem(
        app.get_as(&leader, "/v1/broadcasts?limit=abc").await,
        400,
        "invalid_query",
    )
    .await;
}

async fn progress_counts_eta_and_cancel(backend: Backend) {
    let app = spawn_api(backend).await;
    let leader = app.leader("+14155550100", None).await;
    app.members(&leader, 0..4).await;
    let b: Value = app
        .post_json(&leader, "/v1/broadcasts", json!({"body": "hi"}))
        .await
        .json()
        .await
        .expect("json");
    let id = b["id"].as_i64().expect("id");
    let detail: Value = app
        .get_as(&leader, &format!("/v1/broadcasts/{id}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(detail["status"], "scheduled");
    assert_eq!(detail["counts"]["queued"], 0);
    assert_eq!(
        detail["remaining"], 4,
        "not yet fanned out: every recipient remains"
    );
    assert!(
        detail["eta_seconds"].as_u64().is_some_and(|s| s >= 1),
        "{detail}"
    );
    let cancelled: Value = app
        .api(
            &leader,
            Method::POST,
            &format!("/v1/broadcasts/{id}/cancel"),
        )
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(cancelled["status"], "cancelled");
    let detail: Value = app
        .get_as(&leader, &format!("/v1/broadcasts/{id}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        (
            detail["remaining"].as_i64(),
            detail["eta_seconds"].is_null()
        ),
        (Some(0), true)
    );
}

both_backends!(
    create_validates_and_describes_the_body,
    idempotency_key_replays_or_conflicts,
    daily_cap_refuses_with_the_numbers,
    broadcasts_page_newest_first_without_gaps,
    progress_counts_eta_and_cancel,
);
