//! Staff accounts and staff sessions as requests need them: role, region, session version,
//! disabled; whether a session was ended. Every staff request reads both through here, so a
//! disabled account, a changed role or a logout takes effect on every node within the entries'
//! lifetime of one second.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Duration, Utc};

use crate::domain::{RegionCode, StaffRole};

const TTL: Duration = Duration::seconds(1);
const MAX_ENTRIES: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffRecord {
    pub id: i64,
    pub role: StaffRole,
    pub region: RegionCode,
    pub session_version: i32,
    pub disabled: bool,
}

/// A staff session as recorded at login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub staff_id: i64,
    /// Ended by logging out.
    pub ended: bool,
}

/// When an entry was read, and what.
type Entry<V> = (DateTime<Utc>, Arc<V>);

/// Entries trusted for one second after they were read.
pub struct Recent<K, V> {
    entries: RwLock<HashMap<K, Entry<V>>>,
}

impl<K, V> Default for Recent<K, V> {
    fn default() -> Self {
        Self {
            entries: RwLock::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash, V> Recent<K, V> {
    /// The value as read less than a second before `now` (the application clock's).
    pub fn get(&self, key: &K, now: DateTime<Utc>) -> Option<Arc<V>> {
        let entries = self.entries.read().expect("cache lock");
        entries
            .get(key)
            .filter(|(stored, _)| now - *stored < TTL && now >= *stored)
            .map(|(_, value)| Arc::clone(value))
    }

    pub fn put(&self, key: K, value: Arc<V>, now: DateTime<Utc>) {
        let mut entries = self.entries.write().expect("cache lock");
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, (now, value));
    }

    /// Forgets an entry after a change made on this node.
    pub fn forget(&self, key: &K) {
        self.entries.write().expect("cache lock").remove(key);
    }
}

/// Staff accounts by id.
pub type StaffCache = Recent<i64, StaffRecord>;
/// Staff sessions by id.
pub type SessionCache = Recent<String, SessionRecord>;
