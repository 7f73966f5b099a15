//! A message the carrier split into parts takes its status from every part's report: delivered
//! only when all are, undelivered or failed as soon as one is, and only ever forward.

use floodgate::domain::MessageStatus::{self, Delivered, Failed, Sent, Undelivered};
use floodgate::store::{AdvanceOutcome, NewTransactional, Store};

use super::fixtures::{community, now, phone};
use crate::support::TestDb;

/// 200 GSM-7 characters: two segments (153 + 47).
fn two_segments() -> String {
    "x".repeat(200)
}

/// A message of `body` in a new community `n`, recorded as sent under `first_part`'s id.
async fn sent(store: &Store, n: u32, body: &str, first_part: &str) -> i64 {
    let (c, number) = community(store, n).await;
    let to = phone(7);
    let id = store
        .insert_transactional_message(&NewTransactional {
            community_id: c,
            member_id: None,
            to: &to,
            from: Some(&number),
            carrier: "vonage",
            body,
            at: now(),
        })
        .await
        .unwrap();
    store
        .record_send_result(id, Some(first_part), Sent, None)
        .await
        .unwrap();
    id
}

async fn report(
    store: &Store,
    id: i64,
    part: &str,
    status: MessageStatus,
    code: Option<&str>,
) -> AdvanceOutcome {
    store
        .advance_part_status("vonage", id, part, status, code)
        .await
        .unwrap()
}

async fn status_of(store: &Store, id: i64) -> (MessageStatus, Option<String>) {
    let m = store.message(id).await.unwrap().unwrap();
    (m.status, m.last_error_code)
}

async fn delivered_only_when_every_part_is(db: TestDb) {
    let store = &db.store;
    let id = sent(store, 1, &two_segments(), "P1").await;
    // Part 2's DLR first: the message is no further than sent.
    let early = report(store, id, "P2", Delivered, None).await;
    assert_eq!(
        early,
        AdvanceOutcome::Stale {
            message_id: id,
            current: Sent
        }
    );
    // A repeat of it changes nothing either.
    let again = report(store, id, "P2", Delivered, None).await;
    assert_eq!(
        again,
        AdvanceOutcome::Stale {
            message_id: id,
            current: Sent
        }
    );
    let last = report(store, id, "P1", Delivered, None).await;
    assert!(
        matches!(last, AdvanceOutcome::Advanced { message_id, status: Delivered, delivered_at: Some(_), .. } if message_id == id),
        "{last:?}"
    );
    assert_eq!(status_of(store, id).await, (Delivered, None));
}

async fn one_negative_part_decides_at_once(db: TestDb) {
    let store = &db.store;
    let id = sent(store, 1, &two_segments(), "N1").await;
    report(store, id, "N1", Delivered, None).await;
    let failed = report(store, id, "N2", Undelivered, Some("4")).await;
    assert!(
        matches!(
            failed,
            AdvanceOutcome::Advanced {
                status: Undelivered,
                ..
            }
        ),
        "{failed:?}"
    );
    assert_eq!(status_of(store, id).await, (Undelivered, Some("4".into())));
    // Final: a later report of another kind moves nothing back or sideways.
    let late = report(store, id, "N2", Delivered, None).await;
    assert_eq!(
        late,
        AdvanceOutcome::Stale {
            message_id: id,
            current: Undelivered
        }
    );

    // A single-part message's report is the message's; a rejected part makes it failed.
    let single = sent(store, 2, "short", "S1").await;
    let rejected = report(store, single, "S1", Failed, Some("6")).await;
    assert!(matches!(
        rejected,
        AdvanceOutcome::Advanced { status: Failed, .. }
    ));
}

async fn a_reference_that_is_not_ours_is_unknown(db: TestDb) {
    let store = &db.store;
    let id = sent(store, 1, "short", "U1").await;
    assert_eq!(
        store
            .advance_part_status("twilio", id, "U1", Delivered, None)
            .await
            .unwrap(),
        AdvanceOutcome::Unknown,
        "another carrier's message"
    );
    assert_eq!(
        report(store, id + 1000, "U1", Delivered, None).await,
        AdvanceOutcome::Unknown
    );
    assert_eq!(status_of(store, id).await.0, Sent);
}

async fn parts_reported_at_once_all_count(db: TestDb) {
    let store = &db.store;
    // 400 GSM-7 characters: three segments.
    let id = sent(store, 1, &"y".repeat(400), "C1").await;
    let reports = (1..=3).map(|n| {
        let store = store.clone();
        tokio::spawn(async move { report(&store, id, &format!("C{n}"), Delivered, None).await })
    });
    let outcomes = futures::future::join_all(reports).await;
    let advanced = outcomes
        .into_iter()
        .filter(|o| matches!(o, Ok(AdvanceOutcome::Advanced { .. })))
        .count();
    assert_eq!(advanced, 1, "exactly the last part delivers the message");
    assert_eq!(status_of(store, id).await.0, Delivered);
}

on_both_backends!(
    delivered_only_when_every_part_is,
    one_negative_part_decides_at_once,
    a_reference_that_is_not_ours_is_unknown,
    parts_reported_at_once_all_count,
);
