//! A new community and its first number, written together or not at all.

use super::communities::{CommunityRow, insert_community_sql};
use super::senders::{NewSender, SenderRow, insert_sender_sql};
use super::{Community, NewCommunity, SenderNumber, Store, StoreError};

impl Store {
    /// Creates the community and its number in one transaction: a number that is taken (or
    /// any other failure) leaves no community without a number behind.
    pub async fn create_community_with_sender(
        &self,
        new: &NewCommunity,
        sender: &NewSender,
    ) -> Result<(Community, SenderNumber), StoreError> {
        let (community_sql, sender_sql) = (insert_community_sql(), insert_sender_sql());
        let (community, number) = with_pool!(self, pool => async {
            let mut tx = pool.begin().await?;
            let community: CommunityRow = sqlx::query_as(&community_sql)
                .bind(&new.name)
                .bind(new.join_keyword.to_uppercase())
                .bind(&new.welcome_reply)
                .bind(&new.help_reply)
                .bind(&new.stop_reply)
                .bind(new.daily_message_cap)
                .bind(chrono::Utc::now())
                .fetch_one(&mut *tx)
                .await?;
            let number: SenderRow = sqlx::query_as(&sender_sql)
                .bind(community.id)
                .bind(&sender.carrier)
                .bind(sender.number.as_str())
                .bind(sender.kind.as_str())
                .bind(sender.rate_per_second)
                .fetch_one(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>((community, number))
        }.await)?;
        Ok((community.into(), number.try_into()?))
    }
}
