//! A STOP unsubscribes its sender before the carrier gets its 2xx, not when the inbound queue
//! reaches it: checked with no pipeline running, so only the edge can have done it.

use chrono::Utc;
use floodgate::domain::MemberStatus;
use floodgate::store::JoinedVia;

use super::helpers::{
    Edge, NUMBER_A, edge, edge_with, member, phone, telnyx_inbound, vonage_inbound, vonage_signed,
};
use crate::support::Backend;

async fn subscribed(edge: &Edge, number: &str) {
    edge.store()
        .subscribe(
            edge.a.id,
            &phone(number),
            JoinedVia::Import,
            None,
            None,
            Utc::now(),
        )
        .await
        .expect("subscribe");
}

async fn status(edge: &Edge, number: &str) -> MemberStatus {
    edge.member(edge.a.id, number).await.expect("member").status
}

async fn a_stop_unsubscribes_before_the_2xx(backend: Backend) {
    let edge = edge_with(backend, false).await;
    for n in 1..=5 {
        subscribed(&edge, &member(n)).await;
    }
    let requests = [
        edge.twilio_text("stop-1", &member(1), NUMBER_A, "STOP"),
        edge.telnyx(
            "inbound",
            telnyx_inbound("stop-2", &member(2), NUMBER_A, " stop all "),
        ),
        edge.vonage_post(
            "inbound",
            &vonage_signed(vonage_inbound(
                "stop-3",
                &member(3),
                NUMBER_A,
                "Unsubscribe",
            )),
        ),
        edge.twilio_text("chat-4", &member(4), NUMBER_A, "STOP please"),
        edge.twilio_text("help-5", &member(5), NUMBER_A, "HELP"),
    ];
    for request in requests {
        let response = request.send().await.expect("webhook");
        assert!(response.status().is_success(), "{}", response.status());
    }
    for n in 1..=3 {
        let m = edge.member(edge.a.id, &member(n)).await.expect("member");
        assert_eq!(m.status, MemberStatus::Unsubscribed, "member {n}");
        assert!(m.unsubscribed_at.is_some(), "member {n}");
    }
    assert_eq!(
        status(&edge, &member(4)).await,
        MemberStatus::Subscribed,
        "a conversation"
    );
    assert_eq!(
        status(&edge, &member(5)).await,
        MemberStatus::Subscribed,
        "HELP"
    );
    assert_eq!(
        edge.count("inbound_messages").await,
        0,
        "no stage ran: the texts still wait in their queue"
    );
}

async fn a_retried_stop_does_not_undo_a_later_join(backend: Backend) {
    let edge = edge(backend).await;
    let phone = member(7);
    let send =
        |id: &'static str, body: &'static str| edge.twilio_text(id, &phone, NUMBER_A, body).send();
    assert!(send("join-7", "JOIN").await.unwrap().status().is_success());
    assert!(send("stop-7", "STOP").await.unwrap().status().is_success());
    edge.stored_text(edge.a.id, "stop-7").await;
    assert!(
        send("rejoin-7", "JOIN")
            .await
            .unwrap()
            .status()
            .is_success()
    );
    edge.stored_text(edge.a.id, "rejoin-7").await;
    assert_eq!(status(&edge, &phone).await, MemberStatus::Subscribed);

    // The carrier resends the old STOP (same message id): answered, and nothing changes.
    assert!(send("stop-7", "STOP").await.unwrap().status().is_success());
    assert_eq!(status(&edge, &phone).await, MemberStatus::Subscribed);
    // And once the pipeline has taken the resend too (it finds the text already stored).
    edge.barrier("after-retry-7").await;
    assert_eq!(status(&edge, &phone).await, MemberStatus::Subscribed);
}

crate::both_backends!(
    a_stop_unsubscribes_before_the_2xx,
    a_retried_stop_does_not_undo_a_later_join,
);
