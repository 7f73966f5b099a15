//! Small builders shared by the store cases.

use chrono::{DateTime, SubsecRound, Utc};
use floodgate::domain::{MessageBody, PhoneNumber};
use floodgate::store::{Broadcast, CreateBroadcast, NewBroadcast, NewCommunity, SenderKind, Store};

/// The current time at PostgreSQL's precision (microseconds), so stored times compare equal.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// A distinct, valid E.164 number for each `n`.
pub fn phone(n: u32) -> PhoneNumber {
    PhoneNumber::parse(&format!("+1415{:07}", 2_000_000 + n)).expect("test phone is E.164")
}

/// A sender number distinct from every member `phone(n)`.
pub fn sender(n: u32) -> PhoneNumber {
    PhoneNumber::parse(&format!("+18002{n:06}")).expect("test sender is E.164")
}

/// A community with one Twilio long code, `sender(n)`.
pub async fn community(store: &Store, n: u32) -> (i64, PhoneNumber) {
    let community = store
        .create_community(&NewCommunity::new(format!("community {n}")))
        .await
        .unwrap();
    let number = sender(n);
    store
        .add_sender_number(
            community.id,
            "twilio",
            &number,
            SenderKind::LongCode,
            Some(1.0),
        )
        .await
        .unwrap();
    (community.id, number)
}

/// A new scheduled broadcast without an idempotency key.
pub async fn broadcast(store: &Store, community_id: i64, text: &str) -> Broadcast {
    let body = MessageBody::parse(text).unwrap();
    let new = NewBroadcast {
        community_id,
        body: &body,
        idempotency_key: None,
        request_hash: None,
        send_at_ms: Utc::now().timestamp_millis(),
        recipients: 0,
    };
    match store.create_broadcast(&new).await.unwrap() {
        CreateBroadcast::Created(b) => b,
        CreateBroadcast::Existing(b) => panic!("no key, yet found existing broadcast {}", b.id),
    }
}

/// Imports `count` members numbered from `first` and returns them as fan-out recipients.
pub async fn members(
    store: &Store,
    community_id: i64,
    first: u32,
    count: u32,
) -> Vec<(i64, PhoneNumber)> {
    let phones: Vec<PhoneNumber> = (first..first + count).map(phone).collect();
    store
        .import_members(community_id, &phones, Utc::now())
        .await
        .unwrap();
    store
        .subscribed_member_batch(community_id, 0, i64::MAX)
        .await
        .unwrap()
}

/// Claims one message the way the deliver stage does (with a one-minute lease); true if won.
pub async fn claim(store: &Store, id: i64) -> bool {
    let now = chrono::Utc::now().timestamp_millis();
    !store
        .claim_for_delivery(&[id], now, now + 60_000)
        .await
        .unwrap()
        .claimed
        .is_empty()
}
