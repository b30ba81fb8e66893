use super::named::{named_enum, parse_named};
use super::{FieldCode, FieldError};

named_enum! {
    /// What a staff account may do; its region code limits where.
    pub enum StaffRole {
        /// Approves or rejects venue applications of their county.
        Reviewer = "reviewer",
        /// Sets health-code colours, traces contacts, handles alerts.
        HealthOfficial = "health_official",
        /// Reads the audit log.
        Auditor = "auditor",
        /// Operates the system.
        Sysadmin = "sysadmin",
        /// A street office's or community's staff: registers the venues of their region (approved
        /// at once), suspends and resumes them, follows up people of their region.
        Registrar = "registrar",
    }
}

impl StaffRole {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        parse_named(
            input,
            Self::ALL,
            Self::as_str,
            FieldCode::StaffRoleInvalid,
            "角色",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip() {
        for role in StaffRole::ALL {
            assert_eq!(StaffRole::parse(role.as_str()).unwrap(), *role);
        }
        assert!(StaffRole::parse("admin").is_err());
    }
}
