//! Why an input was refused: one [`FieldError`] per bad value, collected in [`FieldErrors`] so that
//! a request names every bad field at once (`manager.id_number`, `entrances[1].name`).

use std::collections::BTreeMap;
use std::fmt;

/// Every code a refused field can carry, in `details.<field>.code` of a 422 `validation_failed` or
/// a 400 `invalid_query`. The document's `FieldErrorCode` lists exactly these (a test compares them).
macro_rules! field_codes {
    ($($variant:ident = $code:literal,)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum FieldCode {
            $($variant,)*
        }

        impl FieldCode {
            pub const ALL: &'static [FieldCode] = &[$(FieldCode::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(FieldCode::$variant => $code,)*
                }
            }
        }
    };
}

field_codes! {
    BirthDateInvalid = "birth_date_invalid",
    BirthDateMismatch = "birth_date_mismatch",
    BirthDateRequired = "birth_date_required",
    CategoryUnknown = "category_unknown",
    ChangesCount = "changes_count",
    CodeInvalid = "code_invalid",
    CompanionIdsInvalid = "companion_ids_invalid",
    CompanionIsSelf = "companion_is_self",
    ControlCharacters = "control_characters",
    CreditCodeInvalid = "credit_code_invalid",
    CsvColumns = "csv_columns",
    CsvInvalid = "csv_invalid",
    CsvRow = "csv_row",
    CursorInvalid = "cursor_invalid",
    DateInvalid = "date_invalid",
    DaysOutOfRange = "days_out_of_range",
    DecisionInvalid = "decision_invalid",
    DepthInvalid = "depth_invalid",
    DescriptionInvalid = "description_invalid",
    Duplicate = "duplicate",
    EmptyValue = "empty_value",
    EntranceUnknown = "entrance_unknown",
    GenderInvalid = "gender_invalid",
    HealthColorInvalid = "health_color_invalid",
    HoursInvalid = "hours_invalid",
    IdNumberBirthDate = "id_number_birth_date",
    IdNumberCharacters = "id_number_characters",
    IdNumberCheckCharacter = "id_number_check_character",
    IdNumberInvalid = "id_number_invalid",
    IdNumberLength = "id_number_length",
    IdNumberRegion = "id_number_region",
    IdNumberRequired = "id_number_required",
    IdTypeInvalid = "id_type_invalid",
    IdTypeUnsupported = "id_type_unsupported",
    InvalidType = "invalid_type",
    InvalidValue = "invalid_value",
    LastDoseOnInvalid = "last_dose_on_invalid",
    LevelInvalid = "level_invalid",
    LimitOutOfRange = "limit_out_of_range",
    LocationInvalid = "location_invalid",
    LocationOutsideChina = "location_outside_china",
    MessageInvalid = "message_invalid",
    MobileInvalid = "mobile_invalid",
    MobileUnsupported = "mobile_unsupported",
    NameRequired = "name_required",
    NoteInvalid = "note_invalid",
    NoteRequired = "note_required",
    OneFilter = "one_filter",
    OutcomeInvalid = "outcome_invalid",
    PhoneProofInvalid = "phone_proof_invalid",
    PhoneProofPlatform = "phone_proof_platform",
    PhoneProofRequired = "phone_proof_required",
    PlateNumberInvalid = "plate_number_invalid",
    PlatformInvalid = "platform_invalid",
    RangeInFuture = "range_in_future",
    RangeInvalid = "range_invalid",
    RangeOutsideRetention = "range_outside_retention",
    RangeTooLong = "range_too_long",
    ReasonCodeInvalid = "reason_code_invalid",
    ReasonInvalid = "reason_invalid",
    RecordEmpty = "record_empty",
    RegionCodeInvalid = "region_code_invalid",
    RegionLevel = "region_level",
    RegionOutside = "region_outside",
    RegionUnknown = "region_unknown",
    RelationInvalid = "relation_invalid",
    Required = "required",
    ResultRequired = "result_required",
    ResultsCount = "results_count",
    RowsCount = "rows_count",
    SampledAtFuture = "sampled_at_future",
    SampledAtInvalid = "sampled_at_invalid",
    SampledAtRequired = "sampled_at_required",
    ScannedAtFuture = "scanned_at_future",
    ScannedAtInvalid = "scanned_at_invalid",
    ScannedAtTooOld = "scanned_at_too_old",
    StaffRoleInvalid = "staff_role_invalid",
    StatusInvalid = "status_invalid",
    SubjectInvalid = "subject_invalid",
    SubtypeUnknown = "subtype_unknown",
    TemperatureInvalid = "temperature_invalid",
    TestResultInvalid = "test_result_invalid",
    TimeInvalid = "time_invalid",
    TooLong = "too_long",
    TooMany = "too_many",
    TooShort = "too_short",
    TransportLineInvalid = "transport_line_invalid",
    TransportOnly = "transport_only",
    TransportRequired = "transport_required",
    UnknownField = "unknown_field",
    UrlInvalid = "url_invalid",
    VaccineDosesInvalid = "vaccine_doses_invalid",
    VaccineDosesRequired = "vaccine_doses_required",
    VenueIdInvalid = "venue_id_invalid",
    VenuesCount = "venues_count",
}

impl fmt::Display for FieldCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for FieldCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl PartialEq<&str> for FieldCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// Why one input value was refused: a stable machine code and a message for the person (zh-CN).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub code: FieldCode,
    pub message: String,
}

impl FieldError {
    pub fn new(code: FieldCode, message: impl Into<String>) -> Self {
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
        errors.add(
            "name",
            FieldError::new(FieldCode::Required, "场所名称不能为空"),
        );
        errors.add("name", FieldError::new(FieldCode::TooLong, "x"));
        assert_eq!(errors.check("phone", Ok::<_, FieldError>(1)), Some(1));
        errors.check::<()>(
            "manager.phone",
            Err(FieldError::new(FieldCode::MobileInvalid, "x")),
        );
        let fields: Vec<_> = errors.iter().map(|(f, e)| (f, e.code.as_str())).collect();
        assert_eq!(
            fields,
            [("manager.phone", "mobile_invalid"), ("name", "required")]
        );
        assert!(errors.finish().is_err());
        assert!(FieldErrors::default().finish().is_ok());
    }

    #[test]
    fn a_prefix_can_be_taken_off() {
        let errors = FieldErrors::one(
            "entrances[0].name",
            FieldError::new(FieldCode::Required, "x"),
        );
        let stripped = errors.strip_prefix("entrances[0].");
        assert_eq!(stripped.iter().next().unwrap().0, "name");
    }
}
