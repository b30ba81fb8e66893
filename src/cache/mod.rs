//! What requests need often, kept in memory for a bounded time.

mod entrances;
mod staff;

pub use entrances::{EntranceCache, EntranceSnapshot};
pub use staff::{StaffCache, StaffRecord};
