//! What requests need often, kept in memory: entrances and their venues, accounts with their
//! consent, person and companions, colours, staff accounts. Every change that touches one of them
//! is written to `cache_changes` in its own transaction and dropped here at once; every node reads
//! that table a few times a second (`services::cache_sync`) and drops the same entries, so a change
//! on one node takes effect on all within a second. Entries also expire, which bounds staleness
//! even if a change were missed.

mod accounts;
mod feed;
mod keys;
mod map;
mod staff;

use std::sync::Mutex;
use std::time::Duration;

pub use accounts::{AccountSnapshot, CompanionSnapshot};
pub use feed::Feed;
pub use keys::CacheKey;
pub use map::Map;
pub use staff::{SessionCache, SessionRecord, StaffCache, StaffRecord};

use crate::domain::scan::EntranceSnapshot;
use crate::domain::PersonHealth;

/// The longest any entry is trusted without being read again.
pub const MAX_AGE: Duration = Duration::from_secs(30);

pub struct Caches {
    pub entrances: Map<i64, EntranceSnapshot>,
    pub accounts: Map<i64, AccountSnapshot>,
    /// Each person's colour, latest test and vaccination, as the door shows them.
    pub health: Map<i64, PersonHealth>,
    pub staff: StaffCache,
    pub staff_sessions: SessionCache,
    /// Where this node is in `cache_changes`.
    pub feed: Mutex<Feed>,
}

impl Default for Caches {
    fn default() -> Self {
        Self {
            entrances: Map::new(MAX_AGE, 200_000),
            accounts: Map::new(MAX_AGE, 2_000_000),
            health: Map::new(MAX_AGE, 2_000_000),
            staff: StaffCache::default(),
            staff_sessions: SessionCache::default(),
            feed: Mutex::new(Feed::default()),
        }
    }
}

impl Caches {
    /// Drops what `keys` name. Entrances are kept by entrance, so a venue's are found by a pass
    /// over the map: one pass for all the venues named, however many.
    pub fn invalidate(&self, keys: &[CacheKey]) {
        let mut venues = std::collections::HashSet::new();
        for key in keys {
            match *key {
                CacheKey::Venue(venue_id) => {
                    venues.insert(venue_id);
                }
                CacheKey::Account(account_id) => self.accounts.remove(account_id),
                CacheKey::Color(person_id) => self.health.remove(person_id),
                CacheKey::AllColors => self.health.clear(),
                CacheKey::Staff(staff_id) => self.staff.forget(&staff_id),
            }
        }
        if !venues.is_empty() {
            self.entrances
                .remove_where(|entrance| venues.contains(&entrance.venue_id));
        }
    }
}
