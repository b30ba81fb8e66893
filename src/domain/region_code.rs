//! Administrative division codes in their short form: 2 digits for a province, 4 for a prefecture,
//! 6 for a county, 9 for a township and 12 for a village (residents' or villagers' committee).

use serde::{Serialize, Serializer};

use super::{FieldCode, FieldError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionLevel {
    Province,
    City,
    County,
    Township,
    Village,
}

impl RegionLevel {
    pub fn code_length(self) -> usize {
        match self {
            RegionLevel::Province => 2,
            RegionLevel::City => 4,
            RegionLevel::County => 6,
            RegionLevel::Township => 9,
            RegionLevel::Village => 12,
        }
    }

    pub fn from_code_length(length: usize) -> Option<Self> {
        match length {
            2 => Some(RegionLevel::Province),
            4 => Some(RegionLevel::City),
            6 => Some(RegionLevel::County),
            9 => Some(RegionLevel::Township),
            12 => Some(RegionLevel::Village),
            _ => None,
        }
    }

    /// The number stored in the database.
    pub fn as_i16(self) -> i16 {
        self as i16 + 1
    }

    pub fn from_i16(value: i16) -> Option<Self> {
        [
            RegionLevel::Province,
            RegionLevel::City,
            RegionLevel::County,
            RegionLevel::Township,
            RegionLevel::Village,
        ]
        .into_iter()
        .find(|level| level.as_i16() == value)
    }
}

/// A well-formed division code. Whether the division exists is a question for the region
/// directory, not for this type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegionCode(String);

impl RegionCode {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let value = input.trim();
        if !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::new(
                FieldCode::RegionCodeInvalid,
                "行政区划代码只能包含数字",
            ));
        }
        let Some(level) = RegionLevel::from_code_length(value.len()) else {
            return Err(FieldError::new(
                FieldCode::RegionCodeInvalid,
                "行政区划代码应为2、4、6、9或12位数字",
            ));
        };
        if value.starts_with("00") {
            return Err(FieldError::new(
                FieldCode::RegionCodeInvalid,
                "行政区划代码不正确",
            ));
        }
        if level == RegionLevel::Village && value.ends_with("000") {
            return Err(FieldError::new(
                FieldCode::RegionCodeInvalid,
                "村（社区）代码不正确；乡镇（街道）请使用9位代码",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn level(&self) -> RegionLevel {
        RegionLevel::from_code_length(self.0.len()).expect("checked when parsed")
    }

    /// The division one level up, if any.
    pub fn parent(&self) -> Option<RegionCode> {
        let level = self.level();
        if level == RegionLevel::Province {
            return None;
        }
        let parent_len = RegionLevel::from_i16(level.as_i16() - 1)?.code_length();
        Some(Self(self.0[..parent_len].to_owned()))
    }

    /// True when this division lies inside `scope` (or is `scope`).
    pub fn is_within(&self, scope: &RegionCode) -> bool {
        self.0.starts_with(&scope.0)
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl AsRef<str> for RegionCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for RegionCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for RegionCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_the_length() {
        let cases = [
            ("43", RegionLevel::Province),
            ("4310", RegionLevel::City),
            ("431025", RegionLevel::County),
            ("431025100", RegionLevel::Township),
            ("431025100201", RegionLevel::Village),
        ];
        for (code, level) in cases {
            assert_eq!(RegionCode::parse(code).unwrap().level(), level, "{code}");
        }
    }

    #[test]
    fn parents_and_ancestors() {
        let village = RegionCode::parse("431025100201").unwrap();
        assert_eq!(village.parent().unwrap().as_ref(), "431025100");
        assert!(RegionCode::parse("43").unwrap().parent().is_none());
    }

    #[test]
    fn scope_is_a_prefix() {
        let linwu = RegionCode::parse("431025").unwrap();
        let township = RegionCode::parse("431025100").unwrap();
        let lixia = RegionCode::parse("370102").unwrap();
        assert!(township.is_within(&linwu));
        assert!(linwu.is_within(&linwu));
        assert!(!lixia.is_within(&linwu));
        assert!(township.is_within(&RegionCode::parse("43").unwrap()));
    }

    #[test]
    fn malformed_codes_are_refused() {
        for bad in [
            "",
            "4",
            "431",
            "43102",
            "4310251001",
            "43a025",
            "001025",
            "431025100000",
        ] {
            assert!(RegionCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn level_numbers_round_trip() {
        for n in 1..=5 {
            assert_eq!(RegionLevel::from_i16(n).unwrap().as_i16(), n);
        }
    }
}
