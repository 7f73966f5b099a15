//! Broadcasts: idempotent creation, isolation, resumable fan-out and cancellation.

use chrono::{Duration, Utc};
use floodgate::domain::{MessageBody, MessageStatus, SenderAddress};
use floodgate::store::{
    AdvanceOutcome, Backend, BroadcastStatus, CreateBroadcast, NewBroadcast, ResendCandidate,
    StoreError,
};

use super::fixtures::{broadcast, claim, community, members, now};
use crate::support::TestDb;

async fn create_is_idempotent_per_community(db: TestDb) {
    let (c, _) = community(&db.store, 1).await;
    let (other, _) = community(&db.store, 2).await;
    let body = MessageBody::parse("Rally at noon").unwrap();
    let new = |community_id, hash| NewBroadcast {
        community_id,
        body: &body,
        idempotency_key: Some("key-1"),
        request_hash: Some(hash),
        send_at_ms: 1_700_000_000_000,
        recipients: 3,
    };
    let CreateBroadcast::Created(first) = db.store.create_broadcast(&new(c, "h1")).await.unwrap()
    else {
        panic!("first create must insert");
    };
    assert_eq!(
        (first.status, first.recipients, first.body.text()),
        (BroadcastStatus::Scheduled, 3, "Rally at noon")
    );
    let CreateBroadcast::Existing(same) = db.store.create_broadcast(&new(c, "h2")).await.unwrap()
    else {
        panic!("same key must find the first broadcast");
    };
    assert_eq!(
        (same.id, same.request_hash.as_deref()),
        (first.id, Some("h1")),
        "caller compares hashes"
    );
    let CreateBroadcast::Created(theirs) =
        db.store.create_broadcast(&new(other, "h1")).await.unwrap()
    else {
        panic!("keys are scoped by community");
    };
    assert_ne!(theirs.id, first.id);
}

async fn other_communities_cannot_see_a_broadcast(db: TestDb) {
    let (c, _) = community(&db.store, 1).await;
    let (other, _) = community(&db.store, 2).await;
    let mine = broadcast(&db.store, c, "mine").await;
    assert_eq!(
        db.store.broadcast(c, mine.id).await.unwrap().map(|b| b.id),
        Some(mine.id)
    );
    assert!(db.store.broadcast(other, mine.id).await.unwrap().is_none());
    assert!(
        db.store
            .broadcasts_page(other, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        db.store
            .cancel_broadcast(other, mine.id, Utc::now())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        db.store
            .broadcast(c, mine.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        BroadcastStatus::Scheduled
    );
}

async fn broadcasts_page_newest_first(db: TestDb) {
    let (c, _) = community(&db.store, 1).await;
    let mut ids = Vec::new();
    for n in 0..7 {
        ids.push(broadcast(&db.store, c, &format!("b{n}")).await.id);
    }
    let first = db.store.broadcasts_page(c, None, 4).await.unwrap();
    let rest = db
        .store
        .broadcasts_page(c, first.last().map(|b| b.id), 4)
        .await
        .unwrap();
    let seen: Vec<i64> = first.iter().chain(&rest).map(|b| b.id).collect();
    ids.reverse();
    assert_eq!(seen, ids);
}

async fn fan_out_of_ten_thousand_is_resumable(db: TestDb) {
    let (c, from) = community(&db.store, 1).await;
    let from = SenderAddress::from(from);
    let recipients = members(&db.store, c, 1, 10_000).await;
    let b = broadcast(&db.store, c, "Big news").await;
    assert!(
        db.store
            .set_broadcast_status(b.id, BroadcastStatus::FanningOut, Utc::now())
            .await
            .unwrap()
    );

    let mut inserted = 0;
    for batch in recipients.chunks(3_000) {
        inserted += db
            .store
            .insert_broadcast_messages(b.id, c, "twilio", Some(&from), batch)
            .await
            .unwrap();
    }
    assert_eq!(inserted, 10_000);
    let after = db.store.broadcast(c, b.id).await.unwrap().unwrap();
    assert_eq!(after.fanout_cursor, recipients.last().unwrap().0);
    assert!(after.started_at.is_some());

    let replay = db
        .store
        .insert_broadcast_messages(b.id, c, "twilio", Some(&from), &recipients)
        .await
        .unwrap();
    assert_eq!(replay, 0, "a resumed fan-out inserts nothing twice");
    let counts = db.store.message_counts(b.id).await.unwrap();
    assert_eq!((counts.queued, counts.total()), (10_000, 10_000));

    db.store.save_fanout_cursor(b.id, 5).await.unwrap();
    assert_eq!(
        db.store
            .broadcast(c, b.id)
            .await
            .unwrap()
            .unwrap()
            .fanout_cursor,
        after.fanout_cursor
    );
    assert!(
        !db.store
            .set_broadcast_status(b.id, BroadcastStatus::Scheduled, Utc::now())
            .await
            .unwrap()
    );
}

async fn cancel_stops_queued_messages_only(db: TestDb) {
    let (c, from) = community(&db.store, 1).await;
    let from = SenderAddress::from(from);
    let recipients = members(&db.store, c, 1, 5).await;
    let b = broadcast(&db.store, c, "Soon").await;
    db.store
        .insert_broadcast_messages(b.id, c, "twilio", Some(&from), &recipients[..3])
        .await
        .unwrap();
    let ids = message_ids(&db, b.id).await;
    assert!(claim(&db.store, ids[0]).await);
    db.store
        .record_send_result(ids[0], Some("SM1"), MessageStatus::Sent, None)
        .await
        .unwrap();
    assert!(claim(&db.store, ids[1]).await);

    let at = now();
    let cancelled = db
        .store
        .cancel_broadcast(c, b.id, at)
        .await
        .unwrap()
        .expect("own broadcast");
    assert_eq!(
        (cancelled.status, cancelled.cancelled_at),
        (BroadcastStatus::Cancelled, Some(at))
    );
    let counts = db.store.message_counts(b.id).await.unwrap();
    assert_eq!(
        (counts.sent, counts.sending, counts.cancelled, counts.queued),
        (1, 1, 1, 0)
    );
    assert!(
        !claim(&db.store, ids[2]).await,
        "a cancelled message is never claimed"
    );

    let late = db
        .store
        .insert_broadcast_messages(b.id, c, "twilio", Some(&from), &recipients[3..])
        .await
        .unwrap();
    assert_eq!(late, 0, "fan-out stops once cancelled");
    let again = db
        .store
        .cancel_broadcast(c, b.id, at + Duration::hours(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.cancelled_at, Some(at), "cancel is idempotent");
    assert!(
        !db.store
            .set_broadcast_status(b.id, BroadcastStatus::Completed, Utc::now())
            .await
            .unwrap()
    );
}

async fn sent_today_counts_only_sent_messages_since(db: TestDb) {
    let (c, from) = community(&db.store, 1).await;
    let from = SenderAddress::from(from);
    let recipients = members(&db.store, c, 1, 4).await;
    let b = broadcast(&db.store, c, "Count me").await;
    db.store
        .insert_broadcast_messages(b.id, c, "twilio", Some(&from), &recipients)
        .await
        .unwrap();
    let ids = message_ids(&db, b.id).await;
    let before = Utc::now() - Duration::milliseconds(1);
    for (n, id) in ids[..3].iter().enumerate() {
        claim(&db.store, *id).await;
        db.store
            .record_send_result(*id, Some(&format!("SM{n}")), MessageStatus::Sent, None)
            .await
            .unwrap();
    }
    assert_eq!(db.store.messages_sent_today(c, before).await.unwrap(), 3);
    let later = Utc::now() + Duration::seconds(1);
    assert_eq!(db.store.messages_sent_today(c, later).await.unwrap(), 0);
}

async fn cancel_racing_fan_out_leaves_nothing_queued(db: TestDb) {
    let (c, from) = community(&db.store, 1).await;
    let from = SenderAddress::from(from);
    let recipients = members(&db.store, c, 1, 4_000).await;
    let b = broadcast(&db.store, c, "Race").await;
    let fan_out = {
        let (store, from) = (db.store.clone(), from.clone());
        tokio::spawn(async move {
            for batch in recipients.chunks(200) {
                store
                    .insert_broadcast_messages(b.id, c, "twilio", Some(&from), batch)
                    .await
                    .unwrap();
            }
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    db.store
        .cancel_broadcast(c, b.id, Utc::now())
        .await
        .unwrap();
    fan_out.await.unwrap();
    let counts = db.store.message_counts(b.id).await.unwrap();
    assert_eq!(
        counts.queued, 0,
        "every batch either waited for the cancel or was cancelled by it: {counts:?}"
    );
}

async fn corrupt_stored_values_are_reported(db: TestDb) {
    let (c, _) = community(&db.store, 1).await;
    members(&db.store, c, 1, 2).await;
    let sql = "UPDATE members SET phone = 'not a phone' WHERE id = (SELECT MIN(id) FROM members)";
    let changed = match db.store.backend() {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
            sqlx::query(sql)
                .execute(&pool)
                .await
                .unwrap()
                .rows_affected()
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
            sqlx::query(sql)
                .execute(&pool)
                .await
                .unwrap()
                .rows_affected()
        }
    };
    assert_eq!(changed, 1);
    let page = db.store.members_page(c, None, None, 10).await;
    assert!(
        matches!(page, Err(StoreError::Corrupt(ref why)) if why.contains("members.phone")),
        "{page:?}"
    );
}

/// A broadcast completes once none of its messages is queued or sending: its real recipient
/// count is kept, it stops counting against the daily cap, and it can no longer be cancelled.
async fn a_broadcast_completes_when_its_last_message_is_out(db: TestDb) {
    let (c, from) = community(&db.store, 1).await;
    let from = SenderAddress::from(from);
    let recipients = members(&db.store, c, 1, 5).await;
    let b = broadcast(&db.store, c, "Finish me").await;
    let empty = broadcast(&db.store, c, "Nobody to send to").await;
    db.store
        .set_broadcast_status(b.id, BroadcastStatus::FanningOut, Utc::now())
        .await
        .unwrap();
    db.store
        .insert_broadcast_messages(b.id, c, "twilio", Some(&from), &recipients)
        .await
        .unwrap();
    assert!(db.store.finish_fanout(b.id, Utc::now()).await.unwrap());
    assert!(db.store.finish_fanout(empty.id, Utc::now()).await.unwrap());
    let sending = db.store.broadcast(c, b.id).await.unwrap().unwrap();
    assert_eq!(
        (sending.status, sending.recipients),
        (BroadcastStatus::Sending, 5),
        "recipients are the rows fan-out made"
    );
    let at = Utc::now();
    assert_eq!(
        db.store.complete_finished_broadcasts(at).await.unwrap(),
        vec![empty.id],
        "a broadcast with work left stays sending"
    );
    let since = Utc::now() - Duration::hours(1);
    assert_eq!(
        db.store.messages_committed_since(c, since).await.unwrap(),
        5,
        "an unfinished broadcast holds its whole budget"
    );
    let ids = message_ids(&db, b.id).await;
    for (n, id) in ids.iter().enumerate() {
        claim(&db.store, *id).await;
        let status = if n == 0 {
            MessageStatus::Failed
        } else {
            MessageStatus::Sent
        };
        db.store
            .record_send_result(*id, Some(&format!("SMdone{n}")), status, None)
            .await
            .unwrap();
        let done = db.store.complete_finished_broadcasts(at).await.unwrap();
        assert_eq!(
            done.is_empty(),
            n + 1 < ids.len(),
            "after message {n}: {done:?}"
        );
    }
    let completed = db.store.broadcast(c, b.id).await.unwrap().unwrap();
    assert_eq!(completed.status, BroadcastStatus::Completed);
    let completed_at = completed.completed_at.expect("completed_at is set");
    assert!(
        (completed_at - at).num_milliseconds().abs() <= 1,
        "{completed_at} vs {at} (PostgreSQL keeps microseconds)"
    );
    let tomorrow = Utc::now() + Duration::days(1);
    assert_eq!(
        db.store
            .messages_committed_since(c, tomorrow)
            .await
            .unwrap(),
        0,
        "a finished broadcast no longer counts against later days"
    );
    let after = db
        .store
        .cancel_broadcast(c, b.id, Utc::now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        after.status,
        BroadcastStatus::Completed,
        "cancel is too late"
    );
}

/// Cancelling a broadcast whose every message is already out completes it instead.
async fn cancel_after_the_last_send_completes(db: TestDb) {
    let (c, from) = community(&db.store, 1).await;
    let from = SenderAddress::from(from);
    let recipients = members(&db.store, c, 1, 2).await;
    let b = broadcast(&db.store, c, "All out").await;
    db.store
        .insert_broadcast_messages(b.id, c, "twilio", Some(&from), &recipients)
        .await
        .unwrap();
    db.store.finish_fanout(b.id, Utc::now()).await.unwrap();
    for (n, id) in message_ids(&db, b.id).await.iter().enumerate() {
        claim(&db.store, *id).await;
        db.store
            .record_send_result(*id, Some(&format!("SMout{n}")), MessageStatus::Sent, None)
            .await
            .unwrap();
    }
    let after = db
        .store
        .cancel_broadcast(c, b.id, Utc::now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.status, BroadcastStatus::Completed);
    assert_eq!(after.cancelled_at, None);
}

/// A message the carrier failed for a passing reason goes back to `queued` once per report,
/// only while it has attempts left and its broadcast is not cancelled.
async fn a_failed_message_is_requeued_within_its_attempts_and_not_after_cancel(db: TestDb) {
    let (c, from) = community(&db.store, 1).await;
    let from = SenderAddress::from(from);
    let recipients = members(&db.store, c, 1, 2).await;
    let b = broadcast(&db.store, c, "Again").await;
    db.store
        .insert_broadcast_messages(b.id, c, "twilio", Some(&from), &recipients)
        .await
        .unwrap();
    let ids = message_ids(&db, b.id).await;
    let fail = |id: i64, sid: &'static str| {
        let store = db.store.clone();
        async move {
            assert!(claim(&store, id).await);
            store
                .record_send_result(id, Some(sid), MessageStatus::Sent, None)
                .await
                .unwrap();
            let outcome = store
                .advance_status_by_provider_id(
                    "twilio",
                    sid,
                    MessageStatus::Undelivered,
                    Some("30003"),
                )
                .await
                .unwrap();
            assert!(
                matches!(outcome, AdvanceOutcome::Advanced { .. }),
                "{outcome:?}"
            );
        }
    };
    fail(ids[0], "SM1").await;
    let candidate = db.store.resend_candidate(ids[0], 5).await.unwrap();
    assert_eq!(
        candidate,
        Some(ResendCandidate {
            carrier: "twilio".into(),
            broadcast_id: Some(b.id),
            attempts: 1
        })
    );
    assert!(db.store.requeue_for_resend(ids[0], 1).await.unwrap());
    assert!(
        !db.store.requeue_for_resend(ids[0], 1).await.unwrap(),
        "a second delivery of the same report requeues nothing"
    );
    let m = db.store.message(ids[0]).await.unwrap().unwrap();
    assert_eq!(
        (m.status, m.provider_message_id, m.sent_at),
        (MessageStatus::Queued, None, None)
    );
    assert_eq!(
        db.store
            .advance_status_by_provider_id("twilio", "SM1", MessageStatus::Failed, None)
            .await
            .unwrap(),
        AdvanceOutcome::Unknown,
        "a late report about the failed attempt no longer finds the message"
    );
    // The second attempt fails too: with two attempts allowed, that was the last.
    fail(ids[0], "SM2").await;
    assert_eq!(db.store.resend_candidate(ids[0], 2).await.unwrap(), None);
    assert!(
        db.store
            .resend_candidate(ids[0], 3)
            .await
            .unwrap()
            .is_some()
    );

    fail(ids[1], "SM3").await;
    db.store
        .cancel_broadcast(c, b.id, Utc::now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        db.store.resend_candidate(ids[1], 5).await.unwrap(),
        None,
        "a cancelled broadcast's message stays failed"
    );
}

/// The broadcast's message ids in member order.
async fn message_ids(db: &TestDb, broadcast_id: i64) -> Vec<i64> {
    let messages = db
        .store
        .broadcast_messages(broadcast_id, None, None, 1_000)
        .await
        .unwrap();
    messages.iter().map(|m| m.id).collect()
}

on_both_backends!(
    a_failed_message_is_requeued_within_its_attempts_and_not_after_cancel,
    a_broadcast_completes_when_its_last_message_is_out,
    cancel_after_the_last_send_completes,
    create_is_idempotent_per_community,
    other_communities_cannot_see_a_broadcast,
    broadcasts_page_newest_first,
    fan_out_of_ten_thousand_is_resumable,
    cancel_stops_queued_messages_only,
    sent_today_counts_only_sent_messages_since,
    cancel_racing_fan_out_leaves_nothing_queued,
    corrupt_stored_values_are_reported,
);
