//! The names of the work queues, the same on both backends.

use std::fmt;

/// Which delivery lane a message waits in; transactional replies are always served first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lane {
    /// Keyword replies (welcome, stop confirmation, help): small, urgent.
    Transactional,
    /// Broadcast messages: large, patient.
    Broadcast,
}

impl Lane {
    /// The name used in queue names, the store and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Transactional => "transactional",
            Self::Broadcast => "broadcast",
        }
    }
}

/// A work queue's name; RabbitMQ prefixes it with `floodgate.`, the embedded store uses it as is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QueueName(String);

impl QueueName {
    /// Inbound member texts waiting for keyword handling.
    pub fn inbound() -> Self {
        Self("inbound".into())
    }

    /// Broadcasts waiting to be fanned out to their members.
    pub fn fanout() -> Self {
        Self("fanout".into())
    }

    /// Carrier status callbacks waiting to be applied.
    pub fn receipts() -> Self {
        Self("receipts".into())
    }

    /// Messages waiting for a carrier's token bucket, one queue per carrier and lane.
    pub fn deliver(carrier: &str, lane: Lane) -> Self {
        Self(format!("deliver.{carrier}.{}", lane.as_str()))
    }

    /// Work that failed too often or could not be read; kept for people to inspect.
    pub fn dead_letter() -> Self {
        Self("dead-letter".into())
    }

    /// Every queue of a pipeline delivering through `carriers`, dead-letter queue included.
    pub fn pipeline<'a>(carriers: impl IntoIterator<Item = &'a str>) -> Vec<Self> {
        let mut queues = vec![Self::inbound(), Self::fanout(), Self::receipts()];
        for carrier in carriers {
            for lane in [Lane::Transactional, Lane::Broadcast] {
                queues.push(Self::deliver(carrier, lane));
            }
        }
        queues.push(Self::dead_letter());
        queues
    }

    /// The bare name, e.g. `deliver.twilio.broadcast`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Rebuilds a name read back from the store or a header.
    pub fn from_stored(name: &str) -> Self {
        Self(name.to_owned())
    }
}

impl fmt::Display for QueueName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
