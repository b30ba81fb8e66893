//! Health-code colours, the verdict each means at the door, and why a colour was set.

use chrono::{NaiveDate, NaiveDateTime};

use super::named::{named_enum, parse_named};
use super::{FieldCode, FieldError};

named_enum! {
    /// The colour of a person's health code.
    pub enum HealthColor {
        Green = "green",
        Yellow = "yellow",
        Red = "red",
    }
}

impl HealthColor {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        parse_named(
            input,
            Self::ALL,
            Self::as_str,
            FieldCode::HealthColorInvalid,
            "健康码颜色",
        )
    }

    /// The colour's name, as staff read it.
    pub fn label(self) -> &'static str {
        match self {
            HealthColor::Green => "绿码",
            HealthColor::Yellow => "黄码",
            HealthColor::Red => "红码",
        }
    }

    /// What the door does with this colour: green passes, yellow is turned away, red is held.
    pub fn verdict(self) -> Verdict {
        match self {
            HealthColor::Green => Verdict::Pass,
            HealthColor::Yellow => Verdict::Deny,
            HealthColor::Red => Verdict::Isolate,
        }
    }
}

named_enum! {
    /// A nucleic-acid test's result.
    pub enum TestResult {
        Negative = "negative",
        Positive = "positive",
    }
}

impl TestResult {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        match input.trim() {
            "阴性" => Ok(TestResult::Negative),
            "阳性" => Ok(TestResult::Positive),
            other => parse_named(
                other,
                Self::ALL,
                Self::as_str,
                FieldCode::TestResultInvalid,
                "核酸检测结果",
            ),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            TestResult::Negative => "阴性",
            TestResult::Positive => "阳性",
        }
    }
}

/// A person's latest result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestOnRecord {
    pub result: TestResult,
    pub sampled_at: NaiveDateTime,
}

/// A person's vaccination: doses received, and when the last was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VaccinationOnRecord {
    pub doses: i16,
    pub last_dose_on: Option<NaiveDate>,
}

/// A person's colour and when it last changed; `None` time means no colour on record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CurrentColor {
    pub color: HealthColor,
    pub updated_at: Option<NaiveDateTime>,
}

/// What the door knows of a person's health: the colour, the latest nucleic-acid result, the
/// vaccination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PersonHealth {
    pub color: CurrentColor,
    pub test: Option<TestOnRecord>,
    pub vaccination: Option<VaccinationOnRecord>,
}

/// The notice of a door that requires a negative result within `hours`.
pub fn test_required_notice(hours: u32) -> String {
    format!("请出示{hours}小时内核酸阴性证明")
}

named_enum! {
    /// The decision shown at the door, ordered from mildest to strictest.
    pub enum Verdict {
        Pass = "pass",
        Deny = "deny",
        Isolate = "isolate",
    }
}

impl Verdict {
    /// The strictest verdict of a group; an empty group passes.
    pub fn worst(verdicts: impl IntoIterator<Item = Verdict>) -> Verdict {
        verdicts.into_iter().max().unwrap_or(Verdict::Pass)
    }

    /// What the door does, in words for the person and the staff.
    pub fn notice(self) -> &'static str {
        match self {
            Verdict::Pass => "绿码，请通行。请配合工作人员查验，做好个人防护。",
            Verdict::Deny => "黄码，禁止进入公共场所，不得乘坐公共交通工具。请立即返回驻地并做好个人防护，所在街道（社区）将跟进管理。",
            Verdict::Isolate => "红码，请在原地等候，配合工作人员采取临时隔离管控措施，已通知驻地防控办，请配合核酸检测。",
        }
    }
}

named_enum! {
    /// Why a health-code colour was set: a fixed list, so reports can count by reason.
    pub enum HealthReason {
        ConfirmedCase = "confirmed_case",
        CloseContact = "close_contact",
        SecondaryContact = "secondary_contact",
        RiskAreaVisit = "risk_area_visit",
        IsolationCompleted = "isolation_completed",
        AppealGranted = "appeal_granted",
        Other = "other",
    }
}

impl HealthReason {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        parse_named(
            input,
            Self::ALL,
            Self::as_str,
            FieldCode::ReasonCodeInvalid,
            "原因",
        )
    }

    /// The reason, as staff read it.
    pub fn label(self) -> &'static str {
        match self {
            HealthReason::ConfirmedCase => "确诊病例",
            HealthReason::CloseContact => "密切接触者",
            HealthReason::SecondaryContact => "次密切接触者",
            HealthReason::RiskAreaVisit => "到访风险地区",
            HealthReason::IsolationCompleted => "隔离期满",
            HealthReason::AppealGranted => "申诉核实",
            HealthReason::Other => "其他",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_colour_has_its_verdict() {
        assert_eq!(HealthColor::Green.verdict(), Verdict::Pass);
        assert_eq!(HealthColor::Yellow.verdict(), Verdict::Deny);
        assert_eq!(HealthColor::Red.verdict(), Verdict::Isolate);
    }

    #[test]
    fn the_worst_verdict_wins() {
        assert_eq!(
            Verdict::worst([Verdict::Pass, Verdict::Deny, Verdict::Pass]),
            Verdict::Deny
        );
        assert_eq!(
            Verdict::worst([Verdict::Deny, Verdict::Isolate]),
            Verdict::Isolate
        );
        assert_eq!(Verdict::worst([]), Verdict::Pass);
    }

    #[test]
    fn colours_and_reasons_parse_by_exact_name() {
        for color in HealthColor::ALL {
            assert_eq!(HealthColor::parse(color.as_str()).unwrap(), *color);
        }
        assert!(HealthColor::parse("blue").is_err());
        assert!(HealthColor::parse("Green").is_err());
        assert_eq!(
            HealthReason::parse("close_contact").unwrap(),
            HealthReason::CloseContact
        );
        assert!(HealthReason::parse("because").is_err());
    }
}
