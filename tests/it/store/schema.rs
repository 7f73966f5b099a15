//! Migrations, communities, sender numbers, API keys and the outbox.

use floodgate::domain::{SenderAddress, SenderKind as Kind};
use floodgate::store::{BroadcastStatus, NewCommunity, NewSender, SenderKind, Store};

use super::fixtures::{broadcast, community, members, sender};
use crate::support::TestDb;

async fn migrations_are_idempotent(db: TestDb) {
    db.store.migrate().await.unwrap();
    let again = Store::connect(&db.url).await.unwrap();
    again.migrate().await.unwrap();
    again.ping().await.unwrap();
}

async fn community_is_found_by_its_number(db: TestDb) {
    let (id, number) = community(&db.store, 1).await;
    let second = sender(2);
    db.store
        .add_sender_number(id, "telnyx", &second, SenderKind::TollFree, None)
        .await
        .unwrap();

    let (found, by) = db
        .store
        .community_by_address(&second.clone().into())
        .await
        .unwrap()
        .expect("known number");
    assert_eq!(found.id, id);
    assert_eq!(found.join_keyword, "JOIN");
    assert!(found.stop_reply.contains("unsubscribed"));
    assert_eq!(
        (by.carrier.as_str(), by.kind, by.rate_per_second),
        ("telnyx", SenderKind::TollFree, None)
    );

    let numbers: Vec<_> = db
        .store
        .sender_numbers(id)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.number)
        .collect();
    assert_eq!(numbers, vec![number, second]);
    assert!(
        db.store
            .community_by_address(&sender(3).into())
            .await
            .unwrap()
            .is_none()
    );
    let taken = db
        .store
        .add_sender_number(id, "twilio", &sender(2), SenderKind::LongCode, None)
        .await;
    assert!(taken.is_err(), "a number belongs to one community");
}

async fn api_key_lookup_and_revoke(db: TestDb) {
    let (id, _) = community(&db.store, 1).await;
    let key = db
        .store
        .insert_api_key(id, "fg_abc", "hash-1")
        .await
        .unwrap();
    let found = db
        .store
        .api_key_by_prefix("fg_abc")
        .await
        .unwrap()
        .expect("stored key");
    assert_eq!(
        (found.community_id, found.hash.as_str(), found.revoked_at),
        (id, "hash-1", None)
    );
    assert!(
        db.store
            .api_key_by_prefix("fg_nope")
            .await
            .unwrap()
            .is_none()
    );

    assert!(db.store.revoke_api_key(key.id).await.unwrap());
    let revoked = db
        .store
        .api_key_by_prefix("fg_abc")
        .await
        .unwrap()
        .unwrap()
        .revoked_at
        .expect("revoked");
    assert!(db.store.revoke_api_key(key.id).await.unwrap());
    let still = db
        .store
        .api_key_by_prefix("fg_abc")
        .await
        .unwrap()
        .unwrap()
        .revoked_at;
    assert_eq!(still, Some(revoked), "revoking twice keeps the first time");
    assert!(!db.store.revoke_api_key(key.id + 100).await.unwrap());
}

async fn outbox_push_peek_delete(db: TestDb) {
    assert_eq!(db.store.outbox_len().await.unwrap(), 0);
    let a = db
        .store
        .outbox_push("member.subscribed", b"\x00\x01binary")
        .await
        .unwrap();
    let b = db.store.outbox_push("message.sent", b"two").await.unwrap();
    let c = db
        .store
        .outbox_push("message.sent", b"three")
        .await
        .unwrap();

    let first = db.store.outbox_peek(2).await.unwrap();
    assert_eq!(first.iter().map(|i| i.id).collect::<Vec<_>>(), vec![a, b]);
    assert_eq!(first[0].payload, b"\x00\x01binary");
    assert_eq!(first[0].routing_key, "member.subscribed");
    let again = db.store.outbox_peek(10).await.unwrap();
    assert_eq!(again.len(), 3, "peek does not remove");
    assert_eq!(again[0].attempts, 1, "each peek counts an attempt");

    assert_eq!(db.store.outbox_delete(&[a, b, 9_999]).await.unwrap(), 2);
    assert_eq!(db.store.outbox_delete(&[a]).await.unwrap(), 0);
    assert_eq!(db.store.outbox_len().await.unwrap(), 1);
    assert_eq!(db.store.outbox_peek(10).await.unwrap()[0].id, c);
}

async fn a_short_code_is_stored_found_and_sent_from_as_its_digits(db: TestDb) {
    let community = db
        .store
        .create_community(&NewCommunity::new("short"))
        .await
        .unwrap();
    let code = SenderAddress::parse("45678", Kind::ShortCode).unwrap();
    db.store
        .add_sender_number(community.id, "twilio", code.clone(), Kind::ShortCode, None)
        .await
        .unwrap();
    let (found, by) = db
        .store
        .community_by_address(&code)
        .await
        .unwrap()
        .expect("the short code's community");
    assert_eq!(
        (found.id, by.number.as_str(), by.kind),
        (community.id, "45678", SenderKind::ShortCode)
    );
    assert_eq!(
        db.store.sender_numbers(community.id).await.unwrap()[0].number,
        code
    );

    // A broadcast from it: the rows carry the digits and read back whole.
    let recipients = members(&db.store, community.id, 1, 2).await;
    let b = broadcast(&db.store, community.id, "From a short code").await;
    db.store
        .set_broadcast_status(b.id, BroadcastStatus::FanningOut, chrono::Utc::now())
        .await
        .unwrap();
    db.store
        .insert_broadcast_messages(b.id, community.id, "twilio", Some(&code), &recipients)
        .await
        .unwrap();
    let ids = db.store.broadcast_message_ids(b.id, 0, 10).await.unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    let claimed = db
        .store
        .claim_for_delivery(&ids, now, now + 60_000)
        .await
        .unwrap()
        .claimed;
    assert_eq!(claimed.len(), 2);
    assert!(claimed.iter().all(|m| m.from.as_ref() == Some(&code)));
    let message = db.store.message(ids[0]).await.unwrap().expect("stored");
    assert_eq!(message.from, Some(code));
}

async fn a_community_and_its_number_are_created_together_or_not_at_all(db: TestDb) {
    let (first, taken) = community(&db.store, 1).await;
    let sender = |number: SenderAddress| NewSender {
        carrier: "twilio".into(),
        number,
        kind: SenderKind::LongCode,
        rate_per_second: Some(2.0),
    };
    let refused = db
        .store
        .create_community_with_sender(&NewCommunity::new("second"), &sender(taken.into()))
        .await;
    assert!(refused.is_err(), "the number belongs to community {first}");
    let (third, number) = db
        .store
        .create_community_with_sender(&NewCommunity::new("third"), &sender(sender_of(3)))
        .await
        .unwrap();
    assert_eq!(
        (number.community_id, number.rate_per_second),
        (third.id, Some(2.0))
    );
    for id in first + 1..third.id {
        let left = db.store.community(id).await.unwrap();
        assert!(
            left.is_none_or(|c| c.name != "second"),
            "a community without its number was left behind"
        );
    }
}

/// `sender(n)` as a sender address.
fn sender_of(n: u32) -> SenderAddress {
    sender(n).into()
}

on_both_backends!(
    migrations_are_idempotent,
    a_community_and_its_number_are_created_together_or_not_at_all,
    community_is_found_by_its_number,
    a_short_code_is_stored_found_and_sent_from_as_its_digits,
    api_key_lookup_and_revoke,
    outbox_push_peek_delete,
);
