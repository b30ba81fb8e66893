//! Keys at work: personal data sealed at rest, the pass tokens shown at the door, and the short
//! signed tokens of venue codes and paper codes.

mod compact_token;
pub mod paper_code;
pub mod passes;
pub mod pii;
pub mod venue_code;

pub use compact_token::constant_time_eq;
pub use paper_code::{PaperCode, PaperCodeError, PaperCodeSigner};
pub use passes::PassSigner;
pub use pii::{Field, PiiCipher};
pub use venue_code::{VenueCodeError, VenueCodeRef, VenueCodeSigner};
