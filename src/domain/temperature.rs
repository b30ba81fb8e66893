//! A body temperature taken at the door.

use super::{FieldCode, FieldError};

/// Degrees Celsius to one decimal, kept as tenths (36.5 °C is 365).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Temperature(i16);

impl Temperature {
    /// A reading between 34.0 and 43.0 °C, rounded to a tenth.
    pub fn parse(celsius: f64) -> Result<Self, FieldError> {
        if !celsius.is_finite() || !(34.0..=43.0).contains(&celsius) {
            return Err(FieldError::new(
                FieldCode::TemperatureInvalid,
                "体温须为34.0至43.0之间的摄氏度数",
            ));
        }
        Ok(Self((celsius * 10.0).round() as i16))
    }

    pub fn from_tenths(tenths: i16) -> Self {
        Self(tenths)
    }

    pub fn tenths(self) -> i16 {
        self.0
    }

    pub fn celsius(self) -> f64 {
        f64::from(self.0) / 10.0
    }

    /// `37.5`.
    pub fn shown(self) -> String {
        format!("{}.{}", self.0 / 10, self.0 % 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_are_kept_to_a_tenth_within_what_a_body_reads() {
        assert_eq!(Temperature::parse(36.54).unwrap().tenths(), 365);
        assert_eq!(Temperature::parse(37.3).unwrap().shown(), "37.3");
        assert_eq!(Temperature::parse(38.0).unwrap().shown(), "38.0");
        for wrong in [33.9, 43.1, f64::NAN, f64::INFINITY] {
            assert_eq!(
                Temperature::parse(wrong).unwrap_err().code,
                "temperature_invalid"
            );
        }
    }
}
