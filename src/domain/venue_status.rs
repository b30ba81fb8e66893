use serde::Serialize;

/// Where a venue application stands. Only an approved venue has working codes; once approved its
/// basic information is locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VenueStatus {
    Pending,
    Approved,
    Rejected,
}

impl VenueStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            VenueStatus::Pending => "pending",
            VenueStatus::Approved => "approved",
            VenueStatus::Rejected => "rejected",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "pending" => Some(VenueStatus::Pending),
            "approved" => Some(VenueStatus::Approved),
            "rejected" => Some(VenueStatus::Rejected),
            _ => None,
        }
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
        for status in [
            VenueStatus::Pending,
            VenueStatus::Approved,
            VenueStatus::Rejected,
        ] {
            assert_eq!(VenueStatus::parse(status.as_str()), Some(status));
            assert_eq!(status.is_editable(), status != VenueStatus::Approved);
        }
        assert_eq!(VenueStatus::parse("closed"), None);
    }
}
