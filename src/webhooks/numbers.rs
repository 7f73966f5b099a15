//! Which community owns a number: asked on every inbound text, so cached briefly.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::domain::SenderAddress;
use crate::store::{Store, StoreError};

/// How long a lookup (hit or miss) is trusted; a new number starts working within this.
const TTL: Duration = Duration::from_secs(5);

/// A cached answer and when it was fetched.
type Entry = (Option<i64>, Instant);

/// Caches number → community lookups; cheap to clone.
#[derive(Clone)]
pub struct NumberDirectory {
    store: Store,
    cache: Arc<Mutex<HashMap<String, Entry>>>,
}

impl NumberDirectory {
    /// A directory reading from `store`.
    pub fn new(store: Store) -> Self {
        Self {
            store,
            cache: Arc::default(),
        }
    }

    /// The community that owns `number` (a phone number or short code), if any.
    pub async fn community_of(&self, number: &SenderAddress) -> Result<Option<i64>, StoreError> {
        if let Some((community, at)) = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(number.as_str())
        {
            if at.elapsed() < TTL {
                return Ok(*community);
            }
        }
        let community = self
            .store
            .community_by_address(number)
            .await?
            .map(|(c, _)| c.id);
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(number.as_str().to_owned(), (community, Instant::now()));
        Ok(community)
    }
}
