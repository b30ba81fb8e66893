use serde::{Serialize, Serializer};

use super::{mask_mobile, FieldCode, FieldError};

/// A mainland China mobile number: 11 digits, `1[3-9]` then 9 digits.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MobileNumber(String);

impl MobileNumber {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let value = input.trim();
        let bytes = value.as_bytes();
        let well_formed = bytes.len() == 11
            && bytes.iter().all(u8::is_ascii_digit)
            && bytes[0] == b'1'
            && (b'3'..=b'9').contains(&bytes[1]);
        if well_formed {
            Ok(Self(value.to_owned()))
        } else {
            Err(FieldError::new(
                FieldCode::MobileInvalid,
                "请输入11位中国大陆手机号码",
            ))
        }
    }

    pub fn masked(&self) -> String {
        mask_mobile(&self.0)
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl AsRef<str> for MobileNumber {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for MobileNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MobileNumber({})", self.masked())
    }
}

impl Serialize for MobileNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_mainland_numbers() {
        for ok in ["13812345678", "19912345678", " 15012345678 "] {
            assert!(MobileNumber::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_everything_else() {
        for bad in [
            "1381234567",   // 10 digits
            "138123456789", // 12 digits
            "12812345678",  // second digit 2
            "23812345678",
            "1381234567a",
            "+8613812345678",
            "",
        ] {
            assert_eq!(
                MobileNumber::parse(bad).unwrap_err().code,
                "mobile_invalid",
                "{bad}"
            );
        }
    }

    #[test]
    fn debug_output_is_masked() {
        let m = MobileNumber::parse("13812345678").unwrap();
        assert_eq!(format!("{m:?}"), "MobileNumber(138****5678)");
        assert_eq!(m.masked(), "138****5678");
    }
}
