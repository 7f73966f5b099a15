//! Each carrier, in its own encoding: signed → 2xx in its form; forged, missing or stale → 403,
//! counted by reason, and nothing stored.

use chrono::Utc;
use floodgate::carriers::telnyx::signature as telnyx;
use floodgate::carriers::twilio::signature as twilio;
use floodgate::carriers::vonage::signature as vonage;
use floodgate::domain::MessageStatus;

use super::helpers::{
    Edge, NUMBER_A, TELNYX_SEED, TWILIO_TOKEN, VONAGE_METHOD, assert_problem, edge, member, pairs,
    telnyx_inbound, telnyx_status, twilio_inbound, twilio_status, vonage_dlr, vonage_inbound,
    vonage_signed,
};
use crate::support::Backend;

const FAILURES: &str = "floodgate_webhook_signature_failures_total";
const WEBHOOKS: &str = "floodgate_webhooks_total";
const EMPTY_TWIML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response />";

/// The forged requests changed nothing: only the barrier text exists, and no member row.
async fn assert_nothing_stored(edge: &Edge) {
    edge.barrier("SMbarrier").await;
    let texts = edge.inbound(edge.a.id).await;
    assert_eq!(texts.len(), 1, "only the barrier is stored: {texts:?}");
    assert_eq!(edge.count("inbound_messages").await, 1);
    assert_eq!(edge.count("members").await, 0, "no member change");
    assert_eq!(edge.count("messages").await, 0, "no reply queued");
}

async fn assert_failures(edge: &Edge, carrier: &str, expected: &[(&str, f64)]) {
    for (reason, count) in expected {
        let seen = edge.metric(FAILURES, carrier, &[("reason", reason)]).await;
        assert_eq!(seen, *count, "{carrier} signature failures `{reason}`");
    }
}

async fn twilio_signed_webhooks_are_answered_with_empty_twiml(backend: Backend) {
    let edge = edge(backend).await;
    let inbound = edge
        .twilio(
            "inbound",
            &twilio_inbound("SMin1", &member(1), NUMBER_A, "hello"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(inbound.status(), 200);
    assert_eq!(inbound.headers()["content-type"], "text/xml");
    assert_eq!(inbound.text().await.unwrap(), EMPTY_TWIML);
    let stored = edge.stored_text(edge.a.id, "SMin1").await;
    assert_eq!(stored.body, "hello");
    assert_eq!(stored.carrier, edge.carrier("twilio"));
    assert_eq!(stored.from.as_str(), member(1));

    // Twilio's webhook method is configurable: a GET signs the URL with its query, no params.
    let query =
        serde_urlencoded::to_string(twilio_inbound("SMget1", &member(2), NUMBER_A, "hi")).unwrap();
    let public = format!("{}?{query}", edge.public_url("twilio", "inbound"));
    let signature = twilio::sign::<&str, &str>(&public, &[], TWILIO_TOKEN);
    let get = edge
        .app
        .client
        .get(format!("{}?{query}", edge.url("twilio", "inbound")))
        .header(twilio::HEADER, signature)
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 200);
    assert_eq!(get.text().await.unwrap(), EMPTY_TWIML);
    edge.stored_text(edge.a.id, "SMget1").await;

    let id = edge.sent_message("twilio", "SMout1").await;
    let status = edge
        .twilio("status", &twilio_status("SMout1", "delivered", None))
        .send()
        .await
        .unwrap();
    assert_eq!(status.status(), 200);
    assert_eq!(status.headers()["content-type"], "text/xml");
    assert_eq!(status.text().await.unwrap(), EMPTY_TWIML);
    edge.wait_status(id, MessageStatus::Delivered).await;
}

async fn twilio_forged_or_unsigned_webhooks_are_403(backend: Backend) {
    let edge = edge(backend).await;
    let join = twilio_inbound("SMforged", &member(1), NUMBER_A, "JOIN");
    let url = edge.public_url("twilio", "inbound");

    let wrong_token = twilio::sign(&url, &join, "not-the-token");
    let response = edge
        .twilio_with("inbound", &join, Some(wrong_token))
        .send()
        .await
        .unwrap();
    let detail = assert_problem(response, 403, "bad_signature").await;
    assert!(detail.contains("invalid"), "{detail}");

    // Signed correctly, then one field changed on the way.
    let signature = twilio::sign(&url, &join, TWILIO_TOKEN);
    let mut tampered = join.clone();
    tampered[3].1 = member(2);
    let response = edge
        .twilio_with("inbound", &tampered, Some(signature.clone()))
        .send()
        .await
        .unwrap();
    assert_problem(response, 403, "bad_signature").await;

    // A valid signature for the inbound URL replayed against the status URL.
    let response = edge
        .twilio_with("status", &join, Some(signature))
        .send()
        .await
        .unwrap();
    assert_problem(response, 403, "bad_signature").await;

    for header in [None, Some(String::new())] {
        let response = edge
            .twilio_with("inbound", &join, header)
            .send()
            .await
            .unwrap();
        let detail = assert_problem(response, 403, "bad_signature").await;
        assert!(detail.contains("missing"), "{detail}");
    }

    assert_failures(&edge, "twilio", &[("invalid", 3.0), ("missing", 2.0)]).await;
    let refused = edge
        .metric(WEBHOOKS, "twilio", &[("outcome", "bad_signature")])
        .await;
    assert_eq!(refused, 5.0);
    assert_nothing_stored(&edge).await;
}

async fn telnyx_events_are_told_apart_by_type_on_either_route(backend: Backend) {
    let edge = edge(backend).await;
    for (route, id) in [("inbound", "tx-in-1"), ("status", "tx-in-2")] {
        let response = edge
            .telnyx(route, telnyx_inbound(id, &member(1), NUMBER_A, "hello"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "message.received on /{route}");
        assert_eq!(response.headers()["content-type"], "application/json");
        assert_eq!(response.text().await.unwrap(), "{}");
        let stored = edge.stored_text(edge.a.id, id).await;
        assert_eq!(stored.carrier, edge.carrier("telnyx"));
    }

    // Status events, posted to the inbound URL too: the event type decides, not the route.
    let id = edge.sent_message("telnyx", "tx-out-1").await;
    let finalized = telnyx_status("message.finalized", "tx-out-1", "delivered", None);
    let response = edge.telnyx("inbound", finalized).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "{}");
    edge.wait_status(id, MessageStatus::Delivered).await;

    let other = edge.sent_message("telnyx", "tx-out-2").await;
    let failed = telnyx_status(
        "message.finalized",
        "tx-out-2",
        "delivery_failed",
        Some("40008"),
    );
    let response = edge.telnyx("status", failed).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let message = edge.wait_status(other, MessageStatus::Undelivered).await;
    assert_eq!(message.last_error_code.as_deref(), Some("40008"));

    // An event type we do not handle is acknowledged so Telnyx stops resending it.
    let body = telnyx_inbound("tx-x", &member(1), NUMBER_A, "x")
        .replace("message.received", "message.something_new");
    let response = edge.telnyx("status", body).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let ignored = edge
        .metric(WEBHOOKS, "telnyx", &[("outcome", "ignored")])
        .await;
    assert_eq!(ignored, 1.0);
    assert_eq!(edge.inbound(edge.a.id).await.len(), 2);
}

async fn telnyx_forged_unsigned_or_stale_webhooks_are_403(backend: Backend) {
    let edge = edge(backend).await;
    let body = telnyx_inbound("tx-forged", &member(1), NUMBER_A, "JOIN");
    let now = Utc::now().timestamp();
    let other_seed = [7u8; 32];
    let good = telnyx::sign(&TELNYX_SEED, now, body.as_bytes());
    let cases: [(Option<i64>, Option<String>, &str); 6] = [
        (
            Some(now),
            Some(telnyx::sign(&other_seed, now, body.as_bytes())),
            "invalid",
        ),
        // The signature of another timestamp: the timestamp is part of what is signed.
        (Some(now + 1), Some(good.clone()), "invalid"),
        (Some(now), None, "missing"),
        (None, Some(good), "missing"),
        (
            Some(now - 301),
            Some(telnyx::sign(&TELNYX_SEED, now - 301, body.as_bytes())),
            "stale",
        ),
        (
            Some(now + 600),
            Some(telnyx::sign(&TELNYX_SEED, now + 600, body.as_bytes())),
            "stale",
        ),
    ];
    for (ts, signature, reason) in cases {
        let response = edge
            .telnyx_with("inbound", body.clone(), ts, signature)
            .send()
            .await
            .unwrap();
        let detail = assert_problem(response, 403, "bad_signature").await;
        assert!(detail.contains(reason), "{reason}: {detail}");
    }
    assert_failures(
        &edge,
        "telnyx",
        &[("invalid", 2.0), ("missing", 2.0), ("stale", 2.0)],
    )
    .await;
    assert_nothing_stored(&edge).await;
}

async fn vonage_get_and_post_form_webhooks_are_204(backend: Backend) {
    let edge = edge(backend).await;
    let get = vonage_signed(vonage_inbound("vg-in-1", &member(1), NUMBER_A, "hello"));
    let response = edge.vonage_get("inbound", &get).send().await.unwrap();
    assert_eq!(response.status(), 204);
    assert!(response.text().await.unwrap().is_empty());
    let stored = edge.stored_text(edge.a.id, "vg-in-1").await;
    assert_eq!(stored.from.as_str(), member(1));
    assert_eq!(stored.to.as_str(), NUMBER_A);
    assert_eq!(stored.carrier, edge.carrier("vonage"));

    let post = vonage_signed(vonage_inbound("vg-in-2", &member(2), NUMBER_A, "a & b = c"));
    let response = edge.vonage_post("inbound", &post).send().await.unwrap();
    assert_eq!(response.status(), 204);
    let stored = edge.stored_text(edge.a.id, "vg-in-2").await;
    assert_eq!(stored.body, "a & b = c");

    // "POST-JSON" in the dashboard: the same fields as a JSON object, `sig` among them.
    let json: serde_json::Map<String, serde_json::Value> =
        vonage_signed(vonage_inbound("vg-in-3", &member(3), NUMBER_A, "JOIN"))
            .into_iter()
            .map(|(k, v)| (k, v.into()))
            .collect();
    let response = edge
        .app
        .client
        .post(edge.url("vonage", "inbound"))
        .json(&json)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let stored = edge.stored_text(edge.a.id, "vg-in-3").await;
    assert_eq!(stored.keyword.as_deref(), Some("opt_in"));

    let id = edge.sent_message("vonage", "vg-out-1").await;
    let dlr = vonage_signed(vonage_dlr("vg-out-1", "delivered", "0"));
    let response = edge.vonage_get("status", &dlr).send().await.unwrap();
    assert_eq!(response.status(), 204);
    let message = edge.wait_status(id, MessageStatus::Delivered).await;
    assert_eq!(message.last_error_code, None, "err-code 0 is no error");

    let other = edge.sent_message("vonage", "vg-out-2").await;
    let dlr = vonage_signed(vonage_dlr("vg-out-2", "failed", "6"));
    let response = edge.vonage_post("status", &dlr).send().await.unwrap();
    assert_eq!(response.status(), 204);
    let message = edge.wait_status(other, MessageStatus::Undelivered).await;
    assert_eq!(message.last_error_code.as_deref(), Some("6"));
}

async fn vonage_forged_unsigned_or_stale_webhooks_are_403(backend: Backend) {
    let edge = edge(backend).await;
    let fields = vonage_inbound("vg-forged", &member(1), NUMBER_A, "JOIN");

    let mut wrong_secret = fields.clone();
    wrong_secret.push(("timestamp".into(), Utc::now().timestamp().to_string()));
    let sig = vonage::sign(&wrong_secret, "not-the-secret", VONAGE_METHOD);
    wrong_secret.push(("sig".into(), sig));

    let mut tampered = vonage_signed(fields.clone());
    tampered[0].1 = "14155550002".into();

    let mut unsigned = vonage_signed(fields.clone());
    unsigned.retain(|(k, _)| k != "sig");

    let mut stale = fields.clone();
    // Vonage retries for 24 h with the original timestamp, so only older than the window is stale.
    let window = floodgate::carriers::vonage::signature::REPLAY_WINDOW_SECS as i64;
    let old = (Utc::now().timestamp() - window - 60).to_string();
    stale.push(("timestamp".into(), old));
    let sig = vonage::sign(&stale, super::helpers::VONAGE_SECRET, VONAGE_METHOD);
    stale.push(("sig".into(), sig));

    for (params, reason) in [
        (&wrong_secret, "invalid"),
        (&tampered, "invalid"),
        (&unsigned, "missing"),
        (&stale, "stale"),
    ] {
        let response = edge.vonage_post("inbound", params).send().await.unwrap();
        let detail = assert_problem(response, 403, "bad_signature").await;
        assert!(detail.contains(reason), "POST {reason}: {detail}");
        let response = edge.vonage_get("inbound", params).send().await.unwrap();
        let detail = assert_problem(response, 403, "bad_signature").await;
        assert!(detail.contains(reason), "GET {reason}: {detail}");
    }
    // A receipt is verified the same way.
    let response = edge
        .vonage_post(
            "status",
            &pairs(&[("messageId", "x"), ("status", "delivered")]),
        )
        .send()
        .await
        .unwrap();
    assert_problem(response, 403, "bad_signature").await;

    assert_failures(
        &edge,
        "vonage",
        &[("invalid", 4.0), ("missing", 3.0), ("stale", 2.0)],
    )
    .await;
    assert_nothing_stored(&edge).await;
}

async fn unknown_routes_are_404_and_unconfigured_profiles_403(backend: Backend) {
    let edge = edge(backend).await;
    let body = twilio_inbound("SMx", &member(1), NUMBER_A, "JOIN");
    let form = serde_urlencoded::to_string(&body).unwrap();
    let base = &edge.app.base;
    for path in [
        "/webhooks/plivo/inbound".to_owned(),
        "/webhooks/twilio/inbound".to_owned(), // the file's name, not this test's profile
        format!("/webhooks/{}/dlr", edge.carrier("twilio")),
    ] {
        let response = edge
            .app
            .client
            .post(format!("{base}{path}"))
            .body(form.clone())
            .send()
            .await
            .unwrap();
        assert_problem(response, 404, "not_found").await;
    }
    // The `sim` profile names FLOODGATE_SIM_AUTH_TOKEN, which this test does not set: with no
    // credential nothing can be trusted, however the request is signed.
    let sim = edge.carrier("sim");
    let url = format!("{base}/webhooks/{sim}/inbound");
    let public = edge
        .public_url("twilio", "inbound")
        .replace(&edge.carrier("twilio"), &sim);
    let response = edge
        .app
        .client
        .post(url)
        .header(twilio::HEADER, twilio::sign(&public, &body, ""))
        .body(form)
        .send()
        .await
        .unwrap();
    let detail = assert_problem(response, 403, "bad_signature").await;
    assert!(detail.contains("not_configured"), "{detail}");
    assert_failures(&edge, "sim", &[("not_configured", 1.0)]).await;
    assert_nothing_stored(&edge).await;
}

crate::both_backends!(
    unknown_routes_are_404_and_unconfigured_profiles_403,
    twilio_signed_webhooks_are_answered_with_empty_twiml,
    twilio_forged_or_unsigned_webhooks_are_403,
    telnyx_events_are_told_apart_by_type_on_either_route,
    telnyx_forged_unsigned_or_stale_webhooks_are_403,
    vonage_get_and_post_form_webhooks_are_204,
    vonage_forged_unsigned_or_stale_webhooks_are_403,
);
