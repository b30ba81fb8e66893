use serde::{Deserialize, Serialize};

use super::FieldError;

/// The colour of a person's health code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthColor {
    Green,
    Yellow,
    Red,
}

impl HealthColor {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        match input.trim() {
            "green" => Ok(HealthColor::Green),
            "yellow" => Ok(HealthColor::Yellow),
            "red" => Ok(HealthColor::Red),
            _ => Err(FieldError::new(
                "health_color_invalid",
                "健康码颜色只能是 green、yellow 或 red",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            HealthColor::Green => "green",
            HealthColor::Yellow => "yellow",
            HealthColor::Red => "red",
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

/// The decision shown at the door, ordered from mildest to strictest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Deny,
    Isolate,
}

impl Verdict {
    /// The strictest verdict of a group; an empty group passes.
    pub fn worst(verdicts: impl IntoIterator<Item = Verdict>) -> Verdict {
        verdicts.into_iter().max().unwrap_or(Verdict::Pass)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Deny => "deny",
            Verdict::Isolate => "isolate",
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
    fn colours_parse_and_print() {
        for color in [HealthColor::Green, HealthColor::Yellow, HealthColor::Red] {
            assert_eq!(HealthColor::parse(color.as_str()).unwrap(), color);
        }
        assert!(HealthColor::parse("blue").is_err());
        assert!(HealthColor::parse("Green").is_err());
    }
}
