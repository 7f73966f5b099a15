//! Keyword families (§7), the number texted choosing the community, unknown numbers and
//! carrier retries, each checked in the store once the pipeline has processed the text.

use floodgate::domain::{MemberStatus, MessageStatus, SenderAddress};
use floodgate::store::{Inbound, JoinedVia, NewCommunity, Priority, SenderKind};

use super::helpers::{
    Edge, NUMBER_A, NUMBER_B, UNKNOWN_NUMBER, edge, member, telnyx_inbound, vonage_inbound,
    vonage_signed,
};
use crate::support::Backend;

/// Posts a text through `carrier` and returns it once the pipeline stored it.
async fn text(edge: &Edge, carrier: &str, id: &str, from: &str, to: &str, body: &str) -> Inbound {
    let community = if to == NUMBER_B { edge.b.id } else { edge.a.id };
    text_to(edge, community, carrier, id, from, to, body).await
}

/// Posts a text to `to`, which `community` owns, and returns it once stored.
async fn text_to(
    edge: &Edge,
    community: i64,
    carrier: &str,
    id: &str,
    from: &str,
    to: &str,
    body: &str,
) -> Inbound {
    let response = match carrier {
        "twilio" => edge.twilio_text(id, from, to, body),
        "telnyx" => edge.telnyx("inbound", telnyx_inbound(id, from, to, body)),
        "vonage" => edge.vonage_post(
            "inbound",
            &vonage_signed(vonage_inbound(id, from, to, body)),
        ),
        other => panic!("no carrier {other}"),
    }
    .send()
    .await
    .unwrap();
    assert!(
        response.status().is_success(),
        "{carrier} {body:?}: {}",
        response.status()
    );
    edge.stored_text(community, id).await
}

/// The text's reply: queued in the transactional lane, from the number texted, with `body`.
async fn assert_reply(edge: &Edge, inbound: &Inbound, body: &str) {
    let reply = edge
        .reply_to(inbound)
        .await
        .unwrap_or_else(|| panic!("no reply queued for {:?}", inbound.body));
    assert_eq!(reply.body, body, "reply to {:?}", inbound.body);
    assert_eq!(reply.to, inbound.from);
    assert_eq!(
        reply.from.as_ref(),
        Some(&inbound.to),
        "sent from the number texted"
    );
    assert_eq!(
        reply.carrier, inbound.carrier,
        "replies through the carrier it came from"
    );
    assert_eq!(reply.priority, Priority::Transactional);
    assert_eq!(
        reply.status,
        MessageStatus::Queued,
        "no send credentials: stays queued"
    );
}

async fn join_and_opt_in_words_subscribe_and_queue_the_welcome(backend: Backend) {
    let edge = edge(backend).await;
    let cases = [
        ("twilio", "JOIN"),
        ("twilio", "  join\t"),
        ("telnyx", "Join\n"),
        ("vonage", "START"),
        ("twilio", "yes"),
        ("telnyx", " Unstop "),
    ];
    for (n, (carrier, body)) in (1..).zip(cases) {
        let phone = member(n);
        let inbound = text(&edge, carrier, &format!("join-{n}"), &phone, NUMBER_A, body).await;
        assert_eq!(inbound.keyword.as_deref(), Some("opt_in"), "{body:?}");
        let m = edge.member(edge.a.id, &phone).await.expect("member row");
        assert_eq!(m.status, MemberStatus::Subscribed, "{body:?}");
        assert_eq!(m.joined_via, JoinedVia::Keyword);
        assert_eq!(m.via_number.as_ref().map(|p| p.as_str()), Some(NUMBER_A));
        assert_eq!(
            m.via_inbound_id,
            Some(inbound.id),
            "consent points at the text"
        );
        assert!(m.subscribed_at.is_some());
        assert_reply(&edge, &inbound, &edge.a.welcome_reply).await;
        assert!(
            edge.member(edge.b.id, &phone).await.is_none(),
            "only A's number was texted"
        );
    }

    // The number texted decides: B's keyword on B's number joins B; A's keyword there is a chat.
    let phone = member(50);
    let rally = text(&edge, "twilio", "rally-1", &phone, NUMBER_B, "Rally").await;
    let m = edge.member(edge.b.id, &phone).await.expect("B member");
    assert_eq!(m.status, MemberStatus::Subscribed);
    assert_eq!(m.via_number.as_ref().map(|p| p.as_str()), Some(NUMBER_B));
    assert_reply(&edge, &rally, "Welcome to B").await;
    assert!(edge.member(edge.a.id, &phone).await.is_none());

    let chat = text(&edge, "twilio", "join-at-b", &member(51), NUMBER_B, "JOIN").await;
    assert_eq!(chat.keyword, None, "JOIN is not B's keyword");
    assert!(edge.member(edge.b.id, &member(51)).await.is_none());
    assert!(edge.reply_to(&chat).await.is_none());
    let a_rally = text(
        &edge,
        "twilio",
        "rally-at-a",
        &member(52),
        NUMBER_A,
        "RALLY",
    )
    .await;
    assert_eq!(a_rally.keyword, None, "RALLY is not A's keyword");

    // A member who left and texts START again is resubscribed, consent pointing at the new text.
    let phone = member(60);
    text(&edge, "twilio", "re-1", &phone, NUMBER_A, "JOIN").await;
    text(&edge, "twilio", "re-2", &phone, NUMBER_A, "STOP").await;
    let again = text(&edge, "twilio", "re-3", &phone, NUMBER_A, "START").await;
    let m = edge.member(edge.a.id, &phone).await.unwrap();
    assert_eq!(m.status, MemberStatus::Subscribed);
    assert_eq!(m.unsubscribed_at, None);
    assert_eq!(m.via_inbound_id, Some(again.id));
}

async fn stop_words_unsubscribe_at_once_and_queue_the_confirmation(backend: Backend) {
    let edge = edge(backend).await;
    let words = [
        "STOP",
        "stop",
        " Stop ",
        "STOPALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "REVOKE",
        "OPTOUT",
        "stop all",
    ];
    let carriers = ["twilio", "telnyx", "vonage"];
    for (n, word) in (1..).zip(words) {
        let phone = member(n);
        let carrier = carriers[n as usize % 3];
        text(
            &edge,
            carrier,
            &format!("sub-{n}"),
            &phone,
            NUMBER_A,
            "JOIN",
        )
        .await;
        let stop = text(&edge, carrier, &format!("stop-{n}"), &phone, NUMBER_A, word).await;
        assert_eq!(stop.keyword.as_deref(), Some("opt_out"), "{word:?}");
        let m = edge.member(edge.a.id, &phone).await.unwrap();
        assert_eq!(m.status, MemberStatus::Unsubscribed, "{word:?}");
        assert!(m.unsubscribed_at.is_some());
        assert_reply(&edge, &stop, &edge.a.stop_reply).await;
    }

    // STOP from a phone that never joined: confirmed anyway (CTIA), and remembered, so a later
    // import cannot subscribe it.
    let stranger = member(99);
    let stop = text(
        &edge,
        "twilio",
        "stop-stranger",
        &stranger,
        NUMBER_A,
        "STOP",
    )
    .await;
    let m = edge
        .member(edge.a.id, &stranger)
        .await
        .expect("suppression row");
    assert_eq!(m.status, MemberStatus::Unsubscribed);
    assert_eq!(m.subscribed_at, None);
    assert_reply(&edge, &stop, &edge.a.stop_reply).await;

    // "STOP please" is a conversation, not an opt-out.
    let phone = member(98);
    text(&edge, "twilio", "sub-98", &phone, NUMBER_A, "JOIN").await;
    let chat = text(&edge, "twilio", "chat-98", &phone, NUMBER_A, "STOP please").await;
    assert_eq!(chat.keyword, None);
    let m = edge.member(edge.a.id, &phone).await.unwrap();
    assert_eq!(m.status, MemberStatus::Subscribed);
}

async fn help_queues_the_help_reply_and_other_texts_go_to_the_leader(backend: Backend) {
    let edge = edge(backend).await;
    for (n, word) in (1..).zip(["HELP", "help", " Info\n"]) {
        let phone = member(n);
        let help = text(
            &edge,
            "twilio",
            &format!("help-{n}"),
            &phone,
            NUMBER_A,
            word,
        )
        .await;
        assert_eq!(help.keyword.as_deref(), Some("help"), "{word:?}");
        assert_reply(&edge, &help, &edge.a.help_reply).await;
        assert!(
            edge.member(edge.a.id, &phone).await.is_none(),
            "HELP changes no membership"
        );
    }

    let chats = [
        ("twilio", "Can't make it Tuesday, sorry!"),
        ("telnyx", "join us?"),
        ("vonage", "💚 thanks"),
        ("twilio", ""),
    ];
    for (n, (carrier, body)) in (10..).zip(chats) {
        let phone = member(n);
        let chat = text(&edge, carrier, &format!("chat-{n}"), &phone, NUMBER_A, body).await;
        assert_eq!(chat.body, body);
        assert_eq!(chat.keyword, None);
        assert!(
            edge.reply_to(&chat).await.is_none(),
            "no auto-reply to {body:?}"
        );
        assert!(edge.member(edge.a.id, &phone).await.is_none());
    }
    // The leader's inbox holds them all, and only community A's.
    let inbox = edge.inbound(edge.a.id).await;
    assert_eq!(inbox.len(), 7);
    assert!(edge.inbound(edge.b.id).await.is_empty());
}

async fn an_unknown_destination_is_2xx_and_counted_but_stored_nowhere(backend: Backend) {
    let edge = edge(backend).await;
    let response = edge
        .twilio_text("SMlost", &member(1), UNKNOWN_NUMBER, "JOIN")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "2xx so Twilio stops retrying");
    let response = edge
        .telnyx(
            "inbound",
            telnyx_inbound("tx-lost", &member(1), UNKNOWN_NUMBER, "JOIN"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let lost = vonage_signed(vonage_inbound(
        "vg-lost",
        &member(1),
        UNKNOWN_NUMBER,
        "JOIN",
    ));
    let response = edge.vonage_get("inbound", &lost).send().await.unwrap();
    assert_eq!(response.status(), 204);

    for carrier in ["twilio", "telnyx", "vonage"] {
        let counted = edge
            .metric(
                "floodgate_webhooks_total",
                carrier,
                &[("kind", "inbound"), ("outcome", "unknown_number")],
            )
            .await;
        assert_eq!(counted, 1.0, "{carrier}");
    }
    edge.barrier("SMbarrier").await;
    assert_eq!(edge.count("inbound_messages").await, 1, "only the barrier");
    assert_eq!(edge.count("members").await, 0);
    assert_eq!(edge.count("messages").await, 0);
}

async fn a_carrier_retry_is_answered_but_applied_once(backend: Backend) {
    let edge = edge(backend).await;
    let phone = member(1);
    // Twice at once (a retry racing the original), then once more later.
    let (first, second) = tokio::join!(
        edge.twilio_text("SMdup", &phone, NUMBER_A, "JOIN").send(),
        edge.twilio_text("SMdup", &phone, NUMBER_A, "JOIN").send(),
    );
    assert_eq!(first.unwrap().status(), 200);
    assert_eq!(second.unwrap().status(), 200);
    let inbound = edge.stored_text(edge.a.id, "SMdup").await;
    let third = edge
        .twilio_text("SMdup", &phone, NUMBER_A, "JOIN")
        .send()
        .await
        .unwrap();
    assert_eq!(third.status(), 200);

    // The same Telnyx event id twice, once on each route.
    let event = telnyx_inbound("tx-dup", &member(2), NUMBER_A, "HELP");
    for route in ["inbound", "status"] {
        let response = edge.telnyx(route, event.clone()).send().await.unwrap();
        assert_eq!(response.status(), 200);
    }
    edge.stored_text(edge.a.id, "tx-dup").await;

    // Every copy has been through the pipeline once the duplicates counter shows them.
    super::helpers::eventually("duplicates counted", || async {
        let twilio = edge
            .metric("floodgate_inbound_duplicates_total", "twilio", &[])
            .await;
        let telnyx = edge
            .metric("floodgate_inbound_duplicates_total", "telnyx", &[])
            .await;
        (twilio == 2.0 && telnyx == 1.0).then_some(())
    })
    .await;
    assert_eq!(
        edge.count("inbound_messages").await,
        2,
        "one row per provider id"
    );
    assert_eq!(edge.count("messages").await, 2, "one reply per text");
    assert_eq!(edge.count("members").await, 1);
    let m = edge.member(edge.a.id, &phone).await.unwrap();
    assert_eq!(m.via_inbound_id, Some(inbound.id));
}

/// Members text short codes as they text numbers: each carrier's edge takes the 5–6 digits,
/// the keyword applies to the community owning the code, and the reply leaves from it.
async fn a_short_code_is_texted_like_a_number(backend: Backend) {
    let edge = edge(backend).await;
    let code = SenderAddress::parse("24680", SenderKind::ShortCode).unwrap();
    let c = edge
        .store()
        .create_community(&NewCommunity::new("C"))
        .await
        .unwrap();
    edge.store()
        .add_sender_number(
            c.id,
            &edge.carrier("twilio"),
            code.clone(),
            SenderKind::ShortCode,
            None,
        )
        .await
        .unwrap();
    let phone = member(7);
    let steps = [
        (
            "twilio",
            "sc-1",
            "JOIN",
            MemberStatus::Subscribed,
            &c.welcome_reply,
        ),
        (
            "telnyx",
            "sc-2",
            "HELP",
            MemberStatus::Subscribed,
            &c.help_reply,
        ),
        (
            "vonage",
            "sc-3",
            "STOP",
            MemberStatus::Unsubscribed,
            &c.stop_reply,
        ),
    ];
    for (carrier, id, word, status, reply) in steps {
        let inbound = text_to(&edge, c.id, carrier, id, &phone, code.as_str(), word).await;
        assert_eq!(inbound.to, code, "{carrier}");
        let m = edge.member(c.id, &phone).await.unwrap();
        assert_eq!(m.status, status, "{carrier} {word}");
        assert_reply(&edge, &inbound, reply).await;
    }
    assert!(
        edge.member(edge.a.id, &phone).await.is_none(),
        "A untouched"
    );
}

crate::both_backends!(
    a_short_code_is_texted_like_a_number,
    join_and_opt_in_words_subscribe_and_queue_the_welcome,
    stop_words_unsubscribe_at_once_and_queue_the_confirmation,
    help_queues_the_help_reply_and_other_texts_go_to_the_leader,
    an_unknown_destination_is_2xx_and_counted_but_stored_nowhere,
    a_carrier_retry_is_answered_but_applied_once,
);
