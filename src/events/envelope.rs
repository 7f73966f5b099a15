//! Wrapping events in the common envelope and unwrapping them again.

use chrono::{DateTime, Utc};
use prost::Message;

use super::v1;

/// An event type that knows its routing key, so sealing cannot mislabel a payload.
pub trait Event: Message + Default {
    /// The envelope `type` and the bus routing key.
    const TYPE: &'static str;
}

macro_rules! event_types {
    ($($name:ident),* $(,)?) => {
        $(impl Event for v1::$name {
            const TYPE: &'static str = concat!("floodgate.v1.", stringify!($name));
        })*
    };
}

event_types!(
    MemberSubscribed,
    MemberUnsubscribed,
    InboundReceived,
    BroadcastRequested,
    MessageQueued,
    MessageSent,
    MessageDelivered,
    MessageFailed,
);

/// Why bytes from the bus are not the expected event.
#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    #[error("envelope does not decode: {0}")]
    Envelope(prost::DecodeError),
    #[error("envelope carries `{found}`, expected `{expected}`")]
    WrongType {
        expected: &'static str,
        found: String,
    },
    #[error("payload of `{0}` does not decode: {1}")]
    Payload(&'static str, prost::DecodeError),
}

/// Converts a wall-clock time to the protobuf timestamp carried in events.
pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: at.timestamp_subsec_nanos() as i32,
    }
}

/// Wraps `event` in an envelope and encodes it for the bus.
pub fn seal<E: Event>(
    event: &E,
    id: String,
    producer: &str,
    correlation_id: &str,
    at: DateTime<Utc>,
) -> Vec<u8> {
    v1::Envelope {
        id,
        r#type: E::TYPE.to_owned(),
        occurred_at: Some(timestamp(at)),
        producer: producer.to_owned(),
        correlation_id: correlation_id.to_owned(),
        payload: event.encode_to_vec(),
    }
    .encode_to_vec()
}

/// Decodes an envelope and its payload, checking that it carries an `E`.
pub fn open<E: Event>(bytes: &[u8]) -> Result<(v1::Envelope, E), EnvelopeError> {
    let envelope = v1::Envelope::decode(bytes).map_err(EnvelopeError::Envelope)?;
    if envelope.r#type != E::TYPE {
        return Err(EnvelopeError::WrongType {
            expected: E::TYPE,
            found: envelope.r#type,
        });
    }
    let event =
        E::decode(envelope.payload.as_slice()).map_err(|e| EnvelopeError::Payload(E::TYPE, e))?;
    Ok((envelope, event))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_event_opens_to_the_same_event() {
        let sent = v1::MessageSent {
            message_id: 42,
            carrier: "twilio".into(),
            provider_message_id: "SM123".into(),
            at: Some(timestamp(Utc::now())),
        };
        let bytes = seal(&sent, "evt-1".into(), "test", "bc-7", Utc::now());
        let (envelope, opened) = open::<v1::MessageSent>(&bytes).unwrap();
        assert_eq!(opened, sent);
        assert_eq!(envelope.r#type, "floodgate.v1.MessageSent");
        assert_eq!(envelope.correlation_id, "bc-7");
    }

    #[test]
    fn opening_as_the_wrong_event_is_refused() {
        let bytes = seal(
            &v1::MessageQueued::default(),
            "e".into(),
            "t",
            "c",
            Utc::now(),
        );
        let err = open::<v1::MessageSent>(&bytes).unwrap_err();
        assert!(matches!(err, EnvelopeError::WrongType { .. }), "{err}");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(open::<v1::MessageSent>(&[0xff, 0xff, 0xff]).is_err());
    }

    #[test]
    fn every_event_type_round_trips() {
        fn round_trip<E: Event + PartialEq + std::fmt::Debug>(event: E) {
            let bytes = seal(&event, "id".into(), "p", "c", Utc::now());
            assert_eq!(open::<E>(&bytes).unwrap().1, event);
        }
        round_trip(v1::MemberSubscribed {
            community_id: 1,
            member_id: 2,
            phone_number: "+14155550100".into(),
            ..Default::default()
        });
        round_trip(v1::MemberUnsubscribed {
            reason: "keyword".into(),
            ..Default::default()
        });
        round_trip(v1::InboundReceived {
            body: "JOIN ✓".into(),
            ..Default::default()
        });
        round_trip(v1::BroadcastRequested {
            broadcast_id: 9,
            ..Default::default()
        });
        round_trip(v1::MessageQueued {
            segments: 3,
            ..Default::default()
        });
        round_trip(v1::MessageDelivered {
            message_id: 5,
            ..Default::default()
        });
        round_trip(v1::MessageFailed {
            error_code: "30003".into(),
            ..Default::default()
        });
    }
}
