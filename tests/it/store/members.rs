//! Subscriptions, imports and keyset paging.

use chrono::{Duration, Utc};
use floodgate::domain::{MemberStatus, SenderAddress};
use floodgate::store::{ImportOutcome, JoinedVia, NewTransactional};

use super::fixtures::{community, now, phone};
use crate::support::TestDb;

async fn subscribe_resubscribe_unsubscribe_are_idempotent(db: TestDb) {
    let (c, number) = community(&db.store, 1).await;
    let number = SenderAddress::from(number);
    let (p, t0) = (phone(1), now());

    let first = db
        .store
        .subscribe(c, &p, JoinedVia::Keyword, Some(&number), None, t0)
        .await
        .unwrap();
    assert_eq!(
        (first.status, first.subscribed_at, first.via_number.as_ref()),
        (MemberStatus::Subscribed, Some(t0), Some(&number))
    );
    let again = db
        .store
        .subscribe(c, &p, JoinedVia::Api, None, None, t0 + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(again, first, "a repeated JOIN keeps the original consent");
    assert!(db.store.is_subscribed(first.id).await.unwrap());

    let t1 = t0 + Duration::hours(2);
    let gone = db
        .store
        .unsubscribe(c, &p, JoinedVia::Keyword, t1)
        .await
        .unwrap();
    assert_eq!(
        (gone.id, gone.status, gone.unsubscribed_at),
        (first.id, MemberStatus::Unsubscribed, Some(t1))
    );
    let twice = db
        .store
        .unsubscribe(c, &p, JoinedVia::Keyword, t1 + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(twice, gone, "a second STOP keeps the first time");
    assert!(!db.store.is_subscribed(first.id).await.unwrap());

    let t2 = t0 + Duration::hours(3);
    let back = db
        .store
        .subscribe(c, &p, JoinedVia::Api, None, None, t2)
        .await
        .unwrap();
    assert_eq!(
        (back.id, back.status, back.subscribed_at),
        (first.id, MemberStatus::Subscribed, Some(t2))
    );
    assert_eq!(
        (back.joined_via, back.unsubscribed_at),
        (JoinedVia::Api, None)
    );
    assert_eq!(db.store.member_by_phone(c, &p).await.unwrap(), Some(back));
    assert!(!db.store.is_subscribed(i64::MAX).await.unwrap());
}

async fn stop_from_a_stranger_is_remembered(db: TestDb) {
    let (c, _) = community(&db.store, 1).await;
    let stranger = db
        .store
        .unsubscribe(c, &phone(7), JoinedVia::Keyword, Utc::now())
        .await
        .unwrap();
    assert_eq!(
        (stranger.status, stranger.subscribed_at),
        (MemberStatus::Unsubscribed, None)
    );
    let outcome = db
        .store
        .import_members(c, &[phone(7)], Utc::now())
        .await
        .unwrap();
    assert_eq!(
        outcome,
        ImportOutcome {
            inserted: 0,
            already_present: 1
        }
    );
    assert!(!db.store.is_subscribed(stranger.id).await.unwrap());
}

async fn import_skips_duplicates_and_keeps_unsubscribed(db: TestDb) {
    let (c, _) = community(&db.store, 1).await;
    let (other, _) = community(&db.store, 2).await;
    let now = Utc::now();
    db.store
        .subscribe(c, &phone(1), JoinedVia::Keyword, None, None, now)
        .await
        .unwrap();
    db.store
        .subscribe(c, &phone(2), JoinedVia::Keyword, None, None, now)
        .await
        .unwrap();
    db.store
        .unsubscribe(c, &phone(2), JoinedVia::Keyword, now)
        .await
        .unwrap();
    db.store
        .subscribe(other, &phone(3), JoinedVia::Keyword, None, None, now)
        .await
        .unwrap();

    let mut phones: Vec<_> = (1..=25_000).map(phone).collect();
    phones.push(phone(5));
    let outcome = db.store.import_members(c, &phones, now).await.unwrap();
    assert_eq!(
        outcome,
        ImportOutcome {
            inserted: 24_998,
            already_present: 2
        }
    );

    let p2 = db
        .store
        .member_by_phone(c, &phone(2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        p2.status,
        MemberStatus::Unsubscribed,
        "an import never resubscribes"
    );
    let p3 = db
        .store
        .member_by_phone(c, &phone(3))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        p3.joined_via,
        JoinedVia::Import,
        "another community's member is a stranger here"
    );
    assert_eq!(
        db.store
            .count_members(c, Some(MemberStatus::Subscribed))
            .await
            .unwrap(),
        24_999
    );
    assert_eq!(db.store.count_members(c, None).await.unwrap(), 25_000);
    assert_eq!(db.store.count_members(other, None).await.unwrap(), 1);
    let again = db.store.import_members(c, &phones, now).await.unwrap();
    assert_eq!(
        again,
        ImportOutcome {
            inserted: 0,
            already_present: 25_000
        }
    );
}

async fn keyset_pages_have_no_gaps_or_duplicates(db: TestDb) {
    let (c, _) = community(&db.store, 1).await;
    let (other, _) = community(&db.store, 2).await;
    let phones: Vec<_> = (1..=2_500).map(phone).collect();
    db.store
        .import_members(c, &phones, Utc::now())
        .await
        .unwrap();
    db.store
        .import_members(other, &phones[..100], Utc::now())
        .await
        .unwrap();
    for n in (1..=2_500).step_by(10) {
        db.store
            .unsubscribe(c, &phone(n), JoinedVia::Api, Utc::now())
            .await
            .unwrap();
    }

    for (status, expected) in [
        (None, 2_500),
        (Some(MemberStatus::Subscribed), 2_250),
        (Some(MemberStatus::Unsubscribed), 250),
    ] {
        let (mut seen, mut after) = (Vec::new(), None);
        loop {
            let page = db.store.members_page(c, status, after, 333).await.unwrap();
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            assert!(
                page.iter()
                    .all(|m| m.community_id == c && status.is_none_or(|s| m.status == s))
            );
            seen.extend(page.iter().map(|m| m.id));
        }
        let mut sorted = seen.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(
            (seen.len(), sorted),
            (expected, seen.clone()),
            "status {status:?}"
        );
    }

    let (mut fanned, mut cursor) = (0, 0);
    loop {
        let batch = db
            .store
            .subscribed_member_batch(c, cursor, 400)
            .await
            .unwrap();
        let Some((last, _)) = batch.last() else { break };
        cursor = *last;
        fanned += batch.len();
    }
    assert_eq!(fanned, 2_250);
}

async fn a_carrier_opt_out_unsubscribes_the_recipient_of_a_message(db: TestDb) {
    let (c, number) = community(&db.store, 1).await;
    let (p, t0) = (phone(1), now());
    let member = db
        .store
        .subscribe(c, &p, JoinedVia::Import, None, None, t0)
        .await
        .unwrap();
    let id = db
        .store
        .insert_transactional_message(&NewTransactional {
            community_id: c,
            member_id: Some(member.id),
            to: &p,
            from: Some(&number),
            carrier: "twilio",
            body: "hello",
            at: t0,
        })
        .await
        .unwrap();
    let t1 = t0 + Duration::minutes(1);
    let gone = db.store.unsubscribe_recipient(id, t1).await.unwrap();
    let gone = gone.expect("the message's recipient");
    assert_eq!(
        (gone.id, gone.status, gone.unsubscribed_at),
        (member.id, MemberStatus::Unsubscribed, Some(t1))
    );
    // A repeated report keeps the first time.
    let again = db
        .store
        .unsubscribe_recipient(id, t1 + Duration::minutes(1))
        .await
        .unwrap();
    assert_eq!(again.and_then(|m| m.unsubscribed_at), Some(t1));
    assert_eq!(
        db.store.unsubscribe_recipient(id + 1000, t1).await.unwrap(),
        None
    );
}

on_both_backends!(
    a_carrier_opt_out_unsubscribes_the_recipient_of_a_message,
    subscribe_resubscribe_unsubscribe_are_idempotent,
    stop_from_a_stranger_is_remembered,
    import_skips_duplicates_and_keeps_unsubscribed,
    keyset_pages_have_no_gaps_or_duplicates,
);

/// A STOP during a spike finds its member through the unique (community, phone) key. With the
/// statistics of a table that was empty, PostgreSQL read every subscribed row through the
/// (community, status) index instead: 70–380 ms a STOP at 30,000 members.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_finds_a_member_by_phone_through_its_key_right_after_an_import() {
    let db = crate::support::fresh_store(crate::support::Backend::Postgres).await;
    let (c, _) = community(&db.store, 1).await;
    let phones: Vec<_> = (1..=5_000).map(phone).collect();
    db.store
        .import_members(c, &phones, Utc::now())
        .await
        .unwrap();

    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let rows: f32 = sqlx::query_scalar("SELECT reltuples FROM pg_class WHERE relname = 'members'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(
        rows >= 5_000.0,
        "statistics still from before the import: {rows} rows"
    );
    let plan: Vec<String> = sqlx::query_scalar(&format!(
        "EXPLAIN UPDATE members SET status = 'unsubscribed' \
         WHERE community_id = {c} AND phone = '{}' AND status = 'subscribed'",
        phone(4_321).as_str()
    ))
    .fetch_all(&pool)
    .await
    .unwrap();
    let plan = plan.join("\n");
    assert!(
        plan.contains("members_community_id_phone_key"),
        "the lookup does not use the unique key:\n{plan}"
    );
}
