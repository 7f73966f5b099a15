//! Claims and status updates: exactly once, and only ever forward, even when concurrent.

use std::sync::Arc;

use floodgate::domain::MessageStatus::{self, Delivered, Failed, Sending, Sent, Undelivered};
use floodgate::domain::SenderAddress;
use floodgate::store::{
    AdvanceOutcome, NewTransactional, Priority, SendRecord, StatusUpdate, Store,
};

use super::fixtures::{claim, community, now, phone};
use crate::support::TestDb;

const CALLBACKS: [MessageStatus; 4] = [Sent, Delivered, Undelivered, Failed];

/// A queued transactional message to `phone(n)`.
async fn queued(store: &Store, community_id: i64, n: u32) -> i64 {
    let to = phone(n);
    let new = NewTransactional {
        community_id,
        member_id: None,
        to: &to,
        from: None,
        carrier: "twilio",
        body: "hello",
        at: now(),
    };
    store.insert_transactional_message(&new).await.unwrap()
}

/// A message handed to the carrier under provider id `SM{n}`, still `sending`.
async fn in_flight(store: &Store, community_id: i64, n: u32) -> (i64, String) {
    let id = queued(store, community_id, n).await;
    let provider_id = format!("SM{n}");
    assert!(
        store
            .record_send_result(id, Some(&provider_id), Sending, None)
            .await
            .unwrap()
    );
    (id, provider_id)
}

fn permutations(items: &[MessageStatus]) -> Vec<Vec<MessageStatus>> {
    if items.len() <= 1 {
        return vec![items.to_vec()];
    }
    let mut all = Vec::new();
    for (i, first) in items.iter().enumerate() {
        let mut rest = items.to_vec();
        rest.remove(i);
        for mut tail in permutations(&rest) {
            tail.insert(0, *first);
            all.push(tail);
        }
    }
    all
}

async fn transactional_message_round_trip(db: TestDb) {
    let (c, from) = community(&db.store, 1).await;
    let to = phone(1);
    let at = now();
    let new = NewTransactional {
        community_id: c,
        member_id: None,
        to: &to,
        from: Some(&from),
        carrier: "twilio",
        body: "Welcome!",
        at,
    };
    let id = db.store.insert_transactional_message(&new).await.unwrap();
    let m = db.store.message(id).await.unwrap().expect("stored");
    assert_eq!(
        (
            &m.to,
            m.from.as_ref().and_then(SenderAddress::phone_number),
            m.body.as_str(),
            m.priority
        ),
        (&to, Some(&from), "Welcome!", Priority::Transactional)
    );
    assert_eq!(
        (m.status, m.attempts, m.created_at, m.broadcast_id),
        (MessageStatus::Queued, 0, at, None)
    );
    assert!(db.store.message(id + 1).await.unwrap().is_none());
}

async fn claim_is_exactly_once_under_twenty_claimers(db: TestDb) {
    let (c, _) = community(&db.store, 1).await;
    let store = Arc::new(db.store.clone());
    for n in 0..5 {
        let id = queued(&store, c, n).await;
        let claimers: Vec<_> = (0..20)
            .map(|_| {
                let store = Arc::clone(&store);
                tokio::spawn(async move { claim(&store, id).await })
            })
            .collect();
        let mut wins = 0;
        for claimer in claimers {
            wins += usize::from(claimer.await.unwrap());
        }
        assert_eq!(wins, 1, "message {id}");
        let m = store.message(id).await.unwrap().unwrap();
        assert_eq!((m.status, m.attempts), (Sending, 1));
    }
}

async fn release_requeues_only_a_claimed_message(db: TestDb) {
    let (c, _) = community(&db.store, 1).await;
    let id = queued(&db.store, c, 1).await;
    assert!(
        !db.store.release_message(id, Some("429")).await.unwrap(),
        "not claimed yet"
    );
    assert!(claim(&db.store, id).await);
    assert!(db.store.release_message(id, Some("429")).await.unwrap());
    assert!(claim(&db.store, id).await);
    let m = db.store.message(id).await.unwrap().unwrap();
    assert_eq!(
        (m.status, m.attempts, m.last_error_code.as_deref()),
        (Sending, 2, Some("429"))
    );
}

async fn callbacks_only_move_forward_in_every_order(db: TestDb) {
    let (c, _) = community(&db.store, 1).await;
    for (n, order) in (0u32..).zip(permutations(&CALLBACKS)) {
        let (id, provider_id) = in_flight(&db.store, c, n).await;
        let mut model = Sending;
        for status in &order {
            let outcome = db
                .store
                .advance_status_by_provider_id("twilio", &provider_id, *status, None)
                .await
                .unwrap();
            if model.can_advance_to(*status) {
                assert!(
                    matches!(outcome, AdvanceOutcome::Advanced { message_id, .. } if message_id == id),
                    "{order:?}"
                );
                model = *status;
            } else {
                assert_eq!(
                    outcome,
                    AdvanceOutcome::Stale {
                        message_id: id,
                        current: model
                    },
                    "{order:?}"
                );
            }
        }
        let m = db.store.message(id).await.unwrap().unwrap();
        let first_terminal = order.iter().find(|s| s.is_terminal()).copied();
        assert_eq!(Some(m.status), first_terminal, "{order:?}");
        assert!(m.sent_at.is_some());
        assert_eq!(m.delivered_at.is_some(), m.status == Delivered);
        assert!(
            !db.store
                .record_send_result(id, None, Sent, None)
                .await
                .unwrap(),
            "a late send result is stale"
        );
    }
}

async fn concurrent_callbacks_never_go_backward(db: TestDb) {
    let (c, _) = community(&db.store, 1).await;
    let store = Arc::new(db.store.clone());
    for (n, order) in (0u32..).zip(permutations(&CALLBACKS)) {
        let (id, provider_id) = in_flight(&store, c, n).await;
        let tasks: Vec<_> = order
            .iter()
            .map(|status| {
                let (store, provider_id, status) =
                    (Arc::clone(&store), provider_id.clone(), *status);
                tokio::spawn(async move {
                    let outcome = store
                        .advance_status_by_provider_id("twilio", &provider_id, status, None)
                        .await;
                    (status, outcome.unwrap())
                })
            })
            .collect();
        let mut terminal_wins = Vec::new();
        for task in tasks {
            let (status, outcome) = task.await.unwrap();
            if status.is_terminal() && matches!(outcome, AdvanceOutcome::Advanced { .. }) {
                terminal_wins.push(status);
            }
        }
        assert_eq!(
            terminal_wins.len(),
            1,
            "exactly one verdict wins: {terminal_wins:?}"
        );
        let m = store.message(id).await.unwrap().unwrap();
        assert_eq!(
            m.status, terminal_wins[0],
            "the winner is what stays ({order:?})"
        );
    }
}

async fn unknown_provider_id_is_reported(db: TestDb) {
    let (c, _) = community(&db.store, 1).await;
    let (_, provider_id) = in_flight(&db.store, c, 1).await;
    let outcome = db
        .store
        .advance_status_by_provider_id("twilio", "SM-nope", Delivered, None)
        .await
        .unwrap();
    assert_eq!(outcome, AdvanceOutcome::Unknown);
    let other_carrier = db
        .store
        .advance_status_by_provider_id("telnyx", &provider_id, Delivered, None)
        .await
        .unwrap();
    assert_eq!(
        other_carrier,
        AdvanceOutcome::Unknown,
        "provider ids are per carrier"
    );
    let failed = db
        .store
        .advance_status_by_provider_id("twilio", &provider_id, Failed, Some("30003"))
        .await
        .unwrap();
    assert!(matches!(failed, AdvanceOutcome::Advanced { ref to, .. } if *to == phone(1)));
}

/// One transaction of callbacks: each gets its own outcome, in the order given, whatever order
/// the rows are visited in; two callbacks for one message apply one after the other.
async fn a_batch_of_callbacks_answers_each_in_order(db: TestDb) {
    let (c, _) = community(&db.store, 1).await;
    let (first, first_sid) = in_flight(&db.store, c, 1).await;
    let (second, second_sid) = in_flight(&db.store, c, 2).await;
    let update = |sid: &str, status, code: Option<&str>| StatusUpdate {
        carrier: "twilio".into(),
        provider_message_id: sid.into(),
        status,
        error_code: code.map(str::to_owned),
    };
    let outcomes = db
        .store
        .advance_statuses(&[
            update(&second_sid, Delivered, None),
            update("SM-nope", Sent, None),
            update(&first_sid, Sent, None),
            update(&first_sid, Undelivered, Some("30005")),
            update(&second_sid, Sent, None),
        ])
        .await
        .unwrap();
    let kinds: Vec<(Option<i64>, &str)> = outcomes
        .iter()
        .map(|o| match o {
            AdvanceOutcome::Advanced { message_id, .. } => (Some(*message_id), "advanced"),
            AdvanceOutcome::Stale { message_id, .. } => (Some(*message_id), "stale"),
            AdvanceOutcome::Unknown => (None, "unknown"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            (Some(second), "advanced"),
            (None, "unknown"),
            (Some(first), "advanced"),
            (Some(first), "advanced"),
            (Some(second), "stale"),
        ]
    );
    let m = db.store.message(first).await.unwrap().unwrap();
    assert_eq!(
        (m.status, m.last_error_code.as_deref()),
        (Undelivered, Some("30005"))
    );
    assert_eq!(db.store.advance_statuses(&[]).await.unwrap(), []);
}

/// One batch of send results: each row gets its own provider id, status and code; sent_at is
/// set for a carrier verdict but not for a cancel; nothing moves back; the furthest of two
/// results for one message wins.
async fn a_batch_of_send_results_lands_row_by_row(db: TestDb) {
    let (c, _) = community(&db.store, 1).await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let id = queued(&db.store, c, 20_000 + n).await;
        assert!(claim(&db.store, id).await);
        ids.push(id);
    }
    // The fifth was delivered already (its callback won the race).
    db.store
        .record_send_result(ids[4], Some("SMfifth"), Sent, None)
        .await
        .unwrap();
    db.store
        .advance_status_by_provider_id("twilio", "SMfifth", Delivered, None)
        .await
        .unwrap();
    let record = |id, pid: Option<&str>, status, code: Option<&str>| SendRecord {
        id,
        provider_message_id: pid.map(str::to_owned),
        status,
        error_code: code.map(str::to_owned),
    };
    db.store
        .record_send_results(&[
            record(ids[0], Some("SMzero"), Sent, None),
            record(ids[1], None, Failed, Some("21211")),
            record(ids[2], None, MessageStatus::Cancelled, Some("opted_out")),
            record(ids[3], None, Sending, Some("throttled")),
            record(ids[3], Some("SMthree"), Sent, None),
            record(ids[4], Some("SMlate"), Sent, None),
        ])
        .await
        .unwrap();
    let m = |i: usize| {
        let store = db.store.clone();
        let id = ids[i];
        async move { store.message(id).await.unwrap().unwrap() }
    };
    let zero = m(0).await;
    assert_eq!(
        (zero.status, zero.provider_message_id.as_deref()),
        (Sent, Some("SMzero"))
    );
    assert!(zero.sent_at.is_some());
    let one = m(1).await;
    assert_eq!(
        (one.status, one.last_error_code.as_deref()),
        (Failed, Some("21211"))
    );
    assert!(
        one.sent_at.is_some(),
        "a carrier verdict means it was handed over"
    );
    let two = m(2).await;
    assert_eq!(two.status, MessageStatus::Cancelled);
    assert_eq!(two.last_error_code.as_deref(), Some("opted_out"));
    assert!(two.sent_at.is_none(), "a cancelled message was never sent");
    let three = m(3).await;
    assert_eq!(
        (three.status, three.provider_message_id.as_deref()),
        (Sent, Some("SMthree"))
    );
    let four = m(4).await;
    assert_eq!(
        (four.status, four.provider_message_id.as_deref()),
        (Delivered, Some("SMfifth")),
        "a late result never moves a message back"
    );
}

/// A delivered callback racing the batch that records the send: it may find nothing yet (the
/// stage then retries), but it must never be dropped as stale while the message is behind it.
async fn a_callback_racing_the_send_record_is_never_called_stale(db: TestDb) {
    let (c, _) = community(&db.store, 1).await;
    let store = Arc::new(db.store.clone());
    let mut ids = Vec::new();
    for n in 0..200 {
        let id = queued(&store, c, 10_000 + n).await;
        assert!(claim(&store, id).await);
        ids.push(id);
    }
    let mut tasks = Vec::new();
    for chunk in ids.chunks(10) {
        let records: Vec<SendRecord> = chunk
            .iter()
            .map(|id| SendRecord {
                id: *id,
                provider_message_id: Some(format!("SMrace{id}")),
                status: Sent,
                error_code: None,
            })
            .collect();
        let writer = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            writer.record_send_results(&records).await.unwrap();
        }));
        for id in chunk {
            let (store, provider_id) = (Arc::clone(&store), format!("SMrace{id}"));
            tasks.push(tokio::spawn(async move {
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
                while std::time::Instant::now() < deadline {
                    match store
                        .advance_status_by_provider_id("twilio", &provider_id, Delivered, None)
                        .await
                        .unwrap()
                    {
                        AdvanceOutcome::Unknown => tokio::task::yield_now().await,
                        AdvanceOutcome::Advanced { .. } => return,
                        stale => panic!("{provider_id}: a first delivered callback was {stale:?}"),
                    }
                }
                panic!("{provider_id}: the send record never became visible");
            }));
        }
    }
    for task in tasks {
        task.await.unwrap();
    }
    for id in ids {
        let m = store.message(id).await.unwrap().unwrap();
        assert_eq!(m.status, Delivered, "message {id}");
    }
}

on_both_backends!(
    a_batch_of_callbacks_answers_each_in_order,
    a_batch_of_send_results_lands_row_by_row,
    a_callback_racing_the_send_record_is_never_called_stale,
    transactional_message_round_trip,
    claim_is_exactly_once_under_twenty_claimers,
    release_requeues_only_a_claimed_message,
    callbacks_only_move_forward_in_every_order,
    concurrent_callbacks_never_go_backward,
    unknown_provider_id_is_reported,
);
