//! Pure types and rules of the venue-code domain. Nothing here knows about HTTP or the database:
//! every value that crosses the edge is parsed once into one of these types, and a value of the type
//! is valid by construction.

mod audit_chain;
mod check_in;
mod companion_rule;
mod credit_code;
mod field_error;
mod geo;
mod health;
mod id_document;
mod id_number;
pub mod login_throttle;
mod masking;
mod mobile;
mod named;
mod page;
mod region_code;
pub mod scan;
mod secret;
mod staff_role;
mod stay;
pub mod taxonomy;
mod temperature;
mod text;
pub mod transport;
mod venue;
mod venue_status;
mod window;

pub use audit_chain::ChainReport;
pub use check_in::{
    AlertKind, AlertStatus, ChangeStatus, CheckInRole, CheckInSource, Delivery, FollowUpCause,
    FollowUpStatus, NotificationKind, Platform, VerificationStatus,
};
pub use companion_rule::CompanionRule;
pub use credit_code::CreditCode;
pub use field_error::{FieldCode, FieldError, FieldErrors};
pub use geo::MapPoint;
pub use health::{
    test_required_notice, CurrentColor, HealthColor, HealthReason, PersonHealth, TestOnRecord,
    TestResult, VaccinationOnRecord, Verdict,
};
pub use id_document::{lookup_text, parse_birth_date, IdDocument, IdType, PersonKey, MOBILE};
pub use id_number::{age_on, IdNumber, Sex};
pub use masking::{mask_id_number, mask_mobile, mask_name};
pub use mobile::MobileNumber;
pub use named::parse_named;
pub use page::PageRequest;
pub use region_code::{RegionCode, RegionLevel};
pub use secret::Secret;
pub use staff_role::StaffRole;
pub use stay::Stay;
pub use taxonomy::{Category, Subtype, Taxonomy, TransportKind};
pub use temperature::Temperature;
pub use text::{
    is_hidden, optional_text, required_text, Address, EntranceName, PersonName, VenueName,
};
pub use venue::{
    EntranceChanges, Manager, ManagerFilter, NewEntrance, VenueApplication, VenueChanges,
    VenueEdit, VenueKind,
};
pub use venue_status::VenueStatus;
pub use window::Retained;
