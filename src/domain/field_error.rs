//! Why an input was refused: one [`FieldError`] per bad value, collected in [`FieldErrors`] so that
//! a request names every bad field at once (`manager.id_number`, `entrances[1].name`).

use std::collections::BTreeMap;
use std::fmt;

/// Why one input value was refused: a stable machine code and a message for the person (zh-CN).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub code: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for FieldError {}

/// Every bad field of one input, by path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors {
    fields: BTreeMap<String, FieldError>,
}

impl FieldErrors {
    /// One bad field.
    pub fn one(field: impl Into<String>, error: FieldError) -> Self {
        let mut errors = Self::default();
        errors.add(field, error);
        errors
    }

    /// Records `error` under `field`; the first error of a field is the one kept.
    pub fn add(&mut self, field: impl Into<String>, error: FieldError) {
        self.fields.entry(field.into()).or_insert(error);
    }

    /// Keeps the value when it parsed, records the error under `field` otherwise.
    pub fn check<T>(
        &mut self,
        field: impl Into<String>,
        parsed: Result<T, FieldError>,
    ) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(error) => {
                self.add(field, error);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// `Ok(())` when nothing was wrong.
    pub fn finish(self) -> Result<(), FieldErrors> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }

    /// `value` (built from the parsed fields) when every field parsed, these errors otherwise.
    pub fn into_result<T>(self, value: Option<T>) -> Result<T, FieldErrors> {
        match value {
            Some(value) if self.is_empty() => Ok(value),
            _ => Err(self),
        }
    }

    /// The fields with `prefix` taken off their paths (`entrances[0].name` → `name`).
    pub fn strip_prefix(self, prefix: &str) -> Self {
        Self {
            fields: self
                .fields
                .into_iter()
                .map(|(field, error)| match field.strip_prefix(prefix) {
                    Some(rest) => (rest.to_owned(), error),
                    None => (field, error),
                })
                .collect(),
        }
    }

    /// Adds `other`'s fields under `prefix` (`name` → `venues[3].name`).
    pub fn nest(&mut self, prefix: &str, other: FieldErrors) {
        for (field, error) in other.fields {
            self.fields.insert(format!("{prefix}{field}"), error);
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &FieldError)> {
        self.fields
            .iter()
            .map(|(field, error)| (field.as_str(), error))
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields: Vec<&str> = self.fields.keys().map(String::as_str).collect();
        write!(f, "invalid fields: {}", fields.join(", "))
    }
}

impl std::error::Error for FieldErrors {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_named_once() {
        let mut errors = FieldErrors::default();
        errors.add("name", FieldError::new("required", "场所名称不能为空"));
        errors.add("name", FieldError::new("too_long", "x"));
        assert_eq!(errors.check("phone", Ok::<_, FieldError>(1)), Some(1));
        errors.check::<()>("manager.phone", Err(FieldError::new("mobile_invalid", "x")));
        let fields: Vec<_> = errors.iter().map(|(f, e)| (f, e.code)).collect();
        assert_eq!(
            fields,
            [("manager.phone", "mobile_invalid"), ("name", "required")]
        );
        assert!(errors.finish().is_err());
        assert!(FieldErrors::default().finish().is_ok());
    }

    #[test]
    fn a_prefix_can_be_taken_off() {
        let errors = FieldErrors::one("entrances[0].name", FieldError::new("required", "x"));
        let stripped = errors.strip_prefix("entrances[0].");
        assert_eq!(stripped.iter().next().unwrap().0, "name");
    }
}
