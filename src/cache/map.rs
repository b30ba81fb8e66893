//! A map of shared values that each expire after a while, for the caches of this module. A load
//! that overlapped an invalidation is not kept: [`Map::epoch`] before loading, [`Map::put`] with
//! it after, and the value is kept only if nothing was invalidated in between.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

type Entry<V> = (Instant, Arc<V>);

pub struct Map<K, V> {
    entries: RwLock<HashMap<K, Entry<V>>>,
    /// How long an entry is trusted at most, even if a change notice was missed.
    ttl: Duration,
    /// Past this many entries the map starts afresh rather than grow without bound.
    max_entries: usize,
    epoch: AtomicU64,
}

impl<K: Eq + Hash + Copy, V> Map<K, V> {
    pub fn new(ttl: Duration, max_entries: usize) -> Self {
        Self {
            entries: RwLock::new(HashMap::new()),
            ttl,
            max_entries,
            epoch: AtomicU64::new(0),
        }
    }

    pub fn get(&self, key: K) -> Option<Arc<V>> {
        let entries = self.entries.read().expect("cache lock");
        entries
            .get(&key)
            .filter(|(stored, _)| stored.elapsed() < self.ttl)
            .map(|(_, value)| Arc::clone(value))
    }

    /// The invalidation count, to pass to [`Map::put`] after loading.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Keeps a value loaded since `epoch`, unless something was invalidated meanwhile.
    pub fn put(&self, key: K, value: Arc<V>, epoch: u64) {
        let mut entries = self.entries.write().expect("cache lock");
        if self.epoch.load(Ordering::Acquire) != epoch {
            return;
        }
        if entries.len() >= self.max_entries {
            entries.clear();
        }
        entries.insert(key, (Instant::now(), value));
    }

    pub fn remove(&self, key: K) {
        let mut entries = self.entries.write().expect("cache lock");
        self.epoch.fetch_add(1, Ordering::AcqRel);
        entries.remove(&key);
    }

    /// Drops the entries `drop` names.
    pub fn remove_where(&self, drop: impl Fn(&V) -> bool) {
        let mut entries = self.entries.write().expect("cache lock");
        self.epoch.fetch_add(1, Ordering::AcqRel);
        entries.retain(|_, (_, value)| !drop(value));
    }

    pub fn clear(&self) {
        let mut entries = self.entries.write().expect("cache lock");
        self.epoch.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_loaded_across_an_invalidation_is_not_kept() {
        let map: Map<i64, &str> = Map::new(Duration::from_secs(60), 10);
        let epoch = map.epoch();
        map.put(1, Arc::new("one"), epoch);
        assert_eq!(map.get(1).as_deref(), Some(&"one"));

        let before = map.epoch();
        map.remove(2);
        map.put(3, Arc::new("stale"), before);
        assert!(map.get(3).is_none());
    }

    #[test]
    fn entries_expire_and_the_map_is_bounded() {
        let map: Map<i64, i64> = Map::new(Duration::ZERO, 2);
        map.put(1, Arc::new(1), map.epoch());
        assert!(map.get(1).is_none(), "expired at once");
        let map: Map<i64, i64> = Map::new(Duration::from_secs(60), 2);
        for key in 0..3 {
            map.put(key, Arc::new(key), map.epoch());
        }
        assert!(map.get(2).is_some());
        assert!(map.get(0).is_none(), "started afresh when full");
    }

    #[test]
    fn entries_are_dropped_by_what_they_hold() {
        let map: Map<i64, (i64, i64)> = Map::new(Duration::from_secs(60), 10);
        for (key, venue) in [(1, 10), (2, 10), (3, 11)] {
            map.put(key, Arc::new((key, venue)), map.epoch());
        }
        map.remove_where(|(_, venue)| *venue == 10);
        assert!(map.get(1).is_none() && map.get(2).is_none());
        assert!(map.get(3).is_some());
    }
}
