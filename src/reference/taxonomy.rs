//! The venue taxonomies shipped in `reference-data/taxonomy/`, or one read from a file.

use crate::domain::Taxonomy;

/// Built-in taxonomies by name.
const BUILTIN: &[(&str, &str)] = &[
    (
        "hunan",
        include_str!("../../reference-data/taxonomy/hunan.json"),
    ),
    (
        "shanxi",
        include_str!("../../reference-data/taxonomy/shanxi.json"),
    ),
];

/// Looks a taxonomy up by built-in name (`hunan`, `shanxi`) or reads it from a file path.
pub fn load_taxonomy(source: &str) -> Result<Taxonomy, String> {
    if let Some((_, text)) = BUILTIN.iter().find(|(name, _)| *name == source) {
        return Taxonomy::from_json(text).map_err(|e| format!("built-in `{source}`: {e}"));
    }
    let text = std::fs::read_to_string(source).map_err(|e| {
        format!(
            "`{source}` is neither a built-in taxonomy (hunan, shanxi) nor a readable file: {e}"
        )
    })?;
    Taxonomy::from_json(&text).map_err(|e| format!("`{source}`: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_shipped_taxonomies_load() {
        let hunan = load_taxonomy("hunan").unwrap();
        assert_eq!(hunan.categories.len(), 10);
        let shanxi = load_taxonomy("shanxi").unwrap();
        let count: usize = shanxi.categories.iter().map(|c| c.subtypes.len()).sum();
        assert_eq!(count, 39);
    }
}
