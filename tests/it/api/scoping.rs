//! Every route is scoped to the key's community: another community's rows are 404 or absent.

use chrono::Utc;
use floodgate::domain::{PhoneNumber, SenderAddress};
use floodgate::store::NewInbound;
use reqwest::Method;
use serde_json::{Value, json};

use crate::both_backends;
use crate::support::{Backend, problem, spawn_api};

async fn another_communitys_rows_are_invisible(backend: Backend) {
    let app = spawn_api(backend).await;
    let alice = app.leader("+14155550100", None).await;
    let bob = app.leader("+14155550101", None).await;
    app.members(&alice, 0..3).await;
    app.members(&bob, 100..102).await;
    let store = &app.state.store;
    let from = PhoneNumber::parse("+14155550000").expect("phone");
    let to = SenderAddress::from(PhoneNumber::parse("+14155550100").expect("phone"));
    store
        .insert_inbound(&NewInbound {
            community_id: alice.community_id,
            carrier: "twilio",
            provider_message_id: "SM1",
            from: &from,
            to: &to,
            body: "hello alice",
            keyword: None,
            received_at: Utc::now(),
        })
        .await
        .expect("inbound");

    let created: Value = app
        .post_json(&alice, "/v1/broadcasts", json!({"body": "hi"}))
        .await
        .json()
        .await
        .expect("json");
    let id = created["id"].as_i64().expect("id");

    // Every route with an id: 404 for Bob, and nothing changes.
    problem(
        app.get_as(&bob, &format!("/v1/broadcasts/{id}")).await,
        404,
        "not_found",
    )
    .await;
    let cancel = app
        .api(&bob, Method::POST, &format!("/v1/broadcasts/{id}/cancel"))
        .send()
        .await
        .expect("request");
    problem(cancel, 404, "not_found").await;
    let still: Value = app
        .get_as(&alice, &format!("/v1/broadcasts/{id}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(still["status"], "scheduled");
    problem(
        app.get_as(&bob, "/v1/broadcasts/999999").await,
        404,
        "not_found",
    )
    .await;
    problem(
        app.get_as(&bob, "/v1/broadcasts/not-a-number").await,
        404,
        "not_found",
    )
    .await;

    // Lists show only one's own rows.
    let list: Value = app
        .get_as(&bob, "/v1/broadcasts")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list["broadcasts"], json!([]));
    let members: Value = app
        .get_as(&bob, "/v1/members")
        .await
        .json()
        .await
        .expect("json");
    let phones: Vec<&str> = members["members"]
        .as_array()
        .expect("array")
        .iter()
        .map(|m| m["phone"].as_str().expect("phone"))
        .collect();
    assert_eq!(phones, vec!["+14155550100", "+14155550101"]);
    let inbox: Value = app
        .get_as(&bob, "/v1/inbound")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(inbox["messages"], json!([]));
    let inbox: Value = app
        .get_as(&alice, "/v1/inbound")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(inbox["messages"][0]["body"], "hello alice");

    // Bob's broadcast counts Bob's members only.
    let bobs: Value = app
        .post_json(&bob, "/v1/broadcasts", json!({"body": "hi"}))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(bobs["recipients"], 2);
}

both_backends!(another_communitys_rows_are_invisible);
