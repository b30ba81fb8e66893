//! What the scan needs to know about an entrance and its venue, kept in memory. A scan then needs
//! no venue query at all. Entries are dropped when this node changes the venue (rotation, review,
//! edits) and expire after a short time, which bounds how stale another node's copy can be.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::domain::{MapPoint, TransportKind, VenueStatus};

/// Kept per node; other nodes see a change within this time.
const TTL: Duration = Duration::from_secs(30);
/// Past this many entries the cache starts afresh rather than grow without bound.
const MAX_ENTRIES: usize = 200_000;

#[derive(Debug, Clone)]
pub struct EntranceSnapshot {
    pub entrance_id: i64,
    pub entrance_name: String,
    pub code_version: i32,
    pub open: bool,
    pub venue_id: i64,
    pub venue_name: String,
    pub venue_status: VenueStatus,
    /// Province to street, for the door page.
    pub full_address: String,
    /// `生活购物场所 · 超市`.
    pub category_label: String,
    pub region_code: String,
    pub default_stay_minutes: u32,
    pub transport: Option<TransportKind>,
    pub location: Option<MapPoint>,
}

#[derive(Default)]
pub struct EntranceCache {
    entries: RwLock<HashMap<i64, (Instant, Arc<EntranceSnapshot>)>>,
}

impl EntranceCache {
    pub fn get(&self, entrance_id: i64) -> Option<Arc<EntranceSnapshot>> {
        let entries = self.entries.read().expect("cache lock");
        entries
            .get(&entrance_id)
            .filter(|(stored, _)| stored.elapsed() < TTL)
            .map(|(_, snapshot)| Arc::clone(snapshot))
    }

    pub fn put(&self, snapshot: Arc<EntranceSnapshot>) {
        let mut entries = self.entries.write().expect("cache lock");
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(snapshot.entrance_id, (Instant::now(), snapshot));
    }

    /// Forgets every entrance of a venue after a change to it.
    pub fn invalidate_venue(&self, venue_id: i64) {
        self.entries
            .write()
            .expect("cache lock")
            .retain(|_, (_, snapshot)| snapshot.venue_id != venue_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(entrance_id: i64, venue_id: i64) -> Arc<EntranceSnapshot> {
        Arc::new(EntranceSnapshot {
            entrance_id,
            entrance_name: "东门".into(),
            code_version: 1,
            open: true,
            venue_id,
            venue_name: "超市".into(),
            venue_status: VenueStatus::Approved,
            full_address: String::new(),
            category_label: String::new(),
            region_code: "431025100".into(),
            default_stay_minutes: 45,
            transport: None,
            location: None,
        })
    }

    #[test]
    fn entries_are_kept_and_dropped_by_venue() {
        let cache = EntranceCache::default();
        cache.put(snapshot(1, 10));
        cache.put(snapshot(2, 10));
        cache.put(snapshot(3, 11));
        assert!(cache.get(1).is_some());
        cache.invalidate_venue(10);
        assert!(cache.get(1).is_none() && cache.get(2).is_none());
        assert!(cache.get(3).is_some());
    }
}
