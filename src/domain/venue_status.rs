use super::named::{named_enum, parse_named};
use super::{FieldCode, FieldError};

named_enum! {
    /// Where a venue application stands. Only an approved venue has working codes; once approved
    /// its basic information is locked.
    pub enum VenueStatus {
        Pending = "pending",
        Approved = "approved",
        Rejected = "rejected",
    }
}

impl VenueStatus {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        parse_named(
            input,
            Self::ALL,
            Self::as_str,
            FieldCode::StatusInvalid,
            "status",
        )
    }

    /// Basic information may change while the application is pending or was rejected.
    pub fn is_editable(self) -> bool {
        self != VenueStatus::Approved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_approved_venues_are_locked() {
        for status in VenueStatus::ALL {
            assert_eq!(VenueStatus::parse(status.as_str()), Ok(*status));
            assert_eq!(status.is_editable(), *status != VenueStatus::Approved);
        }
        assert!(VenueStatus::parse("closed").is_err());
    }
}
