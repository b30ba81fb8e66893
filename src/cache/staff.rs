//! Staff accounts as sessions need them: role, region, session version, disabled. Every staff
//! request reads the account through here, so a disabled account or a changed role takes effect
//! on every node within the entries' lifetime of one second.

use std::collections::HashMap;
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

/// When an entry was read, and what.
type Entry = (DateTime<Utc>, Arc<StaffRecord>);

#[derive(Default)]
pub struct StaffCache {
    entries: RwLock<HashMap<i64, Entry>>,
}

impl StaffCache {
    /// The account as read less than a second before `now` (the application clock's).
    pub fn get(&self, id: i64, now: DateTime<Utc>) -> Option<Arc<StaffRecord>> {
        let entries = self.entries.read().expect("cache lock");
        entries
            .get(&id)
            .filter(|(stored, _)| now - *stored < TTL && now >= *stored)
            .map(|(_, record)| Arc::clone(record))
    }

    pub fn put(&self, record: Arc<StaffRecord>, now: DateTime<Utc>) {
        let mut entries = self.entries.write().expect("cache lock");
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(record.id, (now, record));
    }

    /// Forgets an account after a change made on this node.
    pub fn forget(&self, id: i64) {
        self.entries.write().expect("cache lock").remove(&id);
    }
}
