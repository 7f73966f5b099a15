//! Persistence on SQLite (embedded default) or PostgreSQL (at scale), behind one API.
//!
//! Every query is written once in SQL both engines accept (`$1` placeholders,
//! `ON CONFLICT`, `RETURNING`) and run on whichever pool is configured through
//! `with_pool!`, so the two backends cannot drift apart. The one exception is the fan-out
//! insert (`messages_bulk`), which uses each engine's own set-based form because it writes a
//! million rows per broadcast.
//!
//! # Layout
//! One file per table or concern, each adding methods to [`Store`]:
//! - `communities`, `senders`, `api_keys`: who a leader is and how they are reached;
//!   `community_setup`: a community and its first number in one transaction.
//! - `members` (one phone at a time) and `members_bulk` (imports, keyset pages, fan-out batches).
//! - `broadcasts` (idempotent creation, reads), `broadcast_progress` (status, cursor, cancel, counts)
//!   and `broadcast_quota` (idempotent replays, the daily-cap budget).
//! - `messages` (claims), `message_status` (forward-only updates), `messages_bulk` (fan-out insert),
//!   `message_parts` (a message's status from its parts' reports, for carriers that split it),
//!   `resend` (a message the carrier failed for a passing reason goes back to `queued`).
//! - `inbound`, `outbox`, and `keywords`: the one multi-table transaction the webhooks need.
//! - `opt_out_now`: the edge's STOP, applied before the carrier's 2xx.
//! - `inbound_parts`: parts of long inbound texts (Vonage `concat`) until the last one is here.
//! - `telemetry`: the metrics sampler's reads (running broadcasts, queue heads, dead letters).
//! - `decode`: stored text back into domain types, reporting [`StoreError::Corrupt`].
//!
//! Broadcast messages store no body (the broadcast holds it); reads resolve it.
//! Times: descriptive ones are `DateTime<Utc>`; those the engine schedules on are `*_ms` integers.

/// Runs `$body` with `$pool` bound to the concrete pool, once per backend.
///
/// The body is type-checked against both drivers, so a query that one backend
/// cannot bind fails to compile rather than at run time.
/// On SQLite it first waits for a turn at the one writer (see `write_gate`).
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {{
        let _turn = $store.write_turn().await;
        match &$store.pool {
            crate::store::pool::Pool::Sqlite($pool) => $body,
            crate::store::pool::Pool::Postgres($pool) => $body,
        }
    }};
}

/// As [`with_pool!`], for a statement that only reads: on SQLite it runs on a read
/// connection and so never waits behind the one writer.
macro_rules! with_read_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.read_pool {
            crate::store::pool::Pool::Sqlite($pool) => $body,
            crate::store::pool::Pool::Postgres($pool) => $body,
        }
    };
}

mod api_keys;
mod broadcast_progress;
mod broadcast_quota;
mod broadcasts;
mod carrier_control;
mod communities;
mod community_setup;
mod decode;
mod delivery;
mod error;
mod inbound;
mod inbound_parts;
mod keywords;
mod members;
mod members_bulk;
mod message_parts;
mod message_status;
mod messages;
mod messages_bulk;
mod opt_out_now;
mod outbox;
mod pool;
mod queue_items;
mod resend;
mod senders;
mod telemetry;
mod write_gate;

pub use api_keys::ApiKey;
pub use broadcast_progress::StatusCounts;
pub use broadcasts::{Broadcast, BroadcastStatus, CreateBroadcast, NewBroadcast};
pub use carrier_control::LimitOverride;
pub use communities::{
    Community, DEFAULT_HELP_REPLY, DEFAULT_STOP_REPLY, DEFAULT_WELCOME_REPLY, NewCommunity,
};
pub use delivery::{ClaimOutcome, Claimed, SendCheck, SendRecord};
pub use error::StoreError;
pub use inbound::{Inbound, InsertInbound, NewInbound};
pub use inbound_parts::{JoinedText, NewInboundPart, PartsState, StalePartSet};
pub use keywords::{InboundAction, InboundApplied, MembershipChange};
pub use members::{JoinedVia, Member};
pub use members_bulk::ImportOutcome;
pub use message_parts::derive_status;
pub use message_status::{AdvanceOutcome, StatusUpdate};
pub use messages::{Message, NewTransactional, Priority};
pub use outbox::OutboxItem;
pub use pool::{Backend, Store};
pub use queue_items::QueueItem;
pub use resend::ResendCandidate;
pub use senders::{NewSender, SenderKind, SenderNumber, StoredSenderRate};
pub(crate) use write_gate::inherit;
pub use write_gate::{at_the_edge, transactional};
