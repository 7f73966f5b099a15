//! Limits: 413 past 64 KiB, 400 with a reason for signed but unreadable payloads, and no 5xx
//! for any bytes at all.

use chrono::Utc;
use floodgate::carriers::twilio::signature as twilio;
use floodgate::carriers::vonage::signature as vonage;
use floodgate::webhooks::MAX_BODY_BYTES;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::RequestBuilder;

use super::helpers::{
    Edge, NUMBER_A, TWILIO_TOKEN, VONAGE_METHOD, VONAGE_SECRET, assert_problem, edge, member,
    pairs, telnyx_inbound, twilio_inbound, vonage_inbound, vonage_signed,
};
use crate::support::Backend;

const CARRIERS: [&str; 3] = ["twilio", "telnyx", "vonage"];
const ROUTES: [&str; 2] = ["inbound", "status"];

fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// Raw `body` to `carrier`'s `route`, signed over exactly these bytes when `signed`.
fn raw(edge: &Edge, carrier: &str, route: &str, body: Vec<u8>, signed: bool) -> RequestBuilder {
    match carrier {
        "twilio" => {
            let signature = signed.then(|| {
                twilio::sign(
                    &edge.public_url(carrier, route),
                    &form_pairs(&body),
                    TWILIO_TOKEN,
                )
            });
            let mut request = edge
                .app
                .client
                .post(edge.url(carrier, route))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body);
            if let Some(signature) = signature {
                request = request.header(twilio::HEADER, signature);
            }
            request
        }
        "telnyx" if signed => edge.telnyx(route, body),
        "telnyx" => edge.telnyx_with(route, body, Some(Utc::now().timestamp()), None),
        "vonage" => {
            let mut body = body;
            if signed {
                let ts = Utc::now().timestamp();
                body.extend_from_slice(format!("&timestamp={ts}").as_bytes());
                let sig = vonage::sign(&form_pairs(&body), VONAGE_SECRET, VONAGE_METHOD);
                body.extend_from_slice(format!("&sig={sig}").as_bytes());
            }
            edge.app
                .client
                .post(edge.url(carrier, route))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
        }
        other => panic!("no carrier {other}"),
    }
}

async fn bodies_over_64_kib_are_413(backend: Backend) {
    let edge = edge(backend).await;
    for carrier in CARRIERS {
        for route in ROUTES {
            let body = vec![b'a'; MAX_BODY_BYTES + 1];
            let response = raw(&edge, carrier, route, body, true).send().await.unwrap();
            assert_problem(response, 413, "body_too_large").await;
            // Exactly the limit is read (and then judged on its signature).
            let body = vec![b'a'; MAX_BODY_BYTES];
            let response = raw(&edge, carrier, route, body, false)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 403, "{carrier}/{route} at the limit");
        }
    }
    // A text padded to just over the limit is refused even with a valid signature.
    let long = "x".repeat(MAX_BODY_BYTES);
    let response = edge
        .twilio(
            "inbound",
            &twilio_inbound("SMbig", &member(1), NUMBER_A, &long),
        )
        .send()
        .await
        .unwrap();
    assert_problem(response, 413, "body_too_large").await;
    assert_eq!(edge.count("inbound_messages").await, 0);
}

async fn malformed_signed_bodies_are_400_with_a_reason(backend: Backend) {
    let edge = edge(backend).await;
    let without = |fields: Vec<(String, String)>, name: &str| -> Vec<(String, String)> {
        fields.into_iter().filter(|(k, _)| k != name).collect()
    };
    let inbound = || twilio_inbound("SMbad", &member(1), NUMBER_A, "JOIN");
    let mut not_a_phone = inbound();
    not_a_phone[3].1 = "hello".into();
    let cases: Vec<(&str, RequestBuilder, &str)> = vec![
        (
            "twilio From missing",
            edge.twilio("inbound", &without(inbound(), "From")),
            "From",
        ),
        (
            "twilio sid missing",
            edge.twilio(
                "inbound",
                &without(without(inbound(), "MessageSid"), "SmsSid"),
            ),
            "MessageSid",
        ),
        (
            "twilio From not a number",
            edge.twilio("inbound", &not_a_phone),
            "From",
        ),
        (
            "twilio bad form encoding",
            raw(
                &edge,
                "twilio",
                "inbound",
                b"MessageSid=SM1&From=%ZZ%&&To=%E0%A4%A".to_vec(),
                true,
            ),
            "From",
        ),
        (
            "twilio status missing",
            edge.twilio("status", &pairs(&[("MessageSid", "SM1")])),
            "MessageStatus",
        ),
        (
            "telnyx not JSON",
            edge.telnyx("inbound", "MessageSid=SM1&Body=hi"),
            "Telnyx event",
        ),
        (
            "telnyx truncated JSON",
            edge.telnyx("status", "{\"data\":{"),
            "Telnyx event",
        ),
        (
            "telnyx no data",
            edge.telnyx("inbound", "{\"meta\":{}}"),
            "data",
        ),
        (
            "telnyx no event type",
            edge.telnyx("inbound", "{\"data\":{\"payload\":{}}}"),
            "event_type",
        ),
        (
            "telnyx inbound without from",
            edge.telnyx(
                "inbound",
                telnyx_inbound("tx-bad", &member(1), NUMBER_A, "hi")
                    .replace("\"from\"", "\"sender\""),
            ),
            "from.phone_number",
        ),
        (
            "vonage msisdn missing",
            edge.vonage_post(
                "inbound",
                &vonage_signed(without(
                    vonage_inbound("vg-bad", &member(1), NUMBER_A, "x"),
                    "msisdn",
                )),
            ),
            "msisdn",
        ),
        (
            "vonage concat part out of range",
            edge.vonage_get("inbound", &{
                let mut fields = vonage_inbound("vg-part", &member(1), NUMBER_A, "x");
                fields.extend(pairs(&[
                    ("concat", "true"),
                    ("concat-ref", "1"),
                    ("concat-total", "2"),
                    ("concat-part", "3"),
                ]));
                vonage_signed(fields)
            }),
            "part 3 of 2",
        ),
        (
            "vonage receipt without status",
            edge.vonage_post("status", &vonage_signed(pairs(&[("messageId", "vg-1")]))),
            "status",
        ),
    ];
    for (case, request, reason) in cases {
        let response = request.send().await.unwrap();
        let detail = assert_problem(response, 400, "malformed_webhook").await;
        assert!(
            detail.contains(reason),
            "{case}: `{detail}` lacks `{reason}`"
        );
    }
    for (carrier, expected) in [("twilio", 5.0), ("telnyx", 5.0), ("vonage", 3.0)] {
        let malformed = edge
            .metric(
                "floodgate_webhooks_total",
                carrier,
                &[("outcome", "malformed")],
            )
            .await;
        assert_eq!(malformed, expected, "{carrier} malformed webhooks counted");
    }
    assert_eq!(edge.count("inbound_messages").await, 0);
}

/// Bytes that look a little like forms and JSON more often than uniform noise would.
fn noise(rng: &mut StdRng) -> Vec<u8> {
    const ALPHABET: &[u8] = b"=&%+{}[]\":,.-_ aZ09\\\x00\xff\xc3\xa9";
    let len = rng.gen_range(0..600);
    if rng.gen_bool(0.5) {
        (0..len).map(|_| rng.r#gen::<u8>()).collect()
    } else {
        (0..len)
            .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())])
            .collect()
    }
}

async fn random_bytes_never_get_a_5xx(backend: Backend) {
    let edge = edge(backend).await;
    let mut rng = StdRng::seed_from_u64(0x000F_100D_6A7E);
    for round in 0..25 {
        for carrier in CARRIERS {
            for route in ROUTES {
                for signed in [true, false] {
                    let body = noise(&mut rng);
                    let shown = String::from_utf8_lossy(&body).into_owned();
                    let response = raw(&edge, carrier, route, body, signed)
                        .send()
                        .await
                        .unwrap();
                    let status = response.status();
                    assert!(
                        status.is_success() || status.is_client_error(),
                        "round {round} {carrier}/{route} signed={signed}: {status} for {shown:?}"
                    );
                }
            }
            // Random query strings on GET, and random JSON-typed bodies for Vonage.
            let query: String = url::form_urlencoded::byte_serialize(&noise(&mut rng)).collect();
            let url = format!("{}?{query}", edge.url(carrier, "inbound"));
            let status = edge.app.client.get(url).send().await.unwrap().status();
            assert!(status.as_u16() < 500, "GET {carrier}: {status}");
        }
        let response = edge
            .app
            .client
            .post(edge.url("vonage", "status"))
            .header("content-type", "application/json")
            .body(noise(&mut rng))
            .send()
            .await
            .unwrap();
        assert!(
            response.status().as_u16() < 500,
            "vonage JSON: {}",
            response.status()
        );
    }
    assert_eq!(edge.app.get("/healthz").await.status(), 200);
}

async fn nul_characters_are_dropped_so_the_text_is_stored(backend: Backend) {
    let edge = edge(backend).await;
    let phone = member(31);
    let hooks = [
        (
            "nul-1",
            edge.twilio_text("nul-1", &phone, NUMBER_A, "hi\0 there"),
        ),
        (
            "nul-2",
            edge.telnyx(
                "inbound",
                telnyx_inbound("nul-2", &phone, NUMBER_A, "J\0OIN"),
            ),
        ),
    ];
    for (id, request) in hooks {
        let response = request.send().await.expect("webhook");
        assert!(
            response.status().is_success(),
            "{id}: {}",
            response.status()
        );
    }
    let chat = edge.stored_text(edge.a.id, "nul-1").await;
    assert_eq!(chat.body, "hi there");
    let join = edge.stored_text(edge.a.id, "nul-2").await;
    assert_eq!(join.body, "JOIN");
    assert_eq!(
        join.keyword.as_deref(),
        Some("opt_in"),
        "a keyword once the NUL is gone"
    );
}

crate::both_backends!(
    nul_characters_are_dropped_so_the_text_is_stored,
    bodies_over_64_kib_are_413,
    malformed_signed_bodies_are_400_with_a_reason,
    random_bytes_never_get_a_5xx,
);
