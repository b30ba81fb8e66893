//! What the scan needs, kept in memory.

mod entrances;

pub use entrances::{EntranceCache, EntranceSnapshot};
