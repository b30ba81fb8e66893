//! Who is calling: session tokens for residents and staff, the extractors that check them, and
//! staff passwords.

mod caller;
pub mod password;
mod tokens;

pub use caller::{Resident, Staff};
pub use tokens::{Claims, IssuedToken, SessionKind, Sessions};
