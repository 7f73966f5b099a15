//! Persistence on SQLite (embedded default) or PostgreSQL (at scale), behind one API.
//!
//! Every query is written once in SQL both engines accept (`$1` placeholders,
//! `ON CONFLICT`, `RETURNING`) and run on whichever pool is configured through
//! `with_pool!`, so the two backends cannot drift apart.
//!
//! # Layout
//! One file per table or concern, each adding methods to [`Store`]: `communities`
//! (with sender numbers), `api_keys`, `members`, `broadcasts`, `messages`, `inbound`,
//! `outbox`, and `keywords` (the one multi-table transaction the webhooks need).
//! `decode` turns stored text back into domain types, reporting [`StoreError::Corrupt`].

/// Runs `$body` with `$pool` bound to the concrete pool, once per backend.
///
/// The body is type-checked against both drivers, so a query that one backend
/// cannot bind fails to compile rather than at run time.
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pool {
            crate::store::pool::Pool::Sqlite($pool) => $body,
            crate::store::pool::Pool::Postgres($pool) => $body,
        }
    };
}

mod api_keys;
mod broadcast_progress;
mod broadcasts;
mod communities;
mod decode;
mod error;
mod inbound;
mod keywords;
mod members;
mod members_bulk;
mod message_status;
mod messages;
mod messages_bulk;
mod outbox;
mod pool;

pub use api_keys::ApiKey;
pub use broadcast_progress::StatusCounts;
pub use broadcasts::{Broadcast, BroadcastStatus, CreateBroadcast, NewBroadcast};
pub use communities::{Community, NewCommunity, SenderKind, SenderNumber};
pub use error::StoreError;
pub use inbound::{Inbound, InsertInbound, NewInbound};
pub use keywords::{InboundAction, InboundApplied, MembershipChange};
pub use members::{JoinedVia, Member};
pub use members_bulk::ImportOutcome;
pub use message_status::AdvanceOutcome;
pub use messages::{Message, NewTransactional, Priority};
pub use outbox::OutboxItem;
pub use pool::{Backend, Store};
