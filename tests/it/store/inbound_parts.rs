//! Parts of long inbound texts: joined once whatever the order, retries idempotent, parts
//! processed at once complete their set exactly once, stale sets listed, old ones purged.

use floodgate::domain::{PhoneNumber, SenderAddress};
use floodgate::store::{NewInboundPart, PartsState};

use super::fixtures::{phone, sender};
use crate::support::TestDb;

const HOUR_MS: i64 = 3_600_000;

fn part<'a>(
    from: &'a PhoneNumber,
    to: &'a SenderAddress,
    reference: &'a str,
    (part, total): (u16, u16),
    id: &'a str,
    body: &'a str,
    at_ms: i64,
) -> NewInboundPart<'a> {
    NewInboundPart {
        carrier: "vonage",
        from,
        to,
        reference,
        total,
        part,
        provider_message_id: id,
        body,
        received_at_ms: at_ms,
    }
}

fn complete(state: PartsState) -> (String, String) {
    match state {
        PartsState::Complete(text) => {
            assert!(text.complete);
            (text.provider_message_id, text.body)
        }
        other => panic!("expected a complete text, got {other:?}"),
    }
}

async fn parts_join_in_order_whatever_order_they_came(db: TestDb) {
    let (from, to) = (phone(1), SenderAddress::from(sender(1)));
    let at = 1_000 * HOUR_MS;
    let add = |n, id, body| {
        let new = part(&from, &to, "ab", (n, 3), id, body, at + i64::from(n));
        let store = db.store.clone();
        async move { store.add_inbound_part(&new).await.unwrap() }
    };
    assert_eq!(
        add(3, "id-3", "three").await,
        PartsState::Waiting { have: 1, total: 3 }
    );
    assert_eq!(
        add(1, "id-1", "one ").await,
        PartsState::Waiting { have: 2, total: 3 }
    );
    // A carrier retry of a part changes nothing.
    assert_eq!(
        add(1, "id-1", "one ").await,
        PartsState::Waiting { have: 2, total: 3 }
    );
    let (id, body) = complete(add(2, "id-2", "two ").await);
    assert_eq!((id.as_str(), body.as_str()), ("id-1", "one two three"));
    // A retry after completion gets the same text back (the keyword layer de-duplicates it).
    assert_eq!(complete(add(3, "id-3", "three").await), (id, body));

    // Another sender's reference of the same name is another message.
    let other = phone(2);
    let new = part(&other, &to, "ab", (1, 2), "x-1", "else", at);
    assert_eq!(
        db.store.add_inbound_part(&new).await.unwrap(),
        PartsState::Waiting { have: 1, total: 2 }
    );
}

async fn parts_processed_at_once_complete_their_set_exactly_once(db: TestDb) {
    let (from, to) = (phone(3), SenderAddress::from(sender(1)));
    let total = 6u16;
    let ids: Vec<String> = (1..=total).map(|n| format!("c-{n}")).collect();
    let bodies: Vec<String> = (1..=total).map(|n| format!("<{n}>")).collect();
    let adds = (1..=total).map(|n| {
        let store = db.store.clone();
        let (from, to) = (from.clone(), to.clone());
        let (id, body) = (ids[n as usize - 1].clone(), bodies[n as usize - 1].clone());
        tokio::spawn(async move {
            let new = part(&from, &to, "77", (n, total), &id, &body, 5);
            store.add_inbound_part(&new).await.unwrap()
        })
    });
    let states = futures::future::join_all(adds).await;
    let done: Vec<_> = states
        .into_iter()
        .map(|s| s.unwrap())
        .filter(|s| matches!(s, PartsState::Complete(_)))
        .collect();
    assert_eq!(
        done.len(),
        1,
        "exactly one part completes the set: {done:?}"
    );
    assert_eq!(
        complete(done.into_iter().next().unwrap()).1,
        "<1><2><3><4><5><6>"
    );
}

async fn a_reused_reference_starts_a_new_message(db: TestDb) {
    let (from, to) = (phone(4), SenderAddress::from(sender(1)));
    let store = &db.store;
    for (n, id, body) in [(1, "old-1", "old "), (2, "old-2", "text")] {
        store
            .add_inbound_part(&part(&from, &to, "9", (n, 2), id, body, 10))
            .await
            .unwrap();
    }
    // Days later the handset's reference wraps round to 9 again.
    let first = part(&from, &to, "9", (1, 2), "new-1", "new ", 20);
    assert_eq!(
        store.add_inbound_part(&first).await.unwrap(),
        PartsState::Waiting { have: 1, total: 2 }
    );
    let second = part(&from, &to, "9", (2, 2), "new-2", "text", 21);
    assert_eq!(
        complete(store.add_inbound_part(&second).await.unwrap()),
        ("new-1".to_owned(), "new text".to_owned())
    );
    // A different total says the same: a new message, not the old one's missing part.
    let other = part(&from, &to, "9", (3, 3), "third-3", "!", 30);
    assert_eq!(
        store.add_inbound_part(&other).await.unwrap(),
        PartsState::Waiting { have: 1, total: 3 }
    );
}

async fn stale_sets_are_listed_and_old_complete_ones_purged(db: TestDb) {
    let (to, store) = (SenderAddress::from(sender(1)), &db.store);
    let (lonely, whole) = (phone(5), phone(6));
    store
        .add_inbound_part(&part(&lonely, &to, "1", (1, 2), "l-1", "half ", HOUR_MS))
        .await
        .unwrap();
    for n in [1, 2] {
        store
            .add_inbound_part(&part(
                &whole,
                &to,
                "1",
                (n, 2),
                &format!("w-{n}"),
                "x",
                HOUR_MS,
            ))
            .await
            .unwrap();
    }
    // Only the incomplete set is stale, and only once its first part is old enough.
    assert!(
        store
            .stale_inbound_part_sets(HOUR_MS, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let stale = store
        .stale_inbound_part_sets(2 * HOUR_MS, 10)
        .await
        .unwrap();
    assert_eq!(stale.len(), 1, "{stale:?}");
    assert_eq!(
        (&stale[0].from, stale[0].reference.as_str(), stale[0].total),
        (&lonely, "1", 2)
    );
    assert_eq!(stale[0].to, to);

    let so_far = store
        .inbound_parts_so_far("vonage", &lonely, "1")
        .await
        .unwrap()
        .expect("the set is there");
    assert_eq!((so_far.body.as_str(), so_far.complete), ("half ", false));
    assert_eq!(so_far.provider_message_id, "l-1");
    store
        .forget_inbound_parts("vonage", &lonely, "1")
        .await
        .unwrap();
    assert_eq!(
        store
            .inbound_parts_so_far("vonage", &lonely, "1")
            .await
            .unwrap(),
        None
    );

    // Purging removes old complete sets only.
    store
        .add_inbound_part(&part(&lonely, &to, "2", (1, 2), "l2-1", "again", HOUR_MS))
        .await
        .unwrap();
    assert_eq!(store.purge_inbound_part_sets(HOUR_MS).await.unwrap(), 0);
    assert_eq!(store.purge_inbound_part_sets(2 * HOUR_MS).await.unwrap(), 1);
    assert_eq!(
        store
            .inbound_parts_so_far("vonage", &whole, "1")
            .await
            .unwrap(),
        None
    );
    assert!(
        store
            .inbound_parts_so_far("vonage", &lonely, "2")
            .await
            .unwrap()
            .is_some()
    );
}

on_both_backends!(
    parts_join_in_order_whatever_order_they_came,
    parts_processed_at_once_complete_their_set_exactly_once,
    a_reused_reference_starts_a_new_message,
    stale_sets_are_listed_and_old_complete_ones_purged,
);
