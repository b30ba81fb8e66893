//! A venue application and changes to it, every field already validated.

use super::CreditCode;
use super::VenueName;
use super::{Address, EntranceName, IdDocument, MapPoint, MobileNumber, PersonName, RegionCode};

/// The person responsible for a venue.
#[derive(Debug, Clone)]
pub struct Manager {
    pub name: PersonName,
    pub document: IdDocument,
    pub phone: MobileNumber,
}

/// A new entrance as applied for.
#[derive(Debug, Clone)]
pub struct NewEntrance {
    pub name: EntranceName,
    pub description: String,
}

/// What a venue is: a category and subtype of the taxonomy, and for public transport its line or
/// plate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueKind {
    pub category: String,
    pub subtype: String,
    pub transport_line: Option<String>,
    pub plate_number: Option<String>,
}

/// An application.
#[derive(Debug, Clone)]
pub struct VenueApplication {
    pub manager: Manager,
    pub name: VenueName,
    pub kind: VenueKind,
    pub region: RegionCode,
    pub address: Address,
    pub location: MapPoint,
    pub entrances: Vec<NewEntrance>,
    /// 统一社会信用代码, when the venue has one.
    pub credit_code: Option<CreditCode>,
}

/// An edit as the manager sends it: the kind's parts are checked against the taxonomy only once
/// they are merged with the venue's current kind. `None` leaves a field alone; for the transport
/// fields `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct VenueEdit {
    pub manager: Option<Manager>,
    pub name: Option<VenueName>,
    pub category: Option<String>,
    pub subtype: Option<String>,
    pub transport_line: Option<Option<String>>,
    pub plate_number: Option<Option<String>>,
    pub region: Option<RegionCode>,
    pub address: Option<Address>,
    pub location: Option<MapPoint>,
}

impl VenueEdit {
    pub fn touches_kind(&self) -> bool {
        self.category.is_some()
            || self.subtype.is_some()
            || self.transport_line.is_some()
            || self.plate_number.is_some()
    }
}

/// Changes to the basic information, resolved; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct VenueChanges {
    pub manager: Option<Manager>,
    pub name: Option<VenueName>,
    /// The whole kind as it is after the change, when any part of it changes.
    pub kind: Option<VenueKind>,
    pub region: Option<RegionCode>,
    pub address: Option<Address>,
    pub location: Option<MapPoint>,
}

/// Changes to an entrance; at least one is given.
#[derive(Debug, Clone, Default)]
pub struct EntranceChanges {
    pub name: Option<EntranceName>,
    pub description: Option<String>,
}

/// How a manager looks up their own applications.
#[derive(Debug, Clone)]
pub enum ManagerFilter {
    All,
    Phone(MobileNumber),
    Document(IdDocument),
}
