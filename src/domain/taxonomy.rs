//! The venue taxonomy: classes of venue, each with subtypes and the default length of a stay.
//! A deployment loads one taxonomy from a data file (Hunan's 10 classes by default).

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::{transport, FieldCode, FieldError, FieldErrors, VenueKind};

/// Public transport is a venue too: a vehicle (a bus line, a taxi by its plate) or a station.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransportKind {
    Vehicle,
    Station,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subtype {
    pub code: String,
    pub name: String,
    /// How long a stay lasts when the person does not check out.
    pub default_stay_minutes: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<TransportKind>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub code: String,
    pub name: String,
    pub subtypes: Vec<Subtype>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Taxonomy {
    /// Short identifier, e.g. `hunan`.
    pub id: String,
    pub name: String,
    /// Where the list comes from (a published notice).
    pub source: String,
    pub categories: Vec<Category>,
}

/// The longest default stay a subtype may declare: one day.
const MAX_STAY_MINUTES: u32 = 24 * 60;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TaxonomyError {
    #[error("taxonomy file is not valid JSON of the expected shape: {0}")]
    Format(String),
    #[error("taxonomy has no categories")]
    Empty,
    #[error("category `{0}` has no subtypes")]
    EmptyCategory(String),
    #[error("code `{0}` is used twice (category and subtype codes must be unique)")]
    DuplicateCode(String),
    #[error("code `{0}` must be lower-case ASCII letters, digits and underscores")]
    BadCode(String),
    #[error("subtype `{0}` has a default stay outside 1..={MAX_STAY_MINUTES} minutes")]
    BadStay(String),
    #[error("`{0}` has an empty name")]
    EmptyName(String),
}

impl Taxonomy {
    pub fn from_json(text: &str) -> Result<Self, TaxonomyError> {
        let taxonomy: Taxonomy =
            serde_json::from_str(text).map_err(|e| TaxonomyError::Format(e.to_string()))?;
        taxonomy.validate()?;
        Ok(taxonomy)
    }

    fn validate(&self) -> Result<(), TaxonomyError> {
        if self.categories.is_empty() {
            return Err(TaxonomyError::Empty);
        }
        let mut seen = HashSet::new();
        let mut check = |code: &str, name: &str| {
            let well_formed = !code.is_empty()
                && code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !well_formed {
                return Err(TaxonomyError::BadCode(code.to_owned()));
            }
            if name.trim().is_empty() {
                return Err(TaxonomyError::EmptyName(code.to_owned()));
            }
            if !seen.insert(code.to_owned()) {
                return Err(TaxonomyError::DuplicateCode(code.to_owned()));
            }
            Ok(())
        };
        for category in &self.categories {
            check(&category.code, &category.name)?;
            if category.subtypes.is_empty() {
                return Err(TaxonomyError::EmptyCategory(category.code.clone()));
            }
            for subtype in &category.subtypes {
                check(&subtype.code, &subtype.name)?;
                if !(1..=MAX_STAY_MINUTES).contains(&subtype.default_stay_minutes) {
                    return Err(TaxonomyError::BadStay(subtype.code.clone()));
                }
            }
        }
        Ok(())
    }

    pub fn category(&self, code: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.code == code)
    }

    /// The subtype `subtype` of category `category`, if the pair exists.
    pub fn subtype(&self, category: &str, subtype: &str) -> Option<&Subtype> {
        self.category(category)?
            .subtypes
            .iter()
            .find(|s| s.code == subtype)
    }

    /// `生活购物场所 · 超市`, or the codes when the pair is not in this taxonomy.
    pub fn label(&self, category: &str, subtype: &str) -> (String, String) {
        (
            self.category(category)
                .map_or_else(|| category.to_owned(), |c| c.name.clone()),
            self.subtype(category, subtype)
                .map_or_else(|| subtype.to_owned(), |s| s.name.clone()),
        )
    }

    /// Checks that the subtype exists and the transport fields fit it: a vehicle or station
    /// names its line or plate, any other venue neither. Bad fields are recorded in `errors`.
    pub fn kind(
        &self,
        errors: &mut FieldErrors,
        category: &str,
        subtype: &str,
        line: Option<&str>,
        plate: Option<&str>,
    ) -> Option<VenueKind> {
        let (category, subtype) = (category.trim(), subtype.trim());
        if self.category(category).is_none() {
            errors.add(
                "category",
                FieldError::new(FieldCode::CategoryUnknown, "场所类型不存在"),
            );
            return None;
        }
        let Some(found) = self.subtype(category, subtype) else {
            errors.add(
                "subtype",
                FieldError::new(FieldCode::SubtypeUnknown, "该类型下没有这个细分行业"),
            );
            return None;
        };
        let line = line.map(|l| errors.check("transport_line", transport::parse_line(l)));
        let plate = plate.map(|p| errors.check("plate_number", transport::parse_plate(p)));
        if found.transport.is_some() {
            if line.is_none() && plate.is_none() {
                errors.add(
                    "transport_line",
                    FieldError::new(
                        FieldCode::TransportRequired,
                        "公共交通场所请填写线路或车牌号",
                    ),
                );
                return None;
            }
        } else {
            for (field, given) in [
                ("transport_line", line.is_some()),
                ("plate_number", plate.is_some()),
            ] {
                if given {
                    errors.add(
                        field,
                        FieldError::new(
                            FieldCode::TransportOnly,
                            "只有公共交通场所需要填写线路或车牌号",
                        ),
                    );
                }
            }
        }
        Some(VenueKind {
            category: category.to_owned(),
            subtype: subtype.to_owned(),
            transport_line: line.flatten(),
            plate_number: plate.flatten(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> String {
        serde_json::json!({
            "id": "t", "name": "测试", "source": "test",
            "categories": [{
                "code": "medical_transport", "name": "就诊交通场所",
                "subtypes": [
                    {"code": "hospital", "name": "医院", "default_stay_minutes": 120},
                    {"code": "bus", "name": "公交车", "default_stay_minutes": 60, "transport": "vehicle"}
                ]
            }]
        })
        .to_string()
    }

    #[test]
    fn a_valid_file_loads_and_answers_lookups() {
        let t = Taxonomy::from_json(&sample()).unwrap();
        assert_eq!(
            t.subtype("medical_transport", "hospital")
                .unwrap()
                .default_stay_minutes,
            120
        );
        assert_eq!(
            t.subtype("medical_transport", "bus").unwrap().transport,
            Some(TransportKind::Vehicle)
        );
        assert!(t.subtype("medical_transport", "cinema").is_none());
        assert!(t.subtype("nope", "hospital").is_none());
    }

    #[test]
    fn broken_files_are_refused_with_a_reason() {
        let dup = sample().replace("\"bus\"", "\"hospital\"");
        assert_eq!(
            Taxonomy::from_json(&dup).unwrap_err(),
            TaxonomyError::DuplicateCode("hospital".into())
        );
        let stay = sample().replace("120", "0");
        assert_eq!(
            Taxonomy::from_json(&stay).unwrap_err(),
            TaxonomyError::BadStay("hospital".into())
        );
        let code = sample().replace("\"hospital\"", "\"Hospital\"");
        assert!(matches!(
            Taxonomy::from_json(&code),
            Err(TaxonomyError::BadCode(_))
        ));
        assert!(matches!(
            Taxonomy::from_json("{}"),
            Err(TaxonomyError::Format(_))
        ));
    }
}
