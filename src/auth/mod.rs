//! Who is calling: session tokens for mini-program accounts and staff, the extractors that check
//! them (by role for staff), and staff passwords.

mod caller;
pub mod password;
pub mod staff_sessions;
mod tokens;

pub use caller::{
    Account, Auditor, Caller, FollowUpStaff, HealthOfficial, RegionWatcher, Registrar, Reviewer,
    Roles, Staff, Sysadmin, VenueAuthority, VenueReader,
};
pub use tokens::{
    new_session_id, well_formed_session_id, Claims, IssuedToken, SessionKind, Sessions,
};
