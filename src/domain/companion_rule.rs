use chrono::NaiveDate;

use super::id_number::age_on;
#[cfg(test)]
use super::IdNumber;

/// Who may be checked in as a companion: children and the elderly, by their birth date (inside
/// the ID number, or given beside documents that carry none; Shanghai's rule: under 18, or 60 and
/// over).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompanionRule {
    /// Younger than this counts as a child.
    pub child_under: u32,
    /// This age and older counts as elderly.
    pub elder_from: u32,
}

impl Default for CompanionRule {
    fn default() -> Self {
        Self {
            child_under: 18,
            elder_from: 60,
        }
    }
}

impl CompanionRule {
    /// Who may be a companion under this rule, as residents read it.
    pub fn requirement(&self) -> String {
        format!(
            "同行人员须为未满{}周岁或{}周岁及以上人员",
            self.child_under, self.elder_from
        )
    }

    pub fn is_eligible(&self, birth_date: NaiveDate, on: NaiveDate) -> bool {
        let age = age_on(birth_date, on);
        age < self.child_under || age >= self.elder_from
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_requirement_names_the_configured_ages() {
        let rule = CompanionRule {
            child_under: 14,
            elder_from: 65,
        };
        assert_eq!(
            rule.requirement(),
            "同行人员须为未满14周岁或65周岁及以上人员"
        );
    }

    fn id(birth: &str) -> IdNumber {
        // Builds a valid number for a birth date.
        let body = format!("110105{birth}003");
        let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
        let sum: u32 = body
            .bytes()
            .zip(weights)
            .map(|(d, w)| u32::from(d - b'0') * w)
            .sum();
        IdNumber::parse(&format!(
            "{body}{}",
            b"10X98765432"[(sum % 11) as usize] as char
        ))
        .unwrap()
    }

    #[test]
    fn children_and_the_elderly_qualify() {
        let rule = CompanionRule::default();
        let day = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
        assert!(
            rule.is_eligible(id("20200101").birth_date(), day),
            "6 years old"
        );
        assert!(
            rule.is_eligible(id("20081122").birth_date(), day),
            "17, turns 18 tomorrow"
        );
        assert!(
            !rule.is_eligible(id("20081121").birth_date(), day),
            "18 today"
        );
        assert!(!rule.is_eligible(id("19800101").birth_date(), day), "46");
        assert!(
            !rule.is_eligible(id("19661122").birth_date(), day),
            "59, turns 60 tomorrow"
        );
        assert!(
            rule.is_eligible(id("19661121").birth_date(), day),
            "60 today"
        );
        assert!(rule.is_eligible(id("19400101").birth_date(), day), "86");
    }
}
