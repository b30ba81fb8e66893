use serde::{Deserialize, Serialize};

use super::FieldError;

/// What a staff account may do; its region code limits where.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    /// Approves or rejects venue applications of their county.
    Reviewer,
    /// Sets health-code colours, traces contacts, handles alerts.
    HealthOfficial,
    /// Reads the audit log.
    Auditor,
    /// Operates the system.
    Sysadmin,
}

impl StaffRole {
    pub const ALL: [StaffRole; 4] = [
        StaffRole::Reviewer,
        StaffRole::HealthOfficial,
        StaffRole::Auditor,
        StaffRole::Sysadmin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StaffRole::Reviewer => "reviewer",
            StaffRole::HealthOfficial => "health_official",
            StaffRole::Auditor => "auditor",
            StaffRole::Sysadmin => "sysadmin",
        }
    }

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|role| role.as_str() == input.trim())
            .ok_or_else(|| {
                FieldError::new(
                    "staff_role_invalid",
                    "角色只能是 reviewer、health_official、auditor 或 sysadmin",
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip() {
        for role in StaffRole::ALL {
            assert_eq!(StaffRole::parse(role.as_str()).unwrap(), role);
        }
        assert!(StaffRole::parse("admin").is_err());
    }
}
