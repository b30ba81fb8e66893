//! Free-text values typed by people: names and addresses. Each is trimmed, bounded in length and
//! free of control and invisible characters (`is_hidden`); inner runs of whitespace are kept as
//! typed.

use serde::{Serialize, Serializer};

use super::{mask_name, FieldCode, FieldError, FieldErrors};

/// Characters that change how text displays without being seen: control characters, the
/// direction overrides and isolates (U+202A–202E, U+2066–2069) that make `张三` read as another
/// name in a list, zero-width characters and other format characters.
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{E0000}'..='\u{E007F}'
        )
}

/// Checks a trimmed text against a length range counted in characters, not bytes.
fn bounded(input: &str, min: usize, max: usize, what: &str) -> Result<String, FieldError> {
    let value = input.trim();
    let length = value.chars().count();
    if length == 0 {
        return Err(FieldError::new(
            FieldCode::Required,
            format!("{what}不能为空"),
        ));
    }
    if length < min {
        return Err(FieldError::new(
            FieldCode::TooShort,
            format!("{what}至少{min}个字"),
        ));
    }
    if length > max {
        return Err(FieldError::new(
            FieldCode::TooLong,
            format!("{what}最多{max}个字"),
        ));
    }
    if value.chars().any(is_hidden) {
        return Err(FieldError::new(
            FieldCode::ControlCharacters,
            format!("{what}含有不可见的控制字符"),
        ));
    }
    Ok(value.to_owned())
}

macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident, $min:expr, $max:expr, $what:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            pub fn parse(input: &str) -> Result<Self, FieldError> {
                bounded(input, $min, $max, $what).map(Self)
            }

            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }
    };
}

text_type!(
    /// The full legal name of a venue, as on its licence.
    VenueName, 2, 100, "场所名称"
);
text_type!(
    /// The name of one entrance ("东门", "2号口"); unique inside its venue.
    EntranceName, 1, 30, "入口名称"
);
text_type!(
    /// A street address under the chosen division.
    Address, 2, 200, "详细地址"
);

/// A person's real name. Names come from identity documents in many scripts (`买买提·艾力`,
/// `John Smith`), so only length and control characters are checked; anything that later leaves
/// the system (a CSV export) neutralises its own dangerous characters.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PersonName(String);

impl PersonName {
    pub const MAX_CHARS: usize = 50;

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        bounded(input, 1, Self::MAX_CHARS, "姓名").map(Self)
    }

    pub fn masked(&self) -> String {
        mask_name(&self.0)
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl AsRef<str> for PersonName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PersonName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PersonName({})", self.masked())
    }
}

impl Serialize for PersonName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// Like [`optional_text`], for a text that must be given: empty is an error too.
pub fn required_text(
    errors: &mut FieldErrors,
    field: &str,
    value: &str,
    max: usize,
    error: FieldError,
) -> Option<String> {
    if value.trim().is_empty() {
        errors.add(field, error);
        return None;
    }
    optional_text(errors, field, Some(value), max, error)
}

/// Checks a free text such as a reason or a note: trimmed, at most `max` characters, no control
/// characters but line breaks. Empty is `None`.
pub fn optional_text(
    errors: &mut FieldErrors,
    field: &str,
    value: Option<&str>,
    max: usize,
    error: FieldError,
) -> Option<String> {
    let value = value.map(str::trim).filter(|v| !v.is_empty())?;
    if value.chars().count() > max || value.chars().any(|c| c != '\n' && is_hidden(c)) {
        errors.add(field, error);
        return None;
    }
    Some(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            VenueName::parse("  临武县人民医院 ").unwrap().as_ref(),
            "临武县人民医院"
        );
        assert_eq!(VenueName::parse("").unwrap_err().code, "required");
        assert_eq!(VenueName::parse("   ").unwrap_err().code, "required");
        assert_eq!(VenueName::parse("店").unwrap_err().code, "too_short");
        assert_eq!(
            VenueName::parse(&"场".repeat(300)).unwrap_err().code,
            "too_long"
        );
        assert!(VenueName::parse(&"场".repeat(100)).is_ok());
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        // 30 Chinese characters are 90 bytes of UTF-8.
        assert!(EntranceName::parse(&"门".repeat(30)).is_ok());
        assert!(EntranceName::parse(&"门".repeat(31)).is_err());
    }

    #[test]
    fn control_characters_are_refused() {
        assert_eq!(
            EntranceName::parse("东\u{0}门").unwrap_err().code,
            "control_characters"
        );
        assert_eq!(
            PersonName::parse("张\n三").unwrap_err().code,
            "control_characters"
        );
    }

    #[test]
    fn direction_overrides_and_invisible_characters_are_refused() {
        for name in [
            "张\u{202E}三",
            "张\u{2066}三\u{2069}",
            "张\u{200B}三",
            "\u{FEFF}张三",
            "张\u{3164}",
        ] {
            assert_eq!(
                PersonName::parse(name).unwrap_err().code,
                "control_characters",
                "{name:?}"
            );
        }
        assert!(Address::parse("解放路\u{202D}88号").is_err());
    }

    #[test]
    fn person_names_from_many_scripts() {
        for name in ["张三", "买买提·艾力", "John Smith", "欧阳娜娜"] {
            assert!(PersonName::parse(name).is_ok(), "{name}");
        }
        assert_eq!(
            format!("{:?}", PersonName::parse("张三").unwrap()),
            "PersonName(张*)"
        );
    }
}
