//! What a change names, as stored in `cache_changes.key`: `venue:7`, `account:12`, `color:3`,
//! `colors`, `staff:2`.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheKey {
    /// A venue and its entrances (status, names, codes, closures).
    Venue(i64),
    /// An account's consent, identity or companions.
    Account(i64),
    /// A person's colour.
    Color(i64),
    /// Every colour (a large import).
    AllColors,
    /// A staff account's role, region or state.
    Staff(i64),
}

impl CacheKey {
    pub fn encode(&self) -> String {
        match self {
            CacheKey::Venue(id) => format!("venue:{id}"),
            CacheKey::Account(id) => format!("account:{id}"),
            CacheKey::Color(id) => format!("color:{id}"),
            CacheKey::AllColors => "colors".into(),
            CacheKey::Staff(id) => format!("staff:{id}"),
        }
    }

    pub fn decode(text: &str) -> Option<Self> {
        if text == "colors" {
            return Some(CacheKey::AllColors);
        }
        let (kind, id) = text.split_once(':')?;
        let id: i64 = id.parse().ok()?;
        Some(match kind {
            "venue" => CacheKey::Venue(id),
            "account" => CacheKey::Account(id),
            "color" => CacheKey::Color(id),
            "staff" => CacheKey::Staff(id),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::CacheKey;

    #[test]
    fn keys_round_trip() {
        for key in [
            CacheKey::Venue(7),
            CacheKey::Account(12),
            CacheKey::Color(3),
            CacheKey::AllColors,
            CacheKey::Staff(2),
        ] {
            assert_eq!(CacheKey::decode(&key.encode()), Some(key));
        }
        assert_eq!(CacheKey::decode("venue:x"), None);
        assert_eq!(CacheKey::decode("other:1"), None);
    }
}
