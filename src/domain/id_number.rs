//! Resident identity number, GB 11643-1999.

use chrono::{Datelike, Duration, NaiveDate, Utc};
use serde::{Serialize, Serializer};

use super::{mask_id_number, FieldCode, FieldError};

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARACTERS: &[u8; 11] = b"10X98765432";
/// Province-level prefixes that appear in resident ID numbers (mainland, and 83 for residents from
/// Taiwan, Hong Kong and Macao who hold a residence permit).
const PROVINCE_PREFIXES: &[&str] = &[
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41",
    "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71",
    "81", "82", "83",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

/// An 18-character resident ID number with a correct check character and a real birth date.
/// Stored upper case.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdNumber(String);

impl IdNumber {
    /// Parses, refusing birth dates after today anywhere on Earth (the date at UTC+14): the
    /// rule needs no time zone, and nobody born today is refused.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        Self::parse_on(input, latest_today())
    }

    /// Parses, refusing birth dates after `today`.
    pub fn parse_on(input: &str, today: NaiveDate) -> Result<Self, FieldError> {
        let value = input.trim().to_ascii_uppercase();
        if value.chars().count() != 18 {
            return Err(FieldError::new(
                FieldCode::IdNumberLength,
                "身份证号码应为18位",
            ));
        }
        let bytes = value.as_bytes();
        let body_is_digits = bytes[..17].iter().all(u8::is_ascii_digit);
        let last_ok = bytes[17].is_ascii_digit() || bytes[17] == b'X';
        if !body_is_digits || !last_ok {
            return Err(FieldError::new(
                FieldCode::IdNumberCharacters,
                "身份证号码前17位应为数字，最后一位为数字或X",
            ));
        }
        if !PROVINCE_PREFIXES.contains(&&value[..2]) {
            return Err(FieldError::new(
                FieldCode::IdNumberRegion,
                "身份证号码的地址码不正确",
            ));
        }
        let birth_date = NaiveDate::parse_from_str(&value[6..14], "%Y%m%d").map_err(|_| {
            FieldError::new(FieldCode::IdNumberBirthDate, "身份证号码中的出生日期不存在")
        })?;
        if birth_date > today {
            return Err(FieldError::new(
                FieldCode::IdNumberBirthDate,
                "身份证号码中的出生日期晚于今天",
            ));
        }
        if check_character(&bytes[..17]) != bytes[17] {
            return Err(FieldError::new(
                FieldCode::IdNumberCheckCharacter,
                "身份证号码校验位不正确，请核对",
            ));
        }
        Ok(Self(value))
    }

    pub fn birth_date(&self) -> NaiveDate {
        NaiveDate::parse_from_str(&self.0[6..14], "%Y%m%d").expect("checked when parsed")
    }

    /// The 17th digit: odd for men, even for women.
    pub fn sex(&self) -> Sex {
        if (self.0.as_bytes()[16] - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    pub fn masked(&self) -> String {
        mask_id_number(&self.0)
    }

    /// A number a resident ID document already checked.
    pub(super) fn from_checked(number: String) -> Self {
        Self(number)
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// Age in whole years on `date` of someone born on `birth` (0 before the first birthday).
pub fn age_on(birth: NaiveDate, date: NaiveDate) -> u32 {
    if date < birth {
        return 0;
    }
    let mut age = date.year() - birth.year();
    if (date.month(), date.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age.max(0) as u32
}

/// The check character for the first 17 digits.
pub(super) fn check_character(digits: &[u8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK_CHARACTERS[(sum % 11) as usize]
}

/// The latest date it is anywhere right now: the date at UTC+14.
pub(super) fn latest_today() -> NaiveDate {
    (Utc::now() + Duration::hours(14)).date_naive()
}

impl AsRef<str> for IdNumber {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Never print an ID number in full by accident: debug output is masked.
impl std::fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

impl Serialize for IdNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn accepts_the_standard_examples() {
        let woman = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(woman.sex(), Sex::Female);
        assert_eq!(woman.birth_date(), day(1949, 12, 31));
        let man = IdNumber::parse("440524188001010014").unwrap();
        assert_eq!(man.sex(), Sex::Male);
        assert_eq!(man.birth_date(), day(1880, 1, 1));
    }

    #[test]
    fn lower_case_x_is_accepted_and_stored_upper_case() {
        let id = IdNumber::parse(" 11010519491231002x ").unwrap();
        assert_eq!(id.as_ref(), "11010519491231002X");
    }

    #[test]
    fn a_wrong_check_character_is_refused() {
        let err = IdNumber::parse("110105194912310021").unwrap_err();
        assert_eq!(err.code, "id_number_check_character");
    }

    #[test]
    fn wrong_length_and_characters_are_refused() {
        assert_eq!(
            IdNumber::parse("11010519491231002").unwrap_err().code,
            "id_number_length"
        );
        assert_eq!(
            IdNumber::parse("1101051949123100AX").unwrap_err().code,
            "id_number_characters"
        );
        assert_eq!(IdNumber::parse("").unwrap_err().code, "id_number_length");
    }

    #[test]
    fn an_impossible_birth_date_is_refused() {
        // 1949-02-30 does not exist; the check character is made right so only the date is wrong.
        let body = "11010519490230002";
        let id = format!("{body}{}", check_character(body.as_bytes()) as char);
        assert_eq!(
            IdNumber::parse(&id).unwrap_err().code,
            "id_number_birth_date"
        );
    }

    #[test]
    fn a_birth_date_in_the_future_is_refused() {
        let body = "11010520300101002";
        let id = format!("{body}{}", check_character(body.as_bytes()) as char);
        let err = IdNumber::parse_on(&id, day(2026, 11, 21)).unwrap_err();
        assert_eq!(err.code, "id_number_birth_date");
        assert!(IdNumber::parse_on(&id, day(2030, 1, 1)).is_ok());
    }

    #[test]
    fn an_unknown_province_prefix_is_refused() {
        let body = "99010519491231002";
        let id = format!("{body}{}", check_character(body.as_bytes()) as char);
        assert_eq!(IdNumber::parse(&id).unwrap_err().code, "id_number_region");
    }

    #[test]
    fn age_counts_whole_years() {
        let id = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(age_on(id.birth_date(), day(2026, 12, 30)), 76);
        assert_eq!(age_on(id.birth_date(), day(2026, 12, 31)), 77);
        assert_eq!(age_on(id.birth_date(), day(1949, 12, 31)), 0);
        assert_eq!(age_on(id.birth_date(), day(1900, 1, 1)), 0);
    }

    #[test]
    fn debug_output_is_masked() {
        let id = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(format!("{id:?}"), "IdNumber(1101**********002X)");
    }

    #[test]
    fn every_single_digit_change_is_caught() {
        let valid = "440524188001010014";
        for position in 0..17 {
            for digit in b'0'..=b'9' {
                let mut bytes = valid.as_bytes().to_vec();
                if bytes[position] == digit {
                    continue;
                }
                bytes[position] = digit;
                let changed = String::from_utf8(bytes).unwrap();
                assert!(IdNumber::parse(&changed).is_err(), "{changed} was accepted");
            }
        }
    }
}
