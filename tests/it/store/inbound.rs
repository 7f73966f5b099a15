//! Inbound texts: dedupe on the carrier's id, and the keyword transaction.

use floodgate::domain::{MemberStatus, MessageStatus, PhoneNumber, SenderAddress};
use floodgate::store::{
    InboundAction, InboundApplied, InsertInbound, JoinedVia, MembershipChange, NewInbound,
    NewTransactional, Priority, SendCheck,
};

use super::fixtures::{community, now, phone};
use crate::support::TestDb;

fn text<'a>(
    community_id: i64,
    id: &'a str,
    from: &'a PhoneNumber,
    to: &'a SenderAddress,
    body: &'a str,
) -> NewInbound<'a> {
    NewInbound {
        community_id,
        carrier: "twilio",
        provider_message_id: id,
        from,
        to,
        body,
        keyword: Some(body),
        received_at: now(),
    }
}

async fn inbound_is_deduplicated(db: TestDb) {
    let (c, number) = community(&db.store, 1).await;
    let to = SenderAddress::from(&number);
    let member = phone(1);
    let first = db
        .store
        .insert_inbound(&text(c, "SM1", &member, &to, "JOIN"))
        .await
        .unwrap();
    let InsertInbound::Inserted(id) = first else {
        panic!("new text must insert")
    };
    let retry = db
        .store
        .insert_inbound(&text(c, "SM1", &member, &to, "JOIN"))
        .await
        .unwrap();
    assert_eq!(retry, InsertInbound::Duplicate(id));
    let mut other_carrier = text(c, "SM1", &member, &to, "JOIN");
    other_carrier.carrier = "telnyx";
    assert!(matches!(
        db.store.insert_inbound(&other_carrier).await.unwrap(),
        InsertInbound::Inserted(_)
    ));

    let page = db.store.inbound_page(c, None, 10).await.unwrap();
    assert_eq!(page.len(), 2);
    assert_eq!(
        (page[0].id, &page[0].from, page[0].keyword.as_deref()),
        (id, &member, Some("JOIN"))
    );
    assert!(
        db.store
            .inbound_page(c, Some(page[1].id), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn keyword_transaction_joins_replies_and_dedupes(db: TestDb) {
    let (c, number) = community(&db.store, 1).await;
    let to = SenderAddress::from(&number);
    let member = phone(1);
    let join = InboundAction {
        inbound: text(c, "SM1", &member, &to, "JOIN"),
        membership: MembershipChange::Subscribe,
        reply: Some("Welcome!"),
        sent_at_ms: 0,
    };
    let InboundApplied::Applied {
        inbound_id,
        member: Some(joined),
        reply_message_id: Some(reply),
    } = db.store.apply_inbound(&join).await.unwrap()
    else {
        panic!("a new JOIN subscribes and replies");
    };
    assert_eq!(
        (joined.status, joined.joined_via),
        (MemberStatus::Subscribed, JoinedVia::Keyword)
    );
    assert_eq!(
        (joined.via_inbound_id, joined.via_number.as_ref()),
        (Some(inbound_id), Some(&to))
    );
    let m = db.store.message(reply).await.unwrap().unwrap();
    assert_eq!(
        (
            &m.to,
            m.from.as_ref().and_then(SenderAddress::phone_number),
            m.body.as_str()
        ),
        (&member, Some(&number), "Welcome!")
    );
    assert_eq!(
        (m.priority, m.status, m.member_id),
        (
            Priority::Transactional,
            MessageStatus::Queued,
            Some(joined.id)
        )
    );

    let retry = db.store.apply_inbound(&join).await.unwrap();
    assert_eq!(retry, InboundApplied::Duplicate { inbound_id });
    let next = NewTransactional {
        community_id: c,
        member_id: None,
        to: &member,
        from: None,
        carrier: "twilio",
        body: "x",
        at: now(),
    };
    assert_eq!(
        db.store.insert_transactional_message(&next).await.unwrap(),
        reply + 1,
        "the retry queued no reply"
    );

    let stop = InboundAction {
        inbound: text(c, "SM2", &member, &to, "STOP"),
        membership: MembershipChange::Unsubscribe,
        reply: Some("Bye"),
        sent_at_ms: 0,
    };
    let InboundApplied::Applied {
        member: Some(left), ..
    } = db.store.apply_inbound(&stop).await.unwrap()
    else {
        panic!("STOP applies");
    };
    assert_eq!(
        (left.id, left.status),
        (joined.id, MemberStatus::Unsubscribed)
    );
    assert!(!db.store.is_subscribed(joined.id).await.unwrap());
}

async fn the_last_look_sends_a_stop_confirmation_but_not_an_overtaken_welcome(db: TestDb) {
    let (c, number) = community(&db.store, 1).await;
    let to = SenderAddress::from(&number);
    let member = phone(7);
    let keyword = |id, label, membership, reply| InboundAction {
        inbound: NewInbound {
            keyword: Some(label),
            ..text(c, id, &member, &to, "…")
        },
        membership,
        reply: Some(reply),
        sent_at_ms: 0,
    };
    let applied = |a| match a {
        InboundApplied::Applied {
            reply_message_id: Some(id),
            ..
        } => id,
        other => panic!("a reply was queued: {other:?}"),
    };
    let welcome = applied(
        db.store
            .apply_inbound(&keyword(
                "SM1",
                "opt_in",
                MembershipChange::Subscribe,
                "Welcome!",
            ))
            .await
            .unwrap(),
    );
    let stop = applied(
        db.store
            .apply_inbound(&keyword(
                "SM2",
                "opt_out",
                MembershipChange::Unsubscribe,
                "Bye",
            ))
            .await
            .unwrap(),
    );
    let help = applied(
        db.store
            .apply_inbound(&keyword("SM3", "help", MembershipChange::None, "Help text"))
            .await
            .unwrap(),
    );
    let now = chrono::Utc::now().timestamp_millis();
    let until = now + 60_000;
    let claim = db
        .store
        .claim_for_delivery(&[welcome, stop, help], now, until)
        .await
        .unwrap();
    assert_eq!(claim.claimed.len(), 3);
    assert!(claim.claimed.iter().all(|m| m.claimed_until_ms == until));
    let check = |id, until| db.store.send_check(id, until);
    assert_eq!(check(welcome, until).await.unwrap(), SendCheck::OptedOut);
    assert_eq!(check(stop, until).await.unwrap(), SendCheck::Go);
    assert_eq!(check(help, until).await.unwrap(), SendCheck::Go);
    assert_eq!(
        check(stop, until + 1).await.unwrap(),
        SendCheck::NotOurs,
        "another claim's lease"
    );
    assert_eq!(check(i64::MAX, until).await.unwrap(), SendCheck::NotOurs);
}

async fn keyword_transaction_for_strangers(db: TestDb) {
    let (c, number) = community(&db.store, 1).await;
    let to = SenderAddress::from(&number);
    let stranger = phone(9);
    let help = InboundAction {
        inbound: text(c, "SM1", &stranger, &to, "HELP"),
        membership: MembershipChange::None,
        reply: Some("Reply STOP to opt out."),
        sent_at_ms: 0,
    };
    let applied = db.store.apply_inbound(&help).await.unwrap();
    let InboundApplied::Applied {
        member: None,
        reply_message_id: Some(reply),
        ..
    } = applied
    else {
        panic!("HELP from a stranger replies without a member: {applied:?}");
    };
    assert_eq!(
        db.store.message(reply).await.unwrap().unwrap().member_id,
        None
    );

    let stop = InboundAction {
        inbound: text(c, "SM2", &stranger, &to, "STOP"),
        membership: MembershipChange::Unsubscribe,
        reply: None,
        sent_at_ms: 0,
    };
    let applied = db.store.apply_inbound(&stop).await.unwrap();
    let InboundApplied::Applied {
        member: Some(suppressed),
        reply_message_id: None,
        ..
    } = applied
    else {
        panic!("STOP from a stranger is remembered: {applied:?}");
    };
    assert_eq!(
        (suppressed.status, suppressed.subscribed_at),
        (MemberStatus::Unsubscribed, None)
    );
}

async fn keywords_applied_out_of_order_leave_the_last_one(db: TestDb) {
    let (c, number) = community(&db.store, 1).await;
    let to = SenderAddress::from(&number);
    let member = phone(1);
    let action = |id: &'static str, body: &'static str, sent_at_ms: i64| {
        let (membership, reply) = match body {
            "JOIN" => (MembershipChange::Subscribe, Some("Welcome!")),
            _ => (MembershipChange::Unsubscribe, Some("Bye.")),
        };
        (id, body, membership, reply, sent_at_ms)
    };
    // The member texts JOIN (t=1000), STOP (t=2000), then JOIN (t=3000), STOP (t=4000);
    // the pipeline applies them as STOP@2000, JOIN@1000, STOP@4000, JOIN@3000.
    let order = [
        action("SM-a", "JOIN", 1000),
        action("SM-b", "STOP", 2000),
        action("SM-c", "STOP", 4000),
        action("SM-d", "JOIN", 3000),
    ];
    let mut replies = Vec::new();
    for index in [0usize, 1, 2, 3].map(|i| [1, 0, 2, 3][i]) {
        let (id, body, membership, reply, sent_at_ms) = order[index];
        let applied = db
            .store
            .apply_inbound(&InboundAction {
                inbound: text(c, id, &member, &to, body),
                membership,
                reply,
                sent_at_ms,
            })
            .await
            .unwrap();
        let InboundApplied::Applied {
            reply_message_id, ..
        } = applied
        else {
            panic!("not a duplicate")
        };
        replies.push((body, sent_at_ms, reply_message_id.is_some()));
    }
    let now = db.store.member_by_phone(c, &member).await.unwrap().unwrap();
    assert_eq!(
        now.status,
        MemberStatus::Unsubscribed,
        "the last text was STOP"
    );
    // Only the texts applied in their own order get a reply; the stale ones are history.
    assert_eq!(
        replies,
        [
            ("STOP", 2000, true),
            ("JOIN", 1000, false),
            ("STOP", 4000, true),
            ("JOIN", 3000, false)
        ]
    );
    // Every text is still in the leader's inbox.
    assert_eq!(db.store.inbound_page(c, None, 10).await.unwrap().len(), 4);
}

/// Applies a JOIN (or else a STOP) from `from` sent at `sent_at_ms`, with its reply.
async fn keyword(
    db: &TestDb,
    c: i64,
    to: &SenderAddress,
    from: &PhoneNumber,
    id: &str,
    join: bool,
    sent_at_ms: i64,
) -> Result<InboundApplied, floodgate::store::StoreError> {
    let (body, membership, reply) = if join {
        ("JOIN", MembershipChange::Subscribe, "Welcome!")
    } else {
        ("STOP", MembershipChange::Unsubscribe, "Bye.")
    };
    let action = InboundAction {
        inbound: text(c, id, from, to, body),
        membership,
        reply: Some(reply),
        sent_at_ms,
    };
    db.store.apply_inbound(&action).await
}

/// A JOIN and a STOP from a phone never seen before, applied at the same moment on two
/// connections: the member ends as the later text asked, whichever transaction commits last.
async fn a_join_and_a_stop_racing_for_a_new_phone_leave_the_later_one(db: TestDb) {
    let (c, number) = community(&db.store, 1).await;
    let to = SenderAddress::from(&number);
    let phones: Vec<PhoneNumber> = (100..160).map(phone).collect();
    let ids: Vec<(String, String)> = (0..phones.len())
        .map(|i| (format!("race-j{i}"), format!("race-s{i}")))
        .collect();
    let apply = |from, id, join, sent_at_ms| keyword(&db, c, &to, from, id, join, sent_at_ms);
    for (i, from) in phones.iter().enumerate() {
        // Half the phones texted JOIN last, half STOP.
        let join_last = i % 2 == 0;
        let (join_at, stop_at) = if join_last {
            (2000, 1000)
        } else {
            (1000, 2000)
        };
        let (joined, stopped) = tokio::join!(
            apply(from, &ids[i].0, true, join_at),
            apply(from, &ids[i].1, false, stop_at)
        );
        joined.expect("the JOIN applies");
        stopped.expect("the STOP applies");
        let member = db.store.member_by_phone(c, from).await.unwrap().unwrap();
        let expected = if join_last {
            MemberStatus::Subscribed
        } else {
            MemberStatus::Unsubscribed
        };
        assert_eq!(
            member.status, expected,
            "{from}: JOIN at {join_at}, STOP at {stop_at}"
        );
        assert_eq!(
            member.unsubscribed_at.is_some(),
            !join_last,
            "{from}: unsubscribed_at follows the status"
        );
    }
}

on_both_backends!(
    a_join_and_a_stop_racing_for_a_new_phone_leave_the_later_one,
    keywords_applied_out_of_order_leave_the_last_one,
    inbound_is_deduplicated,
    keyword_transaction_joins_replies_and_dedupes,
    keyword_transaction_for_strangers,
    the_last_look_sends_a_stop_confirmation_but_not_an_overtaken_welcome,
);
