//! Correctly signed messages on other channels (WhatsApp, RCS) that share a number's webhook
//! are answered 2xx and ignored, so the carrier neither retries them nor fails over.

use serde_json::Value;

use super::helpers::{NUMBER_A, edge, member, telnyx_inbound, twilio_inbound};
use crate::support::Backend;

async fn whatsapp_webhooks_are_2xx_and_ignored(backend: Backend) {
    let edge = edge(backend).await;
    let whatsapp = |n| format!("whatsapp:{}", member(n));
    let twilio = twilio_inbound("SMwa1", &whatsapp(1), &format!("whatsapp:{NUMBER_A}"), "hi");
    let response = edge.twilio("inbound", &twilio).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("<Response />"));

    // The Telnyx SDK's WhatsApp shape: `type` WHATSAPP and `to` one string, not a list.
    let mut event: Value =
        serde_json::from_str(&telnyx_inbound("tx-wa1", &member(2), NUMBER_A, "hi")).unwrap();
    event["data"]["payload"]["to"] = Value::String(NUMBER_A.into());
    event["data"]["payload"]["type"] = Value::String("WHATSAPP".into());
    let response = edge
        .telnyx("inbound", event.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // Without the `type`, the string `to` alone says it is not an SMS.
    event["data"]["payload"]
        .as_object_mut()
        .unwrap()
        .remove("type");
    let response = edge
        .telnyx("inbound", event.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    for (carrier, n) in [("twilio", 1.0), ("telnyx", 2.0)] {
        let ignored = edge
            .metric(
                "floodgate_webhooks_total",
                carrier,
                &[("kind", "inbound"), ("outcome", "ignored")],
            )
            .await;
        assert_eq!(ignored, n, "{carrier} webhooks counted as ignored");
    }
    edge.barrier("SMbarrier-wa").await;
    let stored = edge.inbound(edge.a.id).await;
    assert_eq!(
        stored.len(),
        1,
        "only the barrier text is stored: {stored:?}"
    );
}

crate::both_backends!(whatsapp_webhooks_are_2xx_and_ignored);
