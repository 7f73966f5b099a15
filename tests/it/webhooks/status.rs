//! Status callbacks find the message by provider id and only move it forward; unknown ids are
//! answered 2xx and counted.

use chrono::Utc;
use floodgate::domain::{MemberStatus, MessageStatus};
use floodgate::store::{JoinedVia, NewTransactional};

use super::helpers::{
    self, Edge, NUMBER_A, edge, eventually, member, telnyx_status, twilio_status, vonage_dlr,
    vonage_signed,
};
use crate::support::Backend;

const RECEIPTS: &str = "floodgate_receipts_total";

/// Waits until the receipts stage has counted `n` callbacks of `carrier` with `outcome`.
async fn receipts(edge: &Edge, carrier: &str, outcome: &str, n: f64) {
    eventually(&format!("{n} {carrier} receipts {outcome}"), || async {
        let seen = edge
            .metric(RECEIPTS, carrier, &[("outcome", outcome)])
            .await;
        (seen >= n).then_some(())
    })
    .await;
}

async fn statuses_only_move_forward(backend: Backend) {
    let edge = edge(backend).await;

    // Twilio: delivered, then a late `sent` (callbacks are unordered).
    let id = edge.sent_message("twilio", "SMfwd").await;
    let post = |status| {
        edge.twilio("status", &twilio_status("SMfwd", status, None))
            .send()
    };
    assert_eq!(post("delivered").await.unwrap().status(), 200);
    let delivered = edge.wait_status(id, MessageStatus::Delivered).await;
    assert_eq!(post("sent").await.unwrap().status(), 200);
    assert_eq!(post("delivered").await.unwrap().status(), 200);
    receipts(&edge, "twilio", "stale", 2.0).await;
    let after = edge.message(id).await;
    assert_eq!(
        after.status,
        MessageStatus::Delivered,
        "a late `sent` moves nothing back"
    );
    assert_eq!(after.delivered_at, delivered.delivered_at);

    // Twilio: undelivered with a final error code (30005, unknown handset) is final.
    let id = edge.sent_message("twilio", "SMbad").await;
    let response = edge
        .twilio(
            "status",
            &twilio_status("SMbad", "undelivered", Some("30005")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let message = edge.wait_status(id, MessageStatus::Undelivered).await;
    assert_eq!(message.last_error_code.as_deref(), Some("30005"));
    let late = edge.twilio("status", &twilio_status("SMbad", "delivered", None));
    assert_eq!(late.send().await.unwrap().status(), 200);
    receipts(&edge, "twilio", "stale", 3.0).await;
    assert_eq!(edge.message(id).await.status, MessageStatus::Undelivered);

    // Telnyx: finalized delivered, then a late message.sent.
    let id = edge.sent_message("telnyx", "tx-fwd").await;
    let finalized = telnyx_status("message.finalized", "tx-fwd", "delivered", None);
    assert_eq!(
        edge.telnyx("status", finalized)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    edge.wait_status(id, MessageStatus::Delivered).await;
    let sent = telnyx_status("message.sent", "tx-fwd", "sent", None);
    assert_eq!(
        edge.telnyx("status", sent).send().await.unwrap().status(),
        200
    );
    receipts(&edge, "telnyx", "stale", 1.0).await;
    assert_eq!(edge.message(id).await.status, MessageStatus::Delivered);

    // Vonage: failed with err-code, then a late `accepted`.
    let id = edge.sent_message("vonage", "vg-fwd").await;
    let failed = vonage_signed(vonage_dlr("vg-fwd", "failed", "4"));
    assert_eq!(
        edge.vonage_post("status", &failed)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let message = edge.wait_status(id, MessageStatus::Undelivered).await;
    assert_eq!(message.last_error_code.as_deref(), Some("4"));
    let accepted = vonage_signed(vonage_dlr("vg-fwd", "accepted", "0"));
    assert_eq!(
        edge.vonage_get("status", &accepted)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    receipts(&edge, "vonage", "stale", 1.0).await;
    assert_eq!(edge.message(id).await.status, MessageStatus::Undelivered);
}

async fn unknown_provider_ids_are_2xx_and_counted(backend: Backend) {
    let edge = edge(backend).await;
    let twilio = edge.twilio("status", &twilio_status("SMnobody", "delivered", None));
    assert_eq!(twilio.send().await.unwrap().status(), 200);
    let telnyx = telnyx_status("message.finalized", "tx-nobody", "delivered", None);
    assert_eq!(
        edge.telnyx("status", telnyx).send().await.unwrap().status(),
        200
    );
    let vonage = vonage_signed(vonage_dlr("vg-nobody", "delivered", "0"));
    assert_eq!(
        edge.vonage_post("status", &vonage)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    for carrier in ["twilio", "telnyx", "vonage"] {
        // First seen as "early" (the send may not be recorded yet); dropped as "unknown" after the retries.
        receipts(&edge, carrier, "early", 1.0).await;
    }
    assert_eq!(edge.count("messages").await, 0, "nothing invented");
}

/// A subscribed member of community A and a message to them that `carrier` took as `provider_id`.
async fn sent_to_member(edge: &Edge, carrier: &str, provider_id: &str, n: u32) -> (i64, String) {
    let phone = member(n);
    let store = edge.store();
    let joined = store
        .subscribe(
            edge.a.id,
            &helpers::phone(&phone),
            JoinedVia::Import,
            None,
            None,
            Utc::now(),
        )
        .await
        .unwrap();
    let (to, from) = (helpers::phone(&phone), helpers::phone(NUMBER_A));
    let id = store
        .insert_transactional_message(&NewTransactional {
            community_id: edge.a.id,
            member_id: Some(joined.id),
            to: &to,
            from: Some(&from),
            carrier: &edge.carrier(carrier),
            body: "hello",
            at: Utc::now(),
        })
        .await
        .unwrap();
    store
        .record_send_result(id, Some(provider_id), MessageStatus::Sent, None)
        .await
        .unwrap();
    (id, phone)
}

async fn member_status(edge: &Edge, phone: &str) -> MemberStatus {
    edge.member(edge.a.id, phone).await.expect("member").status
}

async fn a_callback_saying_the_recipient_opted_out_unsubscribes_them(backend: Backend) {
    let edge = edge(backend).await;

    // Twilio: `failed` with 21610 (the member texted STOP to the sender at the carrier).
    let (id, phone) = sent_to_member(&edge, "twilio", "SMstop", 11).await;
    let failed = twilio_status("SMstop", "failed", Some("21610"));
    assert_eq!(
        edge.twilio("status", &failed)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    edge.wait_status(id, MessageStatus::Failed).await;
    eventually("the Twilio recipient unsubscribed", || async {
        (member_status(&edge, &phone).await == MemberStatus::Unsubscribed).then_some(())
    })
    .await;

    // Telnyx: `sending_failed` with 40300 (blocked due to STOP).
    let (id, phone) = sent_to_member(&edge, "telnyx", "tx-stop", 12).await;
    let finalized = telnyx_status(
        "message.finalized",
        "tx-stop",
        "sending_failed",
        Some("40300"),
    );
    assert_eq!(
        edge.telnyx("status", finalized)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    edge.wait_status(id, MessageStatus::Failed).await;
    eventually("the Telnyx recipient unsubscribed", || async {
        (member_status(&edge, &phone).await == MemberStatus::Unsubscribed).then_some(())
    })
    .await;

    // Another refusal is no opt-out.
    let (id, phone) = sent_to_member(&edge, "twilio", "SMgone", 13).await;
    let undelivered = twilio_status("SMgone", "undelivered", Some("30005"));
    assert_eq!(
        edge.twilio("status", &undelivered)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    edge.wait_status(id, MessageStatus::Undelivered).await;
    receipts(&edge, "twilio", "advanced", 2.0).await;
    assert_eq!(member_status(&edge, &phone).await, MemberStatus::Subscribed);
}

crate::both_backends!(
    a_callback_saying_the_recipient_opted_out_unsubscribes_them,
    statuses_only_move_forward,
    unknown_provider_ids_are_2xx_and_counted
);
