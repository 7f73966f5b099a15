//! Long Vonage texts arrive one signed webhook per part (`concat`); the member's text is
//! joined before keyword matching and the leader's inbox, and an incomplete one is flushed as
//! it is after a day, never read as a keyword.

use std::time::Duration;

use floodgate::domain::MemberStatus;
use floodgate::pipeline::{FLUSH_AFTER, sweep_parts_once};

use super::helpers::{
    Edge, NUMBER_A, edge, eventually, member, pairs, phone, vonage_inbound, vonage_signed,
};
use crate::support::Backend;

/// Part `part` of `total` of a long text, as Vonage posts it (signed).
fn vonage_part(
    id: &str,
    from: &str,
    text: &str,
    reference: &str,
    (part, total): (u16, u16),
) -> Vec<(String, String)> {
    let mut fields = vonage_inbound(id, from, NUMBER_A, text);
    let (part, total) = (part.to_string(), total.to_string());
    fields.extend(pairs(&[
        ("concat", "true"),
        ("concat-ref", reference),
        ("concat-total", &total),
        ("concat-part", &part),
    ]));
    vonage_signed(fields)
}

async fn post(edge: &Edge, fields: &[(String, String)]) {
    let response = edge.vonage_post("inbound", fields).send().await.unwrap();
    assert_eq!(
        response.status(),
        204,
        "Vonage is answered once the part is durable"
    );
}

async fn joined(edge: &Edge, outcome: &str) -> f64 {
    edge.metric(
        "floodgate_inbound_parts_total",
        "vonage",
        &[("outcome", outcome)],
    )
    .await
}

async fn subscribed_member(edge: &Edge, n: u32) -> String {
    let from = member(n);
    let join = vonage_signed(vonage_inbound(
        &format!("vg-join-{n}"),
        &from,
        NUMBER_A,
        "JOIN",
    ));
    post(edge, &join).await;
    eventually("the member joined", || async {
        edge.member(edge.a.id, &from)
            .await
            .filter(|m| m.status == MemberStatus::Subscribed)
    })
    .await;
    from
}

async fn parts_are_joined_before_keywords_and_the_inbox(backend: Backend) {
    let edge = edge(backend).await;
    let from = subscribed_member(&edge, 1).await;
    let first =
        "Thanks for the update, I will come on Saturday but if the plans change again please ";
    // The second part alone would read as STOP; the member's whole text is no keyword.
    post(&edge, &vonage_part("vg-p2", &from, "STOP", "3f", (2, 2))).await;
    post(&edge, &vonage_part("vg-p1", &from, first, "3f", (1, 2))).await;
    let text = edge.stored_text(edge.a.id, "vg-p1").await;
    assert_eq!(text.body, format!("{first}STOP"));
    assert_eq!(text.keyword, None);
    assert!(edge.reply_to(&text).await.is_none(), "no keyword, no reply");

    // Vonage resends a part whose answer it missed: the text is not filed twice.
    post(&edge, &vonage_part("vg-p2", &from, "STOP", "3f", (2, 2))).await;
    edge.barrier("SMbarrier-concat").await;
    eventually("the retried part was processed", || async {
        (joined(&edge, "complete").await >= 2.0).then_some(())
    })
    .await;
    let inbox: Vec<String> = edge
        .inbound(edge.a.id)
        .await
        .into_iter()
        .map(|t| t.body)
        .collect();
    assert_eq!(
        inbox,
        [
            "JOIN".to_owned(),
            format!("{first}STOP"),
            "just saying hi".into()
        ]
    );
    let member = edge.member(edge.a.id, &from).await.expect("member");
    assert_eq!(
        member.status,
        MemberStatus::Subscribed,
        "a part is not a STOP"
    );
    assert_eq!(joined(&edge, "waiting").await, 1.0);
}

async fn an_incomplete_text_is_flushed_after_a_day_as_it_is(backend: Backend) {
    let edge = edge(backend).await;
    let from = subscribed_member(&edge, 2).await;
    post(
        &edge,
        &vonage_part("vg-half-1", &from, "STOP", "a0", (1, 2)),
    )
    .await;
    edge.barrier("SMbarrier-half").await;
    assert!(
        edge.inbound(edge.a.id)
            .await
            .iter()
            .all(|t| t.provider_message_id != "vg-half-1"),
        "a part waits for the rest"
    );

    let (bus, store) = (edge.app.state.ingest.bus(), edge.store());
    let now_ms = chrono::Utc::now().timestamp_millis();
    assert_eq!(
        sweep_parts_once(bus, store, now_ms).await.unwrap(),
        0,
        "not stale yet"
    );
    let later = now_ms + FLUSH_AFTER.as_millis() as i64 + 3_600_000;
    assert_eq!(sweep_parts_once(bus, store, later).await.unwrap(), 1);

    let text = edge.stored_text(edge.a.id, "vg-half-1").await;
    assert_eq!(
        (text.body.as_str(), text.keyword.as_deref()),
        ("STOP", None)
    );
    assert!(edge.reply_to(&text).await.is_none());
    let member = edge.member(edge.a.id, &from).await.expect("member");
    assert_eq!(
        member.status,
        MemberStatus::Subscribed,
        "a fragment is never a keyword"
    );
    let carrier = edge.carrier("vonage");
    eventually("the flushed set is forgotten", || async {
        let left = store
            .inbound_parts_so_far(&carrier, &phone(&from), "a0")
            .await
            .unwrap();
        left.is_none().then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(sweep_parts_once(bus, store, later).await.unwrap(), 0);
    assert_eq!(joined(&edge, "flushed").await, 1.0);
}

crate::both_backends!(
    parts_are_joined_before_keywords_and_the_inbox,
    an_incomplete_text_is_flushed_after_a_day_as_it_is
);
