//! Importing members (JSON and CSV), idempotently, and paging through them.

use reqwest::Method;
use serde_json::{Value, json};

use crate::both_backends;
use crate::support::{Backend, problem, spawn_api};

async fn import_reports_bad_rows_and_is_idempotent(backend: Backend) {
    let app = spawn_api(backend).await;
    let leader = app.leader("+14155550100", None).await;
    let r = app
        .post_json(
            &leader,
            "/v1/members/import",
            json!(["+14155550001", "nope", 7, "+1 (415) 555-0002"]),
        )
        .await;
    assert_eq!(r.status(), 200);
    let report: Value = r.json().await.expect("json");
    assert_eq!(
        (
            report["inserted"].as_u64(),
            report["already_present"].as_u64()
        ),
        (Some(2), Some(0))
    );
    let lines: Vec<i64> = report["invalid"]
        .as_array()
        .expect("array")
        .iter()
        .map(|r| r["line"].as_i64().expect("line"))
        .collect();
    assert_eq!(lines, vec![2, 3]);
    assert!(
        report["invalid"][0]["reason"]
            .as_str()
            .expect("reason")
            .contains("E.164"),
        "{report}"
    );

    let csv = "phone\n+14155550002\n\n+14155550003\n12345\n";
    let r = app
        .api(&leader, Method::POST, "/v1/members/import")
        .header("content-type", "text/csv; charset=utf-8")
        .body(csv)
        .send()
        .await
        .expect("request");
    let report: Value = r.json().await.expect("json");
    assert_eq!(
        (
            report["inserted"].as_u64(),
            report["already_present"].as_u64()
        ),
        (Some(1), Some(1)),
        "{report}"
    );
    assert_eq!(report["invalid"][0]["line"], 5);
    assert_eq!(report["invalid"][0]["value"], "12345");

    let again = app
        .api(&leader, Method::POST, "/v1/members/import")
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .expect("request");
    let report: Value = again.json().await.expect("json");
    assert_eq!(
        (
            report["inserted"].as_u64(),
            report["already_present"].as_u64()
        ),
        (Some(0), Some(2))
    );

    let plain = app
        .api(&leader, Method::POST, "/v1/members/import")
        .header("content-type", "text/plain")
        .body("+14155550009")
        .send()
        .await
        .expect("request");
    problem(plain, 415, "unsupported_media_type").await;
    let too_many = "+14155550001\n".repeat(floodgate::api::MAX_IMPORT_ROWS + 1);
    let big = app
        .api(&leader, Method::POST, "/v1/members/import")
        .header("content-type", "text/csv")
        .body(too_many)
        .send()
        .await
        .expect("request");
    problem(big, 413, "too_many_rows").await;
    let huge = "1".repeat(floodgate::api::IMPORT_BODY_LIMIT + 1);
    let huge = app
        .api(&leader, Method::POST, "/v1/members/import")
        .header("content-type", "text/csv")
        .body(huge)
        .send()
        .await
        .expect("request");
    problem(huge, 413, "payload_too_large").await;

    // Another platform's export: the phone column is found by its header, quoted commas and all.
    let export = "First Name,Last Name,Mobile Number,Tags\n\
                  \"Smith, Jr\",Bob,+1 415 555 0004,\"vip, early\"\n\
                  Eve,NoPhone\n";
    let r = app
        .api(&leader, Method::POST, "/v1/members/import")
        .header("content-type", "text/csv")
        .body(export)
        .send()
        .await
        .expect("request");
    let report: Value = r.json().await.expect("json");
    assert_eq!(report["inserted"].as_u64(), Some(1), "{report}");
    assert_eq!(report["invalid"][0]["line"], 3, "{report}");
    let headless = app
        .api(&leader, Method::POST, "/v1/members/import")
        .header("content-type", "text/csv")
        .body("name,email\nAda,ada@example.com\n")
        .send()
        .await
        .expect("request");
    problem(headless, 400, "invalid_csv").await;
}

async fn members_page_by_keyset_without_gaps(backend: Backend) {
    let app = spawn_api(backend).await;
    let leader = app.leader("+14155550100", None).await;
    app.members(&leader, 0..23).await;
    let mut phones = Vec::new();
    let mut path = "/v1/members?status=subscribed&limit=5".to_owned();
    for _ in 0..10 {
        let page: Value = app.get_as(&leader, &path).await.json().await.expect("json");
        phones.extend(
            page["members"]
                .as_array()
                .expect("array")
                .iter()
                .map(|m| m["phone"].as_str().expect("phone").to_owned()),
        );
        match page["next"].as_i64() {
            Some(next) => path = format!("/v1/members?status=subscribed&limit=5&after={next}"),
            None => break,
        }
    }
    let expected: Vec<String> = (0..23).map(|n| format!("+1415555{n:04}")).collect();
    assert_eq!(phones, expected);
    let none: Value = app
        .get_as(&leader, "/v1/members?status=unsubscribed")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        (none["members"].clone(), none["next"].clone()),
        (json!([]), Value::Null)
    );
    problem(
        app.get_as(&leader, "/v1/members?status=maybe").await,
        400,
        "invalid_query",
    )
    .await;
}

both_backends!(
    import_reports_bad_rows_and_is_idempotent,
    members_page_by_keyset_without_gaps
);
