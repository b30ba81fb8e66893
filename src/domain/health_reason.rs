use serde::Serialize;

use super::FieldError;

/// Why a health-code colour was set: a fixed list, so reports can count by reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthReason {
    ConfirmedCase,
    CloseContact,
    SecondaryContact,
    RiskAreaVisit,
    IsolationCompleted,
    AppealGranted,
    Other,
}

impl HealthReason {
    pub const ALL: [HealthReason; 7] = [
        HealthReason::ConfirmedCase,
        HealthReason::CloseContact,
        HealthReason::SecondaryContact,
        HealthReason::RiskAreaVisit,
        HealthReason::IsolationCompleted,
        HealthReason::AppealGranted,
        HealthReason::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HealthReason::ConfirmedCase => "confirmed_case",
            HealthReason::CloseContact => "close_contact",
            HealthReason::SecondaryContact => "secondary_contact",
            HealthReason::RiskAreaVisit => "risk_area_visit",
            HealthReason::IsolationCompleted => "isolation_completed",
            HealthReason::AppealGranted => "appeal_granted",
            HealthReason::Other => "other",
        }
    }

    pub fn parse(value: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == value.trim())
            .ok_or_else(|| {
                FieldError::new(
                    "reason_code_invalid",
                    "原因只能是 confirmed_case、close_contact、secondary_contact、risk_area_visit、isolation_completed、appeal_granted 或 other",
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_round_trip() {
        for reason in HealthReason::ALL {
            assert_eq!(HealthReason::parse(reason.as_str()).unwrap(), reason);
        }
        assert!(HealthReason::parse("because").is_err());
    }
}
