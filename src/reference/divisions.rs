//! The national administrative divisions shipped in `reference-data/divisions` (provinces,
//! prefectures, counties and townships, and the villages and communities below them), embedded in
//! the binary so the server needs no data path. The 620,000 villages are compressed and read only
//! for the provinces a deployment loads.

use std::collections::BTreeMap;
use std::io::Read;

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

/// `code,name` of every village (residents' and villagers' committees), gzip-compressed.
const VILLAGES: &[u8] = include_bytes!("../../reference-data/divisions/villages.csv.gz");

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

/// The shipped villages of the `provinces` (two-digit codes; all when `None`), by province. A
/// row whose code is not a village code is left out (the file's one placeholder, 金门县).
pub fn villages(provinces: Option<&[String]>) -> Result<BTreeMap<String, Vec<Division>>, String> {
    let mut text = String::with_capacity(21 << 20);
    flate2::read::GzDecoder::new(VILLAGES)
        .read_to_string(&mut text)
        .map_err(|e| format!("villages.csv.gz: {e}"))?;
    let mut by_province: BTreeMap<String, Vec<Division>> = BTreeMap::new();
    for line in text.lines().skip(1) {
        let Some((code, name)) = line.split_once(',') else {
            continue;
        };
        let province = code.get(..2).unwrap_or_default();
        if provinces.is_some_and(|wanted| !wanted.iter().any(|p| p == province)) {
            continue;
        }
        let Ok(code) = RegionCode::parse(code) else {
            continue;
        };
        if code.level() != RegionLevel::Village {
            continue;
        }
        by_province
            .entry(province.to_owned())
            .or_default()
            .push(Division {
                code,
                name: name.trim().to_owned(),
            });
    }
    Ok(by_province)
}

/// Identifies the shipped villages, so a changed file is reloaded.
pub fn villages_checksum() -> String {
    hex(&Sha256::digest(VILLAGES))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Identifies the shipped version, so a changed file is reloaded at start-up.
pub fn checksum() -> String {
    let mut hasher = Sha256::new();
    for (file, text) in FILES {
        hasher.update(file.as_bytes());
        hasher.update([0]);
        hasher.update(text.as_bytes());
    }
    hex(&hasher.finalize())
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

    #[test]
    fn every_village_has_its_township_and_only_the_asked_provinces_are_read() {
        let townships: HashSet<String> = shipped()
            .unwrap()
            .into_iter()
            .filter(|d| d.level() == RegionLevel::Township)
            .map(|d| d.code.into_inner())
            .collect();
        let all = villages(None).unwrap();
        assert_eq!(all.len(), 31);
        let count: usize = all.values().map(Vec::len).sum();
        assert!(count > 600_000, "{count}");
        for village in all.values().flatten() {
            let township = village.code.parent().unwrap();
            assert!(townships.contains(township.as_ref()), "{}", village.code);
        }
        let hunan = villages(Some(&["43".to_owned()])).unwrap();
        assert_eq!(hunan.keys().collect::<Vec<_>>(), ["43"]);
        let linwu: Vec<_> = hunan["43"]
            .iter()
            .filter(|v| v.code.as_ref().starts_with("431025100"))
            .collect();
        assert!(!linwu.is_empty());
        assert!(linwu.iter().all(|v| !v.name.is_empty()));
    }
}
