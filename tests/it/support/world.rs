//! A community seeded beside running engine processes, through the same store and bus, and
//! broadcasts enqueued exactly as `POST /v1/broadcasts` does.

use std::time::{Duration, Instant};

use bytes::Bytes;
use floodgate::bus::{Bus, EmbeddedBus, EmbeddedConfig, QueueName, RabbitBus, RabbitConfig};
use floodgate::domain::{MessageBody, PhoneNumber};
use floodgate::events::v1;
use floodgate::pipeline::Ingest;
use floodgate::store::{CreateBroadcast, NewBroadcast, NewCommunity, SenderKind, Store};
use prost::Message as _;

/// The number the seeded community sends from.
pub const SENDER: &str = "+14155550100";

/// A community on the `sim` carrier with members `PhoneNumber::example(0..members)`.
pub struct World {
    pub store: Store,
    pub bus: Bus,
    pub community_id: i64,
    pub members: u32,
}

impl World {
    /// Seeds the community on [`SENDER`]; `sender_rate` gives the number a limit of its own.
    pub async fn seed(
        database_url: &str,
        amqp_url: Option<&str>,
        members: u32,
        sender_rate: Option<f64>,
    ) -> Self {
        Self::seed_with(database_url, amqp_url, members, SENDER, sender_rate).await
    }

    /// Seeds a community that sends from `sender`.
    pub async fn seed_with(
        database_url: &str,
        amqp_url: Option<&str>,
        members: u32,
        sender: &str,
        sender_rate: Option<f64>,
    ) -> Self {
        let store = Store::connect(database_url).await.expect("connect store");
        store.migrate().await.expect("migrate");
        let community = store
            .create_community(&NewCommunity::new("Limits"))
            .await
            .expect("community");
        store
            .add_sender_number(
                community.id,
                "sim",
                &PhoneNumber::parse(sender).unwrap(),
                SenderKind::LongCode,
                sender_rate,
            )
            .await
            .expect("sender number");
        let phones: Vec<PhoneNumber> = (0..members).map(PhoneNumber::example).collect();
        for chunk in phones.chunks(10_000) {
            store
                .import_members(community.id, chunk, chrono::Utc::now())
                .await
                .expect("members");
        }
        let bus = connect_bus(&store, amqp_url).await;
        Self {
            store,
            bus,
            community_id: community.id,
            members,
        }
    }

    /// Creates a broadcast to every member and enqueues its fan-out durably.
    pub async fn broadcast(&self, text: &str) -> i64 {
        let body = MessageBody::parse(text).expect("a valid body");
        let broadcast = match self
            .store
            .create_broadcast(&NewBroadcast {
                community_id: self.community_id,
                body: &body,
                idempotency_key: None,
                request_hash: None,
                send_at_ms: chrono::Utc::now().timestamp_millis(),
                recipients: i64::from(self.members),
            })
            .await
            .expect("broadcast")
        {
            CreateBroadcast::Created(b) | CreateBroadcast::Existing(b) => b,
        };
        let work = v1::FanOutBroadcast {
            broadcast_id: broadcast.id,
        };
        Ingest::new(self.bus.clone(), self.store.clone())
            .accept(&QueueName::fanout(), Bytes::from(work.encode_to_vec()))
            .await
            .expect("fan-out accepted");
        broadcast.id
    }
}

/// The bus the engines use: RabbitMQ when `amqp_url` is set, else the store's embedded queues.
pub async fn connect_bus(store: &Store, amqp_url: Option<&str>) -> Bus {
    let Some(url) = amqp_url else {
        return Bus::Embedded(EmbeddedBus::new(store.clone(), EmbeddedConfig::default()));
    };
    let bus = Bus::Rabbit(
        RabbitBus::connect(RabbitConfig {
            url: url.to_string(),
            retry: Default::default(),
            publish_timeout: Duration::from_secs(5),
        })
        .await
        .expect("connect to RabbitMQ"),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while !bus.is_ready() {
        assert!(Instant::now() < deadline, "test publisher never connected");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bus
}
