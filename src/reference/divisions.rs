//! The national administrative divisions shipped in `reference-data/divisions` (provinces,
//! prefectures, counties and townships), embedded in the binary so the server needs no data path.

use sha2::{Digest, Sha256};

use crate::domain::{RegionCode, RegionLevel};

const FILES: [(&str, &str); 4] = [
    (
        "provinces.csv",
        include_str!("../../reference-data/divisions/provinces.csv"),
    ),
    (
        "cities.csv",
        include_str!("../../reference-data/divisions/cities.csv"),
    ),
    (
        "areas.csv",
        include_str!("../../reference-data/divisions/areas.csv"),
    ),
    (
        "streets.csv",
        include_str!("../../reference-data/divisions/streets.csv"),
    ),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Division {
    pub code: RegionCode,
    pub name: String,
}

impl Division {
    pub fn level(&self) -> RegionLevel {
        self.code.level()
    }
}

/// Every shipped division, parents before children.
pub fn shipped() -> Result<Vec<Division>, String> {
    let mut divisions = Vec::with_capacity(45_000);
    for (file, text) in FILES {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        for (line, record) in reader.records().enumerate() {
            let record = record.map_err(|e| format!("{file}: {e}"))?;
            let (Some(code), Some(name)) = (record.get(0), record.get(1)) else {
                return Err(format!("{file} row {}: missing code or name", line + 2));
            };
            let code =
                RegionCode::parse(code).map_err(|e| format!("{file} row {}: {e}", line + 2))?;
            divisions.push(Division {
                code,
                name: name.trim().to_owned(),
            });
        }
    }
    Ok(divisions)
}

/// Identifies the shipped version, so a changed file is reloaded at start-up.
pub fn checksum() -> String {
    let mut hasher = Sha256::new();
    for (file, text) in FILES {
        hasher.update(file.as_bytes());
        hasher.update([0]);
        hasher.update(text.as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_division_has_its_parent_and_the_four_levels_are_there() {
        let divisions = shipped().unwrap();
        let codes: HashSet<&str> = divisions.iter().map(|d| d.code.as_ref()).collect();
        assert_eq!(codes.len(), divisions.len(), "codes are unique");
        for d in &divisions {
            if let Some(parent) = d.code.parent() {
                assert!(codes.contains(parent.as_ref()), "{} has no parent", d.code);
            }
        }
        let count = |level| divisions.iter().filter(|d| d.level() == level).count();
        assert_eq!(count(RegionLevel::Province), 31);
        assert!(count(RegionLevel::City) > 300);
        assert!(count(RegionLevel::County) > 2800);
        assert!(count(RegionLevel::Township) > 40_000);
        assert_eq!(count(RegionLevel::Village), 0);
    }

    #[test]
    fn linwu_and_lixia_are_known() {
        let divisions = shipped().unwrap();
        let name = |code: &str| {
            divisions
                .iter()
                .find(|d| d.code.as_ref() == code)
                .map(|d| d.name.clone())
        };
        assert_eq!(name("431025").as_deref(), Some("临武县"));
        assert_eq!(name("431025100").as_deref(), Some("舜峰镇"));
        assert_eq!(name("370102").as_deref(), Some("历下区"));
    }
}
