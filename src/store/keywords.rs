//! The webhook's one transaction: store an inbound text, apply its keyword, queue the reply.
//!
//! All three happen or none does, and a carrier retry of the same text changes nothing; so a
//! crash between the steps can neither lose a STOP nor send a second welcome.

use chrono::Utc;

use super::inbound::{EXISTING_ID, INSERT as INSERT_INBOUND, NewInbound};
use super::members::{BY_PHONE, COLUMNS, MemberRow, SUBSCRIBE, UNSUBSCRIBE};
use super::messages::INSERT_REPLY;
use super::{JoinedVia, Member, Store, StoreError};

/// What the keyword asks of the member's subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MembershipChange {
    /// HELP, or a text that is no keyword.
    None,
    /// JOIN: subscribe or resubscribe, recording the number texted and this inbound row.
    Subscribe,
    /// STOP: unsubscribe, or record a suppression row if the phone never joined.
    Unsubscribe,
}

/// An inbound text and what the keyword layer decided to do about it.
#[derive(Debug, Clone, Copy)]
pub struct InboundAction<'a> {
    pub inbound: NewInbound<'a>,
    pub membership: MembershipChange,
    /// Text to send back from the number the member texted, as a transactional message.
    pub reply: Option<&'a str>,
    /// When the text reached our edge (ms since the epoch): a membership change older than the
    /// member's latest applied keyword is skipped, reply included, so out-of-order processing
    /// of a JOIN and a STOP still leaves the member as they last asked.
    pub sent_at_ms: i64,
}

/// Makes sure the phone has a row before the ordering check, so two keywords racing for a phone
/// never seen before queue on that row's lock (PostgreSQL waits on the unique key) instead of
/// both finding nothing. A new row starts as a suppression row, which is what a STOP leaves; a
/// JOIN in the same transaction turns it into a subscription before anyone else can see it.
const CLAIM_ROW: &str = "INSERT INTO members (community_id, phone, status, unsubscribed_at, joined_via) \
    VALUES ($1, $2, 'unsubscribed', $3, $4) ON CONFLICT (community_id, phone) DO NOTHING";
/// Claims "latest keyword" for a member; no row when a newer keyword was applied already.
const ORDER_BUMP: &str = "UPDATE members SET last_keyword_at_ms = $3 \
    WHERE community_id = $1 AND phone = $2 AND last_keyword_at_ms <= $3";

/// What `apply_inbound` did.
#[derive(Debug, Clone, PartialEq)]
pub enum InboundApplied {
    Applied {
        inbound_id: i64,
        /// The member row after the change, if the text touched one.
        member: Option<Member>,
        reply_message_id: Option<i64>,
    },
    /// The carrier already delivered this text; nothing was changed or queued again.
    Duplicate { inbound_id: i64 },
}

impl Store {
    /// Stores the text, applies the membership change and queues the reply in ONE transaction.
    pub async fn apply_inbound(
        &self,
        action: &InboundAction<'_>,
    ) -> Result<InboundApplied, StoreError> {
        let n = &action.inbound;
        let (community, phone) = (n.community_id, n.from.as_str());
        let subscribe = format!("{SUBSCRIBE}{COLUMNS}");
        let unsubscribe = format!("{UNSUBSCRIBE}{COLUMNS}");
        let current = format!("SELECT {COLUMNS} FROM members {BY_PHONE}");
        let outcome = with_pool!(self, pool => async {
            // The INSERT comes first so the transaction is a writer from its first statement:
            // SQLite then never has to upgrade a read snapshot (which fails under contention).
            let mut tx = pool.begin().await?;
            let inserted: Option<i64> = sqlx::query_scalar(INSERT_INBOUND)
                .bind(n.community_id).bind(n.carrier).bind(n.provider_message_id).bind(n.from.as_str())
                .bind(n.to.as_str()).bind(n.body).bind(n.keyword).bind(n.received_at)
                .fetch_optional(&mut *tx).await?;
            let Some(inbound_id) = inserted else {
                let id: i64 = sqlx::query_scalar(EXISTING_ID)
                    .bind(n.carrier).bind(n.provider_message_id).fetch_one(&mut *tx).await?;
                return Ok::<_, sqlx::Error>(Err(id));
            };
            let mut membership = action.membership;
            let mut reply = action.reply;
            if membership != MembershipChange::None {
                sqlx::query(CLAIM_ROW)
                    .bind(community).bind(phone).bind(n.received_at).bind(JoinedVia::Keyword.as_str())
                    .execute(&mut *tx).await?;
                let newest = sqlx::query(ORDER_BUMP)
                    .bind(community).bind(phone).bind(action.sent_at_ms)
                    .execute(&mut *tx).await?.rows_affected() == 1;
                if !newest {
                    // A later JOIN or STOP from this phone was applied already: this one is history.
                    membership = MembershipChange::None;
                    reply = None;
                }
            }
            let changed: Option<MemberRow> = match membership {
                MembershipChange::None => None,
                MembershipChange::Subscribe => sqlx::query_as(&subscribe)
                    .bind(community).bind(phone).bind(n.received_at).bind(JoinedVia::Keyword.as_str())
                    .bind(n.to.as_str()).bind(inbound_id)
                    .fetch_optional(&mut *tx).await?,
                MembershipChange::Unsubscribe => sqlx::query_as(&unsubscribe)
                    .bind(community).bind(phone).bind(n.received_at).bind(JoinedVia::Keyword.as_str())
                    .fetch_optional(&mut *tx).await?,
            };
            let member: Option<MemberRow> = match changed {
                Some(row) => Some(row),
                None => sqlx::query_as(&current).bind(community).bind(phone).fetch_optional(&mut *tx).await?,
            };
            let member_id = member.as_ref().map(MemberRow::id);
            let mut reply_id = None;
            if let Some(body) = reply {
                let id: i64 = sqlx::query_scalar(INSERT_REPLY)
                    .bind(community).bind(member_id).bind(phone).bind(Some(n.to.as_str()))
                    .bind(n.carrier).bind(body).bind(Utc::now()).bind(inbound_id)
                    .fetch_one(&mut *tx).await?;
                reply_id = Some(id);
            }
            tx.commit().await?;
            Ok(Ok((inbound_id, member, reply_id)))
        }.await)?;
        match outcome {
            Err(inbound_id) => Ok(InboundApplied::Duplicate { inbound_id }),
            Ok((inbound_id, member, reply_message_id)) => Ok(InboundApplied::Applied {
                inbound_id,
                member: member.map(Member::try_from).transpose()?,
                reply_message_id,
            }),
        }
    }
}
