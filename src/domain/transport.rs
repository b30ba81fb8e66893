//! Public transport venues are named by line ("K1路", "BRT1号线") and/or plate ("湘L12345").

use super::{FieldCode, FieldError};

const PROVINCE_ABBREVIATIONS: &str =
    "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼";

/// A bus, metro or coach line as printed on the vehicle.
pub fn parse_line(input: &str) -> Result<String, FieldError> {
    let value = input.trim();
    let length = value.chars().count();
    if length == 0 || length > 30 || value.chars().any(super::is_hidden) {
        return Err(FieldError::new(
            FieldCode::TransportLineInvalid,
            "线路名称应为1至30个字",
        ));
    }
    Ok(value.to_owned())
}

/// A mainland plate: province abbreviation, a letter, then 5 (fuel) or 6 (new energy) letters or
/// digits. Stored upper case without spaces or dots.
pub fn parse_plate(input: &str) -> Result<String, FieldError> {
    let value: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '·' && *c != '.')
        .collect::<String>()
        .to_uppercase();
    let mut chars = value.chars();
    let province_ok = chars
        .next()
        .is_some_and(|c| PROVINCE_ABBREVIATIONS.contains(c));
    let letter_ok = chars.next().is_some_and(|c| c.is_ascii_uppercase());
    let rest: Vec<char> = chars.collect();
    let rest_ok = (5..=6).contains(&rest.len())
        && rest
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || "挂学警港澳".contains(*c));
    if province_ok && letter_ok && rest_ok {
        Ok(value)
    } else {
        Err(FieldError::new(
            FieldCode::PlateNumberInvalid,
            "车牌号格式不正确，例如 湘L12345",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plates() {
        assert_eq!(parse_plate("湘L 12345").unwrap(), "湘L12345");
        assert_eq!(parse_plate("鲁a·d12345").unwrap(), "鲁AD12345");
        for bad in ["", "L12345", "湘12345", "湘L123", "湘L1234567", "美A12345"] {
            assert!(parse_plate(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn lines() {
        assert_eq!(parse_line(" K1路 ").unwrap(), "K1路");
        assert!(parse_line("").is_err());
        assert!(parse_line(&"路".repeat(31)).is_err());
    }
}
