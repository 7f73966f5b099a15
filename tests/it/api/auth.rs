//! Missing, malformed, unknown and revoked keys are 401; rate limits are per key.

use floodgate::api::keys;
use reqwest::Method;

use crate::both_backends;
use crate::support::{Backend, Leader, problem, spawn_api};

async fn unauthenticated_requests_are_401(backend: Backend) {
    let app = spawn_api(backend).await;
    let leader = app.leader("+14155550100", None).await;

    let missing = app
        .client
        .get(format!("{}/v1/broadcasts", app.base))
        .send()
        .await
        .expect("request");
    assert!(missing.headers().contains_key("www-authenticate"));
    problem(missing, 401, "unauthorized").await;

    let fake = keys::generate().key;
    let other_secret = format!("{}X", leader.key);
    for bad in ["garbage", fake.as_str(), other_secret.as_str()] {
        let as_bad = Leader {
            key: bad.to_owned(),
            ..leader.clone()
        };
        problem(
            app.get_as(&as_bad, "/v1/broadcasts").await,
            401,
            "unauthorized",
        )
        .await;
    }
    let basic = app
        .client
        .get(format!("{}/v1/members", app.base))
        .basic_auth("a", Some("b"))
        .send()
        .await
        .expect("request");
    problem(basic, 401, "unauthorized").await;

    assert_eq!(app.get_as(&leader, "/v1/broadcasts").await.status(), 200);
    let prefix = keys::prefix_of(&leader.key).expect("prefix");
    assert!(
        keys::revoke(&app.state.store, prefix)
            .await
            .expect("revoke")
    );
    problem(
        app.get_as(&leader, "/v1/broadcasts").await,
        401,
        "unauthorized",
    )
    .await;
}

async fn rate_limit_is_per_key_with_retry_after(backend: Backend) {
    let app = spawn_api(backend).await;
    let noisy = app.leader("+14155550100", None).await;
    let quiet = app.leader("+14155550101", None).await;
    let mut limited = None;
    for _ in 0..400 {
        let r = app
            .api(&noisy, Method::GET, "/v1/inbound")
            .send()
            .await
            .expect("request");
        if r.status() == 429 {
            limited = Some(r);
            break;
        }
        assert_eq!(r.status(), 200);
    }
    let limited = limited.expect("400 requests in a row were never rate-limited");
    let retry_after: u64 = limited
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!(retry_after >= 1);
    problem(limited, 429, "rate_limited").await;
    assert_eq!(
        app.get_as(&quiet, "/v1/inbound").await.status(),
        200,
        "another key is not limited"
    );
}

both_backends!(
    unauthenticated_requests_are_401,
    rate_limit_is_per_key_with_retry_after
);
