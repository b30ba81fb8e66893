//! 统一社会信用代码 (unified social credit code, GB 32100-2015): 18 characters from a 31-letter
//! alphabet (digits and upper-case letters without I, O, Z, S, V), the last one a check
//! character over the first 17.

use super::{FieldCode, FieldError};

const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// A credit code whose check character is right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditCode(String);

impl CreditCode {
    /// Trimmed and upper-cased first; then 18 characters of the alphabet with the right check
    /// character.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let code = input.trim().to_ascii_uppercase();
        let invalid = || {
            FieldError::new(
                FieldCode::CreditCodeInvalid,
                "统一社会信用代码应为18位数字或大写字母，且校验位正确",
            )
        };
        let values: Vec<u32> = code
            .bytes()
            .map(|b| ALPHABET.iter().position(|a| *a == b).map(|i| i as u32))
            .collect::<Option<_>>()
            .ok_or_else(invalid)?;
        if values.len() != 18 {
            return Err(invalid());
        }
        let sum: u32 = values[..17].iter().zip(WEIGHTS).map(|(v, w)| v * w).sum();
        let check = (31 - sum % 31) % 31;
        if values[17] != check {
            return Err(invalid());
        }
        Ok(Self(code))
    }
}

impl AsRef<str> for CreditCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_codes_pass_and_a_changed_character_fails() {
        for code in [
            "91350100M000100Y43",
            "91440300708461136T",
            "91110000802100433b",
        ] {
            assert!(CreditCode::parse(code).is_ok(), "{code}");
        }
        assert!(CreditCode::parse("91440300708461136X").is_err());
        assert!(CreditCode::parse("91440300708461137T").is_err());
        assert!(CreditCode::parse("9144030070846113").is_err());
        // I, O, Z, S and V are not in the alphabet.
        assert!(CreditCode::parse("9144030070846113IT").is_err());
    }
}
