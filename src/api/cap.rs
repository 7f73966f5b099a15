//! The daily message cap and the send rate: the two numbers a broadcast is measured against.

use chrono::{DateTime, Utc};

use super::ApiState;
use crate::http::Problem;

/// Refuses a broadcast of `recipients` messages that would take the community past its daily cap.
///
/// The cap counts messages (one per recipient), not segments: it is a budget of texts, and
/// `messages_committed_since` counts messages. The day is the UTC day.
pub async fn check(
    api: &ApiState,
    community_id: i64,
    recipients: i64,
    now: DateTime<Utc>,
) -> Result<(), Problem> {
    let store = &api.app.store;
    let community = store
        .community(community_id)
        .await?
        .ok_or_else(|| Problem::internal(format!("API key of missing community {community_id}")))?;
    let Some(cap) = community.daily_message_cap else {
        return Ok(());
    };
    let midnight = now.date_naive().and_time(chrono::NaiveTime::MIN).and_utc();
    let committed = store
        .messages_committed_since(community_id, midnight)
        .await?;
    if committed + recipients <= cap {
        return Ok(());
    }
    Err(Problem::unprocessable(
        "daily_cap_exceeded",
        format!(
            "this broadcast needs {recipients} messages but only {} of today's {cap} remain",
            (cap - committed).max(0)
        ),
    )
    .with("daily_cap", cap)
    .with("committed_today", committed)
    .with("requested", recipients)
    .with("remaining", (cap - committed).max(0)))
}

/// Messages per second the community's first sender can send: the lower of its own limit (its
/// explicit rate, else its kind's default) and its carrier account's. `None` when it has no
/// sender or its carrier profile is not loaded.
pub async fn send_rate(api: &ApiState, community_id: i64) -> Result<Option<f64>, Problem> {
    let senders = api.app.store.sender_numbers(community_id).await?;
    let Some(sender) = senders.first() else {
        return Ok(None);
    };
    let Some(profile) = api.app.carrier(&sender.carrier) else {
        return Ok(None);
    };
    let account = profile.limits.rate_per_second;
    let own = profile.sender_rate(sender.number.as_str(), sender.kind, sender.rate_per_second);
    Ok(Some(own.map_or(account, |own| own.min(account))))
}
